"""lookup region_in_use: the region an inventory reads, resolved as amazon.aws's modules resolve it."""

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.shipyard.ec2_compose.plugins.lookup.region_in_use import LookupModule, region_in_use


@pytest.fixture
def no_region(monkeypatch, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text("[default]\n[profile shop]\nregion = eu-west-3\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    return monkeypatch


def test_aws_region_then_aws_default_region_then_the_profile(no_region):
    assert region_in_use({"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "us-west-2"}) == "ap-south-1"
    assert region_in_use({"AWS_DEFAULT_REGION": "us-west-2"}) == "us-west-2"
    no_region.setenv("AWS_PROFILE", "shop")
    assert LookupModule().run([]) == ["eu-west-3"]


def test_no_region_anywhere_says_where_to_set_one(no_region):
    assert region_in_use() is None
    with pytest.raises(AnsibleLookupError, match="set AWS_REGION"):
        LookupModule().run([])
