"""A-XDR round trips: decode(encode(v)) == v (type-exact) and encode(decode(b)) == b."""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.axdr import (
    DONT_CARE,
    Array,
    Bcd,
    BitString,
    ClockStatus,
    CompactArray,
    Data,
    DataType,
    Date,
    DateTime,
    DoubleLong,
    DoubleLongUnsigned,
    Encodable,
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
    decode_from,
    encode,
)
from dlmskit.errors import DecodeError, LocalProtocolError

INT_TYPES = (
    Integer,
    Long,
    DoubleLong,
    Long64,
    Unsigned,
    LongUnsigned,
    DoubleLongUnsigned,
    Long64Unsigned,
    Enum,
    Bcd,
)

dates = st.builds(
    Date,
    year=st.none() | st.integers(0, 0xFFFE),
    month=st.none() | st.integers(1, 12) | st.sampled_from([0xFD, 0xFE]),
    day=st.none() | st.integers(1, 31) | st.sampled_from([0xFD, 0xFE]),
    day_of_week=st.none() | st.integers(1, 7),
)
times = st.builds(
    Time,
    hour=st.none() | st.integers(0, 23),
    minute=st.none() | st.integers(0, 59),
    second=st.none() | st.integers(0, 59),
    hundredths=st.none() | st.integers(0, 99),
)
date_times = st.builds(
    lambda d, t, dev, status: DateTime(
        year=d.year,
        month=d.month,
        day=d.day,
        day_of_week=d.day_of_week,
        hour=t.hour,
        minute=t.minute,
        second=t.second,
        hundredths=t.hundredths,
        deviation=dev,
        clock_status=status,
    ),
    dates,
    times,
    st.none() | st.integers(-720, 720),
    st.none() | st.integers(0, 0xFE).map(ClockStatus),
)


@st.composite
def bit_strings(draw: st.DrawFn) -> BitString:
    length = draw(st.integers(0, 70))
    raw = draw(st.binary(min_size=(length + 7) // 8, max_size=(length + 7) // 8))
    return BitString(value=raw, length=length)


def int_values(cls: Any) -> st.SearchStrategy[Data]:
    return st.integers(cls.MIN, cls.MAX).map(cls)


SIMPLE_BY_TAG: dict[DataType, st.SearchStrategy[Any]] = {
    DataType.NULL_DATA: st.none(),
    DataType.DONT_CARE: st.just(DONT_CARE),
    DataType.BOOLEAN: st.booleans(),
    DataType.BIT_STRING: bit_strings(),
    DataType.OCTET_STRING: st.binary(max_size=300).map(OctetString),
    DataType.VISIBLE_STRING: st.text(st.characters(max_codepoint=0xFF), max_size=40).map(
        VisibleString
    ),
    DataType.UTF8_STRING: st.text(st.characters(exclude_categories=["Cs"]), max_size=40).map(
        Utf8String
    ),
    DataType.FLOAT32: st.floats(width=32).map(Float32),
    DataType.FLOAT64: st.floats().map(Float64),
    DataType.DATE_TIME: date_times,
    DataType.DATE: dates,
    DataType.TIME: times,
}
SIMPLE_BY_TAG.update({cls.TAG: int_values(cls) for cls in INT_TYPES})
simple_values = st.one_of(list(SIMPLE_BY_TAG.values()))


def values_for(desc: TypeDescription) -> st.SearchStrategy[Any]:
    if desc.type is DataType.STRUCTURE:
        return st.tuples(*(values_for(m) for m in desc.elements)).map(Structure)
    if desc.type is DataType.ARRAY:
        assert desc.element is not None
        return st.lists(values_for(desc.element), min_size=desc.count, max_size=desc.count).map(
            Array
        )
    return SIMPLE_BY_TAG[desc.type]


NON_EMPTY_SIMPLE = [t for t in SIMPLE_BY_TAG if t not in (DataType.NULL_DATA, DataType.DONT_CARE)]
descriptions = st.recursive(
    st.sampled_from(NON_EMPTY_SIMPLE).map(lambda t: TypeDescription(type=t)),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4).map(lambda m: TypeDescription.structure(*m)),
        st.builds(TypeDescription.array, st.integers(1, 3), inner),
    ),
    max_leaves=6,
)
compact_arrays = descriptions.flatmap(
    lambda d: st.lists(values_for(d), max_size=4).map(
        lambda vs: CompactArray(type_description=d, values=vs)
    )
)

