"""sandbox/aws_rules.py: moto refuses, as AWS does, deletes whose dependents live or linger."""

import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sandbox"))
import aws_rules

LINGER = 1.5


@pytest.fixture
def ec2(monkeypatch, request):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    undo = aws_rules.install(linger_seconds=getattr(request, "param", LINGER))
    try:
        with mock_aws():
            yield boto3.client("ec2", region_name="us-east-1")
    finally:
        undo()


@pytest.fixture
def stack(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, NetworkInterfaces=[
        {"DeviceIndex": 0, "SubnetId": subnet, "Groups": [group], "AssociatePublicIpAddress": True}])
    return {"vpc": vpc, "subnet": subnet, "igw": igw, "group": group,
            "instance": instance["Instances"][0]["InstanceId"]}


def refused(call, **params):
    with pytest.raises(ClientError) as error:
        call(**params)
    assert error.value.response["Error"]["Code"] == "DependencyViolation"
    return error.value.response["Error"]["Message"]


def test_what_a_live_instance_uses_cannot_be_deleted(ec2, stack):
    assert refused(ec2.delete_security_group, GroupId=stack["group"]) == \
        f"resource {stack['group']} has a dependent object"
    assert "has dependencies and cannot be deleted" in refused(ec2.delete_subnet, SubnetId=stack["subnet"])
    assert "has some mapped public address(es)" in refused(
        ec2.detach_internet_gateway, InternetGatewayId=stack["igw"], VpcId=stack["vpc"])


def test_a_terminated_instance_holds_them_for_a_while_then_lets_go(ec2, stack):
    ec2.terminate_instances(InstanceIds=[stack["instance"]])
    refused(ec2.delete_security_group, GroupId=stack["group"])
    refused(ec2.delete_subnet, SubnetId=stack["subnet"])
    refused(ec2.detach_internet_gateway, InternetGatewayId=stack["igw"], VpcId=stack["vpc"])
    refused(ec2.delete_vpc, VpcId=stack["vpc"])  # its internet gateway is still attached
    time.sleep(LINGER + 0.2)
    ec2.delete_security_group(GroupId=stack["group"])
    ec2.delete_subnet(SubnetId=stack["subnet"])
    ec2.detach_internet_gateway(InternetGatewayId=stack["igw"], VpcId=stack["vpc"])
    ec2.delete_internet_gateway(InternetGatewayId=stack["igw"])
    ec2.delete_vpc(VpcId=stack["vpc"])
    assert ec2.describe_vpcs(VpcIds=[])["Vpcs"] == [v for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"]]


@pytest.mark.parametrize("ec2", [0], indirect=True)
def test_lingering_can_be_turned_off(ec2, stack):
    ec2.terminate_instances(InstanceIds=[stack["instance"]])
    ec2.delete_security_group(GroupId=stack["group"])
    ec2.delete_subnet(SubnetId=stack["subnet"])
