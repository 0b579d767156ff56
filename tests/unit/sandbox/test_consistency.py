"""sandbox/consistency.py: over real HTTP to moto, a new id answers AWS's NotFound for a moment."""

import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sandbox"))
from consistency import EventualConsistency

UNSEEN = 1.0


@pytest.fixture
def endpoint(request):
    app = EventualConsistency(DomainDispatcherApplication(create_backend_app), getattr(request, "param", UNSEEN),
                              is_own=lambda environ: "Credential=own/" in environ.get("HTTP_AUTHORIZATION", ""))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def client(endpoint, key="unit"):
    return boto3.client("ec2", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id=key,
                        aws_secret_access_key="unit")


def code_of(call, **params):
    with pytest.raises(ClientError) as raised:
        call(**params)
    return raised.value.response["Error"]["Code"]


def test_a_new_id_is_not_found_for_a_moment_then_is(endpoint):
    ec2 = client(endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    assert code_of(ec2.create_subnet, VpcId=vpc, CidrBlock="10.9.1.0/24") == "InvalidVpcID.NotFound"
    group = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    rule = [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    assert code_of(ec2.authorize_security_group_ingress, GroupId=group, IpPermissions=rule) == \
        "InvalidGroup.NotFound"
    time.sleep(UNSEEN)
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=rule)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    assert code_of(ec2.describe_route_tables, RouteTableIds=[table]) == "InvalidRouteTableID.NotFound"


def test_the_sandbox_s_own_calls_see_a_new_id_at_once(endpoint):
    vpc = client(endpoint).create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    assert client(endpoint, key="own").describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["VpcId"] == vpc


@pytest.mark.parametrize("endpoint", [0], indirect=True)
def test_zero_seconds_turns_it_off(endpoint):
    ec2 = client(endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")
