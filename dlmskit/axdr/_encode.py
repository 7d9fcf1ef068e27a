"""A-XDR encoding of ``Data`` values (and of the plain Python values that are unambiguous).

Typed values write their own tag. Plain values map as: ``None`` null-data, ``bool``
boolean, ``bytes`` octet-string, ``str`` visible-string (utf8-string if not ASCII),
``float`` float64, ``list`` array, ``tuple`` structure. A plain ``int`` could be any of
ten types, so it is refused. Containers are walked with an explicit stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dlmskit.axdr._compact import encode_compact_array
from dlmskit.axdr._datetime import Date, DateTime, Time
from dlmskit.axdr._fastencode import MIN_ROWS, encode_uniform_array
from dlmskit.axdr._length import encode_length
from dlmskit.axdr._scalar import encode_simple
from dlmskit.axdr._types import (
    T_ARRAY,
    T_COMPACT_ARRAY,
    T_STRUCTURE,
    Array,
    Bcd,
    BitString,
    CompactArray,
    DataType,
    DontCare,
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
    Unsigned,
    Utf8String,
    VisibleString,
)
from dlmskit.errors import LocalProtocolError

__all__ = ["MAX_ENCODE_DEPTH", "data_type_of", "encode", "encode_into"]

MAX_ENCODE_DEPTH = 4096
"""Deepest nesting ``encode`` writes (a list that contains itself stops here)."""

_TAG_OF: dict[type, DataType] = {
    cls: cls.TAG
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
        Float32,
        Float64,
        OctetString,
        VisibleString,
        Utf8String,
        BitString,
        CompactArray,
    )
}
_TAG_OF.update(
    {
        type(None): DataType.NULL_DATA,
        bool: DataType.BOOLEAN,
        DontCare: DataType.DONT_CARE,
        bytes: DataType.OCTET_STRING,
        bytearray: DataType.OCTET_STRING,
        float: DataType.FLOAT64,
        DateTime: DataType.DATE_TIME,
        Date: DataType.DATE,
        Time: DataType.TIME,
        Array: DataType.ARRAY,
        list: DataType.ARRAY,
        Structure: DataType.STRUCTURE,
        tuple: DataType.STRUCTURE,
    }
)
# Checked in order for subclasses of the types above.
_BASES: tuple[tuple[type, DataType], ...] = (
    (bool, DataType.BOOLEAN),
    *((cls, tag) for cls, tag in _TAG_OF.items() if cls not in (bool, float, bytes, list, tuple)),
    (bytes, DataType.OCTET_STRING),
    (float, DataType.FLOAT64),
    (list, DataType.ARRAY),
    (tuple, DataType.STRUCTURE),
)


def data_type_of(value: object) -> DataType:
    """The tag ``value`` encodes with; ``LocalProtocolError`` if it has none."""
    tag = _TAG_OF.get(type(value))
    if tag is not None:
        return tag
    if type(value) is str:
        return DataType.VISIBLE_STRING if value.isascii() else DataType.UTF8_STRING
    for base, base_tag in _BASES:
        if isinstance(value, base):
            return base_tag
    if isinstance(value, str):
        return DataType.VISIBLE_STRING if value.isascii() else DataType.UTF8_STRING
    if isinstance(value, int):
        number = int(value)
        raise LocalProtocolError(
            f"a plain int ({number}) is ambiguous in A-XDR: wrap it, e.g. Unsigned({number}), "
            f"LongUnsigned({number}) or DoubleLongUnsigned({number})"
        )
    raise LocalProtocolError(f"cannot encode a {type(value).__name__} as A-XDR Data")


def encode_into(out: bytearray, value: Encodable) -> None:
    """Append the encoding of ``value`` to ``out`` (left as it was if ``value`` is refused)."""
    start = len(out)
    try:
        _encode_into(out, value)
    except BaseException:
        del out[start:]
        raise


def _encode_into(out: bytearray, value: Encodable) -> None:
    stack: list[Iterator[Any]] = []
    item: Any = value
    while True:
        tag = _TAG_OF.get(type(item))
        if tag is None:
            tag = data_type_of(item)
        if tag in (T_ARRAY, T_STRUCTURE):
            # Same-shape arrays are written whole by the fast path, if it takes them.
            if not (tag == T_ARRAY and len(item) >= MIN_ROWS and encode_uniform_array(out, item)):
                out.append(tag)
                out += encode_length(len(item))
                if item:
                    if len(stack) >= MAX_ENCODE_DEPTH:
                        raise LocalProtocolError(f"data nested deeper than {MAX_ENCODE_DEPTH}")
                    stack.append(iter(item))
        elif tag == T_COMPACT_ARRAY:
            out.append(tag)
            encode_compact_array(out, item)
        else:
            out.append(tag)
            encode_simple(out, tag, item)
        while stack:
            item = next(stack[-1], _END)
            if item is not _END:
                break
            stack.pop()
        else:
            return


_END = object()


def encode(value: Encodable) -> bytes:
    """The A-XDR encoding of ``value``."""
    out = bytearray()
    encode_into(out, value)
    return bytes(out)
