"""HDLC frame format type 3 (IEC 62056-46 clause 6.4, ISO/IEC 13239 annex H).

``7E | format(2) | destination | source | control | [HCS(2) info] | FCS(2) | 7E``

The format field is ``1010 S LLL LLLL LLLL``: type 3, the segmentation bit and the
11-bit length of everything between the flags. DLMS uses no byte stuffing, so 0x7E may
appear inside a frame; frames are delimited by the length field, and a stream reader
resynchronises on the next flag whose header check sequence is valid.
"""

from __future__ import annotations

import enum

import attrs

from dlmskit.errors import DecodeError
from transports._hdlc_address import HdlcAddress, decode_address
from transports._hdlc_crc import crc16

__all__ = [
    "FLAG",
    "HdlcFrame",
    "HdlcFrameReader",
    "HdlcFrameType",
    "decode_frame",
    "encode_frame",
]

FLAG = 0x7E
_FORMAT_TYPE_3 = 0xA000
_SEGMENT_BIT = 0x0800
_MAX_LENGTH = 0x7FF
_POLL = 0x10
# Longest header: format(2) + destination(4) + source(4) + control(1).
_MAX_HEADER = 11


class HdlcFrameType(enum.IntEnum):
    """Frame kinds by control field (poll/final bit and sequence numbers masked out)."""

    I = 0x00  # noqa: E741  (the standard's name)
    RR = 0x01
    RNR = 0x05
    REJ = 0x09
    SNRM = 0x83
    DISC = 0x43
    UA = 0x63
    DM = 0x0F
    FRMR = 0x87
    UI = 0x03
    UNKNOWN = 0xFF


_U_TYPES = {
    t.value: t
    for t in (
        HdlcFrameType.SNRM,
        HdlcFrameType.DISC,
        HdlcFrameType.UA,
        HdlcFrameType.DM,
        HdlcFrameType.FRMR,
        HdlcFrameType.UI,
    )
}
_S_TYPES = {t.value: t for t in (HdlcFrameType.RR, HdlcFrameType.RNR, HdlcFrameType.REJ)}


def _frame_type(control: int) -> HdlcFrameType:
    if not control & 1:
        return HdlcFrameType.I
    if control & 3 == 1:
        return _S_TYPES.get(control & 0x0F, HdlcFrameType.UNKNOWN)
    return _U_TYPES.get(control & ~_POLL & 0xFF, HdlcFrameType.UNKNOWN)


def _check_control(instance: object, attribute: object, value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"HDLC control field {value} is not one byte")


@attrs.frozen(kw_only=True)
class HdlcFrame:
    """One HDLC frame, without flags and check sequences.

    Build frames with the class methods (``HdlcFrame.i_frame(...)``, ``.s_frame``,
    ``.u_frame``) rather than by hand-assembling the control byte.
    """

    destination: HdlcAddress
    source: HdlcAddress
    control: int = attrs.field(validator=_check_control)
    info: bytes = b""
    segmented: bool = False

    @classmethod
    def i_frame(
        cls,
        *,
        destination: HdlcAddress,
        source: HdlcAddress,
        send_sequence: int,
        receive_sequence: int,
        poll: bool,
        info: bytes,
        segmented: bool = False,
    ) -> HdlcFrame:
        control = ((receive_sequence & 7) << 5) | ((send_sequence & 7) << 1)
        if poll:
            control |= _POLL
        return cls(
            destination=destination, source=source, control=control, info=info, segmented=segmented
        )

    @classmethod
    def s_frame(
        cls,
        kind: HdlcFrameType,
        *,
        destination: HdlcAddress,
        source: HdlcAddress,
        receive_sequence: int,
        poll: bool = True,
    ) -> HdlcFrame:
        if kind not in _S_TYPES.values():
            raise ValueError(f"{kind!r} is not a supervisory frame")
        control = ((receive_sequence & 7) << 5) | kind.value | (_POLL if poll else 0)
        return cls(destination=destination, source=source, control=control)

    @classmethod
    def u_frame(
        cls,
        kind: HdlcFrameType,
        *,
        destination: HdlcAddress,
        source: HdlcAddress,
        poll: bool = True,
        info: bytes = b"",
    ) -> HdlcFrame:
        if kind not in _U_TYPES.values():
            raise ValueError(f"{kind!r} is not an unnumbered frame")
        control = kind.value | (_POLL if poll else 0)
        return cls(destination=destination, source=source, control=control, info=info)

    @property
    def frame_type(self) -> HdlcFrameType:
        return _frame_type(self.control)

    @property
    def poll_final(self) -> bool:
        return bool(self.control & _POLL)

    @property
    def send_sequence(self) -> int:
        """N(S) of an I frame."""
        return (self.control >> 1) & 7

    @property
    def receive_sequence(self) -> int:
        """N(R) of an I or S frame."""
        return self.control >> 5

    def encode(self) -> bytes:
        return encode_frame(self)


