"""decode_apdu dispatch: every xDLMS / ACSE tag of dlms-facts 1.1 reaches its decoder."""

from __future__ import annotations

import pytest

from dlmskit.apdu import (
    RLRQ,
    CipheredApdu,
    ConfirmedServiceError,
    ExceptionResponse,
    GeneralGloCiphering,
    InitiateRequest,
    ReadRequest,
    decode_apdu,
    encode_apdu,
)
from dlmskit.errors import DecodeError

# Tags dlms-facts 1.1 lists (gateway 0xE6/0xE7 is framing, handled in transports).
KNOWN_TAGS = [
    0x01, 0x05, 0x06, 0x08, 0x0C, 0x0D, 0x0E, 0x0F, 0x16, 0x18,
    0x21, 0x25, 0x26, 0x28, 0x2C, 0x2D, 0x2E, 0x36, 0x38,
    0x41, 0x45, 0x46, 0x48, 0x4C, 0x4D, 0x4E, 0x56, 0x58,
    0x60, 0x61, 0x62, 0x63,
    0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC7,
    0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCF,
    0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD7,
    0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDF, 0xE0,
]  # fmt: skip


@pytest.mark.parametrize("tag", KNOWN_TAGS, ids=lambda t: f"0x{t:02X}")
def test_every_known_tag_is_dispatched(tag: int) -> None:
    # A lone known tag is truncated, never "unknown".
    with pytest.raises(DecodeError) as info:
        decode_apdu(bytes((tag,)))
    assert "unknown APDU tag" not in str(info.value)


@pytest.mark.parametrize("tag", sorted(set(range(256)) - set(KNOWN_TAGS)))
def test_unknown_tags_are_rejected_by_name(tag: int) -> None:
    with pytest.raises(DecodeError, match=f"unknown APDU tag 0x{tag:02X}"):
        decode_apdu(bytes((tag, 0x01, 0xC1, 0x00)))


@pytest.mark.parametrize(
    ("wire", "kind"),
    [
        ("0E 01 06 03", ConfirmedServiceError),
        ("D8 01 06 00000001", ExceptionResponse),
        ("05 01 02 FA08", ReadRequest),
        ("62 00", RLRQ),
        ("01 00 00 00 06 5F1F 04 00 00101D FFFF", InitiateRequest),
        ("C8 07 30 00000001 AABB", CipheredApdu),
        ("DB 08 4D4D4D0000BC614E 07 30 00000001 AABB", GeneralGloCiphering),
    ],
)
def test_other_apdus_decode_through_the_dispatcher(wire: str, kind: type) -> None:
    raw = bytes.fromhex(wire.replace(" ", ""))
    apdu = decode_apdu(raw)
    assert type(apdu) is kind
    assert encode_apdu(apdu) == raw


def test_accepts_bytearray_and_memoryview() -> None:
    raw = bytes.fromhex("C001C1 0008 0000010000FF 02 00")
    assert decode_apdu(bytearray(raw)) == decode_apdu(memoryview(raw)) == decode_apdu(raw)
