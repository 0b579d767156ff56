"""Wall time and AWS API calls of the playbooks against the sandbox, next to the boto3 baseline.

Run with the sandbox's environment loaded (`make bench` does both). The emulator is emptied
first, and the phases run in one process one after another:
provision (first run), provision (no-op re-run), teardown, teardown (no-op); then the baseline's
create and delete. API calls are counted from the emulator's request log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3_baseline

ROOT = Path(__file__).resolve().parent.parent
LOG = Path(os.environ["SANDBOX_REQUEST_LOG"])


def calls():
    return len(LOG.read_text().splitlines()) if LOG.exists() else 0


def measure(label, action):
    before, start = calls(), time.monotonic()
    action()
    return {"phase": label, "seconds": round(time.monotonic() - start, 1), "api_calls": calls() - before}


def playbook(*args):
    def run():
        subprocess.run(["ansible-playbook", *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return run


def main():
    urllib.request.urlopen(urllib.request.Request(os.environ["AWS_ENDPOINT_URL"] + "/moto-api/reset",
                                                  method="POST"), timeout=10).close()
    with tempfile.TemporaryDirectory() as keys:
        key = f"ssh_key_path={keys}/bench"
        provision = playbook("playbooks/provision.yml", "-e", key)
        teardown = playbook("playbooks/teardown.yml", "-e", "teardown_confirm=dev", "-e", key)
        rows = [
            measure("provision", provision),
            measure("provision re-run (no-op)", provision),
            measure("teardown", teardown),
            measure("teardown re-run (no-op)", teardown),
        ]
        public_key = Path(f"{keys}/bench.pub").read_text()
        stack = {}
        rows.append(measure("baseline create (boto3)", lambda: stack.update(boto3_baseline.create(public_key))))
        rows.append(measure("baseline delete (boto3)", lambda: boto3_baseline.delete(stack)))

    base = {"provision": rows[4], "teardown": rows[5]}
    print(f"{'phase':<28}{'seconds':>9}{'API calls':>11}{'x baseline time':>17}")
    for row in rows:
        kind = "teardown" if row["phase"].startswith(("teardown", "baseline delete")) else "provision"
        ratio = row["seconds"] / base[kind]["seconds"] if base[kind]["seconds"] else float("nan")
        print(f"{row['phase']:<28}{row['seconds']:>9}{row['api_calls']:>11}{ratio:>17.1f}")
    print(json.dumps(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
