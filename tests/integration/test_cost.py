"""The cost plugins against the emulator: the gate, the budget alert, the account audit, and
teardown's proof that nothing billable of the environment is left."""

import json
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

IDENTITY_TAGS = [{"Key": "Project", "Value": "tasklist"}, {"Key": "Environment", "Value": "dev"},
                 {"Key": "ManagedBy", "Value": "shipyard.ec2_compose"}]


def account(sandbox):
    return sandbox.client("sts").get_caller_identity()["Account"]


def inventory_call_only(requests):
    """The only AWS call is the dynamic inventory's, made when ansible-playbook starts."""
    return [r["action"] for r in requests] in ([], ["DescribeInstances"])


def test_gate_stops_provision_before_any_aws_call(sandbox):
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/provision.yml", "-e", "monthly_budget=5", check=False)
    calls = sandbox.requests_since(mark)
    assert run.rc != 0
    assert "Estimated monthly cost 12.84 USD (free tier none, before free tier 12.84) is over monthly_budget (5 USD)" \
        in run.output
    assert "instance t3.micro: 730 hour x 0.0104 = 7.59" in run.output
    assert inventory_call_only(calls)
    assert sandbox.tagged() == {}


def test_gate_passes_under_the_free_tier_and_warns_when_told(sandbox):
    # The legacy free tier covers t2.micro in us-east-1 (t3.micro only where t2.micro is not offered).
    run = sandbox.playbook("playbooks/provision.yml", "--check", "-e", "monthly_budget=5", "-e", "free_tier=legacy",
                           "-e", "instance_type=t2.micro")
    assert "13.72 USD/month in us-east-1 at full price; 0.00 under free tier legacy" in run.output
    # The emulator has no Pricing API: live_prices falls back to the table, with a warning.
    warned = sandbox.playbook("playbooks/provision.yml", "--check", "-e", "monthly_budget=5",
                              "-e", "budget_action=warn", "-e", "live_prices=true")
    assert "is over monthly_budget (5 USD)" in warned.output and "[WARNING]" in warned.output
    assert "The AWS Pricing API did not answer" in warned.output and "using the price table instead" in warned.output


def test_gate_warns_and_goes_on_in_a_region_it_cannot_price(sandbox):
    # A region the table lacks must not block a user: a warning naming the variables, then provision.
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/provision.yml", "--check", "-e", "aws_region=sa-east-1")
    output = " ".join(run.output.split())  # warnings are wrapped at the terminal's width
    assert "region 'sa-east-1' has no prices" in output
    assert "The cost gate (monthly_budget 25 USD) is skipped: set live_prices" in output
    assert "or monthly_budget 0 to turn the gate off" in output
    assert sandbox.mutating_since(mark) == []


def test_gate_can_refuse_what_it_cannot_price(sandbox):
    run = subprocess.run(
        ["ansible", "localhost", "-o", "-m", "shipyard.ec2_compose.cost_check", "-a",
         json.dumps({"region": "sa-east-1", "instance_type": "t3.micro", "budget": 25, "on_unpriced": "fail"})],
        cwd=ROOT, env={**os.environ, **sandbox.env}, capture_output=True, text=True, check=False)
    assert run.returncode != 0
    assert "region 'sa-east-1' has no prices" in run.stdout and "budget 0 to go on without the gate" in run.stdout


def budget_module(sandbox, **args):
    out = sandbox.command("ansible", "localhost", "-o", "-m", "shipyard.ec2_compose.budget", "-a",
                          json.dumps({"name": "tasklist-dev", **args})).stdout
    return json.loads(out.split("=>", 1)[1])


