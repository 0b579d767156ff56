"""policies/operator.json is enough and has nothing extra: with the emulator's IAM enforcement on,
a user holding exactly that policy provisions, audits and tears down; without any one statement,
the run that needs it fails with an access error.

Emulator gaps, handled here and said in README: it evaluates neither conditions nor EC2 resource ARNs,
so the user gets the policy's actions (each Allow statement with Resource "*" and no Condition); what
the conditions allow is proven from the policy's text in tests/unit/policies, and here, from the
emulator's log, that every create call asks for the identity tags those conditions require. It checks
Budgets calls by their API names where AWS uses ViewBudget /
ModifyBudget, so those two are expanded below; it has no Pricing API, so LivePrices is not provable
here, nor TakeTheFinalSnapshot (it checks no permission of DeleteDBInstance's final snapshot). The
runs stay on the controller (an inventory of localhost only, no database backup): what is proven is the
AWS side.
"""

import json
import urllib.request
from pathlib import Path

import pytest

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
# Allowed, but called only in states that a clean lifecycle does not reach.
STATE_DEPENDENT = {"ec2:ReplaceRoute",  # a default route whose target changed
                   "ec2:DeleteVolume",  # a tagged volume left unattached
                   "pricing:GetProducts",  # live_prices (no Pricing API in the emulator)
                   # the tags of target groups and DB subnet groups, read only when there are some
                   "elasticloadbalancing:DescribeTags", "rds:ListTagsForResource",
                   # AWS checks it for DeleteDBInstance's final snapshot (a dependent action); the emulator does not
                   "rds:CreateDBSnapshot"}
# What each create call makes (AWS's Service Authorization Reference: its resource types that take the
# request's tags); the parent resources it names are checked by aws:ResourceTag instead.
CREATED_BY = {"CreateVpc": {"vpc"}, "CreateSubnet": {"subnet"}, "CreateInternetGateway": {"internet-gateway"},
              "CreateRouteTable": {"route-table"}, "CreateSecurityGroup": {"security-group"},
              "ImportKeyPair": {"key-pair"}, "AllocateAddress": {"elastic-ip"}, "CreateNatGateway": {"natgateway"},
              "RunInstances": {"instance", "volume"}, "CreateLoadBalancer": {"loadbalancer"},
              "CreateDBSubnetGroup": {"subgrp"}, "CreateDBInstance": {"db"}}
PRODUCTION = {"private_subnet_enabled": True, "monthly_budget": 60, "budget_alert_emails": ["ops@example.com"]}
AS_CONTROLLER_ONLY = ["--inventory", "localhost,", "-e", "backup_before_teardown=false"]
# The scaled layout with short drains and health checks (the same calls in less time).
SCALED = {"layout": "scaled", "monthly_budget": 100, "load_balancer_deregistration_delay": 5,
          "load_balancer_health_check_interval": 5}
SCALED_ONE = dict(SCALED, instance_count=1)
# Statements the emulator cannot take away from a run: it has no Pricing API, and it does not check the
# final snapshot's permissions on DeleteDBInstance (their text is checked in tests/unit/policies).
NOT_PROVABLE_HERE = {"LivePrices", "TakeTheFinalSnapshot"}


def statements(without=None):
    """The Allow statements as the emulator can hold them: every resource, no condition. Without a
    statement, its actions go from every statement: statements that share an action differ only in
    resources and conditions, which the emulator cannot tell apart."""
    allow = [s for s in POLICY["Statement"] if s["Effect"] == "Allow"]
    dropped = {a for s in allow if s["Sid"] == without for a in s["Action"]}
    kept = [{"Sid": s["Sid"], "Effect": "Allow", "Action": [a for a in s["Action"] if a not in dropped],
             "Resource": "*"} for s in allow]
    return [s for s in kept if s["Action"]]


def conditioned_on_request_tags():
    """{create action: resource types} whose statement requires aws:RequestTag/ManagedBy."""
    wanted = {}
    for s in POLICY["Statement"]:
        if "aws:RequestTag/ManagedBy" in s.get("Condition", {}).get("StringEquals", {}):
            # arn:aws:ec2:*:*:vpc/*, arn:aws:elasticloadbalancing:*:*:loadbalancer/app/*, arn:aws:rds:*:*:db:*
            types = {arn.split(":", 5)[5].split("/")[0].split(":")[0] for arn in s["Resource"]}
            for action in s["Action"]:
                wanted.setdefault(action.split(":", 1)[1], set()).update(types)
    return wanted


