"""policies/operator.json evaluated as AWS evaluates it (the sandbox's evaluator, request by request,
resource by resource): each class of attack refused, the product's own calls of the same kinds allowed;
and the policy is its template rendered for the default project."""

import json
import sys
from pathlib import Path

import jinja2
import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "sandbox"))
from iam_evaluation import ALLOW, evaluate  # noqa: E402 - sandbox/ is not a package
from iam_requests import Request, authorizations  # noqa: E402

POLICY = json.loads((ROOT / "policies" / "operator.json").read_text())
TEMPLATE = ROOT / "playbooks" / "templates" / "operator_policy.json.j2"
ACCOUNT, REGION = "123456789012", "eu-west-3"
OURS = {"ManagedBy": "shipyard.ec2_compose", "Project": "tasklist", "Environment": "dev"}
OUR_PROD = dict(OURS, Environment="prod")
THEIRS = {"Team": "data", "Project": "billing"}
ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
RDS = f"arn:aws:rds:{REGION}:{ACCOUNT}"


class State:
    """The emulator's resources, as a dictionary: EC2 ids and ELBv2/RDS ARNs -> tags."""

    tags = {
        "vpc-ours": OURS, "subnet-ours": OURS, "sg-ours": OURS, "i-ours": OURS, "i-prod": OUR_PROD,
        "tasklist-dev": OURS,  # the key pair, named by KeyName
        "eipalloc-ours": OURS, "eipalloc-theirs": THEIRS,
        "vpc-theirs": THEIRS, "subnet-theirs": THEIRS, "sg-theirs": THEIRS, "i-theirs": THEIRS,
        f"{ELB}:loadbalancer/app/tasklist-dev/1": OURS, f"{ELB}:targetgroup/tasklist-dev/2": OURS,
        f"{ELB}:loadbalancer/app/billing/3": {}, f"{ELB}:targetgroup/billing/4": {},
        f"{RDS}:db:tasklist-dev-db": OURS, f"{RDS}:subgrp:tasklist-dev": OURS,
        f"{RDS}:db:billing-db": dict(THEIRS, ManagedBy="terraform"), f"{RDS}:subgrp:billing-db": {},
        f"{RDS}:db:tasklist-prod-db": OUR_PROD,
    }

    def ec2_tags(self, _resource_type, resource_id):
        return self.tags.get(resource_id, {})

    def arn_tags(self, arn):
        return self.tags.get(arn, {})

    @staticmethod
    def image(_image_id):
        return {"ec2:Owner": "099720109477", "ec2:Public": "true"}

    @staticmethod
    def route_table_association(_association_id):
        return "rtb-ours", "subnet-ours"


def decide(service, action, policy=None, path="", **params):
    """ALLOW when every resource of the request is allowed; else the first refused (action, resource)."""
    body = json.dumps(params.pop("json")).encode() if "json" in params else params.pop("xml", "").encode()
    query = {name: [str(value)] for name, value in params.items()}
    request = Request(service, action, query, body, REGION, ACCOUNT, path)
    for authorization in authorizations(request, State()):
        if evaluate([policy or POLICY], authorization.action, authorization.resource,
                    authorization.context)[0] != ALLOW:
            return authorization.action, authorization.resource
    return ALLOW


def tag_params(prefix, tags):
    params = {}
    for n, (key, value) in enumerate(tags.items(), 1):
        params[f"{prefix}.{n}.Key"] = key
        params[f"{prefix}.{n}.Value"] = value
    return params


def launch(subnet, group, tags):
    return dict(ImageId="ami-1", SubnetId=subnet, **{"SecurityGroupId.1": group}, KeyName="tasklist-dev",
                **{"TagSpecification.1.ResourceType": "instance", "TagSpecification.2.ResourceType": "volume"},
                **tag_params("TagSpecification.1.Tag", tags), **tag_params("TagSpecification.2.Tag", tags))


def rendered(**settings):
    """The template as the operator_policy playbook renders it (Ansible's template: trim_blocks)."""
    return jinja2.Template(TEMPLATE.read_text(), keep_trailing_newline=True, trim_blocks=True).render(
        **{"project_name": "tasklist", "domain_name": "", **settings})


def record_change(*changes):
    """ChangeResourceRecordSets' body (Route 53's REST XML) for (action, name, type) changes."""
    return "<ChangeResourceRecordSetsRequest><ChangeBatch><Changes>" + "".join(
        f"<Change><Action>{action}</Action><ResourceRecordSet><Name>{name}</Name><Type>{kind}</Type>"
        "</ResourceRecordSet></Change>" for action, name, kind in changes
    ) + "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"


