"""Data and availability across a reboot: stop and start the instance (its container in the
sandbox), and the app comes back by itself (docker enabled, restart policies) with its data."""

import json
import time
import urllib.request

import pytest

pytestmark = [pytest.mark.hardening, pytest.mark.deploys]


def tasks_at(address):
    try:
        with urllib.request.urlopen(f"http://{address}:8000/api/tasks", timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


def instance_of(sandbox):
    reservations = sandbox.ec2.describe_instances(Filters=[
        {"Name": "tag:Project", "Values": ["tasklist"]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])["Reservations"]
    return reservations[0]["Instances"][0]


def address_of(instance):
    return {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}.get("SandboxAddress")


def test_app_and_its_data_come_back_after_stop_and_start(sandbox):
    sandbox.playbook("playbooks/site.yml")
    instance = instance_of(sandbox)
    address = address_of(instance)
    request = urllib.request.Request(f"http://{address}:8000/api/tasks", method="POST",
                                     data=json.dumps({"title": "before the reboot"}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()

    sandbox.ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    assert tasks_at(address) is None  # really down
    sandbox.ec2.start_instances(InstanceIds=[instance["InstanceId"]])

    started = time.monotonic()
    deadline = started + 240
    while True:
        address = address_of(instance_of(sandbox))  # a restarted container may get a new address
        found = tasks_at(address) if address else None
        if found:
            break
        assert time.monotonic() < deadline, "the app did not come back within 240 s of the start"
        time.sleep(3)
    assert "before the reboot" in [task["title"] for task in found]
    print(f"app back {time.monotonic() - started:.1f} s after StartInstances")
