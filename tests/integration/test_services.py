"""sandbox/services.py: an Application Load Balancer is an HAProxy that forwards to its registered
hosts and checks their health, which DescribeTargetHealth reports; an RDS instance is a PostgreSQL the
hosts reach at its endpoint name; both behind their security groups, both gone with their resource."""

import urllib.error
import urllib.request
from pathlib import Path

from cloud import debian_image, docker, security_group, tcp, wait_until

# A host's app: / names the host, /health answers 200, or 503 once /tmp/unhealthy exists.
APP = r"""
import http.server, os, socket
class App(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        sick = self.path == "/health" and os.path.exists("/tmp/unhealthy")
        body = (b"sick" if sick else socket.gethostname().encode())
        self.send_response(503 if sick else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("", 80), App).serve_forever()
"""


def default_subnets(ec2):
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    by_zone = {subnet["AvailabilityZone"]: subnet["SubnetId"] for subnet in subnets}
    return [by_zone[zone] for zone in sorted(by_zone)[:2]]


def launch(sandbox, group, subnet):
    ec2 = sandbox.ec2
    instance_id = ec2.run_instances(ImageId=debian_image(ec2), MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                    SubnetId=subnet, SecurityGroupIds=[group])["Instances"][0]["InstanceId"]
    tags = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["Tags"]
    address = {tag["Key"]: tag["Value"] for tag in tags}["SandboxAddress"]
    container = next(c for c in sandbox.containers()
                     if docker("inspect", "--format", "{{.NetworkSettings.IPAddress}}", c).stdout.strip() == address)
    return {"id": instance_id, "address": address, "container": container,
            "hostname": docker("exec", container, "hostname").stdout.strip()}


def get(url):
    """(status, body) of one request from this machine."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def health(elb, group_arn, *target_ids):
    """{target id: (state, reason)} of the group's targets, or of those named."""
    named = {"Targets": [{"Id": target_id} for target_id in target_ids]} if target_ids else {}
    described = elb.describe_target_health(TargetGroupArn=group_arn, **named)["TargetHealthDescriptions"]
    return {d["Target"]["Id"]: (d["TargetHealth"]["State"], d["TargetHealth"].get("Reason")) for d in described}


