"""What AWS refuses and moto allows: the sandbox's emulator refuses it too.

* Dependency refusals. AWS will not delete a security group or a subnet that a live instance
  uses, nor a VPC with an internet gateway attached: DependencyViolation. moto deletes them.
* Referenced groups. AWS will not delete a security group while a rule of another group names it
  (a database group that lets the hosts' group in): DependencyViolation until that rule is gone.
* Lingering dependents. For a while after an instance is terminated its network interface still
  holds its security groups and subnet, and its public address stays mapped in the VPC: deleting
  them, or detaching the VPC's internet gateway, answers DependencyViolation until the interface
  is gone. moto releases everything at once. On AWS the window is seconds to a few minutes; the
  sandbox's default (``DEFAULT_LINGER_SECONDS``) is short enough for the tests and long enough
  that a teardown which does not wait fails.

* Managed services hold their subnets and groups too. A live Application Load Balancer or RDS
  instance has network interfaces in its subnets with its security groups, and an internet-facing
  load balancer's public addresses are mapped in its VPC: the same refusals, and the same lingering
  after it is deleted. A DB subnet group a DB instance uses cannot be deleted either.
* Two zones. AWS refuses an Application Load Balancer on subnets of fewer than two availability
  zones (or on two subnets of one zone), and a DB subnet group that covers fewer than two zones.

Both are switchable for debugging: ``install(linger_seconds=0)`` turns the lingering off,
``install(dependencies=False)`` the refusals (the launcher's ``--linger-seconds`` and
``--no-dependency-checks``). An instance tagged ``SandboxLingerSeconds`` lingers that long instead:
the test sandboxes linger briefly, and the test that proves a teardown waits tags its hosts with a
realistic value. The messages are AWS's own.
"""

import threading
import time

DEFAULT_LINGER_SECONDS = 10
LINGER_TAG = "SandboxLingerSeconds"  # on an instance: how long its interface lingers, overriding the default
LIVE_STATES = ("pending", "running", "stopping", "stopped", "shutting-down")


class Lingering:
    """The interfaces of recently terminated instances: (until, subnet, groups, vpc, had a public address)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.lock = threading.Lock()
        self.interfaces = []

    @staticmethod
    def of(instance):
        """What an instance's interface holds, read before termination releases it."""
        return (instance.subnet_id, _groups(instance), instance.vpc_id, bool(instance.public_ip))

    def add(self, held, seconds=None):
        seconds = self.seconds if seconds is None else seconds
        if seconds > 0:
            with self.lock:
                self.interfaces.append((time.monotonic() + seconds, *held))

    def current(self):
        now = time.monotonic()
        with self.lock:
            self.interfaces = [interface for interface in self.interfaces if interface[0] > now]
            return list(self.interfaces)


def _linger_tag(instance):
    """The instance's SandboxLingerSeconds tag as a number of seconds, or None."""
    for tag in instance.get_tags():
        if tag["key"] == LINGER_TAG:
            try:
                return max(0.0, float(tag["value"]))
            except ValueError:
                return None
    return None


def _groups(instance):
    """The ids of an instance's security groups: its own, and its network interfaces' (a launch with
    NetworkInterfaces puts them there)."""
    groups = {group.id for group in instance.security_groups}
    for interface in instance.nics.values():
        groups.update(group.id for group in getattr(interface, "group_set", []))
    return groups


def _referenced(backend, group_id):
    """Whether a rule of another security group names this one (a group naming itself does not count)."""
    return any(rule.source_group.get("GroupId") == group_id
               for groups in backend.groups.values() for other in groups.values() if other.id != group_id
               for rule in other.ingress_rules + other.egress_rules)


def _live_instances(backend):
    return [instance for reservation in backend.reservations.values() for instance in reservation.instances
            if instance.state in LIVE_STATES]


