"""The DLMS/COSEM wrapper for TCP and UDP (IEC 62056-4-7, formerly IEC 62056-47).

``WPDU = version(2) = 0x0001 | source wPort(2) | destination wPort(2) | length(2) | APDU``

On TCP a WPDU can arrive split over several segments or several WPDUs in one segment,
so :class:`WrapperFramer` reassembles by the length field. A byte stream that carries a
wrong version or an oversized length cannot be resynchronised reliably: the framer raises
``DecodeError`` and stays broken, and the caller drops the connection. On UDP one datagram
is one WPDU (:func:`decode_wpdu`).
"""

from __future__ import annotations

import attrs

from dlmskit.errors import DecodeError

__all__ = [
    "DEFAULT_MAX_APDU",
    "WRAPPER_HEADER_SIZE",
    "WRAPPER_VERSION",
    "WrapperFramer",
    "Wpdu",
    "decode_wpdu",
    "encode_wpdu",
]

WRAPPER_VERSION = 0x0001
WRAPPER_HEADER_SIZE = 8
#: The length field is 16 bits; by default accept any APDU it can describe.
DEFAULT_MAX_APDU = 0xFFFF


def _u16(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{attribute.name} {value} is not a 16-bit wPort")


def _apdu(instance: object, attribute: attrs.Attribute[bytes], value: bytes) -> None:
    if len(value) > 0xFFFF:
        raise ValueError(f"APDU of {len(value)} bytes exceeds the 16-bit wrapper length")


@attrs.frozen(kw_only=True)
class Wpdu:
    """One wrapper PDU: source and destination wPorts (SAPs) and the APDU it carries."""

    source: int = attrs.field(validator=_u16)
    destination: int = attrs.field(validator=_u16)
    apdu: bytes = attrs.field(validator=_apdu)

    def encode(self) -> bytes:
        return encode_wpdu(self.source, self.destination, self.apdu)


def encode_wpdu(source: int, destination: int, apdu: bytes | bytearray | memoryview) -> bytes:
    """The wrapper header followed by ``apdu``."""
    length = len(apdu)
    if length > 0xFFFF:
        raise ValueError(f"APDU of {length} bytes exceeds the 16-bit wrapper length")
    if not (0 <= source <= 0xFFFF and 0 <= destination <= 0xFFFF):
        raise ValueError("wPorts are 16-bit")
    return (
        WRAPPER_VERSION.to_bytes(2, "big")
        + source.to_bytes(2, "big")
        + destination.to_bytes(2, "big")
        + length.to_bytes(2, "big")
        + bytes(apdu)
    )


def _check_header(
    data: bytes | bytearray, offset: int, max_apdu: int, base: int
) -> tuple[int, int, int]:
    version = (data[offset] << 8) | data[offset + 1]
    if version != WRAPPER_VERSION:
        raise DecodeError(
            f"wrapper version 0x{version:04X}", offset=base + offset, expected="0x0001"
        )
    length = (data[offset + 6] << 8) | data[offset + 7]
    if length > max_apdu:
        raise DecodeError(
            f"wrapper length {length} above the limit {max_apdu}",
            offset=base + offset + 6,
            expected=f"length <= {max_apdu}",
        )
    source = (data[offset + 2] << 8) | data[offset + 3]
    destination = (data[offset + 4] << 8) | data[offset + 5]
    return source, destination, length


def decode_wpdu(data: bytes | bytearray | memoryview, *, max_apdu: int = DEFAULT_MAX_APDU) -> Wpdu:
    """Decode one datagram that must hold exactly one WPDU (the UDP profile)."""
    raw = bytes(data)
    if len(raw) < WRAPPER_HEADER_SIZE:
        raise DecodeError("wrapper header truncated", offset=len(raw), expected="8-byte header")
    source, destination, length = _check_header(raw, 0, max_apdu, 0)
    if len(raw) != WRAPPER_HEADER_SIZE + length:
        raise DecodeError(
            f"wrapper length {length} but datagram carries {len(raw) - WRAPPER_HEADER_SIZE}",
            offset=6,
            expected="length equal to the payload",
        )
    return Wpdu(source=source, destination=destination, apdu=raw[WRAPPER_HEADER_SIZE:])


class WrapperFramer:
    """Reassemble WPDUs from a TCP byte stream (sans-IO).

    ``feed(data)`` then ``next_wpdu()`` until it returns ``None``. Once the stream is found
    broken (wrong version, length above ``max_apdu``) every further call raises the same
    ``DecodeError``: there is no reliable resynchronisation point, so the connection must
    be dropped.
    """

    def __init__(self, *, max_apdu: int = DEFAULT_MAX_APDU) -> None:
        if not 0 <= max_apdu <= 0xFFFF:
            raise ValueError("max_apdu must fit the 16-bit length field")
        self.max_apdu = max_apdu
        self._buf = bytearray()
        self._pos = 0
        self._consumed = 0  # stream offset of self._buf[0], for error offsets
        self._error: DecodeError | None = None

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        if self._error is not None:
            raise self._error
        self._buf += data

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete WPDU held back (non-zero means "peer stopped mid-frame")."""
        return len(self._buf) - self._pos

    @property
    def broken(self) -> bool:
        return self._error is not None

    def next_wpdu(self) -> Wpdu | None:
        """The next complete WPDU, or ``None`` when more bytes are needed."""
        frame = self.next_frame()
        if frame is None:
            return None
        return Wpdu(source=frame[0], destination=frame[1], apdu=frame[2])

    def next_frame(self) -> tuple[int, int, bytes] | None:
        """(source, destination, APDU) of the next complete WPDU, or ``None`` when more
        bytes are needed: :meth:`next_wpdu` without building the :class:`Wpdu`."""
        if self._error is not None:
            raise self._error
        buf = self._buf
        pos = self._pos
        if len(buf) - pos < WRAPPER_HEADER_SIZE:
            self._compact()
            return None
        try:
            source, destination, length = _check_header(buf, pos, self.max_apdu, self._consumed)
        except DecodeError as exc:
            self._error = exc
            raise
        end = pos + WRAPPER_HEADER_SIZE + length
        if len(buf) < end:
            self._compact()
            return None
        apdu = bytes(buf[pos + WRAPPER_HEADER_SIZE : end])
        self._pos = end
        return source, destination, apdu

    def _compact(self) -> None:
        if self._pos:
            del self._buf[: self._pos]
            self._consumed += self._pos
            self._pos = 0
