"""sandbox/iam_requests.py: the resources and context AWS authorizes for a request (AWS's Service
Authorization Reference: RunInstances checks the instance, its volumes and network interface, the
subnet, the security groups, the key pair and the image; CreateDBInstance the database, its subnet,
option and parameter groups; a create with tags the tagging action too)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sandbox"))
from iam_requests import Request, authorizations

ACCOUNT, REGION = "123456789012", "eu-west-3"
OURS = {"ManagedBy": "shipyard.ec2_compose"}


class State:
    @staticmethod
    def ec2_tags(_resource_type, resource_id):
        return OURS if resource_id.endswith("ours") else {}

    @staticmethod
    def arn_tags(arn):
        return OURS if arn.endswith("ours") else {}

    @staticmethod
    def image(_image_id):
        return {"ec2:Owner": "099720109477", "ec2:Public": "true"}

    @staticmethod
    def route_table_association(_association_id):
        return "rtb-ours", "subnet-ours"


def authorized(service, action, params=None, body=b""):
    query = {name: [value] for name, value in (params or {}).items()}
    return authorizations(Request(service, action, query, body, REGION, ACCOUNT), State())


def test_run_instances_is_authorized_on_each_resource_it_makes_and_names():
    found = authorized("ec2", "RunInstances", {
        "ImageId": "ami-1", "KeyName": "key-ours", "NetworkInterface.1.SubnetId": "subnet-ours",
        "NetworkInterface.1.SecurityGroupId.1": "sg-ours", "TagSpecification.1.ResourceType": "instance",
        "TagSpecification.1.Tag.1.Key": "ManagedBy", "TagSpecification.1.Tag.1.Value": "shipyard.ec2_compose"})
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
    assert [(a.action, a.resource) for a in found] == [
        ("ec2:RunInstances", f"{arn}:instance/*"), ("ec2:CreateTags", f"{arn}:instance/*"),
        ("ec2:RunInstances", f"{arn}:volume/*"), ("ec2:RunInstances", f"{arn}:network-interface/*"),
        ("ec2:RunInstances", f"arn:aws:ec2:{REGION}::image/ami-1"), ("ec2:RunInstances", f"{arn}:key-pair/key-ours"),
        ("ec2:RunInstances", f"{arn}:security-group/sg-ours"), ("ec2:RunInstances", f"{arn}:subnet/subnet-ours")]
    instance, tagging, volume = found[0], found[1], found[2]
    assert instance.context["aws:RequestTag/ManagedBy"] == "shipyard.ec2_compose"
    assert tagging.context["ec2:CreateAction"] == "RunInstances"
    assert "aws:RequestTag/ManagedBy" not in volume.context  # its own tag specification had none
    image, subnet = found[4], found[7]
    assert image.context["ec2:Owner"] == "099720109477" and image.context["ec2:Public"] == "true"
    assert subnet.context["aws:ResourceTag/ManagedBy"] == "shipyard.ec2_compose"
    assert all(a.context["aws:RequestedRegion"] == REGION for a in found)


def test_a_tag_removal_gives_its_keys_and_one_naming_none_gives_no_tag_keys():
    (named,) = authorized("ec2", "DeleteTags", {"ResourceId.1": "i-ours", "Tag.1.Key": "Team"})
    assert named.context["aws:TagKeys"] == ["Team"] and named.resource.endswith(":instance/i-ours")
    (every,) = authorized("ec2", "DeleteTags", {"ResourceId.1": "i-ours"})
    assert "aws:TagKeys" not in every.context


def test_create_db_instance_checks_the_database_its_subnet_option_and_parameter_groups():
    found = authorized("rds", "CreateDBInstance", {
        "DBInstanceIdentifier": "app-db", "DBSubnetGroupName": "app", "Engine": "postgres",
        "EngineVersion": "16.4", "Tags.Tag.1.Key": "ManagedBy", "Tags.Tag.1.Value": "shipyard.ec2_compose"})
    arn = f"arn:aws:rds:{REGION}:{ACCOUNT}"
    assert [(a.action, a.resource) for a in found] == [
        ("rds:CreateDBInstance", f"{arn}:db:app-db"), ("rds:AddTagsToResource", f"{arn}:db:app-db"),
        ("rds:CreateDBInstance", f"{arn}:subgrp:app"), ("rds:CreateDBInstance", f"{arn}:og:default:postgres-16"),
        ("rds:CreateDBInstance", f"{arn}:pg:default.postgres16")]


def test_a_final_snapshot_is_a_dependent_create_db_snapshot():
    found = authorized("rds", "DeleteDBInstance", {"DBInstanceIdentifier": "app-db",
                                                   "FinalDBSnapshotIdentifier": "app-db-final-1"})
    assert [a.action for a in found] == ["rds:DeleteDBInstance", "rds:CreateDBSnapshot"]
    skipped = authorized("rds", "DeleteDBInstance", {"DBInstanceIdentifier": "app-db", "SkipFinalSnapshot": "true",
                                                     "FinalDBSnapshotIdentifier": "x"})
    assert [a.action for a in skipped] == ["rds:DeleteDBInstance"]


def test_elbv2_create_with_tags_needs_add_tags_with_the_create_action():
    found = authorized("elasticloadbalancing", "CreateLoadBalancer", {
        "Name": "app", "Tags.member.1.Key": "ManagedBy", "Tags.member.1.Value": "shipyard.ec2_compose"})
    assert [(a.action, a.context.get("elasticloadbalancing:CreateAction")) for a in found] == [
        ("elasticloadbalancing:CreateLoadBalancer", None), ("elasticloadbalancing:AddTags", "CreateLoadBalancer")]
    assert found[0].resource == f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/app/*"


def test_budgets_calls_are_view_or_modify_budget_on_the_budgets_arn():
    (view,) = authorized("budgets", "DescribeBudget", body=json.dumps({"AccountId": ACCOUNT, "BudgetName": "b"}))
    (modify,) = authorized("budgets", "CreateBudget", body=json.dumps(
        {"AccountId": ACCOUNT, "Budget": {"BudgetName": "b"}}).encode())
    assert (view.action, view.resource) == ("budgets:ViewBudget", f"arn:aws:budgets::{ACCOUNT}:budget/b")
    assert (modify.action, modify.resource) == ("budgets:ModifyBudget", f"arn:aws:budgets::{ACCOUNT}:budget/b")


def test_reads_without_resource_level_permissions_and_unknown_actions_are_on_star():
    assert [(a.action, a.resource) for a in authorized("ec2", "DescribeVpcs", {"VpcId.1": "vpc-ours"})] == [
        ("ec2:DescribeVpcs", "*")]
    assert [(a.action, a.resource) for a in authorized("sqs", "CreateQueue", {"QueueName": "q"})] == [
        ("sqs:CreateQueue", "*")]


def test_ssm_parameter_calls_are_authorized_on_the_parameters_arn():
    (put,) = authorized("ssm", "PutParameter", body=json.dumps({"Name": "/shipyard.ec2_compose/shop/dev/run-lock"}))
    assert (put.action, put.resource) == (
        "ssm:PutParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/shipyard.ec2_compose/shop/dev/run-lock")
    (listed,) = authorized("ssm", "DescribeParameters", body="{}")
    assert listed.resource == "*"
