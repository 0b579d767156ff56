"""sandbox/engine.py's bridge address: whatever `docker network inspect` reports, the containers must
reach this machine (a Docker 20.10 started by hand reports no Gateway)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sandbox"))
import engine


def fake_commands(monkeypatch, network, ip_output=""):
    calls = []

    def run(command, **_kwargs):
        calls.append(command[:2])
        stdout = json.dumps(network) if command[0] == "docker" else ip_output
        return subprocess.CompletedProcess(command, 0, stdout=stdout, stderr="")

    monkeypatch.setattr(engine.subprocess, "run", run)
    return calls


def test_the_reported_gateway_wins(monkeypatch):
    fake_commands(monkeypatch, {"IPAM": {"Config": [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]}})
    assert engine.bridge_address() == "172.17.0.1"


def test_no_gateway_reads_the_bridge_interface(monkeypatch):
    calls = fake_commands(monkeypatch, {"IPAM": {"Config": [{"Subnet": "172.18.0.0/16"}]},
                                        "Options": {"com.docker.network.bridge.name": "docker0"}},
                          ip_output="3: docker0    inet 172.18.0.1/16 brd 172.18.255.255 scope global docker0\n")
    assert engine.bridge_address() == "172.18.0.1"
    assert ["ip", "-4"] in calls


def test_no_gateway_and_no_interface_address_takes_the_subnets_first_address(monkeypatch):
    fake_commands(monkeypatch, {"IPAM": {"Config": [{"Subnet": "fd00::/64"}, {"Subnet": "10.99.0.0/24"}]}})
    assert engine.bridge_address() == "10.99.0.1"


def test_nothing_to_go_by_is_a_clear_error(monkeypatch):
    fake_commands(monkeypatch, {"IPAM": {"Config": []}})
    with pytest.raises(SystemExit, match="cannot find the Docker bridge's address"):
        engine.bridge_address()
