import pytest

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.tagging import (
    MANAGED_BY,
    TagError,
    identity_tags,
    missing_tags,
    standard_tags,
    tag_filters,
    validate_tags,
)


def test_standard_tags_builds_the_whole_set():
    assert standard_tags("tasklist", "dev", "alice", name="vpc", extra={"CostCenter": "42"}) == {
        "Project": "tasklist", "Environment": "dev", "ManagedBy": MANAGED_BY, "Owner": "alice",
        "Name": "tasklist-dev-vpc", "CostCenter": "42",
    }


def test_name_without_suffix_is_project_and_environment():
    assert standard_tags("tasklist", "dev", "alice")["Name"] == "tasklist-dev"


@pytest.mark.parametrize("key", ["Project", "Name", "ManagedBy"])
def test_extra_tags_cannot_override_a_standard_tag(key):
    with pytest.raises(TagError, match=key):
        standard_tags("tasklist", "dev", "alice", extra={key: "mine"})


@pytest.mark.parametrize(("project", "environment", "variable"),
                         [("", "dev", "project_name"), ("tasklist", " ", "environment_name"),
                          (None, "dev", "project_name")])
def test_identity_needs_project_and_environment(project, environment, variable):
    with pytest.raises(TagError, match=variable):
        identity_tags(project, environment)


def test_identity_tags_are_the_three_selecting_tags():
    assert identity_tags("tasklist", "dev") == {"Project": "tasklist", "Environment": "dev", "ManagedBy": MANAGED_BY}


def test_tag_filters_use_the_describe_filter_form():
    assert tag_filters({"Project": "tasklist", "Environment": "dev"}) == {
        "tag:Project": "tasklist", "tag:Environment": "dev"}


@pytest.mark.parametrize(("tags", "message"), [
    ({f"k{i}": "v" for i in range(51)}, "at most 50"),
    ({"k" * 129: "v"}, "at most 128"),
    ({"key": "v" * 257}, "at most 256"),
    ({"aws:created": "v"}, "reserved"),
    ({"AWS:Created": "v"}, "reserved"),
    ({"bad#key": "v"}, "allowed are"),
    ({"key": "semi;colon"}, "allowed are"),
    ({"key": 5}, "must be a string"),
    ({"": "v"}, "non-empty"),
    (["Project"], "dictionary"),
])
def test_validate_tags_refuses_what_aws_refuses(tags, message):
    with pytest.raises(TagError, match=message):
        validate_tags(tags)


@pytest.mark.parametrize("tags", [
    {f"k{i}": "v" for i in range(50)},
    {"k" * 128: "v" * 256},
    {"Team": "a b+c-d=e.f_g:h/i@j"},
    {"Name": ""},
    {"Näme": "café"},
])
def test_validate_tags_accepts_what_aws_accepts(tags):
    assert validate_tags(tags) == tags


def test_missing_tags_names_each_resource_and_what_it_lacks():
    resources = [
        {"type": "vpc", "id": "vpc-1", "tags": standard_tags("tasklist", "dev", "alice", name="vpc")},
        {"type": "subnet", "id": "subnet-1", "tags": {"Project": "tasklist", "Environment": "dev", "Name": "x"}},
        {"type": "key_pair", "id": "key-1"},
    ]
    report = missing_tags(resources)
    assert [(r["id"], r["missing"]) for r in report] == [
        ("subnet-1", ["ManagedBy", "Owner"]),
        ("key-1", ["Project", "Environment", "ManagedBy", "Owner", "Name"]),
    ]
    assert missing_tags(resources, required=["Project"]) == [
        dict(resources[2], missing=["Project"], line="key_pair key-1 : missing Project")]
    assert report[0]["line"] == "subnet subnet-1 : missing ManagedBy, Owner"
