# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A compose app behind a reverse proxy on its host, and how a new version of a stateless service takes
over from the old one without a failed request: the pure part of the app_rollout module (what to write
and what to decide); the module runs the commands."""

from __future__ import annotations

import json

PROXY_SERVICE = "shipyard-proxy"
# Where the proxy container reads its Caddyfile: a directory mount, so that a file replaced by a rename
# (a new inode) is seen inside the container too.
PROXY_CONFIG_DIR = "/etc/caddy"


class RolloutError(Exception):
    """A compose file or a choice of services that the proxy cannot roll; the message says which."""


def published_ports(service):
    """The TCP ports a service's compose config publishes on the host: [(host_ip, published, target)]."""
    ports = []
    for port in service.get("ports") or []:
        if port.get("protocol", "tcp") != "tcp" or not port.get("published"):
            continue
        published = str(port["published"])
        if not published.isdigit():
            raise RolloutError(f"publishes the port range {published}: the proxy forwards single ports only")
        ports.append((port.get("host_ip", ""), int(published), int(port["target"])))
    return ports


def rolled_services(config, wanted):
    """The services that roll: `wanted`, or every service that publishes a TCP port when it is empty.
    Each must be able to run twice (no container_name) and be in the compose file."""
    services = config.get("services") or {}
    if PROXY_SERVICE in services and not services[PROXY_SERVICE].get("x-shipyard-proxy"):
        raise RolloutError(f"the compose file has a service named {PROXY_SERVICE}, the name of the proxy's own")
    names = list(wanted) or [name for name in sorted(services) if published_ports(services[name])]
    unknown = [name for name in names if name not in services]
    if unknown:
        raise RolloutError(f"app_proxy_services names {', '.join(unknown)}, not services of the compose file "
                           f"(it has {', '.join(sorted(services))})")
    for name in names:
        if services[name].get("container_name"):
            raise RolloutError(f"service {name} sets container_name, so a second container of it cannot start "
                               "next to the first: remove container_name or leave it out of app_proxy_services")
    return names


def routes(config, rolled):
    """What the proxy listens on and where it forwards: one route per port a rolled service publishes."""
    found, ports = [], {}
    for name in rolled:
        try:
            published = published_ports(config["services"][name])
        except RolloutError as error:
            raise RolloutError(f"service {name} {error}") from None
        for host_ip, port, target in published:
            if port in ports:
                raise RolloutError(f"services {ports[port]} and {name} both publish port {port}")
            ports[port] = name
            found.append({"service": name, "host_ip": host_ip, "port": port, "target": target})
    return found


def override(routes_, rolled, proxy_dir, https=False):
    """The compose file added after the user's: the rolled services publish nothing (two containers of
    one could not bind the same port), the proxy publishes their ports instead, and 80 and 443 with
    `https`. YAML for !reset."""
    lines = ["# Written by shipyard.ec2_compose: the proxy in front of the services that roll. Edits are replaced.",
             "services:"]
    for name in rolled:
        lines += [f"  {json.dumps(name)}:", "    ports: !reset []"]
    lines += [
        f"  {PROXY_SERVICE}:",
        "    x-shipyard-proxy: true",
        "    build:",
        f"      context: {json.dumps(proxy_dir)}",
        "      args:",
        "        BASE_IMAGE: ${BASE_IMAGE:-debian:trixie-slim}",
        "    ports:",
    ]
    bindings = ["{0}{1}:{1}".format(route["host_ip"] + ":" if route["host_ip"] else "", route["port"])
                for route in routes_]
    bindings += [f"{port}:{port}" for port in (80, 443) if https and port not in [r["port"] for r in routes_]]
    lines += [f"      - {json.dumps(binding)}" for binding in bindings]
    if not bindings:
        lines[-1] = "    ports: []"
    lines += [
        "    volumes:",
        f"      - {json.dumps(proxy_dir + '/caddy:' + PROXY_CONFIG_DIR + ':ro')}",
        "      - shipyard-proxy-data:/data",
        "    healthcheck:",
        '      test: ["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/2019"]',
        "      interval: 2s",
        "      timeout: 2s",
        "      retries: 30",
        "    restart: unless-stopped",
        "volumes:",
        "  shipyard-proxy-data: {}",
    ]
    return "\n".join(lines) + "\n"


