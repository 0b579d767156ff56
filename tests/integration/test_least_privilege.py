"""policies/operator.json is enough and has nothing extra: with the emulator's IAM enforcement on,
which evaluates the policy as AWS does (resource by resource, conditions included:
sandbox/iam_enforcement.py), a user holding exactly that policy provisions, repairs drift, audits, scales
and tears down both layouts; without any one statement, the run that needs it fails with an access error
on one of that statement's actions.

The emulator has no Pricing API, so LivePrices is not provable here. The runs stay on the controller (an
inventory of localhost only, no database backup): what is proven is the AWS side. What the policy refuses
to anybody else's resources: test_operator_policy_attacks.py.
"""

import json
from pathlib import Path

import pytest
from cloud import iam_user, set_enforcement

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.hardening

POLICY = json.loads((ROOT / "policies" / "operator.json").read_text())
BUDGETS_API = {  # AWS's Service Authorization Reference: which API calls each Budgets action covers
    "budgets:ViewBudget": ["DescribeBudget", "DescribeBudgets", "DescribeNotificationsForBudget",
                           "DescribeSubscribersForNotification"],
    "budgets:ModifyBudget": ["CreateBudget", "UpdateBudget", "DeleteBudget", "CreateNotification",
                             "UpdateNotification", "DeleteNotification", "CreateSubscriber", "UpdateSubscriber",
                             "DeleteSubscriber"],
}
IAM_ACTION_OF = {f"budgets:{call}": action for action, calls in BUDGETS_API.items() for call in calls}
# Allowed, but called only in states that a clean lifecycle does not reach.
STATE_DEPENDENT = {"ec2:ReplaceRoute",  # a default route whose target changed
                   "ec2:DeleteVolume",  # a tagged volume left unattached
                   "pricing:GetProducts",  # live_prices (no Pricing API in the emulator)
                   # the tags of target groups and DB subnet groups, read only when there are some
                   "elasticloadbalancing:DescribeTags", "rds:ListTagsForResource"}
# The create calls whose statements ask for the identity tags: each must have been made (and allowed).
CREATES = {"ec2:CreateVpc", "ec2:CreateSubnet", "ec2:CreateInternetGateway", "ec2:CreateRouteTable",
           "ec2:CreateSecurityGroup", "ec2:ImportKeyPair", "ec2:AllocateAddress", "ec2:CreateNatGateway",
           "ec2:RunInstances", "elasticloadbalancing:CreateLoadBalancer", "rds:CreateDBSubnetGroup",
           "rds:CreateDBInstance"}
PRODUCTION = {"private_subnet_enabled": True, "monthly_budget": 60, "budget_alert_emails": ["ops@example.com"]}
AS_CONTROLLER_ONLY = ["--inventory", "localhost,", "-e", "backup_before_teardown=false"]
# The scaled layout with short drains and health checks (the same calls in less time).
SCALED = {"layout": "scaled", "monthly_budget": 100, "load_balancer_deregistration_delay": 5,
          "load_balancer_health_check_interval": 5}
SCALED_ONE = dict(SCALED, instance_count=1)
# The emulator has no Pricing API.
NOT_PROVABLE_HERE = {"LivePrices"}


def statements(without=None):
    return [s for s in POLICY["Statement"] if s["Sid"] != without]


def iam_actions(requests):
    """The IAM actions of logged calls (Budgets' API calls map onto two actions)."""
    called = {f"{r['service']}:{r['action']}" for r in requests}
    return {IAM_ACTION_OF.get(call, call) for call in called}


@pytest.fixture
def operator(sandbox):
    """Returns a function: the environment of a new IAM user holding the policy (minus one statement),
    with IAM enforced from then on."""
    def create(without=None):
        keys = iam_user(sandbox, f"operator-without-{without or 'nothing'}",
                        {"Version": POLICY["Version"], "Statement": statements(without)})
        set_enforcement(sandbox, on=True)
        return keys
    try:
        yield create
    finally:
        set_enforcement(sandbox, on=False)


