# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one reader of an account's EC2 resources: one describe call per resource type.

Every module that looks at what exists reads through find_resources: tagged_resources_info
(provision's plan, teardown's plan), tag_audit, and through billable.py the leftovers audit,
teardown's proof and cost_check's deployed mode. With `tags`, only what carries all of them
(filtered by AWS where the API can, else here); without, everything of the types asked for.
States matter: AWS keeps terminated instances and deleted NAT gateways visible for a while,
so only the states that still exist (and may bill) are asked for.
"""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_tag_filter_dict,
    boto3_tag_list_to_ansible_dict,
)
from ansible_collections.amazon.aws.plugins.module_utils.transformation import ansible_dict_to_boto3_filter_list

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.retry import aws_retry


class ResourceType(NamedTuple):
    operation: str
    result_key: str
    id_key: str
    live: dict  # filters that keep only what still exists
    fields: tuple  # kept besides id/name/tags: what teardown reports, provision's plan compares, billing prices
    service: str = "ec2"
    params: tuple = ()  # fixed request parameters, as (name, value) pairs
    tags_key: str = "Tags"  # RDS says TagList
    arn_key: str = ""  # ELBv2 and RDS subnet groups: no tags in the describe, read per ARN


# What this collection creates, in teardown's dependency order: what depends on others comes first
# (the scaled layout's load balancer, target group and database before the hosts and the network).
RESOURCE_TYPES = {
    "load_balancer": ResourceType("describe_load_balancers", "LoadBalancers", "LoadBalancerArn", {},
                                  ("State", "Type", "LoadBalancerName", "VpcId", "DNSName", "SecurityGroups"),
                                  service="elbv2", arn_key="LoadBalancerArn"),
    "target_group": ResourceType("describe_target_groups", "TargetGroups", "TargetGroupArn", {},
                                 ("TargetGroupName", "VpcId", "Port", "Protocol", "LoadBalancerArns"),
                                 service="elbv2", arn_key="TargetGroupArn"),
    "db_instance": ResourceType("describe_db_instances", "DBInstances", "DBInstanceIdentifier", {},
                                ("DBInstanceStatus", "DBInstanceClass", "Engine", "Endpoint", "AllocatedStorage",
                                 "StorageType", "StorageEncrypted", "PubliclyAccessible", "BackupRetentionPeriod",
                                 "VpcSecurityGroups", "DBInstanceArn"),
                                service="rds", tags_key="TagList"),
    "db_subnet_group": ResourceType("describe_db_subnet_groups", "DBSubnetGroups", "DBSubnetGroupName", {},
                                    ("VpcId", "Subnets"), service="rds", arn_key="DBSubnetGroupArn"),
    "instance": ResourceType("describe_instances", "Reservations", "InstanceId",
                             {"instance-state-name": ["pending", "running", "stopping", "stopped", "shutting-down"]},
                             ("State", "PublicIpAddress", "PublicDnsName", "VpcId", "SubnetId", "InstanceType",
                              "ImageId", "KeyName", "SecurityGroups", "MetadataOptions", "LaunchTime")),
    "nat_gateway": ResourceType("describe_nat_gateways", "NatGateways", "NatGatewayId",
                                {"state": ["pending", "available", "failed", "deleting"]},
                                ("State", "VpcId", "SubnetId")),
    "elastic_ip": ResourceType("describe_addresses", "Addresses", "AllocationId", {}, ("PublicIp", "AssociationId")),
    "volume": ResourceType("describe_volumes", "Volumes", "VolumeId", {},
                           ("State", "Size", "VolumeType", "Iops", "Throughput", "Attachments")),
    "security_group": ResourceType("describe_security_groups", "SecurityGroups", "GroupId", {},
                                   ("VpcId", "GroupName", "Description", "IpPermissions")),
    "route_table": ResourceType("describe_route_tables", "RouteTables", "RouteTableId", {},
                                ("VpcId", "Routes", "Associations")),
    "subnet": ResourceType("describe_subnets", "Subnets", "SubnetId", {},
                           ("VpcId", "CidrBlock", "AvailabilityZone", "MapPublicIpOnLaunch")),
    "internet_gateway": ResourceType("describe_internet_gateways", "InternetGateways", "InternetGatewayId", {},
                                     ("Attachments",)),
    "vpc": ResourceType("describe_vpcs", "Vpcs", "VpcId", {}, ("CidrBlock",)),
    # With its public key: provision compares it with the operator's (fingerprint formats vary by key type).
    "key_pair": ResourceType("describe_key_pairs", "KeyPairs", "KeyPairId", {},
                             ("KeyName", "KeyFingerprint", "PublicKey"), params=(("IncludePublicKey", True),)),
}
# What else bills and the audits look for, though this collection does not create it (a database's
# final snapshot is made by its deletion, and kept).
OTHER_TYPES = {
    "db_snapshot": ResourceType("describe_db_snapshots", "DBSnapshots", "DBSnapshotIdentifier", {},
                                ("Status", "AllocatedStorage", "SnapshotType", "DBInstanceIdentifier"),
                                service="rds", tags_key="TagList", params=(("SnapshotType", "manual"),)),
    # The account's own only: public images' snapshots are listed too by some endpoints otherwise.
    "snapshot": ResourceType("describe_snapshots", "Snapshots", "SnapshotId", {},
                             ("State", "VolumeSize", "OwnerId"), params=(("OwnerIds", ["self"]),)),
}
ALL_TYPES = {**RESOURCE_TYPES, **OTHER_TYPES}
# The VPC's DNS settings are attributes, one DescribeVpcAttribute call each: read with vpc_attributes.
VPC_ATTRIBUTES = {"enableDnsSupport": "EnableDnsSupport", "enableDnsHostnames": "EnableDnsHostnames"}
ELBV2_TAGS_PER_CALL = 20  # DescribeTags takes at most 20 ARNs
# The types provision plans (the EC2 ones): the scaled layout's others are kept by their modules.
EC2_TYPES = tuple(name for name, kind in RESOURCE_TYPES.items() if kind.service == "ec2")
PARALLEL_CALLS = 8  # describe calls in flight at once: well under EC2's request-rate limits


@aws_retry()  # throttling: retried with backoff (not eventual consistency: AWSRetry does not retry NotFound)
def describe_all(client, operation, result_key, **params):
    """Every page of a describe call's `result_key` (one call when the operation has no paginator)."""
    if client.can_paginate(operation):
        return client.get_paginator(operation).paginate(**params).build_full_result().get(result_key, [])
    return getattr(client, operation)(**params).get(result_key, [])


