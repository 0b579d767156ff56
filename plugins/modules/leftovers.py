#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: leftovers
short_description: Find what still costs money, in every region of the account, priced per month
version_added: 0.2.0
description:
  - Scans the regions enabled for the account (or I(regions)) for billable resources, whoever made
    them, with one describe call per kind and region. Billable are instances that are not terminated
    (a stopped instance still bills its volumes and public address), volumes not attached to any
    instance, elastic IPs, NAT gateways, load balancers (ALB, NLB, GWLB) and snapshots owned by the account.
  - Prices each from the collection's dated price table at full price (no free tier), the attached
    volumes and the auto-assigned public IPv4 address of an instance with the instance. A region
    or type that the table does not price is reported with C(monthly_cost=null).
  - Flags resources without every one of I(required_tags); fails when anything carries all of
    I(fail_if_tagged) (teardown's proof that nothing of the environment is left).
  - Read-only; runs the same in check mode.
author:
  - Shipyard maintainers (@shipyard)
options:
  regions:
    description: Regions to scan. All the regions enabled for the account when omitted
      (C(DescribeRegions)), which is the answer to "is anything left anywhere?".
    type: list
    elements: str
  required_tags:
    description: Tag keys every resource should carry; those lacking any are listed under C(missing_tags).
    type: list
    elements: str
    default: [Project, Environment, ManagedBy, Owner, Name]
  fail_if_tagged:
    description:
      - Fail, listing them, when anything carries all of these tags, a billable resource of the
        scan or a resource of another type this collection creates (VPC, subnet, internet gateway,
        route table, security group, key pair; one more describe call per type and region, by these tags).
    type: dict
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: What is still costing me money?
  shipyard.ec2_compose.leftovers:
  register: audit

- name: Nothing of tasklist/dev is left in eu-west-3
  shipyard.ec2_compose.leftovers:
    regions: [eu-west-3]
    fail_if_tagged:
      Project: tasklist
      Environment: dev
      ManagedBy: shipyard.ec2_compose
"""

RETURN = r"""
resources:
  description: The billable resources, dearest first; C(monthly_cost) in USD at full price, null when unpriced.
  returned: always
  type: list
  elements: dict
  sample:
    - {region: eu-west-3, type: instance, id: i-0123456789abcdef0, name: tasklist-dev-web, state: running,
       detail: t3.micro, monthly_cost: 14.12, tags: {Project: tasklist}, missing_tags: [Owner], price_note: ""}
count:
  description: Number of billable resources found.
  returned: always
  type: int
  sample: 2
total_monthly_cost:
  description: Sum of the priced resources' monthly costs, USD.
  returned: always
  type: float
  sample: 17.77
by_region:
  description: Monthly cost per region that has billable resources, USD.
  returned: always
  type: dict
  sample: {eu-west-3: 14.12, us-east-1: 3.65}
untagged:
  description: Number of resources that lack a required tag.
  returned: always
  type: int
tagged_left:
  description: With I(fail_if_tagged), everything found carrying those tags (empty when the module succeeds).
  returned: always
  type: list
  elements: dict
  version_added: 0.5.0
regions_scanned:
  description: The regions looked at.
  returned: always
  type: list
  elements: str
price_date:
  description: Date of the price table.
  returned: always
  type: str
table:
  description: The resources as aligned text lines, dearest first, with a header and a total line.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.billable import (
    BILLABLE_TYPES,
    RegionClients,
    caller_account,
    price,
    scan_region,
    sort_by_cost,
    tagged_left,
)
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.pricing import PRICE_TABLE_DATE
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.retry import aws_retry
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.tagging import STANDARD_KEYS

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule


def enabled_regions(module):
    ec2 = module.client("ec2", retry_decorator=aws_retry())
    answer = ec2.describe_regions(
        Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required", "opted-in"]}], aws_retry=True)
    return sorted(region["RegionName"] for region in answer["Regions"])


def table_lines(resources, total):
    header = f"{'USD/month':>9}  {'region':<14} {'type':<13} {'id':<26} {'state':<10} name / detail"
    lines = [header]
    for r in resources:
        cost = "unpriced" if r["monthly_cost"] is None else f"{r['monthly_cost']:.2f}"
        flag = "  (untagged: " + ", ".join(r["missing_tags"]) + ")" if r["missing_tags"] else ""
        resource_id = r["id"] if len(r["id"]) <= 26 else "..." + r["id"][-23:]
        lines.append(f"{cost:>9}  {r['region']:<14} {r['type']:<13} {resource_id:<26} {r['state']:<10} "
                     f"{r['name'] or '-'} {r['detail']}{flag}".rstrip())
    lines.append(f"{total:>9.2f}  total")
    return lines


def without_usage(resource):
    return {key: value for key, value in resource.items() if key != "usage"}


def left_line(resource):
    """One resource left behind, with its monthly cost when it bills."""
    line = f"{resource['type']} {resource['id']} in {resource['region']}"
    if resource["type"] in BILLABLE_TYPES:
        line += f" ({resource['monthly_cost']} USD/month)"
    return line


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            regions=dict(type="list", elements="str"),
            required_tags=dict(type="list", elements="str", default=list(STANDARD_KEYS)),
            fail_if_tagged=dict(type="dict"),
        ),
        supports_check_mode=True,
    )
    selector = module.params["fail_if_tagged"]
    try:
        regions = module.params["regions"] or enabled_regions(module)
        account = caller_account(module)
        clients = RegionClients(module)
        found, left = [], []
        for region in regions:
            def client_for(service, region=region):
                return clients.client(service, region)
            billed = scan_region(client_for, region, account)
            found.extend(billed)
            if selector:
                left.extend(tagged_left(client_for, region, selector, billed))
        left = [without_usage(price(resource)) for resource in left]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        module.fail_json_aws(error, msg="Could not list the billable resources")

    resources = []
    for resource in found:
        priced = without_usage(price(resource))
        priced["missing_tags"] = [key for key in module.params["required_tags"] if key not in resource["tags"]]
        resources.append(priced)
    resources = sort_by_cost(resources)
    total = round(sum(r["monthly_cost"] or 0 for r in resources), 2)
    by_region = {}
    for r in resources:
        by_region[r["region"]] = round(by_region.get(r["region"], 0) + (r["monthly_cost"] or 0), 2)
    result = dict(changed=False, resources=resources, count=len(resources), total_monthly_cost=total,
                  by_region=by_region, untagged=sum(1 for r in resources if r["missing_tags"]),
                  regions_scanned=regions, price_date=PRICE_TABLE_DATE, table=table_lines(resources, total),
                  tagged_left=[dict(r, line=left_line(r)) for r in left])
    if left:
        module.fail_json(msg=f"{len(left)} resources tagged {', '.join(f'{k}={v}' for k, v in selector.items())} "
                             f"are left: {'; '.join(r['line'] for r in result['tagged_left'])}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
