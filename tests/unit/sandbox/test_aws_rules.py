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


@pytest.mark.parametrize("ec2", [0], indirect=True)
def test_an_instance_tagged_with_its_own_lingering_lingers_that_long(ec2, stack):
    ec2.create_tags(Resources=[stack["instance"]], Tags=[{"Key": "SandboxLingerSeconds", "Value": str(LINGER)}])
    ec2.terminate_instances(InstanceIds=[stack["instance"]])
    refused(ec2.delete_security_group, GroupId=stack["group"])
    time.sleep(LINGER + 0.2)
    ec2.delete_security_group(GroupId=stack["group"])


@pytest.fixture
def two_zones(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{n}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for n, zone in enumerate(("us-east-1a", "us-east-1a", "us-east-1b"))]
    group = ec2.create_security_group(GroupName="lb", Description="lb", VpcId=vpc)["GroupId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    return {"vpc": vpc, "a1": subnets[0], "a2": subnets[1], "b": subnets[2], "group": group, "igw": igw}


def error_of(call, **params):
    with pytest.raises(ClientError) as error:
        call(**params)
    return error.value.response["Error"]["Code"], error.value.response["Error"]["Message"]


def test_a_load_balancer_needs_two_zones_and_holds_its_subnets_and_group(ec2, two_zones):
    elb = boto3.client("elbv2", region_name="us-east-1")
    assert error_of(elb.create_load_balancer, Name="one", Subnets=[two_zones["a1"]]) == (
        "ValidationError", "At least two subnets in two different Availability Zones must be specified")
    assert "multiple subnets in the same Availability Zone" in error_of(
        elb.create_load_balancer, Name="same", Subnets=[two_zones["a1"], two_zones["a2"]])[1]
    arn = elb.create_load_balancer(Name="two", Subnets=[two_zones["a1"], two_zones["b"]],
                                   SecurityGroups=[two_zones["group"]])["LoadBalancers"][0]["LoadBalancerArn"]
    refused(ec2.delete_security_group, GroupId=two_zones["group"])
    refused(ec2.delete_subnet, SubnetId=two_zones["b"])
    refused(ec2.detach_internet_gateway, InternetGatewayId=two_zones["igw"], VpcId=two_zones["vpc"])
    ec2.delete_subnet(SubnetId=two_zones["a2"])  # not the load balancer's
    elb.delete_load_balancer(LoadBalancerArn=arn)
    refused(ec2.delete_security_group, GroupId=two_zones["group"])  # its interfaces linger
    time.sleep(LINGER + 0.2)
    ec2.delete_security_group(GroupId=two_zones["group"])
    ec2.delete_subnet(SubnetId=two_zones["b"])


def test_a_db_subnet_group_needs_two_zones_and_a_database_holds_it(ec2, two_zones):
    rds = boto3.client("rds", region_name="us-east-1")
    code, message = error_of(rds.create_db_subnet_group, DBSubnetGroupName="one", DBSubnetGroupDescription="d",
                             SubnetIds=[two_zones["a1"], two_zones["a2"]])
    assert code == "DBSubnetGroupDoesNotCoverEnoughAZs" and "Current AZ coverage: us-east-1a." in message
    rds.create_db_subnet_group(DBSubnetGroupName="two", DBSubnetGroupDescription="d",
                               SubnetIds=[two_zones["a1"], two_zones["b"]])
    rds.modify_db_subnet_group(DBSubnetGroupName="two", SubnetIds=[two_zones["a2"], two_zones["b"]])
    assert rds.describe_db_subnet_groups(DBSubnetGroupName="two")["DBSubnetGroups"]  # moto lost it on a modify
    rds.create_db_instance(DBInstanceIdentifier="db", DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="app", MasterUserPassword="secret-password", AllocatedStorage=20,
                           DBSubnetGroupName="two", VpcSecurityGroupIds=[two_zones["group"]])
    assert error_of(rds.delete_db_subnet_group, DBSubnetGroupName="two")[0] == "InvalidDBSubnetGroupStateFault"
    refused(ec2.delete_security_group, GroupId=two_zones["group"])
    refused(ec2.delete_subnet, SubnetId=two_zones["a2"])
    rds.delete_db_instance(DBInstanceIdentifier="db", SkipFinalSnapshot=True)
    rds.delete_db_subnet_group(DBSubnetGroupName="two")
    refused(ec2.delete_subnet, SubnetId=two_zones["a2"])  # its interface lingers
    time.sleep(LINGER + 0.2)
    ec2.delete_subnet(SubnetId=two_zones["a2"])
    ec2.delete_security_group(GroupId=two_zones["group"])


def test_a_group_that_another_group_names_cannot_be_deleted_until_the_rule_goes(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    hosts = ec2.create_security_group(GroupName="hosts", Description="hosts", VpcId=vpc)["GroupId"]
    database = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    rule = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": hosts}]}
    ec2.authorize_security_group_ingress(GroupId=database, IpPermissions=[rule])
    ec2.authorize_security_group_ingress(GroupId=hosts, IpPermissions=[  # naming itself does not hold it
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [{"GroupId": hosts}]}])
    assert refused(ec2.delete_security_group, GroupId=hosts) == f"resource {hosts} has a dependent object"
    ec2.revoke_security_group_ingress(GroupId=database, IpPermissions=[rule])
    ec2.delete_security_group(GroupId=hosts)
    ec2.delete_security_group(GroupId=database)