def _describe(client, kind, tags):
    params = dict(kind.params)
    filters = dict(ansible_dict_to_tag_filter_dict(tags or {}), **kind.live)
    if kind.service != "ec2":  # no tag filters: the tags are matched after the read
        items = describe_all(client, kind.operation, kind.result_key, **params)
        if kind.service == "elbv2":
            return _with_elbv2_tags(client, items, kind.arn_key)
        return _with_rds_tags(client, items, kind.arn_key) if kind.arn_key else items
    if filters:
        # DescribeNatGateways spells its filter parameter "Filter"; the others "Filters".
        params["Filter" if kind.operation == "describe_nat_gateways" else "Filters"] = \
            ansible_dict_to_boto3_filter_list(filters)
    items = describe_all(client, kind.operation, kind.result_key, **params)
    if kind.operation == "describe_instances":
        items = [instance for reservation in items for instance in reservation["Instances"]]
    return items


def _with_elbv2_tags(client, items, arn_key):
    arns = [item[arn_key] for item in items]
    tags = {}
    for start in range(0, len(arns), ELBV2_TAGS_PER_CALL):
        for described in describe_all(client, "describe_tags", "TagDescriptions",
                                      ResourceArns=arns[start:start + ELBV2_TAGS_PER_CALL]):
            tags[described["ResourceArn"]] = described.get("Tags", [])
    return [dict(item, Tags=tags.get(item[arn_key], [])) for item in items]


@aws_retry()
def _rds_tags(client, arn):
    return client.list_tags_for_resource(ResourceName=arn).get("TagList", [])


def _with_rds_tags(client, items, arn_key):
    """RDS subnet groups: one ListTagsForResource per group (DescribeDBSubnetGroups has no tags)."""
    return [dict(item, Tags=_rds_tags(client, item[arn_key])) for item in items]


def _summary(resource_type, item, id_key, fields, tags_key="Tags"):
    tags = boto3_tag_list_to_ansible_dict(item.get(tags_key) or item.get("Tags") or [])
    summary = {"type": resource_type, "id": item[id_key], "name": tags.get("Name", ""), "tags": tags}
    for field in fields:
        if field not in item:
            continue
        value = item[field]
        if field == "State" and isinstance(value, dict):
            value = value.get("Name", value.get("Code"))  # EC2 says Name, ELBv2 Code
        summary[field] = _plain(value)
    return summary


