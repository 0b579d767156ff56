"""Run a module of this collection as Ansible runs it on a host: its arguments in a file, its
result as JSON on stdout."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MODULES = Path(__file__).resolve().parents[4] / "plugins" / "modules"


@pytest.fixture
def run_module(tmp_path):
    def run(name, **args):
        arguments = tmp_path / f"{name}-args.json"
        arguments.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        proc = subprocess.run([sys.executable, str(MODULES / f"{name}.py"), str(arguments)], capture_output=True,
                              text=True, timeout=60, check=False, env=dict(os.environ, PYTHONPATH=":".join(sys.path)))
        return json.loads(proc.stdout)
    return run