data_values: st.SearchStrategy[Data] = st.recursive(
    simple_values | compact_arrays,
    lambda children: st.one_of(
        st.lists(children, max_size=6).map(Array),
        st.lists(children, max_size=6).map(Structure),
        # Same-shape rows, to exercise the array fast path inside random data.
        st.tuples(st.lists(SIMPLE_BY_TAG[DataType.UNSIGNED], min_size=2, max_size=3)).flatmap(
            lambda row: st.integers(4, 8).map(lambda n: Array([Structure(row[0])] * n))
        ),
    ),
    max_leaves=25,
)


def strict_equal(a: object, b: object) -> bool:
    """Equal and of the same DLMS type all the way down (floats by their bits)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        assert isinstance(b, float)
        return struct.pack(">d", a) == struct.pack(">d", b)
    if isinstance(a, tuple):
        assert isinstance(b, tuple)
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, CompactArray):
        assert isinstance(b, CompactArray)
        return a.type_description == b.type_description and strict_equal(a.values, b.values)
    return a == b


@settings(max_examples=200)
@given(data_values)
def test_value_round_trip(value: Data) -> None:
    raw = encode(value)
    back = decode(raw)
    assert strict_equal(back, value)
    assert encode(back) == raw


@settings(max_examples=150)
@given(compact_arrays)
def test_compact_array_round_trip(value: CompactArray) -> None:
    raw = encode(value)
    assert raw[0] == DataType.COMPACT_ARRAY
    assert strict_equal(decode(raw), value)


@pytest.mark.parametrize("tag", sorted(SIMPLE_BY_TAG))
@settings(max_examples=40)
@given(data=st.data())
def test_each_type_round_trip(tag: DataType, data: st.DataObject) -> None:
    value = data.draw(SIMPLE_BY_TAG[tag])
    raw = encode(value)
    assert raw[0] == tag
    back, stop = decode_from(b"\xee" + raw + b"\xee", 1)
    assert stop == len(raw) + 1
    assert strict_equal(back, value)


@settings(max_examples=100)
@given(st.binary(min_size=4, max_size=4))
def test_float32_bits_survive(raw: bytes) -> None:
    """Every float32 bit pattern, signalling NaNs included, comes back unchanged."""
    value = decode(b"\x17" + raw)
    assert isinstance(value, Float32)
    assert encode(value) == b"\x17" + raw


@settings(max_examples=100)
@given(st.binary(min_size=8, max_size=8))
def test_float64_bits_survive(raw: bytes) -> None:
    assert encode(decode(b"\x18" + raw)) == b"\x18" + raw


def test_float32_rounds_on_creation() -> None:
    assert Float32(0.1) == struct.unpack(">f", struct.pack(">f", 0.1))[0]
    assert decode(encode(Float32(0.1))) == Float32(0.1)
    with pytest.raises(LocalProtocolError):
        Float32(1e300)
    assert math.isinf(Float32(math.inf))


@pytest.mark.parametrize("cls", INT_TYPES)
def test_int_ranges(cls: Any) -> None:
    assert encode(cls(cls.MIN)) != encode(cls(cls.MAX))
    with pytest.raises(LocalProtocolError):
        cls(cls.MAX + 1)
    with pytest.raises(LocalProtocolError):
        cls(cls.MIN - 1)


def test_plain_python_values() -> None:
    plain: list[Encodable] = [b"\x01\x02", "abc", "é", 1.5, (True, None), []]
    assert encode(plain) == (
        b"\x01\x06"
        + b"\x09\x02\x01\x02"
        + b"\x0a\x03abc"
        + b"\x0c\x02\xc3\xa9"
        + b"\x18"
        + struct.pack(">d", 1.5)
        + b"\x02\x02\x03\x01\x00"
        + b"\x01\x00"
    )
    back = decode(encode(plain))
    assert strict_equal(
        back,
        Array(
            [
                OctetString(b"\x01\x02"),
                VisibleString("abc"),
                Utf8String("é"),
                Float64(1.5),
                Structure([True, None]),
                Array(),
            ]
        ),
    )
    with pytest.raises(LocalProtocolError, match="ambiguous"):
        encode([Unsigned(1), 2])
    with pytest.raises(LocalProtocolError):
        encode(object())  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        VisibleString("€")
    assert encode(VisibleString("é")) == b"\x0a\x01\xe9"


def test_encode_into_leaves_buffer_on_error() -> None:
    from dlmskit.axdr import encode_into

    out = bytearray(b"\x01")
    with pytest.raises(LocalProtocolError):
        encode_into(out, [Unsigned(1), 5])
    assert out == b"\x01"


def test_self_containing_list_is_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(LocalProtocolError, match="nested"):
        encode(loop)


def test_boolean_decodes_any_non_zero_and_writes_01() -> None:
    for octet in (1, 0x55, 0xFF):
        value = decode(bytes((3, octet)))
        assert value is True
        assert encode(value) == b"\x03\x01"
    assert decode(b"\x03\x00") is False


def test_non_minimal_lengths_are_read_but_written_minimal() -> None:
    """Only minimal length forms are canonical: 0x81 05 decodes, and re-encodes as 05."""
    long_form = bytes.fromhex("09 81 05 0102030405")
    value = decode(long_form)
    assert value == OctetString(bytes.fromhex("0102030405"))
    assert encode(value) == bytes.fromhex("09 05 0102030405")
    assert decode(bytes.fromhex("09 83 000003 aabbcc")) == OctetString(b"\xaa\xbb\xcc")
    assert decode(bytes.fromhex("01 84 00000001 1101")) == Array([Unsigned(1)])


def test_bit_string_helpers() -> None:
    bits = BitString.from_text("1011000001")
    assert bits.length == 10 and bits.value == b"\xb0\x40"
    assert list(bits)[:4] == [True, False, True, True]
    assert bits[-1] is True and str(bits) == "1011000001"
    assert encode(bits) == b"\x04\x0a\xb0\x40"
    with pytest.raises(LocalProtocolError):
        BitString(value=b"\x00", length=9)
    with pytest.raises(LocalProtocolError):
        BitString.from_text("012")


def test_decode_error_names_offset() -> None:
    with pytest.raises(DecodeError) as info:
        decode(bytes.fromhex("0202 1101 07"))
    assert info.value.offset == 4


def test_int_like_values_are_refused_with_a_hint() -> None:
    with pytest.raises(LocalProtocolError, match="ambiguous"):
        encode([DataType.UNSIGNED])


def test_compact_array_encoder_refuses_what_the_decoder_would() -> None:
    nothing = TypeDescription(type=DataType.NULL_DATA)
    with pytest.raises(LocalProtocolError):
        encode(CompactArray(type_description=nothing, values=[None]))
    assert encode(CompactArray(type_description=nothing, values=[])) == b"\x13\x00\x00"
    explosive = TypeDescription.structure(
        TypeDescription(type=DataType.UNSIGNED), TypeDescription.array(100, nothing)
    )
    with pytest.raises(LocalProtocolError, match="too many"):
        encode(
            CompactArray(
                type_description=explosive, values=[Structure([Unsigned(1), Array([None] * 100)])]
            )
        )
    with pytest.raises(LocalProtocolError):
        encode(
            CompactArray(
                type_description=TypeDescription(type=DataType.UNSIGNED), values=[LongUnsigned(300)]
            )
        )
    with pytest.raises(LocalProtocolError):
        TypeDescription(type=DataType.ARRAY, count=2)


def test_any_buffer_type() -> None:
    raw = encode(Array([LongUnsigned(i) for i in range(10)]))
    expected = decode(raw)
    assert decode(bytearray(raw)) == expected
    assert decode(memoryview(raw)) == expected
    wide = memoryview(raw).cast("H")  # a memoryview of another format
    assert len(raw) % 2 == 0 and decode(wide) == expected


@settings(max_examples=60)
@given(data_values)
def test_values_pickle(value: Data) -> None:
    """Values cross process boundaries (worker pools) unchanged."""
    import pickle

    back = pickle.loads(pickle.dumps(value))
    assert strict_equal(back, value)
    assert encode(back) == encode(value)
