"""compact-array (IEC 62056-6-2): a TypeDescription once, then the element bodies packed.

Encoding: ``contents-description TypeDescription`` then ``array-contents`` as an octet
string holding the elements' bodies without tags. A TypeDescription is a tag octet;
an array adds its element count (Unsigned16) and one element description; a structure
adds its member count (A-XDR length) and the member descriptions.
"""

from __future__ import annotations

from dlmskit.axdr._length import encode_length, read_length
from dlmskit.axdr._scalar import Buffer, decode_simple, encode_simple, truncated
from dlmskit.axdr._types import (
    Array,
    CompactArray,
    Data,
    DataType,
    Structure,
    TypeDescription,
)
from dlmskit.errors import DecodeError, LocalProtocolError

__all__ = ["decode_compact_array", "encode_compact_array", "encode_type_description"]

# Deepest TypeDescription accepted, whatever max_depth allows (keeps recursion shallow).
_MAX_DESCRIPTION_DEPTH = 32

_FIXED_SIZE = {
    DataType.NULL_DATA: 0,
    DataType.DONT_CARE: 0,
    DataType.BOOLEAN: 1,
    DataType.INTEGER: 1,
    DataType.UNSIGNED: 1,
    DataType.ENUM: 1,
    DataType.BCD: 1,
    DataType.LONG: 2,
    DataType.LONG_UNSIGNED: 2,
    DataType.DOUBLE_LONG: 4,
    DataType.DOUBLE_LONG_UNSIGNED: 4,
    DataType.FLOAT32: 4,
    DataType.TIME: 4,
    DataType.DATE: 5,
    DataType.LONG64: 8,
    DataType.LONG64_UNSIGNED: 8,
    DataType.FLOAT64: 8,
    DataType.DATE_TIME: 12,
}
_VALID_SIMPLE = frozenset(DataType) - {DataType.ARRAY, DataType.STRUCTURE, DataType.COMPACT_ARRAY}


def _decode_description(buf: Buffer, pos: int, end: int, depth: int) -> tuple[TypeDescription, int]:
    if depth <= 0:
        raise DecodeError("type description nested too deeply", offset=pos, expected="simpler type")
    if pos >= end:
        raise DecodeError("truncated type description", offset=pos, expected="type tag")
    tag = buf[pos]
    pos += 1
    if tag == DataType.ARRAY:
        if pos + 2 > end:
            raise truncated(tag, pos, 2, end - pos)
        count = (buf[pos] << 8) | buf[pos + 1]
        element, pos = _decode_description(buf, pos + 2, end, depth - 1)
        return TypeDescription(type=DataType.ARRAY, count=count, element=element), pos
    if tag == DataType.STRUCTURE:
        count, pos = read_length(buf, pos, end, tag)
        if count > end - pos:
            raise DecodeError(
                f"{count} member descriptions cannot fit in {end - pos} octets",
                offset=pos,
                expected="member count within the data",
            )
        members = []
        for _ in range(count):
            member, pos = _decode_description(buf, pos, end, depth - 1)
            members.append(member)
        return TypeDescription(type=DataType.STRUCTURE, elements=tuple(members)), pos
    if tag not in _VALID_SIMPLE:
        raise DecodeError(
            f"type 0x{tag:02X} not allowed in a type description",
            offset=pos - 1,
            expected="type tag",
        )
    return TypeDescription(type=DataType(tag)), pos


def _measure(desc: TypeDescription) -> tuple[int, int]:
    """(smallest body size in octets, number of values) of one element of ``desc``."""
    if desc.type is DataType.ARRAY:
        assert desc.element is not None
        size, nodes = _measure(desc.element)
        return size * desc.count, nodes * desc.count + 1
    if desc.type is DataType.STRUCTURE:
        size = 0
        nodes = 1
        for member in desc.elements:
            member_size, member_nodes = _measure(member)
            size += member_size
            nodes += member_nodes
        return size, nodes
    # Variable-size bodies take at least their length octet.
    return _FIXED_SIZE.get(desc.type, 1), 1


def _reasonable(min_size: int, nodes: int) -> bool:
    """False when a description makes a few octets stand for very many values.

    Arrays of null-data (or of empty arrays) cost no octets; without this bound a
    ten-octet description could ask for billions of values.
    """
    return nodes <= 2 * min_size + 64


