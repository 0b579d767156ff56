"""layout: scaled end to end in the sandbox: from an empty cloud to the Task List answering at
https://<domain_name> through the load balancer (an HAProxy that follows the target group and ends TLS
with the ACM certificate the run requested and validated through Route 53) in front of two hosts that
share PostgreSQL on RDS (a PostgreSQL container reached by its endpoint name); the database and the
hosts' app ports closed to everything but their chained security groups; a no-op re-run that writes
nothing; a rolling deploy (a new version and app_env, planned by --check first) and a failed one under
a loop of requests that sees no failure; scaling 2 -> 3 -> 2; teardown with a final snapshot down to
nothing tagged, the certificate and the records gone. And the new inputs refused before any AWS call."""

import collections
import http.client
import json
import re
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cloud import http_redirect, https_get, last_line, resolve

ZONE, DOMAIN = "example.test", "tasklist.example.test"  # the user's hosted zone, and the app's name in it
# Short drains and health checks: the same steps as the defaults, in less time.
SCALED = ["-e", "layout=scaled", "-e", "monthly_budget=100", "-e", "load_balancer_deregistration_delay=5",
          "-e", "load_balancer_health_check_interval=5", "-e", f"domain_name={DOMAIN}", "-e", f"route53_zone={ZONE}"]
HOSTS = ("tasklist-dev-web-1", "tasklist-dev-web-2")


def acm_root(sandbox):
    """The sandbox's ACM root alone (the load balancer's certificate must chain to it)."""
    return Path(sandbox.env["SSL_CERT_FILE"]).parents[1] / "acm" / "root.pem"


class RequestLoop:
    """GETs of https://DOMAIN/api/tasks at the load balancer, one every 50 ms from a thread, until stopped
    (at most 15 minutes): what a user of the app sees while it changes. On one kept-alive connection, as a
    browser's (a TLS handshake per request would cost the other tests' CPU); a new one when it breaks, and
    that request counts as failed."""

    def __init__(self, sandbox, alb):
        self.alb, self.context = alb, ssl.create_default_context(cafile=str(acm_root(sandbox)))
        self.answers, self.stop = collections.Counter(), threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def connect(self):
        connection = http.client.HTTPConnection(DOMAIN, timeout=5)
        connection.sock = self.context.wrap_socket(socket.create_connection((self.alb, 443), timeout=5),
                                                   server_hostname=DOMAIN)
        return connection

    def run(self):
        deadline, connection = time.monotonic() + 900, None
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                connection = connection or self.connect()
                connection.request("GET", "/api/tasks", headers={"Host": DOMAIN})
                response = connection.getresponse()
                response.read()
                self.answers[response.status] += 1
            except (OSError, http.client.HTTPException) as error:  # refused, reset, TLS, timeouts
                self.answers[type(error).__name__] += 1
                connection = None
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)

    @property
    def failed(self):
        return {answer: count for answer, count in self.answers.items() if answer != 200}


def version_on(container):
    """The Task List's version that a host runs (its API names it in the Server header)."""
    read = ("import urllib.request; "
            "print(urllib.request.urlopen('http://127.0.0.1:8000/api/tasks', timeout=5).headers['Server'])")
    answer = subprocess.run(["docker", "exec", container, "python3", "-c", read], capture_output=True, text=True,
                            timeout=60, check=True).stdout
    return answer.split()[0].split("/")[1]


def tags_of(elbv2, arn):
    return {tag["Key"]: tag["Value"] for tag in elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]}


def tasks_on_host(container):
    """The task titles the host's own app answers (the app's ports are closed to this machine)."""
    read = ("import urllib.request; "
            "print(urllib.request.urlopen('http://127.0.0.1/api/tasks', timeout=5).read().decode())")
    answer = subprocess.run(["docker", "exec", container, "python3", "-c", read], capture_output=True, text=True,
                            timeout=60, check=True).stdout
    return [task["title"] for task in json.loads(answer)]


