import pytest

from ansible_collections.shipyard.ec2_compose.plugins.test.regions import TestModule as RegionTests

aws_region = RegionTests().tests()["aws_region"]


@pytest.mark.parametrize("name", ["us-east-1", "eu-west-3", "sa-east-1", "ap-southeast-7", "cn-north-1",
                                  "us-gov-west-1"])
def test_regions_with_ec2_are_known(name):
    assert aws_region(name)


@pytest.mark.parametrize("name", ["us-east-7", "US-EAST-1", "eu-west", "", None, 1, "us-east-1 "])
def test_anything_else_is_not_a_region(name):
    assert not aws_region(name)
