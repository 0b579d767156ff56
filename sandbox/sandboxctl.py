"""Start, stop and reset the sandbox cloud, tracked by PID and container id.

    python sandbox/sandboxctl.py up      # idempotent: starts what is not running
    python sandbox/sandboxctl.py down    # idempotent: stops what `up` started, by PID / container id
    python sandbox/sandboxctl.py reset   # empties the emulator (POST /moto-api/reset); the backer
                                         # then removes the instances' containers
    python sandbox/sandboxctl.py status
    python sandbox/sandboxctl.py urls    # the page and API URLs of the running instances

The sandbox is: the AWS emulator (moto_launcher.py) with its backer (backer.py: a container for
every running instance), the Docker engine and images these need (engine.py, images.py), and a git
daemon serving the example app to the instances (git_server.py). SANDBOX_BACKER=0 leaves the host
side out: instances are then records only, and no Docker engine is needed.

`up` writes .sandbox/env: the exports that point ansible, boto3 and the aws CLI at the sandbox.
The port comes from SANDBOX_PORT (default 5000; the git daemon uses SANDBOX_PORT + 4418), the state
directory from SANDBOX_DIR (default .sandbox/): the tests run a sandbox of their own beside the
user's this way.
"""

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import backer
import engine
import git_server
import images
import processes

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("SANDBOX_DIR", ROOT / ".sandbox")).resolve()
PID_FILE = STATE / "emulator.pid"
PORT = int(os.environ.get("SANDBOX_PORT", "5000"))
URL = f"http://127.0.0.1:{PORT}"
REGION = "us-east-1"
WITH_BACKER = os.environ.get("SANDBOX_BACKER", "1") != "0"
GIT_PORT = int(os.environ.get("SANDBOX_GIT_PORT", PORT + 4418))
# The engine and the images are shared by every sandbox of this checkout: two starting at once (the
# test workers) take turns, so that one engine starts and each image is built and saved once.
HOST_SIDE_LOCK = ROOT / ".sandbox" / "host-side.lock"


def acme_exports():
    """The ACME CA's directory, the root its directory's TLS certificate needs, and a CA bundle with
    the root its certificates chain to (the controller's SSL_CERT_FILE: a browser that trusts it)."""
    deadline = time.monotonic() + 60
    while not (STATE / "acme.json").exists():
        if time.monotonic() > deadline:
            print(f"the ACME CA did not start; see {STATE / 'backer.log'}", file=sys.stderr)
            return {}
        time.sleep(0.3)
    acme = json.loads((STATE / "acme.json").read_text(encoding="utf-8"))
    return {"SHIPYARD_ACME_CA": acme["directory"], "SHIPYARD_ACME_CA_ROOT": acme["tls_root"],
            "SSL_CERT_FILE": acme["bundle"]}


def write_env(app_repo):
    extra = acme_exports() if WITH_BACKER else {}
    (STATE / "env").write_text(env_exports(app_repo, extra), encoding="utf-8")


def env_exports(app_repo, extra=None):
    venv_bin = Path(sys.executable).parent
    exports = {
        "AWS_ENDPOINT_URL": URL,
        "AWS_ACCESS_KEY_ID": "sandbox",
        "AWS_SECRET_ACCESS_KEY": "sandbox",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "ANSIBLE_INVENTORY": str(ROOT / "inventory" / "sandbox.aws_ec2.yml"),
        "SANDBOX_REQUEST_LOG": str(STATE / "requests.log"),
        "PATH": f"{venv_bin}:$PATH",
        # What the sandbox's instances run: Debian 13, the example app from the sandbox's git daemon,
        # built from the preloaded app base image (no registry). The same knobs work on AWS.
        "SHIPYARD_AMI": "debian-13",
        "SHIPYARD_APP_REPO": app_repo,
        "SHIPYARD_APP_BASE_IMAGE": images.app_base_image(),
        # "My IP" for admin_cidrs: the sandbox answers with the address the hosts see this machine at.
        "SHIPYARD_MY_IP_URL": f"{URL}/sandbox-api/checkip",
        "SHIPYARD_APP_PRELOAD_IMAGES": f"{backer.PRELOAD_MOUNT}/{images.preloaded_tarball()}",
        # Every sandbox instance is new and Docker reuses addresses: remember no host key.
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null "
                            "-o StrictHostKeyChecking=no -o LogLevel=ERROR",
        **(extra or {}),
    }
    return "".join(f'export {key}="{value}"\n' for key, value in exports.items())


