"""module_utils/placement.py: the zones chosen before anything is created."""

import pytest

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.placement import (
    PlacementError,
    choose_zones,
    usable_zones,
)

REGION = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"]
T3 = {"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"}  # AWS's offerings: none in 1e


def test_usable_zones_offer_the_type_and_the_db_class():
    assert usable_zones(REGION, T3) == ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"]
    assert usable_zones(REGION, T3, {"us-east-1c", "us-east-1e", "us-east-1f"}) == ["us-east-1c", "us-east-1f"]


def test_without_names_existing_subnets_keep_their_zones_then_the_first_by_name():
    usable = usable_zones(REGION, T3)
    assert choose_zones(usable, 1) == ["us-east-1a"]
    assert choose_zones(usable, 2, kept=["us-east-1d"]) == ["us-east-1d", "us-east-1a"]
    assert choose_zones(usable, 2, named=["us-east-1f", ""], kept=["us-east-1f"]) == ["us-east-1f", "us-east-1a"]


def test_a_named_zone_that_does_not_offer_the_type_is_refused_naming_the_setting_and_the_zones_that_do():
    with pytest.raises(PlacementError) as error:
        choose_zones(usable_zones(REGION, T3), 1, named=["us-east-1e"], instance_type="t3.micro")
    assert str(error.value) == ("availability_zone: us-east-1e does not offer instance_type t3.micro; zones that do: "
                                "us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f")


def test_a_subnet_already_in_a_zone_without_the_type_cannot_move():
    stuck = r"subnets are in us-east-1e, which does not offer instance_type t4g\.micro"
    with pytest.raises(PlacementError, match=stuck):
        choose_zones(usable_zones(REGION, T3), 1, kept=["us-east-1e"], instance_type="t4g.micro")


def test_two_zones_wanted_where_one_offers_both():
    usable = usable_zones(REGION, T3, {"us-east-1b", "us-east-1e"})
    with pytest.raises(PlacementError) as error:
        choose_zones(usable, 2, instance_type="t3.micro", db_class="db.t3.micro", setting="availability_zones")
    assert str(error.value) == ("instance_type t3.micro and database_instance_class db.t3.micro needs 2 zones that "
                                "offer it; this region has 1: us-east-1b")
