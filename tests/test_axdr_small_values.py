"""Fixed-width integers below ``SMALL_VALUES`` are shared, built once per type; columns
built at once and same-shape arrays decoded by the fast path give the same typed values
on both sides of that bound as the constructor and the general decoder."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.axdr import (
    Array,
    Bcd,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    Integer,
    Long,
    Long64,
    Long64Unsigned,
    LongUnsigned,
    Structure,
    Unsigned,
    decode,
    encode,
)
from dlmskit.axdr._decode import decode_from
from dlmskit.axdr._types import SMALL_VALUES

TYPES = [Integer, Unsigned, Enum, Bcd, Long, LongUnsigned, DoubleLong, DoubleLongUnsigned]
WIDE = [Long, LongUnsigned, DoubleLong, DoubleLongUnsigned, Long64, Long64Unsigned]


@pytest.mark.parametrize("kind", [*TYPES, Long64, Long64Unsigned])
def test_small_values_are_the_values_of_the_type(kind: type[Long]) -> None:
    table = kind.small()
    assert len(table) == min(SMALL_VALUES, kind.MAX + 1)
    assert all(type(v) is kind and v == n for n, v in enumerate(table))
    assert kind.small() is table


@pytest.mark.parametrize("kind", WIDE)
def test_columns_on_both_sides_of_the_bound(kind: type[Long]) -> None:
    edges = [0, 1, SMALL_VALUES - 1, SMALL_VALUES, kind.MAX, kind.MIN, -1]
    values = [v for v in edges if kind.MIN <= v <= kind.MAX]
    for column in (values, values[:3], [SMALL_VALUES - 1] * 5):
        got = kind.column(column)
        assert got == [kind(v) for v in column]
        assert {type(v) for v in got} == {kind}


@settings(max_examples=100, deadline=None)
@given(
    kind=st.sampled_from(WIDE),
    data=st.data(),
    rows=st.integers(4, 30),
)
def test_fast_decoded_columns_equal_the_general_decoder(
    kind: type[Long], data: st.DataObject, rows: int
) -> None:
    small = st.integers(max(kind.MIN, -3), min(kind.MAX, SMALL_VALUES + 3))
    values = data.draw(
        st.lists(st.one_of(small, st.integers(kind.MIN, kind.MAX)), min_size=rows, max_size=rows)
    )
    buffer = Array(Structure((kind(v), Unsigned(n % 256))) for n, v in enumerate(values))
    raw = encode(buffer)
    fast = decode(raw)
    assert fast == buffer
    assert all(type(row[0]) is kind for row in fast)  # type: ignore[index]
    # the general decoder, element by element (an array of one row at a time)
    for row, value in zip(fast, values, strict=True):
        assert isinstance(row, Structure)
        single, _ = decode_from(encode(Array((row,))), 0)
        assert single == Array((Structure((kind(value), row[1])),))
