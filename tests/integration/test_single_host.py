"""One host through its whole life, in order: the tests that need "a deployed host" share it (one
module, its tests in file order; pytest-xdist's --dist loadfile keeps a file on one worker). Each
step is its own test with its own assertions; a step that fails leaves the later ones to fail too.

1. site.yml -vvv from nothing (the module's fixture), with the user's secrets (an ansible-vault file,
   an SSM SecureString) and a domain in the user's Route 53 zone: no secret in the output or the log,
   the files that hold them 0600.
2. The app and its Docker as the docker role's table says, reached from the controller; SSH from
   "my IP" only. https://<domain> answers with a certificate of the sandbox's ACME CA, found through
   the record in Route 53 that the sandbox's resolver serves; HTTP redirects to it.
3. site.yml again, and again with private role vars: nothing changes, nothing is written.
4. configure reads the host once; every drift behind its back is named and repaired by one run.
5. configure.yml --check on a host whose Docker is stopped: a plan, not a failure.
6. Redeploys under a loop of requests, through the proxy: a good one and a broken one fail no request,
   and the broken one never takes traffic. A private repository read over SSH with a deploy key.
7. Stop and start the instance: the app and its data come back by themselves, the Elastic IP stays and
   the domain answers over HTTPS again.
8. Teardown backs up the database; site.yml -e restore_from brings the rows back, once.
9. Teardown leaves nothing, the domain's record neither.

Every run passes the same secrets file, as a user would: the database password must not change
under a database that exists. Steps 1, 7 and 8 carry the marker `hardening` (make test-hardening).
"""

import json
import os
import re
import secrets
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from cloud import docker_role_choice, get, http_redirect, https_get, post_task, resolve, ssh_sources

HOST = "tasklist-dev-web"
APP_DIR = "/opt/tasklist"
RECORD = "/var/lib/shipyard/tasklist/healthy-commit"
ROOT = Path(__file__).resolve().parents[2]
DAEMON_OPTIONS = yaml.safe_load((ROOT / "roles" / "docker" / "defaults" / "main.yml").read_text())[
    "docker_daemon_options"]
