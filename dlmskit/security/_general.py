"""general-ciphering (0xDD) pieces: its AAD and the wrapped and agreed content keys.

Pure functions; :class:`SecurityContext` supplies the keys and counters.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec

from dlmskit.apdu._ciphered import AgreedKey, GeneralCiphering, WrappedKey
from dlmskit.errors import SecurityError
from dlmskit.security._control import SecuritySuite
from dlmskit.security._kdf import KeyAgreementScheme, derive_key, ecdh_shared_secret
from dlmskit.security._keywrap import unwrap_key, wrap_key
from dlmskit.security._signing import (
    ecdsa_sign,
    ecdsa_verify,
    generate_key_pair,
    public_key_from_bytes,
    public_key_to_bytes,
)

__all__ = [
    "agreed_content_key",
    "general_aad",
    "new_agreed_key",
    "new_wrapped_key",
    "unwrapped_content_key",
]

_ONE_PASS = bytes((KeyAgreementScheme.ONE_PASS_DIFFIE_HELLMAN,))


def general_aad(aad_prefix: bytes, sc: int, envelope: GeneralCiphering) -> bytes:
    """SC || AK || transaction-id .. other-information (each length-prefixed).

    This is the AAD gurux-dlms uses for suites 1 and 2 (dlms-facts 3.3). It is used for
    every suite here, so that no header field of a general-ciphering APDU can be altered
    unnoticed once authentication is on.
    """
    if sc & 0x10:
        return aad_prefix + envelope.header_fields()
    return aad_prefix


def new_wrapped_key(master_key: bytes, content_key: bytes) -> WrappedKey:
    """key-info [1]: ``content_key`` wrapped with the master key (kek-id 0)."""
    return WrappedKey(kek_id=0, key_ciphered_data=wrap_key(master_key, content_key))


def unwrapped_content_key(info: WrappedKey, master_key: bytes | None) -> bytes:
    """The content key of a received wrapped-key; SecurityError if it cannot be had."""
    if master_key is None or info.kek_id != 0:
        raise SecurityError("no key-encrypting key to unwrap the content key")
    return unwrap_key(master_key, info.key_ciphered_data)


def _point_size(suite: SecuritySuite) -> int:
    if suite == SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256:
        return 32
    if suite == SecuritySuite.ECDH_ECDSA_AES_GCM_256_SHA_384:
        return 48
    raise SecurityError("agreed keys need security suite 1 or 2")


def new_agreed_key(
    *,
    suite: SecuritySuite,
    peer_agreement_key: ec.EllipticCurvePublicKey,
    signing_key: ec.EllipticCurvePrivateKey | None,
    originator: bytes,
    recipient: bytes,
) -> tuple[bytes, AgreedKey]:
    """One-pass Diffie-Hellman C(1e, 1s): a fresh ephemeral key against the recipient's
    static key; key-ciphered-data = ephemeral public key X || Y, followed by its ECDSA
    signature when this side has a signing key. Returns (content key, key-info)."""
    _point_size(suite)
    ephemeral = generate_key_pair(suite)
    content_key = derive_key(
        ecdh_shared_secret(ephemeral, peer_agreement_key),
        suite=suite,
        party_u_system_title=originator,
        party_v_system_title=recipient,
    )
    public = public_key_to_bytes(ephemeral.public_key())
    if signing_key is not None:
        public += ecdsa_sign(signing_key, public)
    return content_key, AgreedKey(key_parameters=_ONE_PASS, key_ciphered_data=public)


def agreed_content_key(
    info: AgreedKey,
    *,
    suite: SecuritySuite,
    agreement_key: ec.EllipticCurvePrivateKey | None,
    peer_signing_key: ec.EllipticCurvePublicKey | None,
    originator: bytes,
    recipient: bytes,
) -> bytes:
    """The content key of a received one-pass DH agreed-key.

    The ephemeral key's signature is checked whenever the originator's signing key is
    known (and then it must be present).
    """
    if info.key_parameters != _ONE_PASS:
        raise SecurityError("only one-pass Diffie-Hellman agreed keys are supported")
    if agreement_key is None:
        raise SecurityError("no key-agreement key is set to derive the agreed key")
    size = _point_size(suite)
    data = info.key_ciphered_data
    public, signature = data[: 2 * size], data[2 * size :]
    if peer_signing_key is not None and not ecdsa_verify(peer_signing_key, public, signature):
        raise SecurityError("signature of the ephemeral public key did not verify")
    z = ecdh_shared_secret(agreement_key, public_key_from_bytes(public, suite))
    return derive_key(
        z, suite=suite, party_u_system_title=originator, party_v_system_title=recipient
    )
