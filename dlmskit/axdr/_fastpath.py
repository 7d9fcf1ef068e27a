"""Same-shape arrays (profile buffers) decoded through one precompiled ``struct.Struct``.

A profile generic buffer is an array of structures whose rows all have the same shape,
e.g. ``{octet-string(12), unsigned, double-long-unsigned x 4}``. The first row's tags and
short lengths give a shape signature; one ``struct.Struct`` per signature (cached) reads
every row, and every tag and length octet of every row is compared with the signature.
Any difference, or anything the shape cannot express, returns ``None`` and the general
decoder takes over, so both paths give exactly the same values.
"""

from __future__ import annotations

import itertools
import math
import struct
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import attrs

from dlmskit.axdr._datetime import Date, DateTime, Time
from dlmskit.axdr._scalar import Buffer
from dlmskit.axdr._types import (
    DONT_CARE,
    Array,
    Bcd,
    Data,
    DataType,
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
    Unsigned,
    Utf8String,
    VisibleString,
)
from dlmskit.errors import DecodeError

__all__ = ["MIN_ROWS", "decode_uniform_array"]

MIN_ROWS = 4
"""Arrays shorter than this are not worth a signature and go the general way."""

_CACHE_LIMIT = 256


def _visible(raw: bytes) -> Data:
    return str.__new__(VisibleString, raw.decode("latin-1"))


def _utf8(raw: bytes) -> Data:
    return str.__new__(Utf8String, raw.decode("utf-8"))


def _float32(value: float) -> Data:
    return float.__new__(Float32, value)


# tag -> (struct code, body size, constructor of one value)
_FIXED: dict[int, tuple[str, int, Callable[[Any], Data]]] = {
    DataType.BOOLEAN: ("?", 1, bool),
    DataType.INTEGER: ("b", 1, partial(int.__new__, Integer)),
    DataType.UNSIGNED: ("B", 1, partial(int.__new__, Unsigned)),
    DataType.ENUM: ("B", 1, partial(int.__new__, Enum)),
    DataType.BCD: ("B", 1, partial(int.__new__, Bcd)),
    DataType.LONG: ("h", 2, partial(int.__new__, Long)),
    DataType.LONG_UNSIGNED: ("H", 2, partial(int.__new__, LongUnsigned)),
    DataType.DOUBLE_LONG: ("i", 4, partial(int.__new__, DoubleLong)),
    DataType.DOUBLE_LONG_UNSIGNED: ("I", 4, partial(int.__new__, DoubleLongUnsigned)),
    DataType.LONG64: ("q", 8, partial(int.__new__, Long64)),
    DataType.LONG64_UNSIGNED: ("Q", 8, partial(int.__new__, Long64Unsigned)),
    DataType.FLOAT32: ("f", 4, _float32),
    DataType.FLOAT64: ("d", 8, partial(float.__new__, Float64)),
    DataType.DATE_TIME: ("12s", 12, DateTime.from_bytes),
    DataType.DATE: ("5s", 5, Date.from_bytes),
    DataType.TIME: ("4s", 4, Time.from_bytes),
}
_STRINGS: dict[int, Callable[[bytes], Data]] = {
    DataType.OCTET_STRING: partial(bytes.__new__, OctetString),
    DataType.VISIBLE_STRING: _visible,
    DataType.UTF8_STRING: _utf8,
}
_EMPTY: dict[int, Data] = {DataType.NULL_DATA: None, DataType.DONT_CARE: DONT_CARE}


@attrs.frozen
class _Shape:
    """How to read rows of one signature."""

    unpack: Callable[[Buffer], Iterable[tuple[Any, ...]]]
    size: int
    checks: tuple[tuple[int, int], ...]  # (offset in row, expected octet)
    columns: tuple[Callable[[Any], Data] | Data, ...]  # constructor, or the constant value
    structure: bool
    has_float32: bool


_cache: dict[bytes, _Shape] = {}


