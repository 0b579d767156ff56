"""compose_app_info: a version resolved the way ansible.builtin.git resolves it, against a real git
repository; the services compared from `docker inspect` records; then the whole module run as Ansible
runs it on this machine, for the checkout, .env and health record (the services are the sandbox's:
tests/integration/test_configure.py)."""

import hashlib
import os
import subprocess

import pytest

from ansible_collections.shipyard.ec2_compose.plugins.modules.compose_app_info import (
    resolve_version,
    service_differences,
)

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}


def git(directory, *args):
    return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, check=True,
                          timeout=30, env=dict(os.environ, **GIT_ENV)).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    """A repository with two commits on main, a branch, a lightweight and an annotated tag."""
    source = tmp_path / "source"
    source.mkdir()
    git(source, "init", "--quiet", "--initial-branch", "main")
    (source / "compose.yaml").write_text("services: {}\n")
    git(source, "add", "compose.yaml")
    git(source, "commit", "--quiet", "-m", "one")
    git(source, "tag", "v1")
    git(source, "tag", "--annotate", "-m", "release", "v1-annotated")
    git(source, "branch", "stable")
    (source / "compose.yaml").write_text("services: {web: {image: nginx}}\n")
    git(source, "commit", "--quiet", "--all", "-m", "two")
    return source


def ls_remote(repo, version):
    return git(repo, "ls-remote", "--", str(repo), version, version + "^{}")  # as the module calls it


def test_versions_resolve_as_git_checks_them_out(repo):
    first, second = git(repo, "rev-parse", "v1"), git(repo, "rev-parse", "main")
    assert resolve_version("main", ls_remote(repo, "main")) == second
    assert resolve_version("stable", ls_remote(repo, "stable")) == first
    assert resolve_version("v1", ls_remote(repo, "v1")) == first
    # An annotated tag is an object of its own: the commit is the peeled ref (^{}).
    assert git(repo, "rev-parse", "v1-annotated") != first
    assert resolve_version("v1-annotated", ls_remote(repo, "v1-annotated")) == first
    assert resolve_version("HEAD", ls_remote(repo, "HEAD")) == second
    assert resolve_version(first, ls_remote(repo, first)) == first  # a commit, named in full
    assert resolve_version(first[:10], "", head=first) == first  # short: only when checked out already
    assert resolve_version(first[:10], "", head=second) == ""
    assert resolve_version("no-such-branch", ls_remote(repo, "no-such-branch")) == ""


def container(service, config_hash, *, status="running", health=None, oneoff="False", name=None):
    state = {"Status": status, **({"Health": {"Status": health}} if health else {})}
    labels = {"com.docker.compose.service": service, "com.docker.compose.config-hash": config_hash,
              "com.docker.compose.oneoff": oneoff}
    return {"Name": f"/{name or 'app-' + service + '-1'}", "State": state, "Config": {"Labels": labels}}


def test_every_service_must_run_its_current_configuration_healthy():
    wanted = {"web": "h-web", "api": "h-api", "db": "h-db"}
    good = [container("web", "h-web"), container("api", "h-api", health="healthy"),
            container("db", "h-db", health="healthy")]
    assert service_differences(wanted, good)[0] == []
    assert service_differences(wanted, [*good, container("api", "x", oneoff="True", status="exited")])[0] == []

    drifted = [container("web", "h-old"), container("api", "h-api", status="exited"),
               container("db", "h-db", health="starting"), container("cache", "h-cache")]
    lines, services = service_differences(wanted, drifted)
    assert lines == ["service web: app-web-1 runs an older configuration",
                     "service api: app-api-1 is exited",
                     "service db: app-db-1 is starting",
                     "container app-cache-1: its service cache is not in the compose file"]
    assert [s["current"] for s in services] == [False, True, True, False]
    assert service_differences(wanted, good[:2])[0] == ["service db: no container"]


def checkout_lines(result):
    return [line for line in result["differs"] if not line.startswith(("compose:", "docker:", "service", "container"))]


def test_the_module_reads_a_checkout_env_file_and_health_record(tmp_path, repo, run_module):
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
