"""playbooks/teardown.yml: deletes exactly one environment's resources, in order, and proves it."""

import json
import re

import pytest

# A terminated host's interface holds its security group and subnet for a while, as on AWS (the test
# sandbox's default is 1 s): 10 s for dev's host, 20 s for staging's, whose first teardown is given less.
DEV_LAYOUT = json.dumps({"extra_tags": {"SandboxLingerSeconds": "10"}})
# The NAT gateway bills 32.85 USD a month: over the default monthly_budget of 25.
PRODUCTION_LAYOUT = json.dumps({"private_subnet_enabled": True, "monthly_budget": 60,
                                "extra_tags": {"SandboxLingerSeconds": "20"}})
ORDER = ["instance", "nat_gateway", "elastic_ip", "volume", "security_group", "route_table", "subnet",
         "internet_gateway", "vpc", "key_pair"]


@pytest.fixture(scope="module")
def two_environments(module_sandbox):
    """dev (default layout) and staging (private subnet + NAT gateway) side by side."""
    sandbox = module_sandbox
    sandbox.playbook("playbooks/provision.yml", "-e", DEV_LAYOUT, environment="dev")
    sandbox.playbook("playbooks/provision.yml", "-e", PRODUCTION_LAYOUT, environment="staging")
    return sandbox


def test_production_layout_is_created_and_idempotent(two_environments):
    sandbox = two_environments
    staging = sandbox.tagged("staging")
    assert len(staging["nat_gateway"]) == 1 and len(staging["elastic_ip"]) == 1
    assert len(staging["subnet"]) == 2 and len(staging["route_table"]) == 2
    private = [s for s in sandbox.ec2.describe_subnets(SubnetIds=staging["subnet"])["Subnets"]
               if s["CidrBlock"] == "10.0.2.0/24"]
    assert private and private[0]["MapPublicIpOnLaunch"] is False
    run = sandbox.playbook("playbooks/provision.yml", "-e", PRODUCTION_LAYOUT, environment="staging")
    assert run.recap()["changed"] == 0, run.output[-4000:]


def test_without_confirmation_nothing_is_deleted(two_environments):
    sandbox = two_environments
    before = sandbox.tagged("dev")
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/teardown.yml", check=False)
    assert run.rc != 0
    assert "teardown_confirm must equal the environment name" in run.output
    run = sandbox.playbook("playbooks/teardown.yml", "-e", "teardown_confirm=staging", check=False)
    assert run.rc != 0
    assert sandbox.mutating_since(mark) == []
    assert sandbox.tagged("dev") == before


def test_check_mode_prints_the_plan_in_dependency_order(two_environments):
    sandbox = two_environments
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/teardown.yml", "--check", environment="staging")
    assert sandbox.mutating_since(mark) == []
    plan = re.findall(rf"^\s*- ({'|'.join(ORDER)})\s+(\S+)", run.output, re.MULTILINE)
    kinds = [kind for kind, _resource_id in plan]
    assert kinds == sorted(kinds, key=ORDER.index)
    assert set(plan) == {
        (kind, resource_id) for kind, ids in sandbox.tagged("staging").items() for resource_id in ids}


def test_teardown_deletes_one_environment_and_nothing_else(two_environments):
    sandbox = two_environments
    ec2 = sandbox.ec2
    staging_before = sandbox.tagged("staging")
    default_vpcs = [v["VpcId"] for v in ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]]
    assert default_vpcs

    # SSH knew the dev host by its public address and by the inventory's address: both are
    # forgotten, another host's entry is kept.
    (dev_host,) = [instance for reservation in ec2.describe_instances(Filters=[
        {"Name": "tag:Environment", "Values": ["dev"]}, {"Name": "instance-state-name", "Values": ["running"]}],
    )["Reservations"] for instance in reservation["Instances"]]
    tags = {tag["Key"]: tag["Value"] for tag in dev_host["Tags"]}
    host_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIATkzVjHARYX+uSC45mQufC8dMhMgROAaDXMUV8p4sEx"
    known_hosts = sandbox.tmp_path / "known_hosts"
    known_hosts.write_text("".join(f"{address} {host_key}\n" for address in
                                   (dev_host["PublicIpAddress"], tags["SandboxAddress"], "198.51.100.9")))

    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/teardown.yml", "-e", "teardown_confirm=dev",
                           "-e", f"teardown_known_hosts_file={known_hosts}")
    assert "Nothing tagged Project=tasklist Environment=dev is left" in run.output
    assert known_hosts.read_text().split() == ["198.51.100.9", *host_key.split()]
    assert sandbox.tagged("dev") == {}
    assert sandbox.tagged("staging") == staging_before
    assert [v["VpcId"] for v in ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]] == \
        default_vpcs

    # Dependency order of the deletions, as the emulator saw them (those it accepted).
    calls = [r for r in sandbox.requests_since(mark)
             if r["action"] in ("TerminateInstances", "DeleteSecurityGroup", "DeleteRouteTable", "DeleteSubnet",
                                "DetachInternetGateway", "DeleteInternetGateway", "DeleteVpc", "DeleteKeyPair")]
    expected = ["TerminateInstances", "DeleteSecurityGroup", "DeleteRouteTable", "DeleteSubnet",
                "DetachInternetGateway", "DeleteInternetGateway", "DeleteVpc", "DeleteKeyPair"]
    assert [r["action"] for r in calls if r["status"] == 200] == expected
    # Right after the termination the emulator refused the security group's delete, as AWS does
    # while the instance's interface lingers, and teardown waited it out in the same run.
    refused = [r["action"] for r in calls if r["status"] != 200]
    assert refused and set(refused) <= {"DeleteSecurityGroup", "DeleteSubnet", "DetachInternetGateway"}
    assert "FAILED - RETRYING: [localhost]: Delete the security groups" in run.output


def test_second_teardown_is_a_no_op(two_environments):
    sandbox = two_environments
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/teardown.yml", "-e", "teardown_confirm=dev")
    assert run.recap()["changed"] == 0
    assert sandbox.mutating_since(mark) == []


def test_teardown_of_the_production_layout_leaves_nothing(two_environments):
    sandbox = two_environments
    # Told to wait less than the interface lingers: the run fails, naming the variable to raise.
    short = sandbox.playbook("playbooks/teardown.yml", "-e", "teardown_confirm=staging",
                             "-e", "teardown_dependency_wait_seconds=2", environment="staging", check=False)
    assert short.rc != 0
    assert "DependencyViolation after teardown_dependency_wait_seconds (2 s)" in " ".join(short.output.split())
    run = sandbox.playbook("playbooks/teardown.yml", "-e", "teardown_confirm=staging", environment="staging")
    assert "Nothing tagged Project=tasklist Environment=staging is left" in run.output
    assert sandbox.tagged("staging") == {}
    assert sandbox.ec2.describe_addresses()["Addresses"] == []
    live = [n for n in sandbox.ec2.describe_nat_gateways()["NatGateways"] if n["State"] not in ("deleted", "deleting")]
    assert live == []
