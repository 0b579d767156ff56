#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_state_info
short_description: Read, in one module run, what the docker and app roles would change on a host
version_added: 0.5.0
description:
  - Two parts, each read when its option is given, both at the same time (and each part's commands
    at the same time), so that a playbook that runs the docker and app roles reads the host once
    and hands each role its part (the configure playbook does; the roles read their own part when
    not handed one).
  - The C(docker) part - the host's distribution (the same facts as M(ansible.builtin.setup)'s),
    which of I(docker.packages) are installed, whether C(/etc/docker/daemon.json) holds
    I(docker.daemon_json), whether the docker service is enabled and running, which of
    I(docker.users) are not in the docker group, whether the first boot is over, and the compose v2
    version. The docker role then runs its writers (apt, copy, systemd, user) only for what differs.
  - The C(app) part - compares what the host runs with what a deployment would leave there - the
    checkout at the commit that I(app.version) names in I(app.repo) (one C(git ls-remote)), with no
    local changes; the C(.env) file; the record of the last version that passed its health checks;
    the base image; and every service of the compose file with one container running the current
    configuration (compose's own config hash), healthy where it has a health check - and lists every
    difference. A compose run still going for I(app.project_dir) (one that an interrupted run left)
    is a difference. The app role deploys only when this lists a difference.
  - Changes nothing.
author:
  - Shipyard maintainers (@shipyard)
options:
  docker:
    description: Read the docker engine's part; omitted, it is not read.
    type: dict
    suboptions:
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
  app:
    description: Read the compose app's part; omitted, it is not read.
    type: dict
    suboptions:
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
      repo_key_file:
        description: The private key (a deploy key) that git uses to read I(repo) over SSH; empty for none.
        type: str
        default: ""
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
- name: Read the host once for both roles
  shipyard.ec2_compose.host_state_info:
    docker:
      packages: [docker.io, docker-compose, git]
      daemon_json: "{{ {'log-driver': 'json-file'} | to_nice_json }}\n"
      users: [admin]
    app:
      project_dir: /opt/tasklist
      project_name: tasklist
      repo: https://github.com/example/tasklist.git
      version: main
      env_checksum: "{{ lookup('ansible.builtin.template', 'env.j2') | hash('sha1') }}"
      healthy_record: /var/lib/shipyard/tasklist/healthy-commit
  register: host_state

- name: Install what is missing
  ansible.builtin.apt:
    name: "{{ ['docker.io', 'docker-compose', 'git'] | difference(host_state.docker.installed) }}"
  when: "['docker.io', 'docker-compose', 'git'] | difference(host_state.docker.installed) | length > 0"

- name: Say what differs in the app
  ansible.builtin.debug:
    var: host_state.app.differs
"""

RETURN = r"""
ansible_facts:
  description: The host's distribution, as M(ansible.builtin.setup) names it; with I(docker) only.
  returned: when I(docker) is given
  type: dict
  sample: {distribution: Debian, distribution_major_version: "13", distribution_release: trixie}
docker:
  description: The docker engine's part.
  returned: when I(docker) is given
  type: dict
  contains:
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
app:
  description: The compose app's part.
  returned: when I(app) is given
  type: dict
  contains:
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
    docker_answers:
      description: Whether the Docker daemon answered the read; false when Docker is missing or stopped.
      returned: always
      type: bool
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

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.ec2_compose.plugins.module_utils import compose_app, docker_host

PARTS = {"docker": docker_host, "app": compose_app}


def main():
    module = AnsibleModule(
        argument_spec={name: dict(type="dict", options=part.OPTIONS) for name, part in PARTS.items()},
        required_one_of=[list(PARTS)],
        supports_check_mode=True,
    )
    wanted = {name: module.params[name] for name in PARTS if module.params[name] is not None}
    # Each part waits mostly on commands (git ls-remote, docker, dpkg): the two overlap.
    with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
        futures = {name: pool.submit(PARTS[name].read, module, params) for name, params in wanted.items()}
        result = {name: future.result() for name, future in futures.items()}
    facts = result["docker"].pop("ansible_facts") if "docker" in result else {}
    module.exit_json(changed=False, ansible_facts=facts, **result)


if __name__ == "__main__":
    main()
