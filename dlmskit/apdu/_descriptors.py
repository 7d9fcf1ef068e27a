"""Invoke ids, COSEM descriptors and selective access (IEC 62056-5-3, xDLMS LN services).

Also the byte cursor and the base classes the LN-service APDUs share: every read is
bounds-checked before it happens, so malformed input ends in :class:`DecodeError`.
"""

from __future__ import annotations

import abc
import enum
import struct
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Final, Self, TypeVar

import attrs

from dlmskit.apdu._lookup import enum_member
from dlmskit.axdr import (
    Array,
    Data,
    DateTime,
    DoubleLongUnsigned,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
    decode_from,
    decode_length,
    encode_into,
    encode_length,
)
from dlmskit.errors import DecodeError, LocalProtocolError
from obis import ObisCode, as_obis

__all__ = [
    "ABSENT",
    "Absent",
    "ApduReader",
    "ChoiceApdu",
    "CosemAttributeDescriptor",
    "CosemAttributeDescriptorWithSelection",
    "CosemMethodDescriptor",
    "InvokeIdAndPriority",
    "LongInvokeIdAndPriority",
    "SelectiveAccess",
    "TaggedApdu",
    "in_range",
    "read_date_time",
    "read_optional_selection",
    "write_date_time",
    "write_octet_string",
    "write_optional_selection",
]

_U16: Final = struct.Struct(">H")
_U32: Final = struct.Struct(">I")

E = TypeVar("E", bound=enum.IntEnum)


class Absent(enum.Enum):
    """Marks an A-XDR OPTIONAL component that is not sent (distinct from null-data)."""

    ABSENT = "absent"

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = Absent.ABSENT


