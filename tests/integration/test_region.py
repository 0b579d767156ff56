"""The region: aws_region when set, else the one amazon.aws resolves (AWS_REGION, AWS_DEFAULT_REGION,
the profile's region), handed to every AWS module of a play at once through module_defaults."""

import json

NO_REGION_IN_THE_ENVIRONMENT = {"AWS_REGION": None, "AWS_DEFAULT_REGION": None}


def localhost_only(tmp_path):
    """An inventory without the sandbox's aws_ec2 one, which reads AWS_REGION itself: so that the
    calls counted are the plays' own."""
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("localhost ansible_connection=local\n")
    return str(inventory)


def regions_called(sandbox, mark):
    """The regions of the calls, but IAM's, which is global (its endpoint signs for us-east-1)."""
    return {request["region"] for request in sandbox.requests_since(mark) if request["service"] != "iam"}


def test_the_profiles_region_is_used_when_nothing_names_one(sandbox, tmp_path):
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = eu-west-3\n")
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/provision.yml", "--check", "-i", localhost_only(tmp_path),
                           extra_env={**NO_REGION_IN_THE_ENVIRONMENT, "AWS_CONFIG_FILE": str(config)})
    assert "tasklist/dev in eu-west-3: t3.micro" in run.output
    assert regions_called(sandbox, mark) == {"eu-west-3"}


def test_aws_region_wins_over_the_environment(sandbox, tmp_path):
    inventory = localhost_only(tmp_path)
    mark = sandbox.requests_mark()
    sandbox.playbook("playbooks/provision.yml", "--check", "-i", inventory, "-e", "aws_region=eu-west-3")
    sandbox.playbook("playbooks/teardown.yml", "--check", "-i", inventory, "-e", "aws_region=eu-west-3")
    assert sandbox.env["AWS_REGION"] != "eu-west-3"
    assert regions_called(sandbox, mark) == {"eu-west-3"}


def test_no_region_anywhere_stops_before_any_aws_call_and_says_where_to_set_one(sandbox, tmp_path):
    config = tmp_path / "aws-config"
    config.write_text("[default]\n")
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/provision.yml", "--check", "-i", localhost_only(tmp_path), check=False,
                           extra_env={**NO_REGION_IN_THE_ENVIRONMENT, "AWS_CONFIG_FILE": str(config)})
    assert run.rc != 0
    assert "No region: set the region option (the playbooks' aws_region), AWS_REGION" in run.output
    assert sandbox.requests_since(mark) == []


def test_the_aws_inventory_reads_only_the_region_in_use(sandbox, tmp_path):
    # inventory/aws_ec2.yml (the one for AWS) reads AWS_REGION, AWS_DEFAULT_REGION or the profile's region:
    # a host in eu-west-3 is found with the profile's eu-west-3, and no other region is asked.
    ec2 = sandbox.client("ec2", region="eu-west-3")
    image = ec2.describe_images(Owners=["136693071363"],
                                Filters=[{"Name": "name", "Values": ["debian-13-amd64-*"]}])["Images"][0]
    tags = {"Project": "tasklist", "Environment": "dev", "ManagedBy": "shipyard.ec2_compose",
            "Name": "tasklist-dev-web"}
    ec2.run_instances(ImageId=image["ImageId"], MinCount=1, MaxCount=1, InstanceType="t3.micro",
                      TagSpecifications=[{"ResourceType": "instance",
                                          "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}])
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = eu-west-3\n")
    mark = sandbox.requests_mark()
    listed = sandbox.command("ansible-inventory", "-i", "inventory/aws_ec2.yml", "--list",
                             extra_env={**NO_REGION_IN_THE_ENVIRONMENT, "AWS_CONFIG_FILE": str(config)})
    inventory = json.loads(listed.stdout)
    assert inventory["shipyard_hosts"]["hosts"] == ["tasklist-dev-web"]
    assert regions_called(sandbox, mark) == {"eu-west-3"}
    # AWS_REGION wins over the profile: us-east-1 has no such host.
    elsewhere = sandbox.command("ansible-inventory", "-i", "inventory/aws_ec2.yml", "--list",
                                extra_env={"AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": str(config)})
    assert "shipyard_hosts" not in json.loads(elsewhere.stdout)
    # No region anywhere: the inventory says where to set one.
    config.write_text("[default]\n")
    lost = sandbox.command("ansible-inventory", "-i", "inventory/aws_ec2.yml", "--list",
                           extra_env={**NO_REGION_IN_THE_ENVIRONMENT, "AWS_CONFIG_FILE": str(config)})
    assert "No AWS region for the inventory: set AWS_REGION" in " ".join((lost.stdout + lost.stderr).split())
