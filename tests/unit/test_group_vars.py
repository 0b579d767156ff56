"""inventory/group_vars/all.yml, the settings file users copy, says what the collection does: each
setting it shows (commented out) is shown once, with the default that applies: the one in the argument
spec of the role that defines it (which its defaults/main.yml applies, test_role_defaults; the shared
settings are role settings's)."""

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


def test_each_setting_shown_is_a_role_input():
    """The playbooks default nothing of their own (test_one_home): every setting is some role's input."""
    documented = role_defaults()
    assert [name for name, _value in shown_settings() if name not in documented] == []