class Users:
    """What the managed services of an EC2 backend's account and region hold: (subnet, groups, vpc,
    public) per network interface, as Lingering.of gives for an instance."""

    @staticmethod
    def load_balancer(balancer):
        public = balancer.scheme != "internal"  # internet-facing, the default
        return [(subnet.id, set(balancer.security_groups or []), balancer.vpc_id, public)
                for subnet in balancer.subnets]

    @staticmethod
    def database(database):
        group = getattr(database, "db_subnet_group", None)
        subnets = [subnet.id for subnet in group._subnets] if group else []  # moto's own objects
        groups = set(database.vpc_security_group_ids or [])
        return [(subnet, groups, group.vpc_id, bool(database.publicly_accessible)) for subnet in subnets]

    @classmethod
    def live(cls, ec2_backend):
        from moto.elbv2.models import elbv2_backends
        from moto.rds.models import rds_backends

        held = []
        account, region = ec2_backend.account_id, ec2_backend.region_name
        for balancer in elbv2_backends[account][region].load_balancers.values():
            held += cls.load_balancer(balancer)
        for database in rds_backends[account][region].databases.values():
            held += cls.database(database)
        return held


def _zones(subnets):
    return sorted({subnet.availability_zone for subnet in subnets})


def install(linger_seconds=DEFAULT_LINGER_SECONDS, dependencies=True):
    """Patch moto's EC2, ELBv2 and RDS backends; returns a function that undoes it (for tests in one
    process)."""
    lingering = Lingering(linger_seconds)
    return patch({**_instance_rules(lingering, dependencies), **_service_rules(lingering, dependencies)})


def patch(replacements):
    """Replace each (class, method) by make(original) from {(class, method): make}; returns undo()."""
    originals = {(cls, name): getattr(cls, name) for cls, name in replacements}
    for (cls, name), replacement in replacements.items():
        setattr(cls, name, replacement(originals[(cls, name)]))

    def undo():
        for (cls, name), original in originals.items():
            setattr(cls, name, original)

    return undo


