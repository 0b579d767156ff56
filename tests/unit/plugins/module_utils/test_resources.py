"""The reader (find_resources, find_tagged_resources) against moto in process (its logic, no server)."""

import time

import boto3

from ansible_collections.shipyard.ec2_compose.plugins.module_utils import resources
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.resources import (
    EC2_TYPES,
    RESOURCE_TYPES,
    find_resources,
    find_tagged_resources,
)

OURS = {"Project": "tasklist", "Environment": "dev", "ManagedBy": "shipyard.ec2_compose"}


def clients(service):
    return boto3.client(service, region_name="us-east-1")


def tag_spec(resource_type, tags):
    return [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


def make_vpc(ec2, tags):
    return ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tag_spec("vpc", tags))["Vpc"]["VpcId"]


def test_finds_only_resources_with_all_the_tags(ec2):
    ours = make_vpc(ec2, dict(OURS, Name="tasklist-dev-vpc"))
    make_vpc(ec2, dict(OURS, Environment="staging"))
    make_vpc(ec2, {"Project": "tasklist"})
    found = find_tagged_resources(ec2, OURS)
    assert [(r["id"], r["name"]) for r in found["vpc"]] == [(ours, "tasklist-dev-vpc")]
    assert found["vpc"][0]["CidrBlock"] == "10.0.0.0/16"
    assert all(found[kind] == [] for kind in EC2_TYPES if kind != "vpc")


def test_terminated_instances_are_not_listed(ec2):
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    launched = ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2, TagSpecifications=tag_spec("instance", OURS))
    ids = [instance["InstanceId"] for instance in launched["Instances"]]
    ec2.terminate_instances(InstanceIds=ids[:1])
    found = find_tagged_resources(ec2, OURS, types=["instance"])
    assert [r["id"] for r in found["instance"]] == ids[1:]
    assert found["instance"][0]["State"] == "running"
    assert list(found) == ["instance"]


def test_types_come_back_in_teardown_order(ec2):
    assert list(find_tagged_resources(ec2, OURS)) == list(EC2_TYPES)
    order = list(RESOURCE_TYPES)
    # The load balancer holds subnets and a group, the database its subnet group: they go first.
    assert order[:5] == ["load_balancer", "target_group", "db_instance", "db_subnet_group", "instance"]
    assert order[-2:] == ["vpc", "key_pair"]
    assert order.index("db_subnet_group") < order.index("subnet")


def test_target_groups_and_databases_are_matched_by_their_tags(ec2):
    vpc = make_vpc(ec2, OURS)
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"us-east-1{zone}")
               ["Subnet"]["SubnetId"] for n, zone in ((1, "a"), (2, "b"))]
    tags = [{"Key": k, "Value": v} for k, v in OURS.items()]
    clients("elbv2").create_target_group(Name="tasklist-dev", Protocol="HTTP", Port=80, VpcId=vpc, Tags=tags)
    clients("elbv2").create_target_group(Name="other", Protocol="HTTP", Port=80, VpcId=vpc)
    rds = clients("rds")
    rds.create_db_subnet_group(DBSubnetGroupName="tasklist-dev", DBSubnetGroupDescription="x", SubnetIds=subnets,
                               Tags=tags)
    rds.create_db_subnet_group(DBSubnetGroupName="other", DBSubnetGroupDescription="x", SubnetIds=subnets)
    rds.create_db_instance(DBInstanceIdentifier="tasklist-dev-db", DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="tasks", MasterUserPassword="secret-123", AllocatedStorage=20, Tags=tags)
    rds.create_db_instance(DBInstanceIdentifier="other", DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="tasks", MasterUserPassword="secret-123", AllocatedStorage=20)
    found = find_resources(clients, ["target_group", "db_instance", "db_subnet_group"], OURS)
    assert [r["TargetGroupName"] for r in found["target_group"]] == ["tasklist-dev"]
    assert [(r["id"], r["DBInstanceClass"]) for r in found["db_instance"]] == [("tasklist-dev-db", "db.t3.micro")]
    assert [r["id"] for r in found["db_subnet_group"]] == ["tasklist-dev"]


def test_without_tags_every_resource_of_the_types_is_found(ec2):
    ours = make_vpc(ec2, OURS)
    theirs = make_vpc(ec2, {"Project": "other"})
    found = find_resources(clients, ["vpc", "key_pair"])
    assert {ours, theirs} <= {vpc["id"] for vpc in found["vpc"]}
    assert list(found) == ["vpc", "key_pair"]