def ping():
    """Who answers on PORT: the launcher's identity {"pid", "state_dir", ...}, {} for another server,
    None for nobody. Cheap: it does not serialise the emulator's state."""
    try:
        with urllib.request.urlopen(f"{URL}/sandbox-api/ping", timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError:
        return {}  # something answers HTTP there, but not our launcher
    except (OSError, ValueError):
        pass
    with socket.socket() as probe:
        probe.settimeout(2)
        return {} if probe.connect_ex(("127.0.0.1", PORT)) == 0 else None


def is_ours(identity):
    return bool(identity) and identity.get("state_dir") == str(STATE)


def is_emulator(pid):
    """True when pid is alive and is this sandbox's launcher (a stale PID file may name another process)."""
    return processes.runs(pid, "moto_launcher.py", str(STATE))


def running_pid():
    """The emulator of this sandbox: from the PID file, else found among the processes (an interrupted
    `up` may have started it without keeping its PID)."""
    try:
        pid = int(PID_FILE.read_text())
        if is_emulator(pid):
            return pid
    except (FileNotFoundError, ValueError):
        pass
    found = processes.find("moto_launcher.py", str(STATE))
    return found[0] if found else None


def wait_until_it_answers(alive, deadline):
    """True once the emulator answers as this sandbox's; False if alive() says it died, or at the deadline."""
    while not is_ours(ping()):
        if not alive() or time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


def stop_process(pid):
    try:
        os.kill(pid, signal.SIGTERM)
        for _attempt in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def up():
    STATE.mkdir(parents=True, exist_ok=True)
    app_repo, controller_address = "", "127.0.0.1"
    if WITH_BACKER:
        HOST_SIDE_LOCK.parent.mkdir(parents=True, exist_ok=True)
        with HOST_SIDE_LOCK.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            engine.up()
            images.build()
        controller_address = engine.bridge_address()
        app_repo = git_server.start(STATE, GIT_PORT, controller_address)
    (STATE / "env").write_text(env_exports(app_repo), encoding="utf-8")
    pid = running_pid()
    if pid and wait_until_it_answers(lambda: is_emulator(pid), time.monotonic() + 90):
        PID_FILE.write_text(str(pid))  # recovered after an interrupted `up`
        write_env(app_repo)
        print(f"sandbox already up on {URL} (pid {pid})")
        return 0
    if pid:
        print(f"the emulator of this sandbox (pid {pid}) does not answer on {URL}: run sandboxctl down, then up",
              file=sys.stderr)
        return 1
    identity = ping()
    if identity is not None:
        owner = f"the sandbox in {identity['state_dir']}" if identity.get("state_dir") else "another program"
        print(f"port {PORT} is taken by {owner}: stop it, or choose another port with SANDBOX_PORT",
              file=sys.stderr)
        return 1
    if WITH_BACKER and (stale := backer.remove_stale(STATE)):
        print(f"removed {stale} container(s) that an earlier run of this sandbox left")
    (STATE / "acme.json").unlink(missing_ok=True)  # the new emulator's CA writes its own
    log = open(STATE / "emulator.log", "ab")  # noqa: SIM115 - handed to the child process
    backer_flag = ["--backer"] if WITH_BACKER else []
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "sandbox" / "moto_launcher.py"), "--port", str(PORT), "--state-dir", str(STATE),
         "--controller-address", controller_address, *backer_flag],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    PID_FILE.write_text(str(proc.pid))
    # Our own child: poll() it (for a moment after the start, /proc shows it with an empty command line).
    if not wait_until_it_answers(lambda: proc.poll() is None, time.monotonic() + 90):
        print(f"the emulator did not start; see {STATE / 'emulator.log'}", file=sys.stderr)
        stop_process(proc.pid)  # only the one started here
        PID_FILE.unlink(missing_ok=True)
        return 1
    write_env(app_repo)
    print(f"sandbox up on {URL} (pid {proc.pid}); run: . .sandbox/env")
    return 0


def down():
    pid = running_pid()
    if pid:
        stop_process(pid)
        print(f"sandbox emulator stopped (pid {pid})")
    else:
        print("sandbox emulator is not running")
    PID_FILE.unlink(missing_ok=True)
    removed = backer.remove_all(STATE)
    if removed:
        print(f"removed {removed} container(s) (instances and services)")
    if git_server.stop(STATE):
        print("git daemon stopped")
    return 0


def reset():
    request = urllib.request.Request(f"{URL}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=180):  # answers once the backer removed the hosts
        pass
    print("sandbox emptied")
    return 0


def urls():
    """Print the page and API URLs of the sandbox's running instances (their containers' addresses)."""
    import boto3

    ec2 = boto3.client("ec2", endpoint_url=URL, region_name=os.environ.get("AWS_REGION", REGION),
                       aws_access_key_id="sandbox", aws_secret_access_key="sandbox")
    reservations = ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]},
                                                   {"Name": "tag-key", "Values": [backer.ADDRESS_TAG]}])
    for reservation in reservations["Reservations"]:
        for instance in reservation["Instances"]:
            tags = {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}
            address = tags[backer.ADDRESS_TAG]
            print(f"{tags.get('Name', instance['InstanceId'])}: page http://{address}/  "
                  f"api http://{address}:8000/api/tasks")
    return 0


def status():
    pid = running_pid()
    print(f"sandbox emulator: {'up on ' + URL + f' (pid {pid})' if pid else 'down'}")
    return 0 if pid else 3


if __name__ == "__main__":
    commands = {"up": up, "down": down, "reset": reset, "status": status, "urls": urls}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(commands)}")
    sys.exit(commands[sys.argv[1]]())
