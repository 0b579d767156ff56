"""compose_app_info run as Ansible runs it on this machine, for the checkout, .env and health record
against a real git repository (the services are the sandbox's: tests/integration/test_configure.py)."""

import hashlib
import os


def checkout_lines(result):
    return [line for line in result["differs"] if not line.startswith(("compose:", "docker:", "service", "container"))]


def test_the_module_reads_a_checkout_env_file_and_health_record(tmp_path, repo, git, run_module):
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
    first = run_module("compose_app_info", **args)
    assert first["changed"] is False
    assert (first["commit"], first["wanted_commit"], first["healthy_commit"]) == (head, head, head)
    owned = os.getuid() == 0 and os.getgid() == 0  # the .env a deployment writes is root's
    env_mode = [] if owned else [".env: not mode 0600 root:root"]
    assert checkout_lines(first) == env_mode

    released = git(repo, "rev-parse", "v1")
    env.write_text("DB_PASSWORD=y\n")
    (app / "compose.yaml").write_text("services: {edited: {}}\n")
    drifted = run_module("compose_app_info", **{**args, "version": "v1-annotated", "repo": f"file://{repo}"})
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
    unrecorded = run_module("compose_app_info", **args)
    assert checkout_lines(unrecorded) == [*env_mode, f"health record: none, the checkout is {head[:12]}"]
    none = tmp_path / "none"
    assert checkout_lines(run_module("compose_app_info", **{**args, "project_dir": str(none)})) == [
        f"checkout: none at {none}", f".env: none at {none}/.env"]
