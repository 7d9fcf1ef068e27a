"""General-Block-Transfer (0xE0): any APDU cut into numbered, windowed blocks.

Block-control: bit 7 last-block, bit 6 streaming, bits 0-5 window (how many blocks
the sender may stream before it waits for an acknowledgement).
"""

from __future__ import annotations

from typing import Final

import attrs

from dlmskit.apdu._descriptors import ApduReader, TaggedApdu, in_range, write_octet_string

__all__ = ["GeneralBlockTransfer"]

_U16: Final = 0xFFFF


@attrs.frozen(kw_only=True)
class GeneralBlockTransfer(TaggedApdu):
    """General-Block-Transfer: one block of a longer APDU.

    ``block_number`` counts from 1; ``block_number_ack`` is the last block the sender
    received in sequence from its peer.
    """

    TAG = 0xE0

    last_block: bool
    streaming: bool = False
    window: int = attrs.field(default=1, validator=in_range(0, 63))
    block_number: int = attrs.field(validator=in_range(0, _U16))
    block_number_ack: int = attrs.field(default=0, validator=in_range(0, _U16))
    block_data: bytes

    @property
    def block_control(self) -> int:
        return (0x80 if self.last_block else 0) | (0x40 if self.streaming else 0) | self.window

    def _write_body(self, out: bytearray) -> None:
        out.append(self.block_control)
        out += self.block_number.to_bytes(2, "big")
        out += self.block_number_ack.to_bytes(2, "big")
        write_octet_string(out, self.block_data)

    @classmethod
    def _read_body(cls, r: ApduReader) -> GeneralBlockTransfer:
        control = r.u8("block-control")
        block_number = r.u16("block-number")
        ack = r.u16("block-number-ack")
        return cls(
            last_block=bool(control & 0x80),
            streaming=bool(control & 0x40),
            window=control & 0x3F,
            block_number=block_number,
            block_number_ack=ack,
            block_data=r.octet_string("block-data"),
        )
