#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_host_info
short_description: Read, in one pass, what the docker role would change on a host
version_added: 0.5.0
description:
  - Reads the host's distribution (the same facts as M(ansible.builtin.setup)'s), which of
    I(packages) are installed, whether C(/etc/docker/daemon.json) holds I(daemon_json), whether
    the docker service is enabled and running, which of I(users) are not in the docker group, and
    the compose v2 version.
  - The docker role runs it first and then only the writers (apt, copy, systemd, user) for what
    differs, so that a converged host costs one module run instead of one per writer.
  - Changes nothing.
author:
  - Shipyard maintainers (@shipyard)
options:
  packages:
    description: Package names whose installed version to report.
    type: list
    elements: str
    default: []
  daemon_json:
    description: The wanted content of I(daemon_json_path), byte for byte (mode 0644).
    type: str
  daemon_json_path:
    description: Where the Docker daemon reads its options.
    type: path
    default: /etc/docker/daemon.json
  users:
    description: Users that should be in the docker group.
    type: list
    elements: str
    default: []
  boot_finished_path:
    description: The file cloud-init writes when the first boot is over (the user data has run).
    type: path
    default: /var/lib/cloud/instance/boot-finished
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: debian
  facts:
    support: full
"""

EXAMPLES = r"""
- name: Read what Docker looks like on the host
  shipyard.ec2_compose.docker_host_info:
    packages: [docker.io, docker-compose, git]
    daemon_json: "{{ {'log-driver': 'json-file'} | to_nice_json }}\n"
    users: [admin]
  register: docker_host

- name: Install what is missing
  ansible.builtin.apt:
    name: "{{ ['docker.io', 'docker-compose', 'git'] | difference(docker_host.installed) }}"
  when: "['docker.io', 'docker-compose', 'git'] | difference(docker_host.installed) | length > 0"
"""

RETURN = r"""
ansible_facts:
  description: The host's distribution, as M(ansible.builtin.setup) names it.
  returned: always
  type: dict
  sample: {distribution: Debian, distribution_major_version: "13", distribution_release: trixie}
installed:
  description: The installed ones among I(packages), with their versions.
  returned: always
  type: dict
  sample: {docker.io: 26.1.5+dfsg1-9+b9, git: "1:2.47.3-0+deb13u1"}
daemon_json_current:
  description: Whether I(daemon_json_path) holds exactly I(daemon_json), mode 0644; false without I(daemon_json).
  returned: always
  type: bool
service:
  description: The docker service's state.
  returned: always
  type: dict
  sample: {enabled: true, active: true}
users_not_in_group:
  description: Those of I(users) that are not in the docker group (all of them when it does not exist).
  returned: always
  type: list
  elements: str
first_boot_finished:
  description: Whether cloud-init has finished the first boot (I(boot_finished_path) exists); true on
    a host without cloud-init (no C(/var/lib/cloud)).
  returned: always
  type: bool
compose_version:
  description: What C(docker compose version --short) prints; empty when Docker or compose v2 is missing.
  returned: always
  type: str
  sample: 2.26.1-4
"""

import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.facts.system.distribution import DistributionFactCollector

# dpkg's short status: the second letter is the package's state, "i" installed.
DPKG_FORMAT = "${Package}\t${db:Status-Abbrev}\t${Version}\n"
DISTRIBUTION_FACTS = ("distribution", "distribution_major_version", "distribution_release", "distribution_version",
                      "os_family")


def installed_packages(dpkg_output):
    """The installed packages in `dpkg-query --show --showformat DPKG_FORMAT` output, with their versions."""
    found = {}
    for line in dpkg_output.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[1][1:2] == "i":
            found[fields[0]] = fields[2]
    return found


def users_not_in_group(users, group_name="docker"):
    try:
        group = grp.getgrnam(group_name)
    except KeyError:
        return list(users)
    missing = []
    for user in users:
        try:
            primary_gid = pwd.getpwnam(user).pw_gid
        except KeyError:
            missing.append(user)  # the user module creates it
            continue
        if user not in group.gr_mem and primary_gid != group.gr_gid:
            missing.append(user)
    return missing


def file_holds(path, content, mode):
    try:
        with open(path, "rb") as handle:
            current = handle.read()
        return current == content.encode() and stat.S_IMODE(os.stat(path).st_mode) == mode
    except OSError:
        return False


def first_boot_finished(boot_finished_path):
    """cloud-init wrote its last file, or there is no cloud-init (its state directory is missing)."""
    cloud_state = os.path.dirname(os.path.dirname(boot_finished_path))
    return os.path.exists(boot_finished_path) or not os.path.isdir(cloud_state)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            packages=dict(type="list", elements="str", default=[]),
            daemon_json=dict(type="str"),
            daemon_json_path=dict(type="path", default="/etc/docker/daemon.json"),
            users=dict(type="list", elements="str", default=[]),
            boot_finished_path=dict(type="path", default="/var/lib/cloud/instance/boot-finished"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    distribution = DistributionFactCollector().collect(module=module)
    facts = {key: distribution.get(key, "") for key in DISTRIBUTION_FACTS}

    def output(*command):
        """What the command printed when it succeeded, else an empty string."""
        rc, out, _err = module.run_command(list(command))
        return out.strip() if rc == 0 else ""

    installed = {}
    if params["packages"]:
        # rc 1 only says that some name is unknown to dpkg: the known ones are still listed.
        _rc, out, _err = module.run_command(["dpkg-query", "--show", "--showformat", DPKG_FORMAT, *params["packages"]])
        installed = installed_packages(out)

    systemctl = module.get_bin_path("systemctl")
    service = {"enabled": bool(systemctl) and output(systemctl, "is-enabled", "docker") == "enabled",
               "active": bool(systemctl) and output(systemctl, "is-active", "docker") == "active"}

    docker = module.get_bin_path("docker")
    compose_version = output(docker, "compose", "version", "--short") if docker else ""

    module.exit_json(
        changed=False,
        ansible_facts=facts,
        installed=installed,
        daemon_json_current=params["daemon_json"] is not None
        and file_holds(params["daemon_json_path"], params["daemon_json"], 0o644),
        service=service,
        users_not_in_group=users_not_in_group(params["users"]),
        compose_version=compose_version,
        first_boot_finished=first_boot_finished(params["boot_finished_path"]),
    )


if __name__ == "__main__":
    main()
