#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tag_audit
short_description: List a project's EC2 resources that lack any required tag
version_added: 0.1.0
description:
  - Finds the resources of the types this collection creates that carry all of I(select) (by
    default a project and environment), and reports those missing any of I(required_tags).
  - Provision ends with it, so a resource that escaped the standard tag set is named at once,
    because teardown and the inventory only find what carries the identity tags.
author:
  - Shipyard maintainers (@shipyard)
options:
  select:
    description: Tags that choose the resources to audit, usually C(Project) and C(Environment).
    type: dict
    required: true
  required_tags:
    description: Tag keys that every selected resource must carry.
    type: list
    elements: str
    default: [Project, Environment, ManagedBy, Owner, Name]
  fail_on_missing:
    description: Fail, listing them, when any resource lacks a required tag.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Every resource of tasklist/dev carries the standard tags
  shipyard.ec2_compose.tag_audit:
    region: us-east-1
    select:
      Project: tasklist
      Environment: dev
    fail_on_missing: true
"""

RETURN = r"""
missing:
  description: The resources that lack a required tag, each with the keys it lacks under C(missing).
  returned: always
  type: list
  elements: dict
  sample:
    - {type: subnet, id: subnet-0123456789abcdef0, name: tasklist-dev-public, missing: [Owner], tags: {}}
checked:
  description: Number of resources audited.
  returned: always
  type: int
  sample: 8
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.resources import find_resources
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.tagging import STANDARD_KEYS, missing_tags

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            select=dict(type="dict", required=True),
            required_tags=dict(type="list", elements="str", default=list(STANDARD_KEYS)),
            fail_on_missing=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    if not module.params["select"]:
        module.fail_json(msg="select must not be empty: that would audit every resource of the account")
    try:
        found = find_resources(module.client, None, module.params["select"])
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        module.fail_json_aws(error, msg="Could not list the resources to audit")
    resources = [item for items in found.values() for item in items]
    missing = missing_tags(resources, module.params["required_tags"])
    result = dict(changed=False, missing=missing, checked=len(resources))
    if missing and module.params["fail_on_missing"]:
        lines = [resource["line"] for resource in missing]
        module.fail_json(msg=f"{len(missing)} of {len(resources)} resources lack required tags: " + "; ".join(lines),
                         **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
