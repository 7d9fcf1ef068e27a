"""Bad input: whatever the octets, decoding returns a value or raises DecodeError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.axdr import (
    DONT_CARE,
    Array,
    BitString,
    CompactArray,
    Data,
    DataType,
    Date,
    DateTime,
    DoubleLongUnsigned,
    Float32,
    Long64,
    OctetString,
    Structure,
    Time,
    TypeDescription,
    Unsigned,
    Utf8String,
    VisibleString,
    decode,
    decode_from,
    decode_length,
    encode,
)
from dlmskit.errors import DecodeError

PROFILE = Array(
    [
        Structure(
            [
                OctetString(
                    bytes.fromhex("07E80101FF") + bytes([i // 4, 15 * (i % 4)]) + b"\0\0\xfe\xb6\0"
                ),
                Unsigned(0),
                *(DoubleLongUnsigned(1000 * i + k) for k in range(4)),
            ]
        )
        for i in range(8)
    ]
)

SAMPLES: list[Data] = [
    None,
    True,
    DONT_CARE,
    Unsigned(7),
    Long64(-1),
    Float32(1.5),
    OctetString(b"\x00" * 200),
    VisibleString("meter"),
    Utf8String("ಮೀ"),
    BitString.from_text("1010101"),
    DateTime(year=2024, month=1, day=1, deviation=-330, clock_status=0),
    Date(year=2024, month=12, day=0xFE),
    Time(hour=23, minute=59),
    Structure([Unsigned(1), Array([VisibleString("a"), VisibleString("b")]), None]),
    CompactArray(
        type_description=TypeDescription.structure(
            TypeDescription(type=DataType.UNSIGNED),
            TypeDescription.array(2, TypeDescription(type=DataType.OCTET_STRING)),
        ),
        values=[Structure([Unsigned(1), Array([OctetString(b"x"), OctetString(b"")])])],
    ),
    PROFILE,
]
SAMPLE_BYTES = [encode(v) for v in SAMPLES]


def check(raw: bytes) -> None:
    """Decoding ``raw`` gives a value or a DecodeError placed inside the input."""
    try:
        value, stop = decode_from(raw)
    except DecodeError as error:
        assert 0 <= error.offset <= len(raw)
        return
    assert 0 < stop <= len(raw)
    assert encode(value)  # whatever was accepted can be written back


@pytest.mark.parametrize("raw", SAMPLE_BYTES, ids=[type(v).__name__ for v in SAMPLES])
def test_truncation_at_every_position(raw: bytes) -> None:
    assert encode(decode(raw)) == raw
    for cut in range(len(raw)):
        with pytest.raises(DecodeError) as info:
            decode(raw[:cut])
        assert 0 <= info.value.offset <= cut


@pytest.mark.parametrize(
    "raw",
    [
        bytes.fromhex("09 84 FFFFFFFF 00"),
        bytes.fromhex("0A 84 FFFFFFFF"),
        bytes.fromhex("0C 84 FFFFFFFF 41"),
        bytes.fromhex("04 84 FFFFFFFF 00"),
        bytes.fromhex("01 84 FFFFFFFF 00"),
        bytes.fromhex("02 84 FFFFFFFF 00 00"),
        bytes.fromhex("13 11 84 FFFFFFFF 01"),
        bytes.fromhex("13 02 84 FFFFFFFF 11"),
        bytes.fromhex("13 01 FFFF 01 FFFF 11 84 00000001 00"),
    ],
)
def test_huge_lengths_fail_fast(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(raw)


def test_zero_size_compact_elements() -> None:
    """Null-data elements take no octets: contents must be empty, else it is an error."""
    assert decode(bytes.fromhex("13 00 00")) == CompactArray(
        type_description=TypeDescription(type=DataType.NULL_DATA), values=()
    )
    with pytest.raises(DecodeError):
        decode(bytes.fromhex("13 00 01 00"))
    # 65535**3 null-data per element would be absurd; with empty contents it is just empty.
    empty = decode(bytes.fromhex("13 01 FFFF 01 FFFF 01 FFFF 00 00"))
    assert isinstance(empty, CompactArray) and empty.values == ()
    with pytest.raises(DecodeError):
        decode(bytes.fromhex("13 01 FFFF 01 FFFF 01 FFFF 00 01 00"))
    with pytest.raises(DecodeError, match="expands"):
        decode(bytes.fromhex("13 02 02 11 01 FFFF 00 01 05"))


@pytest.mark.parametrize("tag", [0x01, 0x02])
def test_deep_nesting(tag: int) -> None:
    deep = bytes((tag, 1)) * 10_000 + b"\x00"
    with pytest.raises(DecodeError, match="nesting") as info:
        decode(deep)
    assert info.value.offset == 2 * 64
    # The decoder is iterative: even an explicit huge limit cannot overflow the stack.
    value = decode(deep, max_depth=20_000)
    for _ in range(10_000):
        assert isinstance(value, tuple) and len(value) == 1
        value = value[0]
    assert value is None


def test_depth_limit_counts_fast_path_rows() -> None:
    raw = encode(Array([Structure([Unsigned(i)]) for i in range(8)]))
    assert decode(raw, max_depth=2) == decode(raw)
    with pytest.raises(DecodeError, match="nesting"):
        decode(raw, max_depth=1)


@pytest.mark.parametrize("tag", [7, 8, 11, 14, 28, 100, 254])
def test_unknown_tags(tag: int) -> None:
    with pytest.raises(DecodeError, match="unknown") as info:
        decode(bytes((0x02, 0x02, 0x11, 0x01, tag, 0x00)))
    assert info.value.offset == 4


@pytest.mark.parametrize(
    "raw",
    [
        bytes.fromhex("19 07E8 0D 01 FF 00000000 FEB6 00"),  # month 13
        bytes.fromhex("19 07E8 01 00 FF 00000000 FEB6 00"),  # day 0
        bytes.fromhex("19 07E8 01 01 08 00000000 FEB6 00"),  # day of week 8
        bytes.fromhex("19 07E8 01 01 FF 18000000 FEB6 00"),  # hour 24
        bytes.fromhex("19 07E8 01 01 FF 00000000 7FFF 00"),  # deviation out of range
        bytes.fromhex("1A 07E8 01 E0 FF"),  # reserved day
        bytes.fromhex("1B 00 3C 00 00"),  # minute 60
        bytes.fromhex("0C 02 C3 28"),  # invalid UTF-8
        bytes.fromhex("80"),
        bytes.fromhex("09 80"),
        bytes.fromhex("09 85 0000000001 00"),
        bytes.fromhex("13 13 00"),  # compact-array describing a compact-array
    ],
)
def test_invalid_bodies(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(raw)


def test_date_time_error_points_at_field() -> None:
    with pytest.raises(DecodeError) as info:
        decode(bytes.fromhex("02 01 19 07E8 0D 01 FF 00000000 FEB6 00"))
    assert info.value.offset == 5  # the month octet


def test_decode_length_edges() -> None:
    with pytest.raises(DecodeError):
        decode_length(b"", 0)
    with pytest.raises(DecodeError):
        decode_length(b"\x82\x01", 0)
    with pytest.raises(DecodeError):
        decode_length(b"\x05", 3)
    assert decode_length(b"\x00\x81\xff", 1) == (255, 3)


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_garbage(raw: bytes) -> None:
    check(raw)


@settings(max_examples=200)
@given(
    st.sampled_from(SAMPLE_BYTES),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_mutated_samples(raw: bytes, edits: list[tuple[int, int]]) -> None:
    mutated = bytearray(raw)
    for position, octet in edits:
        mutated[position % len(mutated)] = octet
    check(bytes(mutated))


@settings(max_examples=100)
@given(st.binary(min_size=1, max_size=60), st.integers(0, 80))
def test_garbage_at_offsets(raw: bytes, offset: int) -> None:
    try:
        decode_from(memoryview(raw), offset)
    except DecodeError as error:
        assert 0 <= error.offset <= max(len(raw), offset)


@settings(max_examples=200)
@given(st.sampled_from(sorted(DataType)), st.binary(max_size=80))
def test_garbage_after_each_tag(tag: DataType, body: bytes) -> None:
    check(bytes((tag,)) + body)


@settings(max_examples=150)
@given(
    st.sampled_from([0x01, 0x02, 0x09, 0x11, 0x12, 0x06, 0x00]),
    st.lists(st.sampled_from([0x01, 0x02, 0x04, 0x80, 0x81, 0xFF]), max_size=6),
    st.binary(max_size=40),
)
def test_compact_array_garbage(member: int, description: list[int], contents: bytes) -> None:
    """Plausible descriptions with arbitrary contents and lengths."""
    check(b"\x13\x02" + bytes([len(description) + 1, member, *description]) + contents)
    check(b"\x13\x01\x00" + bytes([len(contents) % 5, member]) + contents)
