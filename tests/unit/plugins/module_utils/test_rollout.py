"""rollout: which services roll, what the proxy listens on, the files written for compose and Caddy, and
when a container is current or ready. The module's commands run against real hosts in
tests/integration/test_single_host.py (redeploys under a request loop)."""

import re

import pytest
import yaml

from ansible_collections.shipyard.ec2_compose.plugins.module_utils import rollout

# `docker compose config --format json` of the Task List, cut down to what matters here.
TASKLIST = {"services": {
    "db": {"image": "tasklist-db"},
    "api": {"ports": [{"mode": "ingress", "target": 8000, "published": "8000", "protocol": "tcp"}]},
    "web": {"ports": [{"mode": "ingress", "target": 80, "published": "80", "protocol": "tcp"}]},
}}


class ComposeLoader(yaml.SafeLoader):
    """Reads compose's !reset tag as compose does: the value that replaces the merged one."""


ComposeLoader.add_constructor("!reset", lambda loader, node: ("reset", loader.construct_sequence(node)))


def test_by_default_every_service_that_publishes_a_port_rolls_and_the_database_does_not():
    rolled = rollout.rolled_services(TASKLIST, [])
    assert rolled == ["api", "web"]
    assert rollout.routes(TASKLIST, rolled) == [
        {"service": "api", "host_ip": "", "port": 8000, "target": 8000},
        {"service": "web", "host_ip": "", "port": 80, "target": 80}]
    assert rollout.rolled_services(TASKLIST, ["web"]) == ["web"]


@pytest.mark.parametrize("config, wanted, says", [
    (TASKLIST, ["worker"], "app_proxy_services names worker, not services of the compose file (it has api, db, web)"),
    ({"services": {"web": {"container_name": "site", "ports": [{"target": 80, "published": "80"}]}}}, [],
     "service web sets container_name"),
    ({"services": {"shipyard-proxy": {"image": "nginx"}}}, [], "the compose file has a service named shipyard-proxy"),
])
def test_services_that_cannot_roll_are_refused_by_name(config, wanted, says):
    with pytest.raises(rollout.RolloutError, match=re.escape(says)):
        rollout.rolled_services(config, wanted)


def test_routes_keep_the_host_address_and_refuse_ranges_and_clashes():
    local = {"services": {"web": {"ports": [{"target": 80, "published": "8080", "host_ip": "127.0.0.1"},
                                            {"target": 53, "published": "53", "protocol": "udp"}]}}}
    assert rollout.routes(local, ["web"]) == [{"service": "web", "host_ip": "127.0.0.1", "port": 8080, "target": 80}]
    ranged = {"services": {"web": {"ports": [{"target": 80, "published": "8000-8001"}]}}}
    with pytest.raises(rollout.RolloutError, match="service web publishes the port range 8000-8001"):
        rollout.routes(ranged, ["web"])
    clash = {"services": {"a": {"ports": [{"target": 80, "published": "80"}]},
                          "b": {"ports": [{"target": 81, "published": "80"}]}}}
    with pytest.raises(rollout.RolloutError, match="services a and b both publish port 80"):
        rollout.routes(clash, ["a", "b"])


def test_the_override_moves_the_rolled_services_ports_to_the_proxy():
    routes = rollout.routes(TASKLIST, ["api", "web"])
    text = rollout.override(routes, ["api", "web"], "/var/lib/shipyard/tasklist/proxy")
    compose = yaml.load(text, Loader=ComposeLoader)  # a SafeLoader with one tag more
    assert compose["services"]["api"] == {"ports": ("reset", [])}
    assert compose["services"]["web"] == {"ports": ("reset", [])}
    proxy = compose["services"][rollout.PROXY_SERVICE]
    assert proxy["ports"] == ["8000:8000", "80:80"]
    assert proxy["build"]["context"] == "/var/lib/shipyard/tasklist/proxy"
    # The Caddyfile's directory, not the file: a file replaced by a rename is seen in the container.
    assert "/var/lib/shipyard/tasklist/proxy/caddy:/etc/caddy:ro" in proxy["volumes"]
    assert proxy["restart"] == "unless-stopped" and proxy["healthcheck"]["test"][0] == "CMD"
    assert "db" not in compose["services"]
    assert rollout.rolled_services({"services": compose["services"]}, ["api"]) == ["api"]  # its own name is fine


def test_the_caddyfile_sends_each_port_to_the_container_that_has_the_traffic():
    routes = rollout.routes(TASKLIST, ["api", "web"])
    text = rollout.caddyfile(routes, {"api": "tasklist-api-2", "web": "tasklist-web-1"})
    assert "auto_https off" in text
    assert "http://:8000 {\n\treverse_proxy tasklist-api-2:8000 {" in text
    assert "http://:80 {\n\treverse_proxy tasklist-web-1:80 {" in text
    assert text.count("lb_try_duration") == 2
    # A service with no container yet answers 503, saying which.
    assert 'respond "web is not running" 503' in rollout.caddyfile(routes, {"api": "tasklist-api-2"})


def container(service, *, config_hash="h", image="sha256:new", status="running", health=None, restarts=0,
              created="2026-12-07T10:00:00Z", oneoff="False"):
    state = {"Status": status, "ExitCode": 0 if status == "running" else 1,
             **({"Health": {"Status": health}} if health else {})}
    labels = {"com.docker.compose.service": service, "com.docker.compose.config-hash": config_hash,
              "com.docker.compose.oneoff": oneoff}
    return {"Id": f"{service}-{created}", "Name": f"/app-{service}-1", "Image": image, "State": state,
            "Created": created, "RestartCount": restarts, "Config": {"Labels": labels}}


def test_a_service_rolls_when_its_container_is_not_the_current_one():
    assert rollout.why_roll([container("api", health="healthy")], "h", "sha256:new") == ""
    assert rollout.why_roll([], "h", "sha256:new") == "no container"
    assert rollout.why_roll([container("api")] * 2, "h", "sha256:new") == "2 containers"
    assert rollout.why_roll([container("api", config_hash="old")], "h", "sha256:new") == "an older configuration"
    assert rollout.why_roll([container("api", image="sha256:old")], "h", "sha256:new") == "an older image"
    assert rollout.why_roll([container("api", status="exited")], "h", "sha256:new") == "exited"
    assert rollout.why_roll([container("api", health="unhealthy")], "h", "sha256:new") == "unhealthy"


def test_a_new_container_is_ready_healthy_waited_for_while_starting_and_given_up_once_it_restarts():
    assert rollout.readiness(container("api", health="healthy")) == "ready"
    assert rollout.readiness(container("worker")) == "ready"  # no health check: running is enough
    assert rollout.readiness(container("api", health="starting")) == "waiting"
    assert rollout.readiness(container("api", status="created")) == "waiting"
    assert rollout.readiness(container("api", status="restarting", health="unhealthy", restarts=2)) == (
        "restarting, unhealthy, exit code 1, restarted 2 times")
    assert rollout.readiness(container("api", status="exited")) == "exited, exit code 1"


def test_a_service_s_containers_are_its_own_oldest_first():
    old, new = container("api", created="2026-12-07T10:00:00Z"), container("api", created="2026-12-07T11:00:00Z")
    found = rollout.of_service([new, container("web"), container("api", oneoff="True"), old], "api")
    assert found == [old, new]
