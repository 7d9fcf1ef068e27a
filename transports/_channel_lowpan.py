"""6LoWPAN fragmentation and reassembly of a datagram over small link frames (RFC 4944 §5.3).

A Wi-SUN FAN carries IPv6 over IEEE 802.15.4 frames that are much smaller than the
1280-byte IPv6 minimum MTU, so the adaptation layer cuts a datagram into link frames:

* a datagram that fits one frame travels unfragmented behind the one-byte dispatch
  ``0x41`` (RFC 4944 "uncompressed IPv6" dispatch);
* otherwise the first frame carries a FRAG1 header (4 bytes: ``11000`` + 11-bit
  datagram_size, 16-bit datagram_tag) and every following frame a FRAGN header (5 bytes:
  ``11100`` + datagram_size, datagram_tag, 8-bit datagram_offset in units of 8 octets).
  Every fragment but the last carries a multiple of 8 octets.

The datagram here stands for the whole IPv6 packet; its compressed IPv6/UDP headers are
not modelled byte by byte (budget them in ``frame_payload``). The loss of any fragment
loses the datagram: the receiver discards the partial buffer when the reassembly timeout
(RFC 4944: 60 s) passes. Sans-IO: the clock is an argument.
"""

from __future__ import annotations

import struct

import attrs

from dlmskit.errors import DecodeError, LocalProtocolError

__all__ = [
    "DISPATCH_FRAG1",
    "DISPATCH_FRAGN",
    "DISPATCH_IPV6",
    "FRAG1_HEADER_SIZE",
    "FRAGN_HEADER_SIZE",
    "MAX_DATAGRAM_SIZE",
    "LowpanFrame",
    "LowpanReassembler",
    "decode_lowpan_frame",
    "fragment_datagram",
    "frame_sizes",
]

DISPATCH_IPV6 = 0x41
DISPATCH_FRAG1 = 0b11000
DISPATCH_FRAGN = 0b11100
FRAG1_HEADER_SIZE = 4
FRAGN_HEADER_SIZE = 5
MAX_DATAGRAM_SIZE = 0x7FF
"""datagram_size is an 11-bit field."""

_MIN_FRAME_PAYLOAD = FRAGN_HEADER_SIZE + 8
_HEADER = struct.Struct(">HH")


def _chunk_sizes(size: int, frame_payload: int) -> list[int]:
    """Payload bytes carried by each fragment of a ``size``-byte datagram."""
    if frame_payload < _MIN_FRAME_PAYLOAD:
        raise LocalProtocolError(
            f"frame payload of {frame_payload} bytes cannot carry a fragment "
            f"(needs at least {_MIN_FRAME_PAYLOAD})"
        )
    if size < 1 or size > MAX_DATAGRAM_SIZE:
        raise LocalProtocolError(f"datagram of {size} bytes outside 1..{MAX_DATAGRAM_SIZE}")
    if size + 1 <= frame_payload:
        return [size]
    first = (frame_payload - FRAG1_HEADER_SIZE) // 8 * 8
    rest = (frame_payload - FRAGN_HEADER_SIZE) // 8 * 8
    chunks = [first]
    remaining = size - first
    while remaining > 0:
        chunk = min(rest, remaining)
        chunks.append(chunk)
        remaining -= chunk
    return chunks


def frame_sizes(size: int, frame_payload: int | None) -> tuple[int, ...]:
    """Wire sizes of the link frames that carry a ``size``-byte datagram.

    ``frame_payload`` ``None`` means the link carries the datagram whole in one frame.
    """
    if frame_payload is None:
        return (size,)
    chunks = _chunk_sizes(size, frame_payload)
    if len(chunks) == 1:
        return (size + 1,)
    return (chunks[0] + FRAG1_HEADER_SIZE, *(c + FRAGN_HEADER_SIZE for c in chunks[1:]))


