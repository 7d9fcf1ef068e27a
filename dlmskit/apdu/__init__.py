"""xDLMS APDUs (IEC 62056-5-3): typed, immutable values with exact byte round trips.

Every APDU class has ``TAG`` (its first byte), ``to_bytes()`` and ``from_bytes()``;
choice-based services also have ``CHOICE`` (the second byte). :func:`decode_apdu` and
:func:`encode_apdu` dispatch over all of them.
"""

from __future__ import annotations

from dlmskit.apdu._ciphered import (
    AgreedKey,
    CipheredApdu,
    GeneralCiphering,
    GeneralDedCiphering,
    GeneralGloCiphering,
    GeneralSigning,
    IdentifiedKey,
    IdentifiedKeyId,
    KeyInfo,
    WrappedKey,
    ciphered_tag,
    plain_tag,
)

__all__: list[str] = [
    "AgreedKey",
    "CipheredApdu",
    "GeneralCiphering",
    "GeneralDedCiphering",
    "GeneralGloCiphering",
    "GeneralSigning",
    "IdentifiedKey",
    "IdentifiedKeyId",
    "KeyInfo",
    "WrappedKey",
    "ciphered_tag",
    "plain_tag",
]
