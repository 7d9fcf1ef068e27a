"""HDLC addresses (IEC 62056-46 clause 6.4.2).

Every address byte carries seven address bits in bits 7..1; bit 0 is 1 on the last byte
of the address and 0 on the others, so the receiver finds the length itself. A client
address is one byte. A server address is one byte (upper, the logical device), two bytes
(upper 7 bits + lower 7 bits) or four bytes (upper 14 bits + lower 14 bits); the lower
address is the physical device.
"""

from __future__ import annotations

import attrs

from dlmskit.errors import DecodeError

__all__ = ["ALL_STATION", "HdlcAddress", "decode_address"]

#: Upper address meaning "all stations" for each address length.
ALL_STATION = {1: 0x7F, 2: 0x7F, 4: 0x3FFF}


def _check_length(instance: object, attribute: object, value: int) -> None:
    if value not in (1, 2, 4):
        raise ValueError(f"HDLC address length must be 1, 2 or 4 bytes, not {value}")


@attrs.frozen(kw_only=True)
class HdlcAddress:
    """One HDLC address: ``upper`` (logical), ``lower`` (physical) and its encoded length.

    A one-byte address has no lower part (``lower`` is ``None``).
    """

    upper: int
    lower: int | None = None
    length: int = attrs.field(default=1, validator=_check_length)

    def __attrs_post_init__(self) -> None:
        bits = 7 if self.length in (1, 2) else 14
        if not 0 <= self.upper < (1 << bits):
            raise ValueError(f"upper HDLC address {self.upper} does not fit {bits} bits")
        if self.length == 1:
            if self.lower is not None:
                raise ValueError("a one-byte HDLC address has no lower part")
        elif self.lower is None or not 0 <= self.lower < (1 << bits):
            raise ValueError(f"lower HDLC address {self.lower} does not fit {bits} bits")

    @classmethod
    def client(cls, sap: int) -> HdlcAddress:
        """A client address (always one byte): public client is ``HdlcAddress.client(0x10)``."""
        return cls(upper=sap, length=1)

    @classmethod
    def server(cls, logical: int, physical: int | None = None, *, length: int = 0) -> HdlcAddress:
        """A server address; the length defaults to the shortest that fits both parts."""
        if not length:
            if physical is None:
                length = 1
            elif logical < 0x80 and physical < 0x80:
                length = 2
            else:
                length = 4
        return cls(upper=logical, lower=physical, length=length)

    def encode(self) -> bytes:
        """The address bytes as they appear in the frame."""
        if self.length == 1:
            return bytes(((self.upper << 1) | 1,))
        lower = self.lower if self.lower is not None else 0
        if self.length == 2:
            return bytes((self.upper << 1, (lower << 1) | 1))
        return bytes(
            (
                (self.upper >> 7) << 1,
                (self.upper & 0x7F) << 1,
                (lower >> 7) << 1,
                ((lower & 0x7F) << 1) | 1,
            )
        )

    @property
    def is_all_station(self) -> bool:
        return self.upper == ALL_STATION[self.length]


def decode_address(data: bytes | bytearray, offset: int, end: int) -> tuple[HdlcAddress, int]:
    """Decode the address starting at ``data[offset]``; return it and the offset after it.

    ``end`` bounds the search (the end of the frame header).
    """
    for size in range(4):
        pos = offset + size
        if pos >= end:
            raise DecodeError("HDLC address runs past the frame", offset=pos, expected="address")
        if data[pos] & 1:
            length = size + 1
            break
    else:
        raise DecodeError(
            "HDLC address longer than 4 bytes", offset=offset, expected="address end bit"
        )
    if length == 3:
        raise DecodeError("HDLC address of 3 bytes", offset=offset, expected="1, 2 or 4 bytes")
    raw = [b >> 1 for b in data[offset : offset + length]]
    if length == 1:
        return HdlcAddress(upper=raw[0], length=1), offset + 1
    if length == 2:
        return HdlcAddress(upper=raw[0], lower=raw[1], length=2), offset + 2
    return (
        HdlcAddress(upper=(raw[0] << 7) | raw[1], lower=(raw[2] << 7) | raw[3], length=4),
        offset + 4,
    )
