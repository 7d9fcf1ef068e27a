"""xDLMS InitiateRequest / InitiateResponse and the conformance block (xDLMS ASN.1, Green Book).

These two APDUs travel inside the user-information field of the AARQ and AARE. They are
A-XDR encoded, except that the conformance block keeps its BER form
``5F 1F 04 00 <3 octets>`` ([APPLICATION 31] IMPLICIT BIT STRING (SIZE(24))).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntFlag
from typing import Any, ClassVar, Final, Self

import attrs

from dlmskit.apdu._lookup import enum_member
from dlmskit.errors import DecodeError, LocalProtocolError

__all__ = ["Conformance", "InitiateRequest", "InitiateResponse"]

_CONFORMANCE_HEADER: Final = b"\x5f\x1f\x04\x00"


class Conformance(IntFlag):
    """The 24-bit conformance block; bit 0 is the most significant bit of the first octet.

    The integer value is the three octets read big-endian, so ``Conformance(0x001E1D)``
    is the block sent as ``00 1E 1D``. Names follow the xDLMS ASN.1 (DLMS UA 1000-2).
    """

    RESERVED_ZERO = 0x800000
    GENERAL_PROTECTION = 0x400000
    GENERAL_BLOCK_TRANSFER = 0x200000
    READ = 0x100000
    WRITE = 0x080000
    UNCONFIRMED_WRITE = 0x040000
    DELTA_VALUE_ENCODING = 0x020000
    RESERVED_SEVEN = 0x010000
    ATTRIBUTE0_SUPPORTED_WITH_SET = 0x008000
    PRIORITY_MGMT_SUPPORTED = 0x004000
    ATTRIBUTE0_SUPPORTED_WITH_GET = 0x002000
    BLOCK_TRANSFER_WITH_GET_OR_READ = 0x001000
    BLOCK_TRANSFER_WITH_SET_OR_WRITE = 0x000800
    BLOCK_TRANSFER_WITH_ACTION = 0x000400
    MULTIPLE_REFERENCES = 0x000200
    INFORMATION_REPORT = 0x000100
    DATA_NOTIFICATION = 0x000080
    ACCESS = 0x000040
    PARAMETERIZED_ACCESS = 0x000020
    GET = 0x000010
    SET = 0x000008
    SELECTIVE_ACCESS = 0x000004
    EVENT_NOTIFICATION = 0x000002
    ACTION = 0x000001

    @classmethod
    def from_bit_numbers(cls, bits: set[int] | frozenset[int]) -> Conformance:
        """Build from ASN.1 bit numbers (0 = most significant)."""
        value = 0
        for bit in bits:
            if not 0 <= bit <= 23:
                raise LocalProtocolError(f"conformance bit {bit} is outside 0..23")
            value |= 0x800000 >> bit
        return cls(value)

    def bit_numbers(self) -> frozenset[int]:
        """The ASN.1 bit numbers that are set."""
        return frozenset(bit for bit in range(24) if self & (0x800000 >> bit))

    def encode(self) -> bytes:
        """The BER form used in InitiateRequest/Response: ``5F 1F 04 00`` and 3 octets."""
        return _CONFORMANCE_HEADER + int(self).to_bytes(3, "big")


def _conformance(value: int) -> Conformance:
    number = int(value)
    if not 0 <= number <= 0xFFFFFF:
        raise LocalProtocolError(f"conformance {value:#x} does not fit 24 bits")
    return enum_member(Conformance, number)


def _in_range(low: int, high: int) -> Callable[[Any, attrs.Attribute[int], int], None]:
    def check(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if not low <= value <= high:
            raise LocalProtocolError(f"{attribute.name} must be {low}..{high}, not {value}")

    return check


def _optional_int8(
    instance: object, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None and not -128 <= value <= 127:
        raise LocalProtocolError(f"{attribute.name} must be an Integer8, not {value}")


def _check_key(
    instance: object, attribute: attrs.Attribute[bytes | None], value: bytes | None
) -> None:
    if value is not None and not 1 <= len(value) <= 127:
        raise LocalProtocolError("dedicated-key must be 1..127 octets")


def _hidden_key(value: bytes | None) -> str:
    return "None" if value is None else f"<{len(value)} octets hidden>"


class _Reader:
    """Bounds-checked cursor over one A-XDR encoded initiate APDU."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def take(self, count: int, what: str) -> bytes:
        if count > len(self.data) - self.pos:
            raise DecodeError(f"{what} truncated", offset=self.pos, expected=f"{count} octets")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def flag(self, what: str) -> bool:
        offset = self.pos
        value = self.u8(what)
        if value > 1:
            raise DecodeError(
                f"{what} presence flag {value:#04x}", offset=offset, expected="00 or 01"
            )
        return value == 1

    def optional_int8(self, what: str) -> int | None:
        if not self.flag(what):
            return None
        return int.from_bytes(self.take(1, what), "big", signed=True)

    def conformance(self) -> Conformance:
        offset = self.pos
        header = self.take(4, "conformance block")
        if header != _CONFORMANCE_HEADER:
            raise DecodeError("conformance block header", offset=offset, expected="5F 1F 04 00")
        return enum_member(Conformance, int.from_bytes(self.take(3, "conformance block"), "big"))

    def u16(self, what: str) -> int:
        return int.from_bytes(self.take(2, what), "big")

    def finish(self) -> None:
        if self.pos != len(self.data):
            raise DecodeError(
                f"{len(self.data) - self.pos} trailing octets", offset=self.pos, expected="end"
            )


