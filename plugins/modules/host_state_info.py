#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_state_info
short_description: Read the docker engine and the compose app of a host in one module run
version_added: 0.5.0
description:
  - Does what M(shipyard.ec2_compose.docker_host_info) and M(shipyard.ec2_compose.compose_app_info)
    do, both at once in one process on the host, so that a playbook that runs the docker and the app
    roles reads the host once (one module run, not two) and hands each role its part.
  - The docker and app roles read their own part with it; the configure playbook reads both parts
    before the roles and passes them as C(docker_host_state) and C(app_host_state).
  - Changes nothing.
author:
  - Shipyard maintainers (@shipyard)
options:
  docker:
    description:
      - Read the docker engine, with the options of M(shipyard.ec2_compose.docker_host_info)
        (C(packages), C(daemon_json), C(daemon_json_path), C(users), C(boot_finished_path)).
      - Omitted, that part is not read.
    type: dict
  app:
    description:
      - Read the compose app, with the options of M(shipyard.ec2_compose.compose_app_info)
        (C(project_dir), C(project_name), C(repo), C(version), C(env_checksum), C(healthy_record),
        C(base_image)).
      - Omitted, that part is not read.
    type: dict
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
notes:
  - The two parts are read at the same time, each in a thread of its own.
"""

EXAMPLES = r"""
- name: Read the host once for both roles
  shipyard.ec2_compose.host_state_info:
    docker:
      packages: [docker.io, docker-compose, git]
      users: [admin]
    app:
      project_dir: /opt/tasklist
      project_name: tasklist
      repo: https://github.com/example/tasklist.git
      version: main
      env_checksum: "{{ lookup('ansible.builtin.template', 'env.j2') | hash('sha1') }}"
      healthy_record: /var/lib/shipyard/tasklist/healthy-commit
  register: host_state

- name: Say what differs in the app
  ansible.builtin.debug:
    var: host_state.app.differs
"""

RETURN = r"""
ansible_facts:
  description: The host's distribution, as M(ansible.builtin.setup) names it; only with I(docker).
  returned: when I(docker) is given
  type: dict
  sample: {distribution: Debian, distribution_major_version: "13", distribution_release: trixie}
docker:
  description: What M(shipyard.ec2_compose.docker_host_info) returns, but its C(ansible_facts).
  returned: when I(docker) is given
  type: dict
  sample: {installed: {docker.io: 26.1.5+dfsg1-9+b9}, daemon_json_current: true,
           service: {enabled: true, active: true}, users_not_in_group: [], compose_version: 2.26.1-4,
           first_boot_finished: true}
app:
  description: What M(shipyard.ec2_compose.compose_app_info) returns.
  returned: when I(app) is given
  type: dict
  sample: {differs: [], commit: 9e1b04c2d7f3a8e1b04c2d7f3a8e1b04c2d7f3a8,
           healthy_commit: 9e1b04c2d7f3a8e1b04c2d7f3a8e1b04c2d7f3a8}
"""

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.shipyard.ec2_compose.plugins.module_utils import compose_app, docker_host

PARTS = {"docker": docker_host, "app": compose_app}


def main():
    module = AnsibleModule(argument_spec=dict(docker=dict(type="dict"), app=dict(type="dict")),
                           required_one_of=[list(PARTS)], supports_check_mode=True)
    wanted = {}
    for name, part in PARTS.items():
        if module.params[name] is None:
            continue
        checked = ArgumentSpecValidator(part.OPTIONS).validate(module.params[name])
        if checked.error_messages:
            module.fail_json(msg=f"{name}: {'; '.join(checked.error_messages)}")
        wanted[name] = checked.validated_parameters
    # Each part waits mostly on commands (git ls-remote, docker, dpkg): the two overlap.
    with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
        futures = {name: pool.submit(PARTS[name].read, module, params) for name, params in wanted.items()}
        result = {name: future.result() for name, future in futures.items()}
    facts = result["docker"].pop("ansible_facts") if "docker" in result else {}
    module.exit_json(changed=False, ansible_facts=facts, **result)


if __name__ == "__main__":
    main()
