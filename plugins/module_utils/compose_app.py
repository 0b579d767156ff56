# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a host runs a compose app at the wanted version, read in one pass: the app part of the
host_state_info module."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import stat
from concurrent.futures import ThreadPoolExecutor

OPTIONS = dict(
    project_dir=dict(type="path", required=True),
    project_name=dict(type="str", required=True),
    repo=dict(type="str", required=True),
    repo_key_file=dict(type="str", default=""),
    version=dict(type="str", required=True),
    env_checksum=dict(type="str", required=True),
    healthy_record=dict(type="path", required=True),
    base_image=dict(type="str", default=""),
)

COMMIT = re.compile(r"^[0-9a-f]{40}$")
SHORT_COMMIT = re.compile(r"^[0-9a-f]{7,39}$")


def resolve_version(version, ls_remote_output, head=""):
    """The commit that `version` names, the way ansible.builtin.git picks it: HEAD, a branch, a tag
    (the commit it points at), a full commit; a short commit only when the checkout is at it."""
    refs = {}
    for line in ls_remote_output.splitlines():
        if "\t" in line:
            commit, ref = line.split("\t", 1)
            refs[ref] = commit
    for ref in ("HEAD",) if version == "HEAD" else (f"refs/heads/{version}", f"refs/tags/{version}^{{}}",
                                                    f"refs/tags/{version}"):
        if ref in refs:
            return refs[ref]
    if COMMIT.match(version):
        return version
    if SHORT_COMMIT.match(version) and head.startswith(version):
        return head
    return ""


def service_differences(wanted_hashes, containers):
    """A line for each service without a container, each container that is not running, healthy
    (where it has a health check) and on the current configuration, and each container of a
    service the compose file no longer has. `containers` are `docker inspect` records."""
    lines, seen, services = [], set(), []
    for container in containers:
        labels = container.get("Config", {}).get("Labels") or {}
        if labels.get("com.docker.compose.oneoff") == "True":
            continue  # `compose run` leftovers: not the deployment's
        service = labels.get("com.docker.compose.service", "")
        name = container.get("Name", "").lstrip("/")
        state = container.get("State", {})
        health = (state.get("Health") or {}).get("Status", "")
        current = labels.get("com.docker.compose.config-hash") == wanted_hashes.get(service)
        services.append({"service": service, "container": name, "state": state.get("Status", ""),
                         "health": health, "current": current})
        if service not in wanted_hashes:
            lines.append(f"container {name}: its service {service} is not in the compose file")
            continue
        seen.add(service)
        if not current:
            lines.append(f"service {service}: {name} runs an older configuration")
        if state.get("Status") != "running":
            lines.append(f"service {service}: {name} is {state.get('Status')}")
        elif health not in ("", "healthy"):
            lines.append(f"service {service}: {name} is {health}")
    lines.extend(f"service {service}: no container" for service in sorted(set(wanted_hashes) - seen))
    return lines, services


def file_sha1(path):
    with open(path, "rb") as handle:
        return hashlib.sha1(handle.read()).hexdigest()


