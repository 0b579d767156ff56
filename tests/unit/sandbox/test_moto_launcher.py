"""sandbox/moto_launcher.py's request log: the tags an EC2, ELBv2 or RDS create call asked for, by resource
type (what AWS evaluates aws:RequestTag conditions against)."""

import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sandbox"))
from moto_launcher import requested_tags


def test_tags_by_resource_type_from_a_run_instances_body():
    body = urlencode([("Action", "RunInstances"),
                      ("TagSpecification.1.ResourceType", "volume"),
                      ("TagSpecification.1.Tag.1.Key", "ManagedBy"),
                      ("TagSpecification.1.Tag.1.Value", "shipyard.ec2_compose"),
                      ("TagSpecification.2.ResourceType", "instance"),
                      ("TagSpecification.2.Tag.2.Key", "Name"),
                      ("TagSpecification.2.Tag.2.Value", "web 1"),
                      ("TagSpecification.2.Tag.1.Key", "ManagedBy"),
                      ("TagSpecification.2.Tag.1.Value", "shipyard.ec2_compose")])
    assert requested_tags(body) == {"volume": {"ManagedBy": "shipyard.ec2_compose"},
                                    "instance": {"ManagedBy": "shipyard.ec2_compose", "Name": "web 1"}}


def test_a_call_without_tag_specifications_asks_for_no_tags():
    assert requested_tags(urlencode({"Action": "CreateRouteTable", "VpcId": "vpc-1"})) == {}


def serialized(service, operation, **params):
    """The body botocore sends for a query-protocol call."""
    import botocore.serialize
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    request = botocore.serialize.create_serializer("query").serialize_to_request(
        params, model.operation_model(operation))
    return urlencode(request["body"])


def test_the_tags_of_load_balancer_and_database_calls_are_logged_by_resource_type():
    tags = [{"Key": "ManagedBy", "Value": "shipyard.ec2_compose"}, {"Key": "Project", "Value": "tasklist"}]
    wanted = {"ManagedBy": "shipyard.ec2_compose", "Project": "tasklist"}
    balancer = serialized("elbv2", "CreateLoadBalancer", Name="web", Subnets=["subnet-1", "subnet-2"], Tags=tags)
    assert requested_tags(balancer, "loadbalancer") == {"loadbalancer": wanted}
    database = serialized("rds", "CreateDBInstance", DBInstanceIdentifier="db", DBInstanceClass="db.t3.micro",
                          Engine="postgres", Tags=tags)
    assert requested_tags(database, "db") == {"db": wanted}
    assert requested_tags(serialized("elbv2", "CreateTargetGroup", Name="web"), "targetgroup") == {}


@pytest.fixture
def patched_ec2(monkeypatch):
    """An EC2 client of moto in this process, with the launcher's fixes applied."""
    import boto3
    from moto import mock_aws
    from moto_launcher import patch_moto

    patch_moto()  # fixes only: harmless to the other tests that use moto in this process
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("ec2", region_name="us-east-1")


def test_modify_instance_metadata_options_keeps_what_the_call_leaves_out(patched_ec2):
    ec2 = patched_ec2
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, MetadataOptions={
        "HttpTokens": "required", "HttpPutResponseHopLimit": 2})["Instances"][0]["InstanceId"]
    ec2.modify_instance_metadata_options(InstanceId=instance, HttpTokens="optional")
    options = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["MetadataOptions"]
    assert options["HttpTokens"] == "optional"
    assert (options["HttpPutResponseHopLimit"], options["HttpEndpoint"]) == (2, "enabled")
    assert (options["HttpProtocolIpv6"], options["InstanceMetadataTags"]) == ("disabled", "disabled")


def test_an_elastic_ip_stays_through_a_stop_and_a_start_and_its_tags_are_an_elastic_ip_s(patched_ec2):
    ec2 = patched_ec2
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, NetworkInterfaces=[{
        "DeviceIndex": 0, "SubnetId": subnet, "AssociatePublicIpAddress": True}])["Instances"][0]["InstanceId"]
    address = ec2.allocate_address(Domain="vpc", TagSpecifications=[
        {"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "web"}]}])
    ec2.associate_address(AllocationId=address["AllocationId"], InstanceId=instance)

    def public_ip():
        return ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0].get(
            "PublicIpAddress")

    assert public_ip() == address["PublicIp"]
    ec2.stop_instances(InstanceIds=[instance])
    assert public_ip() == address["PublicIp"]
    ec2.start_instances(InstanceIds=[instance])
    assert public_ip() == address["PublicIp"]
    # DescribeTags names the type as AWS does, so a module that filters by it finds the tags.
    tags = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["elastic-ip"]}])["Tags"]
    assert [(t["ResourceId"], t["Key"]) for t in tags] == [(address["AllocationId"], "Name")]