def scaled_leftovers(sandbox):
    """The load balancers, target groups, databases, DB subnet groups and certificates that still exist,
    and the zone's records but its own."""
    elbv2, rds, acm = sandbox.client("elbv2"), sandbox.client("rds"), sandbox.client("acm")
    return {
        "load_balancer": [b["LoadBalancerName"] for b in elbv2.describe_load_balancers()["LoadBalancers"]],
        "target_group": [g["TargetGroupName"] for g in elbv2.describe_target_groups()["TargetGroups"]],
        "db_instance": [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]],
        "db_subnet_group": [g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]],
        "certificate": [c["DomainName"] for c in acm.list_certificates()["CertificateSummaryList"]],
        "record": sorted((r["Name"], r["Type"]) for r in records(sandbox) if r["Type"] not in ("NS", "SOA")),
    }


def records(sandbox):
    route53 = sandbox.client("route53")
    (zone,) = route53.list_hosted_zones()["HostedZones"]
    return route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]


def test_scaled_layout_from_nothing_behind_a_load_balancer_and_back(sandbox):
    sandbox.client("route53").create_hosted_zone(Name=ZONE, CallerReference="scaled")  # the user's own zone
    # Checked first: the plan names the scaled parts, and nothing is written.
    mark = sandbox.requests_mark()
    planned = sandbox.playbook("playbooks/site.yml", *SCALED, "--check")
    assert sandbox.mutating_since(mark) == []
    assert "would be launched" in planned.output and "load_balancer" in planned.output
    assert sandbox.tagged() == {}

    first = sandbox.playbook("playbooks/site.yml", *SCALED)
    assert f"layout scaled: 2 hosts behind https://{DOMAIN}/" in first.output
    assert last_line(first.output) == f"msg: 'open: https://{DOMAIN}/'"  # the run's last word
    ec2, elbv2 = sandbox.ec2, sandbox.client("elbv2")
    hosts = [i for r in ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])
             ["Reservations"] for i in r["Instances"]]
    assert len(hosts) == 2 and len({host["Placement"]["AvailabilityZone"] for host in hosts}) == 2
    (balancer,) = elbv2.describe_load_balancers()["LoadBalancers"]
    assert len({zone["ZoneName"] for zone in balancer["AvailabilityZones"]}) == 2
    alb = tags_of(elbv2, balancer["LoadBalancerArn"])["SandboxAddress"]
    domain_through_dns(sandbox, balancer, alb)

    # Through the load balancer, over HTTPS: the page, and a task written there is read back from each host.
    status, _headers, page, _certificate = https_get(alb, DOMAIN, acm_root(sandbox))
    assert status == 200 and "Task List" in page
    assert https_get(alb, DOMAIN, acm_root(sandbox), "/api/tasks", data={"title": "written through the ALB"})[0] == 201
    containers = sandbox.containers()
    assert len(containers) == 2
    for container in containers:
        assert "written through the ALB" in tasks_on_host(container)

    # Chained groups: the hosts' app ports from the load balancer's group only, 5432 from the hosts' only.
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(
        Filters=[{"Name": "tag:Project", "Values": ["tasklist"]}])["SecurityGroups"]}
    web, db = groups["tasklist-dev-web"], groups["tasklist-dev-db"]
    app_rules = [rule for rule in web["IpPermissions"] if rule["FromPort"] in (80, 8000)]
    assert app_rules and all(not rule["IpRanges"] and [p["GroupId"] for p in rule["UserIdGroupPairs"]]
                             == [groups["tasklist-dev-alb"]["GroupId"]] for rule in app_rules)
    (db_rule,) = db["IpPermissions"]
    assert db_rule["FromPort"] == 5432 and not db_rule["IpRanges"]
    assert [p["GroupId"] for p in db_rule["UserIdGroupPairs"]] == [web["GroupId"]]
    (database,) = sandbox.service_containers("db")
    db_address = subprocess.run(["docker", "inspect", "--format", "{{.NetworkSettings.IPAddress}}", database],
                                capture_output=True, text=True, check=True).stdout.strip()
    assert not sandbox.accepts(db_address, 5432)
    host_address = {t["Key"]: t["Value"] for t in hosts[0]["Tags"]}["SandboxAddress"]
    assert not sandbox.accepts(host_address, 80)

    # A second run: nothing changes, nothing is written.
    mark = sandbox.requests_mark()
    again = sandbox.playbook("playbooks/site.yml", *SCALED)
    assert again.recap()["changed"] == 0
    assert all(again.recap(host)["changed"] == 0 for host in HOSTS)
    assert sandbox.mutating_since(mark) == []

    roll_out_and_back(sandbox, elbv2, alb, containers)
    scale_up_and_down(sandbox, alb, containers)

    # Teardown: the final snapshot is kept and named; nothing tagged is left, the scaled parts included.
    # In one run, although the sandbox (as AWS) refuses to delete a group that another group's rule names:
    # the database's group names the hosts', the hosts' the load balancer's.
    gone = sandbox.playbook("playbooks/teardown.yml", *SCALED, "-e", "teardown_confirm=dev")
    assert "Kept the final snapshot tasklist-dev-db-final-" in gone.output
    assert sandbox.tagged() == {}
    assert scaled_leftovers(sandbox) == {"load_balancer": [], "target_group": [], "db_instance": [],
                                         "db_subnet_group": [], "certificate": [], "record": []}
    snapshots = sandbox.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert [s["DBInstanceIdentifier"] for s in snapshots] == ["tasklist-dev-db"]
    assert sandbox.containers() == [] and sandbox.service_containers("lb") == []
    assert sandbox.service_containers("db") == []