DOCKERFILE = """\
# Written by shipyard.ec2_compose: the reverse proxy (Caddy, from the distribution's packages).
ARG BASE_IMAGE=debian:trixie-slim
FROM ${BASE_IMAGE}
# A base image that has Caddy and the CA roots already (an air-gapped host's) skips apt.
RUN { command -v caddy && test -s /etc/ssl/certs/ca-certificates.crt; } > /dev/null || { apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends caddy ca-certificates \\
 && rm -rf /var/lib/apt/lists/*; }
ENV XDG_DATA_HOME=/data XDG_CONFIG_HOME=/data/config
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
"""


def caddyfile(routes_, upstreams, site=None):
    """The proxy's configuration: each route forwards to the one container of its service that takes
    the traffic now (`upstreams`: service -> container name; Docker's DNS resolves the name at each
    connection, so a restarted container with a new address is found again). With `site` (domain,
    port, acme_ca, email, ca_root), the route of that port also serves https://domain with a
    certificate from the ACME CA, and HTTP for the domain redirects there; a request by address (the
    health checks) is still served on the port."""
    site = site or {}
    options = ["\tadmin localhost:2019"]
    if site.get("domain"):
        options += [f"\tacme_ca {site['acme_ca']}"] if site.get("acme_ca") else []
        options += [f"\temail {site['email']}"] if site.get("email") else []
        options += [f"\tacme_ca_root {PROXY_CONFIG_DIR}/acme-ca-root.pem"] if site.get("ca_root") else []
    else:
        options.append("\tauto_https off")
    lines = ["# Written by shipyard.ec2_compose: rewritten, then reloaded, when a new container takes over.",
             "{", *options, "}"]
    for route in routes_:
        upstream = upstreams.get(route["service"])
        if upstream:
            # A request that meets a closed connection (a container going away) is tried again.
            handler = [f"\treverse_proxy {upstream}:{route['target']} {{", "\t\tlb_try_duration 5s", "\t}"]
        else:
            handler = [f'\trespond "{route["service"]} is not running" 503']
        if site.get("domain") and route["port"] == site.get("port"):
            lines += [f"{site['domain']} {{", *handler, "}"]
        lines += [f"http://:{route['port']} {{", *handler, "}"]
    return "\n".join(lines) + "\n"


def why_roll(containers, wanted_hash, image_id):
    """Why a rolled service needs a new container ('' when its one container is current): `containers`
    are the service's `docker inspect` records."""
    if len(containers) != 1:
        return f"{len(containers)} containers" if containers else "no container"
    (container,) = containers
    labels = container.get("Config", {}).get("Labels") or {}
    state = container.get("State", {})
    health = (state.get("Health") or {}).get("Status", "")
    reasons = [
        (labels.get("com.docker.compose.config-hash") != wanted_hash, "an older configuration"),
        (bool(image_id) and container.get("Image") != image_id, "an older image"),
        (state.get("Status") != "running", state.get("Status") or "not running"),
        (health not in ("", "healthy"), health),
    ]
    return next((reason for applies, reason in reasons if applies), "")


def readiness(container):
    """'ready', 'waiting' or why the container will not be ready: running and healthy (or running with
    no health check), still starting, or exited / unhealthy."""
    state = container.get("State", {})
    health = (state.get("Health") or {}).get("Status", "")
    if state.get("Status") == "running" and health in ("", "healthy"):
        return "ready"
    if state.get("Status") in ("created", "running", "restarting") and health in ("", "starting") \
            and not state.get("Restarting") and container.get("RestartCount", 0) == 0:
        return "waiting"
    return f"{state.get('Status')}{', ' + health if health else ''}, exit code {state.get('ExitCode')}" \
        f"{', restarted ' + str(container.get('RestartCount')) + ' times' if container.get('RestartCount') else ''}"


def of_service(containers, service):
    """The deployment's containers of one service (not `compose run` ones), oldest first."""
    found = []
    for container in containers:
        labels = container.get("Config", {}).get("Labels") or {}
        if labels.get("com.docker.compose.service") == service and labels.get("com.docker.compose.oneoff") != "True":
            found.append(container)
    return sorted(found, key=lambda container: container.get("Created", ""))


def name(container):
    return container.get("Name", "").lstrip("/")
