# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Monthly cost of a stack: a dated price table, the free-tier models, and one estimator.

Used by the monthly_cost filter, the cost_check module (the gate before provision) and the
leftovers module (what still costs money). All prices are USD, on-demand, Linux, shared tenancy,
before tax; a month is 730 hours (AWS's own convention in its calculator).

The table is transcribed by hand from AWS's public price pages (SOURCES) on PRICE_TABLE_DATE.
Prices change: `live_instance_price` asks the AWS Pricing API (GetProducts) for the instance
price when it is reachable, and the callers fall back to the table with a warning.
"""

from __future__ import annotations

import json

PRICE_TABLE_DATE = "2025-10-01"
HOURS_PER_MONTH = 730
CURRENCY = "USD"

SOURCES = {
    "instance": "https://aws.amazon.com/ec2/pricing/on-demand/",
    "volume": "https://aws.amazon.com/ebs/pricing/",
    "snapshot": "https://aws.amazon.com/ebs/pricing/",
    "public_ipv4": "https://aws.amazon.com/vpc/pricing/ (public IPv4 addresses)",
    "nat_gateway": "https://aws.amazon.com/vpc/pricing/ (NAT gateways)",
    "load_balancer": "https://aws.amazon.com/elasticloadbalancing/pricing/ (ALB: hours and LCU-hours)",
    "db_instance": "https://aws.amazon.com/rds/postgresql/pricing/ (Single-AZ, storage, extra backups)",
    "db_snapshot": "https://aws.amazon.com/rds/postgresql/pricing/ (backup storage)",
    "free_tier": "https://aws.amazon.com/free/ (legacy 12-month offer; Free and Paid plans from 2025-07-15)",
}

INSTANCE_TYPES = (
    "t2.micro", "t2.small", "t2.medium", "t2.large",
    "t3.micro", "t3.small", "t3.medium", "t3.large",
    "t3a.micro", "t3a.small", "t3a.medium", "t3a.large",
    "t4g.micro", "t4g.small", "t4g.medium", "t4g.large",
    "m5.large", "m7i.large", "m7i-flex.large", "c7i-flex.large",
)
# Per hour, in the order of INSTANCE_TYPES.
_INSTANCE_HOURLY = {
    "us-east-1": (0.0116, 0.023, 0.0464, 0.0928, 0.0104, 0.0208, 0.0416, 0.0832,
                  0.0094, 0.0188, 0.0376, 0.0752, 0.0084, 0.0168, 0.0336, 0.0672,
                  0.096, 0.1008, 0.09576, 0.08479),
    "us-west-2": (0.0116, 0.023, 0.0464, 0.0928, 0.0104, 0.0208, 0.0416, 0.0832,
                  0.0094, 0.0188, 0.0376, 0.0752, 0.0084, 0.0168, 0.0336, 0.0672,
                  0.096, 0.1008, 0.09576, 0.08479),
    "eu-west-1": (0.0126, 0.025, 0.05, 0.1008, 0.0114, 0.0228, 0.0456, 0.0912,
                  0.0102, 0.0204, 0.0408, 0.0816, 0.0092, 0.0184, 0.0368, 0.0736,
                  0.107, 0.1124, 0.10678, 0.09462),
    "eu-west-3": (0.0132, 0.0264, 0.0528, 0.1056, 0.0118, 0.0236, 0.0472, 0.0944,
                  0.0106, 0.0212, 0.0424, 0.0848, 0.0094, 0.0189, 0.0378, 0.0755,
                  0.112, 0.1176, 0.11172, 0.09868),
    "eu-central-1": (0.0134, 0.0268, 0.0536, 0.1072, 0.012, 0.024, 0.048, 0.096,
                     0.0108, 0.0216, 0.0432, 0.0864, 0.0096, 0.0192, 0.0384, 0.0768,
                     0.115, 0.1210, 0.11495, 0.10165),
    "ap-southeast-1": (0.0146, 0.0292, 0.0584, 0.1168, 0.0132, 0.0264, 0.0528, 0.1056,
                       0.0118, 0.0236, 0.0472, 0.0944, 0.0106, 0.0212, 0.0424, 0.0848,
                       0.12, 0.126, 0.1197, 0.10497),
}
INSTANCE_HOURLY = {region: dict(zip(INSTANCE_TYPES, prices, strict=True))
                   for region, prices in _INSTANCE_HOURLY.items()}

# EBS per GB-month by volume type; gp3 IOPS above 3000 per IOPS-month, throughput above 125 MB/s
# per MB/s-month; standard snapshots per GB-month.
EBS = {
    "us-east-1": {"gp3": 0.08, "gp2": 0.10, "gp3_iops": 0.005, "gp3_throughput": 0.04, "snapshot": 0.05},
    "us-west-2": {"gp3": 0.08, "gp2": 0.10, "gp3_iops": 0.005, "gp3_throughput": 0.04, "snapshot": 0.05},
    "eu-west-1": {"gp3": 0.088, "gp2": 0.11, "gp3_iops": 0.0055, "gp3_throughput": 0.044, "snapshot": 0.05},
    "eu-west-3": {"gp3": 0.0928, "gp2": 0.116, "gp3_iops": 0.0058, "gp3_throughput": 0.0464, "snapshot": 0.053},
    "eu-central-1": {"gp3": 0.0952, "gp2": 0.119, "gp3_iops": 0.006, "gp3_throughput": 0.0476, "snapshot": 0.054},
    "ap-southeast-1": {"gp3": 0.096, "gp2": 0.12, "gp3_iops": 0.006, "gp3_throughput": 0.048, "snapshot": 0.05},
}
VOLUME_TYPES = ("gp3", "gp2")
GP3_FREE_IOPS = 3000
GP3_FREE_THROUGHPUT = 125
# Public IPv4 per hour: the same in every region since 2024-02-01, attached or idle.
PUBLIC_IPV4_HOURLY = 0.005
# NAT gateway per hour and per GB processed; load balancer (ALB/NLB/classic) per hour.
NAT_GATEWAY = {
    "us-east-1": (0.045, 0.045), "us-west-2": (0.045, 0.045), "eu-west-1": (0.048, 0.048),
    "eu-west-3": (0.048, 0.048), "eu-central-1": (0.052, 0.052), "ap-southeast-1": (0.059, 0.059),
}
LOAD_BALANCER_HOURLY = {
    "us-east-1": 0.0225, "us-west-2": 0.0225, "eu-west-1": 0.0252,
    "eu-west-3": 0.0252, "eu-central-1": 0.027, "ap-southeast-1": 0.0252,
}
# Application Load Balancer per LCU-hour (the planned estimate assumes load_balancer_lcu LCUs on average).
LOAD_BALANCER_LCU_HOURLY = {
    "us-east-1": 0.008, "us-west-2": 0.008, "eu-west-1": 0.008,
    "eu-west-3": 0.008, "eu-central-1": 0.008, "ap-southeast-1": 0.008,
}
# RDS for PostgreSQL, Single-AZ on-demand per hour by instance class; storage (gp2/gp3) per GB-month;
# backup storage beyond the free allowance (as much as the provisioned storage) per GB-month.
DB_INSTANCE_CLASSES = ("db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small")
_DB_INSTANCE_HOURLY = {
    "us-east-1": (0.018, 0.036, 0.016, 0.032),
    "us-west-2": (0.018, 0.036, 0.016, 0.032),
    "eu-west-1": (0.019, 0.038, 0.017, 0.034),
    "eu-west-3": (0.02, 0.04, 0.018, 0.036),
    "eu-central-1": (0.02, 0.04, 0.018, 0.036),
    "ap-southeast-1": (0.026, 0.052, 0.025, 0.049),
}
DB_INSTANCE_HOURLY = {region: dict(zip(DB_INSTANCE_CLASSES, prices, strict=True))
                      for region, prices in _DB_INSTANCE_HOURLY.items()}
DB_STORAGE = {  # (storage per GB-month, backup per GB-month)
    "us-east-1": (0.115, 0.095), "us-west-2": (0.115, 0.095), "eu-west-1": (0.127, 0.095),
    "eu-west-3": (0.133, 0.095), "eu-central-1": (0.137, 0.095), "ap-southeast-1": (0.138, 0.095),
}
REGIONS = tuple(_INSTANCE_HOURLY)
DISPLAY_NAMES = {"instance": "instance", "volume": "root volume", "public_ipv4": "public IPv4",
                 "nat_gateway": "NAT gateway", "load_balancer": "load balancer", "snapshot": "snapshot",
                 "db_instance": "database", "db_snapshot": "database snapshot"}

# Free-tier models.
# legacy: accounts opened before 2025-07-15, for their first 12 months, per month: 750 hours of
#         t2.micro/t3.micro together, 30 GB-month of EBS storage, 750 hours of public IPv4.
# credits: accounts from 2025-07-15: a credit balance (USD 100 at sign-up, up to 200) spent by
#          any usage; on the Free plan (6 months) only some instance types can be launched.
# none: full price.
FREE_TIER_MODELS = ("legacy", "credits", "none")
# The legacy offer covers t2.micro, or t3.micro in the regions that offer no t2.micro (AWS's instance
# type offerings per region, as of the table's date): t3.micro is full price where t2.micro exists.
LEGACY_T3_REGIONS = ("af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
                     "ca-west-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "il-central-1",
                     "me-central-1", "me-south-1")
LEGACY_INSTANCE_HOURS = 750
LEGACY_EBS_GB = 30
LEGACY_PUBLIC_IPV4_HOURS = 750
LEGACY_LOAD_BALANCER_HOURS = 750  # (and 15 LCUs, not counted here)
LEGACY_DB_INSTANCE_CLASSES = ("db.t3.micro", "db.t4g.micro")  # 750 hours, Single-AZ
LEGACY_DB_INSTANCE_HOURS = 750
LEGACY_DB_STORAGE_GB = 20
FREE_PLAN_INSTANCE_TYPES = ("t3.micro", "t3.small", "t4g.micro", "t4g.small", "c7i-flex.large", "m7i-flex.large")
DEFAULT_CREDITS = 100.0
# An internet-facing Application Load Balancer holds a public IPv4 address per zone: the scaled layout's two.
LOAD_BALANCER_PUBLIC_IPV4 = 2


def legacy_instance_type(region):
    """The instance type the legacy free tier covers in a region."""
    return "t3.micro" if region in LEGACY_T3_REGIONS else "t2.micro"


class PricingError(ValueError):
    """An input out of range; the message names the variable."""


class UnpricedError(PricingError):
    """A region, instance type or volume type that the table has no price for."""


def _region_table(region, table, variable="region"):
    if region not in table:
        raise UnpricedError(f"{variable} {region!r} has no prices in the table dated {PRICE_TABLE_DATE}; "
                            f"priced regions: {', '.join(REGIONS)}")
    return table[region]


def instance_price(region, instance_type, overrides=None):
    """Hourly on-demand price: from `overrides` (live prices) first, else the table."""
    if overrides and instance_type in overrides:
        return overrides[instance_type]
    prices = _region_table(region, INSTANCE_HOURLY)
    if instance_type not in prices:
        raise UnpricedError(f"instance_type {instance_type!r} has no price for {region} in the table dated "
                            f"{PRICE_TABLE_DATE}; priced types: {', '.join(INSTANCE_TYPES)} "
                            "(or ask the AWS Pricing API with live_prices)")
    return prices[instance_type]


def _item(resource, unit, quantity, unit_price, *, kind, free=0.0):
    return {"resource": resource, "kind": kind, "unit": unit, "quantity": round(quantity, 4),
            "unit_price": unit_price, "monthly_cost": round(quantity * unit_price, 4),
            "free_tier_quantity": round(min(free, quantity), 4), "source": SOURCES[kind]}


def _non_negative(name, value, integer=False):
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or value < 0:
        what = "a whole number" if integer else "a number"
        raise PricingError(f"{name} must be {what} >= 0, got {value!r}")
    return value


def planned_usage(instance_type, *, instance_count=1, root_volume_size=8, root_volume_type="gp3",
                  root_volume_iops=None, root_volume_throughput=None, public_ipv4=None,
                  nat_gateways=0, nat_data_gb=0, load_balancers=0, load_balancer_lcu=1.0,
                  databases=0, db_instance_class="db.t3.micro", db_storage_gb=20, db_backup_gb=0,
                  hours=HOURS_PER_MONTH):
    """The usage a stack of provision's shape will have in a month.

    public_ipv4 defaults to one per instance (a public subnet maps one on launch) plus one per NAT
    gateway (its elastic IP). The scaled layout adds an Application Load Balancer (load_balancer_lcu
    LCUs on average, and a public IPv4 address in each of its two zones) and an RDS instance
    (db_storage_gb of storage, db_backup_gb of backups beyond the free allowance).
    """
    for name, value in (("load_balancers", load_balancers), ("databases", databases),
                        ("db_storage_gb", db_storage_gb), ("db_backup_gb", db_backup_gb)):
        _non_negative(name, value, integer=True)
    _non_negative("load_balancer_lcu", load_balancer_lcu)
    extra = [{"kind": "load_balancer", "hours": hours, "lcu": load_balancer_lcu} for index in range(load_balancers)]
    extra += [{"kind": "public_ipv4", "hours": hours, "name": "public IPv4 of the load balancer"}
              for index in range(load_balancers * LOAD_BALANCER_PUBLIC_IPV4)]
    extra += [{"kind": "db_instance", "db_instance_class": db_instance_class, "hours": hours,
               "storage_gb": db_storage_gb, "backup_gb": db_backup_gb} for index in range(databases)]
    return _ec2_usage(instance_type, instance_count=instance_count, root_volume_size=root_volume_size,
                      root_volume_type=root_volume_type, root_volume_iops=root_volume_iops,
                      root_volume_throughput=root_volume_throughput, public_ipv4=public_ipv4,
                      nat_gateways=nat_gateways, nat_data_gb=nat_data_gb, hours=hours) + extra


def _ec2_usage(instance_type, *, instance_count, root_volume_size, root_volume_type, root_volume_iops,
               root_volume_throughput, public_ipv4, nat_gateways, nat_data_gb, hours):
    _non_negative("instance_count", instance_count, integer=True)
    _non_negative("root_volume_size", root_volume_size, integer=True)
    _non_negative("nat_gateways", nat_gateways, integer=True)
    _non_negative("nat_data_gb", nat_data_gb)
    if root_volume_type not in VOLUME_TYPES:
        raise PricingError(f"root_volume_type must be one of {', '.join(VOLUME_TYPES)}, got {root_volume_type!r}")
    if public_ipv4 is None:
        public_ipv4 = instance_count + nat_gateways
    _non_negative("public_ipv4", public_ipv4, integer=True)
    instance = {"kind": "instance", "instance_type": instance_type, "hours": hours}
    root_volume = {"kind": "volume", "volume_type": root_volume_type, "size": root_volume_size,
                   "iops": root_volume_iops, "throughput": root_volume_throughput}
    usage = [dict(use) for use in [instance, root_volume] * instance_count]
    # The NAT gateways' addresses are the last ones, named as such.
    instance_addresses = max(0, public_ipv4 - nat_gateways)
    usage += [{"kind": "public_ipv4", "hours": hours} for index in range(instance_addresses)]
    usage += [{"kind": "public_ipv4", "hours": hours, "name": "public IPv4 of a NAT gateway"}
              for index in range(public_ipv4 - instance_addresses)]
    usage += [{"kind": "nat_gateway", "hours": hours, "data_gb": nat_data_gb / nat_gateways}
              for index in range(nat_gateways)]
    return usage


def _volume_items(region, use, name):
    prices = _region_table(region, EBS)
    volume_type = use.get("volume_type", "gp3")
    if volume_type not in VOLUME_TYPES:
        raise UnpricedError(f"volume type {volume_type!r} has no price in the table; priced: {', '.join(VOLUME_TYPES)}")
    size = use["size"]
    items = [_item(f"{name} {volume_type} {size} GB", "GB-month", size, prices[volume_type], kind="volume",
                   free=size)]
    if volume_type == "gp3":
        extra_iops = max(0, (use.get("iops") or GP3_FREE_IOPS) - GP3_FREE_IOPS)
        extra_throughput = max(0, (use.get("throughput") or GP3_FREE_THROUGHPUT) - GP3_FREE_THROUGHPUT)
        if extra_iops:
            items.append(_item(f"{name} gp3 IOPS above {GP3_FREE_IOPS}", "IOPS-month", extra_iops,
                               prices["gp3_iops"], kind="volume"))
        if extra_throughput:
            items.append(_item(f"{name} gp3 throughput above {GP3_FREE_THROUGHPUT} MB/s", "MBps-month",
                               extra_throughput, prices["gp3_throughput"], kind="volume"))
    return items


def usage_items(region, use, overrides=None):
    """The priced line items of one usage entry; the free-tier quantity says what legacy may cover."""
    kind = use["kind"]
    name = use.get("name") or DISPLAY_NAMES[kind]
    if kind == "instance":
        price = instance_price(region, use["instance_type"], overrides)
        free = use["hours"] if use["instance_type"] == legacy_instance_type(region) else 0
        return [_item(f"{name} {use['instance_type']}", "hour", use["hours"], price, kind=kind, free=free)]
    if kind == "volume":
        return _volume_items(region, use, name)
    if kind == "public_ipv4":
        return [_item(name, "hour", use["hours"], PUBLIC_IPV4_HOURLY, kind=kind,
                      free=use["hours"])]
    if kind == "nat_gateway":
        hourly, per_gb = _region_table(region, NAT_GATEWAY)
        items = [_item(name, "hour", use["hours"], hourly, kind=kind)]
        if use.get("data_gb"):
            items.append(_item(f"{name} data processed", "GB", use["data_gb"], per_gb, kind=kind))
        return items
    if kind == "snapshot":
        return [_item(name, "GB-month", use["size"], _region_table(region, EBS)["snapshot"], kind=kind)]
    if kind in ("load_balancer", "db_instance", "db_snapshot"):
        return _service_items(region, use, name)
    raise PricingError(f"unknown usage kind {kind!r}")


def _service_items(region, use, name):
    """The line items of a load balancer, an RDS instance or an RDS snapshot."""
    kind = use["kind"]
    if kind == "load_balancer":
        items = [_item(name, "hour", use["hours"], _region_table(region, LOAD_BALANCER_HOURLY), kind=kind,
                       free=use["hours"])]
        if use.get("lcu"):
            items.append(_item(f"{name} capacity ({use['lcu']:g} LCU)", "LCU-hour", use["hours"] * use["lcu"],
                               _region_table(region, LOAD_BALANCER_LCU_HOURLY), kind=kind))
        return items
    if kind == "db_instance":
        return _db_items(region, use, name)
    return [_item(name, "GB-month", use["size"], _region_table(region, DB_STORAGE)[1], kind=kind)]


def db_instance_price(region, db_instance_class):
    prices = _region_table(region, DB_INSTANCE_HOURLY)
    if db_instance_class not in prices:  # no live price for RDS: the gate cannot go on without one
        raise PricingError(f"database_instance_class {db_instance_class!r} has no price for {region} in the table "
                           f"dated {PRICE_TABLE_DATE}; priced classes: {', '.join(DB_INSTANCE_CLASSES)}")
    return prices[db_instance_class]


def _db_items(region, use, name):
    """An RDS instance: its hours, its storage, and backups beyond the free allowance. The legacy
    free tier's share rides on the items' kind: db_instance hours, db_storage GB."""
    db_class = use["db_instance_class"]
    storage, backup = _region_table(region, DB_STORAGE)
    free_hours = use["hours"] if db_class in LEGACY_DB_INSTANCE_CLASSES else 0
    items = [dict(_item(f"{name} {db_class}", "hour", use["hours"], db_instance_price(region, db_class),
                        kind="db_instance", free=free_hours), allowance="db_instance"),
             dict(_item(f"{name} storage {use.get('storage_gb', 20)} GB", "GB-month", use.get("storage_gb", 20),
                        storage, kind="db_instance", free=use.get("storage_gb", 20)), allowance="db_storage")]
    if use.get("backup_gb"):
        items.append(_item(f"{name} backups beyond the free allowance", "GB-month", use["backup_gb"], backup,
                           kind="db_instance"))
    return items


def _legacy_savings(items):
    """What the legacy 12-month free tier takes off a month: 750 instance hours, 30 GB of EBS and
    750 public IPv4 hours, each shared by every resource of its kind."""
    allowances = {"instance": LEGACY_INSTANCE_HOURS, "volume": LEGACY_EBS_GB, "public_ipv4": LEGACY_PUBLIC_IPV4_HOURS,
                  "load_balancer": LEGACY_LOAD_BALANCER_HOURS, "db_instance": LEGACY_DB_INSTANCE_HOURS,
                  "db_storage": LEGACY_DB_STORAGE_GB}
    savings = 0.0
    for item in items:
        allowance = item.get("allowance", item["kind"])
        left = allowances.get(allowance, 0)
        covered = min(left, item["free_tier_quantity"])
        if covered:
            allowances[allowance] = left - covered
            savings += covered * item["unit_price"]
    return savings


def estimate(region, usage, *, free_tier="none", credits=DEFAULT_CREDITS, overrides=None, price_source="table"):
    """Line items, total, and the total under each free-tier model, for one month.

    `adjusted_total` is the total under the chosen model: what the month would bill.
    With `credits`, the first month's bill is what the balance does not cover, and
    `credit_months` says how many months of this stack the balance pays for.
    """
    if free_tier not in FREE_TIER_MODELS:
        raise PricingError(f"free_tier must be one of {', '.join(FREE_TIER_MODELS)}, got {free_tier!r}")
    _non_negative("free_tier_credits", credits)
    items = [item for use in usage for item in usage_items(region, use, overrides)]
    total = sum(item["monthly_cost"] for item in items)
    by_model = {
        "legacy": max(0.0, total - _legacy_savings(items)),
        "credits": max(0.0, total - credits),
        "none": total,
    }
    notes = []
    not_on_free_plan = sorted({use["instance_type"] for use in usage if use["kind"] == "instance"}
                              - set(FREE_PLAN_INSTANCE_TYPES))
    if free_tier == "credits" and not_on_free_plan:
        notes.append(f"{', '.join(not_on_free_plan)} cannot be launched on the Free plan: upgrade to the Paid "
                     f"plan (credits still apply); Free plan types: {', '.join(FREE_PLAN_INSTANCE_TYPES)}")
    if free_tier == "legacy":
        notes.append("legacy free tier: only for the first 12 months of accounts opened before 2025-07-15")
        uncovered = sorted({use["instance_type"] for use in usage if use["kind"] == "instance"}
                           - {legacy_instance_type(region)})
        if uncovered:
            notes.append(f"the legacy free tier covers {legacy_instance_type(region)} in {region}, not "
                         f"{', '.join(uncovered)}: instance_type {legacy_instance_type(region)} would be free")
    for item in items:
        item["monthly_cost"] = round(item["monthly_cost"], 2)
    return {
        "region": region, "currency": CURRENCY, "hours_per_month": HOURS_PER_MONTH,
        "price_date": PRICE_TABLE_DATE, "price_source": price_source,
        "items": items, "total": round(total, 2), "free_tier": free_tier,
        "adjusted_total": round(by_model[free_tier], 2),
        "by_free_tier": {model: round(value, 2) for model, value in by_model.items()},
        "credit_months": round(credits / total, 1) if total else None,
        "notes": notes,
    }


def estimate_planned(region, instance_type, *, free_tier="none", credits=DEFAULT_CREDITS, overrides=None,
                     price_source="table", **stack):
    """estimate() of planned_usage(): the filter's and cost_check's planned mode."""
    return estimate(region, planned_usage(instance_type, **stack), free_tier=free_tier, credits=credits,
                    overrides=overrides, price_source=price_source)


def item_line(item):
    """One line item as text: `<resource>: <quantity> <unit> x <unit price> = <monthly cost>`."""
    return (f"{item['resource']}: {item['quantity']:g} {item['unit']} x {item['unit_price']:g} = "
            f"{item['monthly_cost']:.2f}")


def over_budget_message(result, budget, budget_name="budget"):
    """The gate's message: the figures and every line item; budget_name is what the user set."""
    lines = [item_line(item) for item in result["items"]]
    return (f"Estimated monthly cost {result['adjusted_total']:.2f} {CURRENCY} (free tier {result['free_tier']}, "
            f"before free tier {result['total']:.2f}) is over {budget_name} ({budget:g} {CURRENCY}) in "
            f"{result['region']}, prices of {result['price_date']}: " + "; ".join(lines))


def live_instance_price(pricing_client, region, instance_type):
    """The on-demand Linux hourly price from the AWS Pricing API, or None when it has none.

    The Pricing API answers only in us-east-1 (and a few others); pass a client made there.
    """
    filters = {"regionCode": region, "instanceType": instance_type, "operatingSystem": "Linux",
               "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}
    answer = pricing_client.get_products(
        ServiceCode="AmazonEC2", MaxResults=10,
        Filters=[{"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in filters.items()])
    for document in answer.get("PriceList", []):
        product = json.loads(document) if isinstance(document, str) else document
        for term in product.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term.get("priceDimensions", {}).values():
                price = float(dimension.get("pricePerUnit", {}).get("USD", 0))
                if price > 0:
                    return price
    return None
