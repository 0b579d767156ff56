"""Bad input fails before any AWS call, with a message that names the variable."""

import json

import pytest

pytestmark = pytest.mark.hardening

BAD_INPUTS = [
    ({"vpc_cidr": "10.0.0.0/33"}, "vpc_cidr"),
    ({"vpc_cidr": "not-a-cidr"}, "vpc_cidr"),
    ({"vpc_cidr": "10.0.0.0/8"}, "vpc_cidr"),
    ({"public_subnet_cidr": "192.168.1.0/24"}, "public_subnet_cidr"),
    ({"private_subnet_enabled": True, "private_subnet_cidr": "10.0.1.0/25"}, "private_subnet_cidr"),
    ({"public_ports": [80, 70000]}, "public_ports"),
    ({"public_ports": [0]}, "public_ports"),
    ({"aws_region": "us-east-7"}, "aws_region"),
    ({"project_name": ""}, "project_name"),
    ({"environment_name": "dev env"}, "environment_name"),
    ({"admin_cidrs": ["0.0.0.0/0"]}, "ssh_from_world=true"),
    ({"admin_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]}, "ssh_from_world=true"),
    ({"admin_cidrs": ["203.0.113.7/32", "52.0.0.0/8"]}, "ssh_from_world=true"),
    ({"aws_account_id": "12345"}, "aws_account_id"),
    ({"aws_account_id": ["123456789012", "me"]}, "aws_account_id"),
    ({"admin_cidrs": ["203.0.113.300/32"]}, "admin_cidrs"),
    ({"public_cidrs": []}, "public_cidrs"),
    ({"instance_type": "micro"}, "instance_type"),
    ({"root_volume_size": 4}, "root_volume_size"),
    ({"root_volume_type": "io9"}, "root_volume_type"),
    ({"private_subnet_enabled": "perhaps"}, "private_subnet_enabled"),
    ({"login_user": "Root User"}, "login_user"),
    ({"ami_family": "windows-2022"}, "ami_family"),
    ({"deploy_mode": "magic"}, "deploy_mode"),
    ({"deploy_mode": "user_data", "app_repo": "git@git.example.com:ann/app.git"}, "deploy_mode user_data"),
    ({"deploy_mode": "user_data", "layout": "scaled"}, "deploy_mode user_data works with layout single only"),
    ({"extra_tags": {"aws:team": "web"}}, "extra_tags"),
    ({"extra_tags": {"Team": "x" * 257}}, "extra_tags"),
    ({"extra_tags": {"Project": "other"}}, "extra_tags"),
    ({"extra_tags": {f"Tag{i}": "x" for i in range(50)}}, "extra_tags"),
    ({"extra_tags": {"Team": "web#1"}}, "extra_tags"),
    ({"monthly_budget": -1}, "monthly_budget"),
    ({"monthly_budget": "lots"}, "monthly_budget"),
    ({"budget_action": "ignore"}, "budget_action"),
    ({"free_tier": "student"}, "free_tier"),
    ({"free_tier_credits": -5}, "free_tier_credits"),
    ({"budget_alert_emails": ["not-an-address"]}, "budget_alert_emails"),
    ({"budget_alert_emails": ["me@example.com"], "monthly_budget": 0}, "budget_alert_emails"),
    ({"domain_name": "shop_example"}, "domain_name must be a lowercase DNS name"),
    ({"domain_name": "shop.example.com", "route53_zone": "example.org"}, "route53_zone must be the hosted zone"),
    # "My IP" cannot be found (nothing answers there) while admin_cidrs is empty.
    ({"my_ip_url": "http://127.0.0.1:9/"}, "my_ip_url"),
]


# The host side's inputs: site.yml checks them before it provisions anything.
BAD_HOST_INPUTS = [
    ({"app_repo": "not a url"}, "app_repo"),
    ({"app_repo": ""}, "app_repo"),
    ({"app_repo": "https://ann:s3cret-token@git.example.com/ann/app.git"}, "must not carry a credential"),
    ({"app_repo": "https://ghp_token@git.example.com/ann/app.git"}, "must not carry a credential"),
    ({"app_repo": "git@git.example.com:ann/app.git", "app_repo_ssh_key_path": "/nonexistent/key"},
     "app_repo_ssh_key_path"),
    ({"app_repo": "https://git.example.com/ann/app.git", "app_repo_ssh_key_path": "/etc/hostname"},
     "app_repo_ssh_key_path"),
    ({"app_version": "main; rm -rf /"}, "app_version"),
    ({"app_version": "../../etc"}, "app_version"),
    ({"app_dir": "/etc"}, "app_dir"),
    ({"app_health_checks": [{"name": "page", "port": 70000}]}, "app_health_checks"),
    ({"app_health_checks": [{"name": "page", "port": 80, "from": ["moon"]}]}, "app_health_checks"),
    ({"app_health_checks": []}, "app_health_checks"),
    # Checked from the controller on a port the security group keeps closed: it could only time out.
    ({"app_health_checks": [{"name": "page", "port": 8080}]}, "public_ports"),
    ({"app_env": {"BAD-NAME": "x"}}, "app_env"),
    ({"restore_from": "/nonexistent/dump.sql"}, "restore_from"),
    ({"docker_install_source": "snap"}, "docker_install_source"),
    ({"domain_name": "shop.example.com", "app_acme_ca": "http://acme.example.com/dir"}, "app_acme_ca"),
]


@pytest.mark.parametrize(("extra_vars", "variable"), BAD_HOST_INPUTS,
                         ids=[json.dumps(case[0]) for case in BAD_HOST_INPUTS])
def test_bad_host_input_fails_before_any_aws_call(sandbox, extra_vars, variable):
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/site.yml", "-e", json.dumps(extra_vars), check=False)
    assert run.rc != 0
    assert "s3cret-token" not in run.output and "ghp_token" not in run.output  # a credential is not echoed
    assert variable in run.output.split("PLAY RECAP")[0].split("fatal:")[-1], run.output[-3000:]
    assert [r["action"] for r in sandbox.requests_since(mark)] in ([], ["DescribeInstances"])


@pytest.mark.parametrize(("extra_vars", "variable"), BAD_INPUTS, ids=[json.dumps(case[0]) for case in BAD_INPUTS])
def test_bad_input_fails_before_any_aws_call(sandbox, extra_vars, variable):
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/provision.yml", "-e", json.dumps(extra_vars), check=False)
    assert run.rc != 0
    assert variable in run.output.split("PLAY RECAP")[0].split("fatal:")[-1], run.output[-3000:]
    # The only request allowed is the dynamic inventory's, made when ansible-playbook starts.
    assert [r["action"] for r in sandbox.requests_since(mark)] in ([], ["DescribeInstances"])


def test_world_ssh_with_opt_in_is_allowed_and_warned(sandbox):
    run = sandbox.playbook("playbooks/provision.yml", "--check", "-e",
                           json.dumps({"admin_cidrs": ["0.0.0.0/0"], "ssh_from_world": True}))
    assert "WARNING: port 22 is open to 0.0.0.0/0" in run.output


def test_ssh_from_world_alone_opens_port_22_to_the_world(sandbox):
    sandbox.playbook("playbooks/provision.yml", "-e", json.dumps({"ssh_from_world": True}))
    group = sandbox.ec2.describe_security_groups(GroupIds=sandbox.tagged()["security_group"])["SecurityGroups"][0]
    ssh = [r["CidrIp"] for p in group["IpPermissions"] if p["FromPort"] == 22 for r in p["IpRanges"]]
    assert ssh == ["0.0.0.0/0"]


def test_who_and_where_first_and_another_account_stops_before_any_write(sandbox):
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/provision.yml", "-e", json.dumps({"aws_account_id": ["111122223333"]}),
                           check=False)
    assert run.rc != 0
    said = " ".join(run.output.split())
    assert "Account 123456789012 as arn:aws:" in said and f"region {sandbox.env['AWS_REGION']}" in said
    assert "which aws_account_id does not name (111122223333): nothing was changed" in said, run.output[-3000:]
    assert sandbox.mutating_since(mark) == []
    # The account it names: the run goes on (here in check mode).
    right = sandbox.playbook("playbooks/provision.yml", "--check", "-e", json.dumps({"aws_account_id": "123456789012"}))
    assert "Account 123456789012 as arn:aws:" in " ".join(right.output.split())


def test_a_zone_that_does_not_offer_the_instance_type_is_refused_before_any_write(sandbox):
    """us-east-1e offers no t3 type (AWS's offerings, as the sandbox serves them)."""
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/provision.yml", "-e", "availability_zone=us-east-1e", check=False)
    assert run.rc != 0
    said = " ".join(run.output.split())
    assert ("availability_zone: us-east-1e does not offer instance_type t3.micro; zones that do: us-east-1a, "
            "us-east-1b, us-east-1c, us-east-1d, us-east-1f") in said, run.output[-3000:]
    assert sandbox.mutating_since(mark) == []
