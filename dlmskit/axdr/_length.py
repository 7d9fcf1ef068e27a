"""A-XDR length (and element count) fields.

A length below 0x80 is one octet. Otherwise the first octet is 0x80 + n and the next n
octets carry the length big-endian. ``encode_length`` writes 0x81 nn, 0x82 nnnn or
0x84 nnnnnnnn (as Gurux and most meters do; 0x83 is never written).

``decode_length`` also reads 0x83 nnnnnn and non-minimal forms such as 0x81 05: they are
well formed, so they are accepted, but they are not canonical: encoding the decoded value
writes the minimal form above. 0x80 (indefinite) and 0x85 and up are a ``DecodeError``.
"""

from __future__ import annotations

from dlmskit.axdr._types import DataType
from dlmskit.errors import DecodeError, LocalProtocolError

__all__ = ["MAX_LENGTH", "decode_length", "encode_length", "read_length"]

MAX_LENGTH = 0xFFFF_FFFF

_Buffer = bytes | bytearray | memoryview


def encode_length(n: int) -> bytes:
    """The length field for ``n`` (0 <= n < 2**32)."""
    if n < 0x80:
        if n < 0:
            raise LocalProtocolError(f"length {n} is negative")
        return bytes((n,))
    if n <= 0xFF:
        return bytes((0x81, n))
    if n <= 0xFFFF:
        return bytes((0x82, n >> 8, n & 0xFF))
    if n <= MAX_LENGTH:
        return b"\x84" + n.to_bytes(4, "big")
    raise LocalProtocolError(f"length {n} does not fit in 32 bits")


def read_length(data: _Buffer, pos: int, end: int, kind: int = -1) -> tuple[int, int]:
    """Read a length field at ``pos`` that must end by ``end``: ``(length, offset after)``.

    ``kind`` (a type tag) only names what the length belongs to in a ``DecodeError``.
    """
    if pos >= end:
        raise DecodeError(f"truncated {_name(kind)}", offset=pos, expected="length")
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    size = first - 0x80
    if not 1 <= size <= 4:
        raise DecodeError(
            f"invalid length form 0x{first:02X}", offset=pos, expected="0x00..0x84 length octet"
        )
    stop = pos + 1 + size
    if stop > end:
        raise DecodeError(
            f"truncated length of {_name(kind)}", offset=pos, expected=f"{size} length octets"
        )
    return int.from_bytes(data[pos + 1 : stop], "big"), stop


def decode_length(data: _Buffer, offset: int) -> tuple[int, int]:
    """Read a length field at ``offset``: ``(length, offset after the field)``.

    Only the field is checked; callers check the length against what remains.
    """
    if offset < 0:
        raise DecodeError("negative offset", offset=offset, expected="length")
    return read_length(data, offset, len(data))


def _name(kind: int) -> str:
    try:
        return DataType(kind).name.lower().replace("_", "-")
    except ValueError:
        return "data"
