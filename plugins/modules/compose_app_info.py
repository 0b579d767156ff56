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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.ec2_compose.plugins.module_utils import compose_app


def main():
    module = AnsibleModule(argument_spec=compose_app.OPTIONS, supports_check_mode=True)
    module.exit_json(changed=False, **compose_app.read(module, module.params))


if __name__ == "__main__":
    main()
