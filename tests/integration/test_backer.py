"""sandbox/backer.py: an instance of the emulator is a container for its whole life, reached over
real SSH with the key pair's key, its user data run once; the backer's own calls stay out of the log.
Containers that an earlier run of a sandbox left are removed when it starts again, and only those."""

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sandbox"))
import backer
from images import vm_image

USER_DATA = "#!/bin/bash\necho first boot >> /root/first-boot\n"


def docker(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60, check=False)


def wait_until(check, seconds=90):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {check.__doc__}"
        time.sleep(1)


def test_an_instance_is_a_container_from_launch_to_termination(sandbox, tmp_path):
    ec2 = sandbox.ec2
    key = ec2.create_key_pair(KeyName="backer-test", KeyType="ed25519")
    (tmp_path / "key").write_text(key["KeyMaterial"])
    (tmp_path / "key").chmod(0o600)
    image = ec2.describe_images(Owners=["136693071363"],
                                Filters=[{"Name": "name", "Values": ["debian-13-amd64-*"]}])["Images"][0]
    mark = sandbox.requests_mark()

    launched = ec2.run_instances(ImageId=image["ImageId"], MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                 KeyName="backer-test", UserData=USER_DATA)["Instances"][0]
    instance_id = launched["InstanceId"]
    assert launched["State"]["Name"] == "pending"  # as on AWS: not running before it has booted
    # Before RunInstances answered, the container existed, the instance was running, its address on it.
    described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert described["State"]["Name"] == "running"
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    address = tags["SandboxAddress"]
    (container,) = sandbox.containers()
    assert docker("inspect", "--format", "{{.NetworkSettings.IPAddress}}", container).stdout.strip() == address

    def ssh_answers():
        """SSH as the AMI's login user (admin) with the key pair's private key"""
        return subprocess.run(
            ["ssh", "-i", str(tmp_path / "key"), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=3", f"admin@{address}",
             "sudo -n cat /root/first-boot"], capture_output=True, text=True, timeout=30, check=False,
        ).stdout.strip() == "first boot"

    wait_until(ssh_answers)
    user_data_on_host = docker("exec", container, "cat", "/var/lib/cloud/instance/user-data.txt").stdout
    assert user_data_on_host == USER_DATA
    assert docker("exec", container, "test", "-f", "/var/lib/cloud/instance/boot-finished").returncode == 0

    ec2.stop_instances(InstanceIds=[instance_id])
    assert docker("inspect", "--format", "{{.State.Running}}", container).stdout.strip() == "false"
    assert ec2.start_instances(InstanceIds=[instance_id])["StartingInstances"][0]["CurrentState"]["Name"] == "pending"
    assert ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"] == \
        "running"
    assert docker("inspect", "--format", "{{.State.Running}}", container).stdout.strip() == "true"
    # Once, like cloud-init: it ended well, and a restart did not run it again.
    assert docker("exec", container, "cat", "/var/lib/cloud/instance/user-data.rc").stdout.strip() == "0"
    assert docker("exec", container, "cat", "/root/first-boot").stdout == "first boot\n"

    ec2.terminate_instances(InstanceIds=[instance_id])
    assert sandbox.containers() == []
    assert [r["action"] for r in sandbox.requests_since(mark)] == [
        "RunInstances", "DescribeInstances", "StopInstances", "StartInstances", "DescribeInstances",
        "TerminateInstances"]


def test_a_new_start_removes_what_an_earlier_run_of_the_same_sandbox_left(tmp_path):
    """A machine killed mid-run keeps its containers, while a clean clone in the same place has no
    registry of them: they carry the sandbox's label, which is what the next start looks for."""
    ours, other = tmp_path / "ours", tmp_path / "other"
    created = {state: docker("create", "--label", backer.sandbox_label(state), vm_image("trixie"), "true")
               .stdout.strip() for state in (ours, other)}
    try:
        assert all(created.values())
        assert backer.remove_stale(ours) == 1
        assert docker("inspect", created[ours]).returncode != 0  # gone
        assert docker("inspect", created[other]).returncode == 0  # another sandbox's: kept
        assert backer.remove_stale(ours) == 0
    finally:
        for container in created.values():
            docker("rm", "--force", container)
