"""What AWS authorizes for one API request: each IAM action, on each resource, with its context.

AWS authorizes a request resource by resource (AWS's Service Authorization Reference lists, for each
action, the resource types it checks): RunInstances is allowed only if the new instance, its volumes
and network interface, the subnet, the security groups, the key pair and the image are each allowed;
CreateDBInstance checks the new database, its subnet group, option group and parameter group. A
create call that carries tags also needs the tagging action on each new resource (ec2:CreateTags with
ec2:CreateAction, elasticloadbalancing:AddTags with elasticloadbalancing:CreateAction,
rds:AddTagsToResource). The context holds what AWS supplies: aws:RequestTag/* and aws:TagKeys from
the request, aws:ResourceTag/* of an existing resource, ec2:Owner and ec2:Public of an image,
aws:RequestedRegion.

Covered: the EC2, ELBv2, RDS, Budgets and SSM Parameter Store calls the collection makes and the
attacks its tests try, read from the request's parameters. Any other action is authorized on "*" with
the request's context, as AWS does for actions without resource-level permissions; a statement that
names resources does not match it, so a missing entry shows up as a refusal, never as a silent allow.

Pure: ``state`` is a reader of the emulator's resources (sandbox/iam_enforcement.py), so the unit
tests give it a dictionary.
"""

import json
import re
from dataclasses import dataclass, field


@dataclass
class Request:
    service: str  # ec2, elasticloadbalancing, rds, budgets, ...
    action: str  # the API call: RunInstances
    params: dict  # the query protocol's parameters: {name: [value]}
    body: bytes  # the JSON protocol's body
    region: str
    account: str
    path: str = ""  # the REST protocol's path (Route 53: /2013-04-01/hostedzone/ID/rrset)


@dataclass
class Authorization:
    action: str  # ec2:RunInstances
    resource: str  # an ARN, or "*"
    context: dict = field(default_factory=dict)


def tag_context(tags, keys=None):
    """aws:RequestTag/K for each tag, aws:TagKeys for the keys (tags' or, for a removal, the keys')."""
    context = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    keys = list(tags) if keys is None else keys
    if keys:
        context["aws:TagKeys"] = keys
    return context


def numbered(params, prefix, suffix=""):
    """Values of Prefix.1Suffix, Prefix.2Suffix ... in order."""
    pattern = re.compile(re.escape(prefix) + r"\.(\d+)" + re.escape(suffix) + "$")
    found = sorted((int(m.group(1)), values[0]) for name, values in params.items()
                   if (m := pattern.match(name)))
    return [value for _n, value in found]


def pairs(params, prefix):
    """{Key: Value} of Prefix.N.Key / Prefix.N.Value."""
    keys = {m.group(1): v[0] for n, v in params.items() if (m := re.match(re.escape(prefix) + r"\.(\d+)\.Key$", n))}
    values = {m.group(1): v[0] for n, v in params.items()
              if (m := re.match(re.escape(prefix) + r"\.(\d+)\.Value$", n))}
    return {keys[i]: values.get(i, "") for i in sorted(keys, key=int)}


def one(params, name, default=None):
    return params.get(name, [default])[0]


# ---------------------------------------------------------------------------------------------- EC2

EC2_ID_TYPES = {"vpc": "vpc", "subnet": "subnet", "igw": "internet-gateway", "rtb": "route-table",
                "sg": "security-group", "i": "instance", "vol": "volume", "nat": "natgateway",
                "eipalloc": "elastic-ip", "key": "key-pair", "eni": "network-interface", "ami": "image",
                "snap": "snapshot", "acl": "network-acl", "sgr": "security-group-rule"}
# Parameters that name an existing resource, wherever they appear (SubnetId, SecurityGroupId.1,
# NetworkInterface.1.SubnetId, ...); ResourceId.N (the tagging calls) by its id's prefix.
EC2_PARAMETERS = {"VpcId": "vpc", "SubnetId": "subnet", "InternetGatewayId": "internet-gateway",
                  "RouteTableId": "route-table", "GroupId": "security-group", "SecurityGroupId": "security-group",
                  "InstanceId": "instance", "VolumeId": "volume", "NatGatewayId": "natgateway",
                  "AllocationId": "elastic-ip", "KeyName": "key-pair", "ImageId": "image",
                  "NetworkInterfaceId": "network-interface", "ResourceId": None, "AssociationId": "association"}
