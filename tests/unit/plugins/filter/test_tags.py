import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.shipyard.ec2_compose.plugins.filter.tags import FilterModule

FILTERS = FilterModule().filters()
IDENTITY = {"project": "tasklist", "environment": "dev", "owner": "alice", "extra_tags": {"Team": "web"}}


def test_standard_tags_filter_takes_the_identity_and_its_extra_tags():
    tags = FILTERS["standard_tags"](IDENTITY, name="web")
    assert tags["Name"] == "tasklist-dev-web" and tags["Team"] == "web" and tags["Owner"] == "alice"


def test_explicit_extra_replaces_the_identity_extra_tags():
    tags = FILTERS["standard_tags"](IDENTITY, name="web", extra={"LoginUser": "ubuntu"})
    assert tags["LoginUser"] == "ubuntu" and "Team" not in tags


def test_identity_filters_select_project_environment_and_manager():
    assert FILTERS["identity_filters"](IDENTITY) == {
        "tag:Project": "tasklist", "tag:Environment": "dev", "tag:ManagedBy": "shipyard.ec2_compose"}


@pytest.mark.parametrize("name", ["standard_tags", "identity_tags", "identity_filters"])
def test_bad_identity_is_a_filter_error_naming_the_variable(name):
    with pytest.raises(AnsibleFilterError, match="project_name"):
        FILTERS[name](dict(IDENTITY, project=""))


def test_validate_tags_filter_passes_good_tags_through():
    assert FILTERS["validate_tags"]({"Team": "web"}) == {"Team": "web"}


@pytest.mark.parametrize("tags", [{"aws:team": "web"}, {"Team": "x" * 257}, {f"k{i}": "v" for i in range(51)}])
def test_validate_tags_filter_refuses_what_aws_refuses(tags):
    with pytest.raises(AnsibleFilterError):
        FILTERS["validate_tags"](tags)


def test_tag_filters_filter():
    assert FILTERS["tag_filters"]({"Name": "tasklist-dev-web"}) == {"tag:Name": "tasklist-dev-web"}
    with pytest.raises(AnsibleFilterError, match="reserved"):
        FILTERS["tag_filters"]({"aws:x": "y"})
