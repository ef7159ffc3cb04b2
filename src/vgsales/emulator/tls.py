"""A throw-away certificate authority, so the emulator can serve HTTPS on loopback.

The stack's bucket policy denies every request that does not arrive over TLS, exactly as on AWS. Serving
HTTPS locally lets that policy be evaluated honestly instead of being special-cased. Each emulator start
issues a fresh CA and a server certificate for the loopback names; the CA's private key never leaves
memory, so nothing on disk can sign another certificate. Clients trust the CA through AWS_CA_BUNDLE only,
never through the system store.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def aws_service_names() -> tuple[str, ...]:
    """The AWS hostnames the emulator answers for through its proxy (proxy.py), as certificate names.

    A wildcard covers one label, so each endpoint shape the project's clients use gets its own:
    sts/logs/s3/iam.<region>.amazonaws.com, api./runtime.sagemaker.<region>..., <bucket>.s3.<region>... and
    the global s3/sts/iam.amazonaws.com and <bucket>.s3.amazonaws.com. Regions from botocore's own endpoint
    data, so every region a client can name is covered.
    """
    import botocore.session

    regions = botocore.session.get_session().get_available_regions("sagemaker")
    names = ["*.amazonaws.com", "*.s3.amazonaws.com"]
    for region in regions:
        names += [f"*.{region}.amazonaws.com", f"*.sagemaker.{region}.amazonaws.com", f"*.s3.{region}.amazonaws.com"]
    return tuple(names)
VALIDITY = datetime.timedelta(days=365)
# Tolerates a client clock slightly behind the emulator's.
BACKDATE = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class Certificate:
    ca_bundle: Path  # the CA certificate clients trust (AWS_CA_BUNDLE)
    cert_file: Path  # the server certificate followed by the CA
    key_file: Path  # the server's private key, readable by its owner only


def issue(directory: Path, names: tuple[str, ...] | None = None) -> Certificate:
    """Write a new CA certificate, server certificate and server key into directory.

    The server certificate names loopback and the AWS service hostnames: clients that reach the emulator
    through its proxy verify it under the AWS name they asked for, and only because they trust this CA.
    """
    names = names if names is not None else LOOPBACK_NAMES + aws_service_names()
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vgsales local AWS emulator CA")])
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        _builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]), ca_name, server_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    certificate = Certificate(
        ca_bundle=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server.key",
    )
    _write_private(
        certificate.key_file,
        server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    certificate.cert_file.write_bytes(server_cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    certificate.ca_bundle.write_bytes(ca_cert.public_bytes(pem))
    return certificate


def remove(certificate: Certificate) -> None:
    for path in (certificate.key_file, certificate.cert_file, certificate.ca_bundle):
        path.unlink(missing_ok=True)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: datetime.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + VALIDITY)
    )


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _write_private(path: Path, data: bytes) -> None:
    """Create the file with mode 0600 from the start: chmod after writing would leave a readable window."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
