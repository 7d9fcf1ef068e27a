"""General block transfer (GBT, Green Book 9.3.x, APDU 0xE0): windows and lost blocks.

Any APDU, ciphered or not, may be cut into ``general-block-transfer`` APDUs (block-control
with last-block, streaming and window, block-number, block-number-ack, block-data). The
sender streams at most the peer's window of blocks, the receiver acknowledges the last
block it holds in sequence, and the sender resumes from the block after that ack; a lost
block is therefore re-sent simply by acknowledging the one before it. This module is the
window logic over :class:`GbtBlock` records; the machines turn them into APDUs.
"""

from __future__ import annotations

import attrs

from dlmskit.errors import LocalProtocolError, RemoteProtocolError

__all__ = ["MAX_WINDOW", "GbtBlock", "GbtReceiver", "GbtSender"]

#: The window field is six bits wide.
MAX_WINDOW = 63


@attrs.frozen(kw_only=True)
class GbtBlock:
    """The fields of one general-block-transfer APDU."""

    last: bool
    streaming: bool
    window: int
    number: int
    ack: int
    data: bytes

    @property
    def is_ack_only(self) -> bool:
        """An acknowledgement carrying no data (it never ends an APDU)."""
        return not self.data and not self.last


class GbtSender:
    """Sends one APDU as numbered blocks, a window at a time, resending after a short ack."""

    __slots__ = ("_blocks", "_own_window", "acked", "next_number")

    def __init__(self, apdu: bytes, *, block_size: int, own_window: int) -> None:
        if block_size <= 0:
            raise LocalProtocolError("GBT block size must be positive")
        if not 1 <= own_window <= MAX_WINDOW:
            raise LocalProtocolError(f"GBT window must be 1..{MAX_WINDOW}")
        if len(apdu) > block_size * 0xFFFF:
            raise LocalProtocolError("APDU needs more than 65535 GBT blocks")
        self._blocks = [apdu[i : i + block_size] for i in range(0, len(apdu), block_size)] or [b""]
        self._own_window = own_window
        self.next_number = 1
        self.acked = 0

    @property
    def count(self) -> int:
        return len(self._blocks)

    @property
    def all_sent(self) -> bool:
        return self.next_number > len(self._blocks)

    def burst(self, *, peer_window: int, ack: int) -> list[GbtBlock]:
        """The next window of blocks; ``ack`` is our acknowledgement of the peer's blocks."""
        window = max(1, min(peer_window, MAX_WINDOW))
        out: list[GbtBlock] = []
        total = len(self._blocks)
        while self.next_number <= total and len(out) < window:
            number = self.next_number
            last = number == total
            out.append(
                GbtBlock(
                    last=last,
                    streaming=not last and len(out) + 1 < window,
                    window=self._own_window,
                    number=number,
                    ack=ack,
                    data=self._blocks[number - 1],
                )
            )
            self.next_number += 1
        return out

    def on_ack(self, ack: int) -> None:
        """The peer holds every block up to ``ack``: resume after it."""
        if not 0 <= ack <= len(self._blocks):
            raise RemoteProtocolError(
                f"GBT ack of block {ack}, but only {len(self._blocks)} blocks exist"
            )
        if ack < self.acked:
            raise RemoteProtocolError(f"GBT ack went back from {self.acked} to {ack}")
        self.acked = ack
        self.next_number = ack + 1


class GbtReceiver:
    """Reassembles one APDU from GBT blocks, keeping only what arrives in sequence."""

    __slots__ = ("_buffer", "expected", "max_blocks", "max_size", "peer_window")

    def __init__(self, *, max_size: int, max_blocks: int) -> None:
        self.max_size = max_size
        self.max_blocks = max_blocks
        self._buffer = bytearray()
        self.expected = 1
        self.peer_window = 1

    @property
    def last_good(self) -> int:
        """The highest block number held with no gap before it."""
        return self.expected - 1

    def on_block(self, block: GbtBlock) -> tuple[bytes | None, bool]:
        """Accept ``block``; returns ``(whole APDU or None, whether to send an ack now)``.

        Blocks after a gap are dropped; at the end of a window (streaming off) or on the
        last block with a gap, the caller acknowledges :attr:`last_good` so the sender
        re-sends what is missing.
        """
        self.peer_window = max(1, block.window)
        if block.number > 0xFFFF or block.number < 1:
            raise RemoteProtocolError(f"GBT block number {block.number} out of range")
        if block.number == self.expected:
            if block.number > self.max_blocks:
                raise RemoteProtocolError(f"more than {self.max_blocks} GBT blocks in one APDU")
            if len(self._buffer) + len(block.data) > self.max_size:
                raise RemoteProtocolError(
                    f"GBT reassembly would exceed the limit of {self.max_size} bytes"
                )
            self._buffer += block.data
            self.expected += 1
            if block.last:
                return bytes(self._buffer), False
        return None, not block.streaming or block.last

    def ack_block(self, *, number: int, window: int) -> GbtBlock:
        """An ack-only block acknowledging everything held in sequence."""
        return GbtBlock(
            last=False, streaming=False, window=window, number=number, ack=self.last_good, data=b""
        )
