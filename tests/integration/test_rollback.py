"""A failed deploy does not take the site down for good: configure brings back the last version that
passed its health checks, checks it, and fails the run saying so. A loop of requests during each
redeploy measures how long the site is down (printed; the figures go in the release notes)."""

import json
import threading
import time
import urllib.request

import pytest

pytestmark = pytest.mark.deploys

QUICK = ["-e", "app_health_timeout=90"]  # the broken version never gets healthy: fail in 90 s, not 600


class Prober(threading.Thread):
    """GETs the page and the API every 0.25 s until stopped; keeps (time, both answered 200)."""

    def __init__(self, address):
        super().__init__(daemon=True)
        self.urls = [f"http://{address}/", f"http://{address}:8000/api/tasks"]
        self.results, self.done = [], threading.Event()

    def answered(self):
        try:
            for url in self.urls:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status != 200:
                        return False
            return True
        except OSError:
            return False

    def run(self):
        while not self.done.is_set():
            self.results.append((time.monotonic(), self.answered()))
            time.sleep(0.25)

    def stop(self):
        self.done.set()
        self.join(timeout=10)
        failed = [ok for _t, ok in self.results].count(False)
        # Down from a failed probe to the next probe: summed, and the longest unbroken stretch.
        down, longest, start = 0.0, 0.0, None
        for (moment, ok), (after, _next_ok) in zip(self.results, self.results[1:], strict=False):
            if not ok:
                down += after - moment
                start = moment if start is None else start
                longest = max(longest, after - start)
            else:
                start = None
        return {"probes": len(self.results), "failed": failed, "down_s": round(down, 1),
                "longest_outage_s": round(longest, 1), "serving_at_the_end": bool(self.results) and self.results[-1][1]}


def version(address):
    with urllib.request.urlopen(f"http://{address}:8000/api/version", timeout=5) as response:
        return json.loads(response.read())["version"]


def redeploy(sandbox, address, app_version, check=True):
    prober = Prober(address)
    prober.start()
    run = sandbox.playbook("playbooks/configure.yml", "-e", f"app_version={app_version}", *QUICK, check=check)
    time.sleep(2)  # a little of the after, too
    return run, prober.stop()


def test_a_failed_deploy_rolls_back_to_the_last_healthy_version(sandbox):
    sandbox.playbook("playbooks/site.yml", "-e", "app_version=v1.0.0", *QUICK)
    address = sandbox.host_address()
    assert version(address) == "1.0.0"

    _good, good = redeploy(sandbox, address, "v1.1.0")
    assert version(address) == "1.1.0"
    print(f"\nsuccessful redeploy v1.0.0 -> v1.1.0: {good}")

    bad_run, bad = redeploy(sandbox, address, "v1.2.0-broken", check=False)
    said = " ".join(bad_run.output.split())
    print(f"failed redeploy v1.1.0 -> v1.2.0-broken, rolled back: {bad}")
    assert bad_run.rc != 0
    assert "app_version v1.2.0-broken" in said and "failed" in said
    assert "broken on purpose" in said  # the new version's logs are in the error
    assert "Rolled back to" in said and "serves now" in said
    assert version(address) == "1.1.0" and bad["serving_at_the_end"]

    # The rolled-back host is in order: the previous version again changes nothing.
    again = sandbox.playbook("playbooks/configure.yml", "-e", "app_version=v1.1.0", *QUICK)
    assert again.recap("tasklist-dev-web")["changed"] == 0
