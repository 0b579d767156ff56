"""The collection as users get it: the built tarball, and the plugin docs."""

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Every module, every filter and test (each documented by a .yml file of its name), every callback.
PLUGINS = sorted([("module", path.stem) for path in (ROOT / "plugins" / "modules").glob("*.py")]
                 + [("filter", path.stem) for path in (ROOT / "plugins" / "filter").glob("*.yml")]
                 + [("test", path.stem) for path in (ROOT / "plugins" / "test").glob("*.yml")]
                 + [("callback", path.stem) for path in (ROOT / "plugins" / "callback").glob("*.py")])


def test_build_ships_the_collection_and_nothing_of_the_workshop(tmp_path):
    subprocess.run(["ansible-galaxy", "collection", "build", "--output-path", str(tmp_path)], cwd=ROOT,
                   check=True, capture_output=True)
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    with tarfile.open(tmp_path / f"shipyard-ec2_compose-{version}.tar.gz") as tar:
        names = tar.getnames()
    for wanted in ("MANIFEST.json", "README.md", "playbooks/provision.yml", "playbooks/teardown.yml",
                   "roles/network/tasks/main.yml", "roles/teardown/meta/argument_specs.yml",
                   "plugins/modules/tagged_resources_info.py", "plugins/module_utils/tagging.py",
                   "plugins/modules/cost_check.py", "plugins/module_utils/pricing.py", "playbooks/audit.yml",
                   "inventory/aws_ec2.yml", "inventory/group_vars/all.yml", "playbooks/site.yml",
                   "roles/app/defaults/main.yml"):
        assert wanted in names, wanted
    for unwanted in (".venv", ".sandbox", ".collections", "sandbox", "molecule", "tests/integration", "benchmarks"):
        assert not any(name == unwanted or name.startswith(unwanted + "/") for name in names), unwanted
    assert not any("__pycache__" in name for name in names)


@pytest.mark.parametrize(("kind", "name"), PLUGINS)
def test_ansible_doc_renders(kind, name):
    out = subprocess.run(["ansible-doc", "-t", kind, f"shipyard.ec2_compose.{name}"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    assert f"shipyard.ec2_compose.{name}" in out and "EXAMPLES" in out


def test_ansible_doc_shows_every_role_s_inputs_and_outputs():
    """`ansible-doc -t role` of each role: every input of every entry point, and every output its README
    lists under "## Outputs" (a backticked name before an item's colon)."""
    roles = sorted(path.name for path in (ROOT / "roles").iterdir() if path.is_dir())
    docs = json.loads(subprocess.run(["ansible-doc", "-t", "role", "--json",
                                      *(f"shipyard.ec2_compose.{role}" for role in roles)],
                                     cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    missing, listed = {}, 0
    for role in roles:
        readme = (ROOT / "roles" / role / "README.md").read_text()
        section = readme.split("\n## Outputs\n", 1)[1].split("\n## ", 1)[0]
        outputs = {name for item in re.findall(r"^- (.*?):", section, re.MULTILINE)
                   for name in re.findall(r"`(\w+)`", re.sub(r"\(.*?\)", "", item))}
        specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
        shown = docs[f"shipyard.ec2_compose.{role}"]["entry_points"]
        for entry_point, spec in specs.items():
            missing[role, entry_point] = sorted(set(spec.get("options", {})) - set(shown[entry_point]["options"]))
        text = json.dumps(shown)
        missing[role, "outputs"] = sorted(name for name in outputs if f"C({name})" not in text)
        listed += len(outputs)
    assert {key: names for key, names in missing.items() if names} == {}
    assert len(docs) == len(roles) > 10 and listed > 20


def test_galaxy_importer_accepts_the_tarball(tmp_path):
    """The check Galaxy runs on every upload; its ansible-test step needs a container runtime, and
    `make sanity` runs ansible-test already."""
    subprocess.run(["ansible-galaxy", "collection", "build", "--output-path", str(tmp_path)], cwd=ROOT,
                   check=True, capture_output=True)
    config = tmp_path / "galaxy-importer.cfg"
    config.write_text("[galaxy-importer]\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\n")
    tarball = next(tmp_path.glob("shipyard-ec2_compose-*.tar.gz"))
    run = subprocess.run([sys.executable, "-m", "galaxy_importer.main", str(tarball)], cwd=tmp_path, check=False,
                         env={**os.environ, "GALAXY_IMPORTER_CONFIG": str(config)},
                         capture_output=True, text=True, timeout=900)
    output = run.stdout + run.stderr
    assert run.returncode == 0 and "Importer processing completed successfully" in output, output[-3000:]
    assert [line for line in output.splitlines() if "WARNING" in line or "ERROR" in line] == []


def test_an_execution_environment_gets_the_run_time_packages_only(installed_collection, tmp_path):
    """What ansible-builder would install for the collection: requirements.txt, no development tool."""
    introspected = subprocess.run(["ansible-builder", "introspect", "--sanitize", str(installed_collection)],
                                  cwd=tmp_path, check=True, capture_output=True, text=True).stdout
    python = yaml.safe_load(introspected.split("\n", 1)[1])["python"]
    names = sorted(line.split(">")[0].split("=")[0].strip() for line in python)
    assert names == ["boto3", "botocore", "netaddr"]


def test_the_installed_collection_writes_the_operator_policy_for_a_project(installed_collection, tmp_path):
    """By FQCN from the tarball: the policy for the default project is policies/operator.json; for
    another, the same with that project's name."""
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(installed_collection), "ANSIBLE_NOCOLOR": "1",
           "PWD": str(tmp_path)}  # as a shell in that directory sets it
    env.pop("SHIPYARD_PROJECT", None)
    for project in ("tasklist", "shop"):
        subprocess.run(["ansible-playbook", "shipyard.ec2_compose.operator_policy", "-e", f"project_name={project}"],
                       cwd=tmp_path, env=env, check=True, capture_output=True, text=True, timeout=120)
    written = (tmp_path / "operator-policy-tasklist.json").read_text()
    assert written == (ROOT / "policies" / "operator.json").read_text()
    assert (tmp_path / "operator-policy-shop.json").read_text() == written.replace("tasklist", "shop")
    bad = subprocess.run(["ansible-playbook", "shipyard.ec2_compose.operator_policy",
                          "-e", '{"project_name": "no way"}'],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode != 0 and "project_name must be" in bad.stdout
