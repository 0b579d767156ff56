"""Every role applies what its argument spec documents: each input with a default in
meta/argument_specs.yml has that same default in defaults/main.yml, and each default in
defaults/main.yml is a documented input (ansible-doc shows what the role does)."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3] / "roles"
ROLES = sorted(path.name for path in ROOT.iterdir() if path.is_dir())


def documented(role):
    """{input: spec} over every entry point of the role."""
    specs = yaml.safe_load((ROOT / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return {name: option for spec in specs.values() for name, option in spec.get("options", {}).items()}


def defaults(role):
    path = ROOT / role / "defaults" / "main.yml"
    return yaml.safe_load(path.read_text()) or {} if path.exists() else {}


@pytest.mark.parametrize("role", ROLES)
def test_every_documented_default_is_the_role_default(role):
    wrong = {name: (option["default"], defaults(role).get(name, "<missing>"))
             for name, option in documented(role).items()
             if "default" in option and defaults(role).get(name, "<missing>") != option["default"]}
    assert wrong == {}


@pytest.mark.parametrize("role", ROLES)
def test_every_role_default_is_a_documented_input(role):
    assert sorted(set(defaults(role)) - set(documented(role))) == []


@pytest.mark.parametrize("role", ROLES)
def test_an_input_with_a_role_default_is_not_required(role):
    assert sorted(name for name, option in documented(role).items()
                  if option.get("required") and name in defaults(role)) == []
