"""Start, stop and reset the sandbox cloud (the AWS emulator), tracked by PID.

    python sandbox/sandboxctl.py up      # idempotent: starts the emulator unless it runs
    python sandbox/sandboxctl.py down    # idempotent: stops what `up` started, by PID
    python sandbox/sandboxctl.py reset   # empties the emulator (POST /moto-api/reset)
    python sandbox/sandboxctl.py status

`up` writes .sandbox/env: the exports that point ansible, boto3 and the aws CLI at the sandbox.
The port comes from SANDBOX_PORT (default 5000), the state directory from SANDBOX_DIR
(default .sandbox/): the tests run an emulator of their own beside the user's this way.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("SANDBOX_DIR", ROOT / ".sandbox"))
PID_FILE = STATE / "emulator.pid"
PORT = int(os.environ.get("SANDBOX_PORT", "5000"))
URL = f"http://127.0.0.1:{PORT}"
REGION = "us-east-1"


def env_exports():
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
    (STATE / "env").write_text(env_exports(), encoding="utf-8")
    if running_pid() and answers():
        print(f"sandbox already up on {URL} (pid {running_pid()})")
        return 0
    if answers():
        print(f"port {PORT} already answers but not from this sandbox: set SANDBOX_PORT", file=sys.stderr)
        return 1
    log = open(STATE / "emulator.log", "ab")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "sandbox" / "moto_launcher.py"), "--port", str(PORT), "--state-dir", str(STATE)],
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
    return 0


def reset():
    request = urllib.request.Request(f"{URL}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    print("sandbox emptied")
    return 0


def status():
    pid = running_pid()
    print(f"sandbox emulator: {'up on ' + URL + f' (pid {pid})' if pid and answers() else 'down'}")
    return 0 if pid else 3


if __name__ == "__main__":
    commands = {"up": up, "down": down, "reset": reset, "status": status}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(commands)}")
    sys.exit(commands[sys.argv[1]]())
