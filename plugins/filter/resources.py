# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the resource lists of the tagged_resources_info module."""

from __future__ import annotations


def plan_line(resource):
    """One resource as a fixed-width line: type, id, Name tag."""
    return f"{resource['type']:<17} {resource['id']:<26} {resource.get('name', '')}".rstrip()


class FilterModule:
    def filters(self):
        return {"plan_line": plan_line}