def encode_frame(frame: HdlcFrame) -> bytes:
    """The frame with flags, format field, HCS (when there is an info field) and FCS."""
    header = bytearray(2)
    header += frame.destination.encode()
    header += frame.source.encode()
    header.append(frame.control)
    info = frame.info
    length = len(header) + 2 + (len(info) + 2 if info else 0)
    if length > _MAX_LENGTH:
        raise ValueError(f"HDLC frame of {length} bytes exceeds the 11-bit length field")
    fmt = _FORMAT_TYPE_3 | (_SEGMENT_BIT if frame.segmented else 0) | length
    header[0] = fmt >> 8
    header[1] = fmt & 0xFF
    out = bytearray((FLAG,))
    out += header
    if info:
        out += crc16(header).to_bytes(2, "little")
        out += info
    out += crc16(out, 1).to_bytes(2, "little")
    out.append(FLAG)
    return bytes(out)


def _parse_header(
    buf: bytes | bytearray, start: int, length: int, *, limit: int | None = None
) -> tuple[HdlcAddress, HdlcAddress, int, int]:
    """Addresses, control and header end of the frame whose opening flag is at ``start``.

    ``limit`` bounds reading to the bytes received so far.
    """
    end = start + 1 + length
    if limit is not None:
        end = min(end, limit)
    destination, pos = decode_address(buf, start + 3, end)
    source, pos = decode_address(buf, pos, end)
    if pos >= end:
        raise DecodeError(
            "HDLC frame ends before its control field", offset=pos, expected="control"
        )
    return destination, source, buf[pos], pos + 1


def decode_frame(data: bytes | bytearray) -> HdlcFrame:
    """Decode exactly one complete frame, flags included; any defect is a ``DecodeError``."""
    n = len(data)
    if n < 9:
        raise DecodeError("HDLC frame too short", offset=n, expected="at least 9 bytes")
    if data[0] != FLAG:
        raise DecodeError("HDLC frame does not start with a flag", offset=0, expected="0x7E")
    fmt = (data[1] << 8) | data[2]
    if fmt & 0xF000 != _FORMAT_TYPE_3:
        raise DecodeError("not an HDLC frame format type 3", offset=1, expected="0xA")
    length = fmt & _MAX_LENGTH
    if length + 2 != n:
        raise DecodeError(
            f"HDLC length field says {length} but {n - 2} bytes lie between the flags",
            offset=1,
            expected="consistent length",
        )
    if data[n - 1] != FLAG:
        raise DecodeError("HDLC frame does not end with a flag", offset=n - 1, expected="0x7E")
    destination, source, control, hdr_end = _parse_header(data, 0, length)
    info = b""
    fcs_at = n - 3
    if fcs_at > hdr_end:
        if fcs_at < hdr_end + 3:
            raise DecodeError(
                "HDLC info field without room for HCS", offset=hdr_end, expected="HCS"
            )
        if crc16(data, 1, hdr_end) != int.from_bytes(data[hdr_end : hdr_end + 2], "little"):
            raise DecodeError("HDLC header check sequence mismatch", offset=hdr_end, expected="HCS")
        info = bytes(data[hdr_end + 2 : fcs_at])
    elif fcs_at < hdr_end:
        raise DecodeError("HDLC frame shorter than its header", offset=fcs_at, expected="FCS")
    if crc16(data, 1, fcs_at) != int.from_bytes(data[fcs_at : fcs_at + 2], "little"):
        raise DecodeError("HDLC frame check sequence mismatch", offset=fcs_at, expected="FCS")
    return HdlcFrame(
        destination=destination,
        source=source,
        control=control,
        info=info,
        segmented=bool(fmt & _SEGMENT_BIT),
    )


