#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cost_check
short_description: Estimate a stack's monthly cost and stop the run when it is over budget
version_added: 0.2.0
description:
  - The cost gate. Prices the planned stack (I(mode=planned), from the variables provision uses) or
    what runs now (I(mode=deployed), the billable resources of the region that carry all of
    I(select)), for one month of 730 hours, with the collection's dated price table (USD,
    on-demand, Linux), and applies a free-tier model.
  - Fails with every line item in the message when the free-tier-adjusted estimate is over
    I(budget), unless I(warn_only). Provision runs it before creating anything.
  - A stack that cannot be priced (a region or type the table lacks, and no live price) is a
    warning and the gate lets the run through (I(on_unpriced=warn)), or fails it (I(on_unpriced=fail)).
  - In planned mode it makes no AWS call, except the Pricing API with I(live_prices). The Pricing
    API is asked for the instance price only; when it cannot answer, the table is used with a warning.
  - Read-only; runs the same in check mode.
  - A planned stack without I(live_prices) is priced by the action plugin of the same name in the
    controller's process (no module process, no AWS call); the region resolves as for the AWS modules
    (I(region), C(AWS_REGION), C(AWS_DEFAULT_REGION), the profile's). A task with an C(environment)
    of its own runs the module, which sees that environment.
author:
  - Shipyard maintainers (@shipyard)
options:
  mode:
    description: C(planned) prices the stack described by the options below; C(deployed) what runs.
    type: str
    choices: [planned, deployed]
    default: planned
  instance_type:
    description: Instance type of the planned stack. Required with I(mode=planned).
    type: str
  instance_count:
    description: Number of instances.
    type: int
    default: 1
  root_volume_size:
    description: Root volume size of each instance, GiB.
    type: int
    default: 8
  root_volume_type:
    description: Root volume type.
    type: str
    choices: [gp3, gp2]
    default: gp3
  root_volume_iops:
    description: gp3 IOPS; above 3000 they are billed.
    type: int
  root_volume_throughput:
    description: gp3 throughput in MB/s; above 125 it is billed.
    type: int
  public_ipv4:
    description: Public IPv4 addresses; one per instance and NAT gateway when omitted.
    type: int
  nat_gateways:
    description: NAT gateways.
    type: int
    default: 0
  nat_data_gb:
    description: GB a month through the NAT gateways.
    type: float
    default: 0
  load_balancers:
    description: Application Load Balancers (the scaled layout has one).
    type: int
    default: 0
    version_added: 0.6.0
  load_balancer_lcu:
    description: Load balancer capacity units each load balancer uses on average.
    type: float
    default: 1
    version_added: 0.6.0
  databases:
    description: RDS for PostgreSQL instances, Single-AZ (the scaled layout has one).
    type: int
    default: 0
    version_added: 0.6.0
  db_instance_class:
    description: The RDS instances' class; the table prices db.t3.micro, db.t3.small, db.t4g.micro, db.t4g.small.
    type: str
    default: db.t3.micro
    version_added: 0.6.0
  db_storage_gb:
    description: Each RDS instance's allocated storage, GB.
    type: int
    default: 20
    version_added: 0.6.0
  db_backup_gb:
    description: Backup storage beyond the free allowance (as much as the allocated storage), GB a month.
    type: int
    default: 0
    version_added: 0.6.0
  select:
    description: With I(mode=deployed), the tags that choose the resources, usually the identity tags.
    type: dict
  free_tier:
    description:
      - C(legacy) is the 12-month offer of accounts opened before 2025-07-15 (750 h of t2/t3.micro,
        30 GB of EBS, 750 h of public IPv4 a month); C(credits) the credit balance of newer
        accounts (I(free_tier_credits)); C(none) full price.
    type: str
    choices: [legacy, credits, none]
    default: none
  free_tier_credits:
    description: Credit balance left, USD, for I(free_tier=credits).
    type: float
    default: 100
  budget:
    description: Monthly budget in USD; the run fails when the adjusted estimate is above it.
      0 or omitted turns the gate off.
    type: float
  warn_only:
    description: Warn instead of failing when over budget.
    type: bool
    default: false
  budget_name:
    description: How the messages name the budget, e.g. the variable the user sets it with.
    type: str
    default: budget
    version_added: 0.4.0
  on_unpriced:
    description: What a stack that cannot be priced does to the gate; C(warn) lets the run through.
    type: str
    choices: [warn, fail]
    default: warn
    version_added: 0.4.0
  live_prices:
    description: Ask the AWS Pricing API (GetProducts, in us-east-1) for the instance price.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Stop before creating anything that would cost more than 10 USD a month
  shipyard.ec2_compose.cost_check:
    region: eu-west-3
    instance_type: t3.micro
    root_volume_size: 20
    free_tier: legacy
    budget: 10
  register: estimate

- name: What does tasklist/dev cost now?
  shipyard.ec2_compose.cost_check:
    region: eu-west-3
    mode: deployed
    select: {Project: tasklist, Environment: dev, ManagedBy: shipyard.ec2_compose}
"""

RETURN = r"""
region:
  description: The region priced, as the AWS modules resolved it (the region option, else
    AWS_REGION, AWS_DEFAULT_REGION or the profile's region).
  returned: always
  type: str
  sample: eu-west-3
items:
  description: Line items.
  returned: always
  type: list
  elements: dict
  sample:
    - {resource: instance t3.micro, kind: instance, unit: hour, quantity: 730, unit_price: 0.0104,
       monthly_cost: 7.59, source: "https://aws.amazon.com/ec2/pricing/on-demand/"}
total:
  description: Monthly cost at full price, USD.
  returned: always
  type: float
  sample: 12.84
adjusted_total:
  description: Monthly cost under I(free_tier), USD; the figure compared with I(budget).
  returned: always
  type: float
  sample: 0.0
by_free_tier:
  description: The monthly cost under each free-tier model.
  returned: always
  type: dict
  sample: {legacy: 0.0, credits: 0.0, none: 12.84}
credit_months:
  description: Months of this stack that I(free_tier_credits) pays for.
  returned: always
  type: float
over_budget:
  description: Whether I(adjusted_total) is above I(budget).
  returned: always
  type: bool
price_date:
  description: Date of the price table.
  returned: always
  type: str
  sample: "2025-10-01"
price_source:
  description: C(table), or C(live) when the Pricing API gave the instance price.
  returned: always
  type: str
priced:
  description: False when the table (and the Pricing API) had no price and no budget was set; then no figures.
  returned: always
  type: bool
summary:
  description: One line for the run's summary.
  returned: always
  type: str
  sample: "12.84 USD/month in us-east-1 at full price; 0.00 under free tier legacy (prices of 2025-10-01)"
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.billable import caller_account, scan_region
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.cost_gate import (
    ARGUMENT_SPEC,
    REQUIRED_IF,
    input_error,
    verdict,
)
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.pricing import live_instance_price
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.resources import carries
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.retry import aws_retry

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule


def live_overrides(module, region, instance_types):
    """Instance prices from the Pricing API; {} and a warning when it cannot answer."""
    try:
        client = module.client("pricing", region="us-east-1", retry_decorator=aws_retry())
        prices = {name: live_instance_price(client, region, name) for name in instance_types}
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        reason = str(error).splitlines()[0][:200]  # an endpoint's HTML error page is of no use here
        module.warn(f"The AWS Pricing API did not answer ({reason}); using the price table instead")
        return {}
    missing = [name for name, value in prices.items() if value is None]
    if missing:
        module.warn(f"The AWS Pricing API has no price for {', '.join(missing)} in {region}; using the price table")
    return {name: value for name, value in prices.items() if value is not None}


def deployed_usage(module, region):
    select = module.params["select"]
    if not select:
        module.fail_json(msg="select must name the tags of the resources to price with mode=deployed, "
                             "e.g. {Project: tasklist, Environment: dev}")
    try:
        found = scan_region(module.client, region, caller_account(module))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        module.fail_json_aws(error, msg="Could not list the deployed resources")
    return [use for resource in found if carries(resource, select) for use in resource["usage"]]


def main():
    # Without live_prices, a planned stack is priced by the action plugin of the same name, in the
    # controller's process: this module runs for the deployed mode and the Pricing API.
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF, supports_check_mode=True)
    params, region = module.params, module.region
    error = input_error(params, region)
    if error:
        module.fail_json(msg=error)
    usage, overrides = None, {}
    if params["mode"] == "deployed":
        usage = deployed_usage(module, region)
    if params["live_prices"]:
        types = ([params["instance_type"]] if usage is None
                 else sorted({use["instance_type"] for use in usage if use["kind"] == "instance"}))
        overrides = live_overrides(module, region, types) if types else {}
    answer = verdict(params, region, usage, overrides)
    for warning in answer.warnings:
        module.warn(warning)
    if answer.failure:
        module.fail_json(msg=answer.failure, **answer.result)
    module.exit_json(**answer.result)


if __name__ == "__main__":
    main()
