"""The acm_certificate_request module against the sandbox's ACM (moto in this process with the
sandbox's rules: a certificate is issued only once its own validation record is in a hosted zone)."""

import sys
from pathlib import Path

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper

from ansible_collections.shipyard.ec2_compose.plugins.modules import acm_certificate_request as module_code

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "sandbox"))
import acm

DOMAIN = "shop.example.test"
TAGS = {"Project": "shop", "Environment": "dev", "ManagedBy": "shipyard.ec2_compose"}


class Exited(Exception):
    def __init__(self, result, failed=False):
        super().__init__(result.get("msg", ""))
        self.result, self.failed = result, failed


class FakeModule:
    """What the module uses of AnsibleAWSModule: params, check_mode, exit_json and fail_json."""

    def __init__(self, check_mode=False, **params):
        self.check_mode = check_mode
        self.params = {"domain_name": DOMAIN, "tags": TAGS, "match_tags": {}, "state": "present", "wait": False,
                       "wait_timeout": 900, **params}

    def exit_json(self, **result):
        raise Exited(result)

    def fail_json(self, **result):
        raise Exited(result, failed=True)

    def fail_json_aws(self, error, msg):
        raise Exited({"msg": f"{msg}: {error}"}, failed=True)


def run(function, client, **params):
    with pytest.raises(Exited) as exited:
        function(FakeModule(**params), client)
    return exited.value


@pytest.fixture
def aws(monkeypatch, tmp_path):
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setattr(module_code, "POLL_SECONDS", 0.1)
    undo = acm.install(tmp_path)
    try:
        with mock_aws():
            client = boto3.client("acm", region_name="us-east-1")
            yield RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff()), client, \
                boto3.client("route53", region_name="us-east-1")
    finally:
        undo()


def test_requested_once_validated_through_dns_waited_for_and_deleted(aws):
    client, raw, route53 = aws
    planned = run(module_code.present, client, check_mode=True)
    assert planned.result["changed"] and raw.list_certificates()["CertificateSummaryList"] == []

    first = run(module_code.present, client)
    assert first.result["changed"] and first.result["status"] == "PENDING_VALIDATION"
    (record,) = first.result["validation_records"]
    assert record["type"] == "CNAME" and record["name"].endswith(f".{DOMAIN}.")

    # Not validated: the wait ends in an error that names the record to write.
    waited = run(module_code.present, client, wait=True, wait_timeout=1)
    assert waited.failed and record["name"] in waited.result["msg"] and "wait_timeout" in waited.result["msg"]

    zone = route53.create_hosted_zone(Name="example.test", CallerReference="1")["HostedZone"]["Id"]
    cname = {"Name": record["name"], "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": record["value"]}]}
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": cname}]})
    issued = run(module_code.present, client, wait=True)
    assert not issued.result["changed"] and issued.result["status"] == "ISSUED"
    assert issued.result["certificate_arn"] == first.result["certificate_arn"]
    assert len(raw.list_certificates(CertificateStatuses=list(module_code.EVERY_STATUS))
               ["CertificateSummaryList"]) == 1  # found again, none asked for

    # Found by the identity alone when told so: another owner tag does not ask for a new certificate.
    identity = {"Project": "shop", "Environment": "dev"}
    owner_changed = run(module_code.present, client, tags={**TAGS, "Owner": "someone else"}, match_tags=identity)
    assert not owner_changed.result["changed"]
    assert owner_changed.result["certificate_arn"] == first.result["certificate_arn"]

    # Another team's certificate of the same name (other tags) is neither used nor deleted.
    other = raw.request_certificate(DomainName=DOMAIN, ValidationMethod="DNS",
                                    Tags=[{"Key": "Project", "Value": "other"}])["CertificateArn"]
    gone = run(module_code.absent, client, state="absent")
    assert gone.result["changed"] and gone.result["deleted"] == [first.result["certificate_arn"]]
    assert gone.result["validation_records"] == [record]  # for the records' own deletion
    assert [c["CertificateArn"] for c in raw.list_certificates()["CertificateSummaryList"]] == [other]
    assert not run(module_code.absent, client, state="absent").result["changed"]
