"""What AWS refuses and moto allows: the sandbox's emulator refuses it too.

* Dependency refusals. AWS will not delete a security group or a subnet that a live instance
  uses, nor a VPC with an internet gateway attached: DependencyViolation. moto deletes them.
* Lingering dependents. For a while after an instance is terminated its network interface still
  holds its security groups and subnet, and its public address stays mapped in the VPC: deleting
  them, or detaching the VPC's internet gateway, answers DependencyViolation until the interface
  is gone. moto releases everything at once. On AWS the window is seconds to a few minutes; the
  sandbox's default (``DEFAULT_LINGER_SECONDS``) is short enough for the tests and long enough
  that a teardown which does not wait fails.

Both are switchable for debugging: ``install(linger_seconds=0)`` turns the lingering off,
``install(dependencies=False)`` the refusals (the launcher's ``--linger-seconds`` and
``--no-dependency-checks``). The messages are AWS's own.
"""

import threading
import time

DEFAULT_LINGER_SECONDS = 10
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

    def add(self, held):
        if self.seconds > 0:
            with self.lock:
                self.interfaces.append((time.monotonic() + self.seconds, *held))

    def current(self):
        now = time.monotonic()
        with self.lock:
            self.interfaces = [interface for interface in self.interfaces if interface[0] > now]
            return list(self.interfaces)


def _groups(instance):
    """The ids of an instance's security groups: its own, and its network interfaces' (a launch with
    NetworkInterfaces puts them there)."""
    groups = {group.id for group in instance.security_groups}
    for interface in instance.nics.values():
        groups.update(group.id for group in getattr(interface, "group_set", []))
    return groups


def _live_instances(backend):
    return [instance for reservation in backend.reservations.values() for instance in reservation.instances
            if instance.state in LIVE_STATES]


def install(linger_seconds=DEFAULT_LINGER_SECONDS, dependencies=True):
    """Patch moto's EC2 backend; returns a function that undoes it (for tests in one process)."""
    from moto.ec2.exceptions import DependencyViolationError
    from moto.ec2.models.instances import InstanceBackend
    from moto.ec2.models.internet_gateways import InternetGatewayBackend
    from moto.ec2.models.security_groups import SecurityGroupBackend
    from moto.ec2.models.subnets import SubnetBackend
    from moto.ec2.models.vpcs import VPCBackend

    lingering = Lingering(linger_seconds)
    originals = {
        (InstanceBackend, "terminate_instances"): InstanceBackend.terminate_instances,
        (SecurityGroupBackend, "delete_security_group"): SecurityGroupBackend.delete_security_group,
        (SubnetBackend, "delete_subnet"): SubnetBackend.delete_subnet,
        (InternetGatewayBackend, "detach_internet_gateway"): InternetGatewayBackend.detach_internet_gateway,
        (VPCBackend, "delete_vpc"): VPCBackend.delete_vpc,
    }

    def terminate_instances(self, instance_ids):
        held = {instance.id: Lingering.of(instance) for instance in self.get_multi_instances_by_id(instance_ids or [])}
        terminated = originals[(InstanceBackend, "terminate_instances")](self, instance_ids)
        for instance, previous in terminated:
            if previous.name != "terminated":
                lingering.add(held[instance.id])
        return terminated

    def delete_security_group(self, name=None, group_id=None):
        group = self.get_security_group_by_name_or_id(group_id or name)
        if group is not None:
            in_use = dependencies and any(group.id in _groups(instance) for instance in _live_instances(self))
            if in_use or any(group.id in interface[2] for interface in lingering.current()):
                raise DependencyViolationError(f"resource {group.id} has a dependent object")
        return originals[(SecurityGroupBackend, "delete_security_group")](self, name=name, group_id=group_id)

    def delete_subnet(self, subnet_id):
        in_use = dependencies and any(instance.subnet_id == subnet_id for instance in _live_instances(self))
        if in_use or any(interface[1] == subnet_id for interface in lingering.current()):
            raise DependencyViolationError(f"The subnet '{subnet_id}' has dependencies and cannot be deleted.")
        return originals[(SubnetBackend, "delete_subnet")](self, subnet_id)

    def detach_internet_gateway(self, internet_gateway_id, vpc_id):
        mapped = dependencies and any(instance.vpc_id == vpc_id and instance.public_ip
                                      for instance in _live_instances(self))
        if mapped or any(interface[3] == vpc_id and interface[4] for interface in lingering.current()):
            raise DependencyViolationError(f"Network {vpc_id} has some mapped public address(es). Please unmap "
                                           "those public address(es) before detaching the gateway.")
        return originals[(InternetGatewayBackend, "detach_internet_gateway")](self, internet_gateway_id, vpc_id)

    def delete_vpc(self, vpc_id):
        if dependencies and self.describe_internet_gateways(filters={"attachment.vpc-id": vpc_id}):
            raise DependencyViolationError(f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")
        return originals[(VPCBackend, "delete_vpc")](self, vpc_id)

    replacements = {"terminate_instances": terminate_instances, "delete_security_group": delete_security_group,
                    "delete_subnet": delete_subnet, "detach_internet_gateway": detach_internet_gateway,
                    "delete_vpc": delete_vpc}
    for (cls, name) in originals:
        setattr(cls, name, replacements[name])

    def undo():
        for (cls, name), original in originals.items():
            setattr(cls, name, original)

    return undo
