#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: acm_certificate_request
short_description: Request a public ACM certificate for a domain with DNS validation, wait until it is issued, delete it
version_added: 0.6.0
description:
  - Asks AWS Certificate Manager for a public certificate of I(domain_name), validated through DNS, tagged with
    I(tags); returns the CNAME records that prove the domain is yours. AWS issues the certificate once it finds
    them in DNS (write them with M(amazon.aws.route53) or at your DNS provider), and renews it by itself while
    they stay.
  - Idempotent. A certificate of I(domain_name) that carries every tag of I(match_tags) and is issued or waiting for
    validation is used again (an issued one first); only when there is none is one requested. A certificate
    whose tags another team's policy keeps from being read is not ours and is passed over.
  - With I(wait), waits up to I(wait_timeout) seconds for the certificate to be issued, and fails naming the
    records AWS has not found yet.
  - With I(state=absent), deletes every such certificate of I(domain_name); AWS refuses while a load balancer's
    listener uses one (delete the load balancer first).
  - community.aws's M(community.aws.acm_certificate) imports certificates only; this module asks AWS for one.
author:
  - Shipyard maintainers (@shipyard)
options:
  domain_name:
    description: The name the certificate is for, like C(app.example.com).
    type: str
    required: true
  tags:
    description: The tags the certificate is requested with.
    type: dict
    required: true
  match_tags:
    description: The tags by which a certificate is found again (ours), e.g. the identity tags only, so that a
      change of the other tags does not ask for a new one. Empty, I(tags).
    type: dict
    default: {}
  state:
    description: C(present) to request (or find) it, C(absent) to delete it.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: Wait until the certificate is issued (C(present) only).
    type: bool
    default: false
  wait_timeout:
    description: How long I(wait) waits, in seconds.
    type: int
    default: 900
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode (nothing is requested or deleted; the result says what would be).
"""

EXAMPLES = r"""
- name: Ask for a certificate of the domain
  shipyard.ec2_compose.acm_certificate_request:
    domain_name: app.example.com
    tags: {Project: shop, Environment: prod, ManagedBy: shipyard.ec2_compose}
  register: certificate

- name: Write its validation records in the domain's zone
  amazon.aws.route53:
    zone: example.com
    record: "{{ item.name }}"
    type: "{{ item.type }}"
    value: "{{ item.value }}"
    ttl: 300
    overwrite: true
  loop: "{{ certificate.validation_records }}"

- name: Wait until it is issued
  shipyard.ec2_compose.acm_certificate_request:
    domain_name: app.example.com
    tags: {Project: shop, Environment: prod, ManagedBy: shipyard.ec2_compose}
    wait: true
"""

RETURN = r"""
certificate_arn:
  description: The certificate's ARN (empty when none exists, in check mode, or after C(absent)).
  returned: always
  type: str
  sample: arn:aws:acm:us-east-1:123456789012:certificate/0e2f4a1b-4c3d-4e5f-8a9b-0c1d2e3f4a5b
status:
  description: The certificate's status (C(PENDING_VALIDATION), C(ISSUED)); empty when there is none.
  returned: always
  type: str
  sample: ISSUED
validation_records:
  description: The DNS records that validate the certificate, one per name; with C(absent), those of the
    certificates deleted, which can go too.
  returned: always
  type: list
  elements: dict
  sample: [{domain: app.example.com, name: _3b1f.app.example.com., type: CNAME, value: _9c2e.acm-validations.aws.}]
deleted:
  description: The ARNs deleted (C(absent)).
  returned: always
  type: list
  elements: str
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
)

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.certificates import (
    LIVE_STATUSES,
    carries,
    chosen,
    idempotency_token,
    validation_records,
)
from ansible_collections.shipyard.ec2_compose.plugins.module_utils.retry import aws_retry

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

POLL_SECONDS = 5
IN_USE_WAIT = 120  # seconds a deleted load balancer's certificate may still count as in use
EVERY_STATUS = ("PENDING_VALIDATION", "ISSUED", "INACTIVE", "EXPIRED", "VALIDATION_TIMED_OUT", "REVOKED", "FAILED")


def ours(client, domain_name, tags, statuses):
    """DescribeCertificate of every certificate of domain_name in `statuses` that carries `tags`."""
    found = []
    pages = client.get_paginator("list_certificates").paginate(CertificateStatuses=list(statuses))
    for summary in (summary for page in pages for summary in page["CertificateSummaryList"]):
        if summary.get("DomainName") != domain_name:
            continue
        arn = summary["CertificateArn"]
        try:
            cert_tags = client.list_tags_for_certificate(CertificateArn=arn, aws_retry=True).get("Tags", [])
        except is_boto3_error_code(["AccessDeniedException", "ResourceNotFoundException"]):
            continue  # another team's (its tags are not ours to read), or deleted meanwhile
        if carries(boto3_tag_list_to_ansible_dict(cert_tags), tags):
            found.append(client.describe_certificate(CertificateArn=arn, aws_retry=True)["Certificate"])
    return found


