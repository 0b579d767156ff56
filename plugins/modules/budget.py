#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: budget
short_description: An AWS Budgets monthly cost budget with e-mail alerts
version_added: 0.2.0
description:
  - Creates, updates or deletes a monthly cost budget of the whole account in AWS Budgets, with
    e-mail notifications at thresholds of actual or forecasted spend (by default 80% actual and
    100% forecasted), the billing alert every new AWS account should have.
  - Idempotent; compares the limit, each notification and its subscribers, and changes only what
    differs. Supports check mode.
author:
  - Shipyard maintainers (@shipyard)
options:
  name:
    description: Budget name, unique in the account.
    type: str
    required: true
  state:
    description: C(present) creates or updates the budget; C(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  amount:
    description: Monthly limit in USD. Required with I(state=present).
    type: float
  emails:
    description: Addresses that receive every alert. Required with I(state=present).
    type: list
    elements: str
  notifications:
    description: When to alert.
    type: list
    elements: dict
    default: [{type: actual, threshold: 80}, {type: forecasted, threshold: 100}]
    suboptions:
      type:
        description: Actual spend so far, or the spend forecast for the month.
        type: str
        choices: [actual, forecasted]
        required: true
      threshold:
        description: Percent of I(amount) (or USD with I(threshold_type=absolute_value)) above which to alert.
        type: float
        required: true
      threshold_type:
        description: Whether I(threshold) is a percentage of the limit or an amount.
        type: str
        choices: [percentage, absolute_value]
        default: percentage
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The 5 USD alert of a first AWS account
  shipyard.ec2_compose.budget:
    name: tasklist-dev
    amount: 5
    emails: [me@example.com]

- name: Remove it
  shipyard.ec2_compose.budget:
    name: tasklist-dev
    state: absent
"""

RETURN = r"""
budget:
  description: The budget as AWS Budgets describes it (absent after deletion).
  returned: when the budget exists
  type: dict
  sample: {BudgetName: tasklist-dev, BudgetLimit: {Amount: "5.0", Unit: USD}, TimeUnit: MONTHLY, BudgetType: COST}
actions:
  description: What was changed (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["created budget tasklist-dev (5 USD/month)", "added alert ACTUAL > 80%"]
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.retry import aws_retry

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
UNIT = "USD"


def label(notification):
    """ACTUAL > 80% / FORECASTED > 5 USD."""
    unit = "%" if notification.get("ThresholdType", "PERCENTAGE") == "PERCENTAGE" else f" {UNIT}"
    return f"{notification['NotificationType']} > {float(notification['Threshold']):g}{unit}"


def notification_key(notification):
    """What identifies a notification in AWS Budgets: type, operator, threshold and its type."""
    return (notification["NotificationType"], notification.get("ComparisonOperator", "GREATER_THAN"),
            float(notification["Threshold"]), notification.get("ThresholdType", "PERCENTAGE"))


def describe(client, account, name):
    try:
        return client.describe_budget(AccountId=account, BudgetName=name, aws_retry=True)["Budget"]
    except is_boto3_error_code("NotFoundException"):
        return None


class BudgetManager:
    def __init__(self, module):
        self.module = module
        self.client = module.client("budgets", retry_decorator=aws_retry())
        sts = module.client("sts", retry_decorator=aws_retry())
        self.account = sts.get_caller_identity(aws_retry=True)["Account"]
        self.name = module.params["name"]
        self.actions = []

    def act(self, description, call, **params):
        """Record an action; make the call unless in check mode. CreateBudget and UpdateBudget carry
        the name inside the budget, the other calls as BudgetName."""
        self.actions.append(description)
        if "Budget" not in params and "NewBudget" not in params:
            params["BudgetName"] = self.name
        if not self.module.check_mode:
            call(AccountId=self.account, aws_retry=True, **params)

    def desired(self):
        subscribers = [{"SubscriptionType": "EMAIL", "Address": email} for email in self.module.params["emails"]]
        notifications = {}
        for wanted in self.module.params["notifications"]:
            notification = {"NotificationType": wanted["type"].upper(), "ComparisonOperator": "GREATER_THAN",
                            "Threshold": float(wanted["threshold"]),
                            "ThresholdType": wanted["threshold_type"].upper()}
            notifications[notification_key(notification)] = notification
        limit = {"Amount": f"{self.module.params['amount']:g}", "Unit": UNIT}
        budget = {"BudgetName": self.name, "BudgetLimit": limit, "TimeUnit": "MONTHLY", "BudgetType": "COST"}
        return budget, notifications, subscribers

    def present(self, current):
        budget, notifications, subscribers = self.desired()
        if current is None:
            self.act(f"created budget {self.name} ({budget['BudgetLimit']['Amount']} {UNIT}/month)",
                     self.client.create_budget, Budget=budget,
                     NotificationsWithSubscribers=[{"Notification": n, "Subscribers": subscribers}
                                                   for n in notifications.values()])
            self.actions.extend(f"added alert {label(n)}" for n in notifications.values())
            return
        limit = current.get("BudgetLimit", {})
        if float(limit.get("Amount", 0)) != float(budget["BudgetLimit"]["Amount"]) or limit.get("Unit") != UNIT \
                or current.get("TimeUnit") != "MONTHLY" or current.get("BudgetType") != "COST":
            new_budget = dict(current, **budget)
            new_budget.pop("CalculatedSpend", None)
            self.act(f"limit {limit.get('Amount')} -> {budget['BudgetLimit']['Amount']} {UNIT}/month",
                     self.client.update_budget, NewBudget=new_budget)
        existing = {notification_key(n): n for n in self.client.describe_notifications_for_budget(
            AccountId=self.account, BudgetName=self.name, aws_retry=True).get("Notifications", [])}
        for key, notification in existing.items():
            if key not in notifications:
                self.act(f"removed alert {label(notification)}", self.client.delete_notification,
                         Notification=notification)
        for key, notification in notifications.items():
            if key not in existing:
                self.act(f"added alert {label(notification)}", self.client.create_notification,
                         Notification=notification, Subscribers=subscribers)
            else:
                self.update_subscribers(existing[key], subscribers)

    def update_subscribers(self, notification, subscribers):
        answer = self.client.describe_subscribers_for_notification(
            AccountId=self.account, BudgetName=self.name, Notification=notification, aws_retry=True)
        have = {(s["SubscriptionType"], s["Address"]) for s in answer.get("Subscribers", [])}
        want = {(s["SubscriptionType"], s["Address"]) for s in subscribers}
        for kind, address in sorted(want - have):
            self.act(f"alert {label(notification)}: added {address}", self.client.create_subscriber,
                     Notification=notification,
                     Subscriber={"SubscriptionType": kind, "Address": address})
        for kind, address in sorted(have - want):
            self.act(f"alert {label(notification)}: removed {address}", self.client.delete_subscriber,
                     Notification=notification,
                     Subscriber={"SubscriptionType": kind, "Address": address})


def validate(module):
    params = module.params
    if params["state"] == "absent":
        return
    if params["amount"] is None or params["amount"] <= 0:
        module.fail_json(msg=f"amount must be a monthly limit in USD above 0, got {params['amount']}")
    if not params["emails"]:
        module.fail_json(msg="emails must list at least one address to alert")
    bad = [email for email in params["emails"] if not EMAIL.match(email)]
    if bad:
        module.fail_json(msg=f"emails: {', '.join(map(repr, bad))} is not an e-mail address like name@example.com")
    for notification in params["notifications"]:
        too_high = notification["threshold_type"] == "percentage" and notification["threshold"] > 1000
        if notification["threshold"] <= 0 or too_high:
            module.fail_json(msg=f"notifications: threshold must be above 0 (a percentage up to 1000), "
                                 f"got {notification['threshold']}")


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            amount=dict(type="float"),
            emails=dict(type="list", elements="str"),
            notifications=dict(
                type="list", elements="dict",
                default=[{"type": "actual", "threshold": 80}, {"type": "forecasted", "threshold": 100}],
                options=dict(
                    type=dict(type="str", choices=["actual", "forecasted"], required=True),
                    threshold=dict(type="float", required=True),
                    threshold_type=dict(type="str", choices=["percentage", "absolute_value"], default="percentage"),
                ),
            ),
        ),
        required_if=[("state", "present", ["amount", "emails"])],
        supports_check_mode=True,
    )
    validate(module)
    if not re.match(r"^[^:\\]{1,100}$", module.params["name"]):
        module.fail_json(msg=f"name must be 1-100 characters without ':' or '\\', got {module.params['name']!r}")
    try:
        manager = BudgetManager(module)
        current = describe(manager.client, manager.account, manager.name)
        if module.params["state"] == "absent":
            if current is not None:
                manager.act(f"deleted budget {manager.name}", manager.client.delete_budget)
            module.exit_json(changed=bool(manager.actions), actions=manager.actions)
        manager.present(current)
        # Described again only when something changed: an unchanged run makes one DescribeBudget call.
        changed_now = manager.actions and not module.check_mode
        after = describe(manager.client, manager.account, manager.name) if changed_now else current
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        module.fail_json_aws(error, msg=f"Could not manage the budget {module.params['name']}")
    module.exit_json(changed=bool(manager.actions), actions=manager.actions, budget=after or {})


if __name__ == "__main__":
    main()
