"""AWS Certificate Manager as AWS runs it, where moto does not:

* Issued by a certificate authority. moto signs each certificate it "issues" with that certificate's
  own key (self-signed, "Amazon" only in name): no client can trust it. The sandbox signs them with
  a CA of its own instead (a root made once per state directory, ``acm/root.pem``), which the
  sandbox's env hands the controller with the other roots it trusts, as browsers trust Amazon's.
* DNS validation. moto issues every requested certificate after MOTO_ACM_VALIDATION_WAIT seconds,
  whatever DNS holds, and gives every certificate the same validation record. AWS gives each
  certificate its own CNAME (a name under the domain, a value under acm-validations.aws) and issues
  it only once that record is found in DNS. Here: a record derived from the certificate, and
  PENDING_VALIDATION until a hosted zone of the emulator holds that CNAME with that value.
* In use. AWS refuses to delete a certificate that a listener uses (ResourceInUseException), and a
  listener cannot be given a certificate that is not issued (CertificateNotFound): moto allows both.
"""

import datetime
import hashlib
import inspect
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ROOT_NAME = "Sandbox Amazon Root CA"
_lock = threading.Lock()


def authority(state_dir):
    """(root certificate, root key) of the sandbox's ACM, made on first use and kept in state_dir/acm/."""
    folder = Path(state_dir) / "acm"
    cert_path, key_path = folder / "root.pem", folder / "root-key.pem"
    with _lock:
        if not cert_path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sandbox"),
                              x509.NameAttribute(NameOID.COMMON_NAME, ROOT_NAME)])
            now = datetime.datetime.now(datetime.UTC)
            root = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                    .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                    .not_valid_after(now + datetime.timedelta(days=3650))
                    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                    .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                 content_commitment=False, key_encipherment=False,
                                                 data_encipherment=False, key_agreement=False,
                                                 encipher_only=False, decipher_only=False), critical=True)
                    .sign(key, hashes.SHA256()))
            key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
            key_path.chmod(0o600)
            cert_path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    root = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return root, serialization.load_pem_private_key(key_path.read_bytes(), password=None)


def sign(domain_names, root, root_key):
    """(certificate PEM, key PEM) for domain_names (the first is the subject), signed by the root."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain_names[0])]))
            .issuer_name(root.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=395))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in domain_names]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(root_key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption()))


def validation_record(arn, domain):
    """The CNAME (name, value) AWS asks to find in DNS before it issues the certificate `arn` for `domain`."""
    digest = hashlib.sha256(f"{arn} {domain}".encode()).hexdigest()
    base = domain[2:] if domain.startswith("*.") else domain
    # Labels of hex digits only, as AWS's: a word in them could be masked in a module's result (the
    # sandbox's credentials are words, and Ansible hides a no_log value wherever it appears).
    return f"_{digest[:32]}.{base}.", f"_{digest[32:64]}.{digest[:10]}.acm-validations.aws."


def cname_values(account):
    """{(record name, lower case, final dot): {values}} of every CNAME in the emulator's hosted zones."""
    from moto.route53.models import route53_backends

    found = {}
    for zone in route53_backends[account]["aws"].zones.values():
        for record in zone.rrsets:
            if record.type == "CNAME":
                values = {(value["Value"] if isinstance(value, dict) else value).lower().rstrip(".") + "."
                          for value in record.records or []}
                found.setdefault(record.name.lower().rstrip(".") + ".", set()).update(values)
    return found


def validated(account, arn, domains):
    """Whether DNS holds every domain's validation record of the certificate."""
    cnames = cname_values(account)
    return all(value.lower() in cnames.get(name.lower(), set())
               for name, value in (validation_record(arn, domain) for domain in domains))


def listeners_using(account, region, arn):
    """The ARNs of the load balancers whose listeners use certificate `arn`."""
    from moto.elbv2.models import elbv2_backends

    return sorted({balancer.arn for balancer in elbv2_backends[account][region].load_balancers.values()
                   for listener in balancer.listeners.values()
                   if arn in (listener.certificates or []) or listener.certificate == arn})


