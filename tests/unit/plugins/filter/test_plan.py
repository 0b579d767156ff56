import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.shipyard.ec2_compose.plugins.filter.plan import change_line, hosts_plan, resource_plan


def test_change_line_aligns_action_type_and_name_then_the_changes():
    line = change_line({"action": "update", "type": "security_group", "name": "tasklist-dev-web",
                        "changes": ["rule tcp 22 from 203.0.113.7/32: add", "tag Owner: remove"]})
    assert line == "update  security_group    tasklist-dev-web: rule tcp 22 from 203.0.113.7/32: add; tag Owner: remove"


def test_change_line_of_a_kept_resource_has_no_colon():
    assert change_line({"action": "keep", "type": "vpc", "name": "tasklist-dev-vpc", "changes": []}).endswith("-vpc")


def test_nothing_read_is_apply_and_a_bad_kind_is_a_filter_error():
    assert resource_plan(None, "vpc", {"tags": {"Name": "x"}})["action"] == "apply"
    with pytest.raises(AnsibleFilterError, match="resource_plan\\('bucket'\\): kind must be one of"):
        resource_plan({"vpc": []}, "bucket", {"tags": {"Name": "x"}})
    with pytest.raises(AnsibleFilterError, match="resource_plan\\('vpc'\\)"):
        resource_plan({"vpc": []}, "vpc", {"cidr_block": "10.0.0.0/16"})  # no tags: no Name to match


def test_hosts_plan_read_nothing_and_a_host_without_a_name_is_a_filter_error():
    assert hosts_plan(None, {"tags": {"Name": "x-web"}})["hosts"][0]["action"] == "apply"
    with pytest.raises(AnsibleFilterError, match="hosts_plan: 'tags'"):
        hosts_plan({"instance": []}, {"instance_type": "t3.micro"}, 2, ["subnet-a"])
