"""sandbox/moto_launcher.py's request log: the tags an EC2 create call asked for, by resource type (what
AWS evaluates aws:RequestTag conditions against)."""

import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sandbox"))
from moto_launcher import requested_tags


def test_tags_by_resource_type_from_a_run_instances_body():
    body = urlencode([("Action", "RunInstances"),
                      ("TagSpecification.1.ResourceType", "volume"),
                      ("TagSpecification.1.Tag.1.Key", "ManagedBy"),
                      ("TagSpecification.1.Tag.1.Value", "shipyard.ec2_compose"),
                      ("TagSpecification.2.ResourceType", "instance"),
                      ("TagSpecification.2.Tag.2.Key", "Name"),
                      ("TagSpecification.2.Tag.2.Value", "web 1"),
                      ("TagSpecification.2.Tag.1.Key", "ManagedBy"),
                      ("TagSpecification.2.Tag.1.Value", "shipyard.ec2_compose")])
    assert requested_tags(body) == {"volume": {"ManagedBy": "shipyard.ec2_compose"},
                                    "instance": {"ManagedBy": "shipyard.ec2_compose", "Name": "web 1"}}


def test_a_call_without_tag_specifications_asks_for_no_tags():
    assert requested_tags(urlencode({"Action": "CreateRouteTable", "VpcId": "vpc-1"})) == {}
