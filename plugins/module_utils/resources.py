# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find the EC2 resources that carry a set of tags, one describe call per resource type.

Used by the tagged_resources_info module (teardown's plan and its leftover proof).
States matter: AWS keeps terminated instances and deleted NAT gateways visible for a while,
so only the states that still exist (and may bill) are asked for.
"""

from __future__ import annotations

import datetime

from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_tag_filter_dict,
    boto3_tag_list_to_ansible_dict,
)
from ansible_collections.amazon.aws.plugins.module_utils.transformation import ansible_dict_to_boto3_filter_list

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.retry import aws_retry

# In teardown's dependency order: what depends on others comes first.
# type: (describe operation, result key, id key, extra filters, fields kept besides id/name/tags).
# The fields are what teardown reports and what provision's plan (plan.py) compares with its inputs.
RESOURCE_TYPES = {
    "instance": ("describe_instances", "Reservations", "InstanceId",
                 {"instance-state-name": ["pending", "running", "stopping", "stopped", "shutting-down"]},
                 ("State", "PublicIpAddress", "PublicDnsName", "VpcId", "SubnetId", "InstanceType", "ImageId",
                  "KeyName", "SecurityGroups", "MetadataOptions", "LaunchTime")),
    "nat_gateway": ("describe_nat_gateways", "NatGateways", "NatGatewayId",
                    {"state": ["pending", "available", "failed", "deleting"]}, ("State", "VpcId", "SubnetId")),
    "elastic_ip": ("describe_addresses", "Addresses", "AllocationId", {}, ("PublicIp", "AssociationId")),
    "volume": ("describe_volumes", "Volumes", "VolumeId", {}, ("State", "Size", "VolumeType", "Iops", "Throughput")),
    "security_group": ("describe_security_groups", "SecurityGroups", "GroupId", {},
                       ("VpcId", "GroupName", "Description", "IpPermissions")),
    "route_table": ("describe_route_tables", "RouteTables", "RouteTableId", {}, ("VpcId", "Routes", "Associations")),
    "subnet": ("describe_subnets", "Subnets", "SubnetId", {},
               ("VpcId", "CidrBlock", "AvailabilityZone", "MapPublicIpOnLaunch")),
    "internet_gateway": ("describe_internet_gateways", "InternetGateways", "InternetGatewayId", {}, ("Attachments",)),
    "vpc": ("describe_vpcs", "Vpcs", "VpcId", {}, ("CidrBlock",)),
    "key_pair": ("describe_key_pairs", "KeyPairs", "KeyPairId", {}, ("KeyName", "KeyFingerprint")),
}
# The VPC's DNS settings are attributes, one DescribeVpcAttribute call each: read with vpc_attributes.
VPC_ATTRIBUTES = {"enableDnsSupport": "EnableDnsSupport", "enableDnsHostnames": "EnableDnsHostnames"}


@aws_retry()  # throttling: retried with backoff (not eventual consistency: AWSRetry does not retry NotFound)
def describe_all(client, operation, result_key, **params):
    """Every page of a describe call's `result_key` (one call when the operation has no paginator)."""
    if client.can_paginate(operation):
        return client.get_paginator(operation).paginate(**params).build_full_result().get(result_key, [])
    return getattr(client, operation)(**params).get(result_key, [])


def _describe(client, operation, result_key, filters):
    # DescribeNatGateways spells its filter parameter "Filter"; the others "Filters".
    filter_param = "Filter" if operation == "describe_nat_gateways" else "Filters"
    return describe_all(client, operation, result_key, **{filter_param: ansible_dict_to_boto3_filter_list(filters)})


def _summary(resource_type, item, id_key, fields):
    tags = boto3_tag_list_to_ansible_dict(item.get("Tags", []))
    summary = {"type": resource_type, "id": item[id_key], "name": tags.get("Name", ""), "tags": tags}
    for field in fields:
        if field not in item:
            continue
        value = item[field]
        if field == "State" and isinstance(value, dict):
            value = value["Name"]
        elif isinstance(value, datetime.datetime):
            # How long ago, too: provision skips its wait for SSH only for an instance that is not new.
            age = datetime.datetime.now(datetime.timezone.utc) - value  # noqa: UP017 (module_utils: Python < 3.11 too)
            summary["launched_seconds_ago"] = max(0, int(age.total_seconds()))
            value = value.isoformat()
        summary[field] = value
    return summary


@aws_retry()
def _vpc_attribute(client, vpc_id, attribute):
    answer = client.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)
    return answer[VPC_ATTRIBUTES[attribute]]["Value"]


def find_tagged_resources(client, tags, types=None, vpc_attributes=False):
    """{type: [summary, ...]} of every resource of `types` (default: all) carrying all `tags`.

    With `vpc_attributes`, each VPC also has its DNS settings (two calls per VPC found).
    Each call is retried with jittered backoff on throttling.
    """
    found = {}
    for resource_type in types or RESOURCE_TYPES:
        operation, result_key, id_key, state_filter, fields = RESOURCE_TYPES[resource_type]
        filters = dict(ansible_dict_to_tag_filter_dict(tags), **state_filter)
        items = _describe(client, operation, result_key, filters)
        if operation == "describe_instances":
            items = [instance for reservation in items for instance in reservation["Instances"]]
        found[resource_type] = [_summary(resource_type, item, id_key, fields) for item in items]
    if vpc_attributes:
        for vpc in found.get("vpc", []):
            vpc.update({key: _vpc_attribute(client, vpc["id"], attribute) for attribute, key in VPC_ATTRIBUTES.items()})
    return found
