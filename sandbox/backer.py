"""The backer: keeps the emulator's EC2 instances and Docker containers in step.

For every running instance of the emulator it boots a "vm" container (sandbox/vm: Debian, systemd
as PID 1, sshd, able to run Docker inside), then does what EC2 + cloud-init do at first boot:
creates the AMI's login user with the key pair's public key and passwordless sudo, and runs the
instance's user data once (output in /var/log/cloud-init-output.log, then
/var/lib/cloud/instance/boot-finished), while a first-boot package job holds the dpkg locks for a
while, as apt's daily jobs do on a cloud image. The container's address is written back on the instance
as the tag ``SandboxAddress``, which inventory/sandbox.aws_ec2.yml turns into ``ansible_host``.
Stopped instances stop their container; terminated ones (or ones gone after a reset) lose it.
Every host's security groups are enforced in its network namespace (security_groups.py), from before
its first boot and whenever they change.
An instance is "pending" until its container has booted, then "running" (``on_booted``).

It runs inside the emulator's process (see moto_launcher.py): a sync after every call that starts,
stops or terminates instances, before the call answers, and a periodic sync for everything else.
It talks to the emulator through its public API only, with its own access key, which the request
log leaves out: the calls counted in tests and benchmarks are the user's.
"""

import base64
import hashlib
import json
import os
import subprocess
import threading
from pathlib import Path

import boto3
import containers
import security_groups
from containers import remove_container
from images import IMAGE_DIR, vm_image
from services import Services

BACKER_ACCESS_KEY = "sandbox-backer"
# On a cloud image apt's first-boot jobs hold the dpkg lock for seconds to minutes.
DEFAULT_FIRST_BOOT_APT_SECONDS = 20
ADDRESS_TAG = "SandboxAddress"
PRELOAD_MOUNT = "/opt/shipyard-sandbox/images"
# What Docker-in-a-container needs here, without --privileged (which this host refuses).
VM_RUN_OPTIONS = [
    # SYS_PTRACE: `docker exec` inside joins containers that run as another user (healthchecks).
    "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--cap-add", "SYS_PTRACE",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "-v", "/var/lib/docker",
    "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp:exec,mode=1777",
]
FIRST_BOOT = r"""
set -eu
id "$LOGIN_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --groups sudo "$LOGIN_USER"
echo "$LOGIN_USER ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/90-cloud-init-users
home=$(getent passwd "$LOGIN_USER" | cut -d: -f6)
install -d -m 700 -o "$LOGIN_USER" -g "$LOGIN_USER" "$home/.ssh"
printf '%s\n' "$PUBLIC_KEY" > "$home/.ssh/authorized_keys"
chown "$LOGIN_USER:" "$home/.ssh/authorized_keys" && chmod 600 "$home/.ssh/authorized_keys"
mkdir -p /var/lib/cloud/instance
"""
# Like a cloud image's first boot: a package job (apt's daily upgrade, cloud-init's package update)
# holds the dpkg locks for a while after sshd answers; then cloud-init's scripts-user runs the user
# data if it is a script, and writes boot-finished.
RUN_USER_DATA = r"""
if [ "${FIRST_BOOT_APT_SECONDS:-0}" != 0 ]; then
  python3 - "$FIRST_BOOT_APT_SECONDS" > /var/log/sandbox-first-boot-apt.log 2>&1 <<'JOB' &
import fcntl, sys, time
locks = [open(path, "w") for path in ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock")]
for lock in locks:
    fcntl.lockf(lock, fcntl.LOCK_EX)
print("held", time.time(), flush=True)
time.sleep(float(sys.argv[1]))
print("released", time.time(), flush=True)
JOB
fi
systemctl is-system-running --wait >/dev/null 2>&1
cd /var/lib/cloud/instance
if head -c2 user-data.txt | grep -q '#!'; then
  chmod 700 user-data.txt && ./user-data.txt > /var/log/cloud-init-output.log 2>&1
  echo $? > user-data.rc
else
  echo "user data is not a script: not run (the sandbox runs #! scripts only)" > /var/log/cloud-init-output.log
fi
touch boot-finished
"""


def first_boot_apt_seconds(instance):
    """How long the instance's first-boot package job holds the dpkg locks: its tag
    SandboxFirstBootAptSeconds, else SANDBOX_FIRST_BOOT_APT_SECONDS, else the default."""
    tags = {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}
    seconds = tags.get("SandboxFirstBootAptSeconds",
                       os.environ.get("SANDBOX_FIRST_BOOT_APT_SECONDS", DEFAULT_FIRST_BOOT_APT_SECONDS))
    return max(0.0, float(seconds))


def login_user_for(image_name):
    name = image_name.lower()
    return "admin" if "debian" in name else "ubuntu" if "ubuntu" in name else "ec2-user"


def suite_for(image_name):
    # Ubuntu cannot be built here: Ubuntu images boot a Debian 13 vm (the sandbox's default).
    return "bookworm" if "debian-12" in image_name.lower() else "trixie"


