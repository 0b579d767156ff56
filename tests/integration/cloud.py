"""Helpers of the tests that drive the sandbox's cloud with plain boto3 calls: hosts, groups, waits;
and of those that read what a deployed Task List serves."""

import http.client
import json
import secrets
import socket
import ssl
import struct
import subprocess
import time
import urllib.request
from pathlib import Path

import yaml
from botocore.exceptions import ClientError

DOCKER_ROLE = Path(__file__).resolve().parents[2] / "roles" / "docker"


def docker(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60, check=False)


def wait_until(check, seconds=90):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {check.__doc__}"
        time.sleep(1)


def debian_image(ec2):
    return ec2.describe_images(Owners=["136693071363"],
                               Filters=[{"Name": "name", "Values": ["debian-13-amd64-*"]}])["Images"][0]["ImageId"]


def security_group(ec2, name, *permissions):
    group_id = ec2.create_security_group(GroupName=name, Description=name)["GroupId"]
    deadline = time.monotonic() + 30
    while permissions:  # AWS may not know the group a moment after its creation (eventual consistency)
        try:
            ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=list(permissions))
            break
        except ClientError as error:
            if error.response["Error"]["Code"] != "InvalidGroup.NotFound" or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    return group_id


def tcp(port, cidr=None, group=None):
    sources = {"IpRanges": [{"CidrIp": cidr}]} if cidr else {"UserIdGroupPairs": [{"GroupId": group}]}
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, **sources}


def get(url, timeout=10):
    """(status, body) of a GET from this machine."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


def post_task(address, title):
    """(status, the task) of a task added through the Task List's API on the host at `address`."""
    request = urllib.request.Request(f"http://{address}:8000/api/tasks", data=json.dumps({"title": title}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def ssh_sources(sandbox):
    """The CIDRs that the Task List's security groups let SSH in from."""
    groups = sandbox.ec2.describe_security_groups(Filters=[{"Name": "tag:Project", "Values": ["tasklist"]}])
    return [r["CidrIp"] for group in groups["SecurityGroups"] for rule in group["IpPermissions"]
            if rule.get("FromPort") == 22 for r in rule["IpRanges"]]


def docker_role_choice(platform):
    """What the docker role's table says a host of this platform gets: packages and daemon.json."""
    table = yaml.safe_load((DOCKER_ROLE / "vars" / "main.yml").read_text())
    defaults = yaml.safe_load((DOCKER_ROLE / "defaults" / "main.yml").read_text())
    packages = table["docker_sources"]["distribution"][platform]["packages"] + table["docker_common_packages"]
    return packages, defaults["docker_daemon_options"]


def set_enforcement(sandbox, on):
    """Moto's switch: IAM is enforced after this many more requests (0: now; inf: never)."""
    request = urllib.request.Request(f"{sandbox.env['AWS_ENDPOINT_URL']}/moto-api/reset-auth", method="POST",
                                     data=b"0" if on else b"inf", headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=10).close()


def iam_user(sandbox, name, document):
    """The environment (access keys) of a new IAM user holding one inline policy; made with the
    sandbox's own keys, so with enforcement off."""
    set_enforcement(sandbox, on=False)
    iam = sandbox.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="shipyard-operator", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def eventually(call, seconds=30):
    """call(), again while AWS does not know yet what was just made (eventual consistency)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except ClientError as error:
            if not error.response["Error"]["Code"].endswith("NotFound") or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def resolve(name, server):
    """The IPv4 addresses a DNS server answers for `name` (one A query over UDP, as a stub resolver asks)."""
    query_id = secrets.randbits(16)
    question = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
    packet = struct.pack(">HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + question + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(5)
        udp.sendto(packet, (server, 53))
        answer = udp.recv(4096)
    answer_id, _flags, _questions, count = struct.unpack(">HHHH", answer[:8])
    assert answer_id == query_id
    offset, found = 12 + len(question) + 4, []
    for _answer in range(count):
        offset += 2 if answer[offset] >= 0xC0 else answer.index(b"\0", offset) + 1 - offset  # the name
        kind, _class, _ttl, length = struct.unpack(">HHIH", answer[offset:offset + 10])
        offset += 10
        if kind == 1:
            found.append(socket.inet_ntoa(answer[offset:offset + length]))
        offset += length
    return found


def https_get(address, domain, cafile, path="/", data=None):
    """(status, headers, body, certificate) of https://domain/path asked at `address` (POSTed as JSON with
    `data`), verified against `cafile` alone: the certificate must chain to that root and name the domain."""
    context = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection((address, 443), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=domain) as tls:
        connection = http.client.HTTPConnection(domain)
        connection.sock = tls
        body = None if data is None else json.dumps(data).encode()
        connection.request("GET" if body is None else "POST", path, body=body,
                           headers={"Host": domain, "Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode(), tls.getpeercert()


def http_redirect(address, domain):
    """(status, Location) of http://domain/ asked at `address`, not followed."""
    connection = http.client.HTTPConnection(address, 80, timeout=10)
    connection.request("GET", "/", headers={"Host": domain})
    response = connection.getresponse()
    return response.status, response.getheader("Location")


def last_line(output):
    """The last line a playbook run printed before its recap (its last task's message)."""
    return output.split("PLAY RECAP")[0].strip().splitlines()[-1].strip()
