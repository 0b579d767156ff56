"""The collection as a Galaxy user gets it, with an app of their own: the built tarball installed into
an empty collections path, used from a project directory outside the checkout with the user's own
inventory and group_vars - which win over the roles' defaults - and the user's own playbook using a
role by FQCN.

The user's app is not the Task List: the Guestbook (examples/guestbook) has another shape - one web
service on :8080, a health endpoint answering an object, its PostgreSQL in a service named "store"
whose password the compose file reads from STORE_PASSWORD. It is deployed, backed up and torn down
by variables alone; then torn down as an app without a database (no backup, said so)."""

import json
import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import ansible_collections
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
AS_GUESTBOOK = {"SHIPYARD_PROJECT": "guestbook"}  # project_name, and the inventory's Project filter
GUESTBOOK = {
    "app_version": "v2.0.0",
    "public_ports": [8080],  # the security group lets the controller's health checks in
    "app_health_checks": [{"name": "page", "port": 8080, "path": "/", "contains": "Guestbook"},
                          {"name": "health", "port": 8080, "path": "/healthz", "json_query": "status"}],
    "app_db_service": "store",
    "app_db_user": "guestbook",
    "app_db_name": "guestbook",
    "app_db_password_env": "STORE_PASSWORD",
}


def user_project(tmp_path, group_vars):
    """A user's project: an inventory copied from the collection's example, their own group_vars."""
    project = tmp_path / "project"
    (project / "inventory" / "group_vars").mkdir(parents=True)
    shutil.copy(ROOT / "inventory" / "sandbox.aws_ec2.yml", project / "inventory" / "aws_ec2.yml")
    (project / "inventory" / "group_vars" / "all.yml").write_text(yaml.safe_dump(group_vars))
    return project


def run(sandbox, project, installed_collection, *args, extra_env=None):
    """ansible-playbook from the user's project: the collection from its installed path only."""
    # amazon.aws and community.docker as the user has them: from the ansible package.
    bundled = Path(next(iter(ansible_collections.__path__))).parent
    env = {**os.environ, **sandbox.env, "ANSIBLE_INVENTORY": str(project / "inventory" / "aws_ec2.yml"),
           "ANSIBLE_COLLECTIONS_PATH": f"{installed_collection}:{bundled}", "ANSIBLE_NOCOLOR": "1",
           **(extra_env or {})}
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run(["ansible-playbook", *args, "-e", f"ssh_key_path={project}/ssh/dev",
                           "-e", f"backup_dir={project}/backups"], cwd=project, env=env, capture_output=True,
                          text=True, timeout=1200, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    return output


def call(url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode()


def guestbook_resources(sandbox):
    filters = [{"Name": "tag:Project", "Values": ["guestbook"]}]
    live = [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
    return {"instances": sandbox.ec2.describe_instances(Filters=filters + live)["Reservations"],
            "vpcs": sandbox.ec2.describe_vpcs(Filters=filters)["Vpcs"],
            "groups": sandbox.ec2.describe_security_groups(Filters=filters)["SecurityGroups"]}


def test_the_users_own_app_by_fqcn_with_their_group_vars_deploys_backs_up_and_tears_down(
        sandbox, installed_collection, tmp_path):
    repo = sandbox.env["SHIPYARD_APP_REPO"].replace("tasklist.git", "guestbook.git")
    project = user_project(tmp_path, {"instance_type": "t3.small", "monthly_budget": 50, "app_repo": repo,
                                      **GUESTBOOK})
    site = run(sandbox, project, installed_collection, "shipyard.ec2_compose.site", extra_env=AS_GUESTBOOK)
    said = " ".join(site.split())
    assert "t3.small" in said and "monthly_budget 50 USD" in said, said[-3000:]
    reservations = sandbox.ec2.describe_instances(
        Filters=[{"Name": "instance-state-name", "Values": ["running"]}])["Reservations"]
    assert [i["InstanceType"] for r in reservations for i in r["Instances"]] == ["t3.small"]
    address = sandbox.host_address("guestbook")
    # The summary prints the user's checks (as JSON or YAML: the user's ansible.cfg says, not ours).
    assert re.search(rf'"?health"?: "?http://{re.escape(address)}:8080/healthz', site), site[-3000:]

    status, page = call(f"http://{address}:8080/")
    assert status == 200 and "<h1>Guestbook</h1>" in page
    assert call(f"http://{address}:8080/entries", {"name": "Ada", "message": "signed by the test"})[0] == 201
    status, health = call(f"http://{address}:8080/healthz")
    assert json.loads(health) == {"status": "ok", "version": "2.0.0", "entries": 1}

    # The backup knobs: pg_dump runs in "store" as "guestbook"; the dump holds the entry.
    backup = run(sandbox, project, installed_collection, "shipyard.ec2_compose.backup", extra_env=AS_GUESTBOOK)
    dumps = sorted((project / "backups").glob("guestbook-dev-*.sql"))
    assert len(dumps) == 1 and "signed by the test" in dumps[0].read_text(), backup[-3000:]

    # The same app declared as having no database: teardown saves nothing, says why, and goes on.
    teardown = run(sandbox, project, installed_collection, "shipyard.ec2_compose.teardown",
                   "-e", "teardown_confirm=dev", "-e", "app_db_service=", extra_env=AS_GUESTBOOK)
    said = " ".join(teardown.split())
    assert "app_db_service is empty: the app has no database, nothing to back up" in said
    assert len(list((project / "backups").glob("guestbook-dev-*.sql"))) == 1
    assert guestbook_resources(sandbox) == {"instances": [], "vpcs": [], "groups": []}
    assert sandbox.tagged(project="guestbook") == {}
    assert sandbox.containers() == []


def test_a_users_own_play_uses_a_role_by_fqcn_with_its_defaults(sandbox, installed_collection, tmp_path):
    """The network role in the user's play, after the settings role, given nothing: the defaults make a whole
    network. Without the settings role the play stops before any AWS call, naming the settings it lacks."""
    project = user_project(tmp_path, {})

    def play(roles):
        return yaml.safe_dump([{
            "name": "My network", "hosts": "localhost", "connection": "local", "gather_facts": False,
            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "roles": [{"role": f"shipyard.ec2_compose.{role}"} for role in roles],
            "tasks": [{"name": "Show it", "ansible.builtin.debug": {"var": "network_vpc_id"}}]}])

    (project / "alone.yml").write_text(play(["network"]))
    mark = sandbox.requests_mark()
    with pytest.raises(AssertionError, match="missing required arguments: environment_name, extra_tags, layout"):
        run(sandbox, project, installed_collection, "alone.yml")
    assert [r["action"] for r in sandbox.requests_since(mark)] in ([], ["DescribeInstances"])  # the inventory's

    (project / "network.yml").write_text(play(["settings", "network"]))
    output = run(sandbox, project, installed_collection, "network.yml")
    vpcs = sandbox.ec2.describe_vpcs(Filters=[{"Name": "tag:ManagedBy", "Values": ["shipyard.ec2_compose"]}])["Vpcs"]
    assert len(vpcs) == 1 and vpcs[0]["CidrBlock"] == "10.0.0.0/16"
    assert vpcs[0]["VpcId"] in output
