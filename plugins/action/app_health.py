# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""app_health: the app's health contract, every check from where it says, in one task.

A check from the controller is an HTTP request made here, in Ansible's own process; a check from
the host runs ansible.builtin.uri there. Before, each check on each side was a uri module process
(~0.4 s each on the controller, whether it passed or not): a converged configure paid two of them
on every run. Whether an answer passes is decided here only (judge), for both sides.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time

from ansible.errors import AnsibleActionFail
from ansible.module_utils.urls import open_url
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

try:
    import jmespath
except ImportError:
    jmespath = None

display = Display()

SIDES = ("host", "controller")
# uri fails on a status outside status_code: every status is accepted there, and judged here.
EVERY_STATUS = list(range(100, 600))

ARGUMENT_SPEC = {
    "checks": {"type": "list", "elements": "dict", "required": True},
    "public_address": {"type": "str", "required": True},
    "host_address": {"type": "str", "default": "127.0.0.1"},
    "controller_only": {"type": "bool", "default": False},
    "default_from": {"type": "list", "elements": "str", "choices": list(SIDES), "default": list(SIDES)},
    "retries": {"type": "int", "default": 30},
    "delay": {"type": "float", "default": 2},
    "timeout": {"type": "int", "default": 10},
}


def judge(check, status, body, content_type=""):
    """Why an answer fails `check` (status, contains, json_query), or None when it passes. As with
    uri, a body is read as JSON only when it is served as such (a Content-Type naming json)."""
    wanted = int(check.get("status", 200))
    if status != wanted:
        return f"status {status if status > 0 else 'none'}, wanted {wanted}"
    if "contains" in check and check["contains"] not in body:
        return f"the body does not contain: {check['contains']}"
    if "json_query" in check:
        if "json" not in content_type:
            return f"the body is not served as JSON (Content-Type: {content_type or 'none'})"
        try:
            document = json.loads(body)
        except ValueError:
            return "the body is not JSON"
        if jmespath.search(check["json_query"], document) is None:
            return f"json_query {check['json_query']} finds nothing in the body"
    return None


def sides(check, controller_only, default_from=SIDES):
    """Where `check` is made: its `from` (else default_from: both unless told); with controller_only,
    a check the controller can make is made from there only. A check of a domain's HTTPS is the
    controller's: it verifies the certificate as a browser would."""
    if check.get("domain"):
        return ["controller"]
    wanted = [side for side in SIDES if side in check.get("from", default_from)]
    if controller_only and "controller" in wanted:
        return ["controller"]
    return wanted


def fetch_here(url, timeout):
    """(status, body, content type, error) of a GET from this process; status -1 when nothing answered."""
    try:
        with open_url(url, timeout=timeout, follow_redirects="safe") as answer:
            return answer.status, answer.read().decode("utf-8", "replace"), answer.headers.get("Content-Type", ""), ""
    except Exception as error:  # an HTTP error status, a refusal, a timeout: each is an answer
        status = getattr(error, "code", None)
        if status:
            return status, error.read().decode("utf-8", "replace"), error.headers.get("Content-Type", ""), ""
        return -1, "", "", str(getattr(error, "reason", error))


class DomainConnection(http.client.HTTPSConnection):
    """HTTPS to an address, for a domain: the TLS name (SNI) and the certificate check are the domain's,
    against the default trust store (SSL_CERT_FILE where set), whatever the DNS says yet."""

    def __init__(self, address, port, domain, timeout):
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self.domain = domain

    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.domain)


def fetch_domain(address, check, timeout):
    """(status, body, content type, error) of https://<domain><path> asked at `address`; -1 when no answer."""
    connection = DomainConnection(address, check.get("port", 443), check["domain"], timeout)
    try:
        connection.request("GET", check.get("path", "/"), headers={"Host": check["domain"]})
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace"), answer.getheader("Content-Type", ""), ""
    except (OSError, http.client.HTTPException) as error:  # a refusal, a timeout, a certificate not trusted
        return -1, "", "", str(error)
    finally:
        connection.close()


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def fetch_on_host(self, url, timeout, task_vars):
        answer = self._execute_module(
            module_name="ansible.builtin.uri", task_vars=task_vars,
            module_args={"url": url, "status_code": EVERY_STATUS, "return_content": True, "timeout": timeout})
        status = int(answer.get("status", -1))
        return (status, answer.get("content", ""), answer.get("content_type", ""),
                "" if status > 0 else answer.get("msg", ""))

    def probe(self, check, side, params, task_vars):
        """Ask until the check passes or the retries run out; the last attempt's report."""
        address = params["host_address"] if side == "host" else params["public_address"]
        url = f"http://{address}:{check['port']}{check.get('path', '/')}"
        if check.get("domain"):
            url = f"https://{check['domain']}:{check['port']}{check.get('path', '/')} at {address}"
        label = f"{check['name']} from the {side}"
        for attempt in range(1, params["retries"] + 2):
            if side == "host":
                status, body, content_type, error = self.fetch_on_host(url, params["timeout"], task_vars)
            elif check.get("domain"):
                status, body, content_type, error = fetch_domain(address, check, params["timeout"])
            else:
                status, body, content_type, error = fetch_here(url, params["timeout"])
            reason = judge(check, status, body, content_type)
            if reason is None:
                return {"name": check["name"], "from": side, "url": url, "status": status, "attempts": attempt,
                        "passed": True}
            reason = f"{reason}{': ' + error if error else ''}"
            if attempt <= params["retries"]:
                display.display(f"{task_vars.get('inventory_hostname')}: {label} ({url}): {reason}; again in "
                                f"{params['delay']:g} s ({params['retries'] - attempt + 1} retries left)")
                time.sleep(params["delay"])
        return {"name": check["name"], "from": side, "url": url, "status": status, "attempts": attempt,
                "passed": False, "reason": reason}

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if any("json_query" in check for check in params["checks"]) and jmespath is None:
            raise AnsibleActionFail("a json_query health check needs the jmespath Python package on the controller")
        if self._task.check_mode:
            result.update(skipped=True, msg="check mode: the app's health is not checked")
            return result
        reports = [self.probe(check, side, params, task_vars)
                   for check in params["checks"]
                   for side in sides(check, params["controller_only"], params["default_from"])]
        failed = [report for report in reports if not report["passed"]]
        result.update(changed=False, checks=reports)
        if failed:
            result.update(failed=True, msg="app_health_checks failing: " + "; ".join(
                f"{report['name']} from the {report['from']} ({report['url']}): {report['reason']}"
                f" after {report['attempts']} attempts" for report in failed))
        else:
            result["msg"] = ", ".join(f"{report['name']} from the {report['from']}" for report in reports) + ": healthy"
        return result
