# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for provision's plan: what one resource, or an environment's hosts, need (module_utils/plan.py), and
a plan's line in the table."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.plan import hosts_plan as _hosts_plan
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.plan import plan


def resource_plan(found, kind, wanted):
    try:
        return plan(found or {}, kind, wanted)
    except (KeyError, ValueError) as error:
        raise AnsibleFilterError(f"resource_plan({kind!r}): {error}") from error


def hosts_plan(found, wanted, count=0, subnets=None):
    try:
        return _hosts_plan(found or {}, wanted, count, subnets or [])
    except (KeyError, ValueError, TypeError) as error:
        raise AnsibleFilterError(f"hosts_plan: {error}") from error


def change_line(resource_plan):
    """One plan as a fixed-width line: action, type, Name, then what changes."""
    line = f"{resource_plan['action']:<7} {resource_plan['type']:<17} {resource_plan['name']}"
    return line + (": " + "; ".join(resource_plan["changes"]) if resource_plan["changes"] else "")


class FilterModule:
    def filters(self):
        return {"resource_plan": resource_plan, "hosts_plan": hosts_plan, "change_line": change_line}
