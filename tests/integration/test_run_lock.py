"""One run at a time per environment: provision and teardown hold a lock in SSM Parameter Store."""

import datetime
import json
import threading

LOCK = "/shipyard.ec2_compose/tasklist/dev/run-lock"


def test_a_run_held_elsewhere_stops_this_one_before_any_write_naming_who_and_since_when(sandbox):
    ssm = sandbox.client("ssm")
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    ssm.put_parameter(Name=LOCK, Type="String", Value=json.dumps({
        "owner": "ci@runner", "purpose": "teardown", "started": now.isoformat(),
        "expires": (now + datetime.timedelta(hours=1)).isoformat(), "token": "theirs"}))
    mark = sandbox.requests_mark()
    run = sandbox.playbook("playbooks/provision.yml", "-e", "run_lock_wait_seconds=0", check=False)
    assert run.rc != 0
    said = " ".join(run.output.split())
    assert (f"Nothing was changed: another run holds tasklist/dev: ci@runner (teardown) since {now.isoformat()}"
            in said), run.output[-3000:]
    assert sandbox.mutating_since(mark) == [] and sandbox.tagged() == {}
    assert json.loads(ssm.get_parameter(Name=LOCK)["Parameter"]["Value"])["token"] == "theirs"  # left alone


def test_two_provisions_started_together_make_one_stack_and_the_second_says_it_waited(sandbox):
    runs = []
    threads = [threading.Thread(target=lambda: runs.append(sandbox.playbook("playbooks/provision.yml", check=False)))
               for run in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [run.rc for run in runs] == [0, 0], [run.output[-3000:] for run in runs]
    tagged = sandbox.tagged()
    assert {kind: len(ids) for kind, ids in tagged.items()} == {
        "instance": 1, "security_group": 1, "route_table": 1, "subnet": 1, "internet_gateway": 1, "vpc": 1,
        "key_pair": 1, "volume": 1}
    waited = [run for run in runs if "Another run holds tasklist/dev" in " ".join(run.output.split())]
    assert len(waited) == 1, [run.output[-2000:] for run in runs]
    assert "(provision) since" in " ".join(waited[0].output.split())
    assert waited[0].recap()["changed"] == 0  # it found the stack the first one made
    assert sandbox.client("ssm").describe_parameters()["Parameters"] == []  # both released
