"""The progress callback on a real run of ansible-playbook: a line per play, per change, per wait (said
while it waits) and per failure; the debug messages; nothing for unchanged or skipped tasks; a line
per host at the end."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]

PLAY = """
- name: A play of every kind of task
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Change something
      ansible.builtin.command: "true"
      notify: Restart something
    - name: Change nothing
      ansible.builtin.command: "true"
      changed_when: false
    - name: Skip this
      ansible.builtin.command: "true"
      when: false
    - name: Wait a moment
      ansible.builtin.wait_for:
        timeout: 3
    - name: Wait until it passes
      ansible.builtin.command: "true"
      register: retried
      until: retried.attempts > 1
      retries: 2
      delay: 3
      changed_when: false
    - name: Wait for nothing
      ansible.builtin.wait_for:
        timeout: 0
    - name: Create something AWS may refuse once
      ansible.builtin.command: "true"
      register: created
      until: created.rc == 0
      changed_when: false
    - name: Report each item
      ansible.builtin.debug:
        msg: "item {{ item }}"
      loop: [1, 2]
    - name: Say where the app is
      ansible.builtin.debug:
        msg: {web: "http://203.0.113.7/"}
    - name: Fail and be rescued
      block:
        - name: Fail on purpose
          ansible.builtin.command: sh -c 'echo the reason >&2; exit 3'
      rescue:
        - name: Go on
          ansible.builtin.debug:
            msg: rescued
  handlers:
    - name: Restart something
      ansible.builtin.command: "true"
"""


def run(folder, callback="shipyard.ec2_compose.progress"):
    (folder / "play.yml").write_text(PLAY)
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", str(folder / "play.yml")], cwd=ROOT,
                          env={**os.environ, "ANSIBLE_STDOUT_CALLBACK": callback,
                               "ANSIBLE_NOCOLOR": "1"},
                          capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode, proc.stdout  # warnings (the environment's, not the run's) go to stderr


@pytest.fixture(scope="module")
def progress(tmp_path_factory):
    """The play's output with the progress callback (one run: its waits take seconds)."""
    return run(tmp_path_factory.mktemp("progress"))


def test_a_line_per_play_change_wait_failure_and_host(progress):
    rc, output = progress
    assert rc == 0, output
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith("[WARNING]")]
    assert "== A play of every kind of task" in lines
    assert "   changed Change something [localhost]" in lines and "   changed Restart something [localhost]" in lines
    assert not [line for line in lines if "Callback dispatch" in line]
    assert "   ... waiting: Wait a moment" in lines and "   ... waiting: Wait until it passes" in lines
    assert not [line for line in lines if "waiting: Create something" in line]  # retried, but no wait
    assert not [line for line in lines if "waiting: Wait for nothing" in line]  # it waited for nothing
    assert "   Report each item:" in lines and "     item 1" in lines and "     item 2" in lines
    assert "   Say where the app is:" in lines and '       "web": "http://203.0.113.7/"' in lines
    assert "   FAILED  Fail on purpose [localhost]:" in lines and "     the reason" in lines
    assert "   Go on:" in lines and "     rescued" in lines
    assert lines[-2].startswith("localhost: ok=") and "changed=2" in lines[-2] and lines[-1].startswith("done in ")
    assert not [line for line in lines if "Change nothing" in line or "Skip this" in line]


def test_it_prints_far_less_than_the_default_output(progress, tmp_path):
    default = run(tmp_path, "ansible.builtin.default")[1].count("\n")
    assert progress[1].count("\n") * 2 < default, (progress[1], default)
