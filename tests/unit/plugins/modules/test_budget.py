"""The budget module's decisions against AWS Budgets answers played by botocore's Stubber.

The sandbox's emulator lacks UpdateBudget, CreateSubscriber and DeleteSubscriber, so those paths
are covered here (the create / unchanged / delete paths run against the emulator in
tests/integration/test_cost.py). A Stubber fails the test on any call that was not expected,
so "no write call" is asserted by queueing none.
"""

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from botocore.stub import ANY, Stubber

from ansible_collections.shipyard.ec2_compose.plugins.modules.budget import BudgetManager

ACCOUNT = "123456789012"
NAME = "tasklist-dev"
ACTUAL_80 = {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN", "Threshold": 80.0,
             "ThresholdType": "PERCENTAGE"}
FORECASTED_100 = {"NotificationType": "FORECASTED", "ComparisonOperator": "GREATER_THAN", "Threshold": 100.0,
                  "ThresholdType": "PERCENTAGE"}
DEFAULT_NOTIFICATIONS = [{"type": "actual", "threshold": 80, "threshold_type": "percentage"},
                         {"type": "forecasted", "threshold": 100, "threshold_type": "percentage"}]


class FakeModule:
    """What BudgetManager uses of AnsibleAWSModule: params, check_mode and client()."""

    def __init__(self, clients, check_mode=False, **params):
        self.clients = clients
        self.check_mode = check_mode
        self.params = {"name": NAME, "amount": 5.0, "emails": ["me@example.com"],
                       "notifications": DEFAULT_NOTIFICATIONS, **params}

    def client(self, service, retry_decorator=None):
        return RetryingBotoClientWrapper(self.clients[service], retry_decorator or AWSRetry.jittered_backoff())


@pytest.fixture
def stubs():
    clients = {service: boto3.client(service, region_name="us-east-1", aws_access_key_id="x",
                                     aws_secret_access_key="x") for service in ("budgets", "sts")}
    stubbers = {service: Stubber(client) for service, client in clients.items()}
    stubbers["sts"].add_response("get_caller_identity",
                                 {"Account": ACCOUNT, "UserId": "x", "Arn": f"arn:aws:iam::{ACCOUNT}:user/operator"})
    for stubber in stubbers.values():
        stubber.activate()
    yield clients, stubbers["budgets"]
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def existing_budget(amount="5.0"):
    return {"BudgetName": NAME, "BudgetLimit": {"Amount": amount, "Unit": "USD"}, "TimeUnit": "MONTHLY",
            "BudgetType": "COST", "CalculatedSpend": {"ActualSpend": {"Amount": "1.2", "Unit": "USD"}}}


def expect_subscribers(stub, notification, addresses):
    stub.add_response("describe_subscribers_for_notification",
                      {"Subscribers": [{"SubscriptionType": "EMAIL", "Address": address} for address in addresses]},
                      {"AccountId": ACCOUNT, "BudgetName": NAME, "Notification": notification})


def expect_notifications(stub, notifications, subscribers_by_type):
    stub.add_response("describe_notifications_for_budget", {"Notifications": notifications},
                      {"AccountId": ACCOUNT, "BudgetName": NAME})
    for notification in notifications:
        if notification["NotificationType"] in subscribers_by_type:
            expect_subscribers(stub, notification, subscribers_by_type[notification["NotificationType"]])


def test_creates_the_budget_with_both_alerts(stubs):
    clients, stub = stubs
    stub.add_response("create_budget", {}, {
        "AccountId": ACCOUNT,
        "Budget": {"BudgetName": NAME, "BudgetLimit": {"Amount": "5", "Unit": "USD"}, "TimeUnit": "MONTHLY",
                   "BudgetType": "COST"},
        "NotificationsWithSubscribers": [
            {"Notification": n, "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "me@example.com"}]}
            for n in (ACTUAL_80, FORECASTED_100)]})
    manager = BudgetManager(FakeModule(clients))
    manager.present(None)
    assert manager.actions == ["created budget tasklist-dev (5 USD/month)", "added alert ACTUAL > 80%",
                               "added alert FORECASTED > 100%"]


def test_unchanged_budget_makes_no_write_call(stubs):
    clients, stub = stubs
    expect_notifications(stub, [ACTUAL_80, FORECASTED_100],
                         {"ACTUAL": ["me@example.com"], "FORECASTED": ["me@example.com"]})
    manager = BudgetManager(FakeModule(clients))
    manager.present(existing_budget("5.0"))  # AWS answers "5.0" for 5: the same limit
    assert manager.actions == []


def test_new_amount_updates_the_budget_without_its_spend(stubs):
    clients, stub = stubs
    new_budget = {"BudgetName": NAME, "BudgetLimit": {"Amount": "10", "Unit": "USD"}, "TimeUnit": "MONTHLY",
                  "BudgetType": "COST"}
    stub.add_response("update_budget", {}, {"AccountId": ACCOUNT, "NewBudget": new_budget})
    expect_notifications(stub, [ACTUAL_80, FORECASTED_100],
                         {"ACTUAL": ["me@example.com"], "FORECASTED": ["me@example.com"]})
    manager = BudgetManager(FakeModule(clients, amount=10.0))
    manager.present(existing_budget("5.0"))
    assert manager.actions == ["limit 5.0 -> 10 USD/month"]


def test_new_address_is_subscribed_and_old_one_removed(stubs):
    clients, stub = stubs
    expect_notifications(stub, [ACTUAL_80], {"ACTUAL": ["old@example.com"]})
    for operation, address in (("create_subscriber", "me@example.com"), ("delete_subscriber", "old@example.com")):
        stub.add_response(operation, {}, {"AccountId": ACCOUNT, "BudgetName": NAME, "Notification": ACTUAL_80,
                                          "Subscriber": {"SubscriptionType": "EMAIL", "Address": address}})
    stub.add_response("create_notification", {},
                      {"AccountId": ACCOUNT, "BudgetName": NAME, "Notification": FORECASTED_100, "Subscribers": ANY})
    manager = BudgetManager(FakeModule(clients))
    manager.present(existing_budget())
    assert manager.actions == ["alert ACTUAL > 80%: added me@example.com",
                               "alert ACTUAL > 80%: removed old@example.com", "added alert FORECASTED > 100%"]


def test_alert_no_longer_wanted_is_deleted(stubs):
    clients, stub = stubs
    # Unwanted alerts go first, then each kept alert's subscribers are compared.
    expect_notifications(stub, [ACTUAL_80, FORECASTED_100], {})
    stub.add_response("delete_notification", {},
                      {"AccountId": ACCOUNT, "BudgetName": NAME, "Notification": FORECASTED_100})
    expect_subscribers(stub, ACTUAL_80, ["me@example.com"])
    manager = BudgetManager(FakeModule(clients, notifications=DEFAULT_NOTIFICATIONS[:1]))
    manager.present(existing_budget())
    assert manager.actions == ["removed alert FORECASTED > 100%"]


def test_check_mode_reports_but_does_not_write(stubs):
    clients, stub = stubs
    expect_notifications(stub, [ACTUAL_80, FORECASTED_100],
                         {"ACTUAL": ["me@example.com"], "FORECASTED": ["me@example.com"]})
    manager = BudgetManager(FakeModule(clients, check_mode=True, amount=10.0))
    manager.present(existing_budget("5.0"))  # no update_budget queued: a call would fail the test
    assert manager.actions == ["limit 5.0 -> 10 USD/month"]
