"""BER primitives of the ACSE APDUs: lengths, INTEGER, OBJECT IDENTIFIER, BIT STRING."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import AARQ, ApplicationContextName, BerBitString
from dlmskit.apdu._ber import (
    CLASS_APPLICATION,
    CLASS_CONTEXT,
    decode_integer,
    decode_oid,
    encode_integer,
    encode_length,
    encode_oid,
    iter_tlvs,
    read_tlv,
)
from dlmskit.errors import DecodeError, LocalProtocolError


@pytest.mark.parametrize(
    ("length", "encoded"),
    [
        (0, "00"),
        (0x7F, "7F"),
        (0x80, "8180"),
        (0xFF, "81FF"),
        (0x100, "820100"),
        (0x10000, "83010000"),
        (0xFFFFFFFF, "84FFFFFFFF"),
    ],
)
def test_definite_lengths(length: int, encoded: str) -> None:
    assert encode_length(length).hex().upper() == encoded
    data = bytes.fromhex("04" + encoded) + bytes(min(length, 300))
    if length <= 300:
        tlv = read_tlv(data, 0, len(data))
        assert tlv.end - tlv.value_start == length
    else:
        with pytest.raises(DecodeError, match="runs past the end"):
            read_tlv(data, 0, len(data))


def test_length_limits() -> None:
    with pytest.raises(LocalProtocolError):
        encode_length(2**32)
    with pytest.raises(DecodeError, match="indefinite"):
        read_tlv(b"\x30\x80\x00\x00", 0, 4)
    with pytest.raises(DecodeError, match="5 octets"):
        read_tlv(b"\x04\x85\x00\x00\x00\x00\x01\x00", 0, 8)
    with pytest.raises(DecodeError, match="truncated"):
        read_tlv(b"\x04\x82\x01", 0, 3)


def test_identifier_fields() -> None:
    tlv = read_tlv(bytes.fromhex("A10100"), 0, 3)
    assert (tlv.tag_class, tlv.constructed, tlv.number) == (CLASS_CONTEXT, True, 1)
    tlv = read_tlv(bytes.fromhex("6000"), 0, 2)
    assert (tlv.tag_class, tlv.constructed, tlv.number) == (CLASS_APPLICATION, True, 0)
    high = read_tlv(bytes.fromhex("9F810001FF"), 0, 5)
    assert (high.number, high.value_start, high.end) == (128, 4, 5)
    with pytest.raises(DecodeError, match="leading zero"):
        read_tlv(bytes.fromhex("9F800100"), 0, 4)
    with pytest.raises(DecodeError, match="too long"):
        read_tlv(bytes.fromhex("9F8181818181010000"), 0, 9)
    assert [t.number for t in iter_tlvs(bytes.fromhex("800100 A100 BE020400"), 0, 9)] == [
        0,
        1,
        30,
    ]


def test_unknown_high_tag_number_field_is_skipped() -> None:
    context = bytes.fromhex("A109060760857405080101")
    extension = bytes.fromhex("BF81000100")  # [128] constructed, one octet of contents
    wire = bytes((0x60, len(context) + len(extension))) + context + extension
    assert AARQ.from_bytes(wire) == AARQ(application_context_name=ApplicationContextName.LN)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, "00"),
        (127, "7F"),
        (128, "0080"),
        (-1, "FF"),
        (-128, "80"),
        (-129, "FF7F"),
        (256, "0100"),
    ],
)
def test_integer(value: int, encoded: str) -> None:
    assert encode_integer(value).hex().upper() == encoded
    raw = bytes.fromhex(encoded)
    assert decode_integer(raw, 0, len(raw)) == value


@pytest.mark.parametrize("encoded", ["", "0001", "FF80", "000000000000000001"])
def test_integer_rejects_empty_non_minimal_and_huge(encoded: str) -> None:
    raw = bytes.fromhex(encoded)
    with pytest.raises(DecodeError):
        decode_integer(raw, 0, len(raw))


@settings(max_examples=150)
@given(st.integers(-(2**63), 2**63 - 1))
def test_integer_round_trip(value: int) -> None:
    raw = encode_integer(value)
    assert decode_integer(raw, 0, len(raw)) == value


def test_dlms_object_identifiers() -> None:
    assert encode_oid((2, 16, 756, 5, 8, 1, 1)).hex().upper() == "60857405080101"
    assert encode_oid((2, 16, 756, 5, 8, 2, 5)).hex().upper() == "60857405080205"
    raw = bytes.fromhex("60857405080203")
    assert decode_oid(raw, 0, len(raw)) == (2, 16, 756, 5, 8, 2, 3)
    assert decode_oid(b"\x2a\x03", 0, 2) == (1, 2, 3)
    with pytest.raises(DecodeError, match="truncated"):
        decode_oid(b"\x60\x85", 0, 2)
    with pytest.raises(DecodeError, match="leading zero"):
        decode_oid(b"\x60\x80\x01", 0, 3)
    with pytest.raises(DecodeError):
        decode_oid(b"", 0, 0)
    with pytest.raises(LocalProtocolError):
        encode_oid((3, 1))


@settings(max_examples=150)
@given(
    st.sampled_from([0, 1, 2]),
    st.integers(0, 39),
    st.lists(st.integers(0, 2**40), max_size=6),
)
def test_oid_round_trip(first: int, second: int, rest: list[int]) -> None:
    arcs = (first, second, *rest)
    raw = encode_oid(arcs)
    assert decode_oid(raw, 0, len(raw)) == arcs


def test_bit_strings() -> None:
    authentication = BerBitString.from_bits([True])
    assert authentication.contents() == b"\x07\x80"
    assert authentication.bits == (True,)
    assert len(authentication) == 1
    assert BerBitString.from_contents(b"\x07\x80", 0, 2) == authentication
    nine = BerBitString.from_bits([False] * 8 + [True])
    assert nine.contents() == b"\x07\x00\x80"
    assert BerBitString.from_bits([]).contents() == b"\x00"
    with pytest.raises(DecodeError):
        BerBitString.from_contents(b"\x08\x00", 0, 2)
    with pytest.raises(DecodeError):
        BerBitString.from_contents(b"\x01", 0, 1)
    with pytest.raises(LocalProtocolError):
        BerBitString(data=b"", unused_bits=3)


@settings(max_examples=200)
@given(st.binary(max_size=40))
def test_tlv_reader_on_garbage(data: bytes) -> None:
    try:
        for tlv in iter_tlvs(data, 0, len(data)):
            assert tlv.value_start <= tlv.end <= len(data)
    except DecodeError:
        pass
