"""The sandbox's managed services: what backs moto's Application Load Balancers, RDS instances and
the VPC's DNS with real parts, as the backer backs instances with containers.

* The VPC's resolver (AmazonProvidedDNS): one dnsmasq container per sandbox that answers the
  services' DNS names (an RDS endpoint, a load balancer's DNS name) with their containers' addresses
  and forwards every other name. Hosts boot with it as their nameserver, so the containers of a
  host's compose app reach the database by its endpoint name, as in a VPC.
* An Application Load Balancer: an HAProxy container (load_balancers.py) that serves the HTTP
  listeners (HTTPS ones with their ACM certificate, acm.py), follows the target groups' registrations
  and health checks, and answers
  DescribeTargetHealth (initial, healthy, unhealthy, draining, unused) from HAProxy's own checks.
  Its address is tagged on the load balancer as ``SandboxAddress``: the controller cannot resolve
  the load balancer's DNS name, the sandbox's hosts can.
* Route 53's records: the resolver also answers every A record of the emulator's hosted zones, an
  instance's public address (its Elastic IP too) turned into its container's address, as the
  internet's DNS and AWS's one-to-one NAT would take a client there; an alias record to a load
  balancer is answered with its proxy's address.
* The internet's ACME CA (Let's Encrypt's test server, pebble, from Debian): one container per
  sandbox, resolving through that resolver, whose HTTP-01 challenges reach the hosts on port 80. Its
  own TLS certificate (its directory is HTTPS) and the root its certificates chain to are written to
  the state directory (``acme/``, ``acme.json``), with a bundle of the system's CAs and that root
  that the sandbox's env hands to the controller as ``SSL_CERT_FILE``.
* An RDS instance (PostgreSQL engines): a PostgreSQL container with the instance's master user,
  password, database name and port, "creating" until it accepts connections, then "available"; a
  DB snapshot of it is also a real dump (state dir ``rds-snapshots/REGION/ID.sql``), taken before
  the container goes with its instance.

Every service container gets the packet filter of its security groups (security_groups.py), and is
a member of those groups for the rules of others (the app hosts allow the load balancer's group).
The models are read in the emulator's process: the answers the backer gives (target health) are not
the backer's to ask the API for.
"""

import hashlib
import json
import ssl
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import load_balancers as lbs
from containers import address_of, docker, remove_container, running
from images import services_image

ADDRESS_TAG = "SandboxAddress"
SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"
# pebble's own TLS certificate is made where it runs (its address is known there), valid for that address.
ACME_CA_START = r"""
set -eu
address=$(hostname -i | cut -d' ' -f1)
mkdir -p /run/acme
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=sandbox-acme-ca \
  -addext "subjectAltName=IP:$address" -keyout /run/acme/key.pem -out /run/acme/cert.pem 2>/dev/null
printf '%s' '{"pebble": {"listenAddress": "0.0.0.0:14000", "managementListenAddress": "0.0.0.0:15000",
 "certificate": "/run/acme/cert.pem", "privateKey": "/run/acme/key.pem", "httpPort": 80, "tlsPort": 443,
 "ocspResponderURL": "", "externalAccountBindingRequired": false}}' > /run/acme/config.json
exec pebble -config /run/acme/config.json
"""
SERVICE_RUN_OPTIONS = ["--cap-add", "NET_ADMIN", "--tmpfs", "/run", "--tmpfs", "/tmp"]
POSTGRES_INIT = r"""
set -eu
read -r password
bin=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
data=/var/lib/postgresql/data
install -d -o postgres -g postgres -m 700 "$data" /run/postgresql
printf '%s\n' "$password" > /run/postgresql/pw && chown postgres /run/postgresql/pw
su postgres -s /bin/sh -c \
  "$bin/initdb -D $data -U '$MASTER_USER' --pwfile=/run/postgresql/pw -A scram-sha-256" >/dev/null
rm /run/postgresql/pw
echo "host all all 0.0.0.0/0 scram-sha-256" >> "$data/pg_hba.conf"
su postgres -s /bin/sh -c \
  "$bin/pg_ctl -D $data -l /var/lib/postgresql/log -w -o \"-c listen_addresses='*' -p $PORT\" start" >/dev/null
if [ -n "$DB_NAME" ]; then
  su postgres -s /bin/sh -c "$bin/createdb -h 127.0.0.1 -p $PORT -U '$MASTER_USER' '$DB_NAME'" <<EOF
$password
EOF
fi
"""


