"""X.509 certificates of suites 1 and 2 (Security setup attribute 6, methods 6 and 7).

Import (DER or PEM) and export through ``cryptography``; DLMS puts the system title in
the subject common name as 16 hexadecimal digits (DLMS UA 1000-2, 4.4.5).
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dlmskit.errors import SecurityError

__all__ = [
    "certificate_public_key",
    "certificate_system_title",
    "export_certificate",
    "load_certificate",
]


def load_certificate(data: bytes) -> x509.Certificate:
    """Parse a certificate in PEM or DER form; SecurityError if it is neither."""
    raw = bytes(data)
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)
    except ValueError:
        raise SecurityError("not a valid X.509 certificate") from None


def export_certificate(certificate: x509.Certificate, *, pem: bool = False) -> bytes:
    """DER (what export_certificate returns on the wire) or PEM bytes."""
    encoding = serialization.Encoding.PEM if pem else serialization.Encoding.DER
    return certificate.public_bytes(encoding)


def certificate_public_key(certificate: x509.Certificate) -> ec.EllipticCurvePublicKey:
    """The certificate's P-256 or P-384 public key; SecurityError for other key types."""
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in (
        "secp256r1",
        "secp384r1",
    ):
        raise SecurityError("certificate key is not an ECDSA P-256 or P-384 key")
    return key


def certificate_system_title(certificate: x509.Certificate) -> bytes:
    """The 8-byte system title in the subject common name."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise SecurityError("certificate subject has no common name")
    value = names[0].value
    text = value if isinstance(value, str) else value.decode("ascii", "replace")
    try:
        title = bytes.fromhex(text)
    except ValueError:
        raise SecurityError(f"common name {text!r} is not a hexadecimal system title") from None
    if len(title) != 8:
        raise SecurityError(f"common name {text!r} is not an 8-byte system title")
    return title
