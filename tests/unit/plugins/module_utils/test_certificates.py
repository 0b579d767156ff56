"""module_utils/certificates.py: which of a domain's certificates is ours to use, its validation records,
and the request's idempotency token."""

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.certificates import (
    carries,
    chosen,
    idempotency_token,
    validation_records,
)

TAGS = {"Project": "shop", "ManagedBy": "shipyard.ec2_compose"}


def test_a_certificate_is_ours_when_it_carries_every_tag():
    assert carries({**TAGS, "Owner": "me"}, TAGS)
    assert not carries({"Project": "shop"}, TAGS)
    assert not carries({**TAGS, "Project": "other"}, TAGS)


def test_an_issued_certificate_is_chosen_before_a_pending_one_then_the_newest():
    pending = {"CertificateArn": "p", "Status": "PENDING_VALIDATION", "CreatedAt": "2026-12-07"}
    old = {"CertificateArn": "o", "Status": "ISSUED", "CreatedAt": "2026-01-01"}
    new = {"CertificateArn": "n", "Status": "ISSUED", "CreatedAt": "2026-06-01"}
    failed = {"CertificateArn": "f", "Status": "FAILED", "CreatedAt": "2026-12-08"}
    assert chosen([pending, old, new, failed])["CertificateArn"] == "n"
    assert chosen([pending, failed])["CertificateArn"] == "p"
    assert chosen([failed]) is None and chosen([]) is None


def test_validation_records_once_per_name_and_only_those_aws_has_written():
    certificate = {"DomainValidationOptions": [
        {"DomainName": "shop.example.com", "ResourceRecord": {"Name": "_a.shop.example.com.", "Type": "CNAME",
                                                              "Value": "_b.acm-validations.aws."}},
        {"DomainName": "*.shop.example.com", "ResourceRecord": {"Name": "_a.shop.example.com.", "Type": "CNAME",
                                                                "Value": "_b.acm-validations.aws."}},
        {"DomainName": "www.shop.example.com"}]}
    assert validation_records(certificate) == [{"domain": "shop.example.com", "name": "_a.shop.example.com.",
                                                "type": "CNAME", "value": "_b.acm-validations.aws."}]


def test_the_idempotency_token_is_32_word_characters_and_depends_on_domain_and_tags():
    token = idempotency_token("shop.example.com", TAGS)
    assert len(token) == 32 and token.isalnum()
    assert token == idempotency_token("shop.example.com", dict(reversed(list(TAGS.items()))))
    assert token != idempotency_token("www.example.com", TAGS)
    assert token != idempotency_token("shop.example.com", {**TAGS, "Project": "other"})
