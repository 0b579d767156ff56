"""An operator holding policies/operator.json attacks what is not theirs, and the emulator, evaluating
the policy as AWS does (conditions, resource by resource: sandbox/iam_enforcement.py), refuses every
attack; what was attacked is read back unchanged.

Another team's resources are made first with the sandbox's own keys: a VPC with a subnet, a security
group and an instance whose user data holds a secret; a DB subnet group and a database (tagged by
another tool); an application load balancer with a listener and a target group (untagged); a budget.
Besides, one of this project's own instances in prod, which a dev operator must not move to dev (a dev
teardown would then delete it) nor orphan by taking its ManagedBy away.
"""

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from cloud import debian_image, eventually, iam_user, set_enforcement

pytestmark = pytest.mark.hardening

POLICY = json.loads((Path(__file__).resolve().parents[2] / "policies" / "operator.json").read_text())
OURS = {"ManagedBy": "shipyard.ec2_compose", "Project": "tasklist"}
SECRET_USER_DATA = "#!/bin/sh\necho 'DB_PASSWORD=not-yours' > /etc/app.env\n"


def tags(mapping):
    return [{"Key": k, "Value": v} for k, v in mapping.items()]


def specification(resource_type, mapping):
    return [{"ResourceType": resource_type, "Tags": tags(mapping)}]


@pytest.fixture
def theirs(sandbox):
    """Another team's resources, and one prod instance of this project; made with the sandbox's keys."""
    ec2, elbv2, rds = sandbox.client("ec2"), sandbox.client("elbv2"), sandbox.client("rds")
    team = {"Team": "data", "Project": "billing"}
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16", TagSpecifications=specification("vpc", team))["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [eventually(lambda n=n, zone=zone: ec2.create_subnet(
        VpcId=vpc, CidrBlock=f"10.40.{n}.0/24", AvailabilityZone=zone,
        TagSpecifications=specification("subnet", team)))["Subnet"]["SubnetId"] for n, zone in enumerate(zones)]
    group = eventually(lambda: ec2.create_security_group(
        GroupName="billing", Description="billing", VpcId=vpc,
        TagSpecifications=specification("security-group", team)))["GroupId"]
    image = debian_image(ec2)
    instance = eventually(lambda: ec2.run_instances(
        ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=subnets[0],
        SecurityGroupIds=[group], UserData=SECRET_USER_DATA,
        TagSpecifications=specification("instance", team)))["Instances"][0]["InstanceId"]
    our_prod = ec2.run_instances(
        ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=subnets[1],
        TagSpecifications=specification("instance", dict(OURS, Environment="prod")))["Instances"][0]["InstanceId"]
    rds.create_db_subnet_group(DBSubnetGroupName="billing-db", DBSubnetGroupDescription="billing",
                               SubnetIds=subnets)
    database = rds.create_db_instance(
        DBInstanceIdentifier="billing-db", Engine="postgres", EngineVersion="16.4", DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20, MasterUsername="billing", MasterUserPassword="their-password-1",
        DBSubnetGroupName="billing-db", Tags=tags({"ManagedBy": "terraform", **team}))["DBInstance"]["DBInstanceArn"]
    balancer = elbv2.create_load_balancer(Name="billing", Subnets=subnets, SecurityGroups=[group],
                                          Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
    target_group = elbv2.create_target_group(Name="billing", Protocol="HTTP", Port=80, VpcId=vpc,
                                             TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    listener = elbv2.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": target_group}])["Listeners"][0]["ListenerArn"]
    account = sandbox.client("sts").get_caller_identity()["Account"]
    sandbox.client("budgets").create_budget(AccountId=account, Budget={
        "BudgetName": "billing-monthly", "BudgetLimit": {"Amount": "500", "Unit": "USD"},
        "TimeUnit": "MONTHLY", "BudgetType": "COST"})
    return {"vpc": vpc, "subnets": subnets, "group": group, "instance": instance, "our_prod": our_prod,
            "image": image, "database": database, "balancer": balancer, "target_group": target_group,
            "listener": listener, "account": account}


def state(sandbox, theirs):
    """What an attack could change, read with the sandbox's own keys."""
    ec2, elbv2, rds = sandbox.client("ec2"), sandbox.client("elbv2"), sandbox.client("rds")

    def ec2_tags(resource):
        found = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource]}])["Tags"]
        return {t["Key"]: t["Value"] for t in found}

    instances = {i["InstanceId"]: i["State"]["Name"] for r in ec2.describe_instances()["Reservations"]
                 for i in r["Instances"]}
    (database,) = rds.describe_db_instances(DBInstanceIdentifier="billing-db")["DBInstances"]
    (listener,) = elbv2.describe_listeners(ListenerArns=[theirs["listener"]])["Listeners"]
    (group,) = ec2.describe_security_groups(GroupIds=[theirs["group"]])["SecurityGroups"]
    return {
        "instance": (instances.get(theirs["instance"]), ec2_tags(theirs["instance"])),
        "our_prod": (instances.get(theirs["our_prod"]), ec2_tags(theirs["our_prod"])),
        "vpc_tags": ec2_tags(theirs["vpc"]),
        "subnets": sorted(s["SubnetId"] for s in ec2.describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [theirs["vpc"]]}])["Subnets"]),
        "group_rules": group["IpPermissions"],
        "database": (database["DBInstanceStatus"], database["DeletionProtection"],
                     rds.list_tags_for_resource(ResourceName=theirs["database"])["TagList"]),
        "database_snapshots": rds.describe_db_snapshots()["DBSnapshots"],
        "subnet_group_tags": rds.list_tags_for_resource(ResourceName=rds.describe_db_subnet_groups(
            DBSubnetGroupName="billing-db")["DBSubnetGroups"][0]["DBSubnetGroupArn"])["TagList"],
        "balancer_tags": elbv2.describe_tags(ResourceArns=[theirs["balancer"], theirs["target_group"]])[
            "TagDescriptions"],
        "balancers": [b["LoadBalancerName"] for b in elbv2.describe_load_balancers()["LoadBalancers"]],
        "listener": (listener["Port"], listener["DefaultActions"]),
        "targets": elbv2.describe_target_health(TargetGroupArn=theirs["target_group"])["TargetHealthDescriptions"],
        "budgets": [b["BudgetName"] for b in sandbox.client("budgets").describe_budgets(
            AccountId=theirs["account"])["Budgets"]],
        "vpcs": len(ec2.describe_vpcs()["Vpcs"]),
    }