EC2_PARAMETER = re.compile(r"^(?:NetworkInterface\.\d+\.)?([A-Za-z]+?)(?:\.\d+)?$")
EC2_CREATES = {"CreateVpc": ["vpc"], "CreateSubnet": ["subnet"], "CreateInternetGateway": ["internet-gateway"],
               "CreateRouteTable": ["route-table"], "CreateSecurityGroup": ["security-group"],
               "ImportKeyPair": ["key-pair"], "CreateKeyPair": ["key-pair"], "AllocateAddress": ["elastic-ip"],
               "CreateNatGateway": ["natgateway"], "RunInstances": ["instance", "volume", "network-interface"]}
# Reads that AWS authorizes on the resource (most Describe* calls have no resource-level permissions).
EC2_RESOURCE_READS = {"DescribeInstanceAttribute"}


def ec2_arn(region, account, resource_type, resource_id):
    if resource_type == "image":
        return f"arn:aws:ec2:{region}::image/{resource_id}"
    return f"arn:aws:ec2:{region}:{account}:{resource_type}/{resource_id}"


def ec2_tag_specifications(params):
    """{resource type: {key: value}} of TagSpecification.N (a create call's tags)."""
    by_type = {}
    for name, values in params.items():
        if m := re.match(r"TagSpecification\.(\d+)\.ResourceType$", name):
            by_type[values[0]] = pairs(params, f"TagSpecification.{m.group(1)}.Tag")
    return by_type


def ec2_existing(params, state):
    """(resource type, id) of every existing resource the request names."""
    for name, values in sorted(params.items()):
        m = EC2_PARAMETER.match(name)
        if not m or m.group(1) not in EC2_PARAMETERS:
            continue
        kind, value = EC2_PARAMETERS[m.group(1)], values[0]
        if kind is None:
            kind = EC2_ID_TYPES.get(value.split("-", 1)[0], "unknown")
        if kind == "association":  # a route table's association: the table and its subnet
            table, subnet = state.route_table_association(value)
            yield "route-table", table
            if subnet:
                yield "subnet", subnet
            continue
        yield kind, value


def ec2(action, params, region, account, state):
    if action.startswith("Describe") and action not in EC2_RESOURCE_READS:
        return [Authorization(f"ec2:{action}", "*", {})]
    specifications = ec2_tag_specifications(params)
    every_request_tag = {k: v for tags in specifications.values() for k, v in tags.items()}
    if action == "CreateTags":
        request_context = tag_context(pairs(params, "Tag"))
    elif action == "DeleteTags":
        request_context = tag_context({}, keys=list(pairs(params, "Tag")))
    else:
        request_context = tag_context(every_request_tag)
    found = []
    for resource_type in EC2_CREATES.get(action, []):
        name = one(params, "KeyName", "*") if resource_type == "key-pair" else "*"
        arn = ec2_arn(region, account, resource_type, name)
        tags = specifications.get(resource_type, {})
        found.append(Authorization(f"ec2:{action}", arn, tag_context(tags)))
        if tags:
            found.append(Authorization("ec2:CreateTags", arn, {**tag_context(tags), "ec2:CreateAction": action}))
    for resource_type, resource_id in ec2_existing(params, state):
        if (action, resource_type) in (("ImportKeyPair", "key-pair"), ("CreateKeyPair", "key-pair")):
            continue  # the new key pair, above
        arn = ec2_arn(region, account, resource_type, resource_id)
        context = dict(request_context)
        context.update({f"aws:ResourceTag/{k}": v for k, v in state.ec2_tags(resource_type, resource_id).items()})
        if resource_type == "image":
            context.update(state.image(resource_id))
        found.append(Authorization(f"ec2:{action}", arn, context))
    return found or [Authorization(f"ec2:{action}", "*", request_context)]


# -------------------------------------------------------------------------------------------- ELBv2

ELBV2_ARN_PARAMETERS = ("LoadBalancerArn", "TargetGroupArn", "ListenerArn", "RuleArn")
ELBV2_CREATES = {"CreateLoadBalancer": "loadbalancer", "CreateTargetGroup": "targetgroup"}


