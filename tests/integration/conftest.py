"""Harness for the end-to-end tests: a real emulator process, real ansible-playbook runs.

The session starts its own sandbox (SANDBOX_PORT, default 5055, state under .sandbox/pytest-<port>)
with the project's sandboxctl, so a user's `make sandbox-up` is left alone: the emulator, its
backer (a container for each running instance) and the git daemon. Every test starts from an
empty cloud (the emulator's reset endpoint; the backer then removes the containers).

Under pytest-xdist (`-n 2`), worker N runs its own sandbox on SANDBOX_PORT + N: the workers share
the Docker engine and nothing else.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sandbox"))  # the sandbox's tools are scripts, not a package
sys.path.insert(0, str(Path(__file__).resolve().parent))  # cloud.py: helpers the test modules share
from backer import sandbox_label  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402

WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))  # "gw1" under xdist
PORT = str(int(os.environ.get("SANDBOX_PORT", "5055")) + WORKER)
STATE = ROOT / ".sandbox" / f"pytest-{PORT}"  # one per port: test sessions on two ports do not meet
IDENTITY = {"Project": "tasklist", "ManagedBy": "shipyard.ec2_compose"}
MUTATING = re.compile(r"^(Create|Delete|Run|Terminate|Import|Allocate|Release|Associate|Disassociate|Attach|"
                      r"Detach|Authorize|Revoke|Modify|Replace|Update|Put|Start|Stop|Reboot)")


# Each test file's wall time in the last recorded run (seconds): `make e2e` hands out whole files
# to the workers in this order, longest first, so that both stay busy to the end. Refreshed with
# --record-durations; a file not in it yet goes first (unknown counts as long).
DURATIONS = Path(__file__).with_name("durations.json")


def pytest_addoption(parser):
    parser.addoption("--record-durations", action="store_true",
                     help=f"write each test file's total time to {DURATIONS.name} (the files run merge into it)")


def pytest_collection_modifyitems(items):
    """Longest files first; the tests of a file keep their order (pytest-xdist's --dist loadfile with
    --no-loadscope-reorder hands the files out in this order)."""
    recorded = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    position = {}
    for item in items:
        position.setdefault(item.path.name, len(position))
    items.sort(key=lambda item: (-recorded.get(item.path.name, float("inf")), position[item.path.name]))


def pytest_configure(config):
    if config.getoption("--record-durations", default=False) and not hasattr(config, "workerinput"):
        config.pluginmanager.register(DurationRecorder(), "shipyard-duration-recorder")


class DurationRecorder:
    """On the controller: sums setup, call and teardown of every test (workers report here) by file."""

    def __init__(self):
        self.seconds = {}

    def pytest_runtest_logreport(self, report):
        name = Path(report.location[0]).name
        self.seconds[name] = self.seconds.get(name, 0.0) + report.duration

    def pytest_sessionfinish(self):
        recorded = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
        recorded.update({name: round(seconds, 1) for name, seconds in self.seconds.items()})
        DURATIONS.write_text(json.dumps(dict(sorted(recorded.items(), key=lambda kv: -kv[1])), indent=2) + "\n")


def read_env_file(path):
    env = {}
    for line in path.read_text().splitlines():
        key, _sep, value = line.removeprefix("export ").partition("=")
        env[key] = shlex.split(value)[0] if value else ""
    env["PATH"] = env["PATH"].replace("$PATH", os.environ["PATH"])
    return env


@dataclass
class Run:
    rc: int
    output: str

    def recap(self, host="localhost"):
        """{'ok': n, 'changed': n, ...} for one host, from the last PLAY RECAP line."""
        line = re.findall(rf"^{re.escape(host)}\s+:(.*)$", self.output, re.MULTILINE)[-1]
        return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}


class Sandbox:
    def __init__(self, env, tmp_path):
        self.env = env
        self.tmp_path = tmp_path
        self.request_log = Path(env["SANDBOX_REQUEST_LOG"])
        self.session = boto3.Session(region_name=env["AWS_REGION"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                     aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
        self.ec2 = self.client("ec2")

    def client(self, service, region=None):
        return self.session.client(service, endpoint_url=self.env["AWS_ENDPOINT_URL"],
                                   region_name=region or self.env["AWS_REGION"])

    def playbook(self, playbook, *args, environment="dev", check=True, extra_env=None):
        """Run ansible-playbook from the repo root; assert rc 0 unless check=False."""
        env = {**os.environ, **self.env, "SHIPYARD_ENVIRONMENT": environment, "ANSIBLE_NOCOLOR": "1",
               "ANSIBLE_FORCE_COLOR": "0", **(extra_env or {})}
        env = {name: value for name, value in env.items() if value is not None}  # None in extra_env: unset
        command = ["ansible-playbook", playbook, "-e", f"ssh_key_path={self.tmp_path}/ssh/{environment}",
                   "-e", f"backup_dir={self.tmp_path}/backups", *args]
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
                              stdin=subprocess.DEVNULL,
                              check=False)
        run = Run(proc.returncode, proc.stdout + proc.stderr)
        if check:
            assert run.rc == 0, f"{' '.join(command)} failed:\n{run.output[-6000:]}"
        return run

    def command(self, *command, environment="dev", extra_env=None):
        env = {**os.environ, **self.env, "SHIPYARD_ENVIRONMENT": environment, **(extra_env or {})}
        env = {name: value for name, value in env.items() if value is not None}  # None in extra_env: unset
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True)

    def containers(self):
        """Ids of the containers that this sandbox's backer runs for instances."""
        found = subprocess.run(["docker", "ps", "--all", "--quiet", "--filter", f"label={sandbox_label(STATE)}",
                                "--filter", "label=shipyard.sandbox.instance"],
                               capture_output=True, text=True, check=True, timeout=60)
        return found.stdout.split()

    def service_containers(self, kind):
        """Ids of this sandbox's containers that back a service: "lb", "db" or "resolver"."""
        found = subprocess.run(["docker", "ps", "--all", "--format", "{{.ID}} {{.Names}}", "--filter",
                                f"label={sandbox_label(STATE)}"], capture_output=True, text=True, check=True,
                               timeout=60)
        return [line.split()[0] for line in found.stdout.splitlines()
                if line.split()[1].startswith(f"shipyard-sandbox-{kind}-")]

    def requests_mark(self):
        return len(self.request_log.read_text().splitlines()) if self.request_log.exists() else 0

    def requests_since(self, mark):
        lines = self.request_log.read_text().splitlines()[mark:]
        return [json.loads(line) for line in lines]

    def mutating_since(self, mark):
        """The write calls since mark, but the run lock's (the run's own bookkeeping in SSM, taken and
        released by every provision and teardown, including a no-op one)."""
        return [r["action"] for r in self.requests_since(mark)
                if MUTATING.match(r["action"]) and r["service"] != "ssm"]

    def my_ip(self):
        """This machine's address as the hosts see it: what "my IP" (checkip) answers in the sandbox."""
        with urllib.request.urlopen(self.env["SHIPYARD_MY_IP_URL"], timeout=10) as response:
            return response.read().decode().strip()

    @staticmethod
    def accepts(address, port):
        """A TCP connection from this machine is accepted (a port closed by a security group drops the
        SYN, which times out here, as on AWS)."""
        try:
            socket.create_connection((address, port), timeout=3).close()
            return True
        except OSError:
            return False

    def host_address(self, project="tasklist"):
        """The address of the project's one running instance (its container), as the backer tagged it."""
        reservations = self.ec2.describe_instances(
            Filters=[{"Name": "tag:Project", "Values": [project]},
                     {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"]
        instances = [instance for reservation in reservations for instance in reservation["Instances"]]
        assert len(instances) == 1
        return {tag["Key"]: tag["Value"] for tag in instances[0]["Tags"]}["SandboxAddress"]

    def tagged(self, environment="dev", project="tasklist"):
        """{resource type: [ids]} of everything carrying the identity tags, by plain boto3 calls."""
        identity = dict(IDENTITY, Project=project, Environment=environment)
        filters = [{"Name": f"tag:{k}", "Values": [v]} for k, v in identity.items()]
        ec2 = self.ec2
        live = [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
        found = {
            "instance": [i["InstanceId"] for r in ec2.describe_instances(Filters=filters + live)["Reservations"]
                         for i in r["Instances"]],
            "volume": [v["VolumeId"] for v in ec2.describe_volumes(Filters=filters)["Volumes"]],
            "nat_gateway": [n["NatGatewayId"] for n in ec2.describe_nat_gateways(Filter=filters)["NatGateways"]
                            if n["State"] not in ("deleted", "deleting")],
            "elastic_ip": [a["AllocationId"] for a in ec2.describe_addresses(Filters=filters)["Addresses"]],
            "security_group": [g["GroupId"] for g in ec2.describe_security_groups(Filters=filters)["SecurityGroups"]],
            "route_table": [t["RouteTableId"] for t in ec2.describe_route_tables(Filters=filters)["RouteTables"]],
            "subnet": [s["SubnetId"] for s in ec2.describe_subnets(Filters=filters)["Subnets"]],
            "internet_gateway": [g["InternetGatewayId"]
                                 for g in ec2.describe_internet_gateways(Filters=filters)["InternetGateways"]],
            "vpc": [v["VpcId"] for v in ec2.describe_vpcs(Filters=filters)["Vpcs"]],
            "key_pair": [k["KeyPairId"] for k in ec2.describe_key_pairs(Filters=filters)["KeyPairs"]],
        }
        return {kind: ids for kind, ids in found.items() if ids}


# The test sandboxes wait briefly where AWS makes a host wait: a new host's first-boot package job
# holds dpkg for 1 s (not 20), a terminated host's interface lingers 1 s (not 10). The tests that
# prove the product survives those waits ask for realistic ones by the hosts' tags
# (SandboxFirstBootAptSeconds, SandboxLingerSeconds).
SHORT_WAITS = {"SANDBOX_FIRST_BOOT_APT_SECONDS": "1", "SANDBOX_LINGER_SECONDS": "1"}


def _sandboxctl(command):
    env = {**SHORT_WAITS, **os.environ, "SANDBOX_PORT": PORT, "SANDBOX_DIR": str(STATE)}
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "sandbox" / "sandboxctl.py"), command],
                   env=env, check=True, timeout=900)  # a cold machine builds the images first


@pytest.fixture(scope="session")
def sandbox_env():
    _sandboxctl("up")
    try:
        yield read_env_file(STATE / "env")
    finally:
        _sandboxctl("down")


def reset_cloud(env):
    request = urllib.request.Request(f"{env['AWS_ENDPOINT_URL']}/moto-api/reset", method="POST")
    # The reset answers once the backer has removed the hosts: a host with a built app and its
    # images took more than 10 s to remove on a loaded machine.
    urllib.request.urlopen(request, timeout=180).close()


@pytest.fixture
def sandbox(sandbox_env, tmp_path):
    """An empty cloud for one test."""
    reset_cloud(sandbox_env)
    return Sandbox(sandbox_env, tmp_path)


@pytest.fixture(scope="module")
def module_sandbox(sandbox_env, tmp_path_factory):
    """An empty cloud shared by the tests of one module (for expensive setups)."""
    reset_cloud(sandbox_env)
    return Sandbox(sandbox_env, tmp_path_factory.mktemp("sandbox"))


@pytest.fixture(scope="session")
def installed_collection(tmp_path_factory):
    """The built tarball, installed into a collections path of its own, as a Galaxy user gets it."""
    work = tmp_path_factory.mktemp("galaxy")
    subprocess.run(["ansible-galaxy", "collection", "build", "--output-path", str(work)], cwd=ROOT,
                   check=True, capture_output=True)
    tarball = next(work.glob("shipyard-ec2_compose-*.tar.gz"))
    collections = work / "collections"
    subprocess.run(["ansible-galaxy", "collection", "install", "--offline", "--no-deps", "-p", str(collections),
                    str(tarball)], cwd=work, check=True, capture_output=True)
    return collections


@pytest.fixture
def fault_proxy():
    """The sandbox's fault-injecting proxy class (see sandbox/fault_proxy.py)."""
    return FaultProxy
