"""Each role says what it hands on: the facts it sets that the playbooks read are listed under
"## Outputs" in its README, and each name listed there is one the role sets (a set_fact, a registered
result, or a role var)."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(path.name for path in (ROOT / "roles").iterdir() if path.is_dir())
PLAYBOOKS = "\n".join(path.read_text() for path in sorted((ROOT / "playbooks").rglob("*.yml")))


def tasks_of(tasks):
    """Every task, those inside blocks too."""
    for task in tasks or []:
        for section in ("block", "rescue", "always"):
            yield from tasks_of(task.get(section))
        yield task


def produced(role):
    """The names the role sets: set_fact keys, registered results, vars/main.yml."""
    names = set()
    for path in (ROOT / "roles" / role / "tasks").glob("*.yml"):
        for task in tasks_of(yaml.safe_load(path.read_text())):
            names |= set(task.get("ansible.builtin.set_fact") or {}) - {"cacheable"}
            names |= {task["register"]} if "register" in task else set()
    role_vars = ROOT / "roles" / role / "vars" / "main.yml"
    return names | set(yaml.safe_load(role_vars.read_text()) or {} if role_vars.exists() else {})


def inputs(role):
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return {name for spec in specs.values() for name in spec.get("options", {})}


def outputs(role):
    """The names listed under "## Outputs" in the role's README: each item's backticked names before its
    colon, but those in parentheses (the entry point that sets them)."""
    readme = (ROOT / "roles" / role / "README.md").read_text()
    section = readme.split("\n## Outputs\n", 1)[1].split("\n## ", 1)[0] if "\n## Outputs\n" in readme else ""
    items = [re.sub(r"\(.*?\)", "", item) for item in re.findall(r"^- (.*?):", section, re.MULTILINE)]
    return {name for item in items for name in re.findall(r"`(\w+)`", item)}


@pytest.mark.parametrize("role", ROLES)
def test_what_the_playbooks_read_of_a_role_is_a_documented_output(role):
    read = {name for name in produced(role) - inputs(role) if re.search(rf"\b{name}\b", PLAYBOOKS)}
    assert sorted(read - outputs(role)) == []


@pytest.mark.parametrize("role", ROLES)
def test_each_documented_output_is_set_by_the_role(role):
    assert sorted(outputs(role) - produced(role)) == []


def test_the_roles_document_outputs():
    assert sum(len(outputs(role)) for role in ROLES) > 20
