# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cost gate's verdict on a priced usage: shared by the cost_check module and its action plugin.

The action plugin prices a planned stack from the table in the controller's process (no module
process, no AWS call); the module does the rest (the Pricing API, the deployed resources). Both
take the same options (ARGUMENT_SPEC) and answer through verdict().
"""

from __future__ import annotations

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.pricing import (
    PricingError,
    UnpricedError,
    estimate,
    over_budget_message,
    planned_usage,
)

ARGUMENT_SPEC = dict(
    mode=dict(type="str", choices=["planned", "deployed"], default="planned"),
    instance_type=dict(type="str"),
    instance_count=dict(type="int", default=1),
    root_volume_size=dict(type="int", default=8),
    root_volume_type=dict(type="str", choices=["gp3", "gp2"], default="gp3"),
    root_volume_iops=dict(type="int"),
    root_volume_throughput=dict(type="int"),
    public_ipv4=dict(type="int"),
    nat_gateways=dict(type="int", default=0),
    nat_data_gb=dict(type="float", default=0),
    load_balancers=dict(type="int", default=0),
    load_balancer_lcu=dict(type="float", default=1),
    databases=dict(type="int", default=0),
    db_instance_class=dict(type="str", default="db.t3.micro"),
    db_storage_gb=dict(type="int", default=20),
    db_backup_gb=dict(type="int", default=0),
    select=dict(type="dict"),
    free_tier=dict(type="str", choices=["legacy", "credits", "none"], default="none"),
    free_tier_credits=dict(type="float", default=100),
    budget=dict(type="float"),
    warn_only=dict(type="bool", default=False),
    budget_name=dict(type="str", default="budget"),
    on_unpriced=dict(type="str", choices=["warn", "fail"], default="warn"),
    live_prices=dict(type="bool", default=False),
)
REQUIRED_IF = [("mode", "planned", ["instance_type"])]
PLANNED_OPTIONS = ("instance_count", "root_volume_size", "root_volume_type", "root_volume_iops",
                   "root_volume_throughput", "public_ipv4", "nat_gateways", "nat_data_gb", "load_balancers",
                   "load_balancer_lcu", "databases", "db_instance_class", "db_storage_gb", "db_backup_gb")
NO_REGION = ("No region: set the region option (the playbooks' aws_region), AWS_REGION, AWS_DEFAULT_REGION "
             "or a profile's region")


class Verdict:
    """What the gate answers: the result's fields, warnings, and a failure message or None."""

    def __init__(self, result, warnings=(), failure=None):
        self.result = result
        self.warnings = list(warnings)
        self.failure = failure


def planned_stack(params):
    """The usage items of the stack the options describe (mode=planned)."""
    stack = {name: params[name] for name in PLANNED_OPTIONS if params[name] is not None}
    return planned_usage(params["instance_type"], **stack)


def _unpriced(params, region, error, budget):
    """No price for the stack: a warning and the run goes on, or a failure with on_unpriced=fail."""
    name = params["budget_name"]
    if budget and params["on_unpriced"] == "fail":
        return Verdict({}, failure=f"{error}; the cost gate ({name} {budget:g} USD) needs a price: set live_prices, "
                                   f"or {name} 0 to go on without the gate")
    if budget:
        gate = f"The cost gate ({name} {budget:g} USD) is skipped"
        advice = f"set live_prices to ask the AWS Pricing API, or {name} 0 to turn the gate off"
    else:
        gate, advice = "No cost gate", "set live_prices to ask the AWS Pricing API"
    return Verdict(dict(changed=False, region=region, priced=False, over_budget=False, budget=budget, items=[],
                        total=None, adjusted_total=None, summary=f"no estimate ({gate}): {error}"),
                   warnings=[f"No estimate: {error}. {gate}: {advice}"])


def input_error(params, region):
    """What is wrong with the inputs, before any AWS call; None when nothing is."""
    if not region:
        return NO_REGION
    if (params["budget"] or 0) < 0:
        return f"budget must be a number of USD >= 0 (0: no gate), got {params['budget']:g}"
    return None


def verdict(params, region, usage=None, overrides=None):
    """Price `usage` (default: the planned stack) in `region` and hold it against the budget."""
    error = input_error(params, region)
    if error:
        return Verdict({}, failure=error)
    budget = params["budget"] or 0
    try:
        usage = planned_stack(params) if usage is None else usage
        result = estimate(region, usage, free_tier=params["free_tier"], credits=params["free_tier_credits"],
                          overrides=overrides or {}, price_source="live" if overrides else "table")
    except UnpricedError as error:
        return _unpriced(params, region, error, budget)
    except PricingError as error:
        return Verdict({}, failure=str(error))

    over = bool(budget) and result["adjusted_total"] > budget
    summary = (f"{result['total']:.2f} USD/month in {region} at full price; {result['adjusted_total']:.2f} under "
               f"free tier {result['free_tier']} (prices of {result['price_date']}, {result['price_source']})")
    if budget:
        summary += f"; {params['budget_name']} {budget:g} USD: {'OVER' if over else 'within'}"
    output = dict(result, changed=False, priced=True, over_budget=over, budget=budget, summary=summary)
    warnings = list(result["notes"])
    if not over:
        return Verdict(output, warnings)
    message = over_budget_message(result, budget, params["budget_name"])
    if params["warn_only"]:
        return Verdict(output, [*warnings, message])
    return Verdict(output, warnings, failure=message)
