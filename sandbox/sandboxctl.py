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

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import backer
import engine
import git_server
import images

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("SANDBOX_DIR", ROOT / ".sandbox"))
PID_FILE = STATE / "emulator.pid"
PORT = int(os.environ.get("SANDBOX_PORT", "5000"))
URL = f"http://127.0.0.1:{PORT}"
REGION = "us-east-1"
WITH_BACKER = os.environ.get("SANDBOX_BACKER", "1") != "0"
GIT_PORT = int(os.environ.get("SANDBOX_GIT_PORT", PORT + 4418))


def env_exports(app_repo):
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
        # built from the preloaded base image (no registry). The same knobs work on AWS.
        "SHIPYARD_AMI": "debian-13",
        "SHIPYARD_APP_REPO": app_repo,
        "SHIPYARD_APP_BASE_IMAGE": images.base_image(images.PRELOADED_SUITE),
        "SHIPYARD_APP_PRELOAD_IMAGES": f"{backer.PRELOAD_MOUNT}/debian-{images.PRELOADED_SUITE}.tar",
        # Every sandbox instance is new and Docker reuses addresses: remember no host key.
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null "
                            "-o StrictHostKeyChecking=no -o LogLevel=ERROR",
    }
    return "".join(f'export {key}="{value}"\n' for key, value in exports.items())


def running_pid():
    try:
        pid = int(PID_FILE.read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid


def answers():
    try:
        with urllib.request.urlopen(f"{URL}/moto-api/data.json", timeout=2):
            return True
    except OSError:
        return False


def up():
    STATE.mkdir(parents=True, exist_ok=True)
    app_repo = ""
    if WITH_BACKER:
        engine.up()
        images.build()
        app_repo = git_server.start(STATE, GIT_PORT)
    (STATE / "env").write_text(env_exports(app_repo), encoding="utf-8")
    if running_pid() and answers():
        print(f"sandbox already up on {URL} (pid {running_pid()})")
        return 0
    if answers():
        print(f"port {PORT} already answers but not from this sandbox: set SANDBOX_PORT", file=sys.stderr)
        return 1
    log = open(STATE / "emulator.log", "ab")  # noqa: SIM115 - handed to the child process
    backer_flag = ["--backer"] if WITH_BACKER else []
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "sandbox" / "moto_launcher.py"), "--port", str(PORT), "--state-dir", str(STATE),
         *backer_flag],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    PID_FILE.write_text(str(proc.pid))
    deadline = time.monotonic() + 60
    while not answers():
        if proc.poll() is not None or time.monotonic() > deadline:
            print(f"the emulator did not start; see {STATE / 'emulator.log'}", file=sys.stderr)
            down()
            return 1
        time.sleep(0.2)
    print(f"sandbox up on {URL} (pid {proc.pid}); run: . .sandbox/env")
    return 0


def down():
    pid = running_pid()
    if pid:
        os.kill(pid, signal.SIGTERM)
        for _attempt in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
        print(f"sandbox emulator stopped (pid {pid})")
    else:
        print("sandbox emulator is not running")
    PID_FILE.unlink(missing_ok=True)
    removed = backer.remove_all(STATE)
    if removed:
        print(f"removed {removed} instance container(s)")
    if git_server.stop(STATE):
        print("git daemon stopped")
    return 0


def reset():
    request = urllib.request.Request(f"{URL}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
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
    print(f"sandbox emulator: {'up on ' + URL + f' (pid {pid})' if pid and answers() else 'down'}")
    return 0 if pid else 3


if __name__ == "__main__":
    commands = {"up": up, "down": down, "reset": reset, "status": status, "urls": urls}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(commands)}")
    sys.exit(commands[sys.argv[1]]())
