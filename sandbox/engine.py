"""Make sure the sandbox's host side can run: a Docker engine that answers, and debootstrap.

    python sandbox/engine.py up    # idempotent

When `docker info` fails, this installs what is missing from the distribution (docker.io,
debootstrap; needs root and apt) and starts `dockerd` in the background, its PID kept in
<state>/dockerd.pid. An engine that already runs is used as it is and never stopped by us.
"""

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("SANDBOX_DIR", ROOT / ".sandbox"))
PACKAGES = {"dockerd": "docker.io", "debootstrap": "debootstrap", "git": "git"}


def docker_answers():
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def install_missing():
    missing = sorted({package for command, package in PACKAGES.items() if not shutil.which(command)})
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"the sandbox needs {', '.join(missing)}: install them as root "
                 f"(apt-get install {' '.join(missing)})")
    print(f"installing {', '.join(missing)} from the distribution", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True, env=env)


def start_dockerd():
    STATE.mkdir(parents=True, exist_ok=True)
    log = open(STATE / "dockerd.log", "ab")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen(["dockerd"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    (STATE / "dockerd.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + 60
    while not docker_answers():
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"dockerd did not start; see {STATE / 'dockerd.log'}")
        time.sleep(0.5)
    print(f"Docker engine started (pid {proc.pid})", flush=True)


def bridge_address():
    """The address the containers on Docker's default bridge reach this machine at.

    Docker 20.10 started by hand reports the bridge's Subnet but no Gateway, so: the Gateway when it
    is reported, else the bridge interface's own address, else the subnet's first address (which is
    what Docker gives the bridge).
    """
    found = subprocess.run(["docker", "network", "inspect", "bridge", "--format", "{{json .}}"],
                           capture_output=True, text=True, check=True)
    network = json.loads(found.stdout)
    configs = (network.get("IPAM") or {}).get("Config") or []
    for config in configs:
        if config.get("Gateway"):
            return config["Gateway"]
    interface = (network.get("Options") or {}).get("com.docker.network.bridge.name", "docker0")
    shown = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", interface],
                           capture_output=True, text=True, check=False)
    address = re.search(r"\binet (\d+\.\d+\.\d+\.\d+)/", shown.stdout)
    if address:
        return address.group(1)
    for config in configs:
        if config.get("Subnet") and ":" not in config["Subnet"]:
            return str(next(ipaddress.ip_network(config["Subnet"]).hosts()))
    sys.exit("cannot find the Docker bridge's address (docker network inspect bridge shows no Gateway or "
             f"Subnet, and `ip addr show {interface}` no IPv4 address)")


def up():
    install_missing()
    if docker_answers():
        return 0
    if os.geteuid() != 0:
        sys.exit("no Docker engine answers `docker info`: start one, or run this as root to let it start dockerd")
    start_dockerd()
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["up"]:
        sys.exit(f"usage: {sys.argv[0]} up")
    sys.exit(up())