class Reader:
    """Runs every command of the read at once (each waits mostly on git, the git server or dockerd),
    then judges their output in a fixed order."""

    def __init__(self, module, params):
        self.module = module
        self.params = params
        self.differs = []
        # No base image asked for: present. Asked for: present once `docker image inspect` finds it.
        self.found = {"base_image_present": not params["base_image"], "compose_runs": [], "containers": 0,
                      "networks": 0, "docker_answers": False}

    def run(self, command, cwd=None, environ=None):
        rc, out, err = self.module.run_command(list(command), cwd=cwd, environ_update=environ or {})
        return rc, out.strip(), err.strip()

    def run_all(self, commands):
        """{name: (rc, stdout, stderr)} of {name: (command, cwd)}, all started together."""
        if not commands:
            return {}
        with ThreadPoolExecutor(max_workers=len(commands)) as pool:
            futures = {name: pool.submit(self.run, *command) for name, command in commands.items()}
            return {name: future.result() for name, future in futures.items()}

    def git_ssh(self):
        """git's ssh with the deploy key alone (a private repository), as ansible.builtin.git runs it."""
        key = self.params.get("repo_key_file")
        if not key:
            return None
        return {"GIT_SSH_COMMAND": f"ssh -i {shlex.quote(key)} -o IdentitiesOnly=yes "
                                   "-o StrictHostKeyChecking=accept-new -o BatchMode=yes"}

    def commands(self, git, docker):
        directory, repo, version = self.params["project_dir"], self.params["repo"], self.params["version"]
        commands = {}
        if git and os.path.isdir(os.path.join(directory, ".git")):
            commands.update({
                "head": ([git, "rev-parse", "HEAD"], directory),
                "origin": ([git, "config", "--get", "remote.origin.url"], directory),
                "changes": ([git, "status", "--porcelain", "--untracked-files=no"], directory),
                # A pattern alone does not list an annotated tag's peeled line (the commit it points at).
                "refs": ([git, "ls-remote", "--", repo, version, version + "^{}"], None, self.git_ssh()),
            })
        if docker:
            label = f"label=com.docker.compose.project={self.params['project_name']}"
            commands.update({
                "networks": ([docker, "network", "ls", "--quiet", "--filter", label], None),
                "containers": ([docker, "ps", "--all", "--quiet", "--filter", label], None),
                "config_hashes": ([docker, "compose", "--project-directory", directory, "--project-name",
                                   self.params["project_name"], "config", "--hash", "*"], directory),
            })
            if self.params["base_image"]:
                commands["base_image"] = ([docker, "image", "inspect", "--format", "{{.Id}}",
                                           self.params["base_image"]], None)
        return commands

    def checkout(self, results):
        """The checked-out commit, and what differs from `version` in `repo`."""
        directory, repo, version = self.params["project_dir"], self.params["repo"], self.params["version"]
        if "head" not in results:
            self.differs.append(f"checkout: none at {directory}")
            return "", ""
        head, origin, changes = results["head"][1], results["origin"][1], results["changes"][1]
        if origin != repo:
            self.differs.append(f"checkout: from {origin or 'no origin'}, app_repo is {repo}")
        if changes:
            self.differs.append(f"checkout: local changes in {directory}")
        rc, refs, err = results["refs"]
        wanted = resolve_version(version, refs if rc == 0 else "", head)
        if not wanted:
            self.differs.append(f"checkout: {version} not found in {repo}{': ' + err if rc else ''}")
        elif head != wanted:
            self.differs.append(f"checkout: at {head[:12]}, {version} is {wanted[:12]}")
        return head, wanted

    def env_file(self):
        path = os.path.join(self.params["project_dir"], ".env")
        try:
            info = os.stat(path)
            same = file_sha1(path) == self.params["env_checksum"]
        except OSError:
            self.differs.append(f".env: none at {path}")
            return
        if not same:
            self.differs.append(".env: other content")
        if stat.S_IMODE(info.st_mode) != 0o600 or info.st_uid != 0 or info.st_gid != 0:
            self.differs.append(".env: not mode 0600 root:root")

    def healthy_commit(self, head):
        try:
            with open(self.params["healthy_record"]) as handle:
                recorded = handle.read().strip()
        except OSError:
            recorded = ""
        if recorded != head:
            self.differs.append(f"health record: {recorded[:12] or 'none'}, the checkout is {head[:12] or 'none'}")
        return recorded

    def compose_runs(self):
        """Before anything else runs: the read's own `compose config` would match the pattern."""
        # The pattern roles/app/tasks/recover.yml waits on: a compose run that a killed configure left.
        pattern = f"compose .*--project-directory {re.escape(self.params['project_dir'])}( |$)"
        return self.run(["pgrep", "--full", "--list-full", "--", pattern])

    def services(self, docker, results):
        directory = self.params["project_dir"]
        rc, running, err = results["compose_runs"]
        if rc == 0:
            self.found["compose_runs"] = running.splitlines()
            self.differs.append(f"compose: a run for {directory} still goes on ({running.splitlines()[0]})")
        if "base_image" in results:
            self.found["base_image_present"] = results["base_image"][0] == 0
            if not self.found["base_image_present"]:
                self.differs.append(f"base image: {self.params['base_image']} is not loaded")
        self.found["networks"] = len(results["networks"][1].split())
        rc, out, err = results["containers"]
        self.found["docker_answers"] = rc == 0
        if rc != 0:  # Docker is stopped: what runs cannot be known, and check mode cannot ask compose
            self.differs.append(f"docker: the daemon does not answer ({err.splitlines()[-1] if err else rc})")
        ids = out.split() if rc == 0 else []
        self.found["containers"] = len(ids)
        rc, out, err = results["config_hashes"]
        if rc != 0:
            self.differs.append(f"compose: the configuration does not load ({err.splitlines()[-1] if err else rc})")
            return []
        wanted = dict(line.split(None, 1) for line in out.splitlines() if " " in line)
        containers = []
        if ids:
            rc, out, err = self.run([docker, "inspect", *ids])
            containers = json.loads(out) if rc == 0 else []
        lines, services = service_differences(wanted, containers)
        self.differs.extend(lines)
        return services


def read(module, params):
    """The app part of host_state_info's result; `params` are validated against OPTIONS."""
    reader = Reader(module, params)
    docker = module.get_bin_path("docker")
    compose_runs = reader.compose_runs() if docker else None
    results = dict(reader.run_all(reader.commands(module.get_bin_path("git"), docker)), compose_runs=compose_runs)
    head, wanted = reader.checkout(results)
    reader.env_file()
    healthy = reader.healthy_commit(head)
    services = reader.services(docker, results) if docker else []
    if not docker:
        reader.differs.append("docker: not installed")
    return dict(differs=reader.differs, commit=head, wanted_commit=wanted, healthy_commit=healthy,
                services=services, **reader.found)
