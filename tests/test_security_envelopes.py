"""Ciphered envelope APDUs (dlmskit.apdu._ciphered): bytes, round trips, malformed input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import (
    AgreedKey,
    CipheredApdu,
    GeneralCiphering,
    GeneralDedCiphering,
    GeneralGloCiphering,
    GeneralSigning,
    IdentifiedKey,
    IdentifiedKeyId,
    WrappedKey,
    ciphered_tag,
    decode_apdu,
    plain_tag,
)
from dlmskit.errors import DecodeError, LocalProtocolError

ST = bytes.fromhex("4D4D4D0000BC614E")
TABLE_40_SC30 = bytes.fromhex("C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B")
TABLE_40_GENERAL = bytes.fromhex(
    "DB084D4D4D0000BC614E1E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B"
)

CLASSES = (CipheredApdu, GeneralGloCiphering, GeneralDedCiphering, GeneralCiphering, GeneralSigning)


def test_tag_mapping_follows_dlms_facts_1_1() -> None:
    for plain in (0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC7):
        assert ciphered_tag(plain) == plain + 8
        assert ciphered_tag(plain, dedicated=True) == plain + 16
    for plain in (0x01, 0x05, 0x06, 0x08, 0x0C, 0x0D, 0x0E, 0x16, 0x18):
        assert ciphered_tag(plain) == plain + 0x20
        assert ciphered_tag(plain, dedicated=True) == plain + 0x40
    assert plain_tag(0x21) == (0x01, False)
    assert plain_tag(0x48) == (0x08, True)
    assert plain_tag(0xCF) == (0xC7, False)
    assert plain_tag(0xD7) == (0xC7, True)
    assert plain_tag(0xC6) is None and plain_tag(0xCE) is None and plain_tag(0xC0) is None
    with pytest.raises(LocalProtocolError):
        ciphered_tag(0x0F)
    assert len(CipheredApdu.TAGS) == 32


def test_table_40_envelopes() -> None:
    apdu = CipheredApdu.from_bytes(TABLE_40_SC30)
    assert apdu.tag == 0xC8 and apdu.plain_tag == 0xC0 and not apdu.dedicated
    assert apdu.security_control == 0x30 and apdu.invocation_counter == 0x01234567
    assert apdu.payload == TABLE_40_SC30[7:]
    assert apdu.to_bytes() == TABLE_40_SC30
    general = GeneralGloCiphering.from_bytes(TABLE_40_GENERAL)
    assert general.system_title == ST and general.payload == apdu.payload
    assert general.to_bytes() == TABLE_40_GENERAL
    assert decode_apdu(TABLE_40_SC30) == apdu
    assert decode_apdu(TABLE_40_GENERAL) == general


def test_empty_system_title_and_long_lengths() -> None:
    apdu = GeneralDedCiphering(
        system_title=b"", security_control=0x20, invocation_counter=7, payload=bytes(300)
    )
    data = apdu.to_bytes()
    assert data[:5] == bytes.fromhex("DC00820131")
    assert GeneralDedCiphering.from_bytes(data) == apdu
    big = CipheredApdu(tag=0xD4, security_control=0x30, invocation_counter=1, payload=bytes(200))
    assert big.to_bytes()[:3] == bytes.fromhex("D481CD")
    assert CipheredApdu.from_bytes(big.to_bytes()) == big


def test_general_ciphering_bytes() -> None:
    apdu = GeneralCiphering(
        transaction_id=bytes(range(8)),
        originator_system_title=ST,
        recipient_system_title=bytes(8),
        date_time=b"",
        other_information=b"\x01",
        key_info=WrappedKey(key_ciphered_data=bytes(24)),
        security_control=0x31,
        invocation_counter=2,
        payload=b"\xaa",
    )
    expected = (
        "DD 08 0001020304050607 08 4D4D4D0000BC614E 08 0000000000000000 00 01 01"
        " 01 01 00 18" + " 00" * 24 + " 06 31 00000002 AA"
    )
    assert apdu.to_bytes() == bytes.fromhex(expected.replace(" ", ""))
    assert GeneralCiphering.from_bytes(apdu.to_bytes()) == apdu
    for info, encoded in (
        (None, "00"),
        (IdentifiedKey(key_id=IdentifiedKeyId.GLOBAL_BROADCAST_ENCRYPTION), "010001"),
        (AgreedKey(key_parameters=b"\x02", key_ciphered_data=b""), "0102010200"),
    ):
        variant = GeneralCiphering(
            transaction_id=b"",
            originator_system_title=b"",
            recipient_system_title=b"",
            key_info=info,
            security_control=0x10,
            invocation_counter=0,
            payload=b"",
        )
        assert variant.to_bytes() == bytes.fromhex("DD0000000000" + encoded + "051000000000")
        assert GeneralCiphering.from_bytes(variant.to_bytes()) == variant


def test_general_signing_bytes() -> None:
    apdu = GeneralSigning(
        transaction_id=b"\x01",
        originator_system_title=ST,
        recipient_system_title=b"",
        content=b"\xc0\x01",
        signature=bytes(64),
    )
    data = apdu.to_bytes()
    assert data[:18] == bytes.fromhex("DF0101084D4D4D0000BC614E00000002C001")
    assert data[18:20] == b"\x40\x00"
    assert GeneralSigning.from_bytes(data) == apdu
    assert apdu.signed_bytes() == data[1:-65]


def test_validation_on_construction() -> None:
    with pytest.raises(LocalProtocolError):
        CipheredApdu(tag=0xC0, security_control=0x30, invocation_counter=0, payload=b"")
    with pytest.raises(LocalProtocolError):
        CipheredApdu(tag=0xC8, security_control=0x130, invocation_counter=0, payload=b"")
    with pytest.raises(LocalProtocolError):
        GeneralGloCiphering(
            system_title=ST, security_control=0x30, invocation_counter=2**32, payload=b""
        )


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"", 0),
        (b"\xc0\x00", 0),
        (b"\xc8", 1),
        (b"\xc8\x04\x30\x00\x00\x00", 1),
        (b"\xc8\x05\x30\x00\x00\x00\x00\x00", 7),
        (b"\xc8\x83\x00\x00\x05", 1),
        (b"\xc8\x84\xff\xff\xff\xff\x00", 1),
        (b"\xdb\x08" + ST, 10),
        (b"\xdd\x00\x00\x00\x00\x00\x02", 6),
        (b"\xdd\x00\x00\x00\x00\x00\x01\x03", 7),
        (b"\xdd\x00\x00\x00\x00\x00\x01\x00\x02", 8),
        (b"\xdf\x00\x00\x00\x00\x00\x00", 7),
    ],
)
def test_malformed_envelopes(data: bytes, offset: int) -> None:
    cls = {0xDB: GeneralGloCiphering, 0xDD: GeneralCiphering, 0xDF: GeneralSigning}.get(
        data[0] if data else 0, CipheredApdu
    )
    with pytest.raises(DecodeError) as info:
        cls.from_bytes(data)
    assert info.value.offset == offset


def _examples() -> list[bytes]:
    return [
        TABLE_40_SC30,
        TABLE_40_GENERAL,
        GeneralDedCiphering(
            system_title=ST, security_control=0x30, invocation_counter=9, payload=bytes(20)
        ).to_bytes(),
        GeneralCiphering(
            transaction_id=bytes(8),
            originator_system_title=ST,
            recipient_system_title=ST,
            date_time=bytes(12),
            other_information=b"",
            key_info=AgreedKey(key_parameters=b"\x01", key_ciphered_data=bytes(64)),
            security_control=0x31,
            invocation_counter=3,
            payload=bytes(30),
        ).to_bytes(),
        GeneralSigning(
            transaction_id=bytes(8),
            originator_system_title=ST,
            recipient_system_title=ST,
            content=TABLE_40_SC30,
            signature=bytes(64),
        ).to_bytes(),
    ]


def test_truncation_at_every_byte_position() -> None:
    for data in _examples():
        cls = {0xDB: GeneralGloCiphering, 0xDC: GeneralDedCiphering, 0xDD: GeneralCiphering}.get(
            data[0], GeneralSigning if data[0] == 0xDF else CipheredApdu
        )
        assert cls.from_bytes(data).to_bytes() == data
        for cut in range(len(data)):
            with pytest.raises(DecodeError):
                cls.from_bytes(data[:cut])
        with pytest.raises(DecodeError, match="trailing"):
            cls.from_bytes(data + b"\x00")


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(CLASSES),
    st.binary(max_size=64),
    st.sampled_from([0x21, 0xCC, 0xDB, 0xDC, 0xDD, 0xDF]),
)
def test_garbage_gives_a_value_or_decode_error(cls: type, body: bytes, tag: int) -> None:
    data = bytes((tag,)) + body
    try:
        value = cls.from_bytes(data)
    except DecodeError:
        return
    assert value.to_bytes() == data


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=16),
    st.binary(max_size=16),
    st.binary(max_size=16),
    st.binary(max_size=300),
    st.integers(0, 255),
    st.integers(0, 2**32 - 1),
    st.one_of(
        st.none(),
        st.builds(IdentifiedKey, key_id=st.sampled_from(list(IdentifiedKeyId))),
        st.builds(WrappedKey, kek_id=st.integers(0, 255), key_ciphered_data=st.binary(max_size=40)),
        st.builds(
            AgreedKey,
            key_parameters=st.binary(max_size=2),
            key_ciphered_data=st.binary(max_size=130),
        ),
    ),
)
def test_general_ciphering_round_trip(
    tid: bytes, ost: bytes, rst: bytes, payload: bytes, sc: int, ic: int, info: object
) -> None:
    apdu = GeneralCiphering(
        transaction_id=tid,
        originator_system_title=ost,
        recipient_system_title=rst,
        date_time=b"",
        other_information=tid,
        key_info=info,  # type: ignore[arg-type]
        security_control=sc,
        invocation_counter=ic,
        payload=payload,
    )
    assert GeneralCiphering.from_bytes(apdu.to_bytes()) == apdu
    assert decode_apdu(apdu.to_bytes()) == apdu
