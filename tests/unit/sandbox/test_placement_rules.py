"""sandbox/placement_rules.py: moto places subnets and refuses launches as AWS may."""

import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sandbox"))
import placement_rules


def cloud(monkeypatch, **settings):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return placement_rules.install(**settings)


@pytest.fixture
def ec2(monkeypatch, request):
    undo = cloud(monkeypatch, **getattr(request, "param", {}))
    try:
        with mock_aws():
            yield boto3.client("ec2", region_name="us-east-1")
    finally:
        undo()


def subnet(ec2, zone=None):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    params = {"AvailabilityZone": zone} if zone else {}
    return ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", **params)["Subnet"]


def image(ec2, architecture):
    return next(i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"]
                if i["Architecture"] == architecture)


def launch(ec2, subnet_id, instance_type, architecture="x86_64"):
    return ec2.run_instances(ImageId=image(ec2, architecture), MinCount=1, MaxCount=1, InstanceType=instance_type,
                             SubnetId=subnet_id)["Instances"][0]


def refusal(call, *args):
    with pytest.raises(ClientError) as error:
        call(*args)
    return error.value.response["Error"]["Code"], error.value.response["Error"]["Message"]


def test_a_subnet_without_a_zone_lands_in_the_worst_zone_of_the_region(ec2):
    assert subnet(ec2)["AvailabilityZone"] == "us-east-1e"  # 68 types offered, no t3
    assert subnet(ec2, "us-east-1b")["AvailabilityZone"] == "us-east-1b"


@pytest.mark.parametrize("ec2", [{"default_zone": "us-east-1c"}], indirect=True)
def test_the_default_zone_can_be_pinned(ec2):
    assert subnet(ec2)["AvailabilityZone"] == "us-east-1c"


def test_a_type_not_offered_in_the_zone_is_unsupported_naming_the_zones_that_offer_it(ec2):
    code, message = refusal(launch, ec2, subnet(ec2)["SubnetId"], "t3.micro")
    assert code == "Unsupported"
    assert message.startswith("Your requested instance type (t3.micro) is not supported in your requested "
                              "Availability Zone (us-east-1e).")
    assert message.endswith("choosing us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f.")
    assert launch(ec2, subnet(ec2, "us-east-1a")["SubnetId"], "t3.micro")["Placement"]["AvailabilityZone"] == \
        "us-east-1a"
    assert launch(ec2, subnet(ec2)["SubnetId"], "t2.micro")  # offered in us-east-1e


def test_an_image_of_another_architecture_is_refused(ec2):
    zone_a = subnet(ec2, "us-east-1a")["SubnetId"]
    code, message = refusal(launch, ec2, zone_a, "t4g.micro", "x86_64")
    assert code == "InvalidParameterValue"
    assert message.startswith("The architecture 'arm64' of the specified instance type does not match the "
                              "architecture 'x86_64' of the specified AMI.")
    assert launch(ec2, zone_a, "t4g.micro", "arm64")


@pytest.mark.parametrize("ec2", [{"checks": False}], indirect=True)
def test_switched_off_the_launches_go_through_as_in_moto(ec2):
    assert launch(ec2, subnet(ec2)["SubnetId"], "t3.micro")
    assert launch(ec2, subnet(ec2, "us-east-1a")["SubnetId"], "t4g.micro", "x86_64")


def test_postgres_classes_are_offered_where_their_instance_type_is(monkeypatch):
    undo = cloud(monkeypatch)
    try:
        with mock_aws():
            rds = boto3.client("rds", region_name="us-east-1")
            pages = rds.get_paginator("describe_orderable_db_instance_options").paginate(Engine="postgres")
            options = {o["DBInstanceClass"]: o for page in pages for o in page["OrderableDBInstanceOptions"]}
    finally:
        undo()
    zones = [zone["Name"] for zone in options["db.t3.micro"]["AvailabilityZones"]]
    assert zones == ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"]
    assert "db.t4g.micro" in options and "db.c5.large" not in options  # no RDS class of the c family
