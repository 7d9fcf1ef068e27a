"""Golden vectors generated inside the tests by gurux-dlms (a test-only, GPL-2.0 oracle).

Each value is encoded by gurux and by dlmskit and the octets compared; gurux's octets are
decoded by dlmskit and dlmskit's by gurux, and the values compared.
"""

from __future__ import annotations

import datetime as dt
import struct
from typing import Any

import attrs
import pytest
from gurux_dlms import (
    GXArray,
    GXBitString,
    GXByteBuffer,
    GXDate,
    GXDateTime,
    GXDLMSSettings,
    GXEnum,
    GXFloat32,
    GXFloat64,
    GXInt8,
    GXInt16,
    GXInt32,
    GXInt64,
    GXStructure,
    GXTime,
    GXUInt8,
    GXUInt16,
    GXUInt32,
    GXUInt64,
)
from gurux_dlms.enums import DataType as GT
from gurux_dlms.enums import DateTimeSkips
from gurux_dlms.internal._GXCommon import _GXCommon
from gurux_dlms.internal._GXDataInfo import _GXDataInfo
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.axdr import (
    Array,
    Bcd,
    BitString,
    ClockStatus,
    CompactArray,
    Data,
    DataType,
    Date,
    DateTime,
    DeviationSign,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    Float32,
    Float64,
    Integer,
    Long,
    Long64,
    Long64Unsigned,
    LongUnsigned,
    OctetString,
    Structure,
    Time,
    TypeDescription,
    Unsigned,
    Utf8String,
    VisibleString,
    decode,
    encode,
)

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def gurux_settings(utc_to_local: bool = False) -> Any:
    s = GXDLMSSettings(True, None)
    s.useUtc2NormalTime = utc_to_local
    return s


def gurux_encode(gtype: int, value: object, *, utc_to_local: bool = False) -> bytes:
    buff = GXByteBuffer()
    _GXCommon.setData(gurux_settings(utc_to_local), buff, gtype, value)
    return bytes(buff.array())


def gurux_decode(raw: bytes, *, utc_to_local: bool = False) -> Any:
    buff = GXByteBuffer(bytearray(raw))
    info = _GXDataInfo()
    value = _GXCommon.getData(gurux_settings(utc_to_local), buff, info)
    assert info.complete
    assert buff.position == len(raw)
    return value


SCALARS: list[tuple[int, object, Data]] = [
    (GT.NONE, None, None),
    (GT.BOOLEAN, True, True),
    (GT.BOOLEAN, False, False),
    (GT.INT8, -128, Integer(-128)),
    (GT.INT8, 127, Integer(127)),
    (GT.UINT8, 255, Unsigned(255)),
    (GT.INT16, -2, Long(-2)),
    (GT.UINT16, 0xBEEF, LongUnsigned(0xBEEF)),
    (GT.INT32, -123456789, DoubleLong(-123456789)),
    (GT.UINT32, 0xFFFFFFFF, DoubleLongUnsigned(0xFFFFFFFF)),
    (GT.INT64, -(2**63), Long64(-(2**63))),
    (GT.UINT64, 2**64 - 1, Long64Unsigned(2**64 - 1)),
    (GT.ENUM, 22, Enum(22)),
    (GT.BCD, 0x99, Bcd(0x99)),
    (GT.FLOAT32, 0.5, Float32(0.5)),
    (GT.FLOAT32, -1.25e10, Float32(-1.25e10)),
    (GT.FLOAT64, 1 / 3, Float64(1 / 3)),
    (GT.OCTET_STRING, b"", OctetString(b"")),
    (GT.OCTET_STRING, bytes(range(6)), OctetString(bytes(range(6)))),
    (GT.OCTET_STRING, b"\xab" * 127, OctetString(b"\xab" * 127)),
    (GT.OCTET_STRING, b"\xab" * 128, OctetString(b"\xab" * 128)),
    (GT.OCTET_STRING, b"\xab" * 255, OctetString(b"\xab" * 255)),
    (GT.OCTET_STRING, b"\xab" * 256, OctetString(b"\xab" * 256)),
    (GT.OCTET_STRING, b"\xab" * 70000, OctetString(b"\xab" * 70000)),
    (GT.STRING, "", VisibleString("")),
    (GT.STRING, "DLMS meter 42", VisibleString("DLMS meter 42")),
    (GT.STRING, "x" * 200, VisibleString("x" * 200)),
    (GT.STRING_UTF8, "ಮೀಟರ್ ₹", Utf8String("ಮೀಟರ್ ₹")),
    (GT.BITSTRING, "1", BitString.from_text("1")),
    (GT.BITSTRING, "0101010111", BitString.from_text("0101010111")),
    (GT.BITSTRING, "1" * 24, BitString.from_text("1" * 24)),
    (GT.BITSTRING, "10" * 100, BitString.from_text("10" * 100)),
]