def _instance_rules(lingering, dependencies):
    """{(class, method): make(original) -> replacement} for EC2's dependency refusals."""
    from moto.ec2.exceptions import DependencyViolationError
    from moto.ec2.models.instances import InstanceBackend
    from moto.ec2.models.internet_gateways import InternetGatewayBackend
    from moto.ec2.models.security_groups import SecurityGroupBackend
    from moto.ec2.models.subnets import SubnetBackend
    from moto.ec2.models.vpcs import VPCBackend

    def held_now(ec2_backend):
        """Every interface that holds something now: the services' live ones, then the lingering."""
        return (Users.live(ec2_backend) if dependencies else []) + [i[1:] for i in lingering.current()]

    def terminate_instances(original):
        def method(self, instance_ids):
            held = {instance.id: (Lingering.of(instance), _linger_tag(instance))
                    for instance in self.get_multi_instances_by_id(instance_ids or [])}
            terminated = original(self, instance_ids)
            for instance, previous in terminated:
                if previous.name != "terminated":
                    lingering.add(*held[instance.id])
            return terminated
        return method

    def delete_security_group(original):
        def method(self, name=None, group_id=None):
            group = self.get_security_group_by_name_or_id(group_id or name)
            if group is not None:
                in_use = dependencies and any(group.id in _groups(instance) for instance in _live_instances(self))
                in_use = in_use or (dependencies and _referenced(self, group.id))
                if in_use or any(group.id in interface[1] for interface in held_now(self)):
                    raise DependencyViolationError(f"resource {group.id} has a dependent object")
            return original(self, name=name, group_id=group_id)
        return method

    def delete_subnet(original):
        def method(self, subnet_id):
            in_use = dependencies and any(instance.subnet_id == subnet_id for instance in _live_instances(self))
            if in_use or any(interface[0] == subnet_id for interface in held_now(self)):
                raise DependencyViolationError(f"The subnet '{subnet_id}' has dependencies and cannot be deleted.")
            return original(self, subnet_id)
        return method

    def detach_internet_gateway(original):
        def method(self, internet_gateway_id, vpc_id):
            mapped = dependencies and any(instance.vpc_id == vpc_id and instance.public_ip
                                          for instance in _live_instances(self))
            if mapped or any(interface[2] == vpc_id and interface[3] for interface in held_now(self)):
                raise DependencyViolationError(f"Network {vpc_id} has some mapped public address(es). Please "
                                               "unmap those public address(es) before detaching the gateway.")
            return original(self, internet_gateway_id, vpc_id)
        return method

    def delete_vpc(original):
        def method(self, vpc_id):
            if dependencies and self.describe_internet_gateways(filters={"attachment.vpc-id": vpc_id}):
                raise DependencyViolationError(f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")
            return original(self, vpc_id)
        return method

    return {(InstanceBackend, "terminate_instances"): terminate_instances,
            (SecurityGroupBackend, "delete_security_group"): delete_security_group,
            (SubnetBackend, "delete_subnet"): delete_subnet,
            (InternetGatewayBackend, "detach_internet_gateway"): detach_internet_gateway,
            (VPCBackend, "delete_vpc"): delete_vpc}


def _service_rules(lingering, dependencies):
    """{(class, method): make(original) -> replacement} for the load balancers' and databases' rules."""
    from moto.elbv2.exceptions import ValidationError
    from moto.elbv2.models import ELBv2Backend
    from moto.rds.exceptions import RDSClientError
    from moto.rds.models import RDSBackend

    def create_load_balancer(original):
        def method(self, name, security_groups, subnet_ids, subnet_mappings=None, *args, **kwargs):
            kind = kwargs.get("loadbalancer_type") or (args[1] if len(args) > 1 else None)
            ids = list(subnet_ids or []) + [mapping["SubnetId"] for mapping in subnet_mappings or []]
            subnets = [subnet for subnet in (self.ec2_backend.get_subnet(i) for i in ids) if subnet is not None]
            if (kind or "application") == "application" and subnets:
                if len(_zones(subnets)) < len(subnets):
                    raise ValidationError("A load balancer cannot be attached to multiple subnets in the same "
                                          "Availability Zone")
                if len(_zones(subnets)) < 2:
                    raise ValidationError("At least two subnets in two different Availability Zones must be "
                                          "specified")
            return original(self, name, security_groups, subnet_ids, subnet_mappings, *args, **kwargs)
        return method

    def delete_load_balancer(original):
        def method(self, arn):
            balancer = self.load_balancers.get(arn)
            for held in Users.load_balancer(balancer) if balancer is not None else []:
                lingering.add(held)
            return original(self, arn)
        return method

    def enough_zones(subnets):
        zones = _zones([subnet for subnet in subnets if subnet is not None])
        if len(zones) < 2:
            raise RDSClientError("DBSubnetGroupDoesNotCoverEnoughAZs",
                                 "The DB subnet group doesn't meet Availability Zone (AZ) coverage requirement. "
                                 f"Current AZ coverage: {', '.join(zones)}. Add subnets to cover at least 2 AZs.")

    def create_subnet_group(original):
        def method(self, subnet_name, description, subnets, tags):
            enough_zones(subnets)
            return original(self, subnet_name, description, subnets, tags)
        return method

    def modify_db_subnet_group(original):
        def method(self, subnet_name, description, subnets):
            if subnets:
                enough_zones(subnets)
            # moto drops the group from its table on a modify (pop without put back): AWS keeps it.
            group = original(self, subnet_name, description, subnets)
            self.subnet_groups[subnet_name] = group
            return group
        return method

    def delete_subnet_group(original):
        def method(self, subnet_name):
            using = [database.db_instance_identifier for database in self.databases.values()
                     if getattr(getattr(database, "db_subnet_group", None), "name", None) == subnet_name]
            if dependencies and using:
                raise RDSClientError("InvalidDBSubnetGroupStateFault",
                                     f"Cannot delete the subnet group '{subnet_name}' because at least one "
                                     f"database instance: {using[0]} is still using it.")
            return original(self, subnet_name)
        return method

    def delete_db_instance(original):
        def method(self, db_instance_identifier, *args, **kwargs):
            database = self.databases.get(db_instance_identifier)
            for held in Users.database(database) if database is not None else []:
                lingering.add(held)
            return original(self, db_instance_identifier, *args, **kwargs)
        return method

    return {(ELBv2Backend, "create_load_balancer"): create_load_balancer,
            (ELBv2Backend, "delete_load_balancer"): delete_load_balancer,
            (RDSBackend, "create_subnet_group"): create_subnet_group,
            (RDSBackend, "modify_db_subnet_group"): modify_db_subnet_group,
            (RDSBackend, "delete_subnet_group"): delete_subnet_group,
            (RDSBackend, "delete_db_instance"): delete_db_instance}
