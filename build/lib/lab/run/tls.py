"""The lab's own certificate authority and nginx's certificate, made once per lab on this machine.

When nginx terminates https (a site whose settings demand it), browsers and the virtual users need a
certificate for 127.0.0.1, localhost and nginx's name on the lab network. The lab makes a small CA per
lab and signs nginx's certificate with it; the CA's certificate lies beside the lab's state, so a
person can trust it (`lab status` says how). Nothing is sent anywhere; `lab down` deletes them.
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

VALID_DAYS = 825  # what browsers accept for a server certificate


@dataclass(frozen=True)
class Certificates:
    """PEM texts: the lab's CA (to trust), and nginx's certificate and key (to serve)."""

    ca_path: Path
    ca: str
    cert: str
    key: str


def _write_private(path: Path, data: bytes) -> None:
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Django multi-node lab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _make_ca(lab: str, folder: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = _name(f"{lab} lab CA")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(folder / "ca.key", _pem_key(key))
    (folder / "ca.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _make_server(lab: str, folder: Path, names: list[str]) -> None:
    ca_key = serialization.load_pem_private_key((folder / "ca.key").read_bytes(), None)
    ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    alternatives = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{lab} lab nginx"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(folder / "key.pem", _pem_key(key))
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "names").write_text("\n".join(names) + "\n")


def certificates(lab: str, folder: Path, names: list[str]) -> Certificates:
    """The lab's CA and nginx's certificate for `names` (addresses or host names), made when missing or
    when the names changed; the CA stays, so a browser that trusts it keeps trusting the lab."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    if not (folder / "ca.pem").is_file() or not (folder / "ca.key").is_file():
        _make_ca(lab, folder)
        (folder / "names").unlink(missing_ok=True)
    wanted = "\n".join(names) + "\n"
    current = (folder / "names").read_text() if (folder / "names").is_file() else ""
    if current != wanted or not (folder / "cert.pem").is_file() or not (folder / "key.pem").is_file():
        _make_server(lab, folder, names)
    return Certificates(
        folder / "ca.pem",
        (folder / "ca.pem").read_text(),
        (folder / "cert.pem").read_text(),
        (folder / "key.pem").read_text(),
    )
