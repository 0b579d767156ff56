"""ACM certificates of a domain: which one of those found is ours to use, and the DNS records that
validate it (shared by module acm_certificate_request and its tests)."""

from __future__ import annotations

import hashlib

# The statuses of a certificate that can still serve: one of these is used again rather than a new one asked.
LIVE_STATUSES = ("ISSUED", "PENDING_VALIDATION")


def carries(tags, wanted):
    """Whether a certificate's tags ({key: value}) hold every wanted tag."""
    return all(tags.get(key) == value for key, value in wanted.items())


def chosen(certificates):
    """The certificate to use among ours for a domain (descriptions as DescribeCertificate's): an issued
    one before a pending one, then the newest; None if there is none."""
    live = [cert for cert in certificates if cert.get("Status") in LIVE_STATUSES]
    if not live:
        return None
    return sorted(live, key=lambda cert: (cert["Status"] == "ISSUED", str(cert.get("CreatedAt", ""))))[-1]


def validation_records(certificate):
    """[{domain, name, type, value}] of a certificate's DNS validation (a record AWS has not yet written
    into the description is left out: ask again)."""
    found = []
    for option in certificate.get("DomainValidationOptions", []):
        record = option.get("ResourceRecord")
        if record and not any(known["name"] == record["Name"] for known in found):
            found.append({"domain": option["DomainName"], "name": record["Name"], "type": record["Type"],
                          "value": record["Value"]})
    return found


def idempotency_token(domain_name, tags):
    """RequestCertificate's IdempotencyToken (\\w, at most 32): two requests within an hour for the same
    domain and tags make one certificate, as when a run is interrupted and run again."""
    text = domain_name + "|" + "|".join(f"{key}={tags[key]}" for key in sorted(tags))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
