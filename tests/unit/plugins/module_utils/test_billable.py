"""The billable view of one read (moto in process), its pricing and ordering (the modules that
use it run against the emulator in tests/integration/test_cost.py)."""

import boto3

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.billable import (
    price,
    scan_region,
    sort_by_cost,
    tagged_left,
)
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.resources import carries

OURS = {"Project": "tasklist", "Environment": "dev", "ManagedBy": "shipyard.ec2_compose"}


def clients(service):
    return boto3.client(service, region_name="us-east-1")


def account():
    return boto3.client("sts", region_name="us-east-1").get_caller_identity()["Account"]


def tagged(resource_type, tags):
    return [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


def test_one_read_prices_an_instance_with_its_volume_and_lists_a_loose_volume(ec2):
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0]
    loose = ec2.create_volume(AvailabilityZone="us-east-1a", Size=10, VolumeType="gp2")["VolumeId"]
    ec2.create_snapshot(VolumeId=loose)
    billed = {r["id"]: r for r in scan_region(clients, "us-east-1", account())}
    kinds = [use["kind"] for use in billed[instance["InstanceId"]]["usage"]]
    assert kinds[0] == "instance" and "volume" in kinds
    assert billed[loose]["usage"] == [{"kind": "volume", "name": "volume", "volume_type": "gp2", "size": 10,
                                       "iops": billed[loose]["usage"][0]["iops"], "throughput": None}]
    assert [r["type"] for r in billed.values()].count("snapshot") == 1
    assert {r["type"] for r in billed.values()} <= {"instance", "volume", "snapshot"}


def test_tagged_left_adds_the_other_types_by_their_tags(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tagged("vpc", OURS))["Vpc"]["VpcId"]
    ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=tagged("vpc", {"Project": "other"}))
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=8, TagSpecifications=tagged("volume", OURS))
    billed = scan_region(clients, "us-east-1", account())
    left = tagged_left(clients, "us-east-1", OURS, billed)
    assert sorted(r["type"] for r in left) == ["volume", "vpc"]
    assert [r["id"] for r in left if r["type"] == "vpc"] == [vpc]
    assert tagged_left(clients, "us-east-1", dict(OURS, Environment="prod"), billed) == []


def resource(region, resource_type, usage, tags=None, resource_id="r-1"):
    return {"region": region, "type": resource_type, "id": resource_id, "tags": tags or {}, "usage": usage}


def test_instance_priced_with_its_volume_and_address():
    found = resource("us-east-1", "instance", [
        {"kind": "instance", "instance_type": "t3.micro", "hours": 730},
        {"kind": "public_ipv4", "hours": 730},
        {"kind": "volume", "name": "volume vol-1", "volume_type": "gp3", "size": 20}])
    assert price(found)["monthly_cost"] == 12.84


def test_stopped_instance_still_bills_its_volume():
    found = resource("us-east-1", "instance", [{"kind": "volume", "volume_type": "gp2", "size": 10}])
    assert price(found)["monthly_cost"] == 1.0


def test_unpriced_region_is_reported_not_guessed():
    priced = price(resource("sa-east-1", "elastic_ip", [{"kind": "public_ipv4", "hours": 730}]))
    # Public IPv4 costs the same in every region; other prices of a region the table lacks are not guessed.
    assert priced["monthly_cost"] == 3.65
    snapshot = price(resource("sa-east-1", "snapshot", [{"kind": "snapshot", "size": 8}]))
    assert snapshot["monthly_cost"] is None and "sa-east-1" in snapshot["price_note"]


def test_sorted_dearest_first_unpriced_last():
    items = [dict(resource("us-east-1", "volume", [], resource_id="a"), monthly_cost=1.0),
             dict(resource("us-east-1", "snapshot", [], resource_id="b"), monthly_cost=None),
             dict(resource("eu-west-3", "instance", [], resource_id="c"), monthly_cost=14.12)]
    assert [r["id"] for r in sort_by_cost(items)] == ["c", "a", "b"]


def test_carries_needs_every_tag():
    found = resource("us-east-1", "volume", [], tags={"Project": "tasklist", "Environment": "dev"})
    assert carries(found, {"Project": "tasklist"})
    assert not carries(found, {"Project": "tasklist", "Environment": "prod"})
