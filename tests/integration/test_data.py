"""Who does the backups? Teardown does: a pg_dump of the app's database on the controller (0600)
before anything is deleted, and site.yml -e restore_from=<dump> brings the rows back."""

import json
import re
import urllib.request

import pytest

pytestmark = [pytest.mark.hardening, pytest.mark.deploys]


def app_address(run):
    return re.search(r"page: http://([0-9.]+):80/", run.output).group(1)


def tasks_at(address):
    with urllib.request.urlopen(f"http://{address}:8000/api/tasks", timeout=10) as response:
        return [task["title"] for task in json.loads(response.read())]


def add_task(address, title):
    request = urllib.request.Request(f"http://{address}:8000/api/tasks", method="POST",
                                     data=json.dumps({"title": title}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()


def test_teardown_backs_up_and_site_restores_the_rows(sandbox):
    address = app_address(sandbox.playbook("playbooks/site.yml"))
    titles = [f"kept across teardown {n}" for n in range(3)]
    for title in titles:
        add_task(address, title)

    run = sandbox.playbook("playbooks/teardown.yml", "-e", "teardown_confirm=dev")
    dumps = list((sandbox.tmp_path / "backups").glob("tasklist-dev-*.sql"))
    assert len(dumps) == 1, run.output[-3000:]
    dump = dumps[0]
    assert re.fullmatch(r"tasklist-dev-.+-\d{8}T\d{6}Z\.sql", dump.name)
    assert oct(dump.stat().st_mode & 0o777) == "0o600"
    assert oct(dump.parent.stat().st_mode & 0o777) == "0o700"
    assert f"saved to {dump}" in run.output  # the play says where the dump is
    assert all(title in dump.read_text() for title in titles)
    assert sandbox.tagged() == {}

    run = sandbox.playbook("playbooks/site.yml", "-e", f"restore_from={dump}")
    address = app_address(run)
    restored = [title for title in tasks_at(address) if title in titles]
    assert sorted(restored) == titles  # every row, once
    print(f"rows restored: {len(restored)} of {len(titles)}")

    # Loaded once: a re-run with the same dump changes nothing on the host.
    rerun = sandbox.playbook("playbooks/configure.yml", "-e", f"restore_from={dump}")
    host = re.search(r"^(\S+)\s+: ok=", rerun.output.split("PLAY RECAP")[-1], re.MULTILINE).group(1)
    assert rerun.recap(host)["changed"] == 0, rerun.output[-4000:]
    assert sorted(t for t in tasks_at(address) if t in titles) == titles
