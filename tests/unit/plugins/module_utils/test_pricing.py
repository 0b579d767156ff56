import json

import pytest
from botocore.stub import Stubber

from ansible_collections.shipyard.ec2_compose.plugins.module_utils import pricing
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.pricing import (
    PricingError,
    estimate,
    estimate_planned,
    instance_price,
    live_instance_price,
    over_budget_message,
    planned_usage,
)

# The default stack of provision: one t3.micro, a 20 GB gp3 root volume, one public IPv4.
DEFAULT_STACK = {"instance_type": "t3.micro", "root_volume_size": 20}


def costs(result):
    return {item["resource"]: item["monthly_cost"] for item in result["items"]}


def test_t3_micro_in_us_east_1_by_hand():
    # 0.0104 USD/h x 730 h = 7.592; 20 GB x 0.08 = 1.60; public IPv4 0.005 x 730 = 3.65.
    result = estimate_planned("us-east-1", **DEFAULT_STACK)
    assert costs(result) == {"instance t3.micro": 7.59, "root volume gp3 20 GB": 1.60, "public IPv4": 3.65}
    assert result["total"] == 12.84
    assert result["adjusted_total"] == 12.84  # free_tier none by default


def test_eu_west_3_is_dearer():
    # 0.0118 x 730 = 8.614; 20 x 0.0928 = 1.856; 3.65 -> 14.12
    assert estimate_planned("eu-west-3", **DEFAULT_STACK)["total"] == 14.12


def test_legacy_free_tier_brings_a_t2_micro_stack_to_zero():
    result = estimate_planned("us-east-1", free_tier="legacy", instance_type="t2.micro", root_volume_size=20)
    assert result["adjusted_total"] == 0
    assert result["total"] == 13.72  # 0.0116 x 730 = 8.468 + 1.60 + 3.65


def test_legacy_free_tier_covers_t3_micro_only_where_t2_micro_is_not_offered():
    assert pricing.legacy_instance_type("us-east-1") == "t2.micro"
    assert pricing.legacy_instance_type("eu-north-1") == "t3.micro"  # Stockholm offers no t2.micro
    result = estimate_planned("us-east-1", free_tier="legacy", **DEFAULT_STACK)
    assert result["adjusted_total"] == 7.59  # the instance at full price; volume and address covered
    assert "the legacy free tier covers t2.micro in us-east-1, not t3.micro" in " ".join(result["notes"])


def test_legacy_free_tier_covers_only_30_gb_and_750_hours():
    # Two t2.micro: 1460 h, 750 free -> 710 h x 0.0116 = 8.236; 2 x 40 GB = 80 GB, 30 free -> 50 x 0.08 = 4;
    # two public IPv4: 1460 h, 750 free -> 710 x 0.005 = 3.55. Total 15.786.
    result = estimate_planned("us-east-1", instance_count=2, root_volume_size=40, free_tier="legacy",
                              instance_type="t2.micro")
    assert result["adjusted_total"] == pytest.approx(15.79, abs=0.01)


def test_legacy_free_tier_does_not_cover_a_small():
    result = estimate_planned("us-east-1", instance_type="t3.small", root_volume_size=20, free_tier="legacy")
    assert result["adjusted_total"] == pytest.approx(0.0208 * 730, abs=0.01)


def test_credits_pay_the_first_month_and_say_how_many_months():
    result = estimate_planned("us-east-1", free_tier="credits", credits=100, **DEFAULT_STACK)
    assert result["adjusted_total"] == 0
    assert result["credit_months"] == pytest.approx(100 / 12.84, abs=0.1)
    small_balance = estimate_planned("us-east-1", free_tier="credits", credits=10, **DEFAULT_STACK)
    assert small_balance["adjusted_total"] == 2.84


def test_credits_warn_about_types_the_free_plan_refuses():
    result = estimate_planned("us-east-1", instance_type="m5.large", free_tier="credits")
    assert any("m5.large cannot be launched on the Free plan" in note for note in result["notes"])
    assert not estimate_planned("us-east-1", instance_type="t3.micro", free_tier="credits")["notes"]


def test_every_model_is_reported():
    assert estimate_planned("us-east-1", **DEFAULT_STACK)["by_free_tier"] == {
        "legacy": 7.59, "credits": 0, "none": 12.84}


def test_nat_gateway_bills_hours_data_and_its_address():
    result = estimate_planned("us-east-1", nat_gateways=1, nat_data_gb=100, **DEFAULT_STACK)
    assert costs(result)["NAT gateway"] == 32.85  # 0.045 x 730
    assert costs(result)["NAT gateway data processed"] == 4.50  # 0.045 x 100
    assert costs(result)["public IPv4 of a NAT gateway"] == 3.65
    assert result["total"] == pytest.approx(12.84 + 32.85 + 4.50 + 3.65, abs=0.01)


