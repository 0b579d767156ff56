# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tag filters; each one's documentation is in the .yml file of its name."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.tagging import (
    TagError,
    identity_tags,
    missing_tags,
    standard_tags,
    tag_filters,
    validate_tags,
)


def _standard_tags(identity, name=None, extra=None):
    try:
        return standard_tags(identity.get("project"), identity.get("environment"), identity.get("owner"),
                             name=name, extra=extra if extra is not None else identity.get("extra_tags"))
    except TagError as error:
        raise AnsibleFilterError(str(error)) from error


def _identity_tags(identity):
    try:
        return identity_tags(identity.get("project"), identity.get("environment"))
    except TagError as error:
        raise AnsibleFilterError(str(error)) from error


def _identity_filters(identity):
    return tag_filters(_identity_tags(identity))


def _validate_tags(tags, variable="tags"):
    try:
        return validate_tags(tags, variable)
    except TagError as error:
        raise AnsibleFilterError(str(error)) from error


def _tag_filters(tags):
    return tag_filters(_validate_tags(tags))


class FilterModule:
    def filters(self):
        return {
            "standard_tags": _standard_tags,
            "identity_tags": _identity_tags,
            "identity_filters": _identity_filters,
            "validate_tags": _validate_tags,
            "tag_filters": _tag_filters,
            "missing_tags": missing_tags,
        }
