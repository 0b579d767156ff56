"""The baseline: the same stack as playbooks/provision.yml, made by a plain boto3 script.

No idempotency, no validation, no reporting: the least work that creates the default layout
(and deletes it again), to compare the playbooks' wall time and API calls against.
"""

from __future__ import annotations

import time

import boto3
import botocore.exceptions

TAGS = {"Project": "baseline", "Environment": "bench", "ManagedBy": "boto3-baseline"}
UBUNTU = ("099720109477", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*")


def tag_spec(resource_type, name):
    tags = dict(TAGS, Name=name)
    return [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


def create(public_key: str) -> dict:
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tag_spec("vpc", "vpc"))["Vpc"]["VpcId"]
    once_known(ec2.modify_vpc_attribute, VpcId=vpc, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24",
                               TagSpecifications=tag_spec("subnet", "public"))["Subnet"]["SubnetId"]
    once_known(ec2.modify_subnet_attribute, SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    igw = ec2.create_internet_gateway(
        TagSpecifications=tag_spec("internet-gateway", "igw"))["InternetGateway"]["InternetGatewayId"]
    once_known(ec2.attach_internet_gateway, InternetGatewayId=igw, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc, TagSpecifications=tag_spec("route-table", "public"))
    table = table["RouteTable"]["RouteTableId"]
    once_known(ec2.create_route, RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    association = once_known(ec2.associate_route_table, RouteTableId=table, SubnetId=subnet)["AssociationId"]
    group = ec2.create_security_group(GroupName="baseline-web", Description="baseline", VpcId=vpc,
                                      TagSpecifications=tag_spec("security-group", "web"))["GroupId"]
    once_known(ec2.authorize_security_group_ingress, GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        for port in (80, 8000)])
    ec2.import_key_pair(KeyName="baseline", PublicKeyMaterial=public_key.encode(),
                        TagSpecifications=tag_spec("key-pair", "key"))
    images = ec2.describe_images(Owners=[UBUNTU[0]], Filters=[{"Name": "name", "Values": [UBUNTU[1]]}])["Images"]
    image = max(images, key=lambda i: i["CreationDate"])
    instance = ec2.run_instances(
        ImageId=image["ImageId"], InstanceType="t3.micro", MinCount=1, MaxCount=1, KeyName="baseline",
        NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "Groups": [group], "AssociatePublicIpAddress": True}],
        BlockDeviceMappings=[{"DeviceName": image["RootDeviceName"], "Ebs": {
            "VolumeSize": 20, "VolumeType": "gp3", "Encrypted": True, "DeleteOnTermination": True}}],
        MetadataOptions={"HttpTokens": "required", "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled"},
        TagSpecifications=tag_spec("instance", "web") + tag_spec("volume", "web"),
    )["Instances"][0]["InstanceId"]
    ec2.get_waiter("instance_running").wait(InstanceIds=[instance], WaiterConfig={"Delay": 1})
    return {"vpc": vpc, "subnet": subnet, "association": association, "igw": igw, "table": table,
            "group": group, "instance": instance}


def retried(call, until_not, **params):
    """Retry every second while AWS answers an error code that until_not accepts (the least a script
    must do): NotFound for an id created a moment ago (eventual consistency), DependencyViolation
    while a terminated instance's network interface holds its security group, subnet and address."""
    while True:
        try:
            return call(**params)
        except botocore.exceptions.ClientError as error:
            if not until_not(error.response["Error"]["Code"]):
                raise
            time.sleep(1)


def once_known(call, **params):
    return retried(call, lambda code: code.endswith(".NotFound"), **params)


def once_released(call, **params):
    return retried(call, lambda code: code == "DependencyViolation", **params)


def delete(stack: dict) -> None:
    ec2 = boto3.client("ec2")
    ec2.terminate_instances(InstanceIds=[stack["instance"]])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[stack["instance"]], WaiterConfig={"Delay": 1})
    once_released(ec2.delete_security_group, GroupId=stack["group"])
    ec2.disassociate_route_table(AssociationId=stack["association"])
    ec2.delete_route_table(RouteTableId=stack["table"])
    once_released(ec2.delete_subnet, SubnetId=stack["subnet"])
    once_released(ec2.detach_internet_gateway, InternetGatewayId=stack["igw"], VpcId=stack["vpc"])
    ec2.delete_internet_gateway(InternetGatewayId=stack["igw"])
    ec2.delete_vpc(VpcId=stack["vpc"])
    ec2.delete_key_pair(KeyName="baseline")
