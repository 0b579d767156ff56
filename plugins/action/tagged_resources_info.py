# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tagged_resources_info in the controller's process when the task runs on the controller.

The read is a dozen describe calls sent together, 0.05 s in the sandbox; the module process around
them (its start, boto3's import, the client) cost every provision and site.yml run ~0.7 s. On a
local connection the calls go out from the same machine either way, so they are made here, with
boto3 already loaded (the aws_ec2 inventory loads it). A task on another host, with an environment
of its own, with aws_config or botocore's endpoint logs, or both a profile and keys, runs the module
as before. The options and the result are the module's (module_utils/resources.py).
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.resources import (
    EMPTY_TAGS,
    TAGGED_RESOURCES_OPTIONS,
    read_environment,
)

try:
    import boto3
    import botocore
except ImportError:
    boto3 = None  # the module reports what is missing

MODULE = "shipyard.ec2_compose.tagged_resources_info"


def clients(params):
    """A client_for(service) of the clients the options describe, or None when the module should
    decide (and explain)."""
    if params["aws_config"] or params["debug_botocore_endpoint_logs"]:
        return None
    if params["profile"] and (params["access_key"] or params["secret_key"]):
        return None  # the module's own error: a profile and keys together
    try:
        session = boto3.session.Session(aws_access_key_id=params["access_key"] or None,
                                        aws_secret_access_key=params["secret_key"] or None,
                                        aws_session_token=params["session_token"] or None,
                                        profile_name=params["profile"] or None,
                                        region_name=params["region"] or None)
    except botocore.exceptions.BotoCoreError:
        return None  # e.g. an unknown profile: the module says so
    if not session.region_name:
        return None
    made = {}

    def client_for(service):
        if service not in made:
            made[service] = session.client(service, endpoint_url=params["endpoint_url"] or None,
                                           verify=params["aws_ca_bundle"] or params["validate_certs"])
        return made[service]
    return client_for


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def _on_the_controller(self):
        return (boto3 is not None and getattr(self._connection, "transport", None) == "local"
                and not any(self._task.environment or []))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        client_for = None
        if self._on_the_controller():
            _validation, params = self.validate_argument_spec(
                argument_spec={**aws_argument_spec(), **TAGGED_RESOURCES_OPTIONS})
            if not params["tags"]:
                return dict(result, failed=True, msg=EMPTY_TAGS)
            client_for = clients(params)
        if client_for is None:
            result.update(self._execute_module(module_name=MODULE, module_args=self._task.args, task_vars=task_vars))
            return result
        try:
            found = read_environment(client_for, params)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
            return dict(result, failed=True, msg=f"Could not list the tagged resources: {error}",
                        error=getattr(error, "response", {}).get("Error", {}))
        return dict(result, changed=False, region=client_for("ec2").meta.region_name, **found)