def _expect_tag(data: bytes, tag: int, name: str) -> _Reader:
    if not data:
        raise DecodeError(f"empty {name}", offset=0, expected=f"tag {tag:#04x}")
    if data[0] != tag:
        raise DecodeError(f"not an {name}", offset=0, expected=f"tag {tag:#04x}")
    return _Reader(bytes(data), 1)


@attrs.frozen(kw_only=True)
class InitiateRequest:
    """xDLMS-Initiate.request, the client's proposal carried in the AARQ.

    ``dedicated_key`` is only sent inside a ciphered initiate request; it never appears
    in ``repr``. ``response_allowed`` is BOOLEAN DEFAULT TRUE: True is encoded as the
    "default" marker ``00``, False as ``01 00``.
    """

    TAG: ClassVar[int] = 0x01

    dedicated_key: bytes | None = attrs.field(default=None, validator=_check_key, repr=_hidden_key)
    response_allowed: bool = True
    proposed_quality_of_service: int | None = attrs.field(default=None, validator=_optional_int8)
    proposed_dlms_version_number: int = attrs.field(default=6, validator=_in_range(0, 0xFF))
    proposed_conformance: Conformance = attrs.field(converter=_conformance)
    client_max_receive_pdu_size: int = attrs.field(default=0xFFFF, validator=_in_range(0, 0xFFFF))

    def to_bytes(self) -> bytes:
        out = bytearray((self.TAG,))
        if self.dedicated_key is None:
            out.append(0x00)
        else:
            out += bytes((0x01, len(self.dedicated_key))) + self.dedicated_key
        out += b"\x00" if self.response_allowed else b"\x01\x00"
        _put_optional_int8(out, self.proposed_quality_of_service)
        out.append(self.proposed_dlms_version_number)
        out += self.proposed_conformance.encode()
        out += self.client_max_receive_pdu_size.to_bytes(2, "big")
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        reader = _expect_tag(data, cls.TAG, "InitiateRequest")
        key: bytes | None = None
        if reader.flag("dedicated-key"):
            offset = reader.pos
            length = reader.u8("dedicated-key length")
            if not 1 <= length <= 127:
                raise DecodeError(
                    f"dedicated-key of {length} octets", offset=offset, expected="1..127 octets"
                )
            key = reader.take(length, "dedicated-key")
        response_allowed = True
        if reader.flag("response-allowed"):
            response_allowed = reader.u8("response-allowed") != 0
        qos = reader.optional_int8("proposed-quality-of-service")
        version = reader.u8("proposed-dlms-version-number")
        conformance = reader.conformance()
        pdu_size = reader.u16("client-max-receive-pdu-size")
        reader.finish()
        return cls(
            dedicated_key=key,
            response_allowed=response_allowed,
            proposed_quality_of_service=qos,
            proposed_dlms_version_number=version,
            proposed_conformance=conformance,
            client_max_receive_pdu_size=pdu_size,
        )


@attrs.frozen(kw_only=True)
class InitiateResponse:
    """xDLMS-Initiate.response, the server's answer carried in the AARE.

    ``vaa_name`` is 0x0007 for logical name referencing and the base name of the
    Association SN object (0xFA00) for short name referencing; it is kept unsigned.
    """

    TAG: ClassVar[int] = 0x08

    negotiated_quality_of_service: int | None = attrs.field(default=None, validator=_optional_int8)
    negotiated_dlms_version_number: int = attrs.field(default=6, validator=_in_range(0, 0xFF))
    negotiated_conformance: Conformance = attrs.field(converter=_conformance)
    server_max_receive_pdu_size: int = attrs.field(validator=_in_range(0, 0xFFFF))
    vaa_name: int = attrs.field(default=0x0007, validator=_in_range(0, 0xFFFF))

    def to_bytes(self) -> bytes:
        out = bytearray((self.TAG,))
        _put_optional_int8(out, self.negotiated_quality_of_service)
        out.append(self.negotiated_dlms_version_number)
        out += self.negotiated_conformance.encode()
        out += self.server_max_receive_pdu_size.to_bytes(2, "big")
        out += self.vaa_name.to_bytes(2, "big")
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        reader = _expect_tag(data, cls.TAG, "InitiateResponse")
        qos = reader.optional_int8("negotiated-quality-of-service")
        version = reader.u8("negotiated-dlms-version-number")
        conformance = reader.conformance()
        pdu_size = reader.u16("server-max-receive-pdu-size")
        vaa_name = reader.u16("vaa-name")
        reader.finish()
        return cls(
            negotiated_quality_of_service=qos,
            negotiated_dlms_version_number=version,
            negotiated_conformance=conformance,
            server_max_receive_pdu_size=pdu_size,
            vaa_name=vaa_name,
        )


def _put_optional_int8(out: bytearray, value: int | None) -> None:
    if value is None:
        out.append(0x00)
    else:
        out += b"\x01" + value.to_bytes(1, "big", signed=True)
