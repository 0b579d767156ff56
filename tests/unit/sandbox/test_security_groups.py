"""sandbox/security_groups.py: a host's packet filter, from its instance's security groups."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sandbox"))
import security_groups

WEB = {"GroupId": "sg-web", "IpPermissions": [
    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "203.0.113.7/32"}]},
    {"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8010, "UserIdGroupPairs": [{"GroupId": "sg-peers"}]},
    {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
]}
PEERS = {"GroupId": "sg-peers", "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]}


def instance(instance_id, address, *groups):
    return {"InstanceId": instance_id, "address": address, "SecurityGroups": [{"GroupId": g} for g in groups]}


def test_each_host_lets_in_what_its_groups_allow_and_drops_the_rest():
    rules = security_groups.rulesets(
        [instance("i-web", "172.17.0.2", "sg-web"), instance("i-peer", "172.17.0.3", "sg-peers")],
        {"sg-web": WEB, "sg-peers": PEERS})
    web = rules["i-web"].splitlines()
    assert web[:2] == ["*mangle", ":PREROUTING ACCEPT [0:0]"]
    assert "-A PREROUTING -i eth0 -j SHIPYARD-SG" in web
    allowed = [line for line in web if line.startswith("-A SHIPYARD-SG")]
    assert allowed[0] == "-A SHIPYARD-SG -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN"  # stateful
    assert set(allowed[1:-1]) == {
        "-A SHIPYARD-SG -p tcp --dport 22:22 -s 203.0.113.7/32 -j RETURN",
        "-A SHIPYARD-SG -p tcp --dport 8000:8010 -s 172.17.0.3/32 -j RETURN",  # the peers' group: its host
        "-A SHIPYARD-SG -p icmp --icmp-type 8 -s 0.0.0.0/0 -j RETURN",
    }
    assert allowed[-1] == "-A SHIPYARD-SG -j DROP" and rules["i-web"].endswith("\nCOMMIT\n")
    assert "-A SHIPYARD-SG -s 10.0.0.0/8 -j RETURN" in rules["i-peer"]  # every protocol


def test_a_group_nobody_is_in_lets_nothing_in_and_an_unknown_group_adds_nothing():
    rules = security_groups.rulesets([instance("i-web", "172.17.0.2", "sg-web", "sg-gone")], {"sg-web": WEB})
    assert "8000:8010" not in rules["i-web"]
    assert rules["i-web"].count(" -j RETURN") == 3  # replies, 22, icmp


def test_the_groups_of_an_instance_are_its_own_and_its_interfaces():
    described = {"SecurityGroups": [{"GroupId": "sg-b"}],
                 "NetworkInterfaces": [{"Groups": [{"GroupId": "sg-a"}, {"GroupId": "sg-b"}]}]}
    assert security_groups.group_ids(described) == ["sg-a", "sg-b"]