ZONE_PATH = "/2013-04-01/hostedzone/Z0123456789/rrset/"
DOMAIN_POLICY = json.loads(rendered(domain_name="shop.example.com"))
RECORD_CALLS = {  # (the domain's policy, or the one without a domain) -> the call -> allowed
    "write the domain's A record and its mark": (DOMAIN_POLICY, record_change(
        ("UPSERT", "shop.example.com.", "A"), ("UPSERT", "_shipyard.shop.example.com", "TXT")), True),
    "delete them": (DOMAIN_POLICY, record_change(("DELETE", "SHOP.example.com.", "A")), True),
    "write another name of the zone": (DOMAIN_POLICY, record_change(("UPSERT", "www.example.com.", "A")), False),
    "slip another name in with the domain's": (DOMAIN_POLICY, record_change(
        ("UPSERT", "shop.example.com.", "A"), ("UPSERT", "example.com.", "A")), False),
    "another type for the domain": (DOMAIN_POLICY, record_change(("UPSERT", "shop.example.com.", "MX")), False),
    "the certificate's validation record": (DOMAIN_POLICY, record_change(
        ("UPSERT", "_3b1f09.shop.example.com.", "CNAME")), True),
    "a validation-like record of another name": (DOMAIN_POLICY, record_change(
        ("UPSERT", "_3b1f09.www.example.com.", "CNAME")), False),
    "any record, without a domain_name": (POLICY, record_change(("UPSERT", "shop.example.com.", "A")), False),
}


ADDRESS_CALLS = {  # domain_name's Elastic IP: (allocation, instance) -> allowed
    "give the host its Elastic IP": ("eipalloc-ours", "i-ours", True),
    "take another team's Elastic IP for this host": ("eipalloc-theirs", "i-ours", False),
    "move this project's Elastic IP to another team's host": ("eipalloc-ours", "i-theirs", False),
}


@pytest.mark.parametrize("call", ADDRESS_CALLS)
def test_an_elastic_ip_goes_only_from_this_project_to_this_project_s_host(call):
    allocation, instance, allowed = ADDRESS_CALLS[call]
    params = dict(AllocationId=allocation, InstanceId=instance)
    assert (decide("ec2", "AssociateAddress", policy=DOMAIN_POLICY, **params) == ALLOW) is allowed
    assert decide("ec2", "AssociateAddress", **params) != ALLOW  # not without a domain_name


@pytest.mark.parametrize("call", RECORD_CALLS)
def test_route53_records_are_written_only_for_the_domain_and_its_mark(call):
    policy, body, allowed = RECORD_CALLS[call]
    decision = decide("route53", "ChangeResourceRecordSets", policy=policy, path=ZONE_PATH, xml=body)
    assert (decision == ALLOW) is allowed, decision
    # Reading the zone, its records and the change is allowed with a domain_name only.
    for action, path in (("ListResourceRecordSets", ZONE_PATH), ("GetChange", "/2013-04-01/change/C1")):
        assert (decide("route53", action, policy=policy, path=path) == ALLOW) is (policy is DOMAIN_POLICY)


ACM = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate"
State.tags.update({f"{ACM}/ours": OURS, f"{ACM}/theirs": THEIRS})
CERTIFICATE_CALLS = {  # the load balancer's certificate of domain_name: (action, request) -> allowed
    "request the domain's, tagged, DNS-validated": ("RequestCertificate", {
        "DomainName": "shop.example.com", "ValidationMethod": "DNS",
        "Tags": [{"Key": k, "Value": v} for k, v in OURS.items()]}, True),
    "request it untagged": ("RequestCertificate", {"DomainName": "shop.example.com", "ValidationMethod": "DNS"}, False),
    "request another name": ("RequestCertificate", {
        "DomainName": "www.example.com", "ValidationMethod": "DNS",
        "Tags": [{"Key": k, "Value": v} for k, v in OURS.items()]}, False),
    "slip another name in": ("RequestCertificate", {
        "DomainName": "shop.example.com", "SubjectAlternativeNames": ["example.com"], "ValidationMethod": "DNS",
        "Tags": [{"Key": k, "Value": v} for k, v in OURS.items()]}, False),
    "validate by email": ("RequestCertificate", {
        "DomainName": "shop.example.com", "ValidationMethod": "EMAIL",
        "Tags": [{"Key": k, "Value": v} for k, v in OURS.items()]}, False),
    "list the account's certificates": ("ListCertificates", {}, True),
    "describe ours": ("DescribeCertificate", {"CertificateArn": f"{ACM}/ours"}, True),
    "delete ours": ("DeleteCertificate", {"CertificateArn": f"{ACM}/ours"}, True),
    "read another team's tags": ("ListTagsForCertificate", {"CertificateArn": f"{ACM}/theirs"}, False),
    "tag another team's ours (it carries tags)": ("AddTagsToCertificate", {
        "CertificateArn": f"{ACM}/theirs", "Tags": [{"Key": k, "Value": v} for k, v in OURS.items()]}, False),
    "delete another team's": ("DeleteCertificate", {"CertificateArn": f"{ACM}/theirs"}, False),
}


