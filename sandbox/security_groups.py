"""Security groups enforced on the sandbox's hosts, as EC2 enforces them on an instance's interface.

A host container gets, in its own network namespace, a packet filter made from the ingress rules of
every security group of its instance: a connection to the host is let in when one rule allows its
protocol, port and source (a CIDR, or the address of a host in a referenced group); replies to the
host's own connections always are (security groups are stateful); everything else is dropped
silently, so a closed port times out as it does on AWS. Egress is left open (the default egress rule).

The filter sits in the mangle table's PREROUTING chain, before Docker's own NAT inside the host, so
a port that the host's Docker publishes is filtered by the port the client asked for. The backer
(backer.py) writes it when the container starts and again whenever the groups' rules or the
instance's groups change.
"""

CHAIN = "SHIPYARD-SG"
INTERFACE = "eth0"  # a container's interface on the sandbox's bridge: where the "internet" comes in
ALL = "-1"


def group_ids(instance):
    """The security groups of an instance: its own list and its network interfaces'."""
    found = {group["GroupId"] for group in instance.get("SecurityGroups", [])}
    for interface in instance.get("NetworkInterfaces", []):
        found.update(group["GroupId"] for group in interface.get("Groups", []))
    return sorted(found)


def match(permission):
    """The iptables match of one permission's protocol and ports."""
    protocol = str(permission.get("IpProtocol", ALL)).lower()
    if protocol in (ALL, "all"):
        return ""
    from_port, to_port = permission.get("FromPort"), permission.get("ToPort")
    if protocol in ("tcp", "udp", "6", "17"):
        name = "tcp" if protocol in ("tcp", "6") else "udp"
        ports = "" if from_port in (None, -1) else f" --dport {from_port}:{to_port}"
        return f"-p {name}{ports}"
    if protocol in ("icmp", "1"):
        icmp_type = "" if from_port in (None, -1) else f" --icmp-type {from_port}" + (
            "" if to_port in (None, -1) else f"/{to_port}")
        return f"-p icmp{icmp_type}"
    return f"-p {protocol}"


def allowed(groups, addresses_by_group):
    """(match, source CIDR) for every ingress permission of the groups; sources that are groups become
    the addresses of the hosts in them."""
    found = set()
    for group in groups:
        for permission in group.get("IpPermissions", []):
            sources = [ip_range["CidrIp"] for ip_range in permission.get("IpRanges", [])]
            for pair in permission.get("UserIdGroupPairs", []):
                sources += [f"{address}/32" for address in addresses_by_group.get(pair.get("GroupId"), ())]
            found.update((match(permission), source) for source in sources)
    return sorted(found)


def ruleset(groups, addresses_by_group):
    """iptables-restore input that replaces the host's mangle table with the groups' filter."""
    lines = ["*mangle", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]",
             ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", f":{CHAIN} - [0:0]",
             f"-A PREROUTING -i {INTERFACE} -j {CHAIN}",
             f"-A {CHAIN} -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN"]
    for matched, source in allowed(groups, addresses_by_group):
        lines.append(" ".join(part for part in (f"-A {CHAIN}", matched, f"-s {source}", "-j RETURN") if part))
    lines += [f"-A {CHAIN} -j DROP", "COMMIT", ""]
    return "\n".join(lines)


def rulesets(instances, groups):
    """{instance id: ruleset} for running instances (dicts as DescribeInstances answers them, each with
    its "address" on the bridge), given every security group of their region by id."""
    addresses_by_group = {}
    for instance in instances:
        for group_id in group_ids(instance):
            addresses_by_group.setdefault(group_id, []).append(instance["address"])
    return {instance["InstanceId"]: ruleset([groups[g] for g in group_ids(instance) if g in groups],
                                            addresses_by_group)
            for instance in instances}
