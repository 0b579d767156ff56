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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.ec2_compose.plugins.module_utils import docker_host


def main():
    module = AnsibleModule(argument_spec=docker_host.OPTIONS, supports_check_mode=True)
    module.exit_json(changed=False, **docker_host.read(module, module.params))


if __name__ == "__main__":
    main()
