"""sandbox/acm.py: a requested certificate is issued only once its own validation record is in a hosted
zone, by the sandbox's CA (a chain a client can verify), and is held while a listener uses it."""

import ssl
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sandbox"))
import acm

DOMAIN = "shop.example.test"


@pytest.fixture
def aws(monkeypatch, tmp_path):
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit")
    monkeypatch.setenv("MOTO_ACM_VALIDATION_WAIT", "0")  # moto's own rule would issue at once
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    undo = acm.install(tmp_path)
    try:
        with mock_aws():
            yield {name: boto3.client(name, region_name="us-east-1") for name in ("acm", "route53", "ec2", "elbv2")}
    finally:
        undo()


def status_and_record(client, arn):
    certificate = client.describe_certificate(CertificateArn=arn)["Certificate"]
    return certificate["Status"], certificate["DomainValidationOptions"][0]["ResourceRecord"]


def write_cname(route53, zone, name, value):
    record = {"Name": name, "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": value}]}
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": record}]})


def test_issued_once_its_own_validation_record_is_in_dns_and_chains_to_the_sandbox_root(aws, tmp_path):
    zone = aws["route53"].create_hosted_zone(Name="example.test", CallerReference="1")["HostedZone"]["Id"]
    arn = aws["acm"].request_certificate(DomainName=DOMAIN, ValidationMethod="DNS")["CertificateArn"]
    other = aws["acm"].request_certificate(DomainName="other.example.test", ValidationMethod="DNS")["CertificateArn"]
    status, record = status_and_record(aws["acm"], arn)
    assert status == "PENDING_VALIDATION" and record["Type"] == "CNAME" and record["Name"].endswith(f".{DOMAIN}.")
    assert record != status_and_record(aws["acm"], other)[1]  # each certificate its own record

    write_cname(aws["route53"], zone, record["Name"], "_wrong.sandbox.acm-validations.aws.")
    assert status_and_record(aws["acm"], arn)[0] == "PENDING_VALIDATION"
    write_cname(aws["route53"], zone, record["Name"], record["Value"])
    assert status_and_record(aws["acm"], arn)[0] == "ISSUED"
    assert status_and_record(aws["acm"], other)[0] == "PENDING_VALIDATION"

    pem = aws["acm"].get_certificate(CertificateArn=arn)["Certificate"]
    (tmp_path / "cert.pem").write_text(pem)
    decoded = ssl._ssl._test_decode_cert(str(tmp_path / "cert.pem"))  # pylint: disable=protected-access
    assert ("DNS", DOMAIN) in decoded["subjectAltName"]
    assert dict(part[0] for part in decoded["issuer"])["commonName"] == acm.ROOT_NAME
    root, _key = acm.authority(tmp_path)
    from cryptography import x509

    x509.load_pem_x509_certificate(pem.encode()).verify_directly_issued_by(root)


def test_a_listener_takes_only_an_issued_certificate_which_cannot_be_deleted_while_used(aws):
    from botocore.exceptions import ClientError

    ec2, elbv2 = aws["ec2"], aws["elbv2"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"us-east-1{zone}")
               ["Subnet"]["SubnetId"] for n, zone in ((1, "a"), (2, "b"))]
    balancer = elbv2.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    group = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    arn = aws["acm"].request_certificate(DomainName=DOMAIN, ValidationMethod="DNS")["CertificateArn"]
    https = {"LoadBalancerArn": balancer, "Protocol": "HTTPS", "Port": 443, "Certificates": [{"CertificateArn": arn}],
             "DefaultActions": [{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}]}
    with pytest.raises(ClientError, match="CertificateNotFound"):
        elbv2.create_listener(**https)

    zone = aws["route53"].create_hosted_zone(Name="example.test", CallerReference="1")["HostedZone"]["Id"]
    record = status_and_record(aws["acm"], arn)[1]
    write_cname(aws["route53"], zone, record["Name"], record["Value"])
    listener = elbv2.create_listener(**https)["Listeners"][0]["ListenerArn"]
    assert aws["acm"].describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"] == [balancer]
    with pytest.raises(ClientError, match="ResourceInUseException"):
        aws["acm"].delete_certificate(CertificateArn=arn)
    elbv2.delete_listener(ListenerArn=listener)
    aws["acm"].delete_certificate(CertificateArn=arn)
    assert aws["acm"].list_certificates()["CertificateSummaryList"] == []
