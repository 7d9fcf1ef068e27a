"""BER tag/length/value encoding for the ACSE APDUs (ITU-T X.690, definite lengths only).

DLMS/COSEM uses BER only for the association control APDUs (AARQ, AARE, RLRQ, RLRE);
everything else is A-XDR. Only what those APDUs need is here: identifiers, definite
lengths (short and long form), INTEGER, OBJECT IDENTIFIER and BIT STRING contents.
Every reader checks each length against the bytes that remain before it slices, and
raises :class:`~dlmskit.errors.DecodeError` with the offset of the fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Final, NamedTuple, Self

import attrs

from dlmskit.errors import DecodeError, LocalProtocolError

__all__ = [
    "CLASS_APPLICATION",
    "CLASS_CONTEXT",
    "CLASS_UNIVERSAL",
    "TAG_BIT_STRING",
    "TAG_INTEGER",
    "TAG_OBJECT_IDENTIFIER",
    "TAG_OCTET_STRING",
    "BerBitString",
    "Tlv",
    "decode_integer",
    "decode_oid",
    "encode_integer",
    "encode_length",
    "encode_oid",
    "encode_explicit",
    "encode_tlv",
    "expect_form",
    "explicit_inner",
    "explicit_integer",
    "explicit_octets",
    "implicit_bits",
    "iter_tlvs",
    "read_sequence",
    "read_tlv",
]

CLASS_UNIVERSAL: Final = 0x00
CLASS_APPLICATION: Final = 0x40
CLASS_CONTEXT: Final = 0x80
_CONSTRUCTED: Final = 0x20

TAG_INTEGER: Final = 0x02
TAG_BIT_STRING: Final = 0x03
TAG_OCTET_STRING: Final = 0x04
TAG_OBJECT_IDENTIFIER: Final = 0x06

# Long-form lengths of more than four octets never occur in DLMS (an APDU is far below
# 4 GiB); refusing them keeps every length a small, checked integer.
_MAX_LENGTH_OCTETS: Final = 4
# Identifiers with more than four subsequent octets would name tag numbers above 2**28.
_MAX_TAG_OCTETS: Final = 4

Buffer = bytes | bytearray | memoryview


class Tlv(NamedTuple):
    """One BER element located in a buffer: identifier fields and content bounds.

    ``start`` is the offset of the identifier octet, ``value_start``/``end`` bound the
    contents octets. A named tuple: readers make one per element, and an ACSE APDU has
    a dozen of them.
    """

    tag_class: int
    constructed: bool
    number: int
    start: int
    value_start: int
    end: int

    def is_(self, tag_class: int, number: int, *, constructed: bool) -> bool:
        """True when this element has exactly this class, number and form."""
        return (
            self.tag_class == tag_class
            and self.number == number
            and self.constructed == constructed
        )


# the named tuple's own __new__ is a Python function; tuple's builds the same in C
_new_tlv: Final = tuple.__new__


def read_tlv(data: Buffer, offset: int, end: int) -> Tlv:
    """Read the identifier and definite length at ``offset``; the contents must end by ``end``."""
    if offset + 1 < end:
        # the usual element: one identifier octet (tag number below 31), short length
        first = data[offset]
        length = data[offset + 1]
        if length < 0x80 and first & 0x1F != 0x1F:
            pos = offset + 2
            if length > end - pos:
                raise DecodeError(
                    f"BER length {length} runs past the end",
                    offset=offset + 1,
                    expected=f"at most {end - pos} content octets",
                )
            return _new_tlv(
                Tlv,
                (first & 0xC0, bool(first & _CONSTRUCTED), first & 0x1F, offset, pos, pos + length),
            )
    if offset >= end:
        raise DecodeError("BER element missing", offset=offset, expected="identifier octet")
    first = data[offset]
    tag_class = first & 0xC0
    constructed = bool(first & _CONSTRUCTED)
    number = first & 0x1F
    pos = offset + 1
    if number == 0x1F:
        number = 0
        for count in range(_MAX_TAG_OCTETS + 1):
            if pos >= end:
                raise DecodeError(
                    "BER identifier truncated", offset=pos, expected="tag number octet"
                )
            octet = data[pos]
            if count == 0 and octet == 0x80:
                raise DecodeError(
                    "BER tag number has a leading zero octet",
                    offset=pos,
                    expected="minimal tag number",
                )
            number = (number << 7) | (octet & 0x7F)
            pos += 1
            if not octet & 0x80:
                break
        else:
            raise DecodeError("BER tag number too long", offset=offset, expected="short tag")
    length, pos = _read_length(data, pos, end)
    return Tlv(tag_class, constructed, number, offset, pos, pos + length)


def _read_length(data: Buffer, offset: int, end: int) -> tuple[int, int]:
    if offset >= end:
        raise DecodeError("BER length missing", offset=offset, expected="length octet")
    first = data[offset]
    pos = offset + 1
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise DecodeError(
            "BER indefinite length is not used in DLMS", offset=offset, expected="definite length"
        )
    else:
        count = first & 0x7F
        if count > _MAX_LENGTH_OCTETS:
            raise DecodeError(
                f"BER length of {count} octets", offset=offset, expected="at most 4 length octets"
            )
        if pos + count > end:
            raise DecodeError("BER length truncated", offset=pos, expected=f"{count} octets")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if length > end - pos:
        raise DecodeError(
            f"BER length {length} runs past the end",
            offset=offset,
            expected=f"at most {end - pos} content octets",
        )
    return length, pos


def iter_tlvs(data: Buffer, start: int, end: int) -> Iterator[Tlv]:
    """Yield the consecutive BER elements filling ``data[start:end]`` exactly."""
    pos = start
    while pos < end:
        tlv = read_tlv(data, pos, end)
        yield tlv
        pos = tlv.end


def encode_length(length: int) -> bytes:
    """Definite length, short form below 128, else the shortest long form."""
    if length < 0:
        raise LocalProtocolError(f"negative BER length {length}")
    if length < 0x80:
        return bytes((length,))
    size = (length.bit_length() + 7) // 8
    if size > _MAX_LENGTH_OCTETS:
        raise LocalProtocolError(f"BER length {length} needs more than 4 octets")
    return bytes((0x80 | size,)) + length.to_bytes(size, "big")


def encode_tlv(identifier: int, value: bytes) -> bytes:
    """Identifier octet (class | form | number, number < 31), definite length, contents."""
    size = len(value)
    if size < 0x80:
        return bytes((identifier, size)) + value
    return bytes((identifier,)) + encode_length(size) + value


def encode_integer(value: int) -> bytes:
    """Contents octets of a BER INTEGER: minimal two's complement."""
    size = (value + (value < 0)).bit_length() // 8 + 1
    return value.to_bytes(size, "big", signed=True)