def test_gp3_iops_and_throughput_above_baseline():
    # 1000 IOPS above 3000 x 0.005 = 5; 125 MB/s above 125 x 0.04 = 5.
    result = estimate_planned("us-east-1", root_volume_iops=4000, root_volume_throughput=250, **DEFAULT_STACK)
    assert costs(result)["root volume gp3 IOPS above 3000"] == 5.0
    assert costs(result)["root volume gp3 throughput above 125 MB/s"] == 5.0


def test_gp2_price():
    result = estimate_planned("us-east-1", instance_type="t3.micro", root_volume_size=20, root_volume_type="gp2")
    assert costs(result)["root volume gp2 20 GB"] == 2.0


def test_no_public_ip_when_told():
    result = estimate_planned("us-east-1", public_ipv4=0, **DEFAULT_STACK)
    assert "public IPv4" not in costs(result)


@pytest.mark.parametrize("region", pricing.REGIONS)
@pytest.mark.parametrize("instance_type", pricing.INSTANCE_TYPES)
def test_every_region_prices_every_type(region, instance_type):
    assert 0.003 < instance_price(region, instance_type) < 0.2


def test_table_is_dated_and_cites_its_sources():
    assert pricing.PRICE_TABLE_DATE
    assert {item["source"] for item in estimate_planned("us-east-1", nat_gateways=1, **DEFAULT_STACK)["items"]} \
        <= set(pricing.SOURCES.values())


@pytest.mark.parametrize(("call", "variable"), [
    (lambda: estimate_planned("sa-east-1", **DEFAULT_STACK), "region"),
    (lambda: estimate_planned("us-east-1", instance_type="t3.huge"), "instance_type"),
    (lambda: estimate_planned("us-east-1", instance_type="t3.micro", root_volume_type="io2"), "root_volume_type"),
    (lambda: estimate_planned("us-east-1", instance_count=-1, instance_type="t3.micro"), "instance_count"),
    (lambda: estimate_planned("us-east-1", instance_count="2", instance_type="t3.micro"), "instance_count"),
    (lambda: estimate_planned("us-east-1", nat_data_gb=-5, instance_type="t3.micro"), "nat_data_gb"),
    (lambda: estimate_planned("us-east-1", free_tier="student", **DEFAULT_STACK), "free_tier"),
    (lambda: estimate_planned("us-east-1", credits=-1, **DEFAULT_STACK), "free_tier_credits"),
])
def test_bad_input_names_the_variable(call, variable):
    with pytest.raises(PricingError, match=rf"^{variable}\b"):
        call()


def test_overrides_replace_the_table_price():
    result = estimate("us-east-1", planned_usage("t3.micro", root_volume_size=0, public_ipv4=0),
                      overrides={"t3.micro": 0.02}, price_source="live")
    assert result["total"] == pytest.approx(14.6)
    assert result["price_source"] == "live"


def test_over_budget_message_lists_the_line_items():
    message = over_budget_message(estimate_planned("us-east-1", **DEFAULT_STACK), 5, "monthly_budget")
    assert "12.84 USD" in message and "over monthly_budget (5 USD)" in message
    assert "instance t3.micro: 730 hour x 0.0104 = 7.59" in message


def _pricing_client():
    import boto3

    return boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def test_live_price_from_get_products():
    # The emulator has no Pricing API: botocore's Stubber plays AWS's answer (shape of a real GetProducts).
    client = _pricing_client()
    product = {"product": {"attributes": {"instanceType": "t3.micro"}},
               "terms": {"OnDemand": {"T1": {"priceDimensions": {"D1": {"unit": "Hrs",
                                                                        "pricePerUnit": {"USD": "0.0104000000"}}}}}}}
    with Stubber(client) as stub:
        stub.add_response("get_products", {"PriceList": [json.dumps(product)], "FormatVersion": "aws_v1"})
        assert live_instance_price(client, "us-east-1", "t3.micro") == 0.0104


def test_live_price_none_when_aws_has_no_product():
    client = _pricing_client()
    with Stubber(client) as stub:
        stub.add_response("get_products", {"PriceList": [], "FormatVersion": "aws_v1"})
        assert live_instance_price(client, "us-east-1", "t3.micro") is None


def test_the_load_balancer_holds_a_public_ipv4_address_in_each_of_its_two_zones():
    result = estimate_planned("us-east-1", instance_count=2, root_volume_size=20, load_balancers=1, databases=1,
                              **{"instance_type": "t3.micro"})
    addresses = [item for item in result["items"] if item["resource"] == "public IPv4 of the load balancer"]
    assert [item["monthly_cost"] for item in addresses] == [3.65, 3.65]
    assert result["total"] == 70.69  # the default scaled layout: 63.39 before the two addresses were counted