class HdlcFrameReader:
    """Cut a byte stream into HDLC frames.

    Feed bytes with :meth:`feed`; :meth:`next_frame` returns the next valid frame or
    ``None`` when more bytes are needed. Bytes that do not start a frame with a valid
    header are skipped (``garbage_bytes``); a frame whose FCS fails is dropped
    (``bad_fcs``) and a header that fails its HCS is garbage (``bad_hcs``); either way the
    search resumes at the next flag. A stray flag holds the reader for at most a header's
    worth of bytes (until its HCS can be checked).
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0
        self.frames = 0
        self.bad_hcs = 0
        self.bad_fcs = 0
        self.garbage_bytes = 0

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        if self._pos and self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        self._buf += data

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a returned frame (a partial frame)."""
        return len(self._buf) - self._pos

    @property
    def in_frame(self) -> bool:
        """True when the buffer holds the start of a frame, not just flags."""
        return any(b != FLAG for b in self._buf[self._pos :])

    def _skip(self, count: int) -> None:
        pos = self._pos
        if self._buf[pos] != FLAG or count != 1:
            self.garbage_bytes += count
        self._pos = pos + count

    def next_frame(self) -> HdlcFrame | None:
        buf = self._buf
        while True:
            pos = self._pos
            size = len(buf)
            i = buf.find(FLAG, pos)
            if i < 0:
                self.garbage_bytes += size - pos
                self._pos = size
                self._compact()
                return None
            if i > pos:
                self.garbage_bytes += i - pos
                self._pos = pos = i
            avail = size - pos
            if avail < 3:
                self._compact()
                return None
            fmt = (buf[pos + 1] << 8) | buf[pos + 2]
            length = fmt & _MAX_LENGTH
            if fmt & 0xF000 != _FORMAT_TYPE_3 or length < 7:
                self._skip(1)
                continue
            end = pos + 1 + length  # index of the closing flag
            try:
                destination, source, control, hdr_end = _parse_header(buf, pos, length, limit=size)
            except DecodeError:
                if size < min(end, pos + 1 + _MAX_HEADER):
                    self._compact()
                    return None  # the header may still be completed by more bytes
                self._skip(1)
                continue
            fcs_at = end - 2
            has_info = fcs_at > hdr_end
            if has_info:
                if fcs_at < hdr_end + 3:
                    self._skip(1)
                    continue
                if size < hdr_end + 2:
                    self._compact()
                    return None
                if crc16(buf, pos + 1, hdr_end) != (buf[hdr_end] | (buf[hdr_end + 1] << 8)):
                    self.bad_hcs += 1
                    self._skip(1)
                    continue
            elif fcs_at < hdr_end:
                self._skip(1)
                continue
            if size <= end:
                self._compact()
                return None
            if buf[end] != FLAG:
                self._skip(1)
                continue
            if crc16(buf, pos + 1, fcs_at) != (buf[fcs_at] | (buf[fcs_at + 1] << 8)):
                # Resynchronise from the next flag rather than jumping the whole frame: a
                # truncated frame followed by good ones must not swallow them.
                self.bad_fcs += 1
                self._skip(1)
                continue
            self._pos = end  # the closing flag may open the next frame
            self.frames += 1
            return HdlcFrame(
                destination=destination,
                source=source,
                control=control,
                info=bytes(buf[hdr_end + 2 : fcs_at]) if has_info else b"",
                segmented=bool(fmt & _SEGMENT_BIT),
            )

    def _compact(self) -> None:
        if self._pos > 4096 or self._pos == len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0