@pytest.mark.parametrize("call", CERTIFICATE_CALLS)
def test_acm_certificates_only_of_the_domain_tagged_and_only_ours(call):
    action, request, allowed = CERTIFICATE_CALLS[call]
    assert (decide("acm", action, policy=DOMAIN_POLICY, json=request) == ALLOW) is allowed
    assert decide("acm", action, json=request) != ALLOW  # not without a domain_name


TAKE_OVER = dict(OURS)
ATTACKS = {  # what an operator must not do -> the request
    "tag another team's database ours": ("rds", "AddTagsToResource", dict(
        ResourceName=f"{RDS}:db:billing-db", **tag_params("Tags.Tag", TAKE_OVER))),
    "tag another team's DB subnet group ours": ("rds", "AddTagsToResource", dict(
        ResourceName=f"{RDS}:subgrp:billing-db", **tag_params("Tags.Tag", TAKE_OVER))),
    "change another team's database": ("rds", "ModifyDBInstance", dict(DBInstanceIdentifier="billing-db")),
    "delete another team's database": ("rds", "DeleteDBInstance", dict(DBInstanceIdentifier="billing-db")),
    "move this project's prod database to dev": ("rds", "AddTagsToResource", dict(
        ResourceName=f"{RDS}:db:tasklist-prod-db", **tag_params("Tags.Tag", {"Environment": "dev"}))),
    "tag another team's load balancer ours": ("elasticloadbalancing", "AddTags", {
        "ResourceArns.member.1": f"{ELB}:loadbalancer/app/billing/3", **tag_params("Tags.member", TAKE_OVER)}),
    "tag another team's target group ours": ("elasticloadbalancing", "AddTags", {
        "ResourceArns.member.1": f"{ELB}:targetgroup/billing/4", **tag_params("Tags.member", TAKE_OVER)}),
    "change another team's listener": ("elasticloadbalancing", "ModifyListener", dict(
        ListenerArn=f"{ELB}:listener/app/billing/3/5")),
    "delete another team's listener": ("elasticloadbalancing", "DeleteListener", dict(
        ListenerArn=f"{ELB}:listener/app/billing/3/5")),
    "strip ManagedBy from this project's load balancer": ("elasticloadbalancing", "RemoveTags", {
        "ResourceArns.member.1": f"{ELB}:loadbalancer/app/tasklist-dev/1", "TagKeys.member.1": "ManagedBy"}),
    "read another team's user data": ("ec2", "DescribeInstanceAttribute",
                                      dict(InstanceId="i-theirs", Attribute="userData")),
    "tag another team's instance ours": ("ec2", "CreateTags", {"ResourceId.1": "i-theirs",
                                                               **tag_params("Tag", TAKE_OVER)}),
    "move this project's prod instance to dev": ("ec2", "CreateTags", {"ResourceId.1": "i-prod",
                                                                       **tag_params("Tag", {"Environment": "dev"})}),
    "give this project's instance to another project": ("ec2", "CreateTags", {
        "ResourceId.1": "i-ours", **tag_params("Tag", {"Project": "billing"})}),
    "orphan this project's instance": ("ec2", "DeleteTags", {"ResourceId.1": "i-ours", "Tag.1.Key": "ManagedBy"}),
    "take every tag of this project's instance away": ("ec2", "DeleteTags", {"ResourceId.1": "i-ours"}),
    "launch into another team's subnet": ("ec2", "RunInstances", launch("subnet-theirs", "sg-ours", OURS)),
    "launch with another team's security group": ("ec2", "RunInstances", launch("subnet-ours", "sg-theirs", OURS)),
    "launch without the identity tags": ("ec2", "RunInstances", launch("subnet-ours", "sg-ours", {"Team": "x"})),
    "create a VPC for another project": ("ec2", "CreateVpc", {"TagSpecification.1.ResourceType": "vpc", **tag_params(
        "TagSpecification.1.Tag", dict(OURS, Project="billing"))}),
    "open another team's security group": ("ec2", "AuthorizeSecurityGroupIngress", dict(GroupId="sg-theirs")),
    "change another team's budget": ("budgets", "UpdateBudget", {"json": {
        "AccountId": ACCOUNT, "NewBudget": {"BudgetName": "billing-monthly"}, "BudgetName": "billing-monthly"}}),
    "create a load balancer under another name": ("elasticloadbalancing", "CreateLoadBalancer", dict(
        Name="billing-2", **tag_params("Tags.member", OURS))),
    "break another project's run lock": ("ssm", "DeleteParameter", {"json": {
        "Name": "/shipyard.ec2_compose/billing/prod/run-lock"}}),
    "overwrite any parameter": ("ssm", "PutParameter", {"json": {"Name": "/billing/db-password", "Overwrite": True}}),
}
ALLOWED = {  # the same kinds of calls on what is this project's
    "take this project's run lock": ("ssm", "PutParameter", {"json": {
        "Name": "/shipyard.ec2_compose/tasklist/dev/run-lock"}}),
    "a tag of one's own on this project's instance": ("ec2", "CreateTags", {
        "ResourceId.1": "i-ours", **tag_params("Tag", {"Team": "web"})}),
    "the identity tags written again with the values they have": ("ec2", "CreateTags", {
        "ResourceId.1": "i-prod", **tag_params("Tag", dict(OUR_PROD, Name="tasklist-prod-web"))}),
    "an extra tag taken away": ("ec2", "DeleteTags", {"ResourceId.1": "i-ours", "Tag.1.Key": "Team"}),
    "read this project's user data": ("ec2", "DescribeInstanceAttribute",
                                      dict(InstanceId="i-ours", Attribute="userData")),
    "launch a tagged host into this project's subnet": ("ec2", "RunInstances",
                                                        launch("subnet-ours", "sg-ours", OURS)),
    "start a stopped host": ("ec2", "StartInstances", {"InstanceId.1": "i-ours"}),
    "require IMDSv2 again": ("ec2", "ModifyInstanceMetadataOptions", dict(InstanceId="i-ours")),
    "create the database tagged": ("rds", "CreateDBInstance", dict(
        DBInstanceIdentifier="tasklist-dev-db", DBSubnetGroupName="tasklist-dev", Engine="postgres",
        EngineVersion="16.4", **tag_params("Tags.Tag", OURS))),
    "tag a new target group": ("elasticloadbalancing", "AddTags", {
        "ResourceArns.member.1": f"{ELB}:targetgroup/tasklist-dev/9", **tag_params("Tags.member", OURS)}),
    "change this project's database": ("rds", "ModifyDBInstance", dict(DBInstanceIdentifier="tasklist-dev-db")),
    "change this project's listener": ("elasticloadbalancing", "ModifyListener", dict(
        ListenerArn=f"{ELB}:listener/app/tasklist-dev/1/5")),
    "change this project's budget": ("budgets", "UpdateBudget", {"json": {
        "AccountId": ACCOUNT, "NewBudget": {"BudgetName": "tasklist-dev"}, "BudgetName": "tasklist-dev"}}),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_each_attack_is_refused(attack):
    service, action, params = ATTACKS[attack]
    assert decide(service, action, **params) != ALLOW


@pytest.mark.parametrize("call", ALLOWED)
def test_the_same_kind_of_call_on_what_is_ours_is_allowed(call):
    service, action, params = ALLOWED[call]
    assert decide(service, action, **params) == ALLOW


def test_the_policy_is_the_template_rendered_for_the_default_project():
    assert rendered() == (ROOT / "policies" / "operator.json").read_text()
    shop = json.loads(rendered(project_name="shop"))
    text = json.dumps(shop)
    assert "tasklist" not in text and '"aws:ResourceTag/Project": "shop"' in text
    assert "arn:aws:rds:*:*:db:shop-*" in text and "budget/shop-*" in text
