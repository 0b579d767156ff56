"""inventory/group_vars/all.yml, the settings file users copy, says what the collection does: each
setting it shows (commented out) is shown once, with the default that applies: a role input's from the
role's argument spec (which its defaults/main.yml applies, test_role_defaults), a playbook setting's from
every `| default(...)` the playbooks read it with."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
GROUP_VARS = ROOT / "inventory" / "group_vars" / "all.yml"
SETTING = re.compile(r"^# ([a-z][a-z0-9_]*):(?: |$)")  # "# name: value", a commented-out setting
CONTINUED = re.compile(r"^#   ")  # a setting's value over more lines (a list, a mapping)


def shown_settings():
    """[(name, value)] in file order, each value as YAML reads it once uncommented."""
    shown, block = [], []
    for line in [*GROUP_VARS.read_text().splitlines(), ""]:
        if block and CONTINUED.match(line):
            block.append(line[2:])
            continue
        if block:
            (name, value), = yaml.safe_load("\n".join(block)).items()
            shown.append((name, value))
            block = []
        if SETTING.match(line):
            block = [line[2:]]
    return shown


def role_defaults():
    """{input: [default, ...]} over every role's argument specs (a shared input may be in several); an
    input required where it is documented has no default there."""
    found = {}
    for specs in (ROOT / "roles").glob("*/meta/argument_specs.yml"):
        for spec in yaml.safe_load(specs.read_text())["argument_specs"].values():
            for name, option in spec.get("options", {}).items():
                if "default" in option:
                    found.setdefault(name, []).append(option["default"])
    return found


def playbook_defaults(name):
    """The defaults the playbooks read `name` with, as YAML would show them; omit and empty lists are
    "unset", shown as ""."""
    found = set()
    for playbook in (ROOT / "playbooks").rglob("*.yml"):
        for argument in re.findall(rf"\b{name} \| default\(([^,)]+)", playbook.read_text()):
            value = "" if argument.strip() == "omit" else yaml.safe_load(argument)
            found.add(value if value not in ([], None) else "")
    return found


def test_the_file_shows_settings():
    assert len(shown_settings()) > 50


def test_each_setting_is_shown_once():
    names = [name for name, _value in shown_settings()]
    assert sorted({name for name in names if names.count(name) > 1}) == []


def test_each_role_input_shows_the_role_default():
    documented = role_defaults()
    differs = {name: (value, documented[name]) for name, value in shown_settings()
               if name in documented and any(default != value for default in documented[name])}
    assert differs == {}


def test_each_playbook_setting_shows_the_default_the_playbooks_read_it_with():
    documented = role_defaults()
    read = {name: (value, playbook_defaults(name)) for name, value in shown_settings() if name not in documented}
    assert read, "no playbook setting found: the test reads nothing"
    assert {name: found for name, found in read.items() if found[1] != {found[0]}} == {}
