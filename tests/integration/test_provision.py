"""playbooks/provision.yml against the emulator: what it creates, and that a re-run changes nothing."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

STANDARD_TAGS = {"Project", "Environment", "ManagedBy", "Owner", "Name"}
ADMIN = "203.0.113.7/32"  # an admin elsewhere; the tests' own machine is let in too (provision waits for SSH)
ALERT_EMAIL = "ops@example.com"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def provisioned(module_sandbox):
    # The AWS default (Ubuntu 24.04), not the sandbox's Debian 13: the AMI lookup is under test here.
    module_sandbox.env = dict(module_sandbox.env, SHIPYARD_AMI="ubuntu-24.04")
    run = module_sandbox.playbook("playbooks/provision.yml", "-e", settings(module_sandbox))
    return module_sandbox, run


def admins(sandbox):
    return [ADMIN, f"{sandbox.my_ip()}/32"]


def settings(sandbox):
    return json.dumps({"admin_cidrs": admins(sandbox), "budget_alert_emails": [ALERT_EMAIL]})


def only(items):
    assert len(items) == 1, items
    return items[0]


def test_network(provisioned):
    sandbox = provisioned[0]
    ec2 = sandbox.ec2
    tagged = sandbox.tagged()
    vpc_id = only(tagged["vpc"])
    assert only(ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"])["CidrBlock"] == "10.0.0.0/16"
    for attribute in ("enableDnsSupport", "enableDnsHostnames"):
        key = attribute[0].upper() + attribute[1:]
        assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[key]["Value"] is True
    subnet = only(ec2.describe_subnets(SubnetIds=tagged["subnet"])["Subnets"])
    assert (subnet["CidrBlock"], subnet["VpcId"], subnet["MapPublicIpOnLaunch"]) == ("10.0.1.0/24", vpc_id, True)
    # A subnet made without a zone would land in the sandbox's us-east-1e (as AWS may choose), which offers
    # no t3 type: provision chose the first zone that offers t3.micro, and the host launched there.
    assert sandbox.env["AWS_REGION"] == "us-east-1" and subnet["AvailabilityZone"] == "us-east-1a"
    assert provisioned[1].recap()["failed"] == 0
    igw = only(ec2.describe_internet_gateways(InternetGatewayIds=tagged["internet_gateway"])["InternetGateways"])
    assert igw["Attachments"] == [{"State": "available", "VpcId": vpc_id}]
    table = only(ec2.describe_route_tables(RouteTableIds=tagged["route_table"])["RouteTables"])
    assert {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw["InternetGatewayId"]}.items() <= next(
        route for route in table["Routes"] if route.get("DestinationCidrBlock") == "0.0.0.0/0").items()
    assert [a["SubnetId"] for a in table["Associations"]] == [subnet["SubnetId"]]
    assert "nat_gateway" not in tagged and "elastic_ip" not in tagged  # the production layout is opt-in


def test_security_group_opens_ssh_to_admins_only(provisioned):
    sandbox = provisioned[0]
    group = only(sandbox.ec2.describe_security_groups(GroupIds=sandbox.tagged()["security_group"])["SecurityGroups"])
    rules = {(p["FromPort"], r["CidrIp"]) for p in group["IpPermissions"] for r in p["IpRanges"]}
    assert rules == {(22, cidr) for cidr in admins(sandbox)} | {(80, "0.0.0.0/0"), (8000, "0.0.0.0/0")}


def test_the_security_group_is_what_reaches_the_host(provisioned):
    """The sandbox enforces the group on the host: SSH from outside admin_cidrs and a port left out of
    public_ports time out, as on AWS; a re-run with the inputs back opens them again."""
    sandbox = provisioned[0]
    address = sandbox.host_address()
    (container,) = sandbox.containers()
    for port in (80, 8000):  # the app's ports, something listening on each
        subprocess.run(["docker", "exec", "--detach", container, "python3", "-m", "http.server", str(port)],
                       check=True, timeout=60)
    deadline = time.monotonic() + 30  # the servers take a moment to listen
    while not all(sandbox.accepts(address, port) for port in (22, 80, 8000)):
        assert time.monotonic() < deadline, "the host's ports 22, 80 and 8000 did not all answer"
        time.sleep(1)

    # (The host was running: provision does not wait for its SSH, which this machine may no longer reach.)
    narrower = {"admin_cidrs": [ADMIN], "public_ports": [80], "budget_alert_emails": [ALERT_EMAIL]}
    sandbox.playbook("playbooks/provision.yml", "-e", json.dumps(narrower))
    assert not sandbox.accepts(address, 22)  # this machine is not in admin_cidrs
    assert sandbox.accepts(address, 80)
    assert not sandbox.accepts(address, 8000)  # not in public_ports

    sandbox.playbook("playbooks/provision.yml", "-e", settings(sandbox))
    assert sandbox.accepts(address, 22) and sandbox.accepts(address, 8000)


def test_instance_is_hardened_and_uses_the_newest_ubuntu(provisioned):
    sandbox = provisioned[0]
    ec2 = sandbox.ec2
    instance = only(ec2.describe_instances(InstanceIds=sandbox.tagged()["instance"])["Reservations"])["Instances"][0]
    assert instance["InstanceType"] == "t3.micro"
    assert instance["ImageId"] == "ami-04b70fa74e45c3917"  # noble amd64 20250115, not the older or arm64 one
    assert instance["KeyName"] == "tasklist-dev"
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    assert instance["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == sandbox.tagged()["security_group"]
    volume = only(ec2.describe_volumes(VolumeIds=sandbox.tagged()["volume"])["Volumes"])
    assert (volume["Encrypted"], volume["VolumeType"], volume["Size"]) == (True, "gp3", 20)
    assert volume["Attachments"][0]["InstanceId"] == instance["InstanceId"]


def test_every_resource_carries_the_standard_tags(provisioned):
    sandbox = provisioned[0]
    tagged = sandbox.tagged()
    assert sorted(tagged) == ["instance", "internet_gateway", "key_pair", "route_table", "security_group",
                              "subnet", "volume", "vpc"]
    ec2 = sandbox.ec2
    described = (
        ec2.describe_vpcs()["Vpcs"] + ec2.describe_subnets()["Subnets"]
        + ec2.describe_internet_gateways()["InternetGateways"] + ec2.describe_route_tables()["RouteTables"]
        + ec2.describe_security_groups()["SecurityGroups"] + ec2.describe_key_pairs()["KeyPairs"]
        + ec2.describe_volumes()["Volumes"]
        + [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    )
    ours = [item for item in described if any(t["Key"] == "ManagedBy" for t in item.get("Tags", []))]
    assert len(ours) == sum(len(ids) for ids in tagged.values())
    for item in ours:
        tags = {t["Key"]: t["Value"] for t in item["Tags"]}
        assert set(tags) >= STANDARD_TAGS, item
        assert tags["Name"].startswith("tasklist-dev")


def test_report_names_the_instance_and_how_to_reach_it(provisioned):
    sandbox, run = provisioned
    instance_id = only(sandbox.tagged()["instance"])
    assert f"instance_id: {instance_id}" in run.output
    assert "ssh -i " in run.output and "ubuntu@" in run.output
    assert "http://" in run.output and ":8000/" in run.output


def test_summary_prints_the_monthly_estimate(provisioned):
    # t3.micro 0.0104 x 730 + 20 GB gp3 x 0.08 + public IPv4 0.005 x 730, full price by default.
    assert "cost: 12.84 USD/month in us-east-1 at full price" in provisioned[1].output
    assert "instance t3.micro: 730 hour x 0.0104 = 7.59" in provisioned[1].output


def test_budget_alert_on_the_monthly_budget(provisioned):
    sandbox = provisioned[0]
    budgets = sandbox.client("budgets")
    account = sandbox.client("sts").get_caller_identity()["Account"]
    budget = budgets.describe_budget(AccountId=account, BudgetName="tasklist-dev")["Budget"]
    assert float(budget["BudgetLimit"]["Amount"]) == 25  # monthly_budget's default
    notifications = budgets.describe_notifications_for_budget(AccountId=account, BudgetName="tasklist-dev")
    assert sorted((n["NotificationType"], n["Threshold"]) for n in notifications["Notifications"]) == [
        ("ACTUAL", 80), ("FORECASTED", 100)]
    for notification in notifications["Notifications"]:
        subscribers = budgets.describe_subscribers_for_notification(
            AccountId=account, BudgetName="tasklist-dev", Notification=notification)["Subscribers"]
        assert subscribers == [{"SubscriptionType": "EMAIL", "Address": ALERT_EMAIL}]


def test_deployed_cost_is_what_the_gate_planned(provisioned):
    sandbox = provisioned[0]
    select = json.dumps({"mode": "deployed", "select": {"Project": "tasklist", "Environment": "dev"}})
    out = sandbox.command("ansible", "localhost", "-o", "-m", "shipyard.ec2_compose.cost_check", "-a", select).stdout
    deployed = json.loads(out.split("=>", 1)[1])
    assert deployed["total"] == 12.84
    assert sorted(item["kind"] for item in deployed["items"]) == ["instance", "public_ipv4", "volume"]


def plan_lines(run):
    """The lines of provision's plan table: (action, type, name)."""
    table = run.output.split("TASK [The plan]", 1)[1].split("TASK [", 1)[0]
    lines = []
    for line in table.splitlines():
        if line.strip().startswith("- "):  # YAML output: a line with ": " in it comes quoted
            action, kind, rest = line.strip()[2:].strip("'\"").split(None, 2)
            lines.append((action, kind, rest.split(":", 1)[0]))
    return lines


def test_rerun_reads_once_and_runs_no_aws_module(provisioned):
    sandbox = provisioned[0]
    before = sandbox.tagged()
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/provision.yml", "-e", settings(sandbox))
    actions = [call["action"] for call in sandbox.requests_since(mark)]
    assert run.recap()["changed"] == 0, run.output[-4000:]
    assert sandbox.mutating_since(mark) == []
    assert sandbox.tagged() == before
    assert {line[0] for line in plan_lines(run)} == {"keep"} and len(plan_lines(run)) == 7
    # One read: a describe per type. Each amazon.aws module would have described its resource again.
    # (Instances are also described by the inventory and the sandbox's backer: not counted. Subnets
    # twice: placement_info reads their zones before the run lock, the read after it.)
    for action in ("DescribeVpcs", "DescribeSubnets", "DescribeInternetGateways", "DescribeRouteTables",
                   "DescribeSecurityGroups", "DescribeKeyPairs", "DescribeImages"):
        expected = {"DescribeImages": 0, "DescribeSubnets": 2}.get(action, 1)
        assert actions.count(action) == expected, (action, actions)
    assert actions.count("DescribeVpcAttribute") == 2


def test_check_mode_on_the_existing_stack_changes_nothing(provisioned):
    sandbox = provisioned[0]
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/provision.yml", "--check", "--diff", "-e", settings(sandbox))
    assert run.recap()["changed"] == 0, run.output[-4000:]
    assert sandbox.mutating_since(mark) == []


