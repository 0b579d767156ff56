"""The example Task List's API (examples/tasklist/api/app.py) against a real PostgreSQL: the sandbox's
RDS. Hosts that start at once on a new database (the scaled layout's) create its schema once, not
racing each other: the creation runs under an advisory lock."""

import importlib.util
import shutil
import threading
from pathlib import Path

from cloud import docker, security_group, tcp, wait_until

ROOT = Path(__file__).resolve().parents[2]
HOSTS = 12  # API processes starting at the same moment
ROUNDS = 30


def load_app(monkeypatch, tmp_path, address):
    """The API module as its image holds it (app.py beside VERSION), pointed at the database."""
    monkeypatch.setenv("DB_HOST", address)
    monkeypatch.setenv("DB_NAME", "tasks")
    monkeypatch.setenv("DB_USER", "tasks")
    monkeypatch.setenv("DB_PASSWORD", "not-the-default-1")
    example = ROOT / "examples" / "tasklist"
    for source in (example / "api" / "app.py", example / "VERSION"):
        shutil.copy(source, tmp_path / source.name)
    spec = importlib.util.spec_from_file_location("tasklist_api", tmp_path / "app.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    return app


def test_hosts_starting_at_once_on_a_new_database_create_the_schema_once(sandbox, monkeypatch, tmp_path):
    ec2, rds = sandbox.ec2, sandbox.client("rds")
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    zones = {subnet["AvailabilityZone"]: subnet["SubnetId"] for subnet in subnets}
    group = security_group(ec2, "db", tcp(5432, f"{sandbox.my_ip()}/32"))  # this machine may connect
    rds.create_db_subnet_group(DBSubnetGroupName="tasks", DBSubnetGroupDescription="tasks",
                               SubnetIds=[zones[zone] for zone in sorted(zones)[:2]])
    rds.create_db_instance(DBInstanceIdentifier="tasks", DBInstanceClass="db.t3.micro", Engine="postgres",
                           MasterUsername="tasks", MasterUserPassword="not-the-default-1", DBName="tasks",
                           AllocatedStorage=20, DBSubnetGroupName="tasks", VpcSecurityGroupIds=[group])

    def available():
        """the database instance is available"""
        return rds.describe_db_instances(DBInstanceIdentifier="tasks")["DBInstances"][0]["DBInstanceStatus"] \
            == "available"

    wait_until(available, seconds=90)
    (database,) = sandbox.service_containers("db")
    address = docker("inspect", "--format", "{{.NetworkSettings.IPAddress}}", database).stdout.strip()
    app = load_app(monkeypatch, tmp_path, address)
    wait_until(lambda: sandbox.accepts(address, 5432), seconds=30)

    # The race is narrow (two CREATE TABLE IF NOT EXISTS that both find no table): many rounds on an
    # emptied database, each with every host at once. Without the lock, some round fails.
    for number in range(ROUNDS):
        with app.connect() as db, db.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS tasks")
        errors = start_at_once(app)
        assert errors == [], f"round {number}"
        with app.connect() as db, db.cursor() as cursor:
            cursor.execute("SELECT title FROM tasks")
            assert cursor.fetchall() == [(app.FIRST_TASK,)], f"round {number}"  # the first task, once


def start_at_once(app):
    """HOSTS threads create the schema at the same moment; the errors they met."""
    start, errors = threading.Barrier(HOSTS), []

    def host():
        start.wait(timeout=60)
        try:
            app.create_schema(attempts=5)
        except Exception as error:  # any error of any host is the finding
            errors.append(repr(error))

    threads = [threading.Thread(target=host, name=f"host-{number}") for number in range(HOSTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors
