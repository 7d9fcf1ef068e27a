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
import operator
import struct
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import attrs

from dlmskit.axdr._datetime import Date, DateTime, Time
from dlmskit.axdr._scalar import BYTE_BODIES, Buffer
from dlmskit.axdr._types import (
    DONT_CARE,
    SMALL_VALUES,
    Array,
    Data,
    DataType,
    DoubleLong,
    DoubleLongUnsigned,
    Float32,
    Float64,
    Long,
    Long64,
    Long64Unsigned,
    LongUnsigned,
    OctetString,
    Structure,
    Utf8String,
    VisibleString,
    _FixedInt,
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


# A column builder turns the unpacked values of one member (one per row) into values.
_Column = Callable[[Sequence[Any], int], Iterable[Data]]


def _table(tag: int) -> _Column:
    # Every one-octet value exists once (see BYTE_BODIES); struct's signed "b" gives a
    # negative index, which reads the upper half of the integer table: the same value.
    # itemgetter(*column) looks the whole column up in one C call (a tuple: arrays here
    # have at least MIN_ROWS values, so never a single item).
    table = BYTE_BODIES[tag]
    return lambda column, count: cast(Iterable[Data], operator.itemgetter(*column)(table))


def _construct(cls: type[int] | type[float]) -> _Column:
    # starmap(int.__new__, (cls, v) ...) builds the subclass in C, skipping the range check
    # (struct already bounded the value) and the Python-level __new__; it is faster than
    # map() with two iterables.
    new = int.__new__ if issubclass(cls, int) else float.__new__
    return lambda column, count: itertools.starmap(
        new,
        zip(itertools.repeat(cls, count), column, strict=True),
    )


def _integers(cls: type[_FixedInt]) -> _Column:
    # a column of small values takes the shared ones (cls.small()), the others are built.
    # itemgetter(*column) looks them all up in one C call (a tuple; arrays here have at
    # least MIN_ROWS values, so never a single item); an unsigned column (struct gives no
    # negative value) just tries it, a value past the shared ones raising IndexError
    shared = cls.small()
    limit = min(SMALL_VALUES, cls.MAX + 1)
    unsigned = cls.MIN >= 0

    def build(column: Sequence[Any], count: int) -> Iterable[Data]:
        if count > 1:
            if unsigned:
                try:
                    return cast(Iterable[Data], operator.itemgetter(*column)(shared))
                except IndexError:
                    pass
            elif min(column) >= 0 and max(column) < limit:
                return cast(Iterable[Data], operator.itemgetter(*column)(shared))
        return itertools.starmap(
            int.__new__, zip(itertools.repeat(cls, count), column, strict=True)
        )

    return build


def _each(make: Callable[[Any], Data]) -> _Column:
    return lambda column, count: map(make, column)


def _as_is(column: Sequence[Any], count: int) -> Iterable[Data]:
    return column


# tag -> (struct code, body size, column builder)
_FIXED: dict[int, tuple[str, int, _Column]] = {
    DataType.BOOLEAN: ("?", 1, _as_is),
    DataType.INTEGER: ("b", 1, _table(DataType.INTEGER)),
    DataType.UNSIGNED: ("B", 1, _table(DataType.UNSIGNED)),
    DataType.ENUM: ("B", 1, _table(DataType.ENUM)),
    DataType.BCD: ("B", 1, _table(DataType.BCD)),
    DataType.LONG: ("h", 2, _integers(Long)),
    DataType.LONG_UNSIGNED: ("H", 2, _integers(LongUnsigned)),
    DataType.DOUBLE_LONG: ("i", 4, _integers(DoubleLong)),
    DataType.DOUBLE_LONG_UNSIGNED: ("I", 4, _integers(DoubleLongUnsigned)),
    DataType.LONG64: ("q", 8, _integers(Long64)),
    DataType.LONG64_UNSIGNED: ("Q", 8, _integers(Long64Unsigned)),
    DataType.FLOAT32: ("f", 4, _construct(Float32)),
    DataType.FLOAT64: ("d", 8, _construct(Float64)),
    DataType.DATE_TIME: ("12s", 12, _each(DateTime.from_bytes)),
    DataType.DATE: ("5s", 5, _each(Date.from_bytes)),
    DataType.TIME: ("4s", 4, _each(Time.from_bytes)),
}
_STRINGS: dict[int, _Column] = {
    DataType.OCTET_STRING: _each(OctetString),
    DataType.VISIBLE_STRING: _each(_visible),
    DataType.UTF8_STRING: _each(_utf8),
}
_EMPTY: dict[int, Data] = {DataType.NULL_DATA: None, DataType.DONT_CARE: DONT_CARE}

# An array of up to this many values (rows x members) is read with one struct for the
# whole array, cached per shape and row count; bigger ones row by row with iter_unpack.
# Both limits bound the memory the cache can hold, whatever the input.
_WHOLE_ARRAY_VALUES = 4096
_WHOLE_ARRAY_CACHE = 32


@attrs.frozen
class _Shape:
    """How to read rows of one signature."""

    row_format: str
    size: int
    checks: tuple[tuple[int, int], ...]  # (offset in row, expected octet)
    columns: tuple[_Column, ...]  # one per member that carries a value
    empties: tuple[tuple[int, Data], ...]  # (member index, constant) for null-data etc.
    structure: bool
    has_float32: bool


_shapes: dict[bytes, _Shape] = {}
_whole: dict[tuple[bytes, int], Callable[[Buffer], tuple[Any, ...]]] = {}


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
    fmt: list[str] = []
    checks: list[tuple[int, int]] = []
    columns: list[_Column] = []
    empties: list[tuple[int, Data]] = []
    offset = 0
    i = 0
    structure = sig[0] == DataType.STRUCTURE
    if structure:
        checks += [(0, sig[0]), (1, sig[1])]
        fmt.append("2x")
        offset = 2
        i = 2
    has_float32 = False
    member = 0
    while i < len(sig):
        tag = sig[i]
        checks.append((offset, tag))
        offset += 1
        fixed = _FIXED.get(tag)
        if fixed is not None:
            code, size, column = fixed
            fmt.append("x" + code)
            offset += size
            columns.append(column)
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
            empties.append((member, _EMPTY[tag]))
            i += 1
        member += 1
    row_format = "".join(fmt)
    return _Shape(
        row_format=row_format,
        size=struct.calcsize(">" + row_format),
        checks=tuple(checks),
        columns=tuple(columns),
        empties=tuple(empties),
        structure=structure,
        has_float32=has_float32,
    )


def _unpack_columns(shape: _Shape, sig: bytes, region: bytes, count: int) -> list[Sequence[Any]]:
    """The unpacked values, one sequence per value-carrying member."""
    width = len(shape.columns)
    if count * max(width, 1) <= _WHOLE_ARRAY_VALUES:
        unpack = _whole.get((sig, count))
        if unpack is None:
            if len(_whole) >= _WHOLE_ARRAY_CACHE:
                _whole.clear()
            unpack = _whole[sig, count] = struct.Struct(">" + shape.row_format * count).unpack
        flat = unpack(region)
        return [flat[i::width] for i in range(width)]
    rows = struct.Struct(">" + shape.row_format).iter_unpack(region)
    return list(zip(*rows, strict=True)) if width else []


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
    shape = _shapes.get(sig)
    if shape is None:
        if len(_shapes) >= _CACHE_LIMIT:
            _shapes.clear()
        shape = _shapes[sig] = _compile(sig)
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
    raw_columns = _unpack_columns(shape, sig, region, count)
    try:
        built = [
            column(values, count) for column, values in zip(shape.columns, raw_columns, strict=True)
        ]
        for member, constant in shape.empties:
            built.insert(member, itertools.repeat(constant, count))
        if shape.structure:
            values: list[Data] = list(map(Structure, zip(*built, strict=True)))
        else:
            values = list(built[0])
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
