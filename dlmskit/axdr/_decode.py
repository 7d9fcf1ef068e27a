"""A-XDR decoding (IEC 62056-6-2 Data, encoded per IEC 61334-6 A-XDR).

The decoder is iterative: arrays and structures are kept on an explicit stack whose
height is limited by ``max_depth``, so hostile nesting gives a ``DecodeError`` and never a
``RecursionError``. Every length and count is checked against the octets that remain
before anything is built, so a length field claiming 2**32 octets costs nothing.
"""

from __future__ import annotations

from dlmskit.axdr._compact import decode_compact_array
from dlmskit.axdr._fastpath import MIN_ROWS, decode_uniform_array
from dlmskit.axdr._length import read_length
from dlmskit.axdr._scalar import (
    BYTE_BODIES,
    FIXED_BODIES,
    Buffer,
    decode_simple,
    truncated,
)
from dlmskit.axdr._types import T_COMPACT_ARRAY, Array, Data, OctetString, Structure
from dlmskit.errors import DecodeError

__all__ = ["DEFAULT_MAX_DEPTH", "decode", "decode_from"]

DEFAULT_MAX_DEPTH = 64


def decode_from(
    data: Buffer, offset: int = 0, *, max_depth: int = DEFAULT_MAX_DEPTH
) -> tuple[Data, int]:
    """Decode one ``Data`` starting at ``offset``: ``(value, offset after it)``.

    ``max_depth`` limits the nesting of arrays, structures and compact-array descriptions.
    """
    buf: Buffer = data
    if isinstance(data, memoryview) and data.format != "B":
        buf = data.cast("B")
    end = len(buf)
    if offset < 0 or offset > end:
        raise DecodeError("offset outside the data", offset=offset, expected="Data")
    pos = offset
    # The innermost open array/structure: its elements so far, how many it still needs
    # and its class; ``items is None`` means no container is open (top level).
    items: list[Data] | None = None
    remaining = 0
    kind: type[Array] | type[Structure] = Array
    parents: list[tuple[list[Data] | None, int, type[Array] | type[Structure]]] = []
    fixed_table = FIXED_BODIES
    byte_table = BYTE_BODIES
    while True:
        if pos >= end:
            raise DecodeError("truncated", offset=pos, expected="type tag")
        tag = buf[pos]
        pos += 1
        value: Data
        if tag == 2 or tag == 1:
            if len(parents) >= max_depth:
                raise DecodeError(
                    f"nesting deeper than {max_depth}", offset=pos - 1, expected="shallower data"
                )
            if pos < end and buf[pos] < 0x80:
                count = buf[pos]
                pos += 1
            else:
                count, pos = read_length(buf, pos, end, tag)
            if count > end - pos:
                raise DecodeError(
                    f"{count} elements cannot fit in {end - pos} octets",
                    offset=pos,
                    expected="element count within the data",
                )
            if count == 0:
                value = Array() if tag == 1 else Structure()
            else:
                fast = (
                    decode_uniform_array(
                        buf, pos, count, end, structures=len(parents) + 1 < max_depth
                    )
                    if tag == 1 and count >= MIN_ROWS
                    else None
                )
                if fast is None:
                    parents.append((items, remaining, kind))
                    items = []
                    remaining = count
                    kind = Array if tag == 1 else Structure
                    continue
                value, pos = fast
        else:
            table = byte_table.get(tag)
            if table is not None:
                if pos >= end:
                    raise truncated(tag, pos, 1, 0)
                value = table[buf[pos]]
                pos += 1
            else:
                fixed = fixed_table.get(tag)
                if fixed is not None:
                    size, unpack, make = fixed
                    if pos + size > end:
                        raise truncated(tag, pos, size, end - pos)
                    value = make(unpack(buf, pos)[0])
                    pos += size
                elif tag == 0:
                    value = None
                elif tag == 9:
                    if pos < end and buf[pos] < 0x80:
                        size = buf[pos]
                        pos += 1
                    else:
                        size, pos = read_length(buf, pos, end, tag)
                    if pos + size > end:
                        raise truncated(tag, pos, size, end - pos)
                    value = OctetString(buf[pos : pos + size])
                    pos += size
                elif tag == T_COMPACT_ARRAY:
                    value, pos = decode_compact_array(buf, pos, end, max_depth - len(parents))
                else:
                    value, pos = decode_simple(tag, buf, pos, end)
        # Hand the finished value to the open containers, closing those now full.
        while True:
            if items is None:
                return value, pos
            items.append(value)
            remaining -= 1
            if remaining:
                break
            value = kind(items)
            items, remaining, kind = parents.pop()


def decode(data: Buffer, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Data:
    """Decode ``data``, which must hold exactly one ``Data``."""
    if isinstance(data, memoryview) and data.format != "B":
        data = data.cast("B")
    value, stop = decode_from(data, 0, max_depth=max_depth)
    if stop != len(data):
        raise DecodeError(
            f"{len(data) - stop} octets after the value", offset=stop, expected="end of data"
        )
    return value
