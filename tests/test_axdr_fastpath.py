"""The same-shape array fast path gives exactly what the general decoder gives."""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dlmskit.axdr._fastencode as fastencode
import dlmskit.axdr._fastpath as fastpath
from dlmskit.axdr import (
    DONT_CARE,
    Array,
    Bcd,
    Data,
    Date,
    DateTime,
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
    Unsigned,
    Utf8String,
    VisibleString,
    decode,
    decode_length,
    encode,
)
from dlmskit.errors import DecodeError


@contextmanager
def general_path_only() -> Iterator[None]:
    saved = fastpath.MIN_ROWS
    fastpath.MIN_ROWS = 1 << 62
    try:
        yield
    finally:
        fastpath.MIN_ROWS = saved


def general_decode(raw: bytes) -> Data:
    with general_path_only():
        return decode(raw)


def strict_equal(a: object, b: object) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        assert isinstance(b, float)
        return struct.pack(">d", a) == struct.pack(">d", b)
    if isinstance(a, tuple):
        assert isinstance(b, tuple)
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def ints(cls: Any) -> st.SearchStrategy[Any]:
    return st.integers(cls.MIN, cls.MAX).map(cls)


# Column kinds the fast path can express: (strategy for one cell given a fixed width).
COLUMNS: list[Any] = [
    *(
        (lambda c: lambda width: ints(c))(cls)
        for cls in (
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
    ),
    lambda width: st.booleans(),
    lambda width: st.none(),
    lambda width: st.just(DONT_CARE),
    lambda width: st.floats(width=32).map(Float32),
    lambda width: st.floats().map(Float64),
    lambda width: st.binary(min_size=width, max_size=width).map(OctetString),
    lambda width: st.text(st.characters(max_codepoint=0xFF), min_size=width, max_size=width).map(
        VisibleString
    ),
    lambda width: st.text(st.characters(max_codepoint=0x7F), min_size=width, max_size=width).map(
        Utf8String
    ),
    lambda width: st.builds(
        DateTime,
        year=st.integers(2000, 2040),
        month=st.integers(1, 12),
        day=st.integers(1, 28),
        hour=st.integers(0, 23),
        deviation=st.sampled_from([-330, 330, None]),
    ),
    lambda width: st.builds(Date, year=st.integers(2000, 2040)),
    lambda width: st.builds(Time, hour=st.integers(0, 23)),
]


@st.composite
def same_shape_arrays(draw: st.DrawFn) -> Array:
    """Arrays of 4..40 rows, all structures of the same member types and widths."""
    kinds = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=7))
    widths = [draw(st.integers(0, 12)) for _ in kinds]
    rows = draw(st.integers(4, 40))
    cells = [st.tuples(*(kind(width) for kind, width in zip(kinds, widths, strict=True)))]
    body = draw(st.lists(cells[0], min_size=rows, max_size=rows))
    if draw(st.booleans()):
        return Array([Structure(row) for row in body])
    return Array([row[0] for row in body])


@settings(max_examples=120)
@given(same_shape_arrays())
def test_fast_path_equals_general_path(value: Array) -> None:
    raw = encode(value)
    fast = decode(raw)
    assert strict_equal(fast, general_decode(raw))
    assert strict_equal(fast, value)
    # The fast path really took these rows (float32 NaNs are left to the general path).
    count, start = decode_length(raw, 1)
    taken = fastpath.decode_uniform_array(raw, start, count, len(raw))
    has_nan32 = any(
        isinstance(cell, Float32) and math.isnan(cell)
        for row in value
        for cell in (row if isinstance(row, tuple) else (row,))
    )
    assert (taken is None) == has_nan32


@settings(max_examples=100)
@given(same_shape_arrays(), st.integers(0, 1 << 30), st.integers(0, 255))
def test_fast_path_on_one_changed_octet(value: Array, where: int, octet: int) -> None:
    """Change any one octet: both paths agree on the value or on failing."""
    raw = bytearray(encode(value))
    raw[where % len(raw)] = octet
    try:
        general = general_decode(bytes(raw))
    except DecodeError:
        with pytest.raises(DecodeError):
            decode(bytes(raw))
        return
    assert strict_equal(decode(bytes(raw)), general)


