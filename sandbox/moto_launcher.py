"""Run the sandbox's AWS emulator: a moto server on 127.0.0.1 with the project's fixes.

What this adds to a plain ``moto_server``:

* an AMI list holding moto's own images plus Ubuntu 24.04 (Canonical's owner id) and
  Debian 12/13 images, so the playbooks' AMI lookups find what they find on AWS;
* seven fixes for moto bugs that break amazon.aws modules or parallel reads, and Budgets'
  DescribeSubscribersForNotification, which moto lacks (see ``patch_moto``);
* with IAM enforced, AWS's evaluation of the caller's policies (iam_enforcement.py): resource by
  resource, conditions included, instead of moto's actions-only check;
* AWS's refusals that moto lacks (aws_rules.py): no delete of what a live instance uses, and for a
  while after a termination, of what its network interface still holds, nor of a security group
  that another group's rule names;
* AWS's placement rules (placement_rules.py): a subnet created without a zone lands in the
  region's worst zone, an instance type is launched only in a zone that offers it and only on an
  image of its architecture; PostgreSQL's orderable DB classes per zone;
* AWS Certificate Manager as AWS issues (acm.py): a certificate validated only once DNS holds its own
  record, signed by the sandbox's CA, held while a listener uses it;
* AWS's eventual consistency after a create (consistency.py): for a moment, a call naming a new
  VPC, subnet, gateway, route table or security group answers its NotFound error;
* with the backer, instances that are "pending" until their container has booted, as on AWS an
  instance is pending until it has booted (moto makes them "running" at once), and the backer's
  own calls let through when IAM is enforced;
* a request log (one JSON line per AWS API call: service, action, region, HTTP status, the tags
  an EC2 create call asked for by resource type, and with IAM enforced each resource's decision) so
  tests and the benchmark can count calls, tell read calls from writes, and see which statement of
  the IAM policy allowed each call;
* with --backer, the backer (backer.py): a container for every running instance, its security
  groups enforced on it (security_groups.py; --no-security-groups to leave every port open); and
  real parts behind the managed services (services.py): an HAProxy per Application Load Balancer
  whose health checks answer DescribeTargetHealth, a PostgreSQL per RDS instance ("creating" until
  it answers), a resolver that gives their DNS names to the hosts;
* two endpoints of its own: ``GET /sandbox-api/ping`` (cheap liveness: the emulator's PID and state
  directory, so ``sandboxctl up`` recognises its own emulator) and ``GET /sandbox-api/checkip``
  (what AWS's checkip service answers: the caller's address as the hosts see it, the Docker
  bridge's address, so "my IP" for admin_cidrs works here as it does on AWS).

Usage: python moto_launcher.py --port 5000 --state-dir .sandbox [--backer] [--controller-address A]
"""

import argparse
import gzip
import io
import json
import os
import re
import signal
import sys
import threading
import time
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qsl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import acm  # noqa: E402 - sandbox/ is not a package
import aws_rules  # noqa: E402
import iam_enforcement  # noqa: E402
import placement_rules  # noqa: E402
import services  # noqa: E402
from backer import BACKER_ACCESS_KEY, Backer  # noqa: E402
from consistency import DEFAULT_UNSEEN_SECONDS, EventualConsistency  # noqa: E402

CREDENTIAL_SCOPE = re.compile(r"Credential=([^/]+)/\d+/([^/]+)/([^/]+)/")
# EC2's query protocol: TagSpecification.1.ResourceType=vpc, TagSpecification.1.Tag.1.Key=ManagedBy, ...
TAG_SPECIFICATION = re.compile(r"TagSpecification\.(\d+)\.(ResourceType|Tag\.(\d+)\.(Key|Value))$")
# ELBv2's and RDS's: Tags.member.1.Key (ELBv2), Tags.Tag.1.Key (RDS), for the one resource the call makes
# or tags, named as in its ARN (loadbalancer/app/..., arn:aws:rds:...:db:...).
REQUEST_TAGS = re.compile(r"Tags\.(?:member|Tag)\.(\d+)\.(Key|Value)$")
TAGGED_BY = {"CreateLoadBalancer": "loadbalancer", "CreateTargetGroup": "targetgroup", "AddTags": "tagged",
             "CreateDBInstance": "db", "CreateDBSubnetGroup": "subgrp", "AddTagsToResource": "tagged"}
