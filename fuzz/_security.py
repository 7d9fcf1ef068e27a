"""Fuzz target for SecurityContext.unprotect, with fixed test keys.

Two kinds of input, chosen by the first byte:

* raw: the rest is handed to ``unprotect`` of a receiving context (suite 0 with every
  symmetric key; suite 0 with no peer system title yet, accepting unauthenticated
  APDUs; suite 1 with signing and key-agreement keys; a client-side suite 0 context).
  Only ``SecurityError`` and ``DecodeError`` may come out.
* tamper: the rest is a plain APDU that a sending context protects in one of the
  ciphering forms; one bit of the result, chosen by the input, is flipped. The receiver
  must refuse the tampered APDU, then still accept the genuine one (a refused APDU does
  not move the replay state) and give back the plain APDU unchanged.

Keys are the Green Book example keys of dlms-facts.md 3.4; the ECDSA keys are derived
from fixed scalars. They are test keys and protect nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from cryptography.hazmat.primitives.asymmetric import ec

from dlmskit.apdu import AgreedKey, IdentifiedKey, WrappedKey, ciphered_tag
from dlmskit.errors import DecodeError, LocalProtocolError, SecurityError
from dlmskit.security import CipheringForm, SecurityContext, SecurityControl, SecuritySuite
from fuzz._target import Target

__all__ = ["SECURITY"]

CLIENT_ST = bytes.fromhex("4D4D4D0000000001")
SERVER_ST = bytes.fromhex("4D4D4D0000BC614E")
EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
BK = bytes.fromhex("B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF")
MK = bytes.fromhex("A0A1A2A3A4A5A6A7A8A9AAABACADAEAF")
DK = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
GET_CLOCK = bytes.fromhex("C0010000080000010000FF0200")

_CURVE = ec.SECP256R1()
_CLIENT_SIGN = ec.derive_private_key(0xC11E_17_5167, _CURVE)
_SERVER_SIGN = ec.derive_private_key(0x5E_12_FE_5167, _CURVE)
_SERVER_AGREE = ec.derive_private_key(0x5E_12_FE_A6EE, _CURVE)


def _fixed_random(n: int) -> bytes:
    """Content keys for WrappedKey: fixed, so a run is reproducible."""
    return bytes(range(0x40, 0x40 + n))


def _context(*, server: bool, suite: SecuritySuite, **extra: object) -> SecurityContext:
    own, peer = (SERVER_ST, CLIENT_ST) if server else (CLIENT_ST, SERVER_ST)
    if suite != SecuritySuite.AES_GCM_128:
        extra.setdefault("signing_key", _SERVER_SIGN if server else _CLIENT_SIGN)
        extra.setdefault(
            "peer_signing_key", (_CLIENT_SIGN if server else _SERVER_SIGN).public_key()
        )
        if server:
            extra.setdefault("key_agreement_key", _SERVER_AGREE)
        else:
            extra.setdefault("peer_key_agreement_key", _SERVER_AGREE.public_key())
    return SecurityContext(
        system_title=own,
        peer_system_title=extra.pop("peer_system_title", peer),  # type: ignore[arg-type]
        suite=suite,
        global_unicast_key=EK,
        global_broadcast_key=BK,
        authentication_key=AK,
        master_key=MK,
        dedicated_key=DK,
        random_source=_fixed_random,
        **extra,  # type: ignore[arg-type]
    )


_RECEIVERS: tuple[Callable[[], SecurityContext], ...] = (
    lambda: _context(server=True, suite=SecuritySuite.AES_GCM_128),
    lambda: _context(
        server=True,
        suite=SecuritySuite.AES_GCM_128,
        peer_system_title=None,
        min_security=SecurityControl.NONE,
    ),
    lambda: _context(server=True, suite=SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256),
    lambda: _context(
        server=False, suite=SecuritySuite.AES_GCM_128, min_security=SecurityControl.NONE
    ),
)

# (suite, form, key-info for GENERAL, signed)
_Way = tuple[SecuritySuite, CipheringForm, type[IdentifiedKey | WrappedKey | AgreedKey], bool]
_WAYS: tuple[_Way, ...] = (
    (SecuritySuite.AES_GCM_128, CipheringForm.GLO, IdentifiedKey, False),
    (SecuritySuite.AES_GCM_128, CipheringForm.DED, IdentifiedKey, False),
    (SecuritySuite.AES_GCM_128, CipheringForm.GENERAL_GLO, IdentifiedKey, False),
    (SecuritySuite.AES_GCM_128, CipheringForm.GENERAL_DED, IdentifiedKey, False),
    (SecuritySuite.AES_GCM_128, CipheringForm.GENERAL, IdentifiedKey, False),
    (SecuritySuite.AES_GCM_128, CipheringForm.GENERAL, WrappedKey, False),
    (SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256, CipheringForm.GENERAL, AgreedKey, False),
    (SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256, CipheringForm.GLO, IdentifiedKey, True),
)
_SECURITY = (SecurityControl.AUTHENTICATED, SecurityControl.AUTHENTICATED_ENCRYPTED)


def _has_service_form(tag: int) -> bool:
    try:
        ciphered_tag(tag)
    except LocalProtocolError:
        return False
    return True


def _tamper(data: bytes) -> None:
    if len(data) < 4:
        return
    choice, flip, plain = data[0], int.from_bytes(data[1:3], "big"), data[3:]
    suite, form, key_info, signed = _WAYS[choice % len(_WAYS)]
    security = _SECURITY[(choice // len(_WAYS)) % len(_SECURITY)]
    if form in (CipheringForm.GLO, CipheringForm.DED) and not _has_service_form(plain[0]):
        plain = GET_CLOCK[:1] + plain[1:]
    sender = _context(server=False, suite=suite)
    receiver = _context(server=True, suite=suite)
    if signed:
        wire = sender.protect_signed(plain, form=form, security=security)
    elif form is CipheringForm.GENERAL:
        wire = sender.protect_general(plain, security=security, key_info=key_info)
    else:
        wire = sender.protect(plain, form=form, security=security)
    tampered = bytearray(wire)
    tampered[(flip >> 3) % len(wire)] ^= 1 << (flip & 7)
    try:
        receiver.unprotect(bytes(tampered))
    except (SecurityError, DecodeError):
        pass
    else:
        raise AssertionError(f"tampered APDU accepted: {bytes(tampered).hex()}")
    assert receiver.unprotect(wire) == plain


def _security(data: bytes) -> None:
    if not data:
        return
    mode, rest = data[0], data[1:]
    if mode < 0x40:
        _tamper(rest)
        return
    receiver = _RECEIVERS[(mode - 0x40) % len(_RECEIVERS)]()
    receiver.unprotect(rest)


def _seeds() -> Mapping[str, bytes]:
    seeds: dict[str, bytes] = {}
    table_40 = {
        "sc10": "C81E1001234567C0010000080000010000FF020006725D910F9221D263877516",
        "sc20": "C8122001234567411312FF935A47566827C467BC",
        "sc30": "C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B",
        "general-glo": "DB084D4D4D0000BC614E1E3001234567411312FF935A47566827C467BC"
        "7D825C3BE4A77C3FCC056B6B",
    }
    # Table 40 was ciphered under the server's title: the client-side receiver (mode 0x43)
    # opens every form, the receiver without a peer title (0x41) the general-glo one
    for name, text in table_40.items():
        seeds[f"raw-client-table-40-{name}"] = b"\x43" + bytes.fromhex(text)
    seeds["raw-any-peer-table-40-general-glo"] = b"\x41" + bytes.fromhex(table_40["general-glo"])
    for index, (suite, form, key_info, signed) in enumerate(_WAYS):
        sender = _context(server=False, suite=suite)
        if signed:
            wire = sender.protect_signed(GET_CLOCK, form=form)
        elif form is CipheringForm.GENERAL:
            wire = sender.protect_general(GET_CLOCK, key_info=key_info)
        else:
            wire = sender.protect(GET_CLOCK, form=form)
        mode = 0x40 if suite == SecuritySuite.AES_GCM_128 else 0x42
        label = (
            f"{suite.name.lower()}-{form.value}-{key_info.__name__}{'-signed' if signed else ''}"
        )
        seeds[f"raw-{label}"] = bytes((mode,)) + wire
        for security_index in range(len(_SECURITY)):
            choice = index + security_index * len(_WAYS)
            seeds[f"tamper-{label}-{security_index}"] = (
                bytes((0, choice)) + (8 * 7 + 3).to_bytes(2, "big") + GET_CLOCK
            )
    return seeds


SECURITY = Target(
    name="security",
    description="SecurityContext.unprotect on raw input and on bit-flipped ciphered APDUs",
    run=_security,
    allowed=(SecurityError, DecodeError),
    seeds=_seeds,
)
