#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_rollout
short_description: Start a compose app behind a reverse proxy on its host and roll new versions without a failed request
version_added: 0.6.0
description:
  - Puts a reverse proxy (Caddy, built on the host from the distribution's package) in front of the
    services that roll, in the app's own compose project, through a compose file of its own
    (I(proxy_dir)C(/compose.yaml)) that the project's C(COMPOSE_FILE) lists after the user's files - the
    rolled services publish nothing, the proxy publishes their ports and forwards each to the one
    container of the service that takes the traffic.
  - The first time (no proxy runs yet) - C(docker compose up) of everything with wait, as without a proxy.
  - Then, for each service that rolls and whose container is not current (configuration, image, state,
    health) - a second container of the new version starts next to the old one, and only once it is
    healthy (its compose health check, within I(timeout)) the proxy is reloaded to send it the traffic
    and the old container is stopped and removed. A new container that does not turn healthy is removed,
    the old one keeps the traffic, and the module fails with its last log lines.
  - The other services (a database above all) are never duplicated - C(docker compose up) recreates
    them, as without a proxy, when they changed.
  - Compose runs with C(--project-directory), so that a run an interrupted playbook left is found.
author:
  - Shipyard maintainers (@shipyard)
options:
  project_dir:
    description: Where the app is checked out, with its compose files.
    type: path
    required: true
  project_name:
    description: The compose project name.
    type: str
    required: true
  compose_files:
    description: The user's compose files, relative to I(project_dir); the proxy's file comes after them.
    type: list
    elements: str
    default: [compose.yaml]
  services:
    description: The services that roll behind the proxy; empty - every service that publishes a TCP port.
    type: list
    elements: str
    default: []
  proxy_dir:
    description: Where the proxy's compose file, Dockerfile and Caddyfile are written on the host.
    type: path
    required: true
  build:
    description: C(always) rebuilds every image first (a new version); C(policy) builds only missing ones.
    type: str
    choices: [always, policy]
    default: policy
  timeout:
    description: Seconds a compose run (and a new container turning healthy) may take.
    type: int
    default: 600
  domain:
    description:
      - A domain whose A record leads to this host - the proxy serves C(https://domain) with a certificate
        from I(acme_ca) (obtained and renewed by the proxy, HTTP-01 on port 80), forwarded like I(domain_port),
        redirects C(http://domain) there, and publishes 80 and 443. Empty, no HTTPS.
    type: str
    default: ""
  domain_port:
    description: The published port whose service C(https://domain) forwards to (the web page's).
    type: int
    default: 80
  acme_ca:
    description: The ACME directory the certificate comes from.
    type: str
    default: https://acme-v02.api.letsencrypt.org/directory
  acme_email:
    description: The address the ACME CA may write to about the certificate; empty, none.
    type: str
    default: ""
  acme_ca_root:
    description: A PEM root certificate to trust for I(acme_ca)'s own HTTPS, when the system does not; empty, none.
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
notes:
  - The project's C(.env) must list I(compose_files) and then I(proxy_dir)C(/compose.yaml) in C(COMPOSE_FILE),
    so that every compose command on the host sees the proxy (role shipyard.ec2_compose.app writes it).
"""

EXAMPLES = r"""
- name: Deploy the checked-out version, rolling web and api behind the proxy
  shipyard.ec2_compose.app_rollout:
    project_dir: /opt/tasklist
    project_name: tasklist
    compose_files: [compose.yaml]
    services: [web, api]
    proxy_dir: /var/lib/shipyard/tasklist/proxy
    build: always

- name: The same with HTTPS for a domain whose A record leads to this host
  shipyard.ec2_compose.app_rollout:
    project_dir: /opt/tasklist
    project_name: tasklist
    proxy_dir: /var/lib/shipyard/tasklist/proxy
    domain: app.example.com
    acme_email: ops@example.com
"""

RETURN = r"""
routes:
  description: What the proxy listens on and forwards to.
  returned: always
  type: list
  elements: dict
  sample: [{service: web, host_ip: "", port: 80, target: 80}]
rolled:
  description: Each service whose new container took over, with why it rolled and when the proxy switched.
  returned: always
  type: list
  elements: dict
  sample: [{service: api, reason: an older image, old: [tasklist-api-1], new: tasklist-api-2, healthy_after_s: 6.1}]
upstreams:
  description: The container each rolled service's traffic goes to now.
  returned: always
  type: dict
  sample: {web: tasklist-web-2, api: tasklist-api-2}
first_start:
  description: Whether the proxy did not run yet, so that everything was started at once.
  returned: always
  type: bool
"""

import json
import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.ec2_compose.plugins.module_utils import rollout


class Rollout:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.docker = module.get_bin_path("docker", required=True)
        self.changed = False
        self.proxy_file = os.path.join(self.params["proxy_dir"], "compose.yaml")

    def run(self, *args, check=True, files=None):
        command = [self.docker, "compose", "--ansi", "never", "--project-directory", self.params["project_dir"],
                   "--project-name", self.params["project_name"]]
        for path in files or []:
            command += ["--file", path]
        rc, out, err = self.module.run_command(command + list(args), cwd=self.params["project_dir"])
        if check and rc != 0:
            self.fail(f"docker compose {' '.join(args)} failed: {(err or out).strip()}")
        return rc, out, err

    def docker_cli(self, *args):
        rc, out, err = self.module.run_command([self.docker, *args])
        if rc != 0:
            self.fail(f"docker {' '.join(args)} failed: {(err or out).strip()}")
        return out

    def fail(self, msg, **extra):
        self.module.fail_json(msg=msg, changed=self.changed, **extra)

    def write(self, path, content):
        """Writes a file when its content differs, by rename (the proxy mounts directories, not files)."""
        try:
            with open(path) as handle:
                if handle.read() == content:
                    return
        except OSError:
            pass
        self.changed = True
        if self.module.check_mode:
            return
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(handle, "w") as out:
            out.write(content)
        os.chmod(temporary, 0o644)
        os.rename(temporary, path)

    def containers(self):
        out = self.docker_cli("ps", "--all", "--quiet", "--filter",
                              f"label=com.docker.compose.project={self.params['project_name']}")
        ids = out.split()
        return json.loads(self.docker_cli("inspect", *ids)) if ids else []

    def image_id(self, config, service):
        image = config["services"][service].get("image") or f"{self.params['project_name']}-{service}"
        rc, out, _err = self.module.run_command([self.docker, "image", "inspect", "--format", "{{.Id}}", image])
        return out.strip() if rc == 0 else ""

    def logs(self, container):
        _rc, out, err = self.module.run_command([self.docker, "logs", "--tail", "30", container])
        return (out + err).strip()

    def site(self):
        params = self.params
        return {"domain": params["domain"], "port": params["domain_port"], "acme_ca": params["acme_ca"],
                "email": params["acme_email"], "ca_root": params["acme_ca_root"]}

    def reload_proxy(self, routes, upstreams):
        self.write(os.path.join(self.params["proxy_dir"], "caddy", "Caddyfile"),
                   rollout.caddyfile(routes, upstreams, self.site()))
        proxies = rollout.of_service(self.containers(), rollout.PROXY_SERVICE)
        if proxies and not self.module.check_mode:
            self.docker_cli("exec", rollout.name(proxies[-1]), "caddy", "reload", "--config",
                            rollout.PROXY_CONFIG_DIR + "/Caddyfile", "--adapter", "caddyfile")

    def upstreams(self, rolled):
        containers = self.containers()
        return {service: rollout.name(found[-1]) for service in rolled
                if (found := rollout.of_service(containers, service))}

    def roll(self, service, config, routes, upstreams, timeout):
        """A new container of `service` next to the old, the traffic to it once healthy, the old removed."""
        old = rollout.of_service(self.containers(), service)
        wanted_hash = self.run("config", "--hash", service)[1].split()[-1]
        reason = rollout.why_roll(old, wanted_hash, self.image_id(config, service))
        if not reason:
            return None
        self.changed = True
        if self.module.check_mode:
            return {"service": service, "reason": reason, "old": [rollout.name(c) for c in old], "new": ""}
        started = time.monotonic()
        # Not --no-deps: compose hashes a service without its depends_on then, and the next up recreates it.
        # --no-recreate leaves its dependencies as they are (the final up of main() updates them).
        rc, out, err = self.run("up", "--detach", "--no-recreate", "--scale", f"{service}={len(old) + 1}", service,
                                check=False)
        old_ids = {container["Id"] for container in old}
        new = [c for c in rollout.of_service(self.containers(), service) if c["Id"] not in old_ids]
        state = "no container started: " + (err or out).strip() if rc != 0 or not new else "waiting"
        while state == "waiting":
            time.sleep(1)
            state = rollout.readiness(json.loads(self.docker_cli("inspect", new[-1]["Id"]))[0])
            if state == "waiting" and time.monotonic() - started > timeout:
                state = f"still not healthy after {timeout} s"
        if state != "ready":
            logs = "\n".join(f"--- {rollout.name(c)}\n{self.logs(c['Id'])}" for c in new)
            for container in new:
                self.docker_cli("rm", "--force", container["Id"])
            self.fail(f"the new version of service {service} did not turn healthy ({state}): it was removed, and "
                      f"{', '.join(rollout.name(c) for c in old) or 'nothing'} kept the traffic.\n{logs}",
                      rolled_service=service)
        healthy_after = round(time.monotonic() - started, 1)
        upstreams[service] = rollout.name(new[-1])
        self.reload_proxy(routes, upstreams)
        if old:
            time.sleep(1)  # requests the proxy sent the old container before the reload finish
            self.docker_cli("stop", "--time", "10", *[c["Id"] for c in old])
            self.docker_cli("rm", *[c["Id"] for c in old])
        return {"service": service, "reason": reason, "old": [rollout.name(c) for c in old],
                "new": upstreams[service], "healthy_after_s": healthy_after}

    def deploy(self):
        params = self.params
        users = params["compose_files"]
        config = json.loads(self.run("config", "--format", "json", files=users)[1])
        try:
            rolled = rollout.rolled_services(config, params["services"])
            routes = rollout.routes(config, rolled)
        except rollout.RolloutError as error:
            self.fail(f"the proxy cannot roll this app: {error}")
        if params["domain"] and params["domain_port"] not in [route["port"] for route in routes]:
            self.fail(f"no service that rolls publishes port {params['domain_port']} for https://{params['domain']} "
                      f"(they publish {', '.join(str(route['port']) for route in routes) or 'none'})")
        proxy_dir = params["proxy_dir"]
        self.write(self.proxy_file, rollout.override(routes, rolled, proxy_dir, https=bool(params["domain"])))
        self.write(os.path.join(proxy_dir, "Dockerfile"), rollout.DOCKERFILE)
        root = os.path.join(proxy_dir, "caddy", "acme-ca-root.pem")
        if params["domain"] and params["acme_ca_root"]:
            self.write(root, params["acme_ca_root"])
        timeout = str(params["timeout"])
        upstreams = self.upstreams(rolled)
        proxy_runs = any(c.get("State", {}).get("Status") == "running"
                         for c in rollout.of_service(self.containers(), rollout.PROXY_SERVICE))
        result = {"routes": routes, "rolled": [], "first_start": not proxy_runs}
        if not proxy_runs:
            # Nothing serves through the proxy yet: everything starts at once, then the proxy is told where.
            self.changed = True
            self.write(os.path.join(proxy_dir, "caddy", "Caddyfile"), rollout.caddyfile(routes, upstreams, self.site()))
            if not self.module.check_mode:
                build = ["--build"] if params["build"] == "always" else []
                publishing = [c for service in rolled for c in rollout.of_service(self.containers(), service)
                              if any((c.get("HostConfig") or {}).get("PortBindings") or {})]
                if publishing:
                    # A deployment from before the proxy: its containers give the ports up first.
                    services = [service for service in config["services"] if service != rollout.PROXY_SERVICE]
                    self.run("up", "--detach", "--remove-orphans", "--wait", "--wait-timeout", timeout, *build,
                             *services)
                self.run("up", "--detach", "--remove-orphans", "--wait", "--wait-timeout", timeout, *build)
                upstreams = self.upstreams(rolled)
                self.reload_proxy(routes, upstreams)
            return dict(result, upstreams=upstreams)
        if params["build"] == "always":
            self.changed = True
            if not self.module.check_mode:
                self.run("build")
        config = json.loads(self.run("config", "--format", "json")[1])  # with the proxy's file
        before = {c["Id"]: c.get("State", {}).get("Status") for c in self.containers()}
        self.reload_proxy(routes, upstreams)  # a Caddyfile out of step with the containers
        for service in rolled:
            done = self.roll(service, config, routes, upstreams, params["timeout"])
            if done:
                result["rolled"].append(done)
        if not self.module.check_mode:
            # The services that do not roll (a database: never two at once), and the proxy, when they changed.
            self.run("up", "--detach", "--remove-orphans", "--wait", "--wait-timeout", timeout)
            after = {c["Id"]: c.get("State", {}).get("Status") for c in self.containers()}
            self.changed = self.changed or after != before
        return dict(result, upstreams=upstreams)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project_dir=dict(type="path", required=True),
            project_name=dict(type="str", required=True),
            compose_files=dict(type="list", elements="str", default=["compose.yaml"]),
            services=dict(type="list", elements="str", default=[]),
            proxy_dir=dict(type="path", required=True),
            build=dict(type="str", choices=["always", "policy"], default="policy"),
            timeout=dict(type="int", default=600),
            domain=dict(type="str", default=""),
            domain_port=dict(type="int", default=80),
            acme_ca=dict(type="str", default="https://acme-v02.api.letsencrypt.org/directory"),
            acme_email=dict(type="str", default=""),
            acme_ca_root=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    deployment = Rollout(module)
    result = deployment.deploy()
    module.exit_json(changed=deployment.changed, **result)


if __name__ == "__main__":
    main()