def refuse_unissued(account, region, arns, error):
    """ELBv2's CertificateNotFound for an ACM certificate (of arns) that is not issued."""
    from moto.acm.models import CertificateNotFound, acm_backends

    for arn in [arn for arn in arns if arn and ":acm:" in arn]:
        try:
            status = acm_backends[account][region].get_certificate(arn).status
        except CertificateNotFound:
            status = None
        if status != "ISSUED":
            raise error("CertificateNotFound", f"Certificate '{arn}' not found")


def install(state_dir):
    """Patch moto's ACM (and ELBv2's listeners) to issue, validate and hold certificates as AWS does;
    returns a function that takes the patches back."""
    from moto.acm import models
    from moto.acm.exceptions import AWSError
    from moto.elbv2.exceptions import ELBClientError
    from moto.elbv2.models import ELBv2Backend

    class ResourceInUse(AWSError):
        TYPE = "ResourceInUseException"

    bundle = models.CertBundle
    generate_cert = bundle.generate_cert.__func__

    def issued_by_the_sandbox(cls, domain_name, *, account_id, region, sans=None, cert_authority_arn=None):
        made = generate_cert(cls, domain_name, account_id=account_id, region=region, sans=sans,
                             cert_authority_arn=cert_authority_arn)
        if cert_authority_arn is not None:
            return made  # a private CA's: not the public one
        root, root_key = authority(state_dir)
        names = [domain_name] + [name for name in sans or [] if name != domain_name]
        certificate, key = sign(names, root, root_key)
        return cls(certificate=certificate, private_key=key, chain=root.public_bytes(serialization.Encoding.PEM),
                   cert_type="AMAZON_ISSUED", cert_status="PENDING_VALIDATION", account_id=account_id,
                   region=region)

    def check_dns(self):
        if self._not_valid_after(self._cert) <= models.utcnow():
            self.status = "EXPIRED"
        elif self.type == "AMAZON_ISSUED" and self.status == "PENDING_VALIDATION" and \
                validated(self.arn.split(":")[4], self.arn, self.sans or [self.common_name]):
            self.status = "ISSUED"

    describe = bundle.describe

    def with_own_records(self):
        found = describe(self)
        account, region = self.arn.split(":")[4], self.arn.split(":")[3]
        found["Certificate"]["InUseBy"] = listeners_using(account, region, self.arn)
        for option in found["Certificate"].get("DomainValidationOptions", []):
            name, value = validation_record(self.arn, option["DomainName"])
            option["ResourceRecord"] = {"Name": name, "Type": "CNAME", "Value": value}
        return found

    delete_certificate = models.AWSCertificateManagerBackend.delete_certificate

    def refuse_in_use(self, arn):
        if arn in self._certificates and listeners_using(self.account_id, self.region_name, arn):
            raise ResourceInUse(message=f"Certificate {arn} in account {self.account_id} is in use.")
        delete_certificate(self, arn)

    create_listener = ELBv2Backend.create_listener

    def create_with_issued(self, *args, **kwargs):
        certificate = inspect.signature(create_listener).bind(self, *args, **kwargs).arguments.get("certificate")
        refuse_unissued(self.account_id, self.region_name, [certificate], ELBClientError)
        return create_listener(self, *args, **kwargs)

    modify_listener = ELBv2Backend.modify_listener

    def modify_with_issued(self, *args, **kwargs):
        certificates = inspect.signature(modify_listener).bind(self, *args, **kwargs).arguments.get("certificates")
        refuse_unissued(self.account_id, self.region_name,
                        [item.get("CertificateArn") for item in certificates or []], ELBClientError)
        return modify_listener(self, *args, **kwargs)

    patches = [(bundle, "generate_cert", classmethod(issued_by_the_sandbox)), (bundle, "check", check_dns),
               (bundle, "describe", with_own_records),
               (models.AWSCertificateManagerBackend, "delete_certificate", refuse_in_use),
               (ELBv2Backend, "create_listener", create_with_issued),
               (ELBv2Backend, "modify_listener", modify_with_issued)]
    originals = [(owner, name, owner.__dict__[name]) for owner, name, _patch in patches]
    for owner, name, patch in patches:
        setattr(owner, name, patch)

    def undo():
        for owner, name, original in originals:
            setattr(owner, name, original)

    return undo
