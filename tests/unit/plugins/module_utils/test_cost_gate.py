import pytest

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.cost_gate import ARGUMENT_SPEC, verdict


def params(**given):
    """The options as the module or the action plugin hands them over: every one, defaults filled in."""
    return {name: given.get(name, spec.get("default")) for name, spec in ARGUMENT_SPEC.items()}


def test_within_the_budget_passes_with_the_summary():
    answer = verdict(params(instance_type="t3.micro", root_volume_size=20, budget=25, budget_name="monthly_budget"),
                     "us-east-1")
    assert answer.failure is None and answer.warnings == []
    assert answer.result["total"] == 12.84 and answer.result["over_budget"] is False
    assert answer.result["summary"].endswith("monthly_budget 25 USD: within")


def test_over_the_budget_fails_with_the_line_items_or_warns_when_told():
    over = verdict(params(instance_type="t3.micro", budget=5, budget_name="monthly_budget"), "us-east-1")
    assert over.failure.startswith("Estimated monthly cost 11.88 USD") and "over monthly_budget (5 USD)" in over.failure
    assert "instance t3.micro: 730 hour x 0.0104 = 7.59" in over.failure
    assert over.result["over_budget"] is True and over.result["items"]
    warned = verdict(params(instance_type="t3.micro", budget=5, warn_only=True), "us-east-1")
    assert warned.failure is None and warned.warnings == [over.failure.replace("monthly_budget", "budget")]


def test_an_unpriced_region_warns_naming_the_variables_or_fails_when_told():
    answer = verdict(params(instance_type="t3.micro", budget=25, budget_name="monthly_budget"), "ap-east-2")
    assert answer.failure is None and answer.result["priced"] is False
    assert "The cost gate (monthly_budget 25 USD) is skipped" in answer.warnings[0]
    assert "live_prices" in answer.warnings[0]
    refused = verdict(params(instance_type="t3.micro", budget=25, on_unpriced="fail"), "ap-east-2")
    assert "region 'ap-east-2' has no prices" in refused.failure and "set live_prices" in refused.failure


@pytest.mark.parametrize(("given", "region", "message"), [
    ({"budget": -1}, "us-east-1", "budget must be a number of USD >= 0 (0: no gate), got -1"),
    ({}, None, "No region: set the region option"),
])
def test_bad_input_is_named(given, region, message):
    answer = verdict(params(instance_type="t3.micro", **given), region)
    assert answer.failure.startswith(message)


def test_overrides_are_the_live_price_source():
    answer = verdict(params(instance_type="t3.micro"), "us-east-1", overrides={"t3.micro": 0.02})
    assert answer.result["price_source"] == "live" and answer.result["total"] == round(0.02 * 730 + 0.64 + 3.65, 2)
