#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: placement_info
short_description: Choose the availability zones that offer an instance type (and a DB class), and say its architecture
version_added: 0.6.0
description:
  - Not every zone offers every instance type (us-east-1e offers no t3 type) nor every RDS DB class, and a subnet
    created without a zone lands in any zone of the region. This module reads what the region offers and chooses
    the zones before anything is created, so that RunInstances never answers C(Unsupported).
  - The zones the user named are used if they all offer what is asked, else the module fails naming the setting
    and the zones that would work. Without named zones, the zones of the environment's existing subnets come
    first (a subnet cannot move), then the region's other zones by name.
  - Also returns the architectures the instance type supports (C(x86_64), C(arm64)), to choose a matching image.
  - Read calls only (DescribeAvailabilityZones, DescribeInstanceTypeOfferings, DescribeInstanceTypes and, with
    I(db_instance_class), RDS DescribeOrderableDBInstanceOptions, with I(tags) DescribeSubnets); check mode is the
    same run.
author:
  - Shipyard maintainers (@shipyard)
options:
  instance_type:
    description: The EC2 instance type to launch.
    type: str
    required: true
  db_instance_class:
    description: The RDS DB class that must be offered in the chosen zones too (the scaled layout's database).
    type: str
  db_engine:
    description: The RDS engine of I(db_instance_class).
    type: str
    default: postgres
  zones_wanted:
    description: How many zones to choose (the single layout 1, the scaled layout 2).
    type: int
    default: 1
  zones:
    description: The zones the user named, in order; empty entries are ignored.
    type: list
    elements: str
    default: []
  zones_setting:
    description: The name of the setting I(zones) came from, for the error message.
    type: str
    default: availability_zone
  tags:
    description: The identity tags of the environment; the zones of its existing subnets come first (a subnet
      cannot move), in the order of their C(Name) tags. One more read (DescribeSubnets).
    type: dict
    default: {}
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Two zones for the scaled layout's hosts and database
  shipyard.ec2_compose.placement_info:
    instance_type: t3.micro
    db_instance_class: db.t3.micro
    zones_wanted: 2
    zones: "{{ availability_zones }}"
    zones_setting: availability_zones
  register: placement

- name: The hosts' subnets go there
  ansible.builtin.debug:
    msg: "{{ placement.zones }} ({{ placement.architectures | join('/') }})"
"""

RETURN = r"""
zones:
  description: The chosen zones, I(zones_wanted) of them; the first holds the single layout's subnet.
  returned: always
  type: list
  elements: str
  sample: [us-east-1a, us-east-1b]
usable_zones:
  description: Every zone of the region that offers the instance type (and the DB class).
  returned: always
  type: list
  elements: str
  sample: [us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f]
architectures:
  description: The architectures the instance type supports, as DescribeImages names them.
  returned: always
  type: list
  elements: str
  sample: [x86_64]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_tag_filter_dict,
    boto3_tag_list_to_ansible_dict,
)
from ansible_collections.amazon.aws.plugins.module_utils.transformation import ansible_dict_to_boto3_filter_list

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.placement import (
    PlacementError,
    choose_zones,
    usable_zones,
)
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.retry import aws_retry

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule


def read_offers(module):
    """(region zones, zones offering the type, zones offering the DB class or None, architectures, kept zones)."""
    ec2 = module.client("ec2", retry_decorator=aws_retry())
    params = module.params
    region_zones = sorted(zone["ZoneName"] for zone in ec2.describe_availability_zones(
        Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}, {"Name": "state", "Values": ["available"]}],
        aws_retry=True)["AvailabilityZones"])
    offers = ec2.get_paginator("describe_instance_type_offerings").paginate(
        LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": [params["instance_type"]]}])
    type_zones = {offer["Location"] for page in offers for offer in page["InstanceTypeOfferings"]}
    types = ec2.describe_instance_types(InstanceTypes=[params["instance_type"]], aws_retry=True)["InstanceTypes"]
    architectures = types[0]["ProcessorInfo"]["SupportedArchitectures"] if types else []
    db_zones = None
    if params["db_instance_class"]:
        rds = module.client("rds", retry_decorator=aws_retry())
        pages = rds.get_paginator("describe_orderable_db_instance_options").paginate(
            Engine=params["db_engine"], DBInstanceClass=params["db_instance_class"])
        db_zones = {zone["Name"] for page in pages for option in page["OrderableDBInstanceOptions"]
                    if option["DBInstanceClass"] == params["db_instance_class"]
                    for zone in option["AvailabilityZones"]}
    kept = []
    if params["tags"]:
        subnets = ec2.describe_subnets(Filters=ansible_dict_to_boto3_filter_list(
            ansible_dict_to_tag_filter_dict(params["tags"])), aws_retry=True)["Subnets"]
        by_name = sorted((boto3_tag_list_to_ansible_dict(subnet.get("Tags", [])).get("Name", ""),
                          subnet["AvailabilityZone"]) for subnet in subnets)
        kept = [pair[1] for pair in by_name]
    return region_zones, type_zones, db_zones, architectures, kept


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "instance_type": {"type": "str", "required": True},
            "db_instance_class": {"type": "str"},
            "db_engine": {"type": "str", "default": "postgres"},
            "zones_wanted": {"type": "int", "default": 1},
            "zones": {"type": "list", "elements": "str", "default": []},
            "zones_setting": {"type": "str", "default": "availability_zone"},
            "tags": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        region_zones, type_zones, db_zones, architectures, kept = read_offers(module)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        module.fail_json_aws(error, msg="Could not read which zones offer the instance type")
    if not architectures:
        module.fail_json(msg=f"instance_type {params['instance_type']} is not an instance type of this region")
    usable = usable_zones(region_zones, type_zones, db_zones)
    try:
        zones = choose_zones(usable, params["zones_wanted"], named=params["zones"], kept=kept,
                             instance_type=params["instance_type"], db_class=params["db_instance_class"] or "",
                             setting=params["zones_setting"])
    except PlacementError as error:
        module.fail_json(msg=str(error), usable_zones=usable, architectures=architectures)
    module.exit_json(changed=False, zones=zones, usable_zones=usable, architectures=architectures)


if __name__ == "__main__":
    main()