def test_load_balancers_are_matched_by_the_tags_elbv2_reports(ec2):
    vpc = make_vpc(ec2, OURS)
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"us-east-1{zone}")
               ["Subnet"]["SubnetId"] for n, zone in ((1, "a"), (2, "b"))]
    elbv2 = clients("elbv2")
    ours = elbv2.create_load_balancer(Name="tasklist-dev", Subnets=subnets,
                                      Tags=[{"Key": k, "Value": v} for k, v in OURS.items()])["LoadBalancers"][0]
    elbv2.create_load_balancer(Name="other", Subnets=subnets, Tags=[{"Key": "Project", "Value": "tasklist"}])
    found = find_resources(clients, ["load_balancer"], OURS)["load_balancer"]
    assert [(r["id"], r["LoadBalancerName"], r["tags"]) for r in found] == [
        (ours["LoadBalancerArn"], "tasklist-dev", OURS)]
    assert found[0]["State"] in ("provisioning", "active")  # ELBv2 spells its state Code, not Name
    assert len(find_resources(clients, ["load_balancer"])["load_balancer"]) == 2


def test_volume_attachment_times_come_back_as_text(ec2):
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, TagSpecifications=tag_spec("volume", OURS))
    volumes = find_resources(clients, ["volume"], OURS)["volume"]
    assert volumes and isinstance(volumes[0]["Attachments"][0]["AttachTime"], str)


def test_the_calls_of_a_read_are_in_flight_together(ec2):
    """Each describe call waits 0.2 s (an AWS round trip from afar): a read of the ten types and a
    VPC's two attributes takes about two round trips, not twelve, and finds the same as one by one."""
    make_vpc(ec2, dict(OURS, Name="tasklist-dev-vpc"))
    calls = []

    def round_trip(**_):
        calls.append(1)
        time.sleep(0.2)

    ec2.meta.events.register("before-call.ec2.*", round_trip)
    start = time.monotonic()
    together = find_tagged_resources(ec2, OURS, vpc_attributes=True)
    elapsed = time.monotonic() - start
    assert len(calls) == len(EC2_TYPES) + 2
    # One after another they take 12 x 0.2 = 2.4 s at least; the margin is for a busy machine.
    assert elapsed < 1.6, f"{len(calls)} calls of 0.2 s took {elapsed:.1f} s: they ran one after another"
    assert together["vpc"][0]["EnableDnsSupport"] is True

    resources.PARALLEL_CALLS, before = 1, resources.PARALLEL_CALLS
    try:
        assert find_tagged_resources(ec2, OURS, vpc_attributes=True) == together
    finally:
        resources.PARALLEL_CALLS = before


def group(group_id, *named):
    return {"id": group_id, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1,
                                               "UserIdGroupPairs": [{"GroupId": other} for other in named]}]}


def test_security_groups_come_before_the_groups_their_rules_name():
    """The scaled chain: the database's group names the hosts', the hosts' names the load balancer's
    (and itself); AWS deletes a group only once no other group names it."""
    found = [group("sg-alb"), group("sg-hosts", "sg-alb", "sg-hosts"), group("sg-db", "sg-hosts")]
    assert [g["id"] for g in resources.in_reference_order(found)] == ["sg-db", "sg-hosts", "sg-alb"]
    cycle = [group("sg-a", "sg-b"), group("sg-b", "sg-a"), group("sg-c", "sg-a")]
    assert [g["id"] for g in resources.in_reference_order(cycle)] == ["sg-c", "sg-a", "sg-b"]


def test_a_read_lists_the_security_groups_in_reference_order(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ids = {}
    for name in ("alb", "hosts", "db"):
        ids[name] = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc, TagSpecifications=[
            {"ResourceType": "security-group", "Tags": [{"Key": "Project", "Value": "p"}]}])["GroupId"]
    for source, target in (("alb", "hosts"), ("hosts", "db")):
        ec2.authorize_security_group_ingress(GroupId=ids[target], IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": ids[source]}]}])
    found = resources.find_tagged_resources(ec2, {"Project": "p"}, types=["security_group"])
    assert [g["id"] for g in found["security_group"]] == [ids["db"], ids["hosts"], ids["alb"]]
