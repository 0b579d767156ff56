#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/app_health.py): this file
# holds its documentation only.

from __future__ import annotations

DOCUMENTATION = r"""
module: app_health
short_description: Check an app's health contract from the host and from the controller, in one task
version_added: 0.5.0
description:
  - Makes every check of I(checks) from where it says (its C(from), by default both the host and the
    controller), asking again every I(delay) seconds until it passes or I(retries) run out, and fails
    naming every check that did not pass, from where, at which URL, and why.
  - A check from the controller is an HTTP GET made in Ansible's own process (no module process); a check
    from the host runs M(ansible.builtin.uri) on the host, against I(host_address).
  - The app role's health contract (C(app_health_checks)); changes nothing. In check mode it is skipped.
author:
  - Shipyard maintainers (@shipyard)
options:
  checks:
    description:
      - The checks, each a dict with C(name), C(port), C(path) (default C(/)), C(status) (default 200),
        C(from) (a list of C(host) and/or C(controller), default both), and optionally C(contains) (text the
        body must hold) or C(json_query) (a JMESPath expression that must find a value in the JSON body).
      - A check with C(domain) is made over HTTPS from the controller only, to I(public_address) with the
        domain as the TLS name and C(Host), and its certificate verified against the controller's trust
        store (C(SSL_CERT_FILE) where set) - whether the DNS leads there yet or not.
    type: list
    elements: dict
    required: true
  public_address:
    description: Where the controller reaches the app.
    type: str
    required: true
  host_address:
    description: Where the host reaches the app.
    type: str
    default: 127.0.0.1
  controller_only:
    description: Make a check that the controller can make from there only (the host changed nothing).
    type: bool
    default: false
  default_from:
    description: Where a check without C(from) is made. The scaled layout's hosts answer the app's
      ports to their load balancer only, so it checks them from the host.
    type: list
    elements: str
    choices: [host, controller]
    default: [host, controller]
    version_added: 0.6.0
  retries:
    description: How many times a failing check is asked again.
    type: int
    default: 30
  delay:
    description: Seconds between two attempts.
    type: float
    default: 2
  timeout:
    description: Seconds one attempt waits for an answer (a port that a firewall drops answers never).
    type: int
    default: 10
attributes:
  check_mode:
    support: none
    description: Skipped in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so shows no diff.
  platform:
    support: full
    platforms: posix
    description: The host's checks run M(ansible.builtin.uri) on it.
  action:
    support: full
    description: An action plugin; the controller's checks are made in Ansible's own process.
requirements:
  - jmespath on the controller, for a check with C(json_query)
notes:
  - As with M(ansible.builtin.uri), a body is read as JSON only when it is served as such (a C(Content-Type)
    naming json); C(json_query) C([]) holds for any JSON list.
"""

EXAMPLES = r"""
- name: Check the app's health
  shipyard.ec2_compose.app_health:
    checks:
      - {name: page, port: 80, path: /, contains: Task List}
      - {name: api, port: 8000, path: /api/tasks, json_query: "[]", from: [controller]}
    public_address: "{{ ansible_host }}"
"""

RETURN = r"""
checks:
  description: One report per check and side, in the order made.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The check's name.
      type: str
    from:
      description: C(host) or C(controller).
      type: str
    url:
      description: The URL asked.
      type: str
    status:
      description: The last answer's HTTP status, -1 when nothing answered.
      type: int
    attempts:
      description: How many times it was asked.
      type: int
    passed:
      description: Whether the check passed.
      type: bool
    reason:
      description: Why the last attempt failed.
      type: str
      returned: when the check failed
  sample:
    - {name: page, from: controller, url: "http://203.0.113.10:80/", status: 200, attempts: 1, passed: true}
"""
