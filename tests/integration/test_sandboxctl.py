"""`sandboxctl up` / `down` on their own port and state directory (emulator only, no backer): never
two emulators, none orphaned, whatever ran before."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("SANDBOX_PORT", "5055")) + 40  # beside the sandboxes of the suite's workers


@pytest.fixture
def ctl(tmp_path):
    state = tmp_path / "sandbox"
    env = dict(os.environ, SANDBOX_PORT=str(PORT), SANDBOX_DIR=str(state), SANDBOX_BACKER="0")

    def run(command, check=True):
        proc = subprocess.run([sys.executable, str(ROOT / "sandbox" / "sandboxctl.py"), command], env=env,
                              capture_output=True, text=True, timeout=180, check=False)
        assert proc.returncode == 0 or not check, proc.stdout + proc.stderr
        return proc

    run.state = state
    run.env = env
    yield run
    run("down", check=False)


def emulators(state):
    """PIDs of the launchers serving this state directory, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part.endswith(b"moto_launcher.py") for part in command) and str(state).encode() in command:
            found.append(int(entry.name))
    return found


def test_up_twice_keeps_one_emulator_and_down_leaves_none(ctl):
    ctl("up")
    first = emulators(ctl.state)
    assert len(first) == 1
    again = ctl("up")
    assert "already up" in again.stdout
    assert emulators(ctl.state) == first
    ctl("down")
    assert emulators(ctl.state) == []


def test_up_after_a_killed_up_recognises_its_emulator(ctl):
    # Kill `up` as soon as its emulator exists, and lose the PID file too: the worst case.
    starting = subprocess.Popen([sys.executable, str(ROOT / "sandbox" / "sandboxctl.py"), "up"], env=ctl.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not emulators(ctl.state):
        assert time.monotonic() < deadline, "the emulator never started"
        time.sleep(0.1)
    starting.send_signal(signal.SIGKILL)
    starting.wait()
    (ctl.state / "emulator.pid").unlink(missing_ok=True)

    ctl("up")
    assert len(emulators(ctl.state)) == 1
    assert int((ctl.state / "emulator.pid").read_text()) == emulators(ctl.state)[0]
    ctl("down")
    assert emulators(ctl.state) == []


def test_a_busy_port_is_refused_without_starting_anything(ctl):
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", PORT))
        other.listen()
        refused = ctl("up", check=False)
    assert refused.returncode == 1
    assert f"port {PORT} is taken by another program" in refused.stderr
    assert emulators(ctl.state) == []


def test_liveness_does_not_read_the_emulators_state(ctl):
    # The probe is /sandbox-api/ping, not /moto-api/data.json (which serialises the whole emulator).
    ctl("up")
    log = ctl.state / "emulator.log"
    assert "data.json" not in log.read_text() and "/sandbox-api/ping" in log.read_text()
    assert ctl("status").stdout.startswith("sandbox emulator: up on")
