"""Bodies of the simple (non-container) A-XDR types: the octets after the tag.

Shared by the general codec and compact arrays, whose contents carry bodies without tags.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from functools import partial
from typing import Any

from dlmskit.axdr._datetime import Date, DateTime, Time
from dlmskit.axdr._length import encode_length, read_length
from dlmskit.axdr._types import (
    DONT_CARE,
    T_BIT_STRING,
    T_BOOLEAN,
    T_DATE,
    T_DATE_TIME,
    T_DONT_CARE,
    T_FLOAT32,
    T_NULL_DATA,
    T_OCTET_STRING,
    T_TIME,
    T_UTF8_STRING,
    T_VISIBLE_STRING,
    Bcd,
    BitString,
    Data,
    DataType,
    DontCare,
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
    Unsigned,
    Utf8String,
    VisibleString,
    float32_from_bytes,
    float32_to_bytes,
)
from dlmskit.errors import DecodeError, LocalProtocolError

__all__ = [
    "BYTE_BODIES",
    "Buffer",
    "FIXED_BODIES",
    "TYPE_NAMES",
    "decode_simple",
    "encode_simple",
    "truncated",
]

Buffer = bytes | bytearray | memoryview

_INT_TYPES = (
    DoubleLong,
    DoubleLongUnsigned,
    Long,
    LongUnsigned,
    Long64,
    Long64Unsigned,
    Integer,
    Unsigned,
    Enum,
    Bcd,
)

# Fixed-size bodies read with one struct call: tag -> (size, unpack_from, constructor).
FIXED_BODIES: dict[
    int, tuple[int, Callable[[Buffer, int], tuple[Any, ...]], Callable[[Any], Data]]
] = {}
for _cls in (DoubleLong, DoubleLongUnsigned, Long, LongUnsigned, Long64, Long64Unsigned):
    _st = struct.Struct(">" + _cls.FORMAT)
    FIXED_BODIES[_cls.TAG] = (_st.size, _st.unpack_from, partial(int.__new__, _cls))
_F64 = struct.Struct(">d")
FIXED_BODIES[DataType.FLOAT64] = (8, _F64.unpack_from, partial(float.__new__, Float64))


def _octet_table(make: Callable[[int], Data]) -> tuple[Data, ...]:
    return tuple(make(octet) for octet in range(256))


# One-octet bodies: tag -> the value of each octet, built once (boolean: non-zero is True).
BYTE_BODIES: dict[int, tuple[Data, ...]] = {
    DataType.UNSIGNED: _octet_table(Unsigned),
    DataType.ENUM: _octet_table(Enum),
    DataType.BCD: _octet_table(Bcd),
    DataType.INTEGER: _octet_table(lambda octet: Integer(octet - 256 if octet > 127 else octet)),
    DataType.BOOLEAN: _octet_table(bool),
}

TYPE_NAMES: dict[int, str] = {tag: tag.name.lower().replace("_", "-") for tag in DataType}

# Encoders of the fixed-width numbers: tag -> struct.pack
_PACK: dict[int, Callable[..., bytes]] = {
    cls.TAG: struct.Struct(">" + cls.FORMAT).pack for cls in _INT_TYPES
}
_PACK[DataType.FLOAT64] = _F64.pack


def truncated(kind: int, pos: int, need: int, have: int) -> DecodeError:
    """The error for a body of ``need`` octets at ``pos`` with only ``have`` left."""
    return DecodeError(
        f"truncated {TYPE_NAMES.get(kind, str(kind))}: {need} octets needed, {have} remain",
        offset=pos,
        expected=f"{need} octets",
    )


def _sized(buf: Buffer, pos: int, end: int, tag: int, size: int) -> bytes:
    if pos + size > end:
        raise truncated(tag, pos, size, end - pos)
    return bytes(buf[pos : pos + size])


def decode_simple(tag: int, buf: Buffer, pos: int, end: int) -> tuple[Data, int]:
    """Decode the body of non-container type ``tag`` at ``pos`` (the tag already read)."""
    fixed = FIXED_BODIES.get(tag)
    if fixed is not None:
        size, unpack, make = fixed
        if pos + size > end:
            raise truncated(tag, pos, size, end - pos)
        return make(unpack(buf, pos)[0]), pos + size
    table = BYTE_BODIES.get(tag)
    if table is not None:
        if pos >= end:
            raise truncated(tag, pos, 1, 0)
        return table[buf[pos]], pos + 1
    if tag in (T_OCTET_STRING, T_VISIBLE_STRING, T_UTF8_STRING):
        size, start = read_length(buf, pos, end, tag)
        stop = start + size
        if stop > end:
            raise truncated(tag, start, size, end - start)
        raw = buf[start:stop]
        if tag == T_OCTET_STRING:
            return bytes.__new__(OctetString, raw), stop
        if tag == T_VISIBLE_STRING:
            return str.__new__(VisibleString, str(raw, "latin-1")), stop
        try:
            return str.__new__(Utf8String, str(raw, "utf-8")), stop
        except UnicodeDecodeError as error:
            raise DecodeError(
                f"invalid UTF-8: {error.reason}", offset=start + error.start, expected="UTF-8"
            ) from None
    if tag == T_NULL_DATA:
        return None, pos
    if tag == T_DONT_CARE:
        return DONT_CARE, pos
    if tag == T_FLOAT32:
        raw4 = _sized(buf, pos, end, tag, 4)
        return float.__new__(Float32, float32_from_bytes(raw4)), pos + 4
    if tag == T_DATE_TIME:
        return DateTime.from_bytes(_sized(buf, pos, end, tag, 12), pos), pos + 12
    if tag == T_DATE:
        return Date.from_bytes(_sized(buf, pos, end, tag, 5), pos), pos + 5
    if tag == T_TIME:
        return Time.from_bytes(_sized(buf, pos, end, tag, 4), pos), pos + 4
    if tag == T_BIT_STRING:
        bits, start = read_length(buf, pos, end, tag)
        octets = (bits + 7) // 8
        if start + octets > end:
            raise truncated(tag, start, octets, end - start)
        return BitString(value=bytes(buf[start : start + octets]), length=bits), start + octets
    raise DecodeError(f"unknown data type tag 0x{tag:02X}", offset=pos - 1, expected="type tag")


def _coerce(tag: int, value: object) -> object:
    """Check ``value`` can be written as ``tag`` (used where the tag is not the value's own)."""
    cls = CLASS_OF_TAG.get(tag)
    if cls is None:
        return value
    if isinstance(value, cls):
        return value
    if tag == T_BOOLEAN:
        raise LocalProtocolError(f"boolean needs a bool, got {type(value).__name__}")
    if cls in _INT_TYPES and isinstance(value, int) and not isinstance(value, bool):
        return cls(value)
    if cls in (Float32, Float64) and isinstance(value, float):
        return cls(value)
    raise LocalProtocolError(
        f"{TYPE_NAMES.get(tag, str(tag))} cannot hold a {type(value).__name__}"
    )


CLASS_OF_TAG: dict[int, type] = {cls.TAG: cls for cls in _INT_TYPES}
CLASS_OF_TAG.update(
    {
        DataType.FLOAT32: Float32,
        DataType.FLOAT64: Float64,
        DataType.OCTET_STRING: bytes,
        DataType.VISIBLE_STRING: str,
        DataType.UTF8_STRING: str,
        DataType.BIT_STRING: BitString,
        DataType.DATE_TIME: DateTime,
        DataType.DATE: Date,
        DataType.TIME: Time,
        DataType.BOOLEAN: bool,
        DataType.DONT_CARE: DontCare,
        DataType.NULL_DATA: type(None),
    }
)


def encode_simple(out: bytearray, tag: int, value: object, *, check: bool = False) -> None:
    """Append the body of ``value`` as non-container type ``tag`` (no tag octet).

    With ``check`` the value is first checked (and plain numbers wrapped) for ``tag``.
    """
    if check:
        value = _coerce(tag, value)
    pack = _PACK.get(tag)
    if pack is not None:
        out += pack(value)
    elif tag == T_OCTET_STRING:
        raw = bytes(value)  # type: ignore[call-overload]
        out += encode_length(len(raw))
        out += raw
    elif tag == T_VISIBLE_STRING:
        try:
            raw = str(value).encode("latin-1")
        except UnicodeEncodeError:
            raise LocalProtocolError(
                "visible-string holds one octet a character (U+0000..U+00FF)"
            ) from None
        out += encode_length(len(raw))
        out += raw
    elif tag == T_UTF8_STRING:
        try:
            raw = str(value).encode("utf-8")
        except UnicodeEncodeError:
            raise LocalProtocolError("utf8-string holds text that is not valid Unicode") from None
        out += encode_length(len(raw))
        out += raw
    elif tag == T_BOOLEAN:
        out.append(1 if value else 0)
    elif tag == T_FLOAT32:
        out += float32_to_bytes(value)  # type: ignore[arg-type]
    elif tag in (T_DATE_TIME, T_DATE, T_TIME):
        out += value.to_bytes()  # type: ignore[attr-defined]
    elif tag == T_BIT_STRING:
        assert isinstance(value, BitString)
        out += encode_length(value.length)
        out += value.value
    elif tag in (T_NULL_DATA, T_DONT_CARE):
        return
    else:
        raise LocalProtocolError(f"not a simple data type: {tag}")