def certificates(sandbox, count):
    """ARNs of self-signed certificates imported into the emulator's ACM (as a user brings theirs)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    arns, now = [], datetime.datetime.now(datetime.UTC)
    for number in range(count):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"app{number}.example.com")])
        certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                       .serial_number(x509.random_serial_number()).not_valid_before(now)
                       .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
        arns.append(sandbox.client("acm").import_certificate(
            Certificate=certificate.public_bytes(serialization.Encoding.PEM),
            PrivateKey=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))["CertificateArn"])
    return arns


def scaled_state(sandbox):
    """What the scaled layout's settings became: the HTTPS listener's certificates, the target group's
    health-check interval and registered targets, the database's backup retention, the load balancer's
    tags besides the identity ones."""
    elbv2, rds = sandbox.client("elbv2"), sandbox.client("rds")
    (balancer,) = elbv2.describe_load_balancers()["LoadBalancers"]
    listeners = elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
    (https,) = [listener for listener in listeners if listener["Protocol"] == "HTTPS"]
    (group,) = elbv2.describe_target_groups()["TargetGroups"]
    targets = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]
    (database,) = rds.describe_db_instances()["DBInstances"]
    tags = elbv2.describe_tags(ResourceArns=[balancer["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]
    standard = {"Project", "Environment", "ManagedBy", "Owner", "Name"}  # and the sandbox's own, Sandbox*
    return {"https_certificates": [c["CertificateArn"] for c in https["Certificates"]],
            "health_check_interval": group["HealthCheckIntervalSeconds"],
            "backup_retention_days": database["BackupRetentionPeriod"],
            "targets": len([t for t in targets if t["TargetHealth"]["State"] != "draining"]),
            "balancer_tags": {t["Key"]: t["Value"] for t in tags
                              if t["Key"] not in standard and not t["Key"].startswith("Sandbox")}}


PROVISION = "playbooks/provision.yml"
TEARDOWN = "playbooks/teardown.yml"


def http_answer(sandbox):
    """(status, Location) of GET / on the load balancer's port 80, by its DNS name, redirects not followed."""
    import http.client

    (balancer,) = sandbox.client("elbv2").describe_load_balancers()["LoadBalancers"]
    tags = sandbox.client("elbv2").describe_tags(ResourceArns=[balancer["LoadBalancerArn"]])["TagDescriptions"]
    address = {t["Key"]: t["Value"] for t in tags[0]["Tags"]}["SandboxAddress"]  # the controller cannot resolve it
    connection = http.client.HTTPConnection(address, 80, timeout=10)
    connection.request("GET", "/", headers={"Host": balancer["DNSName"]})
    response = connection.getresponse()
    connection.close()
    return response.status, response.getheader("Location"), balancer["DNSName"]


def run_as(sandbox, keys, playbook, extra_vars=None, check=True):
    args = [*AS_CONTROLLER_ONLY, "-e", json.dumps(extra_vars or {})]
    return sandbox.playbook(playbook, *args, extra_env=keys, check=check)


def instance_state(sandbox):
    """(state, type, metadata tokens) of the one host, read with the sandbox's own keys."""
    set_enforcement(sandbox, on=False)
    (instance_id,) = sandbox.tagged()["instance"]
    instance = sandbox.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return instance_id, (instance["State"]["Name"], instance["InstanceType"], instance["MetadataOptions"]["HttpTokens"])


