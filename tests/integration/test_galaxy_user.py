"""The collection as a Galaxy user gets it: the built tarball installed into an empty collections
path, used from a project directory outside the checkout with the user's own inventory and
group_vars - which win over the roles' defaults - and the user's own playbook using a role by FQCN."""

import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import ansible_collections
import pytest
import yaml

pytestmark = pytest.mark.deploys

ROOT = Path(__file__).resolve().parents[2]


def user_project(tmp_path, group_vars):
    """A user's project: an inventory copied from the collection's example, their own group_vars."""
    project = tmp_path / "project"
    (project / "inventory" / "group_vars").mkdir(parents=True)
    shutil.copy(ROOT / "inventory" / "sandbox.aws_ec2.yml", project / "inventory" / "aws_ec2.yml")
    (project / "inventory" / "group_vars" / "all.yml").write_text(yaml.safe_dump(group_vars))
    return project


def run(sandbox, project, installed_collection, *args):
    """ansible-playbook from the user's project: the collection from its installed path only."""
    # amazon.aws and community.docker as the user has them: from the ansible package.
    bundled = Path(next(iter(ansible_collections.__path__))).parent
    env = {**os.environ, **sandbox.env, "ANSIBLE_INVENTORY": str(project / "inventory" / "aws_ec2.yml"),
           "ANSIBLE_COLLECTIONS_PATH": f"{installed_collection}:{bundled}", "ANSIBLE_NOCOLOR": "1"}
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run(["ansible-playbook", *args, "-e", f"ssh_key_path={project}/ssh/dev",
                           "-e", f"backup_dir={project}/backups"], cwd=project, env=env, capture_output=True,
                          text=True, timeout=1200, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    return output


def test_site_by_fqcn_with_the_users_group_vars_then_teardown(sandbox, installed_collection, tmp_path):
    project = user_project(tmp_path, {"instance_type": "t3.small", "monthly_budget": 50})
    provision = run(sandbox, project, installed_collection, "shipyard.ec2_compose.site")
    said = " ".join(provision.split())
    assert "t3.small" in said and "monthly_budget 50 USD" in said, said[-3000:]
    reservations = sandbox.ec2.describe_instances(
        Filters=[{"Name": "instance-state-name", "Values": ["running"]}])["Reservations"]
    assert [i["InstanceType"] for r in reservations for i in r["Instances"]] == ["t3.small"]
    with urllib.request.urlopen(f"http://{sandbox.host_address()}/", timeout=10) as response:
        assert response.status == 200

    run(sandbox, project, installed_collection, "shipyard.ec2_compose.teardown", "-e", "teardown_confirm=dev")
    assert sandbox.tagged() == {}
    assert sandbox.containers() == []


def test_a_users_own_play_uses_a_role_by_fqcn_with_its_defaults(sandbox, installed_collection, tmp_path):
    """The network role alone, in the user's play, given nothing: its defaults make a whole network."""
    project = user_project(tmp_path, {})
    (project / "network.yml").write_text(yaml.safe_dump([{
        "name": "My network", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "roles": [{"role": "shipyard.ec2_compose.network"}],
        "tasks": [{"name": "Show it", "ansible.builtin.debug": {"var": "network_vpc_id"}}]}]))
    output = run(sandbox, project, installed_collection, "network.yml")
    vpcs = sandbox.ec2.describe_vpcs(Filters=[{"Name": "tag:ManagedBy", "Values": ["shipyard.ec2_compose"]}])["Vpcs"]
    assert len(vpcs) == 1 and vpcs[0]["CidrBlock"] == "10.0.0.0/16"
    assert vpcs[0]["VpcId"] in output
