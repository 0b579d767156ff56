"""host_state_info run as Ansible runs it on this machine: both parts in one run read what
docker_host_info and compose_app_info read on their own; a wrong option names its part."""

import hashlib

RUN_ONLY = ("changed", "invocation")


def part(result):
    return {key: value for key, value in result.items() if key not in RUN_ONLY}


def test_one_run_reads_both_parts_as_the_two_modules_do(tmp_path, repo, git, run_module):
    app = tmp_path / "app"
    git(tmp_path, "clone", "--quiet", str(repo), str(app))
    docker = {"packages": ["dpkg", "no-such-package"], "users": ["root"]}
    compose = {"project_dir": str(app), "project_name": "unit-host-state", "repo": str(repo), "version": "v1",
               "env_checksum": hashlib.sha1(b"").hexdigest(), "healthy_record": str(tmp_path / "record")}

    both = run_module("host_state_info", docker=docker, app=compose)
    assert both["changed"] is False
    alone = part(run_module("docker_host_info", **docker))
    assert both["ansible_facts"] == alone.pop("ansible_facts")
    assert both["docker"] == alone
    assert both["app"] == part(run_module("compose_app_info", **compose))
    assert f"checkout: at {git(app, 'rev-parse', 'HEAD')[:12]}, v1 is {git(repo, 'rev-parse', 'v1')[:12]}" \
        in both["app"]["differs"]

    docker_only = run_module("host_state_info", docker=docker)
    assert "app" not in docker_only and docker_only["docker"]["installed"].keys() == {"dpkg"}


def test_a_wrong_option_names_its_part_and_nothing_is_read(run_module):
    result = run_module("host_state_info", docker={"packages": ["dpkg"], "no_such_option": 1})
    assert result["failed"] is True
    assert result["msg"].startswith("docker: ") and "no_such_option" in result["msg"]
    assert "docker" not in result

    missing = run_module("host_state_info", app={"project_dir": "/nonexistent"})
    assert missing["failed"] is True
    assert missing["msg"].startswith("app: ") and "project_name" in missing["msg"]

    assert "docker, app" in run_module("host_state_info")["msg"]
