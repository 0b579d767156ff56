"""Every role documents itself as Galaxy expects: a README naming each required input of each entry
point, and meta/main.yml with a description and no dependency on another role (only the playbooks
wire roles together)."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3] / "roles"
ROLES = sorted(path.name for path in ROOT.iterdir() if path.is_dir())


def entry_points(role):
    return yaml.safe_load((ROOT / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]


@pytest.mark.parametrize("role", ROLES)
def test_the_readme_names_every_entry_point_and_required_input(role):
    readme = (ROOT / role / "README.md").read_text()
    for name, spec in entry_points(role).items():
        assert f"`{name}`" in readme, name
        for option, details in spec.get("options", {}).items():
            if details.get("required"):
                assert f"`{option}`" in readme, (name, option)


@pytest.mark.parametrize("role", ROLES)
def test_galaxy_metadata_describes_the_role_and_depends_on_none(role):
    meta = yaml.safe_load((ROOT / role / "meta" / "main.yml").read_text())
    assert meta["galaxy_info"]["description"] and meta["galaxy_info"]["license"] == "GPL-3.0-or-later"
    assert meta["dependencies"] == []
    # The collection's floor (meta/runtime.yml), not an older one the roles were never tested on.
    floor = yaml.safe_load((ROOT.parent / "meta" / "runtime.yml").read_text())["requires_ansible"].lstrip(">=")
    assert meta["galaxy_info"]["min_ansible_version"] == ".".join(floor.split(".")[:2])
