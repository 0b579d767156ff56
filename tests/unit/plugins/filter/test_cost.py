import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.shipyard.ec2_compose.plugins.filter.cost import FilterModule

FILTERS = FilterModule().filters()
monthly_cost = FILTERS["monthly_cost"]
cost_line = FILTERS["cost_line"]


def test_monthly_cost_of_the_default_stack():
    result = monthly_cost({"region": "us-east-1", "instance_type": "t3.micro", "root_volume_size": 20})
    assert result["total"] == 12.84
    assert result["by_free_tier"]["legacy"] == 7.59  # the legacy offer covers t2.micro in us-east-1, not t3.micro
    assert monthly_cost({"region": "us-east-1", "instance_type": "t2.micro"})["by_free_tier"]["legacy"] == 0


def test_monthly_cost_applies_the_free_tier_asked_for():
    stack = {"region": "eu-west-3", "instance_type": "t2.micro", "root_volume_size": 20}
    assert monthly_cost(stack, free_tier="legacy")["adjusted_total"] == 0
    stack["instance_type"] = "t3.micro"
    assert monthly_cost(stack, free_tier="none")["adjusted_total"] == 14.12


@pytest.mark.parametrize(("stack", "message"), [
    ({"instance_type": "t3.micro"}, "region and instance_type"),
    ("t3.micro", "region and instance_type"),
    ({"region": "us-east-1", "instance_type": "t3.micro", "disk": 20}, "disk"),
    ({"region": "us-east-1", "instance_type": "x9.huge"}, "instance_type 'x9.huge'"),
    ({"region": "mars-1", "instance_type": "t3.micro"}, "region 'mars-1'"),
])
def test_monthly_cost_refuses_what_it_cannot_price(stack, message):
    with pytest.raises(AnsibleFilterError, match=message):
        monthly_cost(stack)


def test_cost_line():
    item = monthly_cost({"region": "us-east-1", "instance_type": "t3.micro"})["items"][0]
    assert cost_line(item) == "instance t3.micro: 730 hour x 0.0104 = 7.59"