def elbv2(action, params, region, account, state):
    if action.startswith("Describe"):
        return [Authorization(f"elasticloadbalancing:{action}", "*", {})]
    tags = pairs(params, "Tags.member")
    removed = numbered(params, "TagKeys.member")
    context = tag_context({}, keys=removed) if action == "RemoveTags" else tag_context(tags)
    found = []
    if action in ELBV2_CREATES:
        name = one(params, "Name", "")
        kind = {"network": "net", "gateway": "gwy"}.get(one(params, "Type", "application"), "app")
        arn = (f"arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/{kind}/{name}/*"
               if action == "CreateLoadBalancer" else
               f"arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{name}/*")
        found.append(Authorization(f"elasticloadbalancing:{action}", arn, context))
        if tags:
            found.append(Authorization("elasticloadbalancing:AddTags", arn,
                                       {**context, "elasticloadbalancing:CreateAction": action}))
    named = [one(params, name) for name in ELBV2_ARN_PARAMETERS if name in params]
    named += numbered(params, "ResourceArns.member")
    for arn in named:
        resource_context = dict(context)
        resource_context.update({f"aws:ResourceTag/{k}": v for k, v in state.arn_tags(arn).items()})
        found.append(Authorization(f"elasticloadbalancing:{action}", arn, resource_context))
    return found or [Authorization(f"elasticloadbalancing:{action}", "*", context)]


# ---------------------------------------------------------------------------------------------- RDS


def rds_arn(region, account, kind, name):
    return f"arn:aws:rds:{region}:{account}:{kind}:{name}"


def rds(action, params, region, account, state):
    if action.startswith("Describe"):
        return [Authorization(f"rds:{action}", "*", {})]
    tags = pairs(params, "Tags.Tag") or pairs(params, "Tags.member")
    removed = numbered(params, "TagKeys.member")
    context = tag_context({}, keys=removed) if action == "RemoveTagsFromResource" else tag_context(tags)

    def existing(iam_action, arn):
        resource_context = dict(context)
        resource_context.update({f"aws:ResourceTag/{k}": v for k, v in state.arn_tags(arn).items()})
        return Authorization(iam_action, arn, resource_context)

    def new(iam_action, arn):
        created = [Authorization(iam_action, arn, context)]
        if tags:  # tags on create need AddTagsToResource too
            created.append(Authorization("rds:AddTagsToResource", arn, context))
        return created

    instance, group = one(params, "DBInstanceIdentifier"), one(params, "DBSubnetGroupName")
    snapshot = one(params, "DBSnapshotIdentifier")
    found = []
    if action == "CreateDBInstance":
        engine, version = one(params, "Engine", ""), one(params, "EngineVersion", "")
        major = version.split(".")[0]
        found += new("rds:CreateDBInstance", rds_arn(region, account, "db", instance))
        if group:
            found.append(existing("rds:CreateDBInstance", rds_arn(region, account, "subgrp", group)))
        option_group = one(params, "OptionGroupName", f"default:{engine}-{major}")
        parameter_group = one(params, "DBParameterGroupName", f"default.{engine}{major}")
        found.append(existing("rds:CreateDBInstance", rds_arn(region, account, "og", option_group)))
        found.append(existing("rds:CreateDBInstance", rds_arn(region, account, "pg", parameter_group)))
    elif action == "CreateDBSubnetGroup":
        found += new("rds:CreateDBSubnetGroup", rds_arn(region, account, "subgrp", group))
    elif action == "CreateDBSnapshot":
        found.append(existing("rds:CreateDBSnapshot", rds_arn(region, account, "db", instance)))
        found += new("rds:CreateDBSnapshot", rds_arn(region, account, "snapshot", snapshot))
    elif action in ("AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource"):
        found.append(existing(f"rds:{action}", one(params, "ResourceName")))
    else:
        if instance:
            found.append(existing(f"rds:{action}", rds_arn(region, account, "db", instance)))
        if group:
            found.append(existing(f"rds:{action}", rds_arn(region, account, "subgrp", group)))
        if snapshot:
            found.append(existing(f"rds:{action}", rds_arn(region, account, "snapshot", snapshot)))
        final = one(params, "FinalDBSnapshotIdentifier")
        if action == "DeleteDBInstance" and final and one(params, "SkipFinalSnapshot", "false").lower() != "true":
            # the final snapshot is a dependent action: AWS checks rds:CreateDBSnapshot on it
            found.append(Authorization("rds:CreateDBSnapshot", rds_arn(region, account, "snapshot", final), {}))
    return found or [Authorization(f"rds:{action}", "*", context)]


# ------------------------------------------------------------------------------------------ Budgets

BUDGETS_VIEW = {"DescribeBudget", "DescribeBudgets", "DescribeNotificationsForBudget",
                "DescribeSubscribersForNotification", "DescribeBudgetPerformanceHistory"}