JSON_OUTPUT = {"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
QUICK = ["-e", "app_health_timeout=90"]  # the broken version never gets healthy: fail in 90 s, not 600
PRIVATE = {"ANSIBLE_PRIVATE_ROLE_VARS": "true"}
ZONE, DOMAIN = "example.test", "shop.example.test"  # the user's hosted zone, and the app's name in it


class Host:
    """The shared host's sandbox, the user's secrets, and what the steps hand on."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.password = "Pw-" + secrets.token_hex(12)
        self.token = "Tk-" + secrets.token_hex(12)
        self.vault_password = sandbox.tmp_path / "vault-password"
        self.vars_file = sandbox.tmp_path / "secrets.yml"
        self.log = sandbox.tmp_path / "ansible.log"
        self.first = None  # the first site.yml run: -vvv, logged to self.log
        self.zone_id = None  # the user's Route 53 zone that holds DOMAIN

    def playbook(self, playbook, *args, **kwargs):
        """A run with the user's secrets, as every run of this host is."""
        return self.sandbox.playbook(playbook, "-e", f"@{self.vars_file}", "--vault-password-file",
                                     str(self.vault_password), *args, **kwargs)

    @property
    def container(self):
        (container,) = self.sandbox.containers()
        return container

    def address(self):
        return self.sandbox.host_address()


@pytest.fixture(scope="module")
def host(module_sandbox):
    host = Host(module_sandbox)
    module_sandbox.client("ssm").put_parameter(Name="/tasklist/dev/api-token", Value=host.token,
                                               Type="SecureString")
    host.vault_password.write_text(secrets.token_hex(16))
    host.zone_id = module_sandbox.client("route53").create_hosted_zone(
        Name=ZONE, CallerReference=secrets.token_hex(8))["HostedZone"]["Id"]
    host.vars_file.write_text(json.dumps({
        "domain_name": DOMAIN, "route53_zone": ZONE,
        "app_db_password": host.password,
        "app_env": {"API_TOKEN": "{{ lookup('amazon.aws.ssm_parameter', '/tasklist/dev/api-token', decrypt=true) }}"},
    }))
    subprocess.run(["ansible-vault", "encrypt", "--vault-password-file", str(host.vault_password),
                    str(host.vars_file)], check=True, capture_output=True, timeout=60,
                   env={**os.environ, **module_sandbox.env})
    # The host's first deploy, here so that any selection of the steps below has a host (make
    # integration and make test-hardening each run some of them).
    host.first = host.playbook("playbooks/site.yml", "-vvv", extra_env={"ANSIBLE_LOG_PATH": str(host.log)})
    return host


def task_titles(address):
    return [task["title"] for task in json.loads(get(f"http://{address}:8000/api/tasks")[1])]


def on_host(container, script, check=True):
    return subprocess.run(["docker", "exec", container, "bash", "-euc", script], capture_output=True, text=True,
                          timeout=120, check=check).stdout.strip()


def said(run):
    return " ".join(run.output.split())  # long messages are folded over lines


# 1. Secrets ---------------------------------------------------------------------------------------

def key_body_lines(private_key):
    """The base64 lines of an OpenSSH private key, each one a needle on its own."""
    return [line for line in private_key.splitlines() if line and not line.startswith("-----")]


@pytest.mark.hardening
def test_site_from_nothing_prints_and_logs_no_secret(host):
    sandbox = host.sandbox
    assert host.password not in host.vars_file.read_text()

    key_file = sandbox.tmp_path / "ssh" / "dev"
    private_key = key_file.read_text()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    texts = {"output": host.first.output, "log file": host.log.read_text()}
    assert len(host.first.output) > 100_000  # -vvv really was verbose: module arguments and results are in it
    for where, text in texts.items():
        assert host.password not in text, f"the database password is in the {where}"
        assert host.token not in text, f"the SSM secret is in the {where}"
        leaked = [line for line in key_body_lines(private_key) if line in text]
        assert leaked == [], f"{len(leaked)} lines of the private key are in the {where}"
        assert "BEGIN OPENSSH PRIVATE KEY" not in text

    # The password works: the app uses it (a task can be stored), and the .env that holds it is 0600 root.
    address = re.search(r"page: http://([0-9.]+):80/", host.first.output).group(1)
    assert get(f"http://{address}:8000/api/tasks")[0] == 200
    ssh = ["ssh", "-i", str(key_file), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-o", "LogLevel=ERROR", f"admin@{address}"]
    stat = subprocess.run([*ssh, "sudo stat -c '%a %U' /opt/tasklist/.env && sudo cat /opt/tasklist/.env"],
                          capture_output=True, text=True, timeout=60, check=True, env=os.environ).stdout
    assert stat.splitlines()[0] == "600 root"
    assert f"DB_PASSWORD={host.password}" in stat
    assert f"API_TOKEN={host.token}" in stat


# 2. What the first run made -----------------------------------------------------------------------

def test_the_first_run_serves_the_app_on_the_docker_its_table_names(host):
    sandbox = host.sandbox
    address = host.address()
    # What the docker role's one table names (the sandbox's hosts are Debian 13).
    packages, daemon_options = docker_role_choice("Debian-13")
    query = "dpkg-query --show --showformat '${Package} ${Status}\\n' " + " ".join(packages)
    installed = on_host(host.container, query)
    assert sorted(installed.splitlines()) == sorted(f"{name} install ok installed" for name in packages)
    assert json.loads(on_host(host.container, "cat /etc/docker/daemon.json")) == daemon_options

    # From the controller, over the container's address, as a user's browser would.
    status, page = get(f"http://{address}/")
    assert status == 200 and "<title>Task List</title>" in page
    status, tasks = get(f"http://{address}:8000/api/tasks")
    assert status == 200 and isinstance(json.loads(tasks), list)
    assert post_task(address, "written by the test")[0] == 201
    assert f"page: http://{address}:80/" in host.first.output  # the summary says where the app is
    # admin_cidrs unset: SSH is open to "my IP" only, the address the hosts see the controller at.
    assert ssh_sources(sandbox) == [sandbox.my_ip() + "/32"]


def records(sandbox, zone_id):
    """{(name, type): [values]} of the zone, without its NS and SOA."""
    found = sandbox.client("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {(r["Name"].rstrip("."), r["Type"]): [v["Value"] for v in r.get("ResourceRecords", [])]
            for r in found if r["Type"] not in ("NS", "SOA")}


def test_the_domain_answers_over_https_with_a_certificate_of_the_sandbox_ca(host):
    sandbox, container = host.sandbox, host.container
    (instance,) = [i for r in sandbox.client("ec2").describe_instances(Filters=[
        {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"] for i in r["Instances"]]
    # The record leads to the host's public address, marked as this stack's.
    assert records(sandbox, host.zone_id) == {
        (DOMAIN, "A"): [instance["PublicIpAddress"]],
        (f"_shipyard.{DOMAIN}", "TXT"): ['"heritage=shipyard.ec2_compose,project=tasklist,environment=dev"']}
    # The sandbox's resolver (the hosts' and the ACME CA's) serves it, the public address being the host's.
    resolver = subprocess.run(["docker", "inspect", "--format", "{{index .HostConfig.Dns 0}}", container],
                              capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    (address,) = resolve(DOMAIN, resolver)
    assert address == host.address()

    # HTTPS with a certificate that chains to the sandbox CA's root alone (no --insecure), for the domain.
    root = Path(sandbox.env["SSL_CERT_FILE"]).with_name("root.pem")
    status, _headers, page, certificate = https_get(address, DOMAIN, root)
    assert status == 200 and "<title>Task List</title>" in page
    assert ("DNS", DOMAIN) in certificate["subjectAltName"]
    assert "Pebble" in dict(part[0] for part in certificate["issuer"])["commonName"]  # the sandbox's CA
    assert http_redirect(address, DOMAIN) == (308, f"https://{DOMAIN}/")
    assert f"site: https://{DOMAIN}/" in host.first.output  # the summary's first line
    assert f"open: https://{DOMAIN}/" in host.first.output.split("TASK [")[-1]  # the run's last task says it
    # How long the proxy took from its start to the certificate (the ACME CA's HTTP-01 challenge answered).
    logs = [json.loads(line) for line in on_host(container, "docker logs tasklist-shipyard-proxy-1 2>&1").splitlines()
            if line.startswith("{")]
    started = next(entry["ts"] for entry in logs if entry.get("msg") == "serving initial configuration")
    obtained = next(entry["ts"] for entry in logs if entry.get("msg") == "certificate obtained successfully")
    print(f"\ncertificate for {DOMAIN} obtained {obtained - started:.1f} s after the proxy started")
    assert 0 < obtained - started < 60


# 3. No-op re-runs ---------------------------------------------------------------------------------

def test_site_again_changes_and_writes_nothing(host):
    sandbox = host.sandbox
    mark = sandbox.requests_mark()
    second = host.playbook("playbooks/site.yml")
    assert second.recap("localhost")["changed"] == 0
    assert second.recap(HOST)["changed"] == 0
    assert sandbox.mutating_since(mark) == []
    assert "written by the test" in task_titles(host.address())

    # A user's ansible.cfg may keep role variables private (private_role_vars): the playbooks share
    # the roles' variables with the play whatever it says.
    third = host.playbook("playbooks/site.yml", extra_env=PRIVATE)
    assert third.recap("localhost")["changed"] == 0 and third.recap(HOST)["changed"] == 0


# 4. configure's one read, drift and repair --------------------------------------------------------

def task_output(run, name):
    """What the run printed for one task, up to the next task."""
    return run.output.split(f"{name}] ")[1].split("\n", 1)[1].split("TASK [")[0]


def read(sandbox, part, **args):
    """One host_state_info run on the host for one part, ad hoc, as a user would call it; that part."""
    key = str(sandbox.tmp_path / "ssh" / "dev")
    run = sandbox.command("ansible", "shipyard_hosts", "--become", "--private-key", key,
                          "-m", "shipyard.ec2_compose.host_state_info", "-a", json.dumps({part: args}),
                          extra_env=JSON_OUTPUT)
    result = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"][HOST]
    return {**result[part], "changed": result["changed"]}


def read_app(sandbox, env_checksum, **more):
    return read(sandbox, "app", project_dir=APP_DIR, project_name="tasklist",
                repo=sandbox.env["SHIPYARD_APP_REPO"], version="main", env_checksum=env_checksum,
                healthy_record=RECORD, **more)


def read_docker(sandbox):
    return read(sandbox, "docker", packages=["docker.io", "python3-requests"], users=["admin"],
                daemon_json=json.dumps(DAEMON_OPTIONS, indent=4, sort_keys=True) + "\n")


def test_a_converged_host_is_read_once_and_checked_from_the_controller(host):
    run = host.playbook("playbooks/configure.yml", "-v")
    assert run.recap(HOST)["changed"] == 0
    assert "Fetch the app at main" not in run.output  # no deployment started
    converge = task_output(run, "Install Docker, configure and start it, add the users to its group")
    assert converge.strip().startswith("skipping:")
    for writer in ["Install Docker Engine and compose v2", "Configure the daemon (log rotation by default)",
                   "Start Docker now and at every boot"]:
        assert f"TASK [shipyard.ec2_compose.docker : {writer}]" not in run.output, writer
    health = task_output(run, "Check that every health check passes")
    # With the domain, its HTTPS too (a certificate the controller verifies), from the controller only.
    said_health = " ".join(health.split())
    assert "page from the controller, api from the controller, https from the controller: healthy" in said_health
    assert f"https://{DOMAIN}:443/ at {host.address()}" in said_health


def test_every_drift_is_named_by_the_reads_and_repaired_by_one_run(host):
    sandbox, container = host.sandbox, host.container
    env_checksum = on_host(container, f"sha1sum {APP_DIR}/.env").split()[0]
    assert read_app(sandbox, env_checksum)["differs"] == []
    docker = read_docker(sandbox)
    assert (docker["daemon_json_current"], docker["users_not_in_group"], docker["service"]) == (
        True, [], {"enabled": True, "active": True})
    main = on_host(container, f"git -C {APP_DIR} rev-parse HEAD")
    v1_0 = on_host(container, f"git -C {APP_DIR} rev-parse v1.0.0")

    image = sandbox.env["SHIPYARD_APP_BASE_IMAGE"]  # an image the host has
    sleeper = on_host(container, f"""
        echo '{{}}' > /etc/docker/daemon.json
        gpasswd --delete admin docker > /dev/null
        systemctl disable --quiet docker
        DEBIAN_FRONTEND=noninteractive apt-get remove --yes --quiet python3-requests > /dev/null
        cd {APP_DIR}
        # A service that an earlier compose file had: its container is an orphan now.
        printf 'services:\\n  old:\\n    image: {image}\\n    command: sleep infinity\\n' \\
            > /tmp/old.yaml
        docker compose --project-name tasklist -f compose.yaml -f /tmp/old.yaml up --detach --no-deps old \\
            > /dev/null 2>&1
        chmod 0644 .env && echo '# edited' >> .env
        docker stop tasklist-api-1 > /dev/null
        git checkout --quiet v1.0.0
        rm {RECORD}
        echo '# edited' >> compose.yaml
        setsid python3 -c 'import time; time.sleep(600)' compose up --project-directory {APP_DIR} \\
            > /dev/null 2>&1 < /dev/null &
        echo $!
    """)
    docker = read_docker(sandbox)
    assert docker["daemon_json_current"] is False
    assert docker["users_not_in_group"] == ["admin"]
    assert docker["service"] == {"enabled": False, "active": True}
    assert "python3-requests" not in docker["installed"] and "docker.io" in docker["installed"]
    app = read_app(sandbox, env_checksum, base_image="shipyard-sandbox/none:missing")
    differs = app["differs"]
    for line in [f"checkout: local changes in {APP_DIR}",
                 f"checkout: at {v1_0[:12]}, main is {main[:12]}",
                 ".env: other content",
                 ".env: not mode 0600 root:root",
                 f"health record: none, the checkout is {v1_0[:12]}",
                 "base image: shipyard-sandbox/none:missing is not loaded",
                 "service api: tasklist-api-1 is exited",
                 "container tasklist-old-1: its service old is not in the compose file"]:
        assert line in differs
    assert any(line.startswith(f"compose: a run for {APP_DIR} still goes on") for line in differs)
    assert (app["base_image_present"], app["containers"], len(app["compose_runs"])) == (False, 5, 1)  # proxy too

    # configure refuses local changes and waits for a compose run: those two are the user's to clear.
    on_host(container, f"git -C {APP_DIR} checkout -- compose.yaml && kill {sleeper}")
    run = host.playbook("playbooks/configure.yml")
    assert run.recap(HOST)["changed"] > 0
    assert json.loads(on_host(container, "cat /etc/docker/daemon.json")) == DAEMON_OPTIONS
    assert "docker" in on_host(container, "id --name --groups admin").split()
    assert on_host(container, "systemctl is-enabled docker") == "enabled"
    assert "install ok installed" in on_host(container, "dpkg-query --show --showformat '${Status}' python3-requests")
    assert on_host(container, f"stat --format %a:%U:%G {APP_DIR}/.env") == "600:root:root"
    assert on_host(container, f"git -C {APP_DIR} rev-parse HEAD") == main
    assert on_host(container, f"cat {RECORD}") == main
    # One container per service (a rolled service's has a new number), the proxy's too; no orphan.
    services = on_host(container, "docker ps --all --format '{{.Label \"com.docker.compose.service\"}}' | sort")
    assert services.split() == ["api", "db", "shipyard-proxy", "web"]

    assert read_app(sandbox, env_checksum)["differs"] == []
    again = host.playbook("playbooks/configure.yml")
    assert again.recap(HOST)["changed"] == 0
    assert "Fetch the app at main" not in again.output


# 5. Check mode with Docker stopped ----------------------------------------------------------------

def test_configure_check_with_docker_stopped_plans_instead_of_failing(host):
    container = host.container
    on_host(container, "systemctl stop docker.socket docker")
    try:
        mark = host.sandbox.requests_mark()
        run = host.playbook("playbooks/configure.yml", "--check", check=False)
        assert run.rc == 0, run.output[-6000:]
        assert run.recap(HOST)["failed"] == 0 and run.recap(HOST)["changed"] > 0
        assert "TASK [shipyard.ec2_compose.docker : Start Docker now and at every boot]" in run.output
        assert host.sandbox.mutating_since(mark) == []
        assert on_host(container, "systemctl is-active docker", check=False) == "inactive"  # nothing was done
    finally:
        on_host(container, "systemctl start docker")
    repaired = host.playbook("playbooks/configure.yml")
    assert repaired.recap(HOST)["failed"] == 0
    assert get(f"http://{host.address()}:8000/api/tasks")[0] == 200


# 6. Redeploys and rollback ------------------------------------------------------------------------

class Prober(threading.Thread):
    """GETs the page and the API's version every 0.25 s until stopped; keeps (time, both answered 200,
    the version that answered)."""

    def __init__(self, address):
        super().__init__(daemon=True)
        self.address = address
        self.results, self.done = [], threading.Event()

    def answer(self):
        try:
            with urllib.request.urlopen(f"http://{self.address}/", timeout=2) as page:
                page.read()
            with urllib.request.urlopen(f"http://{self.address}:8000/api/version", timeout=2) as api:
                return page.status == 200 and api.status == 200, json.loads(api.read())["version"]
        except OSError as error:
            return False, str(error)

    def run(self):
        while not self.done.is_set():
            self.results.append((time.monotonic(), *self.answer()))
            time.sleep(0.25)

    def stop(self, started):
        self.done.set()
        self.join(timeout=10)
        failed = [(round(moment - started, 1), why) for moment, ok, why in self.results if not ok]
        versions = [(round(moment - started, 1), version) for moment, ok, version in self.results if ok]
        switches = [(moment, version) for (moment, version), (_before, previous) in
                    zip(versions[1:], versions, strict=False) if version != previous]
        return {"probes": len(self.results), "failed": failed, "first": versions[0][1] if versions else None,
                "switches": switches, "serving_at_the_end": bool(self.results) and self.results[-1][1]}


def version(address):
    with urllib.request.urlopen(f"http://{address}:8000/api/version", timeout=5) as response:
        return json.loads(response.read())["version"]


def redeploy(host, address, app_version, check=True):
    prober = Prober(address)
    prober.start()
    started = time.monotonic()
    run = host.playbook("playbooks/configure.yml", "-e", f"app_version={app_version}", *QUICK, check=check)
    time.sleep(2)  # a little of the after, too
    return run, dict(prober.stop(started), run_s=round(time.monotonic() - started - 2, 1))


def test_redeploys_behind_the_proxy_fail_no_request_and_a_broken_one_rolls_back(host):
    host.playbook("playbooks/configure.yml", "-e", "app_version=v1.0.0", *QUICK)
    address = host.address()
    assert version(address) == "1.0.0"

    _good, good = redeploy(host, address, "v1.1.0")
    print(f"\nsuccessful redeploy v1.0.0 -> v1.1.0: {good}")
    assert version(address) == "1.1.0"
    # Every request answered, by the old version until the new one took over once, then by the new one.
    assert good["failed"] == [] and good["serving_at_the_end"], good
    assert good["first"] == "1.0.0" and [v for _t, v in good["switches"]] == ["1.1.0"], good

    bad_run, bad = redeploy(host, address, "v1.2.0-broken", check=False)
    print(f"failed redeploy v1.1.0 -> v1.2.0-broken, rolled back: {bad}")
    text = said(bad_run)
    assert bad_run.rc != 0
    assert "app_version v1.2.0-broken" in text and "failed" in text
    assert "the new version of service api did not turn healthy" in text and "kept the traffic" in text
    assert "broken on purpose" in text  # the new version's logs are in the error
    assert "Rolled back to" in text and "serves now" in text
    # The broken version never took a request: the old one answered every one.
    assert bad["failed"] == [] and bad["first"] == "1.1.0" and bad["switches"] == [], bad
    assert version(address) == "1.1.0"

    # The rolled-back host is in order: the previous version again changes nothing.
    again = host.playbook("playbooks/configure.yml", "-e", "app_version=v1.1.0", *QUICK)
    assert again.recap(HOST)["changed"] == 0
    services = on_host(host.container, "docker ps --format '{{.Label \"com.docker.compose.service\"}}' | sort")
    assert services.split() == ["api", "db", "shipyard-proxy", "web"]  # one container each, none left over


def test_a_private_repository_is_read_with_a_deploy_key_that_never_shows(host):
    """app_repo over SSH with app_repo_ssh_key_path: the host's own sshd serves a mirror of the app to a
    `git` user that only the deploy key opens (real ssh, real git); configure clones from there, and
    the key is on the host mode 0600, in no output and in no URL."""
    key = host.sandbox.tmp_path / "deploy_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "deploy", "-f", str(key)], check=True,
                   timeout=30)
    public = (host.sandbox.tmp_path / "deploy_key.pub").read_text().strip()
    on_host(host.container, f"""
        id git >/dev/null 2>&1 || useradd --create-home --shell /bin/bash git
        install -d -o git -m 700 ~git/.ssh && echo '{public}' > ~git/.ssh/authorized_keys
        chown git ~git/.ssh/authorized_keys && chmod 600 ~git/.ssh/authorized_keys
        rm -rf /srv/git && mkdir -p /srv/git && git clone --quiet --bare {APP_DIR} /srv/git/tasklist.git
        chown -R git /srv/git""")
    repo = "ssh://git@127.0.0.1/srv/git/tasklist.git"
    run = host.playbook("playbooks/configure.yml", "-v", "-e", f"app_repo={repo}", "-e",
                        f"app_repo_ssh_key_path={key}", "-e", "app_version=v1.1.0", *QUICK)
    assert not any(line in run.output for line in key_body_lines(key.read_text()))
    assert on_host(host.container, f"stat -c '%a %U' {APP_DIR}.deploy-key") == "600 root"
    assert on_host(host.container, f"git -C {APP_DIR} config --get remote.origin.url") == repo
    assert version(host.address()) == "1.1.0"
    # Read with the key too: the same again changes nothing.
    again = host.playbook("playbooks/configure.yml", "-e", f"app_repo={repo}", "-e", f"app_repo_ssh_key_path={key}",
                          "-e", "app_version=v1.1.0", *QUICK)
    assert again.recap(HOST)["changed"] == 0


# 7. Stop and start --------------------------------------------------------------------------------

def tasks_at(address):
    try:
        return task_titles(address)
    except OSError:
        return None


def instance_of(sandbox):
    reservations = sandbox.ec2.describe_instances(Filters=[
        {"Name": "tag:Project", "Values": ["tasklist"]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])["Reservations"]
    return reservations[0]["Instances"][0]


def address_of(instance):
    return {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}.get("SandboxAddress")


@pytest.mark.hardening
def test_app_and_its_data_come_back_after_stop_and_start(host):
    sandbox = host.sandbox
    instance = instance_of(sandbox)
    address = address_of(instance)
    post_task(address, "before the reboot")

    sandbox.ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    assert tasks_at(address) is None  # really down
    sandbox.ec2.start_instances(InstanceIds=[instance["InstanceId"]])

    deadline = time.monotonic() + 240
    while True:
        address = address_of(instance_of(sandbox))  # a restarted container may get a new address
        found = tasks_at(address) if address else None
        if found:
            break
        assert time.monotonic() < deadline, "the app did not come back within 240 s of the start"
        time.sleep(3)
    assert "before the reboot" in found
    # The Elastic IP stayed: the domain's record still leads to the host, and HTTPS answers there.
    public = instance_of(sandbox)["PublicIpAddress"]
    assert public == instance["PublicIpAddress"]
    assert records(sandbox, host.zone_id)[(DOMAIN, "A")] == [public]
    root = Path(sandbox.env["SSL_CERT_FILE"]).with_name("root.pem")
    deadline = time.monotonic() + 60
    while True:
        try:
            assert https_get(address, DOMAIN, root)[0] == 200
            break
        except OSError:
            assert time.monotonic() < deadline, f"https://{DOMAIN} did not answer within 60 s of the app"
            time.sleep(2)


# 8. Backup and restore ----------------------------------------------------------------------------

@pytest.mark.hardening
def test_teardown_backs_up_and_site_restores_the_rows(host):
    sandbox = host.sandbox
    address = host.address()
    titles = [f"kept across teardown {n}" for n in range(3)]
    for title in titles:
        post_task(address, title)

    run = host.playbook("playbooks/teardown.yml", "-e", "teardown_confirm=dev")
    dumps = list((sandbox.tmp_path / "backups").glob("tasklist-dev-*.sql"))
    assert len(dumps) == 1, run.output[-3000:]
    dump = dumps[0]
    assert re.fullmatch(r"tasklist-dev-.+-\d{8}T\d{6}Z\.sql", dump.name)
    assert oct(dump.stat().st_mode & 0o777) == "0o600"
    assert oct(dump.parent.stat().st_mode & 0o777) == "0o700"
    assert f"saved to {dump}" in run.output  # the play says where the dump is
    assert all(title in dump.read_text() for title in titles)
    assert sandbox.tagged() == {}

    run = host.playbook("playbooks/site.yml", "-e", f"restore_from={dump}")
    address = re.search(r"page: http://([0-9.]+):80/", run.output).group(1)
    restored = [title for title in task_titles(address) if title in titles]
    assert sorted(restored) == titles  # every row, once

    # Loaded once: a re-run with the same dump changes nothing on the host.
    rerun = host.playbook("playbooks/configure.yml", "-e", f"restore_from={dump}")
    assert rerun.recap(HOST)["changed"] == 0, rerun.output[-4000:]
    assert sorted(t for t in task_titles(address) if t in titles) == titles


# 9. Nothing left ----------------------------------------------------------------------------------

def test_teardown_leaves_nothing(host):
    sandbox = host.sandbox
    host.playbook("playbooks/teardown.yml", "-e", "teardown_confirm=dev", extra_env=PRIVATE)
    assert sandbox.tagged() == {}
    assert sandbox.containers() == []
    assert records(sandbox, host.zone_id) == {}  # the A record and its mark; the zone is the user's