@pytest.mark.parametrize(("gtype", "gvalue", "ours"), SCALARS)
def test_scalar_golden(gtype: int, gvalue: object, ours: Data) -> None:
    golden = gurux_encode(gtype, gvalue)
    assert encode(ours) == golden
    back = decode(golden)
    assert back == ours
    assert type(back) is type(ours)


@pytest.mark.parametrize(
    ("gtype", "gvalue"),
    [(t, v) for t, v, _ in SCALARS if t not in (GT.STRING_UTF8, GT.BITSTRING, GT.NONE)],
)
def test_gurux_reads_our_scalars(gtype: int, gvalue: object) -> None:
    ours = decode(gurux_encode(gtype, gvalue))
    theirs = gurux_decode(encode(ours))
    if isinstance(gvalue, bytes):
        assert bytes(theirs) == gvalue == ours
    else:
        assert theirs == ours


def test_gurux_reads_our_bit_string() -> None:
    ours = BitString.from_text("0101010111")
    theirs = gurux_decode(encode(ours))
    assert isinstance(theirs, GXBitString)
    assert str(theirs).startswith("0101010111")


def test_boolean_canonical_matches_gurux() -> None:
    assert encode(True) == gurux_encode(GT.BOOLEAN, 0xFF) == b"\x03\x01"


@pytest.mark.parametrize(
    ("sign", "utc_to_local", "deviation"),
    [(DeviationSign.BLUE_BOOK, False, -330), (DeviationSign.UTC_TO_LOCAL, True, 330)],
)
def test_date_time_deviation_sign_matches_gurux(
    sign: DeviationSign, utc_to_local: bool, deviation: int
) -> None:
    moment = dt.datetime(2024, 1, 1, 0, 15, 30, tzinfo=IST)
    value = GXDateTime(moment)
    value.skip |= DateTimeSkips.MILLISECOND
    golden = gurux_encode(GT.DATETIME, value, utc_to_local=utc_to_local)
    ours = DateTime.from_datetime(moment, sign=sign)
    # gurux leaves day of week and hundredths "not specified" here; so do we, to compare.
    ours = attrs.evolve(ours, day_of_week=None, hundredths=None)
    assert ours.deviation == deviation
    assert encode(ours) == golden
    back = decode(golden)
    assert back == ours
    assert isinstance(back, DateTime)
    assert back.to_datetime(sign=sign) == moment
    theirs = gurux_decode(golden, utc_to_local=utc_to_local)
    assert theirs.value == back.to_datetime(sign=sign)
    # The same twelve octets as an octet-string, as most meters send them.
    as_octets = decode(b"\x09\x0c" + golden[1:])
    assert isinstance(as_octets, OctetString)
    assert as_octets.as_datetime() == ours


def test_ist_hand_vector_agrees_with_gurux() -> None:
    """dlms-facts.md 2.2: 2024-01-01 00:00:00 IST, deviation -330, status 0."""
    hand = bytes.fromhex("07E80101FF00000000FEB600")
    theirs = gurux_decode(b"\x19" + hand)
    ours = OctetString(hand).as_datetime()
    assert ours.clock_status == ClockStatus.OK
    assert theirs.value == ours.to_datetime(sign=DeviationSign.BLUE_BOOK)
    assert ours.to_datetime(sign=DeviationSign.BLUE_BOOK).utcoffset() == dt.timedelta(
        hours=5, minutes=30
    )


# --- nested values: any value gurux can type from its own classes -------------------------

_TO_GURUX: dict[type, Any] = {
    Integer: GXInt8,
    Long: GXInt16,
    DoubleLong: GXInt32,
    Long64: GXInt64,
    Unsigned: GXUInt8,
    LongUnsigned: GXUInt16,
    DoubleLongUnsigned: GXUInt32,
    Long64Unsigned: GXUInt64,
    Enum: GXEnum,
    Float32: GXFloat32,
    Float64: GXFloat64,
}


def to_gurux(value: Data) -> Any:
    cls = _TO_GURUX.get(type(value))
    if cls is not None:
        return cls(value)
    if isinstance(value, Structure):
        out = GXStructure()
        out.extend(to_gurux(v) for v in value)
        return out
    if isinstance(value, Array):
        return GXArray([to_gurux(v) for v in value])
    if isinstance(value, OctetString):
        return bytes(value)
    if isinstance(value, VisibleString):
        return str(value)
    if isinstance(value, BitString):
        return GXBitString(str(value))
    assert value is None or isinstance(value, bool)
    return value


def same_value(ours: Data, theirs: Any) -> bool:
    if isinstance(ours, tuple):
        return len(ours) == len(theirs) and all(
            same_value(a, b) for a, b in zip(ours, theirs, strict=True)
        )
    if isinstance(ours, OctetString):
        return bytes(theirs) == ours
    if isinstance(ours, BitString):
        return str(theirs).startswith(str(ours))
    if isinstance(ours, float):
        return struct.pack(">d", ours) == struct.pack(">d", float(theirs))
    return bool(ours == theirs)


