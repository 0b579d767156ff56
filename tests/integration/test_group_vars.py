"""site.yml and every playbook in playbooks/ see the same group_vars/all.yml values."""

import json
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

KNOBS = sorted(yaml.safe_load((ROOT / "group_vars" / "all.yml").read_text()))


def dump_play(out):
    return [{
        "name": "Dump the knobs",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [{"ansible.builtin.copy": {
            "dest": str(out),
            "content": "{{ {" + ", ".join(f"'{k}': {k}" for k in KNOBS) + "} | to_json }}",
            "mode": "0600",
        }}],
    }]


def test_top_level_and_playbooks_dir_see_the_same_values(sandbox, tmp_path):
    """Throwaway playbooks placed where site.yml and playbooks/*.yml live, one importing the other."""
    tag = uuid.uuid4().hex[:8]
    inner = ROOT / "playbooks" / f"dump-{tag}.yml"
    outer = ROOT / f"dump-{tag}.yml"
    try:
        inner.write_text(yaml.safe_dump(dump_play(tmp_path / "inner.json")))
        importing = {"ansible.builtin.import_playbook": f"playbooks/{inner.name}"}
        outer.write_text(yaml.safe_dump([*dump_play(tmp_path / "outer.json"), importing]))
        sandbox.playbook(outer.name)
        via_site = json.loads((tmp_path / "inner.json").read_text())
        top = json.loads((tmp_path / "outer.json").read_text())
        (tmp_path / "inner.json").unlink()
        sandbox.playbook(f"playbooks/{inner.name}")
        alone = json.loads((tmp_path / "inner.json").read_text())
    finally:
        inner.unlink(missing_ok=True)
        outer.unlink(missing_ok=True)
    assert top == via_site == alone
    assert top["vpc_cidr"] == "10.0.0.0/16" and top["project_name"] == "tasklist"
    assert set(top) == set(KNOBS)
