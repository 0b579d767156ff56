"""The docker role's first-boot script (entry point user_data) is rendered from the same table
as its main entry point (vars/main.yml docker_sources): every platform of an install source gets
exactly that table's packages, Debian 12 its trixie pin, and the script passes bash -n and shellcheck."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
TABLE = yaml.safe_load((ROOT / "roles" / "docker" / "vars" / "main.yml").read_text())
PLAY = """
- name: Render the docker role's first-boot script
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Render
      ansible.builtin.include_role:
        name: shipyard.ec2_compose.docker
        tasks_from: user_data
      vars:
        docker_users: [admin]
    - name: Write it out
      ansible.builtin.copy:
        content: "{{ docker_user_data }}"
        dest: "{{ script_path }}"
        mode: "0644"
"""


@pytest.fixture(scope="module", params=sorted(TABLE["docker_sources"]))
def rendered(request, tmp_path_factory):
    source = request.param
    folder = tmp_path_factory.mktemp(source)
    (folder / "render.yml").write_text(PLAY)
    script = folder / "install.sh"
    subprocess.run(["ansible-playbook", "-i", "localhost,", str(folder / "render.yml"), "-e",
                    f"script_path={script}", "-e", f"docker_install_source={source}"],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    return source, script.read_text()


def case_arms(script):
    """{pattern: body} of the script's case over "$ID-<major version>"."""
    return dict(re.findall(r"(?ms)^  ([a-z0-9*-]+)\)\n(.*?);;", script))


def test_every_platform_of_the_table_gets_exactly_its_packages(rendered):
    source, script = rendered
    arms = case_arms(script)
    for platform, selected in TABLE["docker_sources"][source].items():
        body = arms.pop(platform.lower())
        listed = re.search(r'packages="([^"]*)"', body).group(1).split()
        assert listed == selected["packages"] + TABLE["docker_common_packages"], platform
        assert ("Pin: release n=trixie" in body) == ("pinned_release" in selected), platform
        assert ("download.docker.com" in body) == bool(selected.get("repository")), platform
    assert list(arms) == ["*"]  # any other platform: the same refusal as the role's select.yml
    assert "exit 1" in arms["*"]
    assert "usermod -aG docker admin" in script


def test_the_script_is_valid_bash(rendered):
    _source, script = rendered
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed (make sanity needs it)")
def test_the_script_passes_shellcheck(rendered):
    _source, script = rendered
    run = subprocess.run(["shellcheck", "-"], input=script, text=True, capture_output=True, check=False)
    assert run.returncode == 0, run.stdout
