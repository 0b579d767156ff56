"""sandbox/backer.py: an instance of the emulator is a container for its whole life, reached over
real SSH with the key pair's key, its user data run once; the backer's own calls stay out of the log.
Its security groups are enforced on it. Containers that an earlier run of a sandbox left are removed
when it starts again, and only those."""

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sandbox"))
import backer
from cloud import debian_image, docker, security_group, tcp, wait_until
from images import vm_image

USER_DATA = "#!/bin/bash\necho first boot >> /root/first-boot\n"


def test_an_instance_is_a_container_from_launch_to_termination(sandbox, tmp_path):
    ec2 = sandbox.ec2
    key = ec2.create_key_pair(KeyName="backer-test", KeyType="ed25519")
    (tmp_path / "key").write_text(key["KeyMaterial"])
    (tmp_path / "key").chmod(0o600)
    ssh_from_here = security_group(ec2, "ssh", tcp(22, f"{sandbox.my_ip()}/32"))
    image_id = debian_image(ec2)
    mark = sandbox.requests_mark()

    launched = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                 KeyName="backer-test", UserData=USER_DATA,
                                 SecurityGroupIds=[ssh_from_here])["Instances"][0]
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


def answers_from(container, address, port):
    probe = f"import socket; socket.create_connection(('{address}', {port}), timeout=3).close()"
    return docker("exec", container, "python3", "-c", probe).returncode == 0


def test_security_groups_are_enforced_on_the_hosts_and_follow_their_rules(sandbox):
    ec2 = sandbox.ec2
    here = f"{sandbox.my_ip()}/32"
    peers = security_group(ec2, "peers")
    web = security_group(ec2, "web", tcp(80, "0.0.0.0/0"), tcp(22, here), tcp(8000, group=peers))
    hosts = {}
    for name, group in (("web", web), ("peer", peers)):
        instance_id = ec2.run_instances(ImageId=debian_image(ec2), MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                        SecurityGroupIds=[group])["Instances"][0]["InstanceId"]
        tags = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["Tags"]
        hosts[name] = {"id": instance_id, "address": {t["Key"]: t["Value"] for t in tags}["SandboxAddress"]}
    for container in sandbox.containers():
        address = docker("inspect", "--format", "{{.NetworkSettings.IPAddress}}", container).stdout.strip()
        next(host for host in hosts.values() if host["address"] == address)["container"] = container
    web_host, peer_host = hosts["web"], hosts["peer"]
    for host, port in ((web_host, 80), (web_host, 8000), (web_host, 8080), (peer_host, 8080)):
        docker("exec", "--detach", host["container"], "python3", "-m", "http.server", str(port))
    wait_until(lambda: answers_from(web_host["container"], "127.0.0.1", 8080)
               and answers_from(peer_host["container"], "127.0.0.1", 8080))
    address = web_host["address"]

    wait_until(lambda: sandbox.accepts(address, 22))  # sshd, from this machine's address ("my IP")
    assert sandbox.accepts(address, 80)  # from anywhere
    assert not sandbox.accepts(address, 8000)  # from the peers' group only
    assert answers_from(peer_host["container"], address, 8000)  # (and its reply came back: stateful)
    assert not sandbox.accepts(address, 8080)  # no rule
    assert not sandbox.accepts(peer_host["address"], 8080)  # the peers' group lets nothing in

    # The rules and the groups change: the hosts follow before the calls answer.
    ec2.revoke_security_group_ingress(GroupId=web, IpPermissions=[tcp(22, here)])
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[tcp(8080, "0.0.0.0/0")])
    assert not sandbox.accepts(address, 22)
    assert sandbox.accepts(address, 8080)
    ec2.modify_instance_attribute(InstanceId=peer_host["id"], Groups=[peers, web])
    assert sandbox.accepts(peer_host["address"], 8080)
