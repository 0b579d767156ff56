from ansible_collections.shipyard.ec2_compose.plugins.filter.resources import plan_line


def test_plan_line_aligns_type_id_and_name():
    line = plan_line({"type": "vpc", "id": "vpc-0123", "name": "tasklist-dev-vpc", "tags": {}})
    assert line.split() == ["vpc", "vpc-0123", "tasklist-dev-vpc"]
    assert line.index("vpc-0123") == 18


def test_plan_line_without_name_has_no_trailing_space():
    assert plan_line({"type": "key_pair", "id": "key-1"}).endswith("key-1")
