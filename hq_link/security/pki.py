"""The chain's own certificate authority, and the certificates it signs.

One CA per chain (kept on the HQ machine, offline if possible); one client
certificate per store whose subject CN is the store id (HQ lets a store write
only as that id); one server certificate for HQ with its DNS names and IPs.
Keys are ECDSA P-256: small, fast on a Raspberry Pi, supported by gRPC.
Time is passed in; only `write_pem` touches the disk.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 20 * 365  # the CA outlives every store certificate it signs
LEAF_DAYS = 3 * 365
# Clocks of freshly installed boxes run a little behind: a certificate valid
# from "now" would be refused by them for a few minutes.
BACKDATE = timedelta(hours=1)
ORGANIZATION = "Tillpoint"

CA_CERT = "ca.pem"
CA_KEY = "ca.key"


class PkiError(Exception):
    """A CA or certificate request that cannot be carried out (message says why)."""


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, unit: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca(now: datetime, *, name: str = "Tillpoint chain CA", days: int = CA_DAYS) -> Issued:
    """A self-signed CA that may sign leaf certificates only (path length 0)."""
    key = _new_key()
    subject = _name(name, "CA")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert=cert, key=key)


def _leaf(
    ca: Issued,
    now: datetime,
    *,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    days: int,
    san: x509.SubjectAlternativeName | None = None,
) -> Issued:
    key = _new_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + timedelta(days=days), ca.cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    return Issued(cert=builder.sign(ca.key, hashes.SHA256()), key=key)


def valid_store_id(store_id: str) -> bool:
    """The store server's own rule (store_server.config): 1-16 letters or digits."""
    return bool(store_id) and store_id.isascii() and store_id.isalnum() and len(store_id) <= 16


def make_store_cert(ca: Issued, store_id: str, now: datetime, *, days: int = LEAF_DAYS) -> Issued:
    """A client certificate whose CN is the store id: the id HQ lets it write as."""
    if not valid_store_id(store_id):
        raise PkiError(f"store id {store_id!r}: 1-16 letters or digits")
    return _leaf(
        ca,
        now,
        subject=_name(store_id, "store"),
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
        days=days,
    )


def make_user_cert(ca: Issued, user_id: str, now: datetime, *, days: int = LEAF_DAYS) -> Issued:
    """A person's client certificate (an owner's or HQ staff's report tool).

    Its CN "user:<id>" is never a store id, so it can reach HQ's report service
    (whose token decides what the person sees) and can write as no store.
    """
    if not user_id or not user_id.isprintable() or len(user_id) > 64:
        raise PkiError(f"user id {user_id!r}: 1-64 printable characters")
    return _leaf(
        ca,
        now,
        subject=_name(f"user:{user_id}", "HQ user"),
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
        days=days,
    )


def make_server_cert(
    ca: Issued,
    hosts: list[str],
    ips: list[str],
    now: datetime,
    *,
    days: int = LEAF_DAYS,
) -> Issued:
    """HQ's server certificate: the agents check its DNS names and IPs (SANs)."""
    if not hosts and not ips:
        raise PkiError("a server certificate needs at least one --host or --ip")
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in hosts]
    for ip in ips:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(ip)))
        except ValueError as exc:
            raise PkiError(f"--ip {ip!r}: not an IP address") from exc
    return _leaf(
        ca,
        now,
        subject=_name(hosts[0] if hosts else ips[0], "HQ server"),
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        days=days,
        san=x509.SubjectAlternativeName(names),
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_pem(path: Path, data: bytes, *, private: bool, overwrite: bool = False) -> None:
    """Write atomically; a private key is 0600 from its first byte (never world-readable)."""
    if path.exists() and not overwrite:
        raise PkiError(f"{path} exists (--force replaces it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    try:
        os.fchmod(fd, 0o600 if private else 0o644)  # O_CREAT's mode obeys the umask
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def write_issued(
    issued: Issued, cert_path: Path, key_path: Path, *, overwrite: bool = False
) -> None:
    # Both checked first, so a refusal writes neither.
    for path in (cert_path, key_path):
        if path.exists() and not overwrite:
            raise PkiError(f"{path} exists (--force replaces it)")
    write_pem(key_path, key_pem(issued.key), private=True, overwrite=overwrite)
    write_pem(cert_path, cert_pem(issued.cert), private=False, overwrite=overwrite)


def load_ca(directory: Path) -> Issued:
    cert_path, key_path = directory / CA_CERT, directory / CA_KEY
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise PkiError(
            f"no CA in {directory} ({exc.filename} missing): `hqctl ca init --dir {directory}`"
        ) from exc
    except ValueError as exc:
        raise PkiError(f"CA in {directory}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{key_path}: not an EC private key")
    return Issued(cert=cert, key=key)


def verify_issued_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> None:
    """Raises (cryptography's InvalidSignature, ValueError) unless `ca_cert` signed `cert`."""
    cert.verify_directly_issued_by(ca_cert)