# Calls after which the backer must catch up before the caller gets its answer: the instances' states,
# and what the hosts' packet filters are made of (a group's rules, an instance's groups).
BACKER_CATCHES_UP = {"RunInstances", "StartInstances", "StopInstances", "TerminateInstances", "POST /moto-api/reset",
                     "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress", "ModifySecurityGroupRules",
                     "ModifyInstanceAttribute", "ModifyNetworkInterfaceAttribute",
                     # load balancers: their proxies follow listeners, target groups and registrations
                     "CreateLoadBalancer", "DeleteLoadBalancer", "CreateListener", "ModifyListener", "DeleteListener",
                     "RegisterTargets", "DeregisterTargets", "ModifyTargetGroup", "ModifyTargetGroupAttributes",
                     "SetSecurityGroups",
                     # databases: a snapshot is dumped, a deleted instance's container goes, before the answer
                     "CreateDBSnapshot", "DeleteDBInstance"}
AMI_DEFAULTS = {
    "state": "available",
    "public": True,
    "image_type": "machine",
    "virtualization_type": "hvm",
    "hypervisor": "xen",
    "root_device_type": "ebs",
    "root_device_name": "/dev/sda1",
}


def write_ami_list(state_dir):
    """Moto's built-in images plus ours; moto reads this file through MOTO_AMIS_PATH."""
    builtin = resources.files("moto") / "ec2/resources/amis.json.gz"
    amis = json.loads(gzip.decompress(builtin.read_bytes()))
    ours = json.loads((HERE / "amis.json").read_text(encoding="utf-8"))
    amis.extend({**AMI_DEFAULTS, **ami} for ami in ours)
    path = state_dir / "amis.json"
    path.write_text(json.dumps(amis), encoding="utf-8")
    return path


