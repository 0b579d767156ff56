"""Wall time of the host side in the sandbox, next to the seed's own steps as a shell script.

Run with the sandbox's environment loaded (`make bench` does both). Phases, one after another on an
emptied emulator: provision (a fresh instance, up to SSH answering), configure (Docker + the app on
that fresh host), site.yml re-run (no-op), teardown; then site.yml with deploy_mode user_data (the
host installs and deploys at first boot) up to the app answering. Then the baseline: on an identical fresh
container (the same vm image and settings the backer uses), benchmarks/seed_user_data.sh.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "sandbox"))
from backer import PRELOAD_MOUNT, VM_RUN_OPTIONS  # noqa: E402 - sandbox/ is not a package
from images import IMAGE_DIR, PRELOADED_SUITE, base_image, vm_image  # noqa: E402


def timed(label, command, **kwargs):
    start = time.monotonic()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, **kwargs)
    return label, round(time.monotonic() - start, 1)


def seed_baseline():
    container = subprocess.run(
        ["docker", "run", "--detach", *VM_RUN_OPTIONS, "-v", f"{IMAGE_DIR}:{PRELOAD_MOUNT}:ro",
         vm_image("trixie")], check=True, capture_output=True, text=True).stdout.strip()
    try:
        subprocess.run(["docker", "exec", container, "systemctl", "is-system-running", "--wait"],
                       check=False, capture_output=True)
        script = (ROOT / "benchmarks" / "seed_user_data.sh").read_bytes()
        start = time.monotonic()
        subprocess.run(["docker", "exec", "-i", "-e", f"APP_REPO={os.environ['SHIPYARD_APP_REPO']}",
                        "-e", f"PRELOAD_IMAGE={PRELOAD_MOUNT}/debian-{PRELOADED_SUITE}.tar",
                        "-e", f"BASE_IMAGE={base_image(PRELOADED_SUITE)}", container, "bash", "-s"],
                       input=script, check=True, capture_output=True)
        return "baseline: seed steps as a script", round(time.monotonic() - start, 1)
    finally:
        subprocess.run(["docker", "rm", "--force", "--volumes", container], check=False, capture_output=True)


def main():
    urllib.request.urlopen(urllib.request.Request(os.environ["AWS_ENDPOINT_URL"] + "/moto-api/reset",
                                                  method="POST"), timeout=10).close()
    with tempfile.TemporaryDirectory() as keys:
        # The baseline's container has no first-boot package job: neither has the benched host.
        key = ["-e", f"ssh_key_path={keys}/bench", "-e", '{"extra_tags": {"SandboxFirstBootAptSeconds": "0"}}']
        rows = [
            timed("provision (to SSH answering)", ["ansible-playbook", "playbooks/provision.yml", *key]),
            timed("configure (fresh host)", ["ansible-playbook", "playbooks/configure.yml", *key]),
            timed("site.yml re-run (no-op)", ["ansible-playbook", "playbooks/site.yml", *key]),
            timed("teardown", ["ansible-playbook", "playbooks/teardown.yml", "-e", "teardown_confirm=dev", *key]),
        ]
        # The other way to the same app: the host runs the steps itself at first boot.
        user_data = ["-e", "deploy_mode=user_data"]
        rows.append(timed("user_data: site.yml to the app up", ["ansible-playbook", "playbooks/site.yml",
                                                                *key, *user_data]))
        subprocess.run(["ansible-playbook", "playbooks/teardown.yml", "-e", "teardown_confirm=dev", *key],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    rows.append(seed_baseline())
    baseline = rows[-1][1]
    print(f"{'phase':<40}{'seconds':>9}{'x baseline':>12}")
    for label, seconds in rows:
        print(f"{label:<40}{seconds:>9}{seconds / baseline:>12.2f}")
    # Time to the app up, the two modes side by side (provision's SSH wait included in both).
    print(f"{'configure: provision + configure':<40}{rows[0][1] + rows[1][1]:>9.1f}")


if __name__ == "__main__":
    main()
