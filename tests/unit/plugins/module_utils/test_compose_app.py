"""compose_app: a version resolved the way ansible.builtin.git resolves it, against a real git
repository; the services compared from `docker inspect` records."""

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.compose_app import (
    Reader,
    resolve_version,
    service_differences,
)


def ls_remote(git, repo, version):
    return git(repo, "ls-remote", "--", str(repo), version, version + "^{}")  # as the module calls it


def test_versions_resolve_as_git_checks_them_out(repo, git):
    first, second = git(repo, "rev-parse", "v1"), git(repo, "rev-parse", "main")
    assert resolve_version("main", ls_remote(git, repo, "main")) == second
    assert resolve_version("stable", ls_remote(git, repo, "stable")) == first
    assert resolve_version("v1", ls_remote(git, repo, "v1")) == first
    # An annotated tag is an object of its own: the commit is the peeled ref (^{}).
    assert git(repo, "rev-parse", "v1-annotated") != first
    assert resolve_version("v1-annotated", ls_remote(git, repo, "v1-annotated")) == first
    assert resolve_version("HEAD", ls_remote(git, repo, "HEAD")) == second
    assert resolve_version(first, ls_remote(git, repo, first)) == first  # a commit, named in full
    assert resolve_version(first[:10], "", head=first) == first  # short: only when checked out already
    assert resolve_version(first[:10], "", head=second) == ""
    assert resolve_version("no-such-branch", ls_remote(git, repo, "no-such-branch")) == ""


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


def test_a_stopped_docker_is_said_and_nothing_is_guessed_about_the_services():
    params = {"project_dir": "/opt/app", "project_name": "app", "base_image": ""}
    results = {"compose_runs": (1, "", ""), "networks": (1, "", "Cannot connect to the Docker daemon"),
               "containers": (1, "", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."),
               "config_hashes": (0, "web h-web", "")}
    reader = Reader(module=None, params=params)
    reader.services("/usr/bin/docker", results)
    assert reader.found["docker_answers"] is False
    assert reader.differs[0] == ("docker: the daemon does not answer "
                                 "(Cannot connect to the Docker daemon at unix:///var/run/docker.sock.)")
    assert "service web: no container" in reader.differs

    results["containers"] = (0, "", "")
    answered = Reader(module=None, params=params)
    answered.services("/usr/bin/docker", results)
    assert answered.found["docker_answers"] is True
    assert answered.differs == ["service web: no container"]


def test_a_private_repository_is_asked_with_the_deploy_key_alone(tmp_path):
    (tmp_path / ".git").mkdir()
    params = {"project_dir": str(tmp_path), "project_name": "app", "base_image": "", "version": "main",
              "repo": "ssh://git@git.example.com/me/app.git", "repo_key_file": "/opt/app.deploy-key"}
    command, cwd, environ = Reader(module=None, params=params).commands("/usr/bin/git", None)["refs"]
    assert command[:3] == ["/usr/bin/git", "ls-remote", "--"] and cwd is None
    assert environ == {"GIT_SSH_COMMAND": "ssh -i /opt/app.deploy-key -o IdentitiesOnly=yes "
                                          "-o StrictHostKeyChecking=accept-new -o BatchMode=yes"}
    public = dict(params, repo="https://git.example.com/me/app.git", repo_key_file="")
    assert Reader(module=None, params=public).commands("/usr/bin/git", None)["refs"][2] is None