class Services:
    def __init__(self, state_dir, label, log):
        self.state_dir = Path(state_dir)
        self.label = label
        self.log = log
        self.registry_path = self.state_dir / "services.json"
        self.registry = self.load()
        self.lock = threading.RLock()
        self.stat_cache = {}  # load balancer ARN -> (monotonic time, parsed show stat)
        self.public_addresses = {}  # region -> {an instance's public IP: its container's address}

    # --- bookkeeping -------------------------------------------------------------------------
    def load(self):
        try:
            registry = json.loads(self.registry_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            registry = {}
        return {"resolver": registry.get("resolver"), "acme": registry.get("acme"), "lb": registry.get("lb", {}),
                "db": registry.get("db", {})}

    def save(self):
        self.registry_path.write_text(json.dumps(self.registry, indent=1), encoding="utf-8")

    def container_name(self, kind, name):
        suffix = hashlib.sha256(self.label.encode()).hexdigest()[:8]
        return f"shipyard-sandbox-{kind}-{name}-{suffix}"[:120]

    def run(self, kind, name, *command, options=()):
        container = docker("run", "--detach", "--name", self.container_name(kind, name), "--label", self.label,
                           *SERVICE_RUN_OPTIONS, *options, services_image(), *command).strip()
        return container, address_of(container)

    # --- the VPC's resolver ------------------------------------------------------------------
    def resolver_address(self):
        """The resolver's address, started on first use; None when it cannot start (hosts then use
        the engine's nameserver)."""
        with self.lock:
            known = self.registry["resolver"]
            if known and running(known["id"]):
                return known["address"]
            if known:
                remove_container(known["id"])
            try:
                container, address = self.run(
                    "resolver", "vpc", "sh", "-c",
                    "touch /run/hosts && exec dnsmasq --keep-in-foreground --no-hosts --addn-hosts=/run/hosts "
                    "--user=root --cache-size=0 --log-facility=-")
            except (subprocess.SubprocessError, OSError) as error:
                self.log(f"resolver: not started: {error}")
                return None
            self.registry["resolver"] = {"id": container, "address": address, "names": {}}
            self.save()
            return address

    def publish_names(self):
        """Hand the resolver every service name and Route 53 A record (reloaded with SIGHUP when they changed)."""
        names = {}
        for known in list(self.registry["lb"].values()) + list(self.registry["db"].values()):
            names[known["name"]] = [known["address"]]
        names.update(self.route53_records())
        resolver = self.registry["resolver"]
        if not resolver or resolver.get("names") == names:
            return
        hosts = "".join(f"{address} {name}\n" for name, addresses in sorted(names.items()) for address in addresses)
        docker("exec", "-i", resolver["id"], "sh", "-c", "cat > /run/hosts && kill -HUP 1", stdin=hosts.encode())
        resolver["names"] = names

    def route53_records(self):
        """{name: [address]} of every A record of the emulator's hosted zones; a public address of an
        instance is its container's, an alias to a load balancer's DNS name its proxy's."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.route53.models import route53_backends

        public = {ip: address for addresses in self.public_addresses.values() for ip, address in addresses.items()}
        balancers = {known["name"].lower(): known["address"] for known in self.registry["lb"].values()}
        found = {}
        for zone in route53_backends[DEFAULT_ACCOUNT_ID]["aws"].zones.values():
            for record in zone.rrsets:
                alias = (getattr(record, "alias_target", None) or {}).get("DNSName", "")
                target = alias.lower().rstrip(".").removeprefix("dualstack.")
                if record.type == "A" and target in balancers:
                    found[record.name.rstrip(".").lower()] = [balancers[target]]
                elif record.type == "A" and record.records:
                    values = [value["Value"] if isinstance(value, dict) else value for value in record.records]
                    found[record.name.rstrip(".").lower()] = [public.get(value, value) for value in values]
        return found

    def note_public_addresses(self, account, region, hosts):
        """Which container each running instance's public address (an Elastic IP too) leads to."""
        from moto.ec2.models import ec2_backends

        backend = ec2_backends[account][region]
        found = {}
        for instance_id, address in hosts.items():
            try:
                public = backend.get_instance(instance_id).public_ip
            except Exception:  # gone in the meantime: nothing to lead to
                continue
            if public:
                found[public] = address
        self.public_addresses[region] = found

    # --- the internet's ACME CA --------------------------------------------------------------
    def acme_ca(self):
        """Start the ACME CA (once; again if its container went) and write what a client needs to trust
        it to the state directory: acme.json {directory, tls_root, root, bundle}."""
        with self.lock:
            known = self.registry["acme"]
            if known and running(known["id"]) and (self.state_dir / "acme.json").exists():
                return
            if known:
                remove_container(known["id"])
            resolver = self.resolver_address()
            container, address = self.run("acme", "ca", "sh", "-c", ACME_CA_START, options=[
                "--env", "PEBBLE_VA_NOSLEEP=1", "--env", "PEBBLE_WFE_NONCEREJECT=0",
                *(["--dns", resolver] if resolver else [])])
            self.registry["acme"] = {"id": container, "address": address}
            self.save()
            folder = self.state_dir / "acme"
            folder.mkdir(exist_ok=True)
            tls_root = folder / "tls-root.pem"
            deadline = time.monotonic() + 30
            while True:
                try:
                    tls_root.write_text(docker("exec", container, "cat", "/run/acme/cert.pem"), encoding="utf-8")
                    context = ssl.create_default_context(cafile=str(tls_root))
                    with urllib.request.urlopen(f"https://{address}:15000/roots/0", context=context,
                                                timeout=5) as answer:
                        root = answer.read().decode()
                    break
                except (subprocess.SubprocessError, OSError, ValueError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            (folder / "root.pem").write_text(root, encoding="utf-8")
            system = Path(SYSTEM_CAS).read_text(encoding="utf-8") if Path(SYSTEM_CAS).exists() else ""
            # ACM's root too (acm.py): the load balancers' certificates chain to it.
            acm_root = self.state_dir / "acm" / "root.pem"
            acm_text = acm_root.read_text(encoding="utf-8") if acm_root.exists() else ""
            (folder / "ca-bundle.pem").write_text(system + root + acm_text, encoding="utf-8")
            (self.state_dir / "acme.json").write_text(json.dumps({
                "directory": f"https://{address}:14000/dir", "tls_root": str(tls_root),
                "root": str(folder / "root.pem"), "bundle": str(folder / "ca-bundle.pem")}), encoding="utf-8")
            self.log(f"ACME CA {container[:12]} at https://{address}:14000/dir")

    # --- the sync ----------------------------------------------------------------------------
    def sync(self, account, region, hosts):
        """Catch up with a region's load balancers and databases; hosts: {instance id: address}."""
        with self.lock:
            self.note_public_addresses(account, region, hosts)
            for step in (self.sync_load_balancers, self.sync_databases):
                try:
                    step(account, region, hosts)
                except (subprocess.SubprocessError, OSError) as error:
                    self.log(f"{region} {step.__name__}: {error} {getattr(error, 'stderr', b'') or b''!r}")
            self.publish_names()
            self.save()

    def members(self, region):
        """The service containers of a region as security-group members (DescribeInstances' shape, for
        security_groups.rulesets), with their container ids."""
        found = []
        for key, known in list(self.registry["lb"].items()) + list(self.registry["db"].items()):
            if known["region"] == region and known.get("groups") is not None:
                found.append({"InstanceId": key, "address": known["address"], "container": known["id"],
                              "SecurityGroups": [{"GroupId": group} for group in known["groups"]]})
        return found

    def entry(self, key):
        """The registry entry of a service container by its member key (a load balancer's ARN, or
        REGION/DB-ID): where the backer keeps its packet filter's digest."""
        return self.registry["lb"].get(key) or self.registry["db"][key]

    # --- load balancers ----------------------------------------------------------------------
    def sync_load_balancers(self, account, region, hosts):
        from moto.elbv2.models import elbv2_backends

        backend = elbv2_backends[account][region]
        live = {arn: balancer for arn, balancer in backend.load_balancers.items()
                if balancer.type == "application"}
        for arn in [arn for arn, known in self.registry["lb"].items() if known["region"] == region]:
            if arn not in live:
                remove_container(self.registry["lb"].pop(arn)["id"])
                self.log(f"{arn}: proxy removed")
        for arn, balancer in live.items():
            known = self.registry["lb"].get(arn) or self.start_proxy(backend, region, arn, balancer)
            known["groups"] = list(balancer.security_groups or [])
            groups = {group_arn: backend.target_groups[group_arn] for group_arn in lbs.target_groups(balancer)
                      if group_arn in backend.target_groups}
            self.configure_proxy(known, balancer, groups)
            self.follow_targets(known, groups, hosts)

    def start_proxy(self, backend, region, arn, balancer):
        wait_then_serve = f"until [ -s {lbs.CONFIG} ]; do sleep 0.1; done; exec haproxy -W -db -f {lbs.CONFIG}"
        container, address = self.run("lb", balancer.name, "sh", "-c", wait_then_serve)
        known = {"id": container, "address": address, "region": region, "name": balancer.dns_name,
                 "config": None, "servers": {}, "draining": {}}
        self.registry["lb"][arn] = known
        backend.tagging_service.tag_resource(arn, [{"Key": ADDRESS_TAG, "Value": address}])
        self.log(f"{arn}: proxy {container[:12]} at {address}")
        return known

    def configure_proxy(self, known, balancer, groups):
        pems = certificate_pems(balancer)
        text = lbs.config(balancer, groups, served_certificates=set(pems))
        digest = hashlib.sha256((text + "".join(pem for _port, pem in sorted(pems.items()))).encode()).hexdigest()
        if known["config"] == digest:
            return
        first = known["config"] is None
        for listener in balancer.listeners.values():
            if listener.port in pems:
                path = lbs.certificate_file(listener)
                docker("exec", "-i", known["id"], "sh", "-c",
                       f"umask 077 && mkdir -p {lbs.CERTIFICATES} && cat > {path}.new && mv {path}.new {path}",
                       stdin=pems[listener.port].encode())
        docker("exec", "-i", known["id"], "sh", "-c", f"cat > {lbs.CONFIG}.new && mv {lbs.CONFIG}.new {lbs.CONFIG}",
               stdin=text.encode())
        if not first:  # a reload drops the servers added at run time: they are added again below
            docker("exec", known["id"], "kill", "-USR2", "1")
            time.sleep(0.5)
            known["servers"] = {}
        wait_for_socket(known["id"])
        known["config"] = digest

    def follow_targets(self, known, groups, hosts):
        """Add the registered targets, drain the deregistered ones, delete those drained."""
        wanted = {}
        for arn, group in groups.items():
            for target in group.targets.values():
                address = hosts.get(target["Id"], target["Id"] if target["Id"][0].isdigit() else None)
                if address:  # an instance without a running container: "unused"
                    wanted[f"{arn} {lbs.server_name(target['Id'], target['Port'])}"] = (arn, target, address)
        commands, now = [], time.time()
        for key, (arn, target, address) in wanted.items():
            server = known["servers"].get(key)
            if server and server["address"] == address and key not in known["draining"]:
                continue
            if server or key in known["draining"]:
                commands.append(lbs.delete_commands(arn, target["Id"], target["Port"]))
                known["draining"].pop(key, None)
            commands.append(lbs.add_commands(arn, target["Id"], target["Port"], address, groups[arn]))
            known["servers"][key] = {"address": address, "since": now}
        for key in [key for key in known["servers"] if key not in wanted and key not in known["draining"]]:
            arn, name = key.split(" ", 1)
            target_id, port = name.rsplit("_", 1)
            group = groups.get(arn)
            delay = float(group.attributes.get("deregistration_delay.timeout_seconds", 300)) if group else 0
            commands.append(lbs.drain_command(arn, target_id, port))
            known["draining"][key] = {"until": now + delay, "target": target_id, "port": port}
        for key, draining in list(known["draining"].items()):
            if draining["until"] <= now:
                commands.append(lbs.delete_commands(key.split(" ", 1)[0], draining["target"], draining["port"]))
                known["draining"].pop(key)
                known["servers"].pop(key, None)
        if commands:
            runtime(known["id"], "; ".join(commands))
            self.stat_cache.pop(known["id"], None)

    def stats(self, known):
        """show stat of a proxy, at most once a second."""
        cached = self.stat_cache.get(known["id"])
        if cached and time.monotonic() - cached[0] < 1:
            return cached[1]
        parsed = lbs.parse_stat(runtime(known["id"], "show stat"))
        self.stat_cache[known["id"]] = (time.monotonic(), parsed)
        return parsed

    def target_health(self, group, target_id, port):
        """(state, reason, description) for a target of a group that a proxy serves, else None."""
        key = f"{group.arn} {lbs.server_name(target_id, port)}"
        with self.lock:
            for known in self.registry["lb"].values():
                server = known["servers"].get(key)
                if server is None:
                    continue
                if key in known["draining"]:
                    return "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"
                try:
                    row = self.stats(known).get((lbs.backend_name(group.arn), lbs.server_name(target_id, port)))
                except (subprocess.SubprocessError, OSError):
                    row = None
                found = lbs.target_health(row, time.time() - server["since"], server.get("up_before"), group)
                server["up_before"] = server.get("up_before") or found[0] == "healthy"
                return found
        return None

    def draining(self, group):
        """(target id, port) of a group's targets that are draining after their deregistration."""
        with self.lock:
            return [(draining["target"], int(draining["port"])) for known in self.registry["lb"].values()
                    for key, draining in known["draining"].items() if key.startswith(group.arn + " ")]

    # --- databases ---------------------------------------------------------------------------
    def sync_databases(self, account, region, hosts):
        from moto.rds.models import rds_backends

        backend = rds_backends[account][region]
        live = {f"{region}/{ident}": database for ident, database in backend.databases.items()
                if str(database.engine).startswith("postgres")}
        self.dump_snapshots(region, backend)
        for key in [key for key, known in self.registry["db"].items() if known["region"] == region]:
            if key not in live:
                remove_container(self.registry["db"].pop(key)["id"])
                self.log(f"{key}: database removed")
        for key, database in live.items():
            known = self.registry["db"].get(key)
            if known is None:
                known = self.start_database(region, key, database)
            known["groups"] = list(database.vpc_security_group_ids or [])
            if known.get("ready") and database.status == "creating":
                database.status = "available"

    def start_database(self, region, key, database):
        port = str(database.port or 5432)
        container, address = self.run("db", key.replace("/", "-"), "sleep", "infinity")
        known = {"id": container, "address": address, "region": region, "name": database.address, "ready": False}
        self.registry["db"][key] = known
        self.save()
        docker("exec", "-i", "-e", f"MASTER_USER={database.master_username}", "-e", f"PORT={port}",
               "-e", f"DB_NAME={database.db_name or ''}", container, "sh", "-c", POSTGRES_INIT,
               stdin=(database._master_user_password + "\n").encode())  # where moto keeps it
        known["ready"] = True
        self.log(f"{key}: PostgreSQL {container[:12]} at {address} as {database.address}")
        return known

    def dump_snapshots(self, region, backend):
        """A real dump for every manual snapshot of a database we back, once (a final snapshot too: its
        database is gone from moto's table but its container is still here)."""
        folder = self.state_dir / "rds-snapshots" / region
        for ident, snapshot in backend.database_snapshots.items():
            known = self.registry["db"].get(f"{region}/{snapshot.db_instance_identifier}")
            path = folder / f"{ident}.sql"
            if known is None or path.exists() or snapshot.snapshot_type != "manual":
                continue
            folder.mkdir(parents=True, exist_ok=True)
            user = snapshot.database.master_username
            dump = docker("exec", "-i", known["id"], "sh", "-c",
                          f"PGPASSWORD=$(cat) pg_dumpall -h 127.0.0.1 -p {snapshot.database.port or 5432} -U '{user}'",
                          stdin=snapshot.database._master_user_password.encode())
            path.write_text(dump, encoding="utf-8")
            self.log(f"{ident}: snapshot of {snapshot.db_instance_identifier} dumped to {path}")

    def remove_all(self):
        """Remove every service container; returns how many."""
        found = [known["id"] for known in [self.registry["resolver"] or {}, self.registry["acme"] or {},
                                           *self.registry["lb"].values(),
                                           *self.registry["db"].values()] if known.get("id")]
        for container in found:
            remove_container(container)
        self.registry = {"resolver": None, "acme": None, "lb": {}, "db": {}}
        self.registry_path.unlink(missing_ok=True)
        return len(found)


def certificate_pems(balancer):
    """{port: certificate + key} of a load balancer's HTTPS listeners whose ACM certificate is issued
    (HAProxy's crt file)."""
    from moto.acm.models import CertificateNotFound, acm_backends

    _arn, _partition, _service, region, account, *_rest = balancer.arn.split(":")
    found = {}
    for listener in balancer.listeners.values():
        arn = lbs.certificate_arn(listener)
        if not arn or ":acm:" not in arn:
            continue
        try:
            bundle = acm_backends[account][region].get_certificate(arn)
        except CertificateNotFound:
            continue
        if bundle.status == "ISSUED":
            # Issued by the root itself: no intermediate to send (the client holds the root).
            found[listener.port] = bundle.cert.decode().strip() + "\n" + bundle.key.decode().strip() + "\n"
    return found


def runtime(container, commands):
    """HAProxy's runtime API (the stats socket) inside a proxy container."""
    return docker("exec", "-i", container, "socat", "-", lbs.SOCKET, stdin=(commands + "\n").encode())


def wait_for_socket(container, seconds=10):
    deadline = time.monotonic() + seconds
    while True:
        try:
            runtime(container, "show info")
            return
        except subprocess.CalledProcessError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def install(services):
    """Patch moto's ELBv2 and RDS models so that their answers come from the services: target health
    from the proxies, and RDS instances "creating" until their PostgreSQL answers."""
    from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup
    from moto.rds.models import DBInstance

    health_for = FakeTargetGroup.health_for

    def health_from_proxy(self, target, ec2_backend):
        status = health_for(self, target, ec2_backend)
        if status.status in ("healthy",):
            if not self.load_balancer_arns:
                return FakeHealthStatus(status.instance_id, status.port, status.health_check_port, "unused",
                                        "Target.NotInUse", "Target group is not configured to receive traffic "
                                        "from the load balancer")
            found = services.target_health(self, status.instance_id, status.port)
            if found is None:
                found = ("unused", "Target.InvalidState", "Target is in the stopped state")
            return FakeHealthStatus(status.instance_id, status.port, status.health_check_port, *found)
        return status

    describe_target_health = ELBv2Backend.describe_target_health

    def with_draining(self, target_group_arn, targets):
        found = describe_target_health(self, target_group_arn, targets)
        group = self.target_groups[target_group_arn]
        for target_id, port in services.draining(group):
            # Asked by name, moto calls a deregistered target "unused" at once: AWS says draining.
            if not targets or any(t["Id"] == target_id for t in targets):
                found = [status for status in found if (status.instance_id, int(status.port)) != (target_id, port)]
                found.append(FakeHealthStatus(target_id, port, group.health_check_port, "draining",
                                              "Target.DeregistrationInProgress",
                                              "Target deregistration is in progress"))
        return found

    init = DBInstance.__init__

    def creating(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if str(self.engine).startswith("postgres"):
            self.status = "creating"

    FakeTargetGroup.health_for = health_from_proxy
    ELBv2Backend.describe_target_health = with_draining
    DBInstance.__init__ = creating