def test_budget_created_once_unchanged_on_rerun_then_deleted(sandbox):
    budgets = sandbox.client("budgets")
    created = budget_module(sandbox, amount=5, emails=["me@example.com"])
    assert created["changed"] and created["actions"][0] == "created budget tasklist-dev (5 USD/month)"
    assert float(budgets.describe_budget(AccountId=account(sandbox), BudgetName="tasklist-dev")
                 ["Budget"]["BudgetLimit"]["Amount"]) == 5

    mark = sandbox.requests_mark()
    again = budget_module(sandbox, amount=5, emails=["me@example.com"])
    assert not again["changed"] and again["actions"] == []
    assert sandbox.mutating_since(mark) == []

    deleted = budget_module(sandbox, state="absent")
    assert deleted["changed"]
    assert budgets.describe_budgets(AccountId=account(sandbox)).get("Budgets", []) == []
    assert not budget_module(sandbox, state="absent")["changed"]


def test_audit_prices_what_was_left_in_another_region(sandbox):
    ec2 = sandbox.client("ec2", region="eu-west-3")
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["debian-13-amd64-*"]}])["Images"][0]
    instance = ec2.run_instances(ImageId=image["ImageId"], MinCount=1, MaxCount=1, InstanceType="t3.micro")
    instance_id = instance["Instances"][0]["InstanceId"]
    address = ec2.allocate_address(Domain="vpc")

    run = sandbox.playbook("playbooks/audit.yml")

    # t3.micro in eu-west-3: 0.0118 x 730 = 8.614; its public IPv4 3.65; its root volume at the
    # table's per-GB price for the volume's type.
    volume = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}])["Volumes"][0]
    per_gb = {"gp3": 0.0928, "gp2": 0.116}[volume["VolumeType"]]
    expected = round(0.0118 * 730 + 0.005 * 730 + volume["Size"] * per_gb, 2)
    lines = run.output.splitlines()
    instance_line = next(line for line in lines if instance_id in line)
    assert re.match(rf"^\s+{expected:.2f}\s+eu-west-3\s+instance\s", instance_line), instance_line
    assert "untagged" in instance_line
    eip_line = next(line for line in lines if address["PublicIp"] in line)
    assert re.match(r"^\s+3\.65\s+eu-west-3\s+elastic_ip\s", eip_line), eip_line
    # Dearest first, then the total.
    assert lines.index(instance_line) < lines.index(eip_line)
    assert re.search(rf"^\s+{expected + 3.65:.2f}\s+total$", run.output, re.MULTILINE)
    assert re.search(r"2 billable resources in \d+ regions, 2 without the standard tags", run.output)


def test_teardown_proof_fails_on_a_tagged_leftover_and_passes_once_it_is_gone(sandbox):
    ec2 = sandbox.ec2
    # Something of the environment for teardown to delete (a key pair), and a budget alert.
    ec2.create_key_pair(KeyName="tasklist-dev",
                        TagSpecifications=[{"ResourceType": "key-pair", "Tags": IDENTITY_TAGS}])
    budget_module(sandbox, amount=5, emails=["me@example.com"])
    # A snapshot tagged for the environment: teardown does not make or delete snapshots, so only
    # the proof can catch it.
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=10)
    snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"], TagSpecifications=[
        {"ResourceType": "snapshot", "Tags": IDENTITY_TAGS}])
    ec2.delete_volume(VolumeId=volume["VolumeId"])

    run = sandbox.playbook("playbooks/teardown.yml", "-e", "teardown_confirm=dev", check=False)
    assert run.rc != 0
    assert (f"1 resources tagged Project=tasklist, Environment=dev, ManagedBy=shipyard.ec2_compose are "
            f"left: snapshot {snapshot['SnapshotId']} in us-east-1 (0.5 USD/month)") in run.output
    assert ec2.describe_key_pairs()["KeyPairs"] == []
    assert sandbox.client("budgets").describe_budgets(AccountId=account(sandbox)).get("Budgets", []) == []

    ec2.delete_snapshot(SnapshotId=snapshot["SnapshotId"])
    again = sandbox.playbook("playbooks/teardown.yml", "-e", "teardown_confirm=dev")
    assert "Nothing tagged Project=tasklist Environment=dev is left in us-east-1" in again.output
