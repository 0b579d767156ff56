"""Role docker's package selection for every distribution and install source, Ubuntu and Docker's
repository included: those paths can only run on AWS, so their selection is checked here with the
host's facts replaced (set_fact ansible_facts), through the role's own tasks/select.yml."""

import json
import os
import subprocess
from pathlib import Path

import pytest

PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - ansible.builtin.set_fact:
        ansible_facts: {distribution: %(distribution)s, distribution_major_version: "%(major)s"}
    - ansible.builtin.include_role:
        name: shipyard.ec2_compose.docker
        tasks_from: select
      vars:
        docker_install_source: %(source)s
    - ansible.builtin.copy:
        content: "{{ docker_selected | to_json }}"
        dest: %(out)s
"""
ROOT = Path(__file__).resolve().parents[2]
DOCKER_CE = ["docker-ce", "docker-ce-cli", "containerd.io", "docker-buildx-plugin", "docker-compose-plugin"]


def select(tmp_path, distribution, major, source):
    out = tmp_path / "selected.json"
    values = {"distribution": distribution, "major": major, "source": source, "out": out}
    (tmp_path / "select.yml").write_text(PLAYBOOK % values)
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", str(tmp_path / "select.yml")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    return proc, (json.loads(out.read_text()) if out.exists() else None)


@pytest.mark.parametrize(("platform", "expected"), [
    (("Ubuntu", 24, "distribution"), (["docker.io", "docker-compose-v2"], None, False)),
    (("Debian", 13, "distribution"), (["docker.io", "docker-cli", "docker-compose"], None, False)),
    (("Debian", 12, "distribution"), (["docker.io", "docker-compose"], "trixie", False)),
    (("Ubuntu", 24, "docker"), (DOCKER_CE, None, True)),
    (("Debian", 13, "docker"), (DOCKER_CE, None, True)),
    (("Debian", 12, "docker"), (DOCKER_CE, None, True)),
])
def test_selection(tmp_path, platform, expected):
    packages, pinned, repository = expected
    proc, selected = select(tmp_path, *platform)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert selected["packages"] == packages
    assert selected.get("pinned_release", {}).get("name") == pinned
    assert selected.get("repository", False) is repository


def test_unknown_distribution_is_refused_by_name(tmp_path):
    proc, selected = select(tmp_path, "Fedora", 41, "distribution")
    assert proc.returncode != 0 and selected is None
    assert "docker_install_source 'distribution' supports Ubuntu-24, Debian-13, Debian-12" in proc.stdout
    assert "this host is Fedora-41" in proc.stdout