def described_with_records(client, arn, seconds=60):
    """DescribeCertificate, asked again for a while until AWS has written the validation records into it."""
    deadline = time.monotonic() + seconds
    while True:
        certificate = client.describe_certificate(CertificateArn=arn, aws_retry=True)["Certificate"]
        options = certificate.get("DomainValidationOptions", [])
        if certificate["Status"] != "PENDING_VALIDATION" or (options and all("ResourceRecord" in o for o in options)):
            return certificate
        if time.monotonic() > deadline:
            return certificate
        time.sleep(2)


def wait_issued(module, client, certificate):
    deadline = time.monotonic() + module.params["wait_timeout"]
    while certificate["Status"] == "PENDING_VALIDATION" and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        certificate = client.describe_certificate(CertificateArn=certificate["CertificateArn"],
                                                  aws_retry=True)["Certificate"]
    if certificate["Status"] != "ISSUED":
        records = "; ".join(f"{record['name']} {record['type']} {record['value']}"
                            for record in validation_records(certificate))
        module.fail_json(
            msg=f"The certificate of {module.params['domain_name']} is {certificate['Status']} after "
                f"{module.params['wait_timeout']} s (wait_timeout): AWS has not found its validation records in "
                f"DNS: {records or 'none given'}",
            certificate_arn=certificate["CertificateArn"], status=certificate["Status"],
            validation_records=validation_records(certificate))
    return certificate


def present(module, client):
    params = module.params
    changed = False
    certificate = chosen(ours(client, params["domain_name"], params["match_tags"] or params["tags"], LIVE_STATUSES))
    if certificate is None:
        changed = True
        if module.check_mode:
            module.exit_json(changed=True, certificate_arn="", status="", validation_records=[], deleted=[])
        arn = client.request_certificate(
            DomainName=params["domain_name"], ValidationMethod="DNS",
            IdempotencyToken=idempotency_token(params["domain_name"], params["tags"]),
            Tags=ansible_dict_to_boto3_tag_list(params["tags"]), aws_retry=True)["CertificateArn"]
        certificate = described_with_records(client, arn)
    elif certificate["Status"] == "PENDING_VALIDATION":
        certificate = described_with_records(client, certificate["CertificateArn"])
    if params["wait"] and not module.check_mode:
        certificate = wait_issued(module, client, certificate)
    module.exit_json(changed=changed, certificate_arn=certificate["CertificateArn"], status=certificate["Status"],
                     validation_records=validation_records(certificate), deleted=[])


def delete_when_unused(module, client, arn, seconds=IN_USE_WAIT):
    """DeleteCertificate, asked again for a while: AWS still counts a certificate in use for moments after
    its load balancer is deleted."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            client.delete_certificate(CertificateArn=arn, aws_retry=True)
            return
        except is_boto3_error_code("ResourceInUseException") as error:
            if time.monotonic() > deadline:
                module.fail_json_aws(error, msg=f"The certificate {arn} of {module.params['domain_name']} is still "
                                                f"used by a load balancer after {seconds} s: delete it first")
            time.sleep(POLL_SECONDS)


def absent(module, client):
    params = module.params
    found = ours(client, params["domain_name"], params["match_tags"] or params["tags"], EVERY_STATUS)
    deleted = [certificate["CertificateArn"] for certificate in found]
    if not module.check_mode:
        for arn in deleted:
            delete_when_unused(module, client, arn)
    records = [record for certificate in found for record in validation_records(certificate)]
    module.exit_json(changed=bool(deleted), certificate_arn="", status="", validation_records=records, deleted=deleted)


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "domain_name": {"type": "str", "required": True},
            "tags": {"type": "dict", "required": True},
            "match_tags": {"type": "dict", "default": {}},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "wait": {"type": "bool", "default": False},
            "wait_timeout": {"type": "int", "default": 900},
        },
        supports_check_mode=True,
    )
    client = module.client("acm", retry_decorator=aws_retry())
    try:
        if module.params["state"] == "present":
            present(module, client)
        absent(module, client)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        module.fail_json_aws(error, msg=f"Could not keep the certificate of {module.params['domain_name']}")


if __name__ == "__main__":
    main()
