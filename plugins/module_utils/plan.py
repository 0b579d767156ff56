# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Provision's plan: for one resource, what the environment read by resources.py lacks compared
with what a role asks of its amazon.aws module.

`plan(found, kind, wanted)` answers {type, name, id, action, changes, resource}: action is `create` (no such
resource), `update` (it exists; `changes` says what differs), `keep` (in order: the role skips its
module), or `apply` when the environment was not read (the role runs its module, which decides).

A resource is matched the way its module finds it (a VPC by Name and CIDR, a subnet by VPC and
CIDR, a security group by name and VPC...), so that `create` never hides a resource the module
would reuse. Only what the module repairs is compared: a security group's description, an
instance's image, key or volumes are set at creation and a module run would not change them.
`wanted` uses the module's own option names.
"""

from __future__ import annotations


def _tag_changes(actual, wanted, purge):
    """What the module would change in the tags: set the wanted ones, and with purge drop the others."""
    changes = [f"tag {key}: {actual[key]!r} -> {value!r}" if key in actual else f"tag {key}: add {value!r}"
               for key, value in sorted(wanted.items()) if actual.get(key) != value]
    if purge:
        changes += [f"tag {key}: remove" for key in sorted(actual) if key not in wanted and not key.startswith("aws:")]
    return changes


def _differs(label, actual, wanted):
    return [] if actual == wanted else [f"{label}: {actual!r} -> {wanted!r}"]


def _ports(rule):
    for port in rule.get("ports", []):
        low, _sep, high = str(port).partition("-")
        yield int(low), int(high or low)


def _wanted_permissions(rules):
    """ec2_security_group's `rules` (tcp/udp ports to IPv4 CIDRs, or from another group by its
    group_id) as (proto, from, to, source, description)."""
    permissions = set()
    for rule in rules:
        if rule.get("group_id"):
            cidrs = [rule["group_id"]]
        else:
            cidrs = rule["cidr_ip"] if isinstance(rule["cidr_ip"], list) else [rule["cidr_ip"]]
        for low, high in _ports(rule):
            permissions.update((str(rule["proto"]), low, high, cidr, rule.get("rule_desc")) for cidr in cidrs)
    return permissions


def _actual_permissions(ip_permissions):
    permissions = set()
    for permission in ip_permissions:
        key = (permission["IpProtocol"], permission.get("FromPort"), permission.get("ToPort"))
        permissions.update((*key, ip_range["CidrIp"], ip_range.get("Description"))
                           for ip_range in permission.get("IpRanges", []))
        permissions.update((*key, pair["GroupId"], pair.get("Description"))
                           for pair in permission.get("UserIdGroupPairs", []))
        # Anything else (IPv6, prefix lists) is not ours: the module would purge it.
        others = [other for field in ("Ipv6Ranges", "PrefixListIds") for other in permission.get(field, [])]
        permissions.update((*key, f"other:{index}", None) for index, _other in enumerate(others))
    return permissions


def _rule_line(permission):
    proto, low, high, cidr, description = permission
    ports = str(low) if low == high else f"{low}-{high}"
    return f"{proto} {ports} from {cidr}" + (f" ({description})" if description else "")


def _where(found, **fields):
    return [resource for resource in found if all(resource.get(key) == value for key, value in fields.items())]


def _vpc(found, wanted):
    matches = _where(found, name=wanted["tags"]["Name"], CidrBlock=wanted["cidr_block"])

    def changes(vpc):
        return (_differs("dns_support", vpc.get("EnableDnsSupport"), wanted["dns_support"])
                + _differs("dns_hostnames", vpc.get("EnableDnsHostnames"), wanted["dns_hostnames"])
                + _tag_changes(vpc["tags"], wanted["tags"], purge=True))
    return matches, changes


def _subnet(found, wanted):
    matches = _where(found, VpcId=wanted["vpc_id"], CidrBlock=wanted["cidr"])

    def changes(subnet):
        return ((_differs("az", subnet.get("AvailabilityZone"), wanted["az"]) if wanted.get("az") else [])
                + _differs("map_public", subnet.get("MapPublicIpOnLaunch"), wanted["map_public"])
                + _tag_changes(subnet["tags"], wanted["tags"], purge=True))
    return matches, changes


def _internet_gateway(found, wanted):
    matches = [gateway for gateway in found
               if any(attachment.get("VpcId") == wanted["vpc_id"] for attachment in gateway.get("Attachments", []))]
    return matches, lambda gateway: _tag_changes(gateway["tags"], wanted["tags"], purge=True)


def _route_table(found, wanted):
    # ec2_vpc_route_table finds its table by tags in the VPC; the Name tag is the part that identifies it.
    matches = _where(found, VpcId=wanted["vpc_id"], name=wanted["tags"]["Name"])

    def changes(table):
        routes = {(route.get("DestinationCidrBlock"), route.get("GatewayId") or route.get("NatGatewayId"))
                  for route in table.get("Routes", [])
                  if route.get("GatewayId") != "local" and route.get("Origin") != "EnableVgwRoutePropagation"}
        wanted_routes = {(route["dest"], route.get("gateway_id") or route.get("nat_gateway_id"))
                         for route in wanted["routes"]}
        subnets = {association["SubnetId"] for association in table.get("Associations", [])
                   if association.get("SubnetId")}
        return ([f"route {dest} -> {target}: add" for dest, target in sorted(wanted_routes - routes)]
                + [f"route {dest} -> {target}: remove" for dest, target in sorted(routes - wanted_routes, key=str)]
                + [f"subnet {subnet}: associate" for subnet in sorted(set(wanted["subnets"]) - subnets)]
                + [f"subnet {subnet}: disassociate" for subnet in sorted(subnets - set(wanted["subnets"]))]
                + _tag_changes(table["tags"], wanted["tags"], purge=True))
    return matches, changes


def _security_group(found, wanted):
    matches = _where(found, GroupName=wanted["name"], VpcId=wanted["vpc_id"])

    def changes(group):
        actual, rules = _actual_permissions(group.get("IpPermissions", [])), _wanted_permissions(wanted["rules"])
        return ([f"rule {_rule_line(rule)}: add" for rule in sorted(rules - actual, key=str)]
                + [f"rule {_rule_line(rule)}: remove" for rule in sorted(actual - rules, key=str)]
                + _tag_changes(group["tags"], wanted["tags"], purge=True))
    return matches, changes


KEY_CONFLICT = "public key: not the one of ssh_key_path"


def _key_blob(public_key):
    """The key itself from an OpenSSH public key line (type, base64 blob, comment): the blob."""
    fields = (public_key or "").split()
    return fields[1] if len(fields) > 1 else ""


def _key_pair(found, wanted):
    matches = _where(found, KeyName=wanted["name"])

    def changes(key):
        # ec2_key (force: false) keeps a key pair of the same name whatever its key: a host launched
        # with it would refuse the operator's key. Compared only when both keys are known.
        mine, theirs = _key_blob(wanted.get("public_key")), _key_blob(key.get("PublicKey"))
        conflict = [KEY_CONFLICT] if mine and theirs and mine != theirs else []
        return conflict + _tag_changes(key["tags"], wanted["tags"], purge=True)
    return matches, changes


def _instance(found, wanted):
    matches = _where(found, name=wanted["tags"]["Name"])

    def changes(instance):
        groups = sorted(group["GroupId"] for group in instance.get("SecurityGroups", []))
        metadata = instance.get("MetadataOptions", {})
        return (_differs("state", instance.get("State"), "running")
                + _differs("instance_type", instance.get("InstanceType"), wanted["instance_type"])
                + _differs("security groups", groups, sorted(wanted["security_groups"]))
                + [change for option, key in (("http_tokens", "HttpTokens"), ("http_endpoint", "HttpEndpoint"),
                                              ("http_put_response_hop_limit", "HttpPutResponseHopLimit"))
                   for change in _differs(option, metadata.get(key), wanted["metadata_options"][option])]
                + _tag_changes(instance["tags"], wanted["tags"], purge=False))  # purge_tags: false
    return matches, changes


MATCHERS = {
    "vpc": _vpc,
    "subnet": _subnet,
    "internet_gateway": _internet_gateway,
    "route_table": _route_table,
    "security_group": _security_group,
    "key_pair": _key_pair,
    "instance": _instance,
}


def plan(found, kind, wanted):
    """The plan for one resource of `kind`; `found` is resources.py's {type: [summary]} ({} when not read)."""
    if kind not in MATCHERS:
        raise ValueError(f"kind must be one of {', '.join(MATCHERS)} (got {kind!r})")
    name = wanted["tags"]["Name"]
    result = {"type": kind, "name": name, "id": "", "action": "apply", "changes": [], "resource": {}}
    if not found:
        return result
    matches, changes = MATCHERS[kind](found.get(kind, []), wanted)
    if not matches:
        return dict(result, action="create")
    if len(matches) > 1:  # the module decides which (exact_count terminates the extra instances)
        return dict(result, action="update", id=matches[0]["id"], changes=[f"{len(matches)} found, 1 wanted"])
    resource = matches[0]
    differences = changes(resource)
    return dict(result, id=resource["id"], action="update" if differences else "keep", changes=differences,
                resource=resource)


def hosts_plan(found, wanted, count, subnets):
    """The instances of an environment: one plan per host wanted and a delete plan for every other live one.

    `wanted` is one host's `plan(..., "instance", ...)` input, its Name tag the hosts' prefix. count 0: one
    host of that Name; count N: Name-1..Name-N. Host i goes to subnets[i % len(subnets)] ('' when none).
    Returns {"hosts": [plan + {"subnet"}], "extra": [delete plan]}.
    """
    prefix = wanted["tags"]["Name"]
    names = [prefix] if not count else [f"{prefix}-{index}" for index in range(1, int(count) + 1)]
    hosts = [dict(plan(found, "instance", dict(wanted, tags=dict(wanted["tags"], Name=name))),
                  subnet=subnets[index % len(subnets)] if subnets else "")
             for index, name in enumerate(names)]
    others = [host for host in (found or {}).get("instance", [])
              if host["name"] not in names and host.get("State") not in ("shutting-down", "terminated")]
    extra = [{"type": "instance", "name": host["name"], "id": host["id"], "action": "delete",
              "changes": [f"not one of the {len(names)} hosts wanted"], "resource": host} for host in others]
    return {"hosts": hosts, "extra": extra}