def emulator_actions(statement):
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    return [f"budgets:{call}" for action in actions for call in BUDGETS_API[action]] if actions[0] in BUDGETS_API \
        else actions


def set_enforcement(sandbox, on):
    """Moto's switch: IAM is enforced after this many more requests (0: now; inf: never)."""
    request = urllib.request.Request(f"{sandbox.env['AWS_ENDPOINT_URL']}/moto-api/reset-auth", method="POST",
                                     data=b"0" if on else b"inf", headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture
def operator(sandbox):
    """Returns a function: the environment of a new IAM user holding the policy (minus one statement)."""
    def create(without=None):
        set_enforcement(sandbox, on=False)
        iam = sandbox.client("iam")
        name = f"operator-without-{without or 'nothing'}"
        iam.create_user(UserName=name)
        document = {"Version": POLICY["Version"],
                    "Statement": [dict(s, Action=emulator_actions(s)) for s in statements(without)]}
        iam.put_user_policy(UserName=name, PolicyName="shipyard-operator", PolicyDocument=json.dumps(document))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        set_enforcement(sandbox, on=True)
        return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
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


def run_as(sandbox, keys, playbook, extra_vars=None, check=True):
    args = [*AS_CONTROLLER_ONLY, "-e", json.dumps(extra_vars or {})]
    return sandbox.playbook(playbook, *args, extra_env=keys, check=check)


def test_the_policy_is_enough_and_every_action_is_used(sandbox, operator):
    first_certificate, second_certificate = certificates(sandbox, 2)
    keys = operator()
    mark = sandbox.requests_mark()
    run_as(sandbox, keys, "playbooks/provision.yml",
           dict(PRODUCTION, extra_tags={"Team": "web"}, admin_cidrs=["198.51.100.7/32"]))
    # A changed input: tags and an SSH rule are taken away again.
    run_as(sandbox, keys, "playbooks/provision.yml", PRODUCTION)
    run_as(sandbox, keys, "playbooks/audit.yml")
    run_as(sandbox, keys, "playbooks/teardown.yml", dict(PRODUCTION, teardown_confirm="dev"))
    # The scaled layout: two hosts behind HTTPS too; then one host (drained first), another certificate,
    # a changed health check and backup retention, one tag taken away and another added; teardown with a
    # final snapshot.
    run_as(sandbox, keys, "playbooks/provision.yml",
           dict(SCALED, extra_tags={"Team": "web"}, load_balancer_certificate_arn=first_certificate))
    set_enforcement(sandbox, on=False)  # read with the sandbox's own keys
    assert scaled_state(sandbox) == {"https_certificates": [first_certificate], "health_check_interval": 5,
                                     "backup_retention_days": 7, "targets": 2, "balancer_tags": {"Team": "web"}}
    set_enforcement(sandbox, on=True)
    run_as(sandbox, keys, "playbooks/provision.yml",
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
    run_as(sandbox, keys, "playbooks/teardown.yml", dict(SCALED, teardown_confirm="dev"))
    set_enforcement(sandbox, on=False)  # the checks below use the sandbox's own keys
    assert sandbox.tagged() == {}
    assert sandbox.client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert sandbox.client("rds").describe_db_instances()["DBInstances"] == []

    requests = sandbox.requests_since(mark)
    called = {f"{r['service']}:{r['action']}" for r in requests}
    allowed = {action for s in statements() for action in emulator_actions(s)}
    budgets_api = {f"budgets:{call}" for calls in BUDGETS_API.values() for call in calls}
    unused = allowed - called - STATE_DEPENDENT - budgets_api
    assert unused == set(), f"allowed but never called: {sorted(unused)}"
    assert called - allowed == {"sts:GetCallerIdentity"}  # needs no permission on AWS either
    # On AWS a create call is allowed only when it asks for ManagedBy on each new resource the statement
    # names (the instance and its volumes, the VPC, ...): every create the roles made did.
    untagged = []
    for request in requests:
        for resource_type in conditioned_on_request_tags().get(request["action"], ()):
            if resource_type in CREATED_BY.get(request["action"], ()) and \
                    request.get("tags", {}).get(resource_type, {}).get("ManagedBy") != "shipyard.ec2_compose":
                untagged.append((request["action"], resource_type))
    assert untagged == []
    # A target group is created untagged (the module tags it after): the next call on it tags it ManagedBy.
    balancer_writes = [r for r in requests if r["service"] == "elasticloadbalancing" and
                       not r["action"].startswith("Describe")]
    after_create = [balancer_writes[n + 1] for n, r in enumerate(balancer_writes) if r["action"] == "CreateTargetGroup"]
    assert after_create and all(r["action"] == "AddTags" and r["tags"]["tagged"]["ManagedBy"] == "shipyard.ec2_compose"
                                for r in after_create), after_create
    creates = [r["action"] for r in requests if r["action"] in CREATED_BY]
    assert set(creates) == set(CREATED_BY), "a create call the policy conditions was never made"
    size = len({a for s in statements() for a in s["Action"]})
    print(f"policy: {size} actions in {len(POLICY['Statement'])} statements; {len(called)} distinct calls made; "
          f"{len(creates)} create calls, each asking for ManagedBy")


PROVISION = "playbooks/provision.yml"
TEARDOWN = "playbooks/teardown.yml"
DENIAL_MATRIX = {  # statement -> the runs that need it, in order
    "ReadEc2": [(PROVISION, {})],
    "AuditWhatBills": [("playbooks/audit.yml", {})],
    # Every read of the environment looks at target groups and databases too (provision's tag audit).
    "ReadTheScaledLayout": [(PROVISION, {})],
    "CreateOnlyWithTheIdentityTags": [(PROVISION, {})],
    "CreateInsideTheVpcOnlyWithTheIdentityTags": [(PROVISION, {})],
    "LaunchOnlyWithTheIdentityTags": [(PROVISION, {})],
    "LaunchFromPublicImages": [(PROVISION, {})],
    # The emulator lets tags ride on the create calls without ec2:CreateTags (AWS does not): a change
    # of tags on existing resources needs the statement there too.
    "TagOnlyOnCreate": [(PROVISION, {}), (PROVISION, {"extra_tags": {"Team": "web"}})],
    "ChangeOnlyWhatThisCollectionManages": [(PROVISION, {})],
    "BudgetAlert": [(PROVISION, PRODUCTION)],
    "BalanceAndStoreOnlyWithTheIdentityTags": [(PROVISION, SCALED_ONE)],
    "CreateTargetGroups": [(PROVISION, SCALED_ONE)],
    "TagNewLoadBalancersAndTargetGroups": [(PROVISION, SCALED_ONE)],
    "ChangeOnlyTheLoadBalancersAndDatabasesThisCollectionManages": [(PROVISION, SCALED_ONE)],
    "ChangeTheListenersOfApplicationLoadBalancers": [(PROVISION, SCALED_ONE),
                                                     (TEARDOWN, dict(SCALED_ONE, teardown_confirm="dev"))],
}


def test_the_denial_matrix_covers_every_provable_statement():
    assert set(DENIAL_MATRIX) | NOT_PROVABLE_HERE == {s["Sid"] for s in statements()}


@pytest.mark.parametrize("sid", DENIAL_MATRIX)
def test_without_one_statement_its_run_is_denied(sandbox, operator, sid):
    keys = operator(without=sid)
    mark = sandbox.requests_mark()
    for playbook, extra_vars in DENIAL_MATRIX[sid]:
        run = run_as(sandbox, keys, playbook, extra_vars, check=False)
        if run.rc != 0:
            break
    assert run.rc != 0, f"every run passed without statement {sid}"
    # The emulator's log: the call refused (HTTP 403) is one that the missing statement allows.
    refused = {f"{r['service']}:{r['action']}" for r in sandbox.requests_since(mark) if r["status"] == 403}
    statement = next(s for s in POLICY["Statement"] if s["Sid"] == sid)
    assert refused and refused <= set(emulator_actions(statement)), (refused, run.output[-3000:])
    print(f"without {sid}: {playbook} fails, refused {sorted(refused)}")
