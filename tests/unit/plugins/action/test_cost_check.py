"""The cost_check action plugin, run by ansible-playbook: a planned stack priced from the table in the
controller's process (no module process, no AWS call); the deployed mode, live prices and a task
with an environment of its own go to the module."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[4]
MODULE_STARTED = "AnsiballZ_cost_check.py"  # -vvv names the module's payload when one is sent


def run_gate(tmp_path, task_args, task_extra=None, region="us-east-1"):
    defaults = {"group/shipyard.ec2_compose.aws": {"region": region}} if region else {}
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "module_defaults": defaults,
             "tasks": [{"shipyard.ec2_compose.cost_check": task_args, "register": "gate", **(task_extra or {})},
                       {"ansible.builtin.debug": {"msg": "summary={{ gate.summary }}"}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(ANSIBLE_CALLBACK_RESULT_FORMAT="json", ANSIBLE_NOCOLOR="1")  # a message on one line
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-vvv", "-i", "localhost,",
               "-e", f"ansible_python_interpreter={sys.executable}", str(tmp_path / "play.yml")]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_a_planned_stack_is_priced_without_a_module_process(tmp_path):
    run = run_gate(tmp_path, {"instance_type": "t3.micro", "budget": 25, "budget_name": "monthly_budget"})
    assert run.returncode == 0, run.stdout[-3000:]
    assert ("summary=11.88 USD/month in us-east-1 at full price; 11.88 under free tier none (prices of 2025-10-01, "
            "table); monthly_budget 25 USD: within") in run.stdout
    assert MODULE_STARTED not in run.stdout


def test_over_budget_fails_in_process_with_the_line_items(tmp_path):
    run = run_gate(tmp_path, {"instance_type": "t3.micro", "budget": 5, "budget_name": "monthly_budget"})
    assert run.returncode != 0
    assert "is over monthly_budget (5 USD) in us-east-1" in run.stdout
    assert MODULE_STARTED not in run.stdout


def test_the_deployed_mode_runs_the_module(tmp_path):
    run = run_gate(tmp_path, {"mode": "deployed"})  # no select: the module refuses before any AWS call
    assert run.returncode != 0
    assert "select must name the tags of the resources to price" in run.stdout
    assert MODULE_STARTED in run.stdout


def test_a_task_environment_goes_to_the_module_which_sees_it(tmp_path):
    run = run_gate(tmp_path, {"instance_type": "t3.micro"}, {"environment": {"AWS_DEFAULT_REGION": "eu-west-3"}},
                   region=None)
    assert MODULE_STARTED in run.stdout
    assert run.returncode == 0, run.stdout[-3000:]
    assert "summary=13.01 USD/month in eu-west-3" in run.stdout  # the region of the task's environment
