"""site.yml at the checkout's root: the project's first command works from there."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_site_at_the_root_is_the_playbooks_site():
    assert yaml.safe_load((ROOT / "site.yml").read_text()) == [
        {"name": "Provision and configure", "ansible.builtin.import_playbook": "playbooks/site.yml"}]
    # A static inventory: the default one (aws_ec2.yml) would ask AWS.
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "--syntax-check", "-i", "localhost,", "site.yml"]
    check = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "playbook: site.yml" in check.stdout
