"""Where AWS puts things and what it refuses to launch there: the sandbox's emulator does the same.

* A subnet created without a zone lands where AWS chooses, which may be the region's worst zone
  for us. moto always picks us-east-1a (even in other regions). The sandbox picks the zone that
  ``default_zone`` names for the region, else the region's zone offering the fewest instance types
  (us-east-1e in us-east-1, where no t3 type is offered): a product that trusts the default fails
  here as it could on AWS.
* RunInstances of an instance type that the subnet's zone does not offer answers AWS's
  ``Unsupported``, naming the zones that would work. moto ships AWS's offerings per zone but does
  not check them.
* RunInstances of an image whose architecture the type does not support (an amd64 image on a
  Graviton type, say) answers AWS's ``InvalidParameterValue``.
* DescribeOrderableDBInstanceOptions answers for PostgreSQL (moto only knows Aurora and Neptune):
  a DB class ``db.X`` is offered in the zones that offer the EC2 type ``X``. That is the sandbox's
  model, not AWS's data: AWS publishes no such table, and RDS classes do run on those types.

Switchable like the other rules: ``install(checks=False)`` lets launches through as moto does (the
launcher's ``--no-placement-checks``, env SANDBOX_PLACEMENT_CHECKS=0); ``default_zone`` (env
SANDBOX_DEFAULT_ZONE) pins the zone of subnets created without one. The messages are AWS's own.
"""

import aws_rules  # sandbox/ is not a package: its modules import each other by name

RDS_FAMILIES = ("t3", "t4g", "m5", "m6g", "m6i", "m7g", "r5", "r6g", "r6i", "r7g")
POSTGRES_VERSION = "16.4"  # the version the sandbox's options carry when none is asked for


def offered_zones(region, instance_type):
    """The zones of a region that offer an instance type, sorted (moto's copy of AWS's offerings)."""
    from moto.ec2.models.instance_types import INSTANCE_TYPE_OFFERINGS

    offerings = INSTANCE_TYPE_OFFERINGS["availability-zone"].get(region, [])
    return sorted({offer["Location"] for offer in offerings if offer["InstanceType"] == instance_type})


def region_zones(region):
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    return [zone.name for zone in RegionsAndZonesBackend.zones.get(region, [])]


def worst_zone(region, pinned=""):
    """The zone a subnet created without one lands in: the pinned one if it is the region's, else the
    zone that offers the fewest instance types (ties: the last by name)."""
    from moto.ec2.models.instance_types import INSTANCE_TYPE_OFFERINGS

    zones = region_zones(region)
    if pinned in zones:
        return pinned
    offerings = INSTANCE_TYPE_OFFERINGS["availability-zone"].get(region, [])
    counts = {zone: 0 for zone in zones}
    for offer in offerings:
        if offer["Location"] in counts:
            counts[offer["Location"]] += 1
    return min(sorted(zones, reverse=True), key=lambda zone: counts[zone]) if zones else None


def architectures(instance_type):
    """The architectures an instance type supports (AWS's ProcessorInfo), empty when unknown."""
    from moto.ec2.models.instance_types import INSTANCE_TYPES

    return list(INSTANCE_TYPES.get(instance_type, {}).get("ProcessorInfo", {}).get("SupportedArchitectures", []))


def postgres_options(region, engine_version=None):
    """DescribeOrderableDBInstanceOptions for PostgreSQL in a region: one option per DB class."""
    from moto.ec2.models.instance_types import INSTANCE_TYPES

    options = []
    for instance_type in sorted(INSTANCE_TYPES):
        if instance_type.split(".")[0] not in RDS_FAMILIES:
            continue
        zones = offered_zones(region, instance_type)
        if zones:
            options.append({"Engine": "postgres", "EngineVersion": engine_version or POSTGRES_VERSION,
                            "DBInstanceClass": f"db.{instance_type}", "LicenseModel": "postgresql-license",
                            "AvailabilityZones": [{"Name": zone} for zone in zones], "MultiAZCapable": True,
                            "ReadReplicaCapable": True, "Vpc": True, "StorageType": "gp3",
                            "SupportsStorageEncryption": True})
    return options


def install(checks=True, default_zone=""):
    """Patch moto's subnets, instances and RDS options; returns a function that undoes it."""
    from moto.ec2.models.instances import InstanceBackend
    from moto.ec2.responses.subnets import Subnets
    from moto.rds.models import RDSBackend

    replacements = {(Subnets, "create_subnet"): lambda original: _create_subnet(original, default_zone),
                    (RDSBackend, "describe_orderable_db_instance_options"): _orderable_options}
    if checks:
        replacements[(InstanceBackend, "run_instances")] = _run_instances
    return aws_rules.patch(replacements)


def _create_subnet(original, default_zone):
    """moto's CreateSubnet picks a random zone when none is asked: the request asks for ours instead."""
    def method(self):
        if not self._get_param("AvailabilityZone") and not self._get_param("AvailabilityZoneId"):
            zone = worst_zone(self.region, default_zone)
            self.querystring["AvailabilityZone"] = [zone]
            if self.automated_parameter_parsing:
                self.params["AvailabilityZone"] = zone
        return original(self)
    return method


def _run_instances(original):
    from moto.ec2.exceptions import EC2ClientError

    def method(self, image_id, count, user_data, security_group_names, **kwargs):
        instance_type = kwargs.get("instance_type") or "m1.small"
        zone = _launch_zone(self, kwargs)
        if zone and zone not in offered_zones(self.region_name, instance_type):
            others = ", ".join(offered_zones(self.region_name, instance_type))
            raise EC2ClientError(
                "Unsupported",
                f"Your requested instance type ({instance_type}) is not supported in your requested Availability "
                f"Zone ({zone}). Please retry your request by not specifying an Availability Zone or choosing "
                f"{others}.")
        images = self.describe_images(ami_ids=[image_id]) if image_id else []
        supported = architectures(instance_type)
        if images and supported and images[0].architecture not in supported:
            raise EC2ClientError(
                "InvalidParameterValue",
                f"The architecture '{supported[0]}' of the specified instance type does not match the architecture "
                f"'{images[0].architecture}' of the specified AMI. Specify an instance type and an AMI that have "
                "matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' "
                "to discover the architecture of the instance type or AMI.")
        return original(self, image_id, count, user_data, security_group_names, **kwargs)
    return method


def _launch_zone(backend, kwargs):
    """The zone a launch lands in: its subnet's (given directly or by its first network interface), else
    its placement."""
    subnet_id = kwargs.get("subnet_id") or next(
        (nic.get("SubnetId") for nic in kwargs.get("nics") or [] if nic.get("SubnetId")), None)
    if subnet_id:
        return backend.get_subnet(subnet_id).availability_zone
    return kwargs.get("placement")


def _orderable_options(original):
    def method(self, engine, engine_version):
        if engine == "postgres":
            return postgres_options(self.region_name, engine_version)
        return original(self, engine, engine_version)
    return method
