# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: region_in_use
short_description: The AWS region the environment names, for an inventory that should read only that one
version_added: 0.6.0
description:
  - Returns the region an AWS SDK would use, in the order amazon.aws's modules resolve it when no region option
    is given, that is E(AWS_REGION), E(AWS_DEFAULT_REGION), then the region of the profile (E(AWS_PROFILE), else
    C(default)) in the AWS config file.
  - The collection's C(aws_ec2) inventories list it under C(regions), so that they read the region in use
    instead of every region of the account (slow, and refused where an SCP denies regions).
  - Fails, naming where to set one, when none is known.
author:
  - Shipyard maintainers (@shipyard)
"""

EXAMPLES = r"""
# inventory/aws_ec2.yml
plugin: amazon.aws.aws_ec2
regions:
  - "{{ lookup('shipyard.ec2_compose.region_in_use') }}"
"""

RETURN = r"""
_raw:
  description: One region name.
  type: list
  elements: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

NO_REGION = ("No AWS region for the inventory: set AWS_REGION (or AWS_DEFAULT_REGION, or region in your AWS "
             "profile) to the region you provisioned in, or list it under regions in the inventory file. "
             "aws_region in group_vars or -e is not seen by inventories.")


def region_in_use(environ=None):
    """AWS_REGION, AWS_DEFAULT_REGION, then the profile's region; None when none is set."""
    environ = os.environ if environ is None else environ
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if environ.get(name):
            return environ[name]
    try:
        import botocore.session
    except ImportError:
        return None
    return botocore.session.Session().get_config_variable("region") or None


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        region = region_in_use()
        if not region:
            raise AnsibleLookupError(NO_REGION)
        return [region]
