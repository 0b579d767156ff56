# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: standard_tags
short_description: The collection's standard tag set for one resource
version_added: 0.1.0
description:
  - Builds C(Project), C(Environment), C(ManagedBy), C(Owner) and C(Name) from the identity
    variables, adds I(extra) tags, and checks the result against AWS's tagging rules.
  - The input is a dictionary with keys C(project), C(environment) and C(owner) (the
    C(shipyard_identity) variable of the playbooks).
options:
  _input:
    description: Identity dictionary with C(project), C(environment), C(owner).
    type: dict
    required: true
  name:
    description: Suffix of the C(Name) tag, which becomes C(<project>-<environment>-<name>).
    type: str
  extra:
    description: Additional tags; they may not override a standard tag.
    type: dict
"""

EXAMPLES = r"""
- name: Tag a VPC
  amazon.aws.ec2_vpc_net:
    name: demo
    cidr_block: 10.0.0.0/16
    tags: "{{ shipyard_identity | shipyard.ec2_compose.standard_tags(name='vpc') }}"
"""

RETURN = r"""
_value:
  description: The tag dictionary.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.tagging import (
    TagError,
    identity_tags,
    standard_tags,
    tag_filters,
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


class FilterModule:
    def filters(self):
        return {
            "standard_tags": _standard_tags,
            "identity_tags": _identity_tags,
            "identity_filters": _identity_filters,
        }