def test_inventory_finds_the_instance_in_its_tag_groups(provisioned):
    sandbox = provisioned[0]
    graph = sandbox.command("ansible-inventory", "--graph").stdout
    assert "@project_tasklist:" in graph and "@env_dev:" in graph
    assert graph.count("tasklist-dev-web") == 4  # all, shipyard_hosts, project_tasklist, env_dev
    host = json.loads(sandbox.command("ansible-inventory", "--host", "tasklist-dev-web").stdout)
    instance = only(sandbox.ec2.describe_instances()["Reservations"])["Instances"][0]
    # The sandbox reaches the host at its container's address, which the backer tags on the instance.
    # (core 2.19 may wrap strings as {"__ansible_unsafe": ...}: compare the text.)
    address = {t["Key"]: t["Value"] for t in instance["Tags"]}["SandboxAddress"]
    assert f"'{address}'" in str(host["ansible_host"]) or host["ansible_host"] == address
    assert "'ubuntu'" in str(host["ansible_user"]) or host["ansible_user"] == "ubuntu"


def test_inventory_does_not_list_another_environment(provisioned):
    sandbox = provisioned[0]
    graph = sandbox.command("ansible-inventory", "--graph", environment="staging").stdout
    assert "tasklist-dev-web" not in graph


def test_drift_behind_provisions_back_is_planned_and_repaired(provisioned):
    """Changes one attribute of every resource that the roles set, in the emulator, as someone in the
    console would; the next run's plan names each, the modules repair them, and a third run keeps all."""
    sandbox = provisioned[0]
    ec2, found = sandbox.ec2, sandbox.tagged()
    vpc, subnet, igw = only(found["vpc"]), only(found["subnet"]), only(found["internet_gateway"])
    group, instance = only(found["security_group"]), only(found["instance"])
    table = only(found["route_table"])
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": False})
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": False})
    ec2.delete_tags(Resources=[igw], Tags=[{"Key": "Owner"}])
    ec2.delete_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
    ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": ADMIN}]}])
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.create_tags(Resources=[only(found["key_pair"])], Tags=[{"Key": "Owner", "Value": "mallory"}])
    ec2.modify_instance_metadata_options(InstanceId=instance, HttpTokens="optional")

    repair = sandbox.playbook("playbooks/provision.yml", "--diff", "-e", settings(sandbox))
    assert [line for line in plan_lines(repair) if line[0] != "keep"] == [
        ("update", "vpc", "tasklist-dev-vpc"), ("update", "subnet", "tasklist-dev-public"),
        ("update", "internet_gateway", "tasklist-dev-igw"), ("update", "route_table", "tasklist-dev-public"),
        ("update", "security_group", "tasklist-dev-web"), ("update", "key_pair", "tasklist-dev-key"),
        ("update", "instance", "tasklist-dev-web")]
    for words in ("dns_hostnames: False -> True", "map_public: False -> True", "tag Owner: add",
                  "route 0.0.0.0/0 -> igw-", f"rule tcp 22 from {ADMIN} (SSH from admins): add",
                  "rule tcp 5432 from 0.0.0.0/0: remove", "tag Owner: 'mallory' ->",
                  "http_tokens: 'optional' -> 'required'"):
        # The table's lines come as YAML: wrapped, and quoted (a quote doubled) when they hold ": ".
        assert words in " ".join(repair.output.replace("''", "'").split()), words

    assert ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"]
    assert ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["MapPublicIpOnLaunch"]
    assert "Owner" in {t["Key"] for t in ec2.describe_internet_gateways(InternetGatewayIds=[igw])
                       ["InternetGateways"][0]["Tags"]}
    routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    assert {(r.get("DestinationCidrBlock"), r.get("GatewayId")) for r in routes} >= {("0.0.0.0/0", igw)}
    rules = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    assert {rule.get("FromPort") for rule in rules} == {22, 80, 8000}
    key = only(ec2.describe_key_pairs(KeyNames=["tasklist-dev"])["KeyPairs"])
    assert {t["Key"]: t["Value"] for t in key["Tags"]}["Owner"] != "mallory"
    described = only(ec2.describe_instances(InstanceIds=[instance])["Reservations"])["Instances"][0]
    assert described["MetadataOptions"]["HttpTokens"] == "required"

    again = sandbox.playbook("playbooks/provision.yml", "-e", settings(sandbox))
    assert again.recap()["changed"] == 0 and {line[0] for line in plan_lines(again)} == {"keep"}