def budgets(action, body, account):
    """AWS names two actions for the Budgets API (the Service Authorization Reference): ViewBudget
    and ModifyBudget, on the budget's ARN (arn:aws:budgets::ACCOUNT:budget/NAME)."""
    request = json.loads(body or b"{}")
    name = request.get("BudgetName") or request.get("Budget", {}).get("BudgetName") or "*"
    iam_action = "budgets:ViewBudget" if action in BUDGETS_VIEW else "budgets:ModifyBudget"
    return [Authorization(iam_action, f"arn:aws:budgets::{request.get('AccountId', account)}:budget/{name}", {})]


# ---------------------------------------------------------------------------------------------- SSM

def ssm(action, body, region, account):
    """Parameter Store's actions on the parameter's ARN (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME, the
    name without its leading slash); the calls that name no parameter on "*"."""
    name = json.loads(body or b"{}").get("Name")
    resource = f"arn:aws:ssm:{region}:{account}:parameter/{name.lstrip('/')}" if name else "*"
    return [Authorization(f"ssm:{action}", resource, {})]


# ------------------------------------------------------------------------------------------------ ACM

def acm(action, body, region, account, state):
    """ACM's actions on the certificate's ARN (with its tags); RequestCertificate on "*" (it names no
    resource), with the tags asked for, the names and the validation method as condition keys, and
    acm:AddTagsToCertificate on the new certificate (no tags yet) when it tags, as ELBv2's creates do."""
    request = json.loads(body or b"{}")
    arn = request.get("CertificateArn")
    if action == "RequestCertificate":
        tags = {tag["Key"]: tag.get("Value", "") for tag in request.get("Tags", [])}
        context = {**tag_context(tags), "acm:ValidationMethod": request.get("ValidationMethod", "EMAIL"),
                   "acm:DomainNames": [request.get("DomainName", ""), *request.get("SubjectAlternativeNames", [])]}
        return [Authorization("acm:RequestCertificate", "*", context)] + \
            ([Authorization("acm:AddTagsToCertificate", f"arn:aws:acm:{region}:{account}:certificate/*",
                            tag_context(tags))] if tags else [])
    if not arn:
        return [Authorization(f"acm:{action}", "*", {})]
    asked = {tag["Key"]: tag.get("Value", "") for tag in request.get("Tags", [])}
    context = tag_context(asked) if action in ("AddTagsToCertificate", "RemoveTagsFromCertificate") else {}
    context.update({f"aws:ResourceTag/{k}": v for k, v in state.arn_tags(arn).items()})
    return [Authorization(f"acm:{action}", arn, context)]


# ------------------------------------------------------------------------------------------- Route 53

ROUTE53_ID = re.compile(r"/(hostedzone|change)/([A-Za-z0-9]+)")


def route53(action, path, body):
    """Route 53's resources are global: a hosted zone or a change. ChangeResourceRecordSets carries what
    it changes as condition keys: the names (lower case, no final dot), the record types, the actions."""
    found = ROUTE53_ID.search(path)
    resource = f"arn:aws:route53:::{found.group(1)}/{found.group(2)}" if found else "*"
    context = {}
    if action == "ChangeResourceRecordSets":
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
        values = {tag: re.findall(rf"<{tag}>([^<]*)</{tag}>", text) for tag in ("Action", "Name", "Type")}
        context = {"route53:ChangeResourceRecordSetsActions": values["Action"],
                   "route53:ChangeResourceRecordSetsNormalizedRecordNames":
                       [name.lower().rstrip(".") for name in values["Name"]],
                   "route53:ChangeResourceRecordSetsRecordTypes": values["Type"]}
    return [Authorization(f"route53:{action}", resource, context)]


def authorizations(request, state):
    """Every (IAM action, resource, context) AWS would authorize for this request."""
    r = request
    if r.service == "ec2":
        found = ec2(r.action, r.params, r.region, r.account, state)
    elif r.service == "elasticloadbalancing":
        found = elbv2(r.action, r.params, r.region, r.account, state)
    elif r.service == "rds":
        found = rds(r.action, r.params, r.region, r.account, state)
    elif r.service == "budgets":
        found = budgets(r.action, r.body, r.account)
    elif r.service == "ssm":
        found = ssm(r.action, r.body, r.region, r.account)
    elif r.service == "route53":
        found = route53(r.action, r.path, r.body)
    elif r.service == "acm":
        found = acm(r.action, r.body, r.region, r.account, state)
    else:
        found = [Authorization(f"{r.service}:{r.action}", "*", {})]
    for authorization in found:
        authorization.context.setdefault("aws:RequestedRegion", r.region)
    return found
