"""docker_host_info run as Ansible runs it (its arguments in a file) on this machine, a Debian
system with dpkg."""


def test_the_module_reads_this_machine(tmp_path, run_module):
    wanted = '{\n    "log-driver": "json-file"\n}\n'
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text(wanted)
    daemon_json.chmod(0o644)
    result = run_module("docker_host_info", packages=["dpkg", "no-such-package"], users=["root"],
                        daemon_json=wanted, daemon_json_path=str(daemon_json))
    assert result["changed"] is False
    assert set(result["installed"]) == {"dpkg"}
    assert result["daemon_json_current"] is True
    assert result["ansible_facts"]["os_family"] == "Debian"
    assert result["ansible_facts"]["distribution_major_version"].isdigit()

    daemon_json.chmod(0o600)  # the copy task would set the mode back
    result = run_module("docker_host_info", daemon_json=wanted, daemon_json_path=str(daemon_json))
    assert result["daemon_json_current"] is False
    daemon_json.chmod(0o644)
    assert run_module("docker_host_info", daemon_json=wanted.replace("json-file", "local"),
                      daemon_json_path=str(daemon_json))["daemon_json_current"] is False
    assert run_module("docker_host_info", daemon_json=wanted,
                      daemon_json_path=str(tmp_path / "missing.json"))["daemon_json_current"] is False
