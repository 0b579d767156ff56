"""host_state_info run as Ansible runs it (its arguments in a file) on this machine, a Debian system
with dpkg and git: each part on its own, then both in one run; a wrong option names its part. The
app part's services are the sandbox's (tests/integration/test_configure.py)."""

import hashlib
import os


def read_docker(run_module, **options):
    """The docker part's result, with the run's changed and the facts next to it."""
    result = run_module("host_state_info", docker=options)
    return {**result.get("docker", {}), **{key: result[key] for key in ("changed", "ansible_facts", "app")
                                           if key in result}}


def read_app(run_module, **options):
    result = run_module("host_state_info", app=options)
    return {**result["app"], "changed": result["changed"]}


def test_the_docker_part_reads_this_machine(tmp_path, run_module):
    wanted = '{\n    "log-driver": "json-file"\n}\n'
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text(wanted)
    daemon_json.chmod(0o644)
    result = read_docker(run_module, packages=["dpkg", "no-such-package"], users=["root"],
                         daemon_json=wanted, daemon_json_path=str(daemon_json))
    assert result["changed"] is False
    assert set(result["installed"]) == {"dpkg"}
    assert result["daemon_json_current"] is True
    assert result["ansible_facts"]["distribution"] in ("Debian", "Ubuntu")
    assert result["ansible_facts"]["distribution_major_version"].isdigit()
    assert "app" not in result

    daemon_json.chmod(0o600)  # the copy task would set the mode back
    result = read_docker(run_module, daemon_json=wanted, daemon_json_path=str(daemon_json))
    assert result["daemon_json_current"] is False
    daemon_json.chmod(0o644)
    assert read_docker(run_module, daemon_json=wanted.replace("json-file", "local"),
                       daemon_json_path=str(daemon_json))["daemon_json_current"] is False
    assert read_docker(run_module, daemon_json=wanted,
                       daemon_json_path=str(tmp_path / "missing.json"))["daemon_json_current"] is False


def checkout_lines(result):
    return [line for line in result["differs"] if not line.startswith(("compose:", "docker:", "service", "container"))]


def test_the_app_part_reads_a_checkout_env_file_and_health_record(tmp_path, repo, git, run_module):
    app = tmp_path / "app"
    git(tmp_path, "clone", "--quiet", str(repo), str(app))
    env = app / ".env"
    env.write_text("DB_PASSWORD=x\n")
    env.chmod(0o600)
    record = tmp_path / "healthy-commit"
    head = git(app, "rev-parse", "HEAD")
    record.write_text(head + "\n")
    args = {"project_dir": str(app), "project_name": "app", "repo": str(repo), "version": "main",
            "env_checksum": hashlib.sha1(b"DB_PASSWORD=x\n").hexdigest(), "healthy_record": str(record)}
    first = read_app(run_module, **args)
    assert first["changed"] is False
    assert (first["commit"], first["wanted_commit"], first["healthy_commit"]) == (head, head, head)
    owned = os.getuid() == 0 and os.getgid() == 0  # the .env a deployment writes is root's
    env_mode = [] if owned else [".env: not mode 0600 root:root"]
    assert checkout_lines(first) == env_mode

    released = git(repo, "rev-parse", "v1")
    env.write_text("DB_PASSWORD=y\n")
    (app / "compose.yaml").write_text("services: {edited: {}}\n")
    drifted = read_app(run_module, **{**args, "version": "v1-annotated", "repo": f"file://{repo}"})
    assert checkout_lines(drifted) == [
        f"checkout: from {repo}, app_repo is file://{repo}",
        f"checkout: local changes in {app}",
        f"checkout: at {head[:12]}, v1-annotated is {released[:12]}",
        ".env: other content",
        *env_mode,
    ]
    env.write_text("DB_PASSWORD=x\n")
    git(app, "checkout", "--", "compose.yaml")
    record.unlink()
    unrecorded = read_app(run_module, **args)
    assert checkout_lines(unrecorded) == [*env_mode, f"health record: none, the checkout is {head[:12]}"]
    none = tmp_path / "none"
    assert checkout_lines(read_app(run_module, **{**args, "project_dir": str(none)})) == [
        f"checkout: none at {none}", f".env: none at {none}/.env"]


def test_one_run_reads_both_parts_as_two_runs_do(tmp_path, repo, git, run_module):
    app = tmp_path / "app"
    git(tmp_path, "clone", "--quiet", str(repo), str(app))
    docker = {"packages": ["dpkg", "no-such-package"], "users": ["root"]}
    compose = {"project_dir": str(app), "project_name": "unit-host-state", "repo": str(repo), "version": "v1",
               "env_checksum": hashlib.sha1(b"").hexdigest(), "healthy_record": str(tmp_path / "record")}

    both = run_module("host_state_info", docker=docker, app=compose)
    assert both["changed"] is False
    docker_alone = run_module("host_state_info", docker=docker)
    assert both["ansible_facts"] == docker_alone["ansible_facts"]
    assert both["docker"] == docker_alone["docker"]
    assert both["app"] == run_module("host_state_info", app=compose)["app"]
    assert f"checkout: at {git(app, 'rev-parse', 'HEAD')[:12]}, v1 is {git(repo, 'rev-parse', 'v1')[:12]}" \
        in both["app"]["differs"]


def test_a_wrong_option_names_its_part_and_nothing_is_read(run_module):
    result = run_module("host_state_info", docker={"packages": ["dpkg"], "no_such_option": 1})
    assert result["failed"] is True
    assert "docker.no_such_option" in result["msg"]
    assert "installed" not in str(result.get("docker", ""))

    missing = run_module("host_state_info", app={"project_dir": "/nonexistent"})
    assert missing["failed"] is True
    assert "project_name" in missing["msg"] and missing["msg"].endswith("found in app")

    assert "docker, app" in run_module("host_state_info")["msg"]
