"""A-XDR hand vectors (dlms-facts.md section 2) and the basic API contract."""

from __future__ import annotations

import pytest

from dlmskit.axdr import (
    DONT_CARE,
    Array,
    ClockStatus,
    Data,
    DateTime,
    DeviationSign,
    DoubleLongUnsigned,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
    decode,
    decode_from,
    decode_length,
    encode,
    encode_into,
    encode_length,
)
from dlmskit.errors import DecodeError, LocalProtocolError

IST_2024 = bytes.fromhex("07E80101FF00000000FEB600")


@pytest.mark.parametrize(
    ("hex_", "value"),
    [
        ("00", None),
        ("0301", True),
        ("0300", False),
        ("1105", Unsigned(5)),
        ("120008", LongUnsigned(8)),
        ("0600000060", DoubleLongUnsigned(96)),
        ("09060000010000FF", OctetString(bytes.fromhex("0000010000FF"))),
        ("FF", DONT_CARE),
        ("0100", Array()),
        ("020211011102", Structure((Unsigned(1), Unsigned(2)))),
    ],
)
def test_hand_vectors(hex_: str, value: Data) -> None:
    raw = bytes.fromhex(hex_)
    assert encode(value) == raw
    decoded = decode(raw)
    assert decoded == value
    assert type(decoded) is type(value)


def test_ist_date_time_blue_book() -> None:
    value = decode(b"\x19" + IST_2024)
    assert isinstance(value, DateTime)
    assert (value.year, value.month, value.day, value.day_of_week) == (2024, 1, 1, None)
    assert value.deviation == -330
    assert value.clock_status == ClockStatus.OK
    moment = value.to_datetime(sign=DeviationSign.BLUE_BOOK)
    assert moment.isoformat() == "2024-01-01T00:00:00+05:30"
    assert OctetString(IST_2024).as_datetime() == value
    assert encode(value) == b"\x19" + IST_2024


def test_lengths() -> None:
    assert encode_length(0x7F) == b"\x7f"
    assert encode_length(0x80) == b"\x81\x80"
    assert encode_length(0x100) == b"\x82\x01\x00"
    assert encode_length(0x10000) == b"\x84\x00\x01\x00\x00"
    assert decode_length(b"\x83\x01\x00\x00", 0) == (0x10000, 4)
    with pytest.raises(DecodeError):
        decode_length(b"\x80", 0)
    with pytest.raises(DecodeError):
        decode_length(b"\x85\x00\x00\x00\x00\x00", 0)


def test_decode_from_and_encode_into() -> None:
    out = bytearray(b"\xaa")
    encode_into(out, Unsigned(7))
    encode_into(out, LongUnsigned(9))
    assert bytes(out) == b"\xaa\x11\x07\x12\x00\x09"
    value, offset = decode_from(out, 1)
    assert value == Unsigned(7) and offset == 3
    value, offset = decode_from(memoryview(out), offset)
    assert value == LongUnsigned(9) and offset == 6
    with pytest.raises(DecodeError):
        decode(bytes(out[1:]))


def test_plain_int_is_refused() -> None:
    with pytest.raises(LocalProtocolError, match="Unsigned"):
        encode(5)


CONTRACT = [
    "decode",
    "decode_from",
    "encode",
    "encode_into",
    "encode_length",
    "decode_length",
    "Data",
    "DataType",
    "Integer",
    "Long",
    "DoubleLong",
    "Long64",
    "Unsigned",
    "LongUnsigned",
    "DoubleLongUnsigned",
    "Long64Unsigned",
    "Enum",
    "Bcd",
    "Float32",
    "Float64",
    "OctetString",
    "VisibleString",
    "Utf8String",
    "BitString",
    "Array",
    "Structure",
    "CompactArray",
    "TypeDescription",
    "DateTime",
    "Date",
    "Time",
    "DONT_CARE",
    "ClockStatus",
]


def test_public_names() -> None:
    import dlmskit
    from dlmskit import axdr

    assert dlmskit.axdr is axdr
    for name in CONTRACT:
        assert name in axdr.__all__, name
        assert getattr(axdr, name) is not None
    tags = {t.name: int(t) for t in axdr.DataType}
    assert tags == {
        "NULL_DATA": 0,
        "ARRAY": 1,
        "STRUCTURE": 2,
        "BOOLEAN": 3,
        "BIT_STRING": 4,
        "DOUBLE_LONG": 5,
        "DOUBLE_LONG_UNSIGNED": 6,
        "OCTET_STRING": 9,
        "VISIBLE_STRING": 10,
        "UTF8_STRING": 12,
        "BCD": 13,
        "INTEGER": 15,
        "LONG": 16,
        "UNSIGNED": 17,
        "LONG_UNSIGNED": 18,
        "COMPACT_ARRAY": 19,
        "LONG64": 20,
        "LONG64_UNSIGNED": 21,
        "ENUM": 22,
        "FLOAT32": 23,
        "FLOAT64": 24,
        "DATE_TIME": 25,
        "DATE": 26,
        "TIME": 27,
        "DONT_CARE": 255,
    }
    assert [int(f) for f in axdr.ClockStatus] == [0x01, 0x02, 0x04, 0x08, 0x80]


def test_range_descriptor_from_facts_1_4() -> None:
    """Block-load by range 2024-01-01..02 (deviation -330): the selective-access Data."""
    raw = bytes.fromhex(
        "0204"
        "0204" "120008" "0906" "0000010000FF" "0F02" "120000"
        "090C" "07E80101FF00000000FEB600"
        "090C" "07E80102FF00000000FEB600"
        "0100"
    )  # fmt: skip
    value = decode(raw)
    assert isinstance(value, Structure) and len(value) == 4
    restricting, start, stop, columns = value
    assert restricting == Structure(
        [LongUnsigned(8), OctetString(bytes.fromhex("0000010000FF")), Integer(2), LongUnsigned(0)]
    )
    assert isinstance(start, OctetString) and isinstance(stop, OctetString)
    begin = start.as_datetime().to_datetime(sign=DeviationSign.BLUE_BOOK)
    end = stop.as_datetime().to_datetime(sign=DeviationSign.BLUE_BOOK)
    assert (end - begin).days == 1 and begin.isoformat() == "2024-01-01T00:00:00+05:30"
    assert columns == Array()
    assert encode(value) == raw


def test_entry_descriptor_from_facts_1_4() -> None:
    raw = bytes.fromhex("0204 0600000001 0600000060 120001 120000")
    value = decode(raw)
    assert value == Structure(
        [DoubleLongUnsigned(1), DoubleLongUnsigned(96), LongUnsigned(1), LongUnsigned(0)]
    )
    assert encode(value) == raw


def test_method_parameter_integer_zero() -> None:
    """remote_disconnect(integer 0), from the class 70 ACTION example (facts 7.2)."""
    assert decode(bytes.fromhex("0F00")) == Integer(0)
    assert encode(Integer(0)) == bytes.fromhex("0F00")