def _signature(buf: Buffer, pos: int, end: int) -> bytes | None:
    """Tags and short lengths of the element at ``pos``, or ``None`` if not expressible."""
    sig = bytearray()
    tag = buf[pos]
    if tag == DataType.STRUCTURE:
        if pos + 1 >= end:
            return None
        members = buf[pos + 1]
        if members == 0 or members >= 0x80:
            return None
        sig += bytes((tag, members))
        pos += 2
    else:
        members = 1
    for _ in range(members):
        if pos >= end:
            return None
        tag = buf[pos]
        fixed = _FIXED.get(tag)
        if fixed is not None:
            sig.append(tag)
            pos += 1 + fixed[1]
        elif tag in _STRINGS:
            if pos + 1 >= end or buf[pos + 1] >= 0x80:
                return None
            sig += bytes((tag, buf[pos + 1]))
            pos += 2 + buf[pos + 1]
        elif tag in _EMPTY:
            sig.append(tag)
            pos += 1
        else:
            return None
    return bytes(sig)


def _compile(sig: bytes) -> _Shape:
    fmt = [">"]
    checks: list[tuple[int, int]] = []
    columns: list[Callable[[Any], Data] | Data] = []
    offset = 0
    i = 0
    structure = sig[0] == DataType.STRUCTURE
    if structure:
        checks += [(0, sig[0]), (1, sig[1])]
        fmt.append("2x")
        offset = 2
        i = 2
    has_float32 = False
    while i < len(sig):
        tag = sig[i]
        checks.append((offset, tag))
        offset += 1
        fixed = _FIXED.get(tag)
        if fixed is not None:
            code, size, make = fixed
            fmt.append("x" + code)
            offset += size
            columns.append(make)
            has_float32 = has_float32 or tag == DataType.FLOAT32
            i += 1
        elif tag in _STRINGS:
            length = sig[i + 1]
            checks.append((offset, length))
            fmt.append(f"2x{length}s")
            offset += 1 + length
            columns.append(_STRINGS[tag])
            i += 2
        else:
            fmt.append("x")
            columns.append(_EMPTY[tag])
            i += 1
    compiled = struct.Struct("".join(fmt))
    return _Shape(
        unpack=compiled.iter_unpack,
        size=compiled.size,
        checks=tuple(checks),
        columns=tuple(columns),
        structure=structure,
        has_float32=has_float32,
    )


def decode_uniform_array(
    buf: Buffer, pos: int, count: int, end: int, *, structures: bool = True
) -> tuple[Array, int] | None:
    """Decode ``count`` same-shape elements at ``pos``, or ``None`` to use the general path.

    ``structures`` is false when rows that are structures would exceed the nesting limit.
    """
    if count < MIN_ROWS:
        return None
    sig = _signature(buf, pos, end)
    if sig is None:
        return None
    shape = _cache.get(sig)
    if shape is None:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        shape = _cache[sig] = _compile(sig)
    if shape.structure and not structures:
        return None
    size = shape.size
    stop = pos + size * count
    if stop > end:
        return None
    region = bytes(buf[pos:stop])
    for offset, octet in shape.checks:
        if region[offset::size] != bytes((octet,)) * count:
            return None
    rows = shape.unpack(region)
    try:
        if len(shape.columns) == 1:
            make = shape.columns[0]
            if callable(make):
                values: list[Data] = list(map(make, (row[0] for row in rows)))
            else:
                values = [make] * count
            if shape.structure:
                values = list(map(Structure, zip(values)))
        else:
            columns = iter(zip(*rows, strict=True))
            built: list[Iterable[Data]] = []
            for make in shape.columns:
                if callable(make):
                    built.append(map(make, next(columns)))
                else:
                    built.append(itertools.repeat(make, count))
            values = list(map(Structure, zip(*built, strict=True)))
        if shape.has_float32 and _any_nan(values):
            return None
    except (DecodeError, UnicodeDecodeError):
        return None
    return Array(values), stop


def _any_nan(values: list[Data]) -> bool:
    """True if a float32 in the rows is a NaN (its exact bits need the general path)."""
    for row in values:
        items = row if isinstance(row, tuple) else (row,)
        for item in items:
            if isinstance(item, Float32) and math.isnan(item):
                return True
    return False