def test_tag_audit_names_a_resource_that_lost_a_tag_and_a_rerun_repairs_it(provisioned):
    """Last of the tests on the shared stack: it changes it (the next test resets the cloud)."""
    sandbox = provisioned[0]
    subnet = only(sandbox.tagged()["subnet"])
    sandbox.ec2.delete_tags(Resources=[subnet], Tags=[{"Key": "Owner"}])
    audit = subprocess.run(
        ["ansible", "localhost", "-m", "shipyard.ec2_compose.tag_audit", "-a",
         json.dumps({"select": {"Project": "tasklist", "Environment": "dev"}, "fail_on_missing": True})],
        cwd=ROOT, env=dict(os.environ, **sandbox.env), capture_output=True, text=True, check=False, timeout=120)
    assert audit.returncode != 0
    assert f"subnet {subnet} tasklist-dev-public: missing Owner" in audit.stdout
    run = sandbox.playbook("playbooks/provision.yml", "-e", json.dumps({"admin_cidrs": admins(sandbox)}))
    assert run.recap()["changed"] == 1  # the subnet's tags
    assert "Owner" in {t["Key"] for t in sandbox.ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["Tags"]}


def test_check_mode_on_an_empty_cloud_creates_nothing(sandbox):
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/provision.yml", "--check", "--diff")
    assert run.recap()["changed"] >= 7  # VPC, subnet, IGW, routes, SG, key, key directory
    assert "would be launched: t3.micro" in run.output
    assert sandbox.mutating_since(mark) == []
    assert sandbox.tagged() == {}
    assert not (sandbox.tmp_path / "ssh").exists()


