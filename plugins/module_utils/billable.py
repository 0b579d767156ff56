# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What bills in one region, whoever made it, priced with the estimator of pricing.py.

Used by the leftovers module (the account audit and teardown's proof) and by cost_check's
deployed mode. Billable here means: instances that are not terminated (a stopped one still bills
its volumes and its public address), volumes (attached ones are priced with their instance),
elastic IPs, NAT gateways, load balancers (ALB/NLB), snapshots owned by the account, RDS instances
and their manual snapshots (a final snapshot that teardown keeps, too).
"""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.pricing import (
    HOURS_PER_MONTH,
    PricingError,
    estimate,
)
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.resources import (
    RESOURCE_TYPES,
    carries,
    find_resources,
)
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.retry import aws_retry

RUNNING_STATES = ("pending", "running")
LIVE_NAT_STATES = ("pending", "available")  # failed and deleting ones are listed by the reader, not billed
BILLABLE_TYPES = ("instance", "volume", "elastic_ip", "nat_gateway", "load_balancer", "snapshot", "db_instance",
                  "db_snapshot")
GONE_DB_STATES = ("deleted",)
HOURLY = {"hours": HOURS_PER_MONTH}


def _volume_usage(volume, name):
    return {"kind": "volume", "name": name, "volume_type": volume.get("VolumeType", "gp3"),
            "size": volume.get("Size", 0), "iops": volume.get("Iops"), "throughput": volume.get("Throughput")}


def _billed(region, resource, *, state, usage, detail=""):
    return {"region": region, "type": resource["type"], "id": resource["id"], "name": resource["name"],
            "tags": resource["tags"], "state": state, "detail": detail, "usage": usage}


def scan_region(client_for, region, account):
    """Every billable resource of one region, whoever made it, each with the usage that prices it.

    `client_for(service)` gives the region's clients. `account` is the caller's account id: the
    snapshots listed are the account's own. Attached volumes, and an instance's auto-assigned
    public address, are priced with their instance.
    """
    found = find_resources(client_for, BILLABLE_TYPES)
    attached = {}
    for volume in found["volume"]:
        if volume.get("Attachments"):
            attached.setdefault(volume["Attachments"][0]["InstanceId"], []).append(volume)
    elastic_ips = {address["PublicIp"] for address in found["elastic_ip"]}

    billed = []
    for instance in found["instance"]:
        usage = []
        if instance["State"] in RUNNING_STATES:  # a stopped instance still bills its volumes and address
            usage.append(dict(HOURLY, kind="instance", instance_type=instance["InstanceType"]))
        if instance.get("PublicIpAddress") and instance["PublicIpAddress"] not in elastic_ips:
            usage.append(dict(HOURLY, kind="public_ipv4"))
        usage.extend(_volume_usage(volume, f"volume {volume['id']}") for volume in attached.get(instance["id"], []))
        billed.append(_billed(region, instance, state=instance["State"], usage=usage, detail=instance["InstanceType"]))
    billed.extend(_billed(region, volume, state=volume.get("State", ""), usage=[_volume_usage(volume, "volume")],
                          detail=f"{volume.get('VolumeType')} {volume['Size']} GB")
                  for volume in found["volume"] if not volume.get("Attachments"))
    billed.extend(_billed(region, address, state="associated" if address.get("AssociationId") else "idle",
                          usage=[dict(HOURLY, kind="public_ipv4", name="elastic IP")], detail=address["PublicIp"])
                  for address in found["elastic_ip"])
    billed.extend(_billed(region, gateway, state=gateway["State"], usage=[dict(HOURLY, kind="nat_gateway")],
                          detail=gateway.get("VpcId", ""))
                  for gateway in found["nat_gateway"] if gateway["State"] in LIVE_NAT_STATES)
    billed.extend(_billed(region, balancer, state=balancer.get("State", ""),
                          detail=balancer.get("LoadBalancerName", ""),
                          usage=[dict(HOURLY, kind="load_balancer", name=f"{balancer.get('Type', '')} load balancer")])
                  for balancer in found["load_balancer"])
    billed.extend(_billed(region, snapshot, state=snapshot.get("State", ""),
                          usage=[{"kind": "snapshot", "size": snapshot.get("VolumeSize", 0)}],
                          detail=f"{snapshot.get('VolumeSize', 0)} GB (full size; AWS bills the changed blocks)")
                  for snapshot in found["snapshot"] if snapshot.get("OwnerId") == account)
    billed.extend(_billed(region, database, state=database.get("DBInstanceStatus", ""),
                          detail=f"{database.get('Engine', '')} {database.get('DBInstanceClass', '')}",
                          usage=[dict(HOURLY, kind="db_instance", db_instance_class=database.get("DBInstanceClass", ""),
                                      storage_gb=database.get("AllocatedStorage", 0))])
                  for database in found["db_instance"] if database.get("DBInstanceStatus") not in GONE_DB_STATES)
    billed.extend(_billed(region, snapshot, state=snapshot.get("Status", ""),
                          detail=f"{snapshot.get('AllocatedStorage', 0)} GB of "
                                 f"{snapshot.get('DBInstanceIdentifier', '')}",
                          usage=[{"kind": "db_snapshot", "size": snapshot.get("AllocatedStorage", 0)}])
                  for snapshot in found["db_snapshot"])
    return billed


def tagged_left(client_for, region, tags, billed):
    """Everything in the region that still carries all `tags`: the billable resources already
    scanned (`billed`), and one describe per other type this collection creates (teardown's proof)."""
    others = [resource_type for resource_type in RESOURCE_TYPES if resource_type not in BILLABLE_TYPES]
    left = [resource for resource in billed if carries(resource, tags)]
    for resources in find_resources(client_for, others, tags).values():
        left.extend(_billed(region, resource, state=resource.get("State", ""), usage=[]) for resource in resources)
    return left


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
        self.clients = {}

    def client(self, service, region):
        """The service's client in the region, made once (the billable scan and the proof both ask)."""
        if (service, region) not in self.clients:
            self.clients[service, region] = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint, config=self.config, **self.params)
        return self.clients[service, region]


def caller_account(module):
    """The account id of the module's credentials (STS GetCallerIdentity)."""
    sts = module.client("sts", retry_decorator=aws_retry())
    return sts.get_caller_identity(aws_retry=True)["Account"]


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
                                            BILLABLE_TYPES.index(r["type"]), r["region"], r["id"]))
