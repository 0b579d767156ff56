"""sandbox/iam_evaluation.py against the examples of AWS's IAM documentation ("Policy evaluation
logic", "Condition operators", "Multiple context keys or values", "Single-valued vs. multivalued
context keys")."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sandbox"))
from iam_evaluation import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, UnknownOperator, condition_matches, evaluate


def policy(*statements):
    return [{"Version": "2012-10-17", "Statement": list(statements)}]


def allow(action="*", resource="*", condition=None, sid="A"):
    statement = {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource}
    return dict(statement, Condition=condition) if condition else statement


def test_an_explicit_deny_wins_over_any_allow():
    policies = policy(allow(), {"Sid": "D", "Effect": "Deny", "Action": "ec2:TerminateInstances", "Resource": "*"})
    assert evaluate(policies, "ec2:TerminateInstances", "arn:aws:ec2:us-east-1:1:instance/i-1", {}) == \
        (EXPLICIT_DENY, ["D"])
    assert evaluate(policies, "ec2:StopInstances", "arn:aws:ec2:us-east-1:1:instance/i-1", {}) == (ALLOW, ["A"])


def test_every_statement_that_allows_is_named():
    policies = policy(allow("ec2:*", sid="Broad"), allow("ec2:RunInstances", sid="Narrow"))
    assert evaluate(policies, "ec2:RunInstances", "*", {}) == (ALLOW, ["Broad", "Narrow"])
    assert evaluate(policies, "ec2:StopInstances", "*", {}) == (ALLOW, ["Broad"])


def test_nothing_allows_means_an_implicit_deny():
    assert evaluate(policy(allow("s3:*")), "ec2:RunInstances", "*", {}) == (IMPLICIT_DENY, [])
    assert evaluate([], "ec2:RunInstances", "*", {}) == (IMPLICIT_DENY, [])


def test_actions_ignore_case_and_take_wildcards_resources_do_not_ignore_case():
    policies = policy(allow("EC2:Describe*", "arn:aws:ec2:*:*:instance/*"))
    assert evaluate(policies, "ec2:DescribeInstances", "arn:aws:ec2:eu-west-1:1:instance/i-1", {})[0] == ALLOW
    assert evaluate(policies, "ec2:describeinstances", "arn:aws:ec2:eu-west-1:1:instance/i-1", {})[0] == ALLOW
    assert evaluate(policies, "ec2:DescribeInstances", "arn:aws:ec2:eu-west-1:1:Instance/i-1", {})[0] == IMPLICIT_DENY
    assert evaluate(policies, "ec2:DescribeInstances", "*", {})[0] == IMPLICIT_DENY  # "*" is not an instance
    single = policy(allow("ec2:Describe?pcs"))
    assert evaluate(single, "ec2:DescribeVpcs", "*", {})[0] == ALLOW
    assert evaluate(single, "ec2:DescribeXXpcs", "*", {})[0] == IMPLICIT_DENY


def test_not_action_and_not_resource():
    policies = policy({"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"})
    assert evaluate(policies, "ec2:RunInstances", "*", {})[0] == ALLOW
    assert evaluate(policies, "iam:CreateUser", "*", {})[0] == IMPLICIT_DENY
    assert evaluate(policies, "s3:GetObject", "arn:aws:s3:::secret/key", {})[0] == IMPLICIT_DENY


def test_operators_and_keys_are_anded_values_are_ored():
    # AWS's example: the request must come with both tags, each with one of the listed values.
    condition = {"StringEquals": {"aws:RequestTag/Project": ["blue", "green"], "aws:RequestTag/Team": "web"},
                 "Bool": {"aws:SecureTransport": True}}
    policies = policy(allow(condition=condition))
    context = {"aws:RequestTag/Project": "green", "aws:RequestTag/Team": "web", "aws:SecureTransport": "true"}
    assert evaluate(policies, "ec2:CreateTags", "*", context)[0] == ALLOW
    assert evaluate(policies, "ec2:CreateTags", "*", dict(context, **{"aws:RequestTag/Project": "red"}))[0] == \
        IMPLICIT_DENY
    assert evaluate(policies, "ec2:CreateTags", "*", dict(context, **{"aws:SecureTransport": "false"}))[0] == \
        IMPLICIT_DENY
    missing_team = {k: v for k, v in context.items() if k != "aws:RequestTag/Team"}
    assert evaluate(policies, "ec2:CreateTags", "*", missing_team)[0] == IMPLICIT_DENY


def test_a_missing_key_fails_a_positive_operator_and_passes_a_negated_one():
    assert not condition_matches("StringEquals", "aws:ResourceTag/ManagedBy", "us", {})
    assert condition_matches("StringNotEquals", "aws:ResourceTag/ManagedBy", "us", {})
    assert not condition_matches("StringNotEquals", "aws:ResourceTag/ManagedBy", "us",
                                 {"aws:ResourceTag/ManagedBy": "us"})
    assert condition_matches("StringNotEquals", "aws:ResourceTag/ManagedBy", ["us", "them"],
                             {"aws:ResourceTag/ManagedBy": "others"})
    assert not condition_matches("ArnLike", "aws:SourceArn", "arn:aws:sns:*", {})
    assert condition_matches("ArnNotLike", "aws:SourceArn", "arn:aws:sns:*", {})


def test_if_exists_passes_when_the_key_is_absent_only():
    # AWS's example: "StringEqualsIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}
    condition = ("StringLikeIfExists", "ec2:InstanceType", ["t1.*", "t2.*", "m3.*"])
    assert condition_matches(*condition, {})
    assert condition_matches(*condition, {"ec2:InstanceType": "t2.micro"})
    assert not condition_matches(*condition, {"ec2:InstanceType": "m5.large"})


def test_null_tests_whether_the_key_is_there():
    assert condition_matches("Null", "aws:TokenIssueTime", "true", {})
    assert not condition_matches("Null", "aws:TokenIssueTime", "true", {"aws:TokenIssueTime": "2026-01-01"})
    assert condition_matches("Null", "aws:ResourceTag/ManagedBy", "false", {"aws:ResourceTag/ManagedBy": "us"})
    assert not condition_matches("Null", "aws:TagKeys", "false", {"aws:TagKeys": []})


def test_for_all_values_passes_an_empty_set_for_any_value_does_not():
    # AWS's example: ForAllValues:StringEquals aws:TagKeys [environment, cost-center]
    condition = ("ForAllValues:StringEquals", "aws:TagKeys", ["environment", "cost-center"])
    assert condition_matches(*condition, {"aws:TagKeys": ["environment"]})
    assert condition_matches(*condition, {"aws:TagKeys": ["environment", "cost-center"]})
    assert not condition_matches(*condition, {"aws:TagKeys": ["environment", "owner"]})
    assert condition_matches(*condition, {})  # why AWS pairs it with Null false
    assert condition_matches("ForAnyValue:StringEquals", "aws:TagKeys", "owner",
                             {"aws:TagKeys": ["environment", "owner"]})
    assert not condition_matches("ForAnyValue:StringEquals", "aws:TagKeys", "owner", {})
    # negated: none of the keys may be an identity key
    negated = ("ForAllValues:StringNotEquals", "aws:TagKeys", ["ManagedBy", "Environment"])
    assert condition_matches(*negated, {"aws:TagKeys": ["Team", "CostCenter"]})
    assert not condition_matches(*negated, {"aws:TagKeys": ["Team", "Environment"]})


def test_keys_ignore_case_values_do_not_unless_asked():
    assert condition_matches("StringEquals", "AWS:RequestTag/Team", "web", {"aws:requesttag/team": "web"})
    assert not condition_matches("StringEquals", "aws:RequestTag/Team", "Web", {"aws:RequestTag/Team": "web"})
    assert condition_matches("StringEqualsIgnoreCase", "aws:RequestTag/Team", "Web", {"aws:RequestTag/Team": "web"})


def test_numeric_and_like_operators():
    assert condition_matches("NumericLessThanEquals", "s3:max-keys", "10", {"s3:max-keys": "7"})
    assert not condition_matches("NumericLessThanEquals", "s3:max-keys", "10", {"s3:max-keys": "11"})
    assert condition_matches("StringLike", "ec2:CreateAction", "Create*", {"ec2:CreateAction": "CreateVpc"})
    assert not condition_matches("StringNotLike", "ec2:CreateAction", "Create*", {"ec2:CreateAction": "CreateVpc"})


def test_an_unknown_operator_is_refused_not_passed():
    with pytest.raises(UnknownOperator):
        condition_matches("DateGreaterThan", "aws:CurrentTime", "2026-01-01", {"aws:CurrentTime": "x"})


def test_a_policy_variable_is_the_contexts_value_and_an_unresolved_one_matches_nothing():
    # A tag may be written again with the value it has, never changed: aws:ResourceTag as a variable.
    same_environment = policy(allow("ec2:CreateTags", condition={
        "StringEqualsIfExists": {"aws:RequestTag/Environment": "${aws:ResourceTag/Environment}"}}))
    prod = {"aws:ResourceTag/Environment": "prod"}
    assert evaluate(same_environment, "ec2:CreateTags", "*", dict(prod, **{"aws:RequestTag/Environment": "prod"}))[0] \
        == ALLOW
    assert evaluate(same_environment, "ec2:CreateTags", "*", dict(prod, **{"aws:RequestTag/Environment": "dev"}))[0] \
        == IMPLICIT_DENY
    assert evaluate(same_environment, "ec2:CreateTags", "*", dict(prod, **{"aws:RequestTag/Team": "web"}))[0] == ALLOW
    assert evaluate(same_environment, "ec2:CreateTags", "*", {"aws:RequestTag/Environment": "dev"})[0] == IMPLICIT_DENY
    own_bucket = policy(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"))
    assert evaluate(own_bucket, "s3:GetObject", "arn:aws:s3:::home/ann/notes", {"aws:username": "ann"})[0] == ALLOW
    assert evaluate(own_bucket, "s3:GetObject", "arn:aws:s3:::home/bob/notes", {"aws:username": "ann"})[0] == \
        IMPLICIT_DENY
