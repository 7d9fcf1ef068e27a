"""ECDSA as DLMS uses it (suite 1: P-256/SHA-256, suite 2: P-384/SHA-384), and general-signing.

Signatures travel as raw ``r || s`` (64 bytes for P-256, 96 for P-384), public keys as
raw ``X || Y`` (Green Book 9.2.3.4, the formats of HLS mechanism 7 and key agreement).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from dlmskit.apdu._ciphered import GeneralSigning
from dlmskit.errors import LocalProtocolError, SecurityError
from dlmskit.security._control import SecuritySuite

__all__ = [
    "curve_for_suite",
    "ecdsa_sign",
    "ecdsa_verify",
    "generate_key_pair",
    "public_key_from_bytes",
    "public_key_to_bytes",
    "sign_general",
    "suite_for_key",
    "verify_general",
]

_CURVES: dict[SecuritySuite, type[ec.EllipticCurve]] = {
    SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256: ec.SECP256R1,
    SecuritySuite.ECDH_ECDSA_AES_GCM_256_SHA_384: ec.SECP384R1,
}
_SIZES = {"secp256r1": 32, "secp384r1": 48}

EcKey = ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey


def curve_for_suite(suite: SecuritySuite) -> ec.EllipticCurve:
    """The curve of suite 1 (P-256) or 2 (P-384); suite 0 has none."""
    curve = _CURVES.get(SecuritySuite(suite))
    if curve is None:
        raise LocalProtocolError(f"security suite {int(suite)} has no elliptic curve")
    return curve()


def _size(key: EcKey) -> int:
    size = _SIZES.get(key.curve.name)
    if size is None:
        raise LocalProtocolError(f"curve {key.curve.name} is not used by DLMS (P-256 or P-384)")
    return size


def suite_for_key(key: EcKey) -> SecuritySuite:
    """Suite 1 for a P-256 key, suite 2 for a P-384 key."""
    return (
        SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256
        if _size(key) == 32
        else SecuritySuite.ECDH_ECDSA_AES_GCM_256_SHA_384
    )


def _hash(key: EcKey) -> hashes.HashAlgorithm:
    return hashes.SHA256() if _size(key) == 32 else hashes.SHA384()


def generate_key_pair(suite: SecuritySuite) -> ec.EllipticCurvePrivateKey:
    """A fresh key pair on the suite's curve (randomness from the OS, via cryptography)."""
    return ec.generate_private_key(curve_for_suite(suite))


def public_key_to_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    """Raw ``X || Y``."""
    size = _size(key)
    numbers = key.public_numbers()
    return numbers.x.to_bytes(size, "big") + numbers.y.to_bytes(size, "big")


def public_key_from_bytes(data: bytes, suite: SecuritySuite) -> ec.EllipticCurvePublicKey:
    """Parse raw ``X || Y`` (or SEC1 uncompressed ``04 || X || Y``) on the suite's curve."""
    curve = curve_for_suite(suite)
    size = _SIZES[curve.name]
    raw = bytes(data)
    if len(raw) == 2 * size:
        raw = b"\x04" + raw
    if len(raw) != 2 * size + 1 or raw[0] != 0x04:
        raise SecurityError(f"public key must be {2 * size} bytes X || Y, got {len(data)}")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, raw)
    except ValueError:
        raise SecurityError("public key is not a point on the curve") from None


def ecdsa_sign(private_key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """Raw ``r || s`` ECDSA signature of ``data`` (hash chosen by the curve)."""
    size = _size(private_key)
    der = private_key.sign(bytes(data), ec.ECDSA(_hash(private_key)))
    r, s = decode_dss_signature(der)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def ecdsa_verify(public_key: ec.EllipticCurvePublicKey, data: bytes, signature: bytes) -> bool:
    """True when ``signature`` (raw ``r || s``) signs ``data``."""
    size = _size(public_key)
    if len(signature) != 2 * size:
        return False
    r = int.from_bytes(signature[:size], "big")
    s = int.from_bytes(signature[size:], "big")
    try:
        public_key.verify(encode_dss_signature(r, s), bytes(data), ec.ECDSA(_hash(public_key)))
    except InvalidSignature:
        return False
    return True


def sign_general(
    content: bytes,
    *,
    private_key: ec.EllipticCurvePrivateKey,
    transaction_id: bytes,
    originator_system_title: bytes,
    recipient_system_title: bytes = b"",
    date_time: bytes = b"",
    other_information: bytes = b"",
) -> GeneralSigning:
    """A general-signing APDU whose signature covers transaction-id .. content."""
    unsigned = GeneralSigning(
        transaction_id=transaction_id,
        originator_system_title=originator_system_title,
        recipient_system_title=recipient_system_title,
        date_time=date_time,
        other_information=other_information,
        content=content,
    )
    signature = ecdsa_sign(private_key, unsigned.signed_bytes())
    return GeneralSigning(
        transaction_id=transaction_id,
        originator_system_title=originator_system_title,
        recipient_system_title=recipient_system_title,
        date_time=date_time,
        other_information=other_information,
        content=content,
        signature=signature,
    )


def verify_general(apdu: GeneralSigning, *, public_key: ec.EllipticCurvePublicKey) -> bytes:
    """Check a general-signing APDU and return its content; SecurityError if it does not verify."""
    if not ecdsa_verify(public_key, apdu.signed_bytes(), apdu.signature):
        raise SecurityError(
            "general-signing signature from "
            f"{apdu.originator_system_title.hex().upper()} did not verify"
        )
    return apdu.content
