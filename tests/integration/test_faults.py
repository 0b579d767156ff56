"""Faults on the AWS side: with a share of API calls throttled and others slowed down, provision and
teardown still succeed, with exactly one of each resource (retries everywhere, our modules too)."""

import json
import os

import pytest

pytestmark = pytest.mark.hardening

ONE_OF_EACH = {"vpc": 1, "subnet": 2, "internet_gateway": 1, "route_table": 2, "security_group": 1,
               "instance": 1, "volume": 1, "key_pair": 1, "nat_gateway": 1, "elastic_ip": 1}
# The production layout (NAT gateway, budget alert) makes the most kinds of calls.
PRODUCTION = {"private_subnet_enabled": True, "monthly_budget": 60, "budget_alert_emails": ["ops@example.com"],
              "backup_before_teardown": False}


# FAULT_SHARES=0.2,0.4,0.6 measures where the runs start failing; 20% must pass.
SHARES = [float(share) for share in os.environ.get("FAULT_SHARES", "0.2").split(",")]


@pytest.mark.parametrize("share", SHARES)
def test_provision_and_teardown_survive_throttling(sandbox, fault_proxy, share):
    with fault_proxy(sandbox.env["AWS_ENDPOINT_URL"], throttle_share=share) as proxy:
        through_proxy = {"AWS_ENDPOINT_URL": proxy.url}
        on_controller = ["--inventory", "localhost,", "-e", json.dumps(PRODUCTION)]
        sandbox.playbook("playbooks/provision.yml", *on_controller, extra_env=through_proxy)
        created = {kind: len(ids) for kind, ids in sandbox.tagged().items()}
        assert created == ONE_OF_EACH
        sandbox.playbook("playbooks/teardown.yml", *on_controller, "-e", "teardown_confirm=dev",
                         extra_env=through_proxy)
    assert sandbox.tagged() == {}
    assert proxy.counts["throttled"] >= 20, proxy.counts  # the faults really happened
    print(f"throttled {proxy.counts['throttled']} and slowed {proxy.counts['slowed']} "
          f"of {proxy.counts['requests']} requests ({share:.0%} throttle share): provision and teardown passed")
