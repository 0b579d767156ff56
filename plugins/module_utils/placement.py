"""Where the hosts (and, scaled, the database) can go: the zones of a region that offer what we launch.

Pure functions, read by the placement_info module. AWS places a subnet created without a zone in
any zone of the region, and not every zone offers every instance type (us-east-1e offers no t3 at
all) nor every DB class: RunInstances then answers Unsupported, after the subnet exists. So the
zones are chosen before anything is created: the zones the user named if they all work, else the
zones of subnets that exist already (a subnet cannot move), then the others by name.
"""

from __future__ import annotations


class PlacementError(Exception):
    """A zone cannot be used, or too few zones can: the message names the setting to change."""


def usable_zones(region_zones, type_zones, db_zones=None):
    """The region's zones (in its order) that offer the instance type and, when given, the DB class."""
    return [zone for zone in region_zones
            if zone in type_zones and (db_zones is None or zone in db_zones)]


def _what(instance_type, db_class):
    return f"instance_type {instance_type}" + (f" and database_instance_class {db_class}" if db_class else "")


def choose_zones(usable, wanted, *, named=(), kept=(), instance_type="", db_class="", setting="availability_zone"):
    """The `wanted` zones to use, in order (the first holds the single layout's subnet and host).

    named: the zones the user asked for (setting names them in messages); kept: the zones of the
    environment's existing subnets, which cannot move.
    """
    what = _what(instance_type, db_class)
    named = [zone for zone in named if zone]
    bad = [zone for zone in named if zone not in usable]
    if bad:
        raise PlacementError(f"{setting}: {', '.join(bad)} does not offer {what}; zones that do: "
                             f"{', '.join(usable) or 'none in this region'}")
    stuck = [zone for zone in kept if zone and zone not in usable]
    if stuck:
        raise PlacementError(f"this environment's subnets are in {', '.join(stuck)}, which does not offer {what}, "
                             "and a subnet cannot move: choose another instance_type (zones offering it are listed "
                             "by `aws ec2 describe-instance-type-offerings --location-type availability-zone`), "
                             "or tear the environment down and provision it again")
    chosen = []
    for zone in [*named, *kept, *usable]:
        if zone and zone not in chosen:
            chosen.append(zone)
    if len(chosen) < wanted:
        raise PlacementError(f"{what} needs {wanted} zones that offer it; this region has "
                             f"{len(chosen)}: {', '.join(chosen) or 'none'}")
    return chosen[:wanted]