def domain_through_dns(sandbox, balancer, alb):
    """The certificate was issued through its DNS validation record, the domain is an alias of the load
    balancer, the sandbox's resolver leads there, HTTPS verifies against the ACM root, HTTP redirects."""
    (summary,) = sandbox.client("acm").list_certificates()["CertificateSummaryList"]
    certificate = sandbox.client("acm").describe_certificate(CertificateArn=summary["CertificateArn"])["Certificate"]
    assert (certificate["DomainName"], certificate["Status"], certificate["InUseBy"]) == \
        (DOMAIN, "ISSUED", [balancer["LoadBalancerArn"]])
    validation = certificate["DomainValidationOptions"][0]["ResourceRecord"]
    found = {(r["Name"], r["Type"]): r for r in records(sandbox)}
    assert found[(validation["Name"], "CNAME")]["ResourceRecords"] == [{"Value": validation["Value"]}]
    alias = found[(f"{DOMAIN}.", "A")]["AliasTarget"]
    assert alias["DNSName"].rstrip(".") == balancer["DNSName"] and alias["HostedZoneId"] == \
        balancer["CanonicalHostedZoneId"]
    assert (f"_shipyard.{DOMAIN}.", "TXT") in found  # the mark: the alias is this stack's
    # The VPC's resolver, as the hosts (and the internet, in the sandbox) use it.
    resolver = subprocess.run(["docker", "inspect", "--format", "{{index .HostConfig.Dns 0}}", sandbox.containers()[0]],
                              capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    assert resolve(DOMAIN, resolver) == [alb]
    _status, _headers, _page, served = https_get(alb, DOMAIN, acm_root(sandbox))  # verified for DOMAIN
    assert ("DNS", DOMAIN) in served["subjectAltName"]
    status, location = http_redirect(alb, DOMAIN)
    assert status == 301 and location.startswith(f"https://{DOMAIN}"), (status, location)


# A new version and a new app_env, rolled out together.
ROLLED = ["-e", "app_version=v1.0.0", "-e", json.dumps({"app_env": {"GREETING": "hello"}})]


def roll_out_and_back(sandbox, elbv2, alb, containers):
    # Checked first: the new version and app_env plan a change on the hosts and write nothing anywhere.
    mark = sandbox.requests_mark()
    planned = sandbox.playbook("playbooks/site.yml", *SCALED, *ROLLED, "--check")
    assert all(planned.recap(host)["changed"] > 0 for host in HOSTS)
    assert sandbox.mutating_since(mark) == []
    assert all("GREETING" not in env_of(container) for container in containers)

    # A rolling deploy: one host at a time out of the load balancer and back before the next, every host
    # on the new version and app_env, and no request through the load balancer fails meanwhile.
    with RequestLoop(sandbox, alb) as loop:
        started = time.monotonic()
        rolled = sandbox.playbook("playbooks/site.yml", *SCALED, *ROLLED)
        roll_seconds = time.monotonic() - started
    steps = re.findall(r"^TASK \[shipyard\.ec2_compose\.load_balancer : (Drain the host out|Put the host back)",
                       rolled.output, re.MULTILINE)
    assert steps == ["Drain the host out", "Put the host back"] * 2, steps
    assert sorted(version_on(container) for container in containers) == ["1.0.0", "1.0.0"]
    assert all("GREETING=hello" in env_of(container) for container in containers)
    assert loop.failed == {} and loop.answers[200] > 50, (loop.answers, roll_seconds)

    # A version that fails its health check: the roll-out stops at the first host, which is back on
    # the last healthy version and in the load balancer; the other host was not touched.
    with RequestLoop(sandbox, alb) as loop:
        broken = sandbox.playbook("playbooks/site.yml", *SCALED, *ROLLED, "-e", "app_version=v1.2.0-broken",
                                  check=False)
    assert broken.rc != 0
    recaps = {host: broken.recap(host) for host in HOSTS}  # the first host is the inventory's first, either
    assert sorted(recap["failed"] for recap in recaps.values()) == [0, 1]
    assert [recap["ok"] for recap in recaps.values() if not recap["failed"]] == [0]
    assert sorted(version_on(container) for container in containers) == ["1.0.0", "1.0.0"]
    assert loop.failed == {} and loop.answers[200] > 50, loop.answers
    healthy = [d["TargetHealth"]["State"] for g in elbv2.describe_target_groups()["TargetGroups"]
               for d in elbv2.describe_target_health(TargetGroupArn=g["TargetGroupArn"])["TargetHealthDescriptions"]]
    assert healthy == ["healthy", "healthy"]


def env_of(container):
    return subprocess.run(["docker", "exec", container, "cat", "/opt/tasklist/.env"], capture_output=True, text=True,
                          timeout=60, check=True).stdout


def scale_up_and_down(sandbox, alb, containers):
    # Scaling 2 -> 3 -> 2: the third host joins and leaves, the first two are not changed.
    with RequestLoop(sandbox, alb) as loop:
        up = sandbox.playbook("playbooks/site.yml", *SCALED, *ROLLED, "-e", "instance_count=3")
        assert all(up.recap(host)["changed"] == 0 for host in HOSTS)
        assert up.recap("tasklist-dev-web-3")["changed"] > 0 and len(sandbox.containers()) == 3
        down = sandbox.playbook("playbooks/site.yml", *SCALED, *ROLLED, "-e", "instance_count=2")
    assert all(down.recap(host)["changed"] == 0 for host in HOSTS)
    assert sorted(sandbox.containers()) == sorted(containers)
    assert loop.failed == {} and loop.answers[200] > 50, loop.answers


@pytest.mark.parametrize(("extra", "named"), [
    (["-e", "instance_count=0"], "instance_count must be a whole number from 1 to instance_count_max (10)"),
    (["-e", "instance_count=11"], "instance_count must be a whole number from 1 to instance_count_max (10)"),
    (["-e", '{"availability_zones": ["us-east-1a"]}'], "availability_zones must be empty (two zones are picked)"),
    (["-e", '{"database_subnet_cidrs": ["10.0.1.0/25", "10.0.12.0/24"]}'], "overlap"),
    (["-e", "database_instance_class=db.r7g.16xlarge"], "database_instance_class 'db.r7g.16xlarge' has no price"),
    (["-e", "layout=several"], "value of layout must be one of: single, scaled, got: several"),
])
def test_bad_scaled_inputs_fail_before_any_aws_call(sandbox, extra, named):
    mark = sandbox.requests_mark()
    arguments = [*SCALED, *extra] if "layout=several" not in extra else extra
    run = sandbox.playbook("playbooks/provision.yml", *arguments, check=False)
    assert run.rc != 0 and named in run.output, run.output[-3000:]
    # The only request allowed is the dynamic inventory's, made when ansible-playbook starts.
    assert [r["action"] for r in sandbox.requests_since(mark)] in ([], ["DescribeInstances"])
