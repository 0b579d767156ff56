#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: compose_app_info
short_description: Read, in one pass, whether a host runs a compose app at the wanted version
version_added: 0.5.0
description:
  - Compares what the host runs with what a deployment would leave there - the checkout at the
    commit that I(version) names in I(repo) (one C(git ls-remote)), with no local changes; the
    C(.env) file; the record of the last version that passed its health checks; the base image; and
    every service of the compose file with one container running the current configuration
    (compose's own config hash), healthy where it has a health check - and lists every difference.
  - The app role deploys only when this lists a difference; otherwise it checks the app's health
    from the controller and stops there.
  - A compose run still going for I(project_dir) (one that an interrupted run left) is a difference.
  - Changes nothing.
author:
  - Shipyard maintainers (@shipyard)
options:
  project_dir:
    description: Where the app is checked out, with its compose file at the root.
    type: path
    required: true
  project_name:
    description: The compose project name.
    type: str
    required: true
  repo:
    description: The git URL the checkout must come from.
    type: str
    required: true
  version:
    description: The branch, tag or commit wanted.
    type: str
    required: true
  env_checksum:
    description: SHA-1 of the wanted C(.env) (mode 0600, owned by root). The content itself never
      leaves the controller.
    type: str
    required: true
  healthy_record:
    description: The file that holds the commit of the last version that passed its health checks.
    type: path
    required: true
  base_image:
    description: An image that must be present (loaded from tarballs on the host); empty for none.
    type: str
    default: ""
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: debian
"""

EXAMPLES = r"""
- name: Read what the host runs of the app
  shipyard.ec2_compose.compose_app_info:
    project_dir: /opt/tasklist
    project_name: tasklist
    repo: https://github.com/example/tasklist.git
    version: main
    env_checksum: "{{ lookup('ansible.builtin.template', 'env.j2') | hash('sha1') }}"
    healthy_record: /var/lib/shipyard/tasklist/healthy-commit
  register: app_host

- name: Say what differs
  ansible.builtin.debug:
    var: app_host.differs
"""

RETURN = r"""
differs:
  description: Each way the host differs from the wanted deployment, one line each; empty when it
    runs I(version) as a deployment would leave it.
  returned: always
  type: list
  elements: str
  sample: ["checkout: at 3f3fa5ac72a6, main is 9e1b04c2d7f3", "service api: tasklist-api-1 is exited"]
commit:
  description: The checked-out commit; empty without a checkout.
  returned: always
  type: str
wanted_commit:
  description: The commit that I(version) names in I(repo); empty when it could not be resolved.
  returned: always
  type: str
healthy_commit:
  description: The commit in I(healthy_record); empty when there is none.
  returned: always
  type: str
base_image_present:
  description: Whether I(base_image) is loaded; true when I(base_image) is empty.
  returned: always
  type: bool
compose_runs:
  description: The command lines of compose runs still going for I(project_dir).
  returned: always
  type: list
  elements: str
containers:
  description: How many containers carry the project's label, one-off ones included.
  returned: always
  type: int
networks:
  description: How many networks carry the project's label.
  returned: always
  type: int
services:
  description: The project's containers as compose labels them.
  returned: always
  type: list
  elements: dict
  sample: [{service: web, container: tasklist-web-1, state: running, health: healthy, current: true}]
"""

import hashlib
import json
import os
import re
import stat

from ansible.module_utils.basic import AnsibleModule

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
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.differs = []
        self.found = {"base_image_present": True, "compose_runs": [], "containers": 0, "networks": 0}

    def run(self, *command, cwd=None):
        rc, out, err = self.module.run_command(list(command), cwd=cwd)
        return rc, out.strip(), err.strip()

    def checkout(self):
        """The checked-out commit, and what differs from `version` in `repo`."""
        directory, repo, version = self.params["project_dir"], self.params["repo"], self.params["version"]
        git = self.module.get_bin_path("git")
        if not git or not os.path.isdir(os.path.join(directory, ".git")):
            self.differs.append(f"checkout: none at {directory}")
            return "", ""
        rc, head, err = self.run(git, "rev-parse", "HEAD", cwd=directory)
        rc, origin, err = self.run(git, "config", "--get", "remote.origin.url", cwd=directory)
        if origin != repo:
            self.differs.append(f"checkout: from {origin or 'no origin'}, app_repo is {repo}")
        rc, changes, err = self.run(git, "status", "--porcelain", "--untracked-files=no", cwd=directory)
        if changes:
            self.differs.append(f"checkout: local changes in {directory}")
        # A pattern alone does not list an annotated tag's peeled line (the commit it points at).
        rc, refs, err = self.run(git, "ls-remote", "--", repo, version, version + "^{}")
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

    def services(self, docker):
        directory, project = self.params["project_dir"], self.params["project_name"]
        # The pattern roles/app/tasks/recover.yml waits on: a compose run that a killed configure left.
        pattern = f"compose .*--project-directory {re.escape(directory)}( |$)"
        rc, running, err = self.run("pgrep", "--full", "--list-full", "--", pattern)
        if rc == 0:
            self.found["compose_runs"] = running.splitlines()
            self.differs.append(f"compose: a run for {directory} still goes on ({running.splitlines()[0]})")
        if self.params["base_image"]:
            rc, out, err = self.run(docker, "image", "inspect", "--format", "{{.Id}}", self.params["base_image"])
            self.found["base_image_present"] = rc == 0
            if rc != 0:
                self.differs.append(f"base image: {self.params['base_image']} is not loaded")
        label = f"label=com.docker.compose.project={project}"
        rc, networks, err = self.run(docker, "network", "ls", "--quiet", "--filter", label)
        self.found["networks"] = len(networks.split())
        rc, ids, err = self.run(docker, "ps", "--all", "--quiet", "--filter", label)
        self.found["containers"] = len(ids.split())
        rc, out, err = self.run(docker, "compose", "--project-directory", directory, "--project-name", project,
                                "config", "--hash", "*", cwd=directory)
        if rc != 0:
            self.differs.append(f"compose: the configuration does not load ({err.splitlines()[-1] if err else rc})")
            return []
        wanted = dict(line.split(None, 1) for line in out.splitlines() if " " in line)
        containers = []
        if ids:
            rc, out, err = self.run(docker, "inspect", *ids.split())
            containers = json.loads(out) if rc == 0 else []
        lines, services = service_differences(wanted, containers)
        self.differs.extend(lines)
        return services


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project_dir=dict(type="path", required=True),
            project_name=dict(type="str", required=True),
            repo=dict(type="str", required=True),
            version=dict(type="str", required=True),
            env_checksum=dict(type="str", required=True),
            healthy_record=dict(type="path", required=True),
            base_image=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    reader = Reader(module)
    head, wanted = reader.checkout()
    reader.env_file()
    healthy = reader.healthy_commit(head)
    docker = module.get_bin_path("docker")
    services = reader.services(docker) if docker else []
    if not docker:
        reader.differs.append("docker: not installed")
    module.exit_json(changed=False, differs=reader.differs, commit=head, wanted_commit=wanted,
                     healthy_commit=healthy, services=services, **reader.found)


if __name__ == "__main__":
    main()