def test_a_load_balancer_forwards_to_its_healthy_targets_and_drains_the_deregistered(sandbox):
    ec2, elb = sandbox.ec2, sandbox.client("elbv2")
    subnets = default_subnets(ec2)
    alb_group = security_group(ec2, "alb", tcp(80, "0.0.0.0/0"))
    app_group = security_group(ec2, "app", tcp(80, group=alb_group))
    hosts = [launch(sandbox, app_group, subnet) for subnet in subnets]
    for host in hosts:
        docker("exec", "--detach", host["container"], "python3", "-c", APP)
    vpc = ec2.describe_subnets(SubnetIds=subnets[:1])["Subnets"][0]["VpcId"]
    group_arn = elb.create_target_group(
        Name="app", Protocol="HTTP", Port=80, VpcId=vpc, HealthCheckPath="/health", HealthCheckIntervalSeconds=5,
        HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2, UnhealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(TargetGroupArn=group_arn, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "3"}])
    balancer = elb.create_load_balancer(Name="app", Subnets=subnets, SecurityGroups=[alb_group])["LoadBalancers"][0]
    elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": group_arn}])
    tags = elb.describe_tags(ResourceArns=[balancer["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]
    url = f"http://{ {tag['Key']: tag['Value'] for tag in tags}['SandboxAddress'] }/"
    (proxy,) = sandbox.service_containers("lb")

    elb.register_targets(TargetGroupArn=group_arn, Targets=[{"Id": host["id"]} for host in hosts])
    assert set(health(elb, group_arn).values()) == {("initial", "Elb.RegistrationInProgress")}
    wait_until(lambda: set(health(elb, group_arn).values()) == {("healthy", None)}, seconds=30)
    answered = {get(url) for _request in range(6)}
    assert answered == {(200, host["hostname"]) for host in hosts}  # round robin over both
    assert not sandbox.accepts(hosts[0]["address"], 80)  # the app port: from the load balancer only

    # A host that fails its health check gets no request.
    sick, well = hosts
    docker("exec", sick["container"], "touch", "/tmp/unhealthy")
    wait_until(lambda: health(elb, group_arn)[sick["id"]] == ("unhealthy", "Target.ResponseCodeMismatch"),
               seconds=30)
    assert {get(url) for _request in range(6)} == {(200, well["hostname"])}
    docker("exec", sick["container"], "rm", "/tmp/unhealthy")
    wait_until(lambda: health(elb, group_arn)[sick["id"]] == ("healthy", None), seconds=30)

    # A deregistered host drains for the group's delay, then is gone; the other serves all along.
    elb.deregister_targets(TargetGroupArn=group_arn, Targets=[{"Id": sick["id"]}])
    assert health(elb, group_arn)[sick["id"]] == ("draining", "Target.DeregistrationInProgress")
    # Asked by name too (how a module waits for a drain to end).
    assert health(elb, group_arn, sick["id"]) == {sick["id"]: ("draining", "Target.DeregistrationInProgress")}
    assert {get(url) for _request in range(6)} == {(200, well["hostname"])}
    wait_until(lambda: sick["id"] not in health(elb, group_arn), seconds=20)

    elb.delete_listener(ListenerArn=elb.describe_listeners(
        LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"][0]["ListenerArn"])
    elb.delete_load_balancer(LoadBalancerArn=balancer["LoadBalancerArn"])
    assert docker("inspect", proxy).returncode != 0
    assert health(elb, group_arn)[well["id"]][0] == "unused"  # no load balancer sends it traffic


def test_a_database_is_a_postgresql_the_hosts_reach_by_its_endpoint_and_a_snapshot_is_a_dump(sandbox):
    ec2, rds = sandbox.ec2, sandbox.client("rds")
    app_group = security_group(ec2, "app", tcp(22, "0.0.0.0/0"))
    db_group = security_group(ec2, "db", tcp(5432, group=app_group))
    rds.create_db_subnet_group(DBSubnetGroupName="app", DBSubnetGroupDescription="app",
                               SubnetIds=default_subnets(ec2))
    created = rds.create_db_instance(
        DBInstanceIdentifier="app-db", DBInstanceClass="db.t3.micro", Engine="postgres", MasterUsername="app",
        MasterUserPassword="not-the-default-1", DBName="tasks", AllocatedStorage=20, DBSubnetGroupName="app",
        VpcSecurityGroupIds=[db_group], PubliclyAccessible=False, StorageEncrypted=True)["DBInstance"]
    assert created["DBInstanceStatus"] == "creating"
    host = launch(sandbox, app_group, default_subnets(ec2)[0])

    def available():
        """the database instance is available"""
        found = rds.describe_db_instances(DBInstanceIdentifier="app-db")["DBInstances"][0]
        return found["DBInstanceStatus"] == "available" and found

    wait_until(available, seconds=90)
    endpoint = available()["Endpoint"]
    (database,) = sandbox.service_containers("db")
    db_address = docker("inspect", "--format", "{{.NetworkSettings.IPAddress}}", database).stdout.strip()
    # The host resolves the endpoint through the VPC's resolver, and its group may connect.
    resolved = docker("exec", host["container"], "getent", "hosts", endpoint["Address"]).stdout.split()
    assert resolved[:1] == [db_address]
    probe = f"import socket; socket.create_connection(('{endpoint['Address']}', {endpoint['Port']}), 3).close()"
    wait_until(lambda: docker("exec", host["container"], "python3", "-c", probe).returncode == 0, seconds=20)
    assert not sandbox.accepts(db_address, 5432)  # this machine is not in the app's group
    # The master user, its password and the database are the ones asked for.
    query = ["psql", "-h", "127.0.0.1", "-U", "app", "-d", "tasks", "-Atc", "create table t (v text); "
             "insert into t values ('kept'); select current_user"]
    wrong = docker("exec", "-e", "PGPASSWORD=wrong", database, *query)
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr
    assert docker("exec", "-e", "PGPASSWORD=not-the-default-1", database, *query).stdout.split()[-1] == "app"

    # A final snapshot is a real dump, taken before the container goes with its instance.
    rds.delete_db_instance(DBInstanceIdentifier="app-db", FinalDBSnapshotIdentifier="app-db-final")
    assert docker("inspect", database).returncode != 0
    dump = Path(sandbox.env["SANDBOX_REQUEST_LOG"]).parent / "rds-snapshots" / "us-east-1" / "app-db-final.sql"
    assert "kept" in dump.read_text()
    assert rds.describe_db_snapshots(DBSnapshotIdentifier="app-db-final")["DBSnapshots"][0]["Status"] == "available"
