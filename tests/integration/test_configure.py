"""configure reads the host once (host_state_info, both parts) and changes only what differs.

On one deployed host: a re-run deploys nothing and checks the app from the controller alone. Then
every part of the host that configure sets is changed behind its back; the two reads name each
change, one configure run repairs all of them, and the run after that is a no-op again."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.deploys
HOST = "tasklist-dev-web"
APP_DIR = "/opt/tasklist"
RECORD = "/var/lib/shipyard/tasklist/healthy-commit"
ROOT = Path(__file__).resolve().parents[2]
DOCKER_DEFAULTS = yaml.safe_load((ROOT / "roles" / "docker" / "defaults" / "main.yml").read_text())
DAEMON_OPTIONS = DOCKER_DEFAULTS["docker_daemon_options"]
JSON_OUTPUT = {"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}


def on_host(container, script):
    return subprocess.run(["docker", "exec", container, "bash", "-euc", script], capture_output=True, text=True,
                          timeout=120, check=True).stdout.strip()


def task_output(run, name):
    """What the run printed for one task, up to the next task."""
    return run.output.split(f"{name}] ")[1].split("\n", 1)[1].split("TASK [")[0]


def read(sandbox, part, **args):
    """One host_state_info run on the host for one part, ad hoc, as a user would call it; that part."""
    key = str(sandbox.tmp_path / "ssh" / "dev")
    run = sandbox.command("ansible", "shipyard_hosts", "--become", "--private-key", key,
                          "-m", "shipyard.ec2_compose.host_state_info", "-a", json.dumps({part: args}),
                          extra_env=JSON_OUTPUT)
    result = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"][HOST]
    return {**result[part], "changed": result["changed"]}


def read_app(sandbox, env_checksum, **more):
    return read(sandbox, "app", project_dir=APP_DIR, project_name="tasklist",
                repo=sandbox.env["SHIPYARD_APP_REPO"], version="main", env_checksum=env_checksum,
                healthy_record=RECORD, **more)


def read_docker(sandbox):
    return read(sandbox, "docker", packages=["docker.io", "python3-requests"], users=["admin"],
                daemon_json=json.dumps(DAEMON_OPTIONS, indent=4, sort_keys=True) + "\n")


@pytest.fixture(scope="module")
def deployed(module_sandbox):
    module_sandbox.playbook("playbooks/provision.yml")
    module_sandbox.playbook("playbooks/configure.yml")
    (container,) = module_sandbox.containers()
    return module_sandbox, container


def test_a_converged_host_is_read_once_and_checked_from_the_controller(deployed):
    sandbox, _container = deployed
    run = sandbox.playbook("playbooks/configure.yml", "-v")
    assert run.recap(HOST)["changed"] == 0
    assert "Fetch the app at main" not in run.output  # no deployment started
    converge = task_output(run, "Install Docker, configure and start it, add the users to its group")
    assert converge.strip().startswith("skipping:")
    for writer in ["Install Docker Engine and compose v2", "Configure the daemon (log rotation by default)",
                   "Start Docker now and at every boot"]:
        assert f"TASK [shipyard.ec2_compose.docker : {writer}]" not in run.output, writer
    health = task_output(run, "Check that every health check passes")
    assert "page from the controller, api from the controller: healthy" in " ".join(health.split())


def test_every_drift_is_named_by_the_reads_and_repaired_by_one_run(deployed):
    sandbox, container = deployed
    env_checksum = on_host(container, f"sha1sum {APP_DIR}/.env").split()[0]
    assert read_app(sandbox, env_checksum)["differs"] == []
    docker = read_docker(sandbox)
    assert (docker["daemon_json_current"], docker["users_not_in_group"], docker["service"]) == (
        True, [], {"enabled": True, "active": True})
    main = on_host(container, f"git -C {APP_DIR} rev-parse HEAD")
    v1_0 = on_host(container, f"git -C {APP_DIR} rev-parse v1.0.0")

    sleeper = on_host(container, f"""
        echo '{{}}' > /etc/docker/daemon.json
        gpasswd --delete admin docker > /dev/null
        systemctl disable --quiet docker
        DEBIAN_FRONTEND=noninteractive apt-get remove --yes --quiet python3-requests > /dev/null
        cd {APP_DIR}
        # A service that an earlier compose file had: its container is an orphan now.
        printf 'services:\\n  old:\\n    image: shipyard-sandbox/debian:trixie\\n    command: sleep infinity\\n' \\
            > /tmp/old.yaml
        docker compose --project-name tasklist -f compose.yaml -f /tmp/old.yaml up --detach --no-deps old \\
            > /dev/null 2>&1
        chmod 0644 .env && echo '# edited' >> .env
        docker stop tasklist-api-1 > /dev/null
        git checkout --quiet v1.0.0
        rm {RECORD}
        echo '# edited' >> compose.yaml
        setsid python3 -c 'import time; time.sleep(600)' compose up --project-directory {APP_DIR} \\
            > /dev/null 2>&1 < /dev/null &
        echo $!
    """)
    docker = read_docker(sandbox)
    assert docker["daemon_json_current"] is False
    assert docker["users_not_in_group"] == ["admin"]
    assert docker["service"] == {"enabled": False, "active": True}
    assert "python3-requests" not in docker["installed"] and "docker.io" in docker["installed"]
    app = read_app(sandbox, env_checksum, base_image="shipyard-sandbox/none:missing")
    differs = app["differs"]
    for line in [f"checkout: local changes in {APP_DIR}",
                 f"checkout: at {v1_0[:12]}, main is {main[:12]}",
                 ".env: other content",
                 ".env: not mode 0600 root:root",
                 f"health record: none, the checkout is {v1_0[:12]}",
                 "base image: shipyard-sandbox/none:missing is not loaded",
                 "service api: tasklist-api-1 is exited",
                 "container tasklist-old-1: its service old is not in the compose file"]:
        assert line in differs
    assert any(line.startswith(f"compose: a run for {APP_DIR} still goes on") for line in differs)
    assert (app["base_image_present"], app["containers"], len(app["compose_runs"])) == (False, 4, 1)

    # configure refuses local changes and waits for a compose run: those two are the user's to clear.
    on_host(container, f"git -C {APP_DIR} checkout -- compose.yaml && kill {sleeper}")
    run = sandbox.playbook("playbooks/configure.yml")
    assert run.recap(HOST)["changed"] > 0
    assert json.loads(on_host(container, "cat /etc/docker/daemon.json")) == DAEMON_OPTIONS
    assert "docker" in on_host(container, "id --name --groups admin").split()
    assert on_host(container, "systemctl is-enabled docker") == "enabled"
    assert "install ok installed" in on_host(container, "dpkg-query --show --showformat '${Status}' python3-requests")
    assert on_host(container, f"stat --format %a:%U:%G {APP_DIR}/.env") == "600:root:root"
    assert on_host(container, f"git -C {APP_DIR} rev-parse HEAD") == main
    assert on_host(container, f"cat {RECORD}") == main
    assert on_host(container, "docker ps --all --format '{{.Names}}' | sort").split() == [
        "tasklist-api-1", "tasklist-db-1", "tasklist-web-1"]

    assert read_app(sandbox, env_checksum)["differs"] == []
    again = sandbox.playbook("playbooks/configure.yml")
    assert again.recap(HOST)["changed"] == 0
    assert "Fetch the app at main" not in again.output
