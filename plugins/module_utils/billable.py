# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What bills in one region, whoever made it, priced with the estimator of pricing.py.

Used by the leftovers module (the account audit and teardown's proof) and by cost_check's
deployed mode. Billable here means: instances that are not terminated (a stopped one still bills
its volumes and its public address), volumes (attached ones are priced with their instance),
elastic IPs, NAT gateways, load balancers (ALB/NLB) and snapshots owned by the account.
"""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.pricing import (
    HOURS_PER_MONTH,
    PricingError,
    estimate,
)
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.resources import describe_all
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.retry import aws_retry

LIVE_INSTANCE_STATES = ["pending", "running", "stopping", "stopped", "shutting-down"]
RUNNING_STATES = ("pending", "running")
LIVE_NAT_STATES = ["pending", "available"]
TYPE_ORDER = ("instance", "volume", "elastic_ip", "nat_gateway", "load_balancer", "snapshot")


def _resource(region, resource_type, resource_id, item, *, state, usage, detail=""):
    tags = boto3_tag_list_to_ansible_dict(item.get("Tags", []))
    return {"region": region, "type": resource_type, "id": resource_id, "name": tags.get("Name", ""),
            "tags": tags, "state": state, "detail": detail, "usage": usage}


def _volume_usage(volume, name):
    return {"kind": "volume", "name": name, "volume_type": volume.get("VolumeType", "gp3"),
            "size": volume.get("Size", 0), "iops": volume.get("Iops"), "throughput": volume.get("Throughput")}


def _instances(ec2, region, attached_volumes, elastic_ips):
    reservations = describe_all(ec2, "describe_instances", "Reservations",
                                Filters=[{"Name": "instance-state-name", "Values": LIVE_INSTANCE_STATES}])
    found = []
    for instance in (item for reservation in reservations for item in reservation["Instances"]):
        state = instance["State"]["Name"]
        usage = []
        if state in RUNNING_STATES:
            usage.append({"kind": "instance", "instance_type": instance["InstanceType"], "hours": HOURS_PER_MONTH})
        # An elastic IP is priced as its own resource; an auto-assigned public address with the instance.
        if instance.get("PublicIpAddress") and instance["PublicIpAddress"] not in elastic_ips:
            usage.append({"kind": "public_ipv4", "hours": HOURS_PER_MONTH})
        usage.extend(_volume_usage(volume, f"volume {volume['VolumeId']}")
                     for volume in attached_volumes.get(instance["InstanceId"], []))
        found.append(_resource(region, "instance", instance["InstanceId"], instance, state=state, usage=usage,
                               detail=instance["InstanceType"]))
    return found


def _volumes(ec2, region):
    """Unattached volumes as resources, and the attached ones by instance id."""
    attached, found = {}, []
    for volume in describe_all(ec2, "describe_volumes", "Volumes"):
        attachments = volume.get("Attachments") or []
        if attachments:
            attached.setdefault(attachments[0]["InstanceId"], []).append(volume)
        else:
            found.append(_resource(region, "volume", volume["VolumeId"], volume, state=volume.get("State", ""),
                                   usage=[_volume_usage(volume, "volume")],
                                   detail=f"{volume.get('VolumeType')} {volume['Size']} GB"))
    return found, attached


def _snapshots(ec2, region, account):
    snapshots = describe_all(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"])
    return [_resource(region, "snapshot", snapshot["SnapshotId"], snapshot, state=snapshot.get("State", ""),
                      usage=[{"kind": "snapshot", "size": snapshot.get("VolumeSize", 0)}],
                      detail=f"{snapshot.get('VolumeSize', 0)} GB (full size; AWS bills the changed blocks)")
            for snapshot in snapshots if snapshot.get("OwnerId") == account]


def _load_balancers(elbv2, region):
    balancers = describe_all(elbv2, "describe_load_balancers", "LoadBalancers")
    arns = [balancer["LoadBalancerArn"] for balancer in balancers]
    described = {}
    for start in range(0, len(arns), 20):  # DescribeTags takes at most 20 ARNs
        for description in describe_all(elbv2, "describe_tags", "TagDescriptions", ResourceArns=arns[start:start + 20]):
            described[description["ResourceArn"]] = description
    return [_resource(region, "load_balancer", balancer["LoadBalancerArn"],
                      described.get(balancer["LoadBalancerArn"], {}),
                      state=balancer.get("State", {}).get("Code", ""),
                      usage=[{"kind": "load_balancer", "name": f"{balancer.get('Type', '')} load balancer",
                              "hours": HOURS_PER_MONTH}],
                      detail=balancer.get("LoadBalancerName", ""))
            for balancer in balancers]


def scan_region(ec2, elbv2, region, account):
    """Every billable resource of one region, each with the usage that prices it.

    `account` is the caller's account id: snapshots are the account's own only (not those of
    public images, which some endpoints list even with OwnerIds=self).
    """
    volumes, attached = _volumes(ec2, region)
    addresses = describe_all(ec2, "describe_addresses", "Addresses")
    elastic_ips = [_resource(region, "elastic_ip", address.get("AllocationId", address["PublicIp"]), address,
                             state="associated" if address.get("AssociationId") else "idle",
                             usage=[{"kind": "public_ipv4", "name": "elastic IP", "hours": HOURS_PER_MONTH}],
                             detail=address["PublicIp"])
                   for address in addresses]
    nat_gateways = [_resource(region, "nat_gateway", gateway["NatGatewayId"], gateway, state=gateway["State"],
                              usage=[{"kind": "nat_gateway", "hours": HOURS_PER_MONTH}],
                              detail=gateway.get("VpcId", ""))
                    for gateway in describe_all(ec2, "describe_nat_gateways", "NatGateways",
                                                Filter=[{"Name": "state", "Values": LIVE_NAT_STATES}])]
    instances = _instances(ec2, region, attached, {address["PublicIp"] for address in addresses})
    return (instances + volumes + elastic_ips + nat_gateways + _load_balancers(elbv2, region)
            + _snapshots(ec2, region, account))


class RegionClients:
    """Clients for many regions from one boto3 session.

    AnsibleAWSModule.client builds a new session, and loads the service model again, for every
    client: 0.3 s each, most of the time of a scan of ~35 regions x 2 services. A session shared by
    all regions makes a client in 0.03 s. Same credentials, endpoint and settings as module.client.
    """

    def __init__(self, module):
        import boto3  # present: AnsibleAWSModule checked it

        _region, self.endpoint, params = get_aws_connection_info(module)
        self.config = params.pop("aws_config", None)
        self.session = boto3.session.Session(profile_name=params.pop("profile_name", None))
        self.params = params

    def client(self, service, region):
        return self.session.client(service, region_name=region, endpoint_url=self.endpoint, config=self.config,
                                   **self.params)


def caller_account(module):
    """The account id of the module's credentials (STS GetCallerIdentity)."""
    sts = module.client("sts", retry_decorator=aws_retry())
    return sts.get_caller_identity(aws_retry=True)["Account"]


def carries(resource, tags):
    """Whether a resource carries every one of `tags`."""
    return all(resource["tags"].get(key) == value for key, value in tags.items())


def price(resource):
    """The resource with its monthly cost (full price), or None and a note when the table has no price."""
    try:
        result = estimate(resource["region"], resource["usage"])
    except PricingError as error:
        return dict(resource, monthly_cost=None, price_note=str(error))
    return dict(resource, monthly_cost=result["total"], price_note="")


def sort_by_cost(resources):
    """Dearest first; unpriced ones after the priced, then by type order."""
    return sorted(resources, key=lambda r: (r["monthly_cost"] is None, -(r["monthly_cost"] or 0),
                                            TYPE_ORDER.index(r["type"]), r["region"], r["id"]))
