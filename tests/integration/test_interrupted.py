"""Interrupted runs: provision killed right after a stage (the VPC, the security group, the instance
launch) leaves a partial environment; a re-run completes it with exactly one of each resource, and
a teardown from the partial state leaves nothing."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.hardening
ROOT = Path(__file__).resolve().parents[2]

ONE_OF_EACH = {"vpc": 1, "subnet": 1, "internet_gateway": 1, "route_table": 1, "security_group": 1,
               "instance": 1, "volume": 1, "key_pair": 1}


def provision_killed_after(sandbox, action):
    """Start provision, kill its whole process group (no clean-up) once the emulator answered `action`."""
    mark = sandbox.requests_mark()
    env = {**os.environ, **sandbox.env, "SHIPYARD_ENVIRONMENT": "dev"}
    command = ["ansible-playbook", "playbooks/provision.yml", "-e", f"ssh_key_path={sandbox.tmp_path}/ssh/dev"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    try:
        while action not in [r["action"] for r in sandbox.requests_since(mark) if r["status"] == 200]:
            assert process.poll() is None, f"provision ended before {action}"
            assert time.monotonic() < deadline, f"no {action} within 300 s"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    return {kind: len(ids) for kind, ids in sandbox.tagged().items()}


@pytest.mark.parametrize("action", ["CreateVpc", "CreateSecurityGroup", "RunInstances"])
def test_interrupted_provision_is_completed_or_torn_down(sandbox, action):
    partial = provision_killed_after(sandbox, action)
    assert partial.get("vpc") == 1, partial
    if action != "RunInstances":
        assert "instance" not in partial, partial  # really interrupted half way
    sandbox.playbook("playbooks/provision.yml")
    assert {kind: len(ids) for kind, ids in sandbox.tagged().items()} == ONE_OF_EACH
    sandbox.playbook("playbooks/teardown.yml", "-e", "teardown_confirm=dev")
    assert sandbox.tagged() == {}

    partial = provision_killed_after(sandbox, action)
    sandbox.playbook("playbooks/teardown.yml", "-e", "teardown_confirm=dev")
    assert sandbox.tagged() == {}
    print(f"killed after {action}: left {partial}; re-run completed it, teardown cleaned both states")
