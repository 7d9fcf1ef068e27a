"""CRC-16/X-25 for the HDLC header and frame check sequences (IEC 62056-46, ISO/IEC 13239).

Polynomial 0x1021 used reflected (0x8408), initial value 0xFFFF, final XOR 0xFFFF. The
checksum goes on the wire least significant byte first. ``crc16(b"123456789") == 0x906E``.

A reflected CRC equals the unreflected CRC of the bit-reversed bytes, bit-reversed; so
the hot path bit-reverses with ``bytes.translate`` and runs the table-driven CRC-CCITT
of ``binascii.crc_hqx`` (same polynomial, same initial value), both in C. The
pure-Python table-driven form, :func:`crc16_table`, is the readable reference.
"""

from __future__ import annotations

import binascii

__all__ = ["crc16", "crc16_bytes", "crc16_table"]

_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def _build_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _build_table()


def crc16_table(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/X-25 of ``data``, one table lookup per byte in Python (the reference)."""
    table = _TABLE
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFF


def crc16(
    data: bytes | bytearray | memoryview,
    start: int = 0,
    end: int | None = None,
) -> int:
    """CRC-16/X-25 of ``data[start:end]``."""
    rev = _REVERSED
    chunk = data[start:end] if start or end is not None else data
    if isinstance(chunk, memoryview):
        chunk = chunk.tobytes()
    crc = binascii.crc_hqx(chunk.translate(rev), 0xFFFF)
    return ((rev[crc & 0xFF] << 8) | rev[crc >> 8]) ^ 0xFFFF


def crc16_bytes(
    data: bytes | bytearray | memoryview, start: int = 0, end: int | None = None
) -> bytes:
    """The two check bytes as transmitted: least significant byte first."""
    return crc16(data, start, end).to_bytes(2, "little")