def _decode_body(desc: TypeDescription, buf: Buffer, pos: int, end: int) -> tuple[Data, int]:
    if desc.type is DataType.STRUCTURE:
        items: list[Data] = []
        for member in desc.elements:
            value, pos = _decode_body(member, buf, pos, end)
            items.append(value)
        return Structure(items), pos
    if desc.type is DataType.ARRAY:
        assert desc.element is not None
        items = []
        for _ in range(desc.count):
            value, pos = _decode_body(desc.element, buf, pos, end)
            items.append(value)
        return Array(items), pos
    return decode_simple(desc.type, buf, pos, end)


def decode_compact_array(
    buf: Buffer, pos: int, end: int, max_depth: int
) -> tuple[CompactArray, int]:
    """Decode a compact-array body at ``pos`` (after its tag)."""
    desc, pos = _decode_description(buf, pos, end, min(max_depth, _MAX_DESCRIPTION_DEPTH))
    size, start = read_length(buf, pos, end, DataType.COMPACT_ARRAY)
    stop = start + size
    if stop > end:
        raise truncated(DataType.COMPACT_ARRAY, start, size, end - start)
    min_size, nodes = _measure(desc)
    if min_size == 0:
        if size:
            raise DecodeError(
                "compact-array of zero-size elements with non-empty contents",
                offset=start,
                expected="empty contents",
            )
        return CompactArray(type_description=desc, values=()), stop
    if size and min_size > size:
        # checked before walking the description: a member of zero-size values ahead of
        # the sized ones would otherwise be expanded in full before the contents run out
        raise DecodeError(
            f"one element needs at least {min_size} octets, the contents hold {size}",
            offset=start,
            expected="contents of whole elements",
        )
    if not _reasonable(min_size, nodes):
        raise DecodeError(
            "type description expands to too many values for its size",
            offset=pos,
            expected="a description of mostly non-empty values",
        )
    values: list[Data] = []
    cursor = start
    while cursor < stop:
        value, cursor = _decode_body(desc, buf, cursor, stop)
        values.append(value)
    return CompactArray(type_description=desc, values=tuple(values)), stop


def encode_type_description(out: bytearray, desc: TypeDescription) -> None:
    """Append the encoding of a TypeDescription."""
    out.append(desc.type)
    if desc.type is DataType.ARRAY:
        assert desc.element is not None
        out += desc.count.to_bytes(2, "big")
        encode_type_description(out, desc.element)
    elif desc.type is DataType.STRUCTURE:
        out += encode_length(len(desc.elements))
        for member in desc.elements:
            encode_type_description(out, member)


def _encode_body(out: bytearray, desc: TypeDescription, value: object) -> None:
    if desc.type is DataType.STRUCTURE or desc.type is DataType.ARRAY:
        if not isinstance(value, tuple | list):
            raise LocalProtocolError(
                f"compact-array element should be a {desc.type.name.lower()}, "
                f"got {type(value).__name__}"
            )
        if desc.type is DataType.STRUCTURE:
            if len(value) != len(desc.elements):
                raise LocalProtocolError(
                    f"structure of {len(desc.elements)} members described, got {len(value)}"
                )
            for member, item in zip(desc.elements, value, strict=True):
                _encode_body(out, member, item)
        else:
            assert desc.element is not None
            if len(value) != desc.count:
                raise LocalProtocolError(
                    f"array of {desc.count} elements described, got {len(value)}"
                )
            for item in value:
                _encode_body(out, desc.element, item)
        return
    encode_simple(out, desc.type, value, check=True)


def encode_compact_array(out: bytearray, value: CompactArray) -> None:
    """Append a compact-array body (after its tag)."""
    encode_type_description(out, value.type_description)
    if value.values:
        min_size, nodes = _measure(value.type_description)
        if min_size == 0:
            raise LocalProtocolError("a compact-array of zero-size elements cannot carry values")
        if not _reasonable(min_size, nodes):
            raise LocalProtocolError("type description expands to too many values for its size")
    contents = bytearray()
    for item in value.values:
        _encode_body(contents, value.type_description, item)
    out += encode_length(len(contents))
    out += contents