_INT_CLASSES = (
    Integer,
    Long,
    DoubleLong,
    Long64,
    Unsigned,
    LongUnsigned,
    DoubleLongUnsigned,
    Long64Unsigned,
    Enum,
)
_ints = [st.integers(c.MIN, c.MAX).map(c) for c in _INT_CLASSES]
gurux_scalars = st.one_of(
    *_ints,
    st.floats(width=32, allow_nan=False).map(Float32),
    st.floats(allow_nan=False).map(Float64),
    st.binary(max_size=300).map(OctetString),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=150).map(VisibleString),
    # gurux writes a nested GXBitString as whole octets, so whole octets only here.
    st.binary(min_size=1, max_size=5).map(lambda b: BitString(value=b, length=8 * len(b))),
    st.booleans(),
    st.none(),
)
gurux_values: st.SearchStrategy[Data] = st.recursive(
    gurux_scalars,
    lambda children: (
        st.lists(children, max_size=5).map(Array) | st.lists(children, max_size=5).map(Structure)
    ),
    max_leaves=20,
)


@settings(max_examples=150)
@given(gurux_values)
def test_nested_values_match_gurux(value: Data) -> None:
    gvalue = to_gurux(value)
    golden = gurux_encode(_GXCommon.getDLMSDataType(gvalue), gvalue)
    assert encode(value) == golden
    assert same_value(decode(golden), gurux_decode(golden))
    assert same_value(value, gurux_decode(encode(value)))


def test_profile_rows_match_gurux() -> None:
    """A block-load buffer: the shape the same-shape fast path decodes."""
    rows = []
    grows = GXArray()
    for i in range(96):
        stamp = DateTime.from_datetime(
            dt.datetime(2024, 1, 1, tzinfo=IST) + dt.timedelta(minutes=15 * i),
            sign=DeviationSign.BLUE_BOOK,
        ).to_bytes()
        values = [230_000 + i, 5_000 + 3 * i, 120 * i, 7 * i]
        rows.append(
            Structure(
                [OctetString(stamp), Unsigned(i % 3), *(DoubleLongUnsigned(v) for v in values)]
            )
        )
        g = GXStructure()
        g.extend([stamp, GXUInt8(i % 3), *(GXUInt32(v) for v in values)])
        grows.append(g)
    golden = gurux_encode(GT.ARRAY, grows)
    assert encode(Array(rows)) == golden
    assert decode(golden) == Array(rows)
    assert same_value(decode(golden), gurux_decode(golden))


@pytest.mark.parametrize(
    ("desc", "values", "expected"),
    [
        (
            TypeDescription(type=DataType.LONG_UNSIGNED),
            [LongUnsigned(1), LongUnsigned(2), LongUnsigned(0xFFFF)],
            [1, 2, 0xFFFF],
        ),
        (
            TypeDescription.structure(
                TypeDescription(type=DataType.UNSIGNED),
                TypeDescription(type=DataType.DOUBLE_LONG_UNSIGNED),
            ),
            [
                Structure([Unsigned(1), DoubleLongUnsigned(10)]),
                Structure([Unsigned(2), DoubleLongUnsigned(20)]),
            ],
            [[1, 10], [2, 20]],
        ),
    ],
)
def test_gurux_reads_our_compact_arrays(
    desc: TypeDescription, values: list[Data], expected: list[Any]
) -> None:
    raw = encode(CompactArray(type_description=desc, values=values))
    assert raw[0] == 0x13
    assert gurux_decode(raw) == expected
    back = decode(raw)
    assert isinstance(back, CompactArray) and back.values == tuple(values)


def test_date_and_time_match_gurux() -> None:
    golden_date = gurux_encode(GT.DATE, GXDate(dt.datetime(2024, 3, 17)))
    ours_date = Date(year=2024, month=3, day=17)  # gurux leaves day of week unspecified
    assert encode(ours_date) == golden_date
    assert decode(golden_date) == ours_date
    golden_time = gurux_encode(GT.TIME, GXTime(dt.datetime(2024, 3, 17, 13, 5, 9)))
    ours_time = Time(hour=13, minute=5, second=9, hundredths=0)
    assert encode(ours_time) == golden_time
    assert decode(golden_time) == ours_time
    # A date sent as octet-string(5), as in single action schedules.
    as_octets = decode(gurux_encode(GT.OCTET_STRING, GXDate(dt.datetime(2024, 3, 17))))
    assert isinstance(as_octets, OctetString) and as_octets.as_date() == ours_date


def test_tag_table_matches_gurux() -> None:
    """Every tag but dont-care (which gurux does not define) has gurux's value."""
    theirs = {
        int(getattr(GT, name))
        for name in dir(GT)
        if not name.startswith("_") and isinstance(getattr(GT, name), int)
    }
    ours = {int(tag) for tag in DataType if tag is not DataType.DONT_CARE}
    assert ours == theirs
