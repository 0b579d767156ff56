# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cost_check in the controller's process when it needs no AWS call.

A planned stack priced from the table needs nothing but the price table: starting a module process
for it cost provision about a second on every run. The deployed mode, the Pricing API
(live_prices), and a task with an environment of its own (which only a module process would see)
run the module as before. The options and the verdict are the module's (module_utils/cost_gate.py).
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.cost_gate import (
    ARGUMENT_SPEC,
    REQUIRED_IF,
    verdict,
)

try:
    import boto3
    import botocore
except ImportError:
    boto3 = None  # the module reports what is missing


def session_region(profile):
    """The region boto3 resolves without a region option (AWS_DEFAULT_REGION, the profile's), as the
    AWS modules do; None when there is none."""
    try:
        return boto3.session.Session(profile_name=profile or None).region_name
    except botocore.exceptions.BotoCoreError:
        return None


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def _in_process(self):
        args = self._task.args
        return (boto3 is not None and not any(self._task.environment or [])
                and args.get("mode", "planned") == "planned" and not boolean(args.get("live_prices", False)))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if not self._in_process():
            result.update(self._execute_module(module_name="shipyard.ec2_compose.cost_check",
                                               module_args=self._task.args, task_vars=task_vars))
            return result
        _validation, params = self.validate_argument_spec(argument_spec={**aws_argument_spec(), **ARGUMENT_SPEC},
                                                          required_if=REQUIRED_IF)
        answer = verdict(params, params["region"] or session_region(params["profile"]))
        result.update(answer.result, changed=False)
        if answer.warnings:
            result["warnings"] = answer.warnings
        if answer.failure:
            result.update(failed=True, msg=answer.failure)
        return result
