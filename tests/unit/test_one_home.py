"""One home per setting: every setting a user can set (a key of some role's defaults/main.yml, the shared
ones in the settings role's) is defaulted in exactly one place. Not in two roles' defaults, not again
as a `| default(...)` where it is read, and not by a play's vars (which would also beat the user's
inventory group_vars)."""

import re
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = sorted((ROOT / "roles").glob("*/defaults/main.yml"))


def settings():
    """Counter of every role default's name over the roles."""
    return Counter(name for path in DEFAULTS for name in yaml.safe_load(path.read_text()) or {})


def readers():
    """The files that read settings: the playbooks, and each role's tasks, vars, templates and defaults."""
    for pattern in ("playbooks/**/*.yml", "roles/*/tasks/*.yml", "roles/*/vars/*.yml", "roles/*/templates/*",
                    "roles/*/defaults/*.yml", "roles/*/handlers/*.yml"):
        yield from sorted(ROOT.glob(pattern))


def test_the_settings_are_found():
    assert len(settings()) > 80
    assert {"project_name", "layout", "admin_cidrs", "app_version"} <= set(settings())


def test_no_setting_is_defaulted_by_two_roles():
    assert sorted(name for name, count in settings().items() if count > 1) == []


def test_no_setting_is_read_with_a_second_default():
    names = "|".join(sorted(settings(), key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.'\"])({names})\s*\|\s*default\(")
    found = [f"{path.relative_to(ROOT)}: {match.group(1)}"
             for path in readers() for match in pattern.finditer(path.read_text())]
    assert found == []


def test_no_play_sets_a_setting_the_settings_file_shows():
    """A play may hand a role an input it wires (an id, a read); not one the user sets."""
    group_vars = (ROOT / "inventory" / "group_vars" / "all.yml").read_text()
    shown = re.findall(r"^# ([a-z][a-z0-9_]*):", group_vars, re.MULTILINE)
    names = set(settings()) & set(shown)
    assert len(names) > 50
    found = []
    for path in sorted((ROOT / "playbooks").rglob("*.yml")):
        for play in yaml.safe_load(path.read_text()) or []:
            if isinstance(play, dict) and "hosts" in play:
                found += [f"{path.relative_to(ROOT)}: {name}" for name in set(play.get("vars") or {}) & names]
    assert found == []