def decode_integer(data: Buffer, start: int, end: int) -> int:
    """INTEGER contents in ``data[start:end]``; empty or non-minimal forms are rejected."""
    if start >= end:
        raise DecodeError("empty BER INTEGER", offset=start, expected="at least one octet")
    if end - start > 8:
        raise DecodeError(
            "BER INTEGER too long", offset=start, expected="at most 8 octets for a DLMS value"
        )
    if end - start > 1:
        head = data[start]
        nxt = data[start + 1] & 0x80
        if (head == 0x00 and not nxt) or (head == 0xFF and nxt):
            raise DecodeError(
                "BER INTEGER is not minimal", offset=start, expected="minimal two's complement"
            )
    return int.from_bytes(data[start:end], "big", signed=True)


def encode_oid(arcs: Iterable[int]) -> bytes:
    """Contents octets of an OBJECT IDENTIFIER."""
    items = tuple(arcs)
    if len(items) < 2 or items[0] not in (0, 1, 2) or (items[0] < 2 and items[1] >= 40):
        raise LocalProtocolError(f"invalid object identifier {items}")
    if any(arc < 0 for arc in items):
        raise LocalProtocolError(f"negative arc in object identifier {items}")
    out = bytearray()
    for arc in (items[0] * 40 + items[1], *items[2:]):
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def decode_oid(data: Buffer, start: int, end: int) -> tuple[int, ...]:
    """OBJECT IDENTIFIER contents in ``data[start:end]`` as a tuple of arcs."""
    if start >= end:
        raise DecodeError("empty OBJECT IDENTIFIER", offset=start, expected="subidentifiers")
    subs: list[int] = []
    value = 0
    fresh = True
    for pos in range(start, end):
        octet = data[pos]
        if fresh and octet == 0x80:
            raise DecodeError(
                "OBJECT IDENTIFIER subidentifier has a leading zero octet",
                offset=pos,
                expected="minimal subidentifier",
            )
        value = (value << 7) | (octet & 0x7F)
        if value.bit_length() > 64:
            raise DecodeError("OBJECT IDENTIFIER arc too large", offset=pos, expected="< 2**64")
        fresh = not octet & 0x80
        if fresh:
            subs.append(value)
            value = 0
    if not fresh:
        raise DecodeError(
            "OBJECT IDENTIFIER truncated", offset=end, expected="final subidentifier octet"
        )
    head = subs[0]
    first = min(head // 40, 2)
    return (first, head - 40 * first, *subs[1:])


def _check_unused(instance: BerBitString, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= 7:
        raise LocalProtocolError(f"unused bits must be 0..7, not {value}")
    if value and not instance.data:
        raise LocalProtocolError("an empty bit string has no unused bits")


@attrs.frozen(kw_only=True)
class BerBitString:
    """A BER BIT STRING value: the data octets and how many trailing bits are unused.

    Kept exactly as sent (padding bits included) so a decoded ACSE APDU re-encodes to
    the same bytes. ``bits`` gives the meaningful bits, bit 0 first (the MSB of the
    first octet), which is how ACSE numbers protocol-version and acse-requirements.
    """

    data: bytes
    unused_bits: int = attrs.field(default=0, validator=_check_unused)

    @classmethod
    def from_bits(cls, bits: Iterable[bool]) -> Self:
        """Build from named bits, bit 0 first; unused trailing bits are zero."""
        flags = tuple(bool(b) for b in bits)
        out = bytearray((len(flags) + 7) // 8)
        for index, flag in enumerate(flags):
            if flag:
                out[index // 8] |= 0x80 >> (index % 8)
        return cls(data=bytes(out), unused_bits=(-len(flags)) % 8)

    @property
    def bits(self) -> tuple[bool, ...]:
        """The meaningful bits, bit 0 (MSB of the first octet) first."""
        count = len(self.data) * 8 - self.unused_bits
        return tuple(bool(self.data[i // 8] & (0x80 >> (i % 8))) for i in range(count))

    def __len__(self) -> int:
        return len(self.data) * 8 - self.unused_bits

    def contents(self) -> bytes:
        """BER contents octets: the unused-bits count then the data."""
        return bytes((self.unused_bits,)) + self.data

    @classmethod
    def from_contents(cls, data: Buffer, start: int, end: int) -> Self:
        """Decode BIT STRING contents octets in ``data[start:end]``."""
        if start >= end:
            raise DecodeError("empty BIT STRING", offset=start, expected="unused-bits octet")
        unused = data[start]
        if unused > 7 or (unused and end - start == 1):
            raise DecodeError(
                f"BIT STRING with {unused} unused bits", offset=start, expected="0..7 unused bits"
            )
        return cls(data=bytes(data[start + 1 : end]), unused_bits=unused)


# -- sequence and field readers ------------------------------------------------------------


def read_sequence(data: Buffer, tag: int, name: str, known: Mapping[int, str]) -> dict[str, Tlv]:
    """Fields of a constructed APDU filling ``data`` exactly, keyed by name.

    Fields must be context-specific, in ascending tag order and unique. Context tags not
    in ``known`` are skipped (ASN.1 extensibility); any other class is a DecodeError.
    """
    if not data or data[0] != tag:
        raise DecodeError(f"not an {name}", offset=0, expected=f"tag {tag:#04x}")
    outer = read_tlv(data, 0, len(data))
    if outer.end != len(data):
        raise DecodeError(
            f"{len(data) - outer.end} trailing octets after {name}",
            offset=outer.end,
            expected="end",
        )
    found: dict[str, Tlv] = {}
    last = -1
    for tlv in iter_tlvs(data, outer.value_start, outer.end):
        if tlv.tag_class != CLASS_CONTEXT:
            raise DecodeError(
                f"non context-specific element in an {name}",
                offset=tlv.start,
                expected="context-specific tag",
            )
        field = known.get(tlv.number)
        if field is None:
            continue
        if tlv.number <= last:
            raise DecodeError(
                f"{field} repeated or out of order", offset=tlv.start, expected="ascending tags"
            )
        last = tlv.number
        found[field] = tlv
    return found


def expect_form(tlv: Tlv, constructed: bool, name: str) -> None:
    """Raise DecodeError unless the element has the given form."""
    if tlv.constructed != constructed:
        raise DecodeError(
            f"{name} has the wrong form",
            offset=tlv.start,
            expected="constructed" if constructed else "primitive",
        )


def explicit_inner(data: Buffer, tlv: Tlv, inner_tag: int, name: str) -> Tlv:
    """The single primitive universal element inside an explicitly tagged field."""
    expect_form(tlv, True, name)
    inner = read_tlv(data, tlv.value_start, tlv.end)
    if inner.tag_class != CLASS_UNIVERSAL or inner.constructed or inner.number != inner_tag:
        raise DecodeError(
            f"{name} holds the wrong type", offset=inner.start, expected=f"tag {inner_tag:#04x}"
        )
    if inner.end != tlv.end:
        raise DecodeError(f"trailing octets in {name}", offset=inner.end, expected="end of field")
    return inner


def explicit_octets(data: Buffer, tlv: Tlv | None, name: str) -> bytes | None:
    """``[n] { OCTET STRING }`` contents, or None for an absent field."""
    if tlv is None:
        return None
    inner = explicit_inner(data, tlv, TAG_OCTET_STRING, name)
    return bytes(data[inner.value_start : inner.end])


def explicit_integer(data: Buffer, tlv: Tlv | None, name: str) -> int | None:
    """``[n] { INTEGER }`` value, or None for an absent field."""
    if tlv is None:
        return None
    inner = explicit_inner(data, tlv, TAG_INTEGER, name)
    return decode_integer(data, inner.value_start, inner.end)


def implicit_bits(data: Buffer, tlv: Tlv | None, name: str) -> BerBitString | None:
    """``[n] IMPLICIT BIT STRING`` value, or None for an absent field."""
    if tlv is None:
        return None
    expect_form(tlv, False, name)
    return BerBitString.from_contents(data, tlv.value_start, tlv.end)


def encode_explicit(number: int, inner_tag: int, contents: bytes) -> bytes:
    """``[number]`` constructed context tag around one universal primitive element."""
    return encode_tlv(CLASS_CONTEXT | 0x20 | number, encode_tlv(inner_tag, contents))
