"""Regression vectors for dlmskit.axdr found by the fuzz target fuzz/_codec.py (axdr).

A failure here is a hang, not an assertion: each vector once kept the decoder busy for
billions of steps.
"""

from __future__ import annotations

import time

import pytest

from dlmskit.axdr import CompactArray, DataType, TypeDescription, decode, encode
from dlmskit.errors import DecodeError

# compact-array whose description is structure { array 65535 of array 65535 of
# null-data, array 65535 of array 65535 of long64 } with one octet of contents: the
# first member is 2**32 values of no size, walked in full before the second ran out
ZERO_SIZE_MEMBER_FIRST = bytes.fromhex("1302 0201FFFF01FFFF00 01FFFF01FFFF14 0100".replace(" ", ""))

#: The inputs the fuzzer found (libFuzzer timeouts after 10 s), as found.
FOUND = (
    "13021106000000000000010101010101010101010101010101010101000000000000001401010101010101010101010101010101011301fefd0201010101010109020206ff0c072801ffffff00060800030000003002000000",
    "13021106000000000000010100000101010101010101ffffffffffffffff01010101010101010101010101011b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b010101011301fefd020101010101010101010101010101010101010101010101010101010104ffffffffff0006000003000000000000000000002b00000000000000000000020000000000000000130101fffffffff8ff3002000000",
)


@pytest.mark.parametrize("raw", [ZERO_SIZE_MEMBER_FIRST, *map(bytes.fromhex, FOUND)])
def test_compact_array_larger_than_its_contents_fails_at_once(raw: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(DecodeError, match="one element needs at least") as info:
        decode(raw)
    assert time.perf_counter() - started < 1.0
    assert info.value.expected == "contents of whole elements"


def test_compact_array_of_whole_elements_still_decodes() -> None:
    # structure { array 2 of null-data, unsigned }: one octet an element
    raw = bytes.fromhex("1302 02 01000200 11 02 0506")
    value = decode(raw)
    assert isinstance(value, CompactArray)
    assert value.type_description == TypeDescription(
        type=DataType.STRUCTURE,
        elements=(
            TypeDescription(
                type=DataType.ARRAY, count=2, element=TypeDescription(type=DataType.NULL_DATA)
            ),
            TypeDescription(type=DataType.UNSIGNED),
        ),
    )
    assert len(value.values) == 2
    assert encode(value) == raw
