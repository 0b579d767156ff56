"""Helpers of the tests that drive the sandbox's cloud with plain boto3 calls: hosts, groups, waits."""

import subprocess
import time

from botocore.exceptions import ClientError


def docker(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60, check=False)


def wait_until(check, seconds=90):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {check.__doc__}"
        time.sleep(1)


def debian_image(ec2):
    return ec2.describe_images(Owners=["136693071363"],
                               Filters=[{"Name": "name", "Values": ["debian-13-amd64-*"]}])["Images"][0]["ImageId"]


def security_group(ec2, name, *permissions):
    group_id = ec2.create_security_group(GroupName=name, Description=name)["GroupId"]
    deadline = time.monotonic() + 30
    while permissions:  # AWS may not know the group a moment after its creation (eventual consistency)
        try:
            ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=list(permissions))
            break
        except ClientError as error:
            if error.response["Error"]["Code"] != "InvalidGroup.NotFound" or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    return group_id


def tcp(port, cidr=None, group=None):
    sources = {"IpRanges": [{"CidrIp": cidr}]} if cidr else {"UserIdGroupPairs": [{"GroupId": group}]}
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **sources}