def profile(rows: int) -> Array:
    return Array(
        [
            Structure(
                [
                    OctetString(
                        bytes.fromhex("07E80101FF")
                        + bytes([i // 4 % 24, 15 * (i % 4)])
                        + bytes.fromhex("0000FEB600")
                    ),
                    Unsigned(0),
                    *(DoubleLongUnsigned(1000 * i + k) for k in range(4)),
                ]
            )
            for i in range(rows)
        ]
    )


def test_fast_path_is_taken_for_profile_rows() -> None:
    raw = encode(profile(96))
    region_start = 2  # after 01 60
    result = fastpath.decode_uniform_array(raw, region_start, 96, len(raw))
    assert result is not None
    assert result[1] == len(raw)
    assert strict_equal(result[0], general_decode(raw))


@pytest.mark.parametrize(
    ("row", "octet", "why"),
    [
        (50, 0, "structure tag"),
        (50, 1, "member count"),
        (50, 2, "octet-string tag"),
        (50, 3, "octet-string length"),
        (95, 16, "unsigned tag"),
        (7, 18, "double-long-unsigned tag"),
    ],
)
def test_every_tag_octet_is_checked(row: int, octet: int, why: str) -> None:
    raw = bytearray(encode(profile(96)))
    row_size = 2 + 14 + 2 + 4 * 5
    position = 2 + row * row_size + octet
    raw[position] ^= 0x40
    fast = fastpath.decode_uniform_array(bytes(raw), 2, 96, len(raw))
    assert fast is None, why
    try:
        general = general_decode(bytes(raw))
    except DecodeError:
        with pytest.raises(DecodeError):
            decode(bytes(raw))
    else:
        assert strict_equal(decode(bytes(raw)), general)


def test_mixed_rows_fall_back() -> None:
    rows = list(profile(10))
    rows[6] = Structure([None, Unsigned(1), *(DoubleLongUnsigned(0) for _ in range(4))])
    value = Array(rows)
    assert strict_equal(decode(encode(value)), value)


def test_float32_nan_rows_keep_their_bits() -> None:
    nan_bits = bytes.fromhex("7F800001")  # signalling NaN
    rows = b"".join(
        b"\x02\x01\x17" + (nan_bits if i == 2 else b"\x3f\x80\x00\x00") for i in range(6)
    )
    raw = b"\x01\x06" + rows
    assert encode(decode(raw)) == raw


@contextmanager
def general_encoder_only() -> Iterator[None]:
    saved = fastencode.MIN_ROWS
    fastencode.MIN_ROWS = 1 << 62
    try:
        yield
    finally:
        fastencode.MIN_ROWS = saved


def general_encode(value: Any) -> bytes:
    with general_encoder_only():
        return encode(value)


@settings(max_examples=120)
@given(same_shape_arrays())
def test_fast_encoder_equals_general_encoder(value: Array) -> None:
    raw = encode(value)
    assert raw == general_encode(value)
    assert strict_equal(decode(raw), value)
    # Rows made only of the types the fast encoder packs do take it.
    cells = [c for row in value for c in (row if isinstance(row, Structure) else (row,))]
    packable = all(type(c) in fastencode._CODES for c in cells)
    assert fastencode.encode_uniform_array(bytearray(), value) == packable


def test_fast_encoder_is_taken_for_profile_rows() -> None:
    value = profile(96)
    out = bytearray()
    assert fastencode.encode_uniform_array(out, value)
    assert bytes(out) == general_encode(value)
    plain = [tuple(row) for row in value if isinstance(row, Structure)]  # plain tuples too
    assert len(plain) == 96
    out = bytearray()
    assert fastencode.encode_uniform_array(out, plain)
    assert bytes(out) == general_encode(value)


@pytest.mark.parametrize(
    "change",
    [
        lambda rows: rows.__setitem__(9, Structure([*rows[9][:5], LongUnsigned(1)])),
        lambda rows: rows.__setitem__(9, Structure(rows[9][:5])),
        lambda rows: rows.__setitem__(9, Array(rows[9])),
        lambda rows: rows.__setitem__(9, Structure([OctetString(b"short"), *rows[9][1:]])),
        lambda rows: rows.__setitem__(9, Structure([None, *rows[9][1:]])),
    ],
)
def test_fast_encoder_declines_mixed_rows(change: Any) -> None:
    rows = list(profile(12))
    change(rows)
    out = bytearray()
    assert not fastencode.encode_uniform_array(out, rows)
    assert out == b""
    assert encode(Array(rows)) == general_encode(Array(rows))


def test_long_arrays_use_the_row_by_row_struct() -> None:
    """Past the whole-array size both fast paths go row by row, with the same results."""
    value = profile(1500)
    raw = encode(value)
    assert raw == general_encode(value)
    count, start = decode_length(raw, 1)
    assert count == 1500
    taken = fastpath.decode_uniform_array(raw, start, count, len(raw))
    assert taken is not None and taken[1] == len(raw)
    assert strict_equal(taken[0], general_decode(raw))
    assert strict_equal(taken[0], value)


@pytest.mark.parametrize(
    ("kind", "values", "shared"),
    [
        (DoubleLongUnsigned, [0, 41, 4095, 7], True),  # all have a shared instance
        (DoubleLongUnsigned, [0, 41, 4096, 7], False),  # one past the shared ones
        (LongUnsigned, [23616, 23700, 1, 0xFFFF], False),
        (DoubleLong, [5, -1, 3, 2], False),  # a negative value is not an index from the end
        (DoubleLong, [5, 0, 3, 2], True),
        (Long, [-0x8000, 0x7FFF, 0, -2], False),
        (Integer, [-128, -1, 0, 127], True),  # one-octet values all exist once
        (Unsigned, [0, 128, 255, 1], True),
        (Enum, [3, 0, 255, 9], True),
    ],
)
def test_integer_columns_keep_values_types_and_shared_instances(
    kind: Any, values: list[int], shared: bool
) -> None:
    value = Array([Structure([kind(v), Unsigned(1)]) for v in values])
    raw = encode(value)
    count, start = decode_length(raw, 1)
    first = fastpath.decode_uniform_array(raw, start, count, len(raw))
    second = fastpath.decode_uniform_array(raw, start, count, len(raw))
    assert first is not None and second is not None
    rows, end = first
    assert end == len(raw)
    assert strict_equal(rows, value) and strict_equal(rows, general_decode(raw))
    # a column whose values all have a shared instance comes out as those instances
    pairs: Any = zip(rows, second[0], values, strict=True)
    for row, again, v in pairs:
        assert type(row[0]) is kind and row[0] == v
        assert (row[0] is again[0]) == shared
