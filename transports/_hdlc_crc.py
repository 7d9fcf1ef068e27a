"""CRC-16/X-25 for the HDLC header and frame check sequences (IEC 62056-46, ISO/IEC 13239).

Polynomial 0x1021 used reflected (0x8408), initial value 0xFFFF, final XOR 0xFFFF. The
checksum goes on the wire least significant byte first. ``crc16(b"123456789") == 0x906E``.
"""

from __future__ import annotations

__all__ = ["crc16", "crc16_bytes"]


def _build_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _build_table()


def crc16(data: bytes | bytearray | memoryview, start: int = 0, end: int | None = None) -> int:
    """CRC-16/X-25 of ``data[start:end]``, table driven, one lookup per byte."""
    table = _TABLE
    crc = 0xFFFF
    view = data if end is None and start == 0 else memoryview(data)[start:end]
    for byte in view:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFF


def crc16_bytes(
    data: bytes | bytearray | memoryview, start: int = 0, end: int | None = None
) -> bytes:
    """The two check bytes as transmitted: least significant byte first."""
    return crc16(data, start, end).to_bytes(2, "little")