def attacks(theirs):
    """(what it tries, the IAM action and resource AWS must refuse, client name, method, arguments)."""
    t = theirs
    take_over = tags(dict(OURS, Environment="dev"))
    return [
        ("tag another team's database ours, to then change and delete it", "rds:AddTagsToResource",
         t["database"], "rds", "add_tags_to_resource", {"ResourceName": t["database"], "Tags": take_over}),
        ("tag another team's DB subnet group ours", "rds:AddTagsToResource", "subgrp:billing-db",
         "rds", "add_tags_to_resource",
         {"ResourceName": f"arn:aws:rds:us-east-1:{t['account']}:subgrp:billing-db", "Tags": take_over}),
        ("give another team's database a new master password", "rds:ModifyDBInstance", t["database"],
         "rds", "modify_db_instance", {"DBInstanceIdentifier": "billing-db", "MasterUserPassword": "mine-now-123",
                                       "ApplyImmediately": True}),
        ("snapshot another team's database", "rds:CreateDBSnapshot", t["database"], "rds", "create_db_snapshot",
         {"DBInstanceIdentifier": "billing-db", "DBSnapshotIdentifier": "tasklist-copy"}),
        ("delete another team's database", "rds:DeleteDBInstance", t["database"], "rds", "delete_db_instance",
         {"DBInstanceIdentifier": "billing-db", "SkipFinalSnapshot": True}),
        ("tag another team's load balancer ours", "elasticloadbalancing:AddTags", t["balancer"], "elbv2",
         "add_tags", {"ResourceArns": [t["balancer"]], "Tags": take_over}),
        ("tag another team's target group ours", "elasticloadbalancing:AddTags", t["target_group"], "elbv2",
         "add_tags", {"ResourceArns": [t["target_group"]], "Tags": take_over}),
        ("point another team's listener elsewhere", "elasticloadbalancing:ModifyListener", t["listener"], "elbv2",
         "modify_listener", {"ListenerArn": t["listener"], "Port": 8080}),
        ("delete another team's listener", "elasticloadbalancing:DeleteListener", t["listener"], "elbv2",
         "delete_listener", {"ListenerArn": t["listener"]}),
        ("register a host in another team's target group", "elasticloadbalancing:RegisterTargets",
         t["target_group"], "elbv2", "register_targets",
         {"TargetGroupArn": t["target_group"], "Targets": [{"Id": t["our_prod"]}]}),
        ("delete another team's load balancer", "elasticloadbalancing:DeleteLoadBalancer", t["balancer"], "elbv2",
         "delete_load_balancer", {"LoadBalancerArn": t["balancer"]}),
        ("create a load balancer under another team's name", "elasticloadbalancing:CreateLoadBalancer",
         "loadbalancer/app/billing-2/", "elbv2", "create_load_balancer",
         {"Name": "billing-2", "Subnets": t["subnets"], "Tags": take_over}),
        ("read the user data (and its secret) of another team's instance", "ec2:DescribeInstanceAttribute",
         f"instance/{t['instance']}", "ec2", "describe_instance_attribute",
         {"InstanceId": t["instance"], "Attribute": "userData"}),
        ("tag another team's instance ours", "ec2:CreateTags", f"instance/{t['instance']}", "ec2", "create_tags",
         {"Resources": [t["instance"]], "Tags": take_over}),
        ("move this project's prod instance to dev, where a dev teardown deletes it", "ec2:CreateTags",
         f"instance/{t['our_prod']}", "ec2", "create_tags",
         {"Resources": [t["our_prod"]], "Tags": [{"Key": "Environment", "Value": "dev"}]}),
        ("orphan this project's prod instance by taking ManagedBy away", "ec2:DeleteTags",
         f"instance/{t['our_prod']}", "ec2", "delete_tags",
         {"Resources": [t["our_prod"]], "Tags": [{"Key": "ManagedBy"}]}),
        ("take every tag of this project's prod instance away (DeleteTags naming no key)", "ec2:DeleteTags",
         f"instance/{t['our_prod']}", "ec2", "delete_tags", {"Resources": [t["our_prod"]]}),
        ("terminate another team's instance", "ec2:TerminateInstances", f"instance/{t['instance']}", "ec2",
         "terminate_instances", {"InstanceIds": [t["instance"]]}),
        ("open another team's security group", "ec2:AuthorizeSecurityGroupIngress",
         f"security-group/{t['group']}", "ec2", "authorize_security_group_ingress",
         {"GroupId": t["group"], "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}),
        ("launch a tagged host into another team's subnet", "ec2:RunInstances", f"subnet/{t['subnets'][0]}",
         "ec2", "run_instances", {"ImageId": t["image"], "InstanceType": "t3.micro", "MinCount": 1, "MaxCount": 1,
                                  "SubnetId": t["subnets"][0],
                                  "TagSpecifications": specification("instance", dict(OURS, Environment="dev"))
                                  + specification("volume", dict(OURS, Environment="dev"))}),
        ("create a tagged subnet in another team's VPC", "ec2:CreateSubnet", f"vpc/{t['vpc']}", "ec2",
         "create_subnet", {"VpcId": t["vpc"], "CidrBlock": "10.40.9.0/24",
                           "TagSpecifications": specification("subnet", dict(OURS, Environment="dev"))}),
        ("create a VPC carrying ManagedBy but another project's name", "ec2:CreateVpc", "vpc/*", "ec2",
         "create_vpc", {"CidrBlock": "10.41.0.0/16", "TagSpecifications": specification(
             "vpc", {"ManagedBy": "shipyard.ec2_compose", "Project": "billing"})}),
        ("create an untagged VPC", "ec2:CreateVpc", "vpc/*", "ec2", "create_vpc", {"CidrBlock": "10.42.0.0/16"}),
        ("delete another team's budget", "budgets:ModifyBudget", "budget/billing-monthly", "budgets",
         "delete_budget", {"AccountId": t["account"], "BudgetName": "billing-monthly"}),
        ("read another team's budget", "budgets:ViewBudget", "budget/billing-monthly", "budgets",
         "describe_budget", {"AccountId": t["account"], "BudgetName": "billing-monthly"}),
    ]


def test_every_attack_is_refused_and_changes_nothing(sandbox, theirs):
    before = state(sandbox, theirs)
    keys = iam_user(sandbox, "attacker", POLICY)
    operator = {service: sandbox.session.client(
        service, endpoint_url=sandbox.env["AWS_ENDPOINT_URL"], aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"]) for service in ("ec2", "elbv2", "rds", "budgets")}
    set_enforcement(sandbox, on=True)
    try:
        # The policy refuses what is not ours, not everything: the same operator may put a tag of their
        # own on this project's instance, and read its user data.
        operator["ec2"].create_tags(Resources=[theirs["our_prod"]], Tags=[{"Key": "Team", "Value": "web"}])
        operator["ec2"].describe_instance_attribute(InstanceId=theirs["our_prod"], Attribute="userData")
        outcomes = []
        for what, action, resource, service, method, arguments in attacks(theirs):
            try:
                getattr(operator[service], method)(**arguments)
                outcomes.append((what, "ALLOWED"))
            except ClientError as error:
                message = error.response["Error"].get("Message", "")
                refused = error.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException") \
                    and f"perform: {action} on resource:" in message and resource in message
                outcomes.append((what, "refused" if refused else f"{error.response['Error']['Code']}: {message}"))
    finally:
        set_enforcement(sandbox, on=False)
    assert [o for o in outcomes if o[1] != "refused"] == [], outcomes
    assert len(outcomes) >= 15
    after = state(sandbox, theirs)
    before["our_prod"][1]["Team"] = "web"  # the one change allowed, above
    assert after == before
    print(f"{len(outcomes)} attacks, each refused by the emulator; the foreign resources unchanged")
