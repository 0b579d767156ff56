"""site.yml end to end in the sandbox with deploy_mode user_data: from an empty cloud to the Task List
answering on a real host (a container reached over SSH) that deployed it at first boot, a no-op second
run, then teardown down to nothing. The same for deploy_mode configure is the first steps of
test_single_host.py's host."""

import json
import subprocess

from cloud import docker_role_choice, get, last_line, post_task, ssh_sources


def on_host(container, *command):
    return subprocess.run(["docker", "exec", container, *command], capture_output=True, text=True, timeout=60,
                          check=False).stdout


def test_site_with_user_data_from_nothing_to_a_working_app_and_back(sandbox):
    mode = ["-e", "deploy_mode=user_data"]
    first = sandbox.playbook("playbooks/site.yml", *mode)
    address = sandbox.host_address()
    assert len(sandbox.containers()) == 1
    # User data installs what the docker role's one table names, as configure does (the hosts are Debian 13).
    (container,) = sandbox.containers()
    packages, daemon_options = docker_role_choice("Debian-13")
    installed = on_host(container, "dpkg-query", "--show", "--showformat", "${Package} ${Status}\n", *packages)
    assert sorted(installed.split("\n")[:-1]) == sorted(f"{name} install ok installed" for name in packages)
    assert json.loads(on_host(container, "cat", "/etc/docker/daemon.json")) == daemon_options

    # From the controller, over the container's address, as a user's browser would.
    status, page = get(f"http://{address}/")
    assert status == 200 and "<title>Task List</title>" in page
    status, tasks = get(f"http://{address}:8000/api/tasks")
    assert status == 200 and isinstance(json.loads(tasks), list)
    assert post_task(address, "written by the test")[0] == 201
    assert f"page: http://{address}:80/" in first.output  # the summary says where the app is
    assert last_line(first.output) == f"msg: 'open: http://{address}:80/'"  # the run's last word
    # admin_cidrs unset: SSH is open to "my IP" only, the address the hosts see the controller at.
    assert ssh_sources(sandbox) == [sandbox.my_ip() + "/32"]

    mark = sandbox.requests_mark()
    second = sandbox.playbook("playbooks/site.yml", *mode)
    assert second.recap("localhost")["changed"] == 0
    assert second.recap("tasklist-dev-web")["changed"] == 0
    assert sandbox.mutating_since(mark) == []
    assert "written by the test" in get(f"http://{address}:8000/api/tasks")[1]

    # A user's ansible.cfg may keep role variables private (private_role_vars): the playbooks share
    # the roles' variables with the play whatever it says.
    private = {"ANSIBLE_PRIVATE_ROLE_VARS": "true"}
    third = sandbox.playbook("playbooks/site.yml", *mode, extra_env=private)
    assert third.recap("localhost")["changed"] == 0 and third.recap("tasklist-dev-web")["changed"] == 0

    sandbox.playbook("playbooks/teardown.yml", "-e", "teardown_confirm=dev", extra_env=private)
    assert sandbox.tagged() == {}
    assert sandbox.containers() == []


def test_configure_with_no_host_says_which_tags_and_inventory_it_used(sandbox):
    run = sandbox.playbook("playbooks/configure.yml", check=False)
    said = " ".join(run.output.split())
    assert run.rc != 0
    assert "No host to configure" in said and "Project=tasklist, Environment=dev" in said
    assert f"the inventory {sandbox.env['ANSIBLE_INVENTORY']} found no running instance" in said
