"""module_utils/run_lock.py against moto's SSM in process: one holder at a time, expiry, release by token."""

import datetime
import json
import socket
import subprocess
import threading
import time

import boto3
import pytest

from ansible_collections.shipyard.ec2_compose.plugins.module_utils import run_lock

NAME = run_lock.parameter_name("shop", "dev")


@pytest.fixture
def ssm(ec2):  # ec2: moto's mock and fake credentials
    return boto3.client("ssm", region_name="us-east-1")


def test_two_runs_at_once_one_holds_the_lock_and_the_other_is_told_who(ssm):
    results, start = [], threading.Barrier(2)

    def take(owner):
        start.wait()
        results.append(run_lock.acquire(ssm, NAME, owner, "provision", expiry_minutes=60))

    threads = [threading.Thread(target=take, args=(owner,)) for owner in ("ann@laptop", "ci@runner")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [result for result in results if result["acquired"]]
    losers = [result for result in results if not result["acquired"]]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0]["holder"]["owner"] == winners[0]["holder"]["owner"]
    assert "(provision) since " in run_lock.holder_line(losers[0]["holder"])


def test_release_needs_the_token_and_then_the_next_run_takes_it(ssm):
    first = run_lock.acquire(ssm, NAME, "ann@laptop", "provision", expiry_minutes=60)
    assert not run_lock.release(ssm, NAME, "not-the-token")
    assert not run_lock.acquire(ssm, NAME, "ci@runner", "teardown", expiry_minutes=60)["acquired"]
    assert run_lock.release(ssm, NAME, first["token"])
    assert run_lock.acquire(ssm, NAME, "ci@runner", "teardown", expiry_minutes=60)["acquired"]


def test_an_expired_lock_is_taken_over_and_said_so(ssm):
    past = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    ssm.put_parameter(Name=NAME, Type="String", Value=json.dumps(
        {"owner": "killed@laptop", "purpose": "provision", "started": past.isoformat(),
         "expires": (past + datetime.timedelta(hours=1)).isoformat(), "token": "old"}))
    result = run_lock.acquire(ssm, NAME, "ann@laptop", "provision", expiry_minutes=60)
    assert result["acquired"] and result["taken_over"]["owner"] == "killed@laptop"


def test_force_takes_over_a_live_lock(ssm):
    run_lock.acquire(ssm, NAME, "ann@laptop", "provision", expiry_minutes=60)
    assert run_lock.acquire(ssm, NAME, "bob@desk", "teardown", expiry_minutes=60, force=True)["acquired"]


def held_by(ssm, pid):
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    ssm.put_parameter(Name=NAME, Type="String", Value=json.dumps(
        {"owner": "ann@laptop", "purpose": "provision", "started": now.isoformat(),
         "expires": (now + datetime.timedelta(hours=1)).isoformat(), "token": "theirs",
         "host": socket.gethostname(), "pid": pid}))


def test_a_lock_whose_run_on_this_machine_is_gone_is_taken_over_at_once(ssm):
    finished = subprocess.Popen(["true"])
    finished.wait()
    held_by(ssm, finished.pid)
    assert run_lock.acquire(ssm, NAME, "ann@laptop", "provision", expiry_minutes=60)["taken_over"]["token"] == "theirs"


def test_a_lock_whose_ansible_playbook_still_runs_here_is_not_taken(ssm):
    # A process whose command line is ansible-playbook's, as the holder's is.
    running = subprocess.Popen(["bash", "-c", "exec -a ansible-playbook sleep 30"])
    try:
        time.sleep(0.2)
        held_by(ssm, running.pid)
        assert not run_lock.acquire(ssm, NAME, "ann@laptop", "provision", expiry_minutes=60)["acquired"]
    finally:
        running.kill()
        running.wait()
