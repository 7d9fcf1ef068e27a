"""Same-shape arrays encoded through one precompiled ``struct.Struct``.

The mirror of ``_fastpath``: meters and simulators write profile buffers of many
identical rows.

The rows' Python types (and the lengths of their octet-strings) must all match the first
row; the values are packed in one call with zeroed tag positions, then every tag and
length octet is written with one strided slice assignment per position. Anything else is
left to the general encoder (the caller gets ``False``).
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable
from typing import Any

import attrs

from dlmskit.axdr._length import encode_length
from dlmskit.axdr._types import (
    Bcd,
    DataType,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    Float64,
    Integer,
    Long,
    Long64,
    Long64Unsigned,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
)

__all__ = ["MIN_ROWS", "encode_uniform_array"]

MIN_ROWS = 4
_CACHE_LIMIT = 256
# As in _fastpath: one struct for arrays of up to this many values, a bounded cache.
_WHOLE_ARRAY_VALUES = 4096
_WHOLE_ARRAY_CACHE = 32

# Python type -> (tag, struct code); None code = octet-string of the row's length.
_CODES: dict[type, tuple[int, str | None]] = {
    bool: (DataType.BOOLEAN, "?"),
    Integer: (DataType.INTEGER, "b"),
    Unsigned: (DataType.UNSIGNED, "B"),
    Enum: (DataType.ENUM, "B"),
    Bcd: (DataType.BCD, "B"),
    Long: (DataType.LONG, "h"),
    LongUnsigned: (DataType.LONG_UNSIGNED, "H"),
    DoubleLong: (DataType.DOUBLE_LONG, "i"),
    DoubleLongUnsigned: (DataType.DOUBLE_LONG_UNSIGNED, "I"),
    Long64: (DataType.LONG64, "q"),
    Long64Unsigned: (DataType.LONG64_UNSIGNED, "Q"),
    Float64: (DataType.FLOAT64, "d"),
    OctetString: (DataType.OCTET_STRING, None),
    bytes: (DataType.OCTET_STRING, None),
}


@attrs.frozen
class _Layout:
    row_format: str
    size: int
    patches: tuple[tuple[int, bytes], ...]  # (offset in row, octet)


_layouts: dict[tuple[Any, ...], _Layout] = {}
_packers: dict[tuple[tuple[Any, ...], int], Callable[..., bytes]] = {}


def _layout(structure: bool, types: tuple[type, ...], lengths: tuple[int, ...]) -> _Layout:
    fmt: list[str] = []
    patches: list[tuple[int, bytes]] = []
    offset = 0
    if structure:
        fmt.append("2x")
        patches += [(0, bytes((DataType.STRUCTURE,))), (1, bytes((len(types),)))]
        offset = 2
    strings = iter(lengths)
    for member in types:
        tag, code = _CODES[member]
        patches.append((offset, bytes((tag,))))
        if code is None:
            length = next(strings)
            patches.append((offset + 1, bytes((length,))))
            fmt.append(f"2x{length}s")
            offset += 2 + length
        else:
            fmt.append("x" + code)
            offset += 1 + struct.calcsize(">" + code)
    row_format = "".join(fmt)
    return _Layout(row_format=row_format, size=offset, patches=tuple(patches))


def encode_uniform_array(out: bytearray, value: Any) -> bool:
    """Append ``value`` (an array of same-shape rows) and return True, or return False."""
    count = len(value)
    if count < MIN_ROWS:
        return False
    first = value[0]
    row_type = type(first)
    structure = row_type is Structure or row_type is tuple
    if structure:
        width = len(first)
        if not 0 < width < 0x80:
            return False
        if list(map(type, value)) != [row_type] * count:
            return False
        if list(map(len, value)) != [width] * count:
            return False
        flat = list(itertools.chain.from_iterable(value))
    else:
        width = 1
        flat = list(value)
    types = tuple(map(type, flat[:width]))
    if any(member not in _CODES for member in types):
        return False
    if list(map(type, flat)) != list(types) * count:
        return False
    lengths = []
    for index, member in enumerate(types):
        if _CODES[member][1] is None:
            column = flat[index::width]
            length = len(column[0])
            if length >= 0x80 or list(map(len, column)) != [length] * count:
                return False
            lengths.append(length)
    key = (structure, types, tuple(lengths))
    layout = _layouts.get(key)
    if layout is None:
        if len(_layouts) >= _CACHE_LIMIT:
            _layouts.clear()
        layout = _layouts[key] = _layout(structure, types, tuple(lengths))
    if count * width <= _WHOLE_ARRAY_VALUES:
        pack = _packers.get((key, count))
        if pack is None:
            if len(_packers) >= _WHOLE_ARRAY_CACHE:
                _packers.clear()
            pack = _packers[key, count] = struct.Struct(">" + layout.row_format * count).pack
        region = bytearray(pack(*flat))
    else:
        row = struct.Struct(">" + layout.row_format)
        region = bytearray(b"".join(itertools.starmap(row.pack, _rows(flat, width))))
    size = layout.size
    for offset, octet in layout.patches:
        region[offset::size] = octet * count
    out.append(DataType.ARRAY)
    out += encode_length(count)
    out += region
    return True


def _rows(flat: list[Any], width: int) -> zip[tuple[Any, ...]]:
    columns = iter(flat)
    return zip(*([columns] * width), strict=True)