def in_range(low: int, high: int) -> Callable[[Any, attrs.Attribute[Any], int], None]:
    """An attrs validator: an int within ``low..high``, else LocalProtocolError."""

    def check(_instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise LocalProtocolError(f"{attribute.name} must be an int in {low}..{high}: {value!r}")

    return check


class ApduReader:
    """A cursor over one APDU; each read checks what remains before it takes anything."""

    __slots__ = ("buf", "end", "pos")

    def __init__(self, data: bytes | bytearray | memoryview, pos: int = 0) -> None:
        self.buf = bytes(data)
        self.pos = pos
        self.end = len(self.buf)

    def _take(self, n: int, expected: str) -> int:
        pos = self.pos
        if n > self.end - pos:
            raise DecodeError("APDU truncated", offset=pos, expected=expected)
        self.pos = pos + n
        return pos

    def u8(self, expected: str) -> int:
        pos = self.pos
        if pos >= self.end:
            raise DecodeError("APDU truncated", offset=pos, expected=expected)
        self.pos = pos + 1
        return self.buf[pos]

    def i8(self, expected: str) -> int:
        value = self.buf[self._take(1, expected)]
        return value - 256 if value > 127 else value

    def u16(self, expected: str) -> int:
        value: int = _U16.unpack_from(self.buf, self._take(2, expected))[0]
        return value

    def u32(self, expected: str) -> int:
        value: int = _U32.unpack_from(self.buf, self._take(4, expected))[0]
        return value

    def flag(self, expected: str) -> bool:
        """A-XDR BOOLEAN or OPTIONAL usage flag: zero is false, anything else true."""
        return self.u8(expected) != 0

    def raw(self, n: int, expected: str) -> bytes:
        pos = self._take(n, expected)
        return self.buf[pos : pos + n]

    def count(self, expected: str) -> int:
        """A length or SEQUENCE OF count; never more than the bytes that remain."""
        start = self.pos
        n, pos = decode_length(self.buf, start)
        if n > self.end - pos:
            raise DecodeError(
                f"length {n} exceeds the {self.end - pos} bytes left",
                offset=start,
                expected=expected,
            )
        self.pos = pos
        return n

    def octet_string(self, expected: str) -> bytes:
        return self.raw(self.count(expected), expected)

    def data(self) -> Data:
        value, self.pos = decode_from(self.buf, self.pos)
        return value

    def enum(self, enum_type: type[E], expected: str) -> E:
        pos = self.pos
        value = self.u8(expected)
        try:
            return enum_member(enum_type, value)
        except ValueError:
            raise DecodeError(
                f"unknown {enum_type.__name__} value {value}", offset=pos, expected=expected
            ) from None

    def choice(self, expected: str, allowed: Sequence[int]) -> int:
        pos = self.pos
        value = self.u8(expected)
        if value not in allowed:
            raise DecodeError(f"unknown {expected} choice {value}", offset=pos, expected=expected)
        return value

    def finish(self) -> None:
        if self.pos != self.end:
            raise DecodeError(
                f"{self.end - self.pos} trailing bytes after the APDU",
                offset=self.pos,
                expected="end of APDU",
            )


def write_octet_string(out: bytearray, value: bytes) -> None:
    out += encode_length(len(value))
    out += value


def read_date_time(r: ApduReader, expected: str) -> DateTime | None:
    """An OCTET STRING holding a date-time: empty means none, else exactly 12 bytes."""
    pos = r.pos
    raw = r.octet_string(expected)
    if not raw:
        return None
    if len(raw) != 12:
        raise DecodeError(
            f"date-time octet string of {len(raw)} bytes", offset=pos, expected="0 or 12 bytes"
        )
    start = r.pos - 12
    try:
        return DateTime.from_bytes(raw, start)
    except (ValueError, TypeError) as exc:
        raise DecodeError(f"bad date-time: {exc}", offset=start, expected=expected) from None


def write_date_time(out: bytearray, value: DateTime | None) -> None:
    write_octet_string(out, b"" if value is None else value.to_bytes())


class TaggedApdu(abc.ABC):
    """An APDU identified by its first byte ``TAG``."""

    __slots__ = ()
    TAG: ClassVar[int]

    def to_bytes(self) -> bytes:
        out = bytearray((self.TAG,))
        self._write_body(out)
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Self:
        """Decode the whole buffer as this APDU; trailing bytes are an error."""
        r = ApduReader(data)
        tag = r.u8("APDU tag")
        if tag != cls.TAG:
            raise DecodeError(
                f"tag 0x{tag:02X} is not {cls.__name__}", offset=0, expected=f"0x{cls.TAG:02X}"
            )
        value = cls._read_body(r)
        r.finish()
        return value

    @abc.abstractmethod
    def _write_body(self, out: bytearray) -> None:
        """Append everything after the header."""

    @classmethod
    @abc.abstractmethod
    def _read_body(cls, r: ApduReader) -> Self:
        """Read everything after the header."""


class ChoiceApdu(TaggedApdu):
    """An APDU of a CHOICE-based service: ``TAG`` then the ``CHOICE`` byte."""

    __slots__ = ()
    CHOICE: ClassVar[int]

    def to_bytes(self) -> bytes:
        out = bytearray((self.TAG, self.CHOICE))
        self._write_body(out)
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Self:
        r = ApduReader(data)
        if r.end < 2:
            raise DecodeError("APDU truncated", offset=r.end, expected="APDU tag and choice")
        tag, choice = r.buf[0], r.buf[1]
        r.pos = 2
        if tag != cls.TAG or choice != cls.CHOICE:
            raise DecodeError(
                f"header {tag:02X} {choice:02X} is not {cls.__name__}",
                offset=0,
                expected=f"{cls.TAG:02X} {cls.CHOICE:02X}",
            )
        value = cls._read_body(r)
        r.finish()
        return value


@attrs.frozen(kw_only=True)
class InvokeIdAndPriority:
    """Invoke-Id-And-Priority: one byte; 0xC1 is id 1, confirmed, high priority.

    Bits 0-3 invoke-id, 4-5 reserved (must be zero), 6 service-class, 7 priority.
    """

    invoke_id: int = attrs.field(default=1, validator=in_range(0, 15))
    confirmed: bool = True
    high_priority: bool = True

    def to_byte(self) -> int:
        return (
            self.invoke_id | (0x40 if self.confirmed else 0) | (0x80 if self.high_priority else 0)
        )

    @classmethod
    def from_byte(cls, value: int) -> InvokeIdAndPriority:
        """From the byte; LocalProtocolError if the reserved bits are set."""
        if value & 0x30 or not 0 <= value <= 255:
            raise LocalProtocolError(f"invalid Invoke-Id-And-Priority 0x{value:02X}")
        return _IIP_BY_BYTE[value]

    def _write(self, out: bytearray) -> None:
        out.append(self.to_byte())

    @classmethod
    def _read(cls, r: ApduReader) -> InvokeIdAndPriority:
        pos = r.pos
        value = r.u8("invoke-id-and-priority")
        found = _IIP_BY_BYTE.get(value)
        if found is None:
            raise DecodeError(
                f"reserved bits set in invoke-id-and-priority 0x{value:02X}",
                offset=pos,
                expected="bits 4-5 zero",
            )
        return found


_IIP_BY_BYTE: Final = {
    b: InvokeIdAndPriority(
        invoke_id=b & 0x0F, confirmed=bool(b & 0x40), high_priority=bool(b & 0x80)
    )
    for b in range(256)
    if not b & 0x30
}


@attrs.frozen(kw_only=True)
class LongInvokeIdAndPriority:
    """Long-Invoke-Id-And-Priority (Unsigned32) of data-notification and access.

    Bits 0-23 long-invoke-id, 24-27 reserved (zero), 28 self-descriptive, 29 processing
    option (set: break on error, clear: continue), 30 service-class (set: confirmed),
    31 priority (set: high).
    """

    invoke_id: int = attrs.field(default=0, validator=in_range(0, 0xFFFFFF))
    self_descriptive: bool = False
    processing_option: bool = False
    confirmed: bool = False
    high_priority: bool = False

    def to_int(self) -> int:
        return (
            self.invoke_id
            | (1 << 28 if self.self_descriptive else 0)
            | (1 << 29 if self.processing_option else 0)
            | (1 << 30 if self.confirmed else 0)
            | (1 << 31 if self.high_priority else 0)
        )

    @classmethod
    def from_int(cls, value: int) -> LongInvokeIdAndPriority:
        """From the Unsigned32; LocalProtocolError if bits 24-27 are set."""
        if value & 0x0F000000 or not 0 <= value <= 0xFFFFFFFF:
            raise LocalProtocolError(f"invalid Long-Invoke-Id-And-Priority 0x{value:08X}")
        return cls(
            invoke_id=value & 0xFFFFFF,
            self_descriptive=bool(value & (1 << 28)),
            processing_option=bool(value & (1 << 29)),
            confirmed=bool(value & (1 << 30)),
            high_priority=bool(value & (1 << 31)),
        )

    def _write(self, out: bytearray) -> None:
        out += _U32.pack(self.to_int())

    @classmethod
    def _read(cls, r: ApduReader) -> LongInvokeIdAndPriority:
        pos = r.pos
        value = r.u32("long-invoke-id-and-priority")
        if value & 0x0F000000:
            raise DecodeError(
                f"reserved bits set in long-invoke-id-and-priority 0x{value:08X}",
                offset=pos,
                expected="bits 24-27 zero",
            )
        return cls.from_int(value)


class _Standalone(abc.ABC):
    """A value that also encodes and decodes on its own, outside any APDU."""

    __slots__ = ()

    def to_bytes(self) -> bytes:
        out = bytearray()
        self._write(out)
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode the whole buffer as this value; trailing bytes are an error."""
        r = ApduReader(data)
        value = cls._read(r)
        r.finish()
        return value

    @abc.abstractmethod
    def _write(self, out: bytearray) -> None:
        """Append the encoding."""

    @classmethod
    @abc.abstractmethod
    def _read(cls, r: ApduReader) -> Self:
        """Read one value at the reader's position."""


def _write_descriptor(out: bytearray, class_id: int, instance_id: ObisCode, member_id: int) -> None:
    """class-id (Unsigned16), instance-id (6 bytes), attribute- or method-id (Integer8)."""
    out += _U16.pack(class_id)
    out += bytes(instance_id)
    out.append(member_id & 0xFF)


def _read_descriptor(r: ApduReader, member: str) -> tuple[int, ObisCode, int]:
    class_id = r.u16("class-id")
    instance = ObisCode.from_bytes(r.raw(6, "instance-id"))
    return class_id, instance, r.i8(member)


@attrs.frozen(kw_only=True)
class CosemAttributeDescriptor(_Standalone):
    """Cosem-Attribute-Descriptor: class-id Unsigned16, instance-id (6 bytes), attribute-id.

    ``instance_id`` accepts an :class:`obis.ObisCode`, its text or its six bytes.
    ``attribute_id`` is Integer8; negative ids are manufacturer specific.
    """

    class_id: int = attrs.field(validator=in_range(0, 0xFFFF))
    instance_id: ObisCode = attrs.field(converter=as_obis)
    attribute_id: int = attrs.field(validator=in_range(-128, 127))

    def _write(self, out: bytearray) -> None:
        _write_descriptor(out, self.class_id, self.instance_id, self.attribute_id)

    @classmethod
    def _read(cls, r: ApduReader) -> Self:
        class_id, instance, attribute_id = _read_descriptor(r, "attribute-id")
        return cls(class_id=class_id, instance_id=instance, attribute_id=attribute_id)


@attrs.frozen(kw_only=True)
class CosemMethodDescriptor(_Standalone):
    """Cosem-Method-Descriptor: class-id Unsigned16, instance-id (6 bytes), method-id."""

    class_id: int = attrs.field(validator=in_range(0, 0xFFFF))
    instance_id: ObisCode = attrs.field(converter=as_obis)
    method_id: int = attrs.field(validator=in_range(-128, 127))

    def _write(self, out: bytearray) -> None:
        _write_descriptor(out, self.class_id, self.instance_id, self.method_id)

    @classmethod
    def _read(cls, r: ApduReader) -> Self:
        class_id, instance, method_id = _read_descriptor(r, "method-id")
        return cls(class_id=class_id, instance_id=instance, method_id=method_id)


def _capture_object(descriptor: CosemAttributeDescriptor, data_index: int) -> Structure:
    """capture_object_definition (Blue Book, profile generic): class, name, attribute, index."""
    return Structure(
        (
            LongUnsigned(descriptor.class_id),
            OctetString(bytes(descriptor.instance_id)),
            Integer(descriptor.attribute_id),
            LongUnsigned(data_index),
        )
    )


def _range_bound(value: Data) -> Data:
    # Meters expect clock values in a range_descriptor as octet-string(12), not date-time.
    if isinstance(value, DateTime):
        return OctetString(value.to_bytes())
    return value


@attrs.frozen(kw_only=True)
class SelectiveAccess:
    """Selective-Access-Descriptor: access-selector Unsigned8 and access-parameters Data."""

    selector: int = attrs.field(validator=in_range(0, 255))
    parameters: Data

    @classmethod
    def range_descriptor(
        cls,
        *,
        restricting_object: CosemAttributeDescriptor,
        from_value: Data,
        to_value: Data,
        selected_values: Sequence[CosemAttributeDescriptor] = (),
        data_index: int = 0,
    ) -> SelectiveAccess:
        """Profile generic selector 1: rows whose restricting object lies in a range.

        A :class:`DateTime` bound is sent as octet-string(12); ``selected_values`` empty
        means all columns.
        """
        return cls(
            selector=1,
            parameters=Structure(
                (
                    _capture_object(restricting_object, data_index),
                    _range_bound(from_value),
                    _range_bound(to_value),
                    Array(_capture_object(column, 0) for column in selected_values),
                )
            ),
        )

    @classmethod
    def entry_descriptor(
        cls,
        *,
        from_entry: int = 1,
        to_entry: int = 0,
        from_selected_value: int = 1,
        to_selected_value: int = 0,
    ) -> SelectiveAccess:
        """Profile generic selector 2: rows and columns by 1-based index (0 = up to last)."""
        return cls(
            selector=2,
            parameters=Structure(
                (
                    DoubleLongUnsigned(from_entry),
                    DoubleLongUnsigned(to_entry),
                    LongUnsigned(from_selected_value),
                    LongUnsigned(to_selected_value),
                )
            ),
        )

    def _write(self, out: bytearray) -> None:
        out.append(self.selector)
        encode_into(out, self.parameters)

    @classmethod
    def _read(cls, r: ApduReader) -> SelectiveAccess:
        selector = r.u8("access-selector")
        return cls(selector=selector, parameters=r.data())


def write_optional_selection(out: bytearray, selection: SelectiveAccess | None) -> None:
    if selection is None:
        out.append(0)
    else:
        out.append(1)
        selection._write(out)


def read_optional_selection(r: ApduReader) -> SelectiveAccess | None:
    return SelectiveAccess._read(r) if r.flag("access-selection usage flag") else None


@attrs.frozen(kw_only=True)
class CosemAttributeDescriptorWithSelection:
    """Cosem-Attribute-Descriptor-With-Selection: a descriptor and optional access selection."""

    attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccess | None = None

    def _write(self, out: bytearray) -> None:
        self.attribute_descriptor._write(out)
        write_optional_selection(out, self.access_selection)

    @classmethod
    def _read(cls, r: ApduReader) -> CosemAttributeDescriptorWithSelection:
        descriptor = CosemAttributeDescriptor._read(r)
        return cls(attribute_descriptor=descriptor, access_selection=read_optional_selection(r))
