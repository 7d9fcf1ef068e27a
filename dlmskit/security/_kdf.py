"""Key agreement: ECDH (P-256 / P-384) and the NIST SP 800-56A concatenation KDF.

Green Book 9.2.3.4.6: the derived key is
``Hash(00000001 || Z || AlgorithmID || ST-U || ST-V)`` truncated to the key length, where
Z is the ECDH shared secret, U the initiator and V the responder of the agreement, and
AlgorithmID names the cipher the key is for. Green Book Table C.2 is a worked example.

Security setup key_agreement (method 3) exchanges signed ephemeral public keys
(Ephemeral Unified Model C(2e, 0s)); each side then computes Z from its own ephemeral
private key and the peer's ephemeral public key.
"""

from __future__ import annotations

import enum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash

from dlmskit.errors import LocalProtocolError, SecurityError
from dlmskit.security._control import SecuritySuite, key_length
from dlmskit.security._keywrap import KeyDataEntry
from dlmskit.security._signing import (
    ecdsa_sign,
    ecdsa_verify,
    public_key_from_bytes,
    public_key_to_bytes,
)

__all__ = [
    "AlgorithmId",
    "KeyAgreementScheme",
    "concat_kdf",
    "derive_key",
    "ecdh_shared_secret",
    "key_agreement_entry",
    "peer_ephemeral_key",
]


class AlgorithmId(bytes, enum.Enum):
    """AlgorithmID of the KDF OtherInfo (OID 2.16.756.5.8.3.x, encoded content only)."""

    AES_GCM_128 = bytes.fromhex("60857405080300")
    AES_GCM_256 = bytes.fromhex("60857405080301")


class KeyAgreementScheme(enum.IntEnum):
    """key-parameters of an agreed-key in general-ciphering."""

    EPHEMERAL_UNIFIED_MODEL = 0  # C(2e, 0s)
    ONE_PASS_DIFFIE_HELLMAN = 1  # C(1e, 1s)
    STATIC_UNIFIED_MODEL = 2  # C(0e, 2s)


def ecdh_shared_secret(
    private_key: ec.EllipticCurvePrivateKey, peer_public_key: ec.EllipticCurvePublicKey
) -> bytes:
    """The ECDH shared secret Z (the x coordinate of the shared point)."""
    if private_key.curve.name != peer_public_key.curve.name:
        raise LocalProtocolError("ECDH keys are on different curves")
    return private_key.exchange(ec.ECDH(), peer_public_key)


def concat_kdf(z: bytes, other_info: bytes, *, length: int, sha384: bool = False) -> bytes:
    """NIST SP 800-56A single-step KDF with SHA-256 (or SHA-384)."""
    algorithm: hashes.HashAlgorithm = hashes.SHA384() if sha384 else hashes.SHA256()
    return ConcatKDFHash(algorithm=algorithm, length=length, otherinfo=other_info).derive(z)


def derive_key(
    z: bytes, *, suite: SecuritySuite, party_u_system_title: bytes, party_v_system_title: bytes
) -> bytes:
    """The AES-GCM key of ``suite`` agreed from Z between parties U and V."""
    suite = SecuritySuite(suite)
    if suite == SecuritySuite.AES_GCM_128:
        raise LocalProtocolError("security suite 0 has no key agreement")
    sha384 = suite == SecuritySuite.ECDH_ECDSA_AES_GCM_256_SHA_384
    algorithm = AlgorithmId.AES_GCM_256 if sha384 else AlgorithmId.AES_GCM_128
    other_info = algorithm.value + bytes(party_u_system_title) + bytes(party_v_system_title)
    return concat_kdf(z, other_info, length=key_length(suite), sha384=sha384)


def key_agreement_entry(
    key_id: int,
    ephemeral_key: ec.EllipticCurvePrivateKey,
    signing_key: ec.EllipticCurvePrivateKey,
) -> KeyDataEntry:
    """One element of key_agreement data (Security setup method 3, Ephemeral Unified Model
    C(2e, 0s)): key_data = ephemeral public key X || Y || ECDSA signature of it."""
    public = public_key_to_bytes(ephemeral_key.public_key())
    return KeyDataEntry(key_id=key_id, data=public + ecdsa_sign(signing_key, public))


def peer_ephemeral_key(
    entry: KeyDataEntry, *, suite: SecuritySuite, peer_signing_key: ec.EllipticCurvePublicKey
) -> ec.EllipticCurvePublicKey:
    """The peer's ephemeral public key from its key_agreement element, signature checked."""
    size = 32 if suite == SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256 else 48
    if suite == SecuritySuite.AES_GCM_128:
        raise LocalProtocolError("security suite 0 has no key agreement")
    public, signature = entry.data[: 2 * size], entry.data[2 * size :]
    if len(signature) != 2 * size or not ecdsa_verify(peer_signing_key, public, signature):
        raise SecurityError("key_agreement signature of the ephemeral key did not verify")
    return public_key_from_bytes(public, suite)
