"""The tagged_resources_info action plugin, run by ansible-playbook against moto's HTTP server on this
machine: on a local connection the read is made in the controller's process (no module process) and
returns what the module returns; a task with an environment of its own runs the module; AWS's
errors and an empty tag set fail the same way on both paths."""

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[4]
MODULE_STARTED = "AnsiballZ_tagged_resources_info.py"  # -vvv names the module's payload when one is sent
IDENTITY = {"Project": "unit", "Environment": "dev", "ManagedBy": "shipyard.ec2_compose"}


@pytest.fixture(scope="module")
def endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=url, aws_access_key_id="unit-key",
                       aws_secret_access_key="unit-secret")
    tags = [{"Key": key, "Value": value} for key, value in IDENTITY.items()]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])["Vpc"]
    ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24",
                      TagSpecifications=[{"ResourceType": "subnet", "Tags": tags}])
    ec2.create_vpc(CidrBlock="10.1.0.0/16")  # not ours: never listed
    yield url
    server.stop()


def read(tmp_path, endpoint, task_args, task_extra=None):
    """The registered result of one tagged_resources_info task, and the run's output."""
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "module_defaults": {"group/shipyard.ec2_compose.aws": {"region": "us-east-1"}},
             "tasks": [{"shipyard.ec2_compose.tagged_resources_info": task_args, "register": "found",
                        "ignore_errors": True, **(task_extra or {})},
                       {"ansible.builtin.copy": {"content": "{{ found | to_json }}",
                                                 "dest": str(tmp_path / "found")}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="unit-key", AWS_SECRET_ACCESS_KEY="unit-secret",
               ANSIBLE_NOCOLOR="1")
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-vvv", "-i", "localhost,",
               "-e", f"ansible_python_interpreter={sys.executable}", str(tmp_path / "play.yml")]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    return json.loads((tmp_path / "found").read_text()), run.stdout


def comparable(result):
    return {key: result[key] for key in ("resources", "plan", "count", "region", "changed")}


def test_on_the_controller_the_read_needs_no_module_process_and_matches_the_module(tmp_path, endpoint):
    args = {"tags": IDENTITY, "vpc_attributes": True}
    here, output = read(tmp_path, endpoint, args)
    assert MODULE_STARTED not in output
    assert [item["type"] for item in here["plan"]] == ["subnet", "vpc"]
    assert here["plan"][1]["EnableDnsSupport"] is True  # vpc_attributes: read too
    assert here["region"] == "us-east-1"

    module, output = read(tmp_path, endpoint, args, {"environment": {"SHIPYARD_UNIT": "1"}})
    assert MODULE_STARTED in output
    assert comparable(here) == comparable(module)


def test_errors_fail_the_same_way_on_both_paths(tmp_path, endpoint):
    empty, output = read(tmp_path, endpoint, {"tags": {}})
    assert empty["failed"] and empty["msg"].startswith("tags must not be empty")
    assert MODULE_STARTED not in output

    wrong = {"tags": IDENTITY, "endpoint_url": "http://127.0.0.1:9"}  # nothing listens there
    here, _output = read(tmp_path, endpoint, wrong)
    module, _output = read(tmp_path, endpoint, wrong, {"environment": {"SHIPYARD_UNIT": "1"}})
    for result in (here, module):
        assert result["failed"] and result["msg"].startswith("Could not list the tagged resources: ")
        assert "127.0.0.1:9" in result["msg"]