def hold_instances_pending():
    """New and started instances stay "pending" until the backer booted their container, as on AWS
    (moto answers "running" at once): so an interrupted launch leaves a pending instance, which the
    inventory's running filter leaves out, never a running one without an address."""
    from moto.ec2.models.instances import Instance, InstanceState

    def pending_after(original):
        def method(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            self._state = InstanceState("pending", 0)
            return result

        return method

    Instance.__init__ = pending_after(Instance.__init__)
    Instance.start = pending_after(Instance.start)


def mark_running(region, instance_id):
    """What the backer calls once an instance's container has booted: pending -> running."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.instances import InstanceState

    instance = ec2_backends[DEFAULT_ACCOUNT_ID][region].get_instance(instance_id)
    if instance.state == "pending":  # not if it was stopped or terminated meanwhile
        instance._state = InstanceState("running", 16)


def let_the_backer_through_iam():
    """With IAM enforced (the least-privilege tests), the backer's calls still pass: it is the
    sandbox's own machinery, as EC2's own work on AWS is not the caller's. Its calls do not count
    towards moto's enforcement switch either."""
    from moto.core.authorization import ActionAuthenticatorMixin

    authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authenticate_unless_backer(self, *args, **kwargs):
        scope = CREDENTIAL_SCOPE.search(self.headers.get("Authorization", ""))
        if scope and scope.group(1) == BACKER_ACCESS_KEY:
            return None
        return authenticate(self, *args, **kwargs)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate_unless_backer


def patch_moto():
    from moto.core.responses import ActionResult
    from moto.ec2 import utils as ec2_utils
    from moto.ec2.models.nat_gateways import NatGatewayBackend
    from moto.ec2.responses.security_groups import SecurityGroups

    # Bug 1: UpdateSecurityGroupRuleDescriptions{Ingress,Egress} answer without "Return",
    # and amazon.aws.ec2_security_group fails with KeyError 'Return'.
    def with_return(original):
        def handler(self):
            original(self)
            return ActionResult({"Return": True})

        return handler

    for name in ("update_security_group_rule_descriptions_ingress",
                 "update_security_group_rule_descriptions_egress"):
        setattr(SecurityGroups, name, with_return(getattr(SecurityGroups, name)))

    # Bug 2: DescribeTags reports NAT gateways as "nat-gateway"; AWS says "natgateway",
    # and amazon.aws.ec2_vpc_nat_gateway is never idempotent without this.
    ec2_utils.EC2_PREFIX_TO_RESOURCE["nat"] = "natgateway"
    # The same for Elastic IPs: moto says "vpc-elastic-ip", AWS "elastic-ip" (amazon.aws.ec2_eip tags them
    # again on every run without this).
    ec2_utils.EC2_PREFIX_TO_RESOURCE["eipalloc"] = "elastic-ip"

    # Bug 3: DescribeNatGateways ignores tag filters and answers every NAT gateway, so a
    # lookup by tags finds other projects' gateways (AWS filters them).
    describe_nat_gateways = NatGatewayBackend.describe_nat_gateways

    def describe_nat_gateways_by_tags(self, filters, nat_gateway_ids):
        found = describe_nat_gateways(self, filters, nat_gateway_ids)
        for name, values in (filters or {}).items():
            if name.startswith("tag:"):
                found = [gateway for gateway in found if gateway.get_filter_value(name) in values]
        return found

    NatGatewayBackend.describe_nat_gateways = describe_nat_gateways_by_tags

    # Bug 4: DescribeRegions lists the China and GovCloud regions too; AWS lists only the regions of
    # the caller's partition, and with IAM enforced the others refuse the caller's keys.
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend
    from moto.utilities.utils import get_partition

    describe_regions = RegionsAndZonesBackend.describe_regions

    def describe_regions_of_the_partition(self, region_names=None):
        partition = get_partition(self.region_name)
        return [region for region in describe_regions(self, region_names) if get_partition(region.name) == partition]

    RegionsAndZonesBackend.describe_regions = describe_regions_of_the_partition

    # Bug 5: ModifyInstanceMetadataOptions resets every option the call leaves out (to nothing, so
    # DescribeInstances then lacks HttpProtocolIpv6 and InstanceMetadataTags, and ec2_instance's
    # next repair sends None and fails). AWS keeps the options a call leaves out.
    from moto.ec2.models.instances import InstanceBackend

    modify_metadata_options = InstanceBackend.modify_instance_metadata_options

    def modify_keeping_what_is_left_out(self, instance_id, *, http_tokens=None, hop_limit=None, http_endpoint=None,
                                        dry_run=False, http_protocol=None, metadata_tags=None):
        current = self.get_instance(instance_id).metadata_options
        return modify_metadata_options(
            self, instance_id, http_tokens=http_tokens or current.http_tokens,
            hop_limit=hop_limit if hop_limit is not None else current.http_put_response_hop_limit,
            http_endpoint=http_endpoint or current.http_endpoint, dry_run=dry_run,
            http_protocol=http_protocol or current.http_protocol_ipv6 or "disabled",
            metadata_tags=metadata_tags or current.instance_metadata_tags or "disabled")

    InstanceBackend.modify_instance_metadata_options = modify_keeping_what_is_left_out

    # Bug 6: stopping an instance drops its Elastic IP's address from its network interface, and starting
    # it gives the interface a new random public address. On AWS an Elastic IP stays associated through
    # a stop and a start (only an auto-assigned public address changes).
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    def elastic_ip_of(interface):
        return next((address.public_ip for address in interface.ec2_backend.addresses
                     if address.eni is interface), None)

    stop_interface, start_interface = NetworkInterface.stop, NetworkInterface.start

    def stop_keeping_the_elastic_ip(self):
        if not elastic_ip_of(self):
            stop_interface(self)

    def start_keeping_the_elastic_ip(self):
        elastic_ip = elastic_ip_of(self)
        start_interface(self)
        if elastic_ip:
            self.public_ip = elastic_ip

    NetworkInterface.stop = stop_keeping_the_elastic_ip
    NetworkInterface.start = start_keeping_the_elastic_ip

    # Gap: Budgets' DescribeSubscribersForNotification is not implemented (HTTP 500), so the budget
    # module could not compare an alert's e-mail addresses. Answered from what moto stored.
    from moto.budgets.exceptions import NotFoundException
    from moto.budgets.responses import BudgetsResponse

    def notification_key(details):
        return (details.get("NotificationType"), details.get("ComparisonOperator"),
                float(details.get("Threshold", 0)), details.get("ThresholdType", "PERCENTAGE"))

    def describe_subscribers_for_notification(self):
        budgets = self.backend.budgets[self._get_param("AccountId")]
        budget = budgets.get(self._get_param("BudgetName"))
        wanted = notification_key(self._get_param("Notification"))
        for notification in budget.notifications if budget else []:
            if notification_key(notification.details) == wanted:
                return json.dumps({"Subscribers": notification.subscribers})
        raise NotFoundException("Unable to find the notification's subscribers")

    BudgetsResponse.describe_subscribers_for_notification = describe_subscribers_for_notification


def copy_response_transformers():
    """Bug 7: a response's transformers are a dictionary of the response class that requests add to
    while others iterate it: concurrent calls (our modules read in parallel) fail with "dictionary
    changed size during iteration" (HTTP 500). Each serialization takes its own copy (a dict copy is
    atomic under the GIL)."""
    from moto.core.serialize import XFormedAttributePicker

    init = XFormedAttributePicker.__init__
    if getattr(init, "copies", False):
        return

    def with_own_copy(self, *args, response_transformers=None, **kwargs):
        init(self, *args, response_transformers=dict(response_transformers or {}), **kwargs)

    with_own_copy.copies = True
    XFormedAttributePicker.__init__ = with_own_copy


class RequestLog:
    """WSGI middleware that appends one JSON line per AWS API request (the backer's left out),
    and lets the backer catch up after calls that change instances."""

    def __init__(self, app, path, backer=None, identity=None):
        self.app = app
        self.backer = backer
        self.identity = identity or {}
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the server's life
        self.lock = threading.Lock()

    def own_endpoint(self, environ, start_response):
        """The sandbox's own answers, outside AWS's API: None for every other path."""
        path = environ.get("PATH_INFO", "")
        if path == "/sandbox-api/ping":
            body, content_type = json.dumps(self.identity).encode(), "application/json"
        elif path == "/sandbox-api/checkip":
            body, content_type = (self.identity.get("controller_address", "") + "\n").encode(), "text/plain"
        else:
            return None
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def __call__(self, environ, start_response):
        own = self.own_endpoint(environ, start_response)
        if own is not None:
            return own
        call = {"action": "POST /moto-api/reset"} if environ.get("PATH_INFO") == "/moto-api/reset" else None
        if not environ.get("PATH_INFO", "").startswith("/moto-api"):
            call = self.parse(environ)
        status = []

        def start_response_noted(status_line, headers, *args):
            status.append(int(status_line.split()[0]))
            return start_response(status_line, headers, *args)

        iam_enforcement.start_request()
        response = self.app(environ, start_response_noted)
        if call and call.get("service") is not None:
            iam = iam_enforcement.decisions()
            self.write(dict(call, status=status[0] if status else 0, **({"iam": iam} if iam else {})))
        action, region = (call or {}).get("action"), (call or {}).get("region")
        if self.backer and region:
            self.backer.note_region(region)
        if self.backer and action in BACKER_CATCHES_UP:
            sync_safely(self.backer, region or None)  # a reset: every region
        return response

    def parse(self, environ):
        """service, region and action of one request; None for the backer's own requests."""
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        scope = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        access_key, region, service = scope.groups() if scope else ("", "", "")
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:  # JSON protocol: "AWSBudgetServiceGateway.CreateBudget"
            action = target.rsplit(".", 1)[-1]
        else:  # query protocol: Action=... in the body or the query string
            params = body.decode("utf-8", "replace") + "&" + environ.get("QUERY_STRING", "")
            found = re.search(r"(?:^|&)Action=([A-Za-z0-9]+)", params)
            action = found.group(1) if found else environ["REQUEST_METHOD"] + " " + environ["PATH_INFO"]
        if access_key == BACKER_ACCESS_KEY:
            return None
        call = {"service": service, "region": region, "action": action}
        tags = requested_tags(body.decode("utf-8", "replace"), TAGGED_BY.get(action)) if not target else {}
        return dict(call, tags=tags) if tags else call

    def write(self, call):
        with self.lock:
            self.file.write(json.dumps(call) + "\n")
            self.file.flush()


def requested_tags(body, resource_type=None):
    """{resource type: {key: value}} from an EC2 request's TagSpecification parameters, or from the Tags
    of an ELBv2 or RDS call that makes or tags one resource_type."""
    specs = {}
    for name, value in parse_qsl(body):
        found = TAG_SPECIFICATION.match(name)
        listed = REQUEST_TAGS.match(name) if resource_type else None
        if listed:
            spec = specs.setdefault("request", {"type": resource_type, "tags": {}})
            spec["tags"].setdefault(listed.group(1), {})[listed.group(2)] = value
        if found:
            spec = specs.setdefault(found.group(1), {"type": "", "tags": {}})
            if found.group(2) == "ResourceType":
                spec["type"] = value
            else:
                spec["tags"].setdefault(found.group(3), {})[found.group(4)] = value
    return {spec["type"]: {tag.get("Key", ""): tag.get("Value", "") for tag in spec["tags"].values()}
            for spec in specs.values()}


def is_backer_call(environ):
    scope = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return bool(scope) and scope.group(1) == BACKER_ACCESS_KEY


def sync_safely(backer, region=None):
    try:
        backer.sync(region)
    except Exception as error:
        backer.log(f"sync failed: {error!r}")


def sync_every(backer, seconds):
    """The backer's periodic catch-up, for changes that no hooked call announces."""
    while True:
        time.sleep(seconds)
        sync_safely(backer)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--backer", action="store_true", help="back running instances with containers")
    parser.add_argument("--controller-address", default="127.0.0.1",
                        help="this machine's address as the instances see it (GET /sandbox-api/checkip)")
    parser.add_argument("--linger-seconds", type=float,
                        default=float(os.environ.get("SANDBOX_LINGER_SECONDS", aws_rules.DEFAULT_LINGER_SECONDS)),
                        help="how long a terminated instance's interface still holds its security groups, subnet "
                             "and public address (env SANDBOX_LINGER_SECONDS; 0: released at once, as moto does)")
    parser.add_argument("--no-dependency-checks", action="store_true",
                        default=os.environ.get("SANDBOX_DEPENDENCY_CHECKS", "1") == "0",
                        help="let deletes through whose dependents still live, as moto does "
                             "(env SANDBOX_DEPENDENCY_CHECKS=0)")
    parser.add_argument("--no-placement-checks", action="store_true",
                        default=os.environ.get("SANDBOX_PLACEMENT_CHECKS", "1") == "0",
                        help="launch any instance type in any zone and any image on any type, as moto does "
                             "(env SANDBOX_PLACEMENT_CHECKS=0)")
    parser.add_argument("--default-zone", default=os.environ.get("SANDBOX_DEFAULT_ZONE", ""),
                        help="the zone of a subnet created without one (env SANDBOX_DEFAULT_ZONE; unset: the "
                             "region's zone that offers the fewest instance types, as AWS may choose)")
    parser.add_argument("--unseen-seconds", type=float,
                        default=float(os.environ.get("SANDBOX_UNSEEN_SECONDS", DEFAULT_UNSEEN_SECONDS)),
                        help="how long a new VPC, subnet, gateway, route table or security group answers "
                             "NotFound to calls naming it (env SANDBOX_UNSEEN_SECONDS; 0: known at once)")
    parser.add_argument("--no-security-groups", action="store_true",
                        default=os.environ.get("SANDBOX_SECURITY_GROUPS", "1") == "0",
                        help="leave every port of the hosts open, as a plain container is "
                             "(env SANDBOX_SECURITY_GROUPS=0)")
    args = parser.parse_args()
    args.state_dir.mkdir(parents=True, exist_ok=True)

    # Must be set before moto's EC2 models are imported: they read the AMI list at import.
    os.environ["MOTO_AMIS_PATH"] = str(write_ami_list(args.state_dir))
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    patch_moto()
    copy_response_transformers()
    acm.authority(args.state_dir)  # its root is in the bundle the ACME CA's thread writes
    acm.install(args.state_dir)
    iam_enforcement.install()
    aws_rules.install(linger_seconds=args.linger_seconds, dependencies=not args.no_dependency_checks)
    placement_rules.install(checks=not args.no_placement_checks, default_zone=args.default_zone)
    backer = None
    if args.backer:
        hold_instances_pending()
        let_the_backer_through_iam()
        backer = Backer(f"http://127.0.0.1:{args.port}", args.state_dir, on_booted=mark_running,
                        enforce_security_groups=not args.no_security_groups)
        services.install(backer.services)
    identity = {"pid": os.getpid(), "state_dir": str(args.state_dir.resolve()),
                "controller_address": args.controller_address}
    emulator = EventualConsistency(DomainDispatcherApplication(create_backend_app), args.unseen_seconds,
                                   is_own=is_backer_call)
    app = RequestLog(emulator, args.state_dir / "requests.log", backer, identity)
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    if backer:
        threading.Thread(target=sync_every, args=(backer, 5), daemon=True).start()
        threading.Thread(target=backer.services.acme_ca, daemon=True).start()  # acme.json for sandboxctl
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"sandbox AWS emulator listening on http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
