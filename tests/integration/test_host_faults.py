"""Faults on the host side: configure killed during the Docker install and during compose up
completes on a re-run, and an app that fails its health check fails the run with the services'
state and logs (compose has replaced the containers: the previous version is not kept running)."""

import contextlib
import datetime
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.hardening
ROOT = Path(__file__).resolve().parents[2]
COMPOSE_RUN = "compose .*--project-directory /"  # a `docker compose up` that configure started on the host


def configure_killed_during(sandbox, task, seconds):
    """Run configure.yml; kill its whole process group (SSH included) `seconds` after `task` starts."""
    env = {**os.environ, **sandbox.env, "SHIPYARD_ENVIRONMENT": "dev", "ANSIBLE_NOCOLOR": "1"}
    command = ["ansible-playbook", "playbooks/configure.yml", "-e", f"ssh_key_path={sandbox.tmp_path}/ssh/dev"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    try:
        for line in process.stdout:
            if line.startswith("TASK [") and task in line:
                time.sleep(seconds)
                break
        else:
            pytest.fail(f"configure ended before the task '{task}'")
        assert process.poll() is None, f"configure finished within {seconds} s of '{task}': nothing interrupted"
    finally:
        # ansible-playbook's workers start sessions of their own (os.setsid): its process group
        # does not hold them, so its descendants are killed by id as well.
        for pid in [process.pid, *descendants(process.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)


def configure_streamed(sandbox, on_line):
    """Run configure.yml, calling on_line(line) for each line as it comes; its output once it passed."""
    env = {**os.environ, **sandbox.env, "SHIPYARD_ENVIRONMENT": "dev", "ANSIBLE_NOCOLOR": "1"}
    command = ["ansible-playbook", "playbooks/configure.yml", "-e", f"ssh_key_path={sandbox.tmp_path}/ssh/dev"]
    lines = []
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as process:
        for line in process.stdout:
            lines.append(line)
            on_line(line)
        rc = process.wait(timeout=600)
    output = "".join(lines)
    assert rc == 0, output[-6000:]
    return output


def descendants(pid):
    """The ids of every process below `pid`, from /proc (children first listed, then theirs)."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def tasks_answer(output):
    """The API answers a list at the address that the run's summary gives."""
    address = re.search(r"page: http://([0-9.]+):80/", output).group(1)
    with urllib.request.urlopen(f"http://{address}:8000/api/tasks", timeout=10) as response:
        return response.status == 200 and isinstance(json.loads(response.read()), list)


def test_configure_waits_for_a_first_boot_that_holds_the_dpkg_lock(sandbox):
    # Longer than apt's own default wait for the lock (60 s): a first-boot package job as on a cloud image.
    hold = 150
    first_boot = {"extra_tags": {"SandboxFirstBootAptSeconds": str(hold)}}
    sandbox.playbook("playbooks/provision.yml", "-e", json.dumps(first_boot))
    (host,) = sandbox.containers()
    # While cloud-init is at work (no boot-finished yet), a configure given less than that in
    # docker_first_boot_timeout fails, naming it; meanwhile the package job goes on holding dpkg.
    boot_finished = "/var/lib/cloud/instance/boot-finished"
    subprocess.run(["docker", "exec", host, "bash", "-c", f"until [ -e {boot_finished} ]; do sleep 0.5; done; "
                    f"mv {boot_finished} {boot_finished}.later"], check=True, timeout=120)
    short = sandbox.playbook("playbooks/configure.yml", "-e", "docker_first_boot_timeout=3", check=False)
    subprocess.run(["docker", "exec", host, "mv", boot_finished + ".later", boot_finished], check=True, timeout=60)
    assert short.rc != 0
    assert "had not finished after docker_first_boot_timeout (3 s)" in " ".join(short.output.split())
    run = sandbox.playbook("playbooks/configure.yml")
    assert tasks_answer(run.output)

    def host_file(path):
        return subprocess.run(["docker", "exec", host, "cat", path], capture_output=True, text=True, timeout=60,
                              check=True).stdout

    job = dict(line.split() for line in host_file("/var/log/sandbox-first-boot-apt.log").splitlines())
    held, released = float(job["held"]), float(job["released"])
    assert released - held >= hold
    # The image's own installs are in the log too: the first of Docker's is configure's.
    first_install = next(line for line in host_file("/var/log/dpkg.log").splitlines() if " install docker" in line)
    installed = datetime.datetime.strptime(first_install[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.UTC)
    assert installed.timestamp() >= released - 1, "dpkg ran while the first-boot job held its lock"


def test_configure_interrupted_completes_on_rerun_and_the_health_contract_decides(sandbox):
    # No first-boot package job: the first kill must land in the middle of the Docker install.
    sandbox.playbook("playbooks/provision.yml", "-e", json.dumps({"extra_tags": {"SandboxFirstBootAptSeconds": "0"}}))

    configure_killed_during(sandbox, "Install Docker Engine and compose v2", seconds=15)
    configure_killed_during(sandbox, "Build and start the app", seconds=8)
    # Only the SSH session died: the killed run's `compose up` goes on on the host, and the re-run
    # must wait for it instead of racing it for the container names. It is held (SIGSTOP) until the
    # re-run has seen it, so that the wait is certain, not a matter of how fast the build is.
    (host,) = sandbox.containers()
    left = subprocess.run(["docker", "exec", host, "pkill", "--signal", "STOP", "--full", COMPOSE_RUN],
                          capture_output=True, text=True, timeout=60, check=False)
    assert left.returncode == 0, "expected the killed run's compose up to be still running on the host"

    # Held longer than app_health_timeout: the re-run gives up, naming it.
    held = sandbox.playbook("playbooks/configure.yml", "-e", "app_health_timeout=5", check=False)
    assert held.rc != 0
    assert "still runs on the host after app_health_timeout (5 s)" in " ".join(held.output.split())

    seen = []  # the retry line, once the re-run has printed it

    def release_once_seen(line):
        if "RETRYING: [tasklist-dev-web]: Wait for a compose" in line and not seen:
            seen.append(line)
            subprocess.run(["docker", "exec", host, "pkill", "--signal", "CONT", "--full", COMPOSE_RUN],
                           capture_output=True, timeout=60, check=True)

    output = configure_streamed(sandbox, release_once_seen)
    assert "RETRYING: [tasklist-dev-web]: Wait for a compose" in output  # it waited, then went on
    assert tasks_answer(output)

    # The health contract is the user's: checks of another shape than the default (an object's field,
    # a status other than 200, text in a body, one side only) on the same running app.
    contract = [
        {"name": "health", "port": 8000, "path": "/api/health", "json_query": "status"},
        {"name": "version", "port": 8000, "path": "/api/version", "contains": "version", "from": ["controller"]},
        {"name": "no-such-page", "port": 8000, "path": "/api/none", "status": 404, "from": ["host"]},
    ]
    run = sandbox.playbook("playbooks/configure.yml", "-v", "-e", json.dumps({"app_health_checks": contract}))
    # Nothing changed on the host: each check from the controller where it may be, else from the host.
    said = " ".join(run.output.split())  # long messages are folded over lines
    assert "health from the controller, version from the controller, no-such-page from the host: healthy" in said
    assert re.search(r"health: http://[0-9.]+:8000/api/health", run.output)  # the summary names each check

    # The API answers, but not at this path, and without this JSON field: the checks fail after
    # their retries, and the run fails with the services' state and logs.
    failing = [{"name": "missing-path", "port": 8000, "path": "/api/missing", "from": ["host"]},
               {"name": "missing-field", "port": 8000, "path": "/api/health", "json_query": "database.latency",
                "from": ["host"]}]
    run = sandbox.playbook("playbooks/configure.yml", "-e", json.dumps({"app_health_checks": failing}), check=False)
    assert run.rc != 0
    failure = " ".join(run.output.split("PLAY RECAP")[0].split())
    assert "missing-path from the host (http://127.0.0.1:8000/api/missing): status 404, wanted 200" in failure
    assert ("missing-field from the host (http://127.0.0.1:8000/api/health): json_query database.latency finds"
            " nothing in the body") in failure
    assert "The app did not come up healthy" in failure
    assert "--- docker compose ps --all" in failure and "--- docker compose logs" in failure
    assert "tasklist-api-1" in failure  # the services' own state and log lines are shown