def fragment_datagram(datagram: bytes, *, tag: int, frame_payload: int) -> list[bytes]:
    """Cut ``datagram`` into link frames of at most ``frame_payload`` bytes."""
    if not 0 <= tag <= 0xFFFF:
        raise LocalProtocolError(f"datagram_tag {tag} outside 0..65535")
    chunks = _chunk_sizes(len(datagram), frame_payload)
    if len(chunks) == 1:
        return [bytes((DISPATCH_IPV6,)) + datagram]
    size = len(datagram)
    frames = [_HEADER.pack((DISPATCH_FRAG1 << 11) | size, tag) + datagram[: chunks[0]]]
    offset = chunks[0]
    for chunk in chunks[1:]:
        header = _HEADER.pack((DISPATCH_FRAGN << 11) | size, tag) + bytes((offset // 8,))
        frames.append(header + datagram[offset : offset + chunk])
        offset += chunk
    return frames


@attrs.frozen(kw_only=True)
class LowpanFrame:
    """One decoded link frame: a whole datagram or one fragment of one."""

    datagram_size: int
    datagram_tag: int | None
    """``None`` for an unfragmented datagram."""
    offset: int
    """Byte offset of ``payload`` inside the datagram."""
    payload: bytes

    @property
    def fragmented(self) -> bool:
        return self.datagram_tag is not None


def decode_lowpan_frame(frame: bytes) -> LowpanFrame:
    """Decode a link frame; malformed bytes raise ``DecodeError``."""
    if not frame:
        raise DecodeError("empty link frame", offset=0, expected="dispatch byte")
    first = frame[0]
    if first == DISPATCH_IPV6:
        if len(frame) < 2:
            raise DecodeError("unfragmented frame without datagram", offset=1, expected="payload")
        return LowpanFrame(
            datagram_size=len(frame) - 1, datagram_tag=None, offset=0, payload=frame[1:]
        )
    dispatch = first >> 3
    if dispatch == DISPATCH_FRAG1:
        header_size = FRAG1_HEADER_SIZE
    elif dispatch == DISPATCH_FRAGN:
        header_size = FRAGN_HEADER_SIZE
    else:
        raise DecodeError(
            f"unknown dispatch 0x{first:02X}", offset=0, expected="0x41, FRAG1 or FRAGN"
        )
    if len(frame) < header_size:
        raise DecodeError(
            "fragment header truncated", offset=len(frame), expected=f"{header_size} bytes"
        )
    word, tag = _HEADER.unpack_from(frame, 0)
    size = word & MAX_DATAGRAM_SIZE
    if size == 0:
        raise DecodeError("datagram_size 0", offset=0, expected="datagram_size >= 1")
    offset = frame[4] * 8 if header_size == FRAGN_HEADER_SIZE else 0
    if header_size == FRAGN_HEADER_SIZE and offset == 0:
        raise DecodeError("FRAGN at offset 0", offset=4, expected="datagram_offset > 0")
    payload = frame[header_size:]
    if not payload:
        raise DecodeError("fragment without payload", offset=header_size, expected="payload")
    end = offset + len(payload)
    if end > size:
        raise DecodeError(
            f"fragment ends at {end}, past datagram_size {size}",
            offset=header_size,
            expected=f"at most {size - offset} payload bytes",
        )
    if end < size and len(payload) % 8:
        raise DecodeError(
            "non-final fragment not a multiple of 8 octets",
            offset=header_size,
            expected="payload length multiple of 8",
        )
    return LowpanFrame(datagram_size=size, datagram_tag=tag, offset=offset, payload=payload)


@attrs.define
class _Partial:
    buffer: bytearray
    covered: bytearray
    """One flag per 8-octet unit of the datagram."""
    missing: int
    deadline: float


class LowpanReassembler:
    """Rebuilds datagrams from link frames, per sender, with a reassembly timeout.

    ``receive`` returns the datagram a frame completes, or ``None``. Partial datagrams
    older than ``timeout`` seconds are dropped by ``expire`` (called by ``receive`` too);
    at most ``max_pending`` partial datagrams are kept, the oldest one is dropped first.
    """

    def __init__(self, *, timeout: float = 60.0, max_pending: int = 64) -> None:
        if timeout <= 0:
            raise LocalProtocolError("reassembly timeout must be positive")
        if max_pending < 1:
            raise LocalProtocolError("max_pending must be at least 1")
        self.timeout = timeout
        self.max_pending = max_pending
        self._partials: dict[tuple[object, int, int], _Partial] = {}
        self.expired = 0
        """Partial datagrams dropped by the timeout or the ``max_pending`` limit."""
        self.discarded = 0
        """Partial datagrams discarded because a fragment overlapped inconsistently."""

    @property
    def pending(self) -> int:
        return len(self._partials)

    def expire(self, now: float) -> int:
        """Drop partial datagrams whose deadline has passed; return how many."""
        stale = [key for key, part in self._partials.items() if part.deadline <= now]
        for key in stale:
            del self._partials[key]
        self.expired += len(stale)
        return len(stale)

    def receive(self, frame: bytes, *, now: float, source: object = None) -> bytes | None:
        """Feed one link frame from ``source``; return a completed datagram or ``None``.

        Raises ``DecodeError`` for a malformed frame (the partial state is untouched).
        """
        decoded = decode_lowpan_frame(frame)
        self.expire(now)
        if decoded.datagram_tag is None:
            return decoded.payload
        size = decoded.datagram_size
        key = (source, decoded.datagram_tag, size)
        part = self._partials.get(key)
        if part is None:
            if len(self._partials) >= self.max_pending:
                oldest = min(self._partials, key=lambda k: self._partials[k].deadline)
                del self._partials[oldest]
                self.expired += 1
            units = (size + 7) // 8
            part = _Partial(
                buffer=bytearray(size),
                covered=bytearray(units),
                missing=units,
                deadline=now + self.timeout,
            )
            self._partials[key] = part
        first_unit = decoded.offset // 8
        last_unit = (decoded.offset + len(decoded.payload) + 7) // 8
        end = decoded.offset + len(decoded.payload)
        span = range(first_unit, last_unit)
        if any(part.covered[u] for u in span):
            if all(part.covered[u] for u in span) and (
                part.buffer[decoded.offset : end] == decoded.payload
            ):
                return None
            self.discarded += 1
            units = (size + 7) // 8
            part.buffer = bytearray(size)
            part.covered = bytearray(units)
            part.missing = units
            part.deadline = now + self.timeout
        part.buffer[decoded.offset : end] = decoded.payload
        for u in span:
            part.covered[u] = 1
        part.missing -= len(span)
        if part.missing:
            return None
        del self._partials[key]
        return bytes(part.buffer)
