"""The molecule scenarios, scheduled with the other end-to-end files on this worker's sandbox:
"aws" (provision -> idempotence -> verify -> teardown against the emulator) and "default" (the docker
and app roles on a Debian 13 and a Debian 12 host -> idempotence -> verify). `make molecule` runs
the same scenarios on a sandbox of their own."""

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("scenario", ["aws", "default"])
def test_molecule_scenario(sandbox, scenario):
    plain = {"PY_COLORS": "0", "NO_COLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    run = subprocess.run(["molecule", "test", "-s", scenario], cwd=ROOT, env={**os.environ, **sandbox.env, **plain},
                         capture_output=True, text=True, timeout=1200, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-8000:]
    # The scenario's idempotence step ran and found nothing to change.
    assert re.search(rf"{scenario} \S+ idempotence: Executed: Successful", output), output[-4000:]