class Backer:
    def __init__(self, endpoint, state_dir, on_booted=None, enforce_security_groups=True):
        self.endpoint = endpoint
        self.enforce_security_groups = enforce_security_groups
        self.on_booted = on_booted or (lambda region, instance_id: None)
        self.registry_path = Path(state_dir) / "containers.json"
        self.label = sandbox_label(state_dir)
        self.lock = threading.Lock()
        self.session = boto3.Session(aws_access_key_id=BACKER_ACCESS_KEY, aws_secret_access_key="sandbox",
                                     region_name="us-east-1")
        self.region_names = None
        self.clients = {}  # region -> EC2 client: made once (a client costs more CPU than its call)
        self.containers = self.load_registry()  # instance id -> {"id", "state", "address"}
        # The regions that any call named (and those of the hosts a previous run left): a full sync
        # reads these only. Every 5 s over every region cost each sandbox a fifth of a core.
        self.used_regions = {"us-east-1", *(known.get("region") for known in self.containers.values()
                                            if known.get("region"))}
        self.log_path = Path(state_dir) / "backer.log"
        self.services = Services(state_dir, self.label, self.log)

    # --- bookkeeping -------------------------------------------------------------------------
    def load_registry(self):
        try:
            return json.loads(self.registry_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}

    def save_registry(self):
        self.registry_path.write_text(json.dumps(self.containers, indent=1), encoding="utf-8")

    def log(self, message):
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(message + "\n")

    def ec2(self, region):
        if region not in self.clients:
            self.clients[region] = self.session.client("ec2", region_name=region, endpoint_url=self.endpoint)
        return self.clients[region]

    def note_region(self, region):
        """A call named this region: from now on a full sync reads it too."""
        self.used_regions.add(region)

    def regions(self):
        """The regions a full sync reads: those of the emulator that a call named."""
        if self.region_names is None:
            self.region_names = [r["RegionName"] for r in self.ec2("us-east-1").describe_regions()["Regions"]]
        return [name for name in self.region_names if name in self.used_regions]

    def instances(self, regions):
        for region in regions:
            for page in self.ec2(region).get_paginator("describe_instances").paginate():
                for reservation in page["Reservations"]:
                    for instance in reservation["Instances"]:
                        yield region, instance

    # --- the sync ----------------------------------------------------------------------------
    def sync(self, region=None):
        """Catch up with one region (after a call made there) or with every region."""
        with self.lock:
            regions = [region] if region else self.regions()
            seen, listed = set(), {}
            for region_name, instance in self.instances(regions):
                instance_id, state = instance["InstanceId"], instance["State"]["Name"]
                seen.add(instance_id)
                listed.setdefault(region_name, []).append(instance)
                known = self.containers.get(instance_id)
                try:
                    if state in ("pending", "running") and not known:
                        self.boot(region_name, instance)
                        self.on_booted(region_name, instance_id)
                    elif state in ("pending", "running") and known["state"] == "stopped":
                        self.docker("start", known["id"])
                        known["state"] = "running"
                        known.pop("filter", None)  # a started container has a new network namespace
                        self.tag_address(region_name, instance_id, known["id"])
                        self.on_booted(region_name, instance_id)
                    elif state == "pending" and known["state"] == "running" and known.get("address"):
                        self.on_booted(region_name, instance_id)  # its container is up already
                    elif state in ("stopping", "stopped") and known and known["state"] == "running":
                        self.docker("stop", known["id"])
                        known["state"] = "stopped"
                    elif state in ("shutting-down", "terminated") and known:
                        self.remove(instance_id)
                except (subprocess.SubprocessError, OSError) as error:
                    self.log(f"{instance_id}: {error}")
            vanished = [instance_id for instance_id, known in self.containers.items()
                        if instance_id not in seen and (region is None or known.get("region") == region)]
            for instance_id in vanished:  # the emulator was reset
                self.remove(instance_id)
            from moto.core import DEFAULT_ACCOUNT_ID  # the backer runs in the emulator's process

            for region_name in regions:
                hosts = {instance["InstanceId"]: self.containers[instance["InstanceId"]]["address"]
                         for instance in listed.get(region_name, []) if self.is_up(instance)}
                self.services.sync(DEFAULT_ACCOUNT_ID, region_name, hosts)
            for region_name in regions:
                self.apply_filters(region_name, listed.get(region_name, []))
            self.save_registry()

    def boot(self, region, instance):
        ec2 = self.ec2(region)
        instance_id = instance["InstanceId"]
        image = ec2.describe_images(ImageIds=[instance["ImageId"]])["Images"]
        image_name = image[0].get("Name", "") if image else ""
        resolver = self.services.resolver_address()  # the VPC's DNS: it knows the services' names
        container = self.docker(
            "run", "--detach", "--name", f"shipyard-sandbox-{instance_id}", *(["--dns", resolver] if resolver else []),
            "--hostname", instance.get("PrivateDnsName", "").split(".")[0] or instance_id,
            "--label", self.label, "--label", f"shipyard.sandbox.instance={instance_id}",
            *VM_RUN_OPTIONS, "-v", f"{IMAGE_DIR}:{PRELOAD_MOUNT}:ro", vm_image(suite_for(image_name)),
        ).strip()
        self.containers[instance_id] = {"id": container, "state": "running", "region": region,
                                        "address": containers.address_of(container)}
        self.save_registry()
        try:
            self.apply_filters(region)  # before sshd answers, as the groups hold from the first packet
            self.first_boot(ec2, instance, image_name, container)
        except (subprocess.SubprocessError, OSError):
            self.remove(instance_id)  # half booted: the next sync boots it again
            raise
        self.log(f"{instance_id}: booted {container[:12]} from {image_name or instance['ImageId']}")

    def first_boot(self, ec2, instance, image_name, container):
        """What cloud-init does: the login user with the key pair's key, then the user data, once."""
        instance_id = instance["InstanceId"]
        public_key = ""
        if instance.get("KeyName"):
            pairs = ec2.describe_key_pairs(KeyNames=[instance["KeyName"]], IncludePublicKey=True)["KeyPairs"]
            public_key = pairs[0].get("PublicKey", "").strip()
        self.docker("exec", "-e", f"LOGIN_USER={login_user_for(image_name)}", "-e", f"PUBLIC_KEY={public_key}",
                    container, "bash", "-c", FIRST_BOOT)
        user_data = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData")
        encoded = user_data.get("UserData", {}).get("Value", "")
        self.docker("exec", "-i", container, "bash", "-c", "cat > /var/lib/cloud/instance/user-data.txt",
                    stdin=base64.b64decode(encoded) if encoded else b"")
        self.docker("exec", "--detach", "-e", f"FIRST_BOOT_APT_SECONDS={first_boot_apt_seconds(instance)}",
                    container, "bash", "-c", RUN_USER_DATA)
        self.tag_address(ec2.meta.region_name, instance_id, container)

    def tag_address(self, region, instance_id, container):
        address = containers.address_of(container)
        self.containers[instance_id]["address"] = address
        self.ec2(region).create_tags(Resources=[instance_id], Tags=[{"Key": ADDRESS_TAG, "Value": address}])

    def apply_filters(self, region, instances=None):
        """Give each live host of the region the packet filter of its security groups, where it changed
        (the groups' rules, the instance's groups, or the addresses of the hosts a rule refers to)."""
        if not self.enforce_security_groups:
            return
        if instances is None:
            instances = [instance for _region, instance in self.instances([region])]
        hosts = [dict(instance, address=self.containers[instance["InstanceId"]]["address"])
                 for instance in instances if self.is_up(instance)]
        members = hosts + self.services.members(region)  # a load balancer or a database is in its groups too
        if not members:
            return
        pages = self.ec2(region).get_paginator("describe_security_groups").paginate()
        groups = {group["GroupId"]: group for page in pages for group in page["SecurityGroups"]}
        for instance_id, rules in security_groups.rulesets(members, groups).items():
            known = self.containers.get(instance_id) or self.services.entry(instance_id)
            digest = hashlib.sha256(rules.encode()).hexdigest()
            if known.get("filter") == digest:
                continue
            try:
                self.docker("exec", "-i", known["id"], "iptables-restore", stdin=rules.encode())
            except (subprocess.SubprocessError, OSError) as error:
                said = getattr(error, "stderr", b"") or b""
                self.log(f"{instance_id}: security groups NOT enforced: {error} {said.decode(errors='replace')}")
                continue
            known["filter"] = digest
            self.log(f"{instance_id}: security groups enforced ({rules.count(' -j RETURN') - 1} allow rules)")

    def is_up(self, instance):
        """An instance whose container runs and has an address."""
        known = self.containers.get(instance["InstanceId"])
        return bool(known and known["state"] == "running" and known.get("address")) and \
            instance["State"]["Name"] in ("pending", "running")

    def remove(self, instance_id):
        known = self.containers.pop(instance_id, None)
        if known:
            remove_container(known["id"])
            self.log(f"{instance_id}: removed {known['id'][:12]}")

    docker = staticmethod(containers.docker)


def sandbox_label(state_dir):
    """The label on every instance container of the sandbox kept in state_dir."""
    return f"shipyard.sandbox={Path(state_dir).resolve()}"


def remove_stale(state_dir):
    """Before a new emulator starts for state_dir (it knows no instance yet): remove the containers
    that carry this sandbox's label, left by a run that ended without `down` (a killed machine, a
    deleted state directory). Returns how many."""
    found = subprocess.run(["docker", "ps", "--all", "--quiet", "--filter", f"label={sandbox_label(state_dir)}"],
                           capture_output=True, text=True, timeout=60, check=False).stdout.split()
    for container_id in found:
        remove_container(container_id)
    (Path(state_dir) / "containers.json").unlink(missing_ok=True)
    return len(found)


def remove_all(state_dir):
    """What `sandboxctl down` calls: every container this sandbox's backer created, by id."""
    registry = Path(state_dir) / "containers.json"
    try:
        instances = json.loads(registry.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        instances = {}
    for known in instances.values():
        remove_container(known["id"])
    registry.unlink(missing_ok=True)
    return len(instances) + Services(state_dir, sandbox_label(state_dir), print).remove_all()