def test_a_key_pair_holding_another_key_stops_before_any_launch_unless_replaced(sandbox):
    # Imported from "another laptop": same name, another public key.
    laptop = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIATkzVjHARYX+uSC45mQufC8dMhMgROAaDXMUV8p4sEx laptop"
    identity = {"Project": "tasklist", "Environment": "dev", "ManagedBy": "shipyard.ec2_compose"}
    sandbox.ec2.import_key_pair(KeyName="tasklist-dev", PublicKeyMaterial=laptop.encode(), TagSpecifications=[
        {"ResourceType": "key-pair", "Tags": [{"Key": k, "Value": v} for k, v in identity.items()]}])
    inputs = json.dumps({"admin_cidrs": admins(sandbox)})

    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/provision.yml", "-e", inputs, check=False)
    assert run.rc != 0
    assert "The key pair tasklist-dev already exists in this region with another public key than" in run.output
    assert f"{sandbox.tmp_path}/ssh/dev.pub" in run.output and "replace_key_pair=true" in run.output
    assert "RunInstances" not in sandbox.mutating_since(mark)
    assert "instance" not in sandbox.tagged()

    sandbox.playbook("playbooks/provision.yml", "-e", inputs, "-e", "replace_key_pair=true")
    key = only(sandbox.ec2.describe_key_pairs(KeyNames=["tasklist-dev"], IncludePublicKey=True)["KeyPairs"])
    assert key["PublicKey"].split()[1] == (sandbox.tmp_path / "ssh" / "dev.pub").read_text().split()[1]
    assert {t["Key"] for t in key["Tags"]} >= STANDARD_TAGS
    assert len(sandbox.tagged().get("instance", [])) == 1


def test_a_host_this_machine_may_not_reach_fails_the_wait_naming_admin_cidrs(sandbox):
    """As on AWS, the group drops this machine's SSH: the wait cannot succeed, and says why."""
    inputs = json.dumps({"admin_cidrs": [ADMIN], "ssh_wait_timeout": 15})
    run = sandbox.playbook("playbooks/provision.yml", "-e", inputs, check=False)
    assert run.rc != 0
    said = " ".join(run.output.split())
    assert f"did not answer SSH within 15 s. Its security group lets port 22 in from {ADMIN} only" in said
    assert "admin_cidrs" in said and run.recap()["failed"] == 0  # the controller's part went through


def test_a_graviton_type_gets_an_image_of_its_architecture(sandbox):
    """t4g is arm64: the image is the family's arm64 one (the sandbox's host is still an amd64 container)."""
    amd64_only = sandbox.playbook("playbooks/provision.yml", "--check", "-e", "instance_type=t4g.micro",
                                  "-e", "ami_owner=136693071363", "-e", "ami_name_pattern=debian-13-amd64-*",
                                  check=False)
    assert amd64_only.rc != 0
    assert ("instance_type t4g.micro runs arm64 images only: choose an image of that architecture or another "
            "instance_type") in " ".join(amd64_only.output.split()), amd64_only.output[-3000:]

    sandbox.playbook("playbooks/provision.yml", "-e", "instance_type=t4g.micro")
    instance = sandbox.ec2.describe_instances(InstanceIds=sandbox.tagged()["instance"])["Reservations"][0][
        "Instances"][0]
    image = sandbox.ec2.describe_images(ImageIds=[instance["ImageId"]])["Images"][0]
    assert (instance["InstanceType"], image["Architecture"], image["Name"]) == (
        "t4g.micro", "arm64", "debian-13-arm64-20251006-2257")
