"""requires_ansible is what we prove: the lowest ansible-core that meta/runtime.yml claims runs the
collection's unit tests (not the sandbox's) and a provision --check against the sandbox, in a venv
of its own (the collections of the `ansible` package, boto3 and the test tools at the versions of
constraints.txt). That venv is kept outside the clone, one per package list, so that a new clone
does not build it again."""

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FLOOR = re.fullmatch(r">=\s*([\d.]+)", yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
                     ["requires_ansible"]).group(1)
# What the unit tests import besides ansible-core; versions from constraints.txt.
PACKAGES = ["boto3", "botocore", "netaddr", "pytest", "PyYAML", "parliament", "Jinja2", "moto[server]"]
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shipyard-ec2_compose"


def pinned(name):
    """name (with its extras) at the version constraints.txt pins."""
    base, extras = [*name.split("[", 1), ""][:2]
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.lower().startswith(base.lower() + "=="):
            return base + (f"[{extras}" if extras else "") + line[len(base):]
    return name


def floor_venv():
    """The floor's venv: its directory is named after the packages it holds."""
    wanted = " ".join([f"ansible-core=={FLOOR}", *[pinned(name) for name in PACKAGES], pinned("ansible")])
    return CACHE / f"ansible-core-{FLOOR}-{hashlib.sha256(wanted.encode()).hexdigest()[:12]}", wanted


VENV, WANTED = floor_venv()


@pytest.fixture(scope="module")
def floor_env():
    python = VENV / "bin" / "python"
    marker = VENV / ".installed"  # written last: an interrupted install starts anew
    if not marker.exists() or marker.read_text() != WANTED:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True, timeout=300)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"ansible-core=={FLOOR}",
                        *[pinned(name) for name in PACKAGES]], check=True, timeout=600)
        # amazon.aws, community.docker...: the collections that the `ansible` package brings, without
        # the newer ansible-core it asks for.
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", pinned("ansible")],
                       check=True, timeout=600)
        marker.write_text(WANTED)
    version = subprocess.run([str(VENV / "bin" / "ansible"), "--version"], capture_output=True, text=True,
                             check=True).stdout
    assert f"core {FLOOR}]" in version, version
    return {"PATH": f"{VENV / 'bin'}:{os.environ['PATH']}"}


def floor_only(floor_env):
    """This environment with the floor's PATH, minus the options meant for this session's pytest."""
    return {**{k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}, **floor_env}


def test_the_unit_tests_pass_on_the_lowest_ansible_core_claimed(floor_env):
    run = subprocess.run([str(VENV / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/unit", "--ignore=tests/unit/sandbox"], cwd=ROOT, env=floor_only(floor_env),
                         capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_provision_check_runs_on_the_lowest_ansible_core_claimed(sandbox, floor_env):
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/provision.yml", "--check", extra_env=floor_env)
    assert "tasklist/dev in us-east-1: t3.micro" in run.output
    assert sandbox.mutating_since(mark) == []
