"""Service-specific block transfer: cutting encodings into blocks and putting them back.

GET-Response-With-Datablock, SET-Request-With-(First-)Datablock and the ACTION pblock
forms (Green Book 9.3.x, "service-specific block transfer") carry an A-XDR encoding cut
into numbered pieces (``DataBlock-G`` / ``DataBlock-SA``: last-block, block-number
Unsigned32, raw-data OCTET STRING). This module works on bytes only; the machines wrap
the pieces in the right APDU.
"""

from __future__ import annotations

from dlmskit.errors import LocalProtocolError, RemoteProtocolError

__all__ = ["BlockReassembler", "BlockSegmenter", "length_prefix_size", "payload_size"]


def length_prefix_size(n: int) -> int:
    """Bytes the A-XDR length of an ``n``-byte octet-string takes (Green Book 9.5 / X.690)."""
    if n < 0x80:
        return 1
    if n <= 0xFF:
        return 2
    if n <= 0xFFFF:
        return 3
    return 5


def payload_size(max_pdu: int, overhead: int) -> int:
    """The largest raw-data length that fits, with its length prefix, in ``max_pdu`` bytes.

    ``overhead`` counts every other byte of the APDU (tags, invoke-id, block number,
    ciphering header and tag).
    """
    avail = max_pdu - overhead
    best = 0
    for prefix, cap in ((1, 0x7F), (2, 0xFF), (3, 0xFFFF), (5, 0xFFFFFFFF)):
        best = max(best, min(avail - prefix, cap))
    if best <= 0:
        raise LocalProtocolError(
            f"a maximum PDU size of {max_pdu} leaves no room for block data "
            f"after {overhead} bytes of header"
        )
    return best


class BlockSegmenter:
    """Numbers the blocks of one encoding, 1-based, and hands them out in order."""

    __slots__ = ("_data", "_size", "count", "sent")

    def __init__(self, data: bytes, block_size: int) -> None:
        if block_size <= 0:
            raise LocalProtocolError("block size must be positive")
        self._data = data
        self._size = block_size
        self.count = max(1, -(-len(data) // block_size))
        self.sent = 0

    def block(self, number: int) -> tuple[bool, bytes]:
        """Block ``number`` (1-based) as ``(last_block, raw_data)``."""
        if not 1 <= number <= self.count:
            raise LocalProtocolError(f"block {number} is outside 1..{self.count}")
        start = (number - 1) * self._size
        return number == self.count, self._data[start : start + self._size]

    @property
    def done(self) -> bool:
        return self.sent >= self.count

    def next_block(self) -> tuple[int, bool, bytes]:
        """The next block as ``(block_number, last_block, raw_data)``."""
        if self.done:
            raise LocalProtocolError("every block has been sent")
        self.sent += 1
        last, data = self.block(self.sent)
        return self.sent, last, data


class BlockReassembler:
    """Collects numbered blocks in order, within a size and a block-count limit."""

    __slots__ = ("_buffer", "expected", "max_blocks", "max_size")

    def __init__(self, *, max_size: int, max_blocks: int) -> None:
        self.max_size = max_size
        self.max_blocks = max_blocks
        self._buffer = bytearray()
        self.expected = 1

    @property
    def received(self) -> int:
        """How many blocks have been accepted so far."""
        return self.expected - 1

    def add(self, number: int, data: bytes, *, last: bool) -> bytes | None:
        """Accept block ``number``; the whole encoding once ``last`` is set, else ``None``.

        A block out of sequence, or one that passes the limits, is the peer's error.
        """
        if number != self.expected:
            raise RemoteProtocolError(f"block {number} received, block {self.expected} expected")
        if number > self.max_blocks:
            raise RemoteProtocolError(f"more than {self.max_blocks} blocks in one transfer")
        if len(self._buffer) + len(data) > self.max_size:
            raise RemoteProtocolError(
                f"reassembled data would exceed the limit of {self.max_size} bytes"
            )
        self._buffer += data
        self.expected += 1
        if last:
            return bytes(self._buffer)
        return None
