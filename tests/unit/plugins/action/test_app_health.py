"""The app_health action plugin, run by ansible-playbook against a real HTTP server on this machine:
the controller's checks in Ansible's own process, the host's with uri (here the host is localhost
over a local connection), each answer judged by the same rules, the failures named."""

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from ansible_collections.shipyard.ec2_compose.plugins.action.app_health import judge, sides

ROOT = Path(__file__).resolve().parents[4]
URI_STARTED = "AnsiballZ_uri.py"  # -vvv names the module's payload when one is sent


class App(http.server.BaseHTTPRequestHandler):
    pages = {"/": (200, "text/html", "<h1>Task List</h1>"), "/api/tasks": (200, "application/json", "[]"),
             "/api/health": (200, "application/json", '{"status": "ok"}'), "/teapot": (418, "text/plain", "no")}

    def do_GET(self):  # the name http.server calls
        status, kind, body = self.pages.get(self.path, (404, "text/plain", "not found"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *_args):
        pass


@pytest.fixture(scope="module")
def port():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def check_health(tmp_path, checks, **args):
    task = {"shipyard.ec2_compose.app_health": {"checks": checks, "public_address": "127.0.0.1", "retries": 1,
                                                "delay": 0, **args}, "register": "health"}
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "tasks": [task, {"ansible.builtin.debug": {"msg": "checks={{ health.checks | to_json }}"}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    env = dict(os.environ, ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_NOCOLOR="1")  # a message on one line
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-vvv", "-i", "localhost,",
               "-e", f"ansible_python_interpreter={sys.executable}", str(tmp_path / "play.yml")]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def reports(run):
    return json.loads(run.stdout.split('"msg": "checks=', 1)[1].split('"\n', 1)[0].replace('\\"', '"'))


def test_checks_from_the_controller_start_no_module_process(tmp_path, port):
    run = check_health(tmp_path, [
        {"name": "page", "port": port, "contains": "Task List", "from": ["controller"]},
        {"name": "api", "port": port, "path": "/api/tasks", "json_query": "[]", "from": ["controller"]},
        {"name": "teapot", "port": port, "path": "/teapot", "status": 418, "from": ["controller"]}])
    assert run.returncode == 0, run.stdout
    assert URI_STARTED not in run.stdout
    assert [(r["name"], r["from"], r["status"], r["passed"]) for r in reports(run)] == [
        ("page", "controller", 200, True), ("api", "controller", 200, True), ("teapot", "controller", 418, True)]


def test_checks_from_the_host_run_uri_there_and_are_judged_alike(tmp_path, port):
    run = check_health(tmp_path, [{"name": "health", "port": port, "path": "/api/health", "json_query": "status"}])
    assert run.returncode == 0, run.stdout
    assert URI_STARTED in run.stdout
    assert [(r["name"], r["from"], r["url"]) for r in reports(run)] == [
        ("health", "host", f"http://127.0.0.1:{port}/api/health"),
        ("health", "controller", f"http://127.0.0.1:{port}/api/health")]


def test_a_converged_host_is_checked_from_the_controller_where_it_can_be(tmp_path, port):
    run = check_health(tmp_path, [{"name": "page", "port": port}, {"name": "inside", "port": port, "from": ["host"]}],
                       controller_only=True)
    assert run.returncode == 0, run.stdout
    assert [(r["name"], r["from"]) for r in reports(run)] == [("page", "controller"), ("inside", "host")]


def test_every_failing_check_is_named_with_its_reason_after_its_retries(tmp_path, port):
    run = check_health(tmp_path, [
        {"name": "missing", "port": port, "path": "/none", "from": ["controller"]},
        {"name": "field", "port": port, "path": "/api/health", "json_query": "database", "from": ["host"]},
        {"name": "words", "port": port, "contains": "Guestbook", "from": ["controller"]},
        {"name": "closed", "port": 1, "from": ["controller"]}])
    assert run.returncode != 0
    said = run.stdout
    assert (f"missing from the controller (http://127.0.0.1:{port}/none): status 404, wanted 200"
            " after 2 attempts") in said
    assert f"field from the host (http://127.0.0.1:{port}/api/health): json_query database finds nothing" in said
    assert "words from the controller" in said and "the body does not contain: Guestbook" in said
    assert "closed from the controller (http://127.0.0.1:1/): status none, wanted 200: " in said
    assert said.count("retries left") == 4  # one retry each, announced


JSON = "application/json"


@pytest.mark.parametrize(("check", "status", "body", "content_type", "reason"), [
    ({}, 200, "", "", None),
    ({}, 503, "", "", "status 503, wanted 200"),
    ({"status": 404}, 404, "", "", None),
    ({}, -1, "", "", "status none, wanted 200"),
    ({"contains": "ok"}, 200, "all ok", "text/plain", None),
    ({"contains": "ok"}, 200, "down", "text/plain", "the body does not contain: ok"),
    ({"json_query": "[]"}, 200, "[]", JSON, None),
    ({"json_query": "a.b"}, 200, '{"a": {"b": 0}}', "application/problem+json", None),
    ({"json_query": "a.c"}, 200, '{"a": {"b": 0}}', JSON, "json_query a.c finds nothing in the body"),
    ({"json_query": "[]"}, 200, "<html>", JSON, "the body is not JSON"),
    ({"json_query": "[]"}, 200, "[]", "text/html", "the body is not served as JSON (Content-Type: text/html)"),
])
def test_judge(check, status, body, content_type, reason):
    assert judge(check, status, body, content_type) == reason


def test_sides():
    assert sides({}, False) == ["host", "controller"]
    assert sides({"from": ["controller"]}, False) == ["controller"]
    assert sides({}, True) == ["controller"]
    assert sides({"from": ["host"]}, True) == ["host"]
