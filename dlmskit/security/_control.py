"""Code tables of DLMS security: suites, the security control byte, key ids, policies.

Green Book 9.2.7 (security suites) and 9.3 (security header); DLMS UA 1000-1 class 64.
"""

from __future__ import annotations

import enum

__all__ = [
    "CipheringForm",
    "KeyId",
    "SecurityControl",
    "SecurityPolicy",
    "SecuritySuite",
    "key_length",
    "required_security",
]


class SecuritySuite(enum.IntEnum):
    """Security suite id, the low four bits of the security control byte."""

    AES_GCM_128 = 0
    ECDH_ECDSA_AES_GCM_128_SHA_256 = 1
    ECDH_ECDSA_AES_GCM_256_SHA_384 = 2


def key_length(suite: SecuritySuite) -> int:
    """Length in bytes of symmetric keys in ``suite`` (16, or 32 for suite 2)."""
    return 32 if suite == SecuritySuite.ECDH_ECDSA_AES_GCM_256_SHA_384 else 16


class SecurityControl(enum.IntFlag):
    """Bits 4..7 of the security control byte (the suite id sits in bits 0..3)."""

    NONE = 0
    AUTHENTICATED = 0x10
    ENCRYPTED = 0x20
    AUTHENTICATED_ENCRYPTED = 0x30
    BROADCAST_KEY = 0x40
    COMPRESSED = 0x80


class CipheringForm(enum.Enum):
    """Which envelope :meth:`SecurityContext.protect` builds."""

    GLO = "glo"  # service-specific, global key
    DED = "ded"  # service-specific, dedicated key
    GENERAL_GLO = "general-glo"  # 0xDB
    GENERAL_DED = "general-ded"  # 0xDC
    GENERAL = "general"  # 0xDD with key-info


class KeyId(enum.IntEnum):
    """Symmetric keys of an association.

    0..3 are the key_id values of Security setup key_transfer (class 64 method 2).
    ``DEDICATED`` never appears on the wire; it names the dedicated key when indexing
    invocation counters.
    """

    GLOBAL_UNICAST_ENCRYPTION = 0
    GLOBAL_BROADCAST_ENCRYPTION = 1
    AUTHENTICATION = 2
    MASTER = 3
    DEDICATED = 16


class SecurityPolicy(enum.IntFlag):
    """Security setup version 1 security_policy bits (Blue Book class 64)."""

    NONE = 0
    AUTHENTICATED_REQUEST = 0x04
    ENCRYPTED_REQUEST = 0x08
    DIGITALLY_SIGNED_REQUEST = 0x10
    AUTHENTICATED_RESPONSE = 0x20
    ENCRYPTED_RESPONSE = 0x40
    DIGITALLY_SIGNED_RESPONSE = 0x80


def required_security(policy: SecurityPolicy, *, receiving_requests: bool) -> SecurityControl:
    """The ``min_security`` a context needs to enforce a security setup v1 policy.

    A server (``receiving_requests=True``) checks the request bits, a client the
    response bits; digital signatures are checked by general-signing, not here.
    """
    policy = SecurityPolicy(policy)
    required = SecurityControl.NONE
    if receiving_requests:
        if policy & SecurityPolicy.AUTHENTICATED_REQUEST:
            required |= SecurityControl.AUTHENTICATED
        if policy & SecurityPolicy.ENCRYPTED_REQUEST:
            required |= SecurityControl.ENCRYPTED
    else:
        if policy & SecurityPolicy.AUTHENTICATED_RESPONSE:
            required |= SecurityControl.AUTHENTICATED
        if policy & SecurityPolicy.ENCRYPTED_RESPONSE:
            required |= SecurityControl.ENCRYPTED
    return required