def _plain(value):
    """The value with its dates as ISO 8601 text (volumes' attachment times): modules return JSON."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def carries(resource, tags):
    """Whether a found resource carries every one of `tags`."""
    return all(resource["tags"].get(key) == value for key, value in tags.items())


@aws_retry()
def _vpc_attribute(client, vpc_id, attribute):
    answer = client.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)
    return answer[VPC_ATTRIBUTES[attribute]]["Value"]


def referenced_groups(group):
    """The ids of the other security groups that a group's inbound rules name (ours name none outbound)."""
    named = {pair.get("GroupId") for rule in group.get("IpPermissions") or []
             for pair in rule.get("UserIdGroupPairs") or []}
    return named - {group["id"], None}


def in_reference_order(groups):
    """Security groups in an order AWS can delete them: a group before those its rules name (AWS refuses
    to delete a group that another group's rule names). Groups in a cycle keep their order, last."""
    remaining, ordered = list(groups), []
    while remaining:
        named = set().union(*(referenced_groups(group) for group in remaining))
        leaves = [group for group in remaining if group["id"] not in named]
        if not leaves:
            return ordered + remaining
        ordered += leaves
        remaining = [group for group in remaining if group["id"] in named]
    return ordered


def find_resources(client_for, types=None, tags=None, vpc_attributes=False):
    """{type: [summary, ...]} of every resource of `types` (default: RESOURCE_TYPES), in that order.

    `client_for(service)` gives the client of a service ("ec2", "elbv2"). With `tags`, only the
    resources carrying all of them. With `vpc_attributes`, each VPC also has its DNS settings
    (two calls per VPC found). Each call is retried with jittered backoff on throttling.
    """
    types = list(types or RESOURCE_TYPES)
    clients = {}
    for resource_type in types:  # one client per service, made here: making one loads its model
        service = ALL_TYPES[resource_type].service
        if service not in clients:
            clients[service] = client_for(service)

    def read(resource_type):
        kind = ALL_TYPES[resource_type]
        items = [_summary(resource_type, item, kind.id_key, kind.fields, kind.tags_key)
                 for item in _describe(clients[kind.service], kind, tags)]
        return [item for item in items if carries(item, tags or {})]

    # The calls do not depend on each other: all at once (boto3 clients are thread-safe), so that a
    # read takes about one round trip per step, not one per resource type.
    with ThreadPoolExecutor(max_workers=PARALLEL_CALLS) as pool:
        found = dict(zip(types, pool.map(read, types)))  # noqa: B905 (strict=: Python 3.10+, module_utils older too)
        if "security_group" in found:  # deletion order within the type too
            found["security_group"] = in_reference_order(found["security_group"])
        if vpc_attributes:
            ec2 = clients.get("ec2") or client_for("ec2")
            asked = [(vpc, attribute) for vpc in found.get("vpc", []) for attribute in VPC_ATTRIBUTES]
            values = pool.map(lambda pair: _vpc_attribute(ec2, pair[0]["id"], pair[1]), asked)
            for (vpc, attribute), value in zip(asked, values):  # noqa: B905 (as above)
                vpc[VPC_ATTRIBUTES[attribute]] = value
    return found


def find_tagged_resources(client, tags, types=None, vpc_attributes=False):
    """find_resources with one EC2 client, for the EC2 types this collection creates."""
    return find_resources(lambda _service: client, types or EC2_TYPES, tags, vpc_attributes)


# tagged_resources_info's own options (the AWS ones come from amazon.aws's aws_argument_spec); the
# module and its in-process action plugin share them and read_environment.
TAGGED_RESOURCES_OPTIONS = dict(
    tags=dict(type="dict", required=True),
    types=dict(type="list", elements="str", choices=list(RESOURCE_TYPES)),
    vpc_attributes=dict(type="bool", default=False),
)
EMPTY_TAGS = "tags must not be empty: that would select every resource of the account"


def read_environment(client_for, params):
    """tagged_resources_info's result but its region: the resources per type, and as one list.
    `client_for(service)` gives the client of a service ("ec2", "elbv2", "rds")."""
    resources = find_resources(client_for, params["types"], params["tags"], vpc_attributes=params["vpc_attributes"])
    plan = [item for items in resources.values() for item in items]
    return dict(resources=resources, plan=plan, count=len(plan))
