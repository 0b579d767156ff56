"""Serve the example app to the sandbox's instances over git://, as a real network clone.

``publish`` makes a bare repository <state>/git/<name>.git of each app under examples/: the Task List
with tag v1.0.0 (VERSION 1.0.0) and tag v1.1.0 (the tree as it is, VERSION 1.1.0), so that a redeploy
to another version can be tested, and tag v1.2.0-broken on branch "broken" (its API exits at start),
so that a failed deploy and its rollback can be; the Guestbook with its tree as it is, tagged after
its VERSION.
``start`` runs ``git daemon`` on the Docker bridge's address (where the containers reach
this machine, and only they), its PID kept in <state>/git-daemon.pid.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import processes

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# example -> the versions published, one commit and tag each; the last one is the tree as it is
VERSIONS = {"tasklist": ("1.0.0", "1.1.0"), "guestbook": (None,)}  # None: the tree's own VERSION
REPO_NAME = "tasklist.git"  # what the sandbox's environment deploys (SHIPYARD_APP_REPO)


# example -> (the file a broken version breaks, the version it gets); on a branch of its own
BROKEN = {"tasklist": ("api/app.py", "1.2.0-broken")}


def publish(state_dir):
    for example, versions in VERSIONS.items():
        publish_one(EXAMPLES / example, versions, Path(state_dir) / "git" / f"{example}.git",
                    BROKEN.get(example))


def publish_one(source, versions, target, broken=None):
    git_env = {**os.environ, "GIT_AUTHOR_NAME": "shipyard sandbox", "GIT_AUTHOR_EMAIL": "sandbox@localhost",
               "GIT_COMMITTER_NAME": "shipyard sandbox", "GIT_COMMITTER_EMAIL": "sandbox@localhost"}
    with tempfile.TemporaryDirectory(prefix="sandbox-app-") as work:
        def git(*args):
            subprocess.run(["git", "-C", work, *args], check=True, capture_output=True, env=git_env)

        git("init", "--quiet", "--initial-branch", "main")
        for wanted in versions:
            shutil.copytree(source, work, dirs_exist_ok=True)
            if wanted:
                (Path(work) / "VERSION").write_text(wanted + "\n", encoding="utf-8")
            version = (Path(work) / "VERSION").read_text(encoding="utf-8").strip()
            git("add", "--all")
            git("commit", "--quiet", "--allow-empty", "--message", f"{source.name} {version}")
            git("tag", f"v{version}")
        if broken:
            path, version = broken
            git("checkout", "--quiet", "-b", "broken")
            program = Path(work) / path
            program.write_text('raise SystemExit("broken on purpose")\n' + program.read_text(encoding="utf-8"),
                               encoding="utf-8")
            (Path(work) / "VERSION").write_text(version + "\n", encoding="utf-8")
            git("commit", "--quiet", "--all", "--message", f"{source.name} {version}")
            git("tag", f"v{version}")
            git("checkout", "--quiet", "main")
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "--quiet", "--bare", work, str(target)], check=True, capture_output=True)
    return target


def running_pid(state_dir):
    """The git daemon of this sandbox, if its PID file names one that still runs."""
    try:
        pid = int((Path(state_dir) / "git-daemon.pid").read_text())
    except (FileNotFoundError, ValueError):
        return None
    return pid if processes.runs(pid, "git", f"--base-path={Path(state_dir) / 'git'}") else None


def listening(address, port):
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((address, port)) == 0


def start(state_dir, port, address):
    """Publish the example and serve it on address:port; returns the URL the instances clone from."""
    publish(state_dir)
    if not running_pid(state_dir):
        log_path = Path(state_dir) / "git-daemon.log"
        log = open(log_path, "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(
            ["git", "daemon", "--reuseaddr", "--export-all", f"--listen={address}", f"--port={port}",
             f"--base-path={Path(state_dir) / 'git'}", str(Path(state_dir) / "git")],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        (Path(state_dir) / "git-daemon.pid").write_text(str(proc.pid))
        deadline = time.monotonic() + 10
        while not listening(address, port):
            if proc.poll() is not None or time.monotonic() > deadline:
                stop(state_dir)
                sys.exit(f"the git daemon did not start on {address}:{port}; see {log_path}")
            time.sleep(0.1)
    return f"git://{address}:{port}/{REPO_NAME}"


def stop(state_dir):
    pid = running_pid(state_dir)
    if pid:
        os.killpg(pid, signal.SIGTERM)  # its own session (start_new_session): git and its git-daemon child
    (Path(state_dir) / "git-daemon.pid").unlink(missing_ok=True)
    return pid
