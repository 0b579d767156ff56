"""Your own compose app, not the Task List: the Guestbook (examples/guestbook) has another shape - one
web service on :8080, a health endpoint answering an object, its PostgreSQL in a service named "store"
whose password the compose file reads from STORE_PASSWORD. Deployed, backed up and torn down end to
end with only variables saying so; then torn down as an app without a database (no backup, said so)."""

import json
import urllib.request

import pytest

pytestmark = pytest.mark.deploys

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


def guestbook_vars(sandbox, **more):
    repo = sandbox.env["SHIPYARD_APP_REPO"].replace("tasklist.git", "guestbook.git")
    return ["-e", json.dumps(dict(GUESTBOOK, app_repo=repo, **more))]


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


def test_the_guestbook_deploys_backs_up_and_tears_down_by_variables_alone(sandbox):
    site = sandbox.playbook("playbooks/site.yml", *guestbook_vars(sandbox), extra_env=AS_GUESTBOOK)
    address = sandbox.host_address("guestbook")
    assert f"health: http://{address}:8080/healthz" in site.output  # the summary prints the user's checks

    status, page = call(f"http://{address}:8080/")
    assert status == 200 and "<h1>Guestbook</h1>" in page
    assert call(f"http://{address}:8080/entries", {"name": "Ada", "message": "signed by the test"})[0] == 201
    status, health = call(f"http://{address}:8080/healthz")
    assert json.loads(health) == {"status": "ok", "version": "2.0.0", "entries": 1}

    # The backup knobs: pg_dump runs in "store" as "guestbook"; the dump holds the entry.
    backup = sandbox.playbook("playbooks/backup.yml", *guestbook_vars(sandbox), extra_env=AS_GUESTBOOK)
    dumps = sorted((sandbox.tmp_path / "backups").glob("guestbook-dev-*.sql"))
    assert len(dumps) == 1 and "signed by the test" in dumps[0].read_text(), backup.output[-3000:]

    # The same app declared as having no database: teardown saves nothing, says why, and goes on.
    teardown = sandbox.playbook("playbooks/teardown.yml", "-e", "teardown_confirm=dev",
                                *guestbook_vars(sandbox, app_db_service=""), extra_env=AS_GUESTBOOK)
    said = " ".join(teardown.output.split())
    assert "app_db_service is empty: the app has no database, nothing to back up" in said
    assert len(list((sandbox.tmp_path / "backups").glob("guestbook-dev-*.sql"))) == 1
    assert guestbook_resources(sandbox) == {"instances": [], "vpcs": [], "groups": []}
    assert sandbox.containers() == []
