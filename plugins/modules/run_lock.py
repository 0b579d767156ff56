#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: run_lock
short_description: Hold or release the lock that lets one run at a time write an environment
version_added: 0.6.0
description:
  - Two runs of provision or teardown for one environment at the same moment would each create what the
    other is creating (a second VPC, a second host). The lock is an SSM Parameter Store parameter named
    C(/shipyard.ec2_compose/PROJECT/ENVIRONMENT/run-lock), created only if absent (AWS lets one of two
    creates through), whose value says who holds it, for what, since when and until when.
  - With I(state=present) the module tries once and returns C(acquired); the caller retries (the roles'
    C(until) loop) to wait. A lock past its expiry (a run that was killed) is taken over; I(force) takes
    over any lock.
  - With I(state=absent) the lock is deleted only if it is still the one I(token) took.
  - Standard parameters cost nothing. Needs ssm:PutParameter, ssm:GetParameter and ssm:DeleteParameter on the
    parameter.
  - In check mode nothing is written and C(acquired) is true.
  - Reports C(changed=false), because the lock is the run's own bookkeeping and not a change to the environment
    (a no-op provision stays a no-op).
author:
  - Shipyard maintainers (@shipyard)
options:
  project:
    description: The project whose environment is locked.
    type: str
    required: true
  environment:
    description: The environment locked.
    type: str
    required: true
  state:
    description: C(present) to take the lock, C(absent) to release it.
    type: str
    choices: [present, absent]
    default: present
  purpose:
    description: What the run does (provision, teardown), for the message another run prints.
    type: str
    default: run
  owner:
    description: Who holds it; the controller's user and host name when omitted.
    type: str
  expiry_minutes:
    description: After how long the lock counts as left by a killed run and may be taken over.
    type: int
    default: 60
  force:
    description: Take over the lock even if another run holds it (that run must be gone).
    type: bool
    default: false
  token:
    description: With I(state=absent), the token that I(state=present) returned.
    type: str
    default: ""
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Wait up to 5 minutes for the lock of shop/dev
  shipyard.ec2_compose.run_lock:
    project: shop
    environment: dev
    purpose: provision
  register: lock
  until: lock.acquired
  retries: 30
  delay: 10

- name: Release it
  shipyard.ec2_compose.run_lock:
    project: shop
    environment: dev
    state: absent
    token: "{{ lock.token }}"
"""

RETURN = r"""
acquired:
  description: Whether this run holds the lock (state present).
  returned: always
  type: bool
token:
  description: What releases the lock; empty when not acquired.
  returned: always
  type: str
holder:
  description: Who holds the lock (this run when acquired), for what, since and until when.
  returned: always
  type: dict
  sample: {owner: ann@laptop, purpose: provision, started: "2026-12-07T10:02:11+00:00",
           expires: "2026-12-07T11:02:11+00:00"}
holder_line:
  description: The same in words.
  returned: always
  type: str
msg:
  description: Which run holds the lock, in words (what a wait that runs out of retries prints).
  returned: when state is present
  type: str
taken_over:
  description: The expired (or forced) lock this run replaced, if any.
  returned: always
  type: dict
released:
  description: Whether the lock was deleted (state absent; false when it was no longer this run's).
  returned: when state is absent
  type: bool
parameter:
  description: The SSM parameter's name.
  returned: always
  type: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.shipyard.ec2_compose.plugins.module_utils import run_lock
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.retry import aws_retry

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "project": {"type": "str", "required": True},
            "environment": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "purpose": {"type": "str", "default": "run"},
            "owner": {"type": "str"},
            "expiry_minutes": {"type": "int", "default": 60},
            "force": {"type": "bool", "default": False},
            "token": {"type": "str", "default": "", "no_log": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    name = run_lock.parameter_name(params["project"], params["environment"])
    if module.check_mode:
        module.exit_json(changed=False, acquired=True, token="", holder={}, holder_line="", taken_over={},
                         parameter=name)
    client = module.client("ssm", retry_decorator=aws_retry())
    try:
        if params["state"] == "absent":
            released = run_lock.release(client, name, params["token"])
            module.exit_json(changed=False, released=released, acquired=False, token="", holder={}, holder_line="",
                             taken_over={}, parameter=name)
        result = run_lock.acquire(client, name, params["owner"] or run_lock.default_owner(), params["purpose"],
                                  expiry_minutes=params["expiry_minutes"], force=params["force"])
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        module.fail_json_aws(error, msg=f"Could not {'release' if params['state'] == 'absent' else 'take'} the "
                                        f"run lock {name}")
    holder = {key: value for key, value in result["holder"].items() if key != "token"}
    line = run_lock.holder_line(holder)
    module.exit_json(changed=False, acquired=result["acquired"], token=result["token"], holder=holder, holder_line=line,
                     msg=f"{'This run' if result['acquired'] else 'Another run'} holds {name}: {line}",
                     taken_over={key: value for key, value in (result["taken_over"] or {}).items() if key != "token"},
                     parameter=name)


if __name__ == "__main__":
    main()
