# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cost filters; each one's documentation is in the .yml file of its name. The estimator is
module_utils/pricing.py, the same one the cost_check module gates provision with."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.pricing import (
    PricingError,
    estimate_planned,
    item_line,
)


def monthly_cost(stack, free_tier="none", credits=100.0):
    if not isinstance(stack, dict) or not stack.get("region") or not stack.get("instance_type"):
        raise AnsibleFilterError("monthly_cost needs a dictionary with at least region and instance_type")
    try:
        return estimate_planned(free_tier=free_tier, credits=credits, **stack)
    except TypeError as error:  # an unknown key in the stack
        raise AnsibleFilterError(f"monthly_cost: {error}") from error
    except PricingError as error:
        raise AnsibleFilterError(str(error)) from error


def cost_line(item):
    return item_line(item)


class FilterModule:
    def filters(self):
        return {"monthly_cost": monthly_cost, "cost_line": cost_line}
