"""Pricing and ordering of found resources (the scan itself runs against the emulator in
tests/integration/test_cost.py)."""

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.billable import carries, price, sort_by_cost


def resource(region, resource_type, usage, tags=None, resource_id="r-1"):
    return {"region": region, "type": resource_type, "id": resource_id, "tags": tags or {}, "usage": usage}


def test_instance_priced_with_its_volume_and_address():
    found = resource("us-east-1", "instance", [
        {"kind": "instance", "instance_type": "t3.micro", "hours": 730},
        {"kind": "public_ipv4", "hours": 730},
        {"kind": "volume", "name": "volume vol-1", "volume_type": "gp3", "size": 20}])
    assert price(found)["monthly_cost"] == 12.84


def test_stopped_instance_still_bills_its_volume():
    found = resource("us-east-1", "instance", [{"kind": "volume", "volume_type": "gp2", "size": 10}])
    assert price(found)["monthly_cost"] == 1.0


def test_unpriced_region_is_reported_not_guessed():
    priced = price(resource("sa-east-1", "elastic_ip", [{"kind": "public_ipv4", "hours": 730}]))
    # Public IPv4 costs the same in every region; other prices of a region the table lacks are not guessed.
    assert priced["monthly_cost"] == 3.65
    snapshot = price(resource("sa-east-1", "snapshot", [{"kind": "snapshot", "size": 8}]))
    assert snapshot["monthly_cost"] is None and "sa-east-1" in snapshot["price_note"]


def test_sorted_dearest_first_unpriced_last():
    items = [dict(resource("us-east-1", "volume", [], resource_id="a"), monthly_cost=1.0),
             dict(resource("us-east-1", "snapshot", [], resource_id="b"), monthly_cost=None),
             dict(resource("eu-west-3", "instance", [], resource_id="c"), monthly_cost=14.12)]
    assert [r["id"] for r in sort_by_cost(items)] == ["c", "a", "b"]


def test_carries_needs_every_tag():
    found = resource("us-east-1", "volume", [], tags={"Project": "tasklist", "Environment": "dev"})
    assert carries(found, {"Project": "tasklist"})
    assert not carries(found, {"Project": "tasklist", "Environment": "prod"})
