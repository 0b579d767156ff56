"""Secrets stay secret: site.yml at -vvv with a known database password (from an ansible-vault file),
an app secret (from an SSM Parameter Store SecureString, by the amazon.aws lookup) and the
generated SSH key prints none of them, and the log file holds none; the files that hold them are 0600."""

import json
import os
import re
import secrets
import subprocess
import urllib.request

import pytest

pytestmark = [pytest.mark.hardening, pytest.mark.deploys]


def key_body_lines(private_key):
    """The base64 lines of an OpenSSH private key, each one a needle on its own."""
    return [line for line in private_key.splitlines() if line and not line.startswith("-----")]


def test_no_secret_in_verbose_output_or_log(sandbox):
    password = "Pw-" + secrets.token_hex(12)
    token = "Tk-" + secrets.token_hex(12)
    sandbox.client("ssm").put_parameter(Name="/tasklist/dev/api-token", Value=token, Type="SecureString")
    vault_password = sandbox.tmp_path / "vault-password"
    vault_password.write_text(secrets.token_hex(16))
    vars_file = sandbox.tmp_path / "secrets.yml"
    vars_file.write_text(json.dumps({
        "app_db_password": password,
        "app_env": {"API_TOKEN": "{{ lookup('amazon.aws.ssm_parameter', '/tasklist/dev/api-token', decrypt=true) }}"},
    }))
    subprocess.run(["ansible-vault", "encrypt", "--vault-password-file", str(vault_password), str(vars_file)],
                   check=True, capture_output=True, timeout=60, env={**os.environ, **sandbox.env})
    assert password not in vars_file.read_text()
    log = sandbox.tmp_path / "ansible.log"

    run = sandbox.playbook("playbooks/site.yml", "-vvv", "-e", f"@{vars_file}",
                           "--vault-password-file", str(vault_password),
                           extra_env={"ANSIBLE_LOG_PATH": str(log)})

    key_file = sandbox.tmp_path / "ssh" / "dev"
    private_key = key_file.read_text()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    texts = {"output": run.output, "log file": log.read_text()}
    assert len(run.output) > 100_000  # -vvv really was verbose: module arguments and results are in it
    for where, text in texts.items():
        assert password not in text, f"the database password is in the {where}"
        assert token not in text, f"the SSM secret is in the {where}"
        leaked = [line for line in key_body_lines(private_key) if line in text]
        assert leaked == [], f"{len(leaked)} lines of the private key are in the {where}"
        assert "BEGIN OPENSSH PRIVATE KEY" not in text

    # The password works: the app uses it (a task can be stored), and the .env that holds it is 0600 root.
    address = re.search(r"page: http://([0-9.]+):80/", run.output).group(1)
    with urllib.request.urlopen(f"http://{address}:8000/api/tasks", timeout=10) as response:
        assert response.status == 200
    ssh = ["ssh", "-i", str(key_file), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-o", "LogLevel=ERROR", f"admin@{address}"]
    stat = subprocess.run([*ssh, "sudo stat -c '%a %U' /opt/tasklist/.env && sudo cat /opt/tasklist/.env"],
                          capture_output=True, text=True, timeout=60, check=True, env=os.environ).stdout
    assert stat.splitlines()[0] == "600 root"
    assert f"DB_PASSWORD={password}" in stat
    assert f"API_TOKEN={token}" in stat