def test_the_policy_is_enough_and_each_statement_is_needed(sandbox, operator):
    first_certificate, second_certificate = certificates(sandbox, 2)
    keys = operator()
    mark = sandbox.requests_mark()
    run_as(sandbox, keys, PROVISION, dict(PRODUCTION, extra_tags={"Team": "web"}, admin_cidrs=["198.51.100.7/32"]))
    # Drift that provision repairs: someone stopped the host and let it answer IMDSv1.
    instance_id = instance_state(sandbox)[0]
    sandbox.ec2.stop_instances(InstanceIds=[instance_id])
    sandbox.ec2.modify_instance_metadata_options(InstanceId=instance_id, HttpTokens="optional")
    set_enforcement(sandbox, on=True)
    # A changed input too: tags and an SSH rule are taken away again.
    run_as(sandbox, keys, PROVISION, PRODUCTION)
    assert instance_state(sandbox)[1] == ("running", "t3.micro", "required")
    set_enforcement(sandbox, on=True)
    run_as(sandbox, keys, PROVISION, dict(PRODUCTION, instance_type="t3.small"))  # stop, change, start
    assert instance_state(sandbox)[1] == ("running", "t3.small", "required")
    set_enforcement(sandbox, on=True)
    run_as(sandbox, keys, "playbooks/audit.yml")
    run_as(sandbox, keys, TEARDOWN, dict(PRODUCTION, instance_type="t3.small", teardown_confirm="dev"))
    # The scaled layout: two hosts behind HTTPS too; then one host (drained first), another certificate,
    # a changed health check and backup retention, one tag taken away and another added; teardown with a
    # final snapshot.
    run_as(sandbox, keys, PROVISION,
           dict(SCALED, extra_tags={"Team": "web"}, load_balancer_certificate_arn=first_certificate))
    set_enforcement(sandbox, on=False)  # read with the sandbox's own keys
    assert scaled_state(sandbox) == {"https_certificates": [first_certificate], "health_check_interval": 5,
                                     "backup_retention_days": 7, "targets": 2, "balancer_tags": {"Team": "web"}}
    # With a certificate, HTTP only redirects to HTTPS (the sandbox's proxy answers as ELBv2 does).
    status, location, name = http_answer(sandbox)
    assert (status, location) == (301, f"https://{name}:443/")
    set_enforcement(sandbox, on=True)
    run_as(sandbox, keys, PROVISION,
           dict(SCALED_ONE, load_balancer_certificate_arn=second_certificate, load_balancer_health_check_interval=6,
                database_backup_retention_days=3, extra_tags={"CostCenter": "42"}))
    # What the operator changed is what AWS now holds, not only calls that ran.
    set_enforcement(sandbox, on=False)
    changed = scaled_state(sandbox)
    # The load balancer gains the new tag; it keeps those it has (purge_tags false: a tag that someone
    # else added is not ours to remove), so the one taken away stays there.
    assert changed.pop("balancer_tags") == {"Team": "web", "CostCenter": "42"}
    assert changed == {"https_certificates": [second_certificate], "health_check_interval": 6,
                       "backup_retention_days": 3, "targets": 1}
    set_enforcement(sandbox, on=True)
    run_as(sandbox, keys, "playbooks/audit.yml", SCALED)
    run_as(sandbox, keys, TEARDOWN, dict(SCALED, teardown_confirm="dev"))
    set_enforcement(sandbox, on=False)  # the checks below use the sandbox's own keys
    assert sandbox.tagged() == {}
    assert sandbox.client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert sandbox.client("rds").describe_db_instances()["DBInstances"] == []

    requests = sandbox.requests_since(mark)
    assert [r for r in requests if r["status"] == 403] == []
    decisions = [d for r in requests for d in r.get("iam", [])]
    # What the calls needed: their own actions, and those AWS checks besides (a create's tagging action,
    # DeleteDBInstance's final snapshot).
    called = iam_actions(requests) | {d["action"] for d in decisions}
    allowed = {action for s in statements() for action in s["Action"]}
    unused = allowed - called - STATE_DEPENDENT
    assert unused == set(), f"allowed but never called: {sorted(unused)}"
    assert called - allowed == {"sts:GetCallerIdentity"}  # needs no permission on AWS either
    assert called >= CREATES, "a create call the policy conditions was never made"
    # Each statement is needed: the emulator's decisions name, for each resource of each call, every
    # statement that allowed it; a statement that alone allowed one of them is one the run cannot lose.
    assert decisions and all(d["allowed_by"] for d in decisions)
    needed = {d["allowed_by"][0] for d in decisions if len(d["allowed_by"]) == 1}
    assert {s["Sid"] for s in statements()} - needed == NOT_PROVABLE_HERE
    print(f"policy: {len(allowed)} actions in {len(POLICY['Statement'])} statements; {len(called)} distinct "
          f"actions called; {len(decisions)} resources authorized, each statement alone allowing some")


DENIAL_RUNS = {  # a statement -> a run that fails without it, and the call refused
    "LaunchOnlyWithTheIdentityTags": ((PROVISION, {}), "ec2:RunInstances"),
}


@pytest.mark.parametrize("sid", DENIAL_RUNS)
def test_without_one_statement_its_run_is_denied(sandbox, operator, sid):
    """What the decisions above prove, shown end to end for one statement: the run fails on the call."""
    keys = operator(without=sid)
    mark = sandbox.requests_mark()
    (playbook, extra_vars), refused_call = DENIAL_RUNS[sid]
    run = run_as(sandbox, keys, playbook, extra_vars, check=False)
    assert run.rc != 0, f"the run passed without statement {sid}"
    refused = {f"{r['service']}:{r['action']}" for r in sandbox.requests_since(mark) if r["status"] == 403}
    assert refused == {refused_call}, (refused, run.output[-3000:])
    assert f"perform: {refused_call} on resource:" in run.output
