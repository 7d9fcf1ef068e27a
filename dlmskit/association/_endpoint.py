"""What the client and server association machines share.

Both keep an outbound queue and an event queue, protect and unprotect APDUs through the
:class:`~dlmskit.association._security_seam.Ciphering` seam, and cut APDUs into general
block transfer blocks (and put them back) once GBT is negotiated (Green Book 9.3.x).
"""

from __future__ import annotations

from collections import deque
from typing import Final

import attrs

from dlmskit.apdu import AARQ, RLRQ, GeneralBlockTransfer
from dlmskit.association._blocks import payload_size
from dlmskit.association._events import NEED_DATA, Event, NeedData
from dlmskit.association._gbt import GbtBlock, GbtReceiver, GbtSender
from dlmskit.association._security_seam import (
    Ciphering,
    protect_dedicated,
    protect_general_glo,
)
from dlmskit.association._state import (
    AssociationState,
    AssociationStateMachine,
    Trigger,
)
from dlmskit.errors import RemoteProtocolError

__all__ = [
    "CIPHERED_TAGS",
    "CIPHER_OVERHEAD",
    "DEFAULT_MAX_BLOCKS",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_REASSEMBLED_SIZE",
    "DEDICATED_TAGS",
    "GBT_HEADER",
    "Endpoint",
]

#: First bytes of ciphered APDUs: glo-/ded- service-specific (dlms-facts 1.1) and the
#: general-glo/-ded/-ciphering envelopes.
CIPHERED_TAGS: Final = frozenset(
    {0x21, 0x25, 0x26, 0x28, 0x2C, 0x2D, 0x2E, 0x36, 0x38}
    | {0x41, 0x45, 0x46, 0x48, 0x4C, 0x4D, 0x4E, 0x56, 0x58}
    | {0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCF}
    | {0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD7}
    | {0xDB, 0xDC, 0xDD}
)
#: First bytes of APDUs protected with the dedicated key: ded- service-specific (SN and
#: LN) and general-ded-ciphering.
DEDICATED_TAGS: Final = frozenset(
    {0x41, 0x45, 0x46, 0x48, 0x4C, 0x4D, 0x4E, 0x56, 0x58}
    | {0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD7}
    | {0xDC}
)
#: Upper bound of what ciphering adds to an APDU: tag, system title with its length
#: (general-glo/-ded forms only), length (up to 3 bytes), security control, invocation
#: counter, 12-byte tag.
CIPHER_OVERHEAD: Final = 1 + 1 + 8 + 3 + 1 + 4 + 12
#: general-block-transfer before block-data: tag, block-control, block-number, ack.
GBT_HEADER: Final = 1 + 1 + 2 + 2

DEFAULT_MAX_REASSEMBLED_SIZE: Final = 16 * 1024 * 1024
DEFAULT_MAX_BLOCKS: Final = 100_000
DEFAULT_MAX_DEPTH: Final = 64


def _to_apdu(block: GbtBlock) -> bytes:
    return GeneralBlockTransfer(
        last_block=block.last,
        streaming=block.streaming,
        window=block.window,
        block_number=block.number,
        block_number_ack=block.ack,
        block_data=block.data,
    ).to_bytes()


def _from_apdu(data: bytes) -> GbtBlock:
    apdu = GeneralBlockTransfer.from_bytes(data)
    return GbtBlock(
        last=apdu.last_block,
        streaming=apdu.streaming,
        window=apdu.window,
        number=apdu.block_number,
        ack=apdu.block_number_ack,
        data=apdu.block_data,
    )


class Endpoint:
    """Queues, ciphering and general block transfer for one side of an association."""

    def __init__(
        self,
        *,
        ciphering: Ciphering | None,
        gbt_window: int,
        max_reassembled_size: int,
        max_blocks: int,
        max_depth: int,
    ) -> None:
        self._machine = AssociationStateMachine()
        self._out: list[bytes] = []
        self._events: deque[Event] = deque()
        self._ciphering = ciphering
        self._gbt_window = gbt_window
        self.max_reassembled_size = max_reassembled_size
        self.max_blocks = max_blocks
        self.max_depth = max_depth
        #: The largest APDU the peer accepts (its max receive PDU size).
        self.peer_max_pdu = 0xFFFF
        self._gbt_sender: GbtSender | None = None
        self._gbt_receiver: GbtReceiver | None = None
        self._gbt_peer_window = 1
        self._gbt_last_number = 0
        #: Keep the last batch sent and the plaintext of what it protected, so it can be
        #: sent again protected afresh (the client role; a server needs none of it).
        self._keep_last_batch = False
        #: protected APDU (or user-information) -> (plaintext, general form), since the
        #: last ``data_to_send``; and the last non-empty batch with its map.
        self._protected_plain: dict[bytes, tuple[bytes, bool]] = {}
        self._last_batch: tuple[list[bytes], dict[bytes, tuple[bytes, bool]]] = ([], {})
        #: Protect service APDUs with the dedicated key (ded- forms, Green Book 9.2.7);
        #: ACSE user-information always stays glo-ciphered.
        self._dedicated = False

    # -- public surface shared by both roles ------------------------------------------

    @property
    def state(self) -> AssociationState:
        """The association state (see :class:`AssociationState`)."""
        return self._machine.state

    def data_to_send(self) -> list[bytes]:
        """Every APDU queued for the peer, oldest first; the queue is emptied."""
        out, self._out = self._out, []
        if out and self._keep_last_batch:
            self._last_batch = (out, self._protected_plain)
            self._protected_plain = {}
        return out

    def next_event(self) -> Event | NeedData:
        """The next event, or :data:`NEED_DATA` when none is ready."""
        if self._events:
            return self._events.popleft()
        return NEED_DATA

    # -- shared by the roles -----------------------------------------------------------

    def _fail(self) -> None:
        if self._machine.state is not AssociationState.ERROR:
            self._machine.process(Trigger.PROTOCOL_ERROR)
        self._gbt_sender = None
        self._gbt_receiver = None

    def _reset_transfer(self) -> None:
        self._gbt_sender = None
        self._gbt_receiver = None

    @property
    def _ciphered(self) -> bool:
        return self._ciphering is not None

    def _protect(self, apdu: bytes) -> bytes:
        """A service APDU protected glo- or, once a dedicated key is in use, ded-."""
        if self._ciphering is None:
            return apdu
        if self._dedicated:
            protected = protect_dedicated(self._ciphering, apdu, general=False)
        else:
            protected = self._ciphering.protect(apdu)
        if self._keep_last_batch:
            self._protected_plain[protected] = (apdu, False)
        return protected

    def _protect_acse(self, apdu: bytes) -> bytes:
        """The InitiateRequest/-Response of an AARQ, AARE, RLRQ or RLRE: glo-ciphered
        with the global key, also where the association uses a dedicated key."""
        if self._ciphering is None:
            return apdu
        protected = self._ciphering.protect(apdu)
        if self._keep_last_batch:
            self._protected_plain[protected] = (apdu, False)
        return protected

    def _protect_general(self, apdu: bytes) -> bytes:
        """As ``_protect``, for APDUs with no service-specific ciphered form."""
        if self._ciphering is None:
            return apdu
        if self._dedicated:
            protected = protect_dedicated(self._ciphering, apdu, general=True)
        else:
            protected = protect_general_glo(self._ciphering, apdu)
        if self._keep_last_batch:
            self._protected_plain[protected] = (apdu, True)
        return protected

    def _reprotect(self, apdu: bytes, protected: dict[bytes, tuple[bytes, bool]]) -> bytes:
        """``apdu`` of an earlier batch with its ciphered parts protected afresh (a new
        invocation counter): a whole ciphered APDU, or the user-information of an
        AARQ/RLRQ; anything else unchanged."""
        plain = protected.get(apdu)
        if plain is not None:
            text, general = plain
            return self._protect_general(text) if general else self._protect(text)
        if apdu[:1] in (b"\x60", b"\x62"):
            request: AARQ | RLRQ = (AARQ if apdu[0] == 0x60 else RLRQ).from_bytes(apdu)
            user = request.user_information
            if user is not None and user in protected:
                fresh = self._protect_acse(protected[user][0])
                return attrs.evolve(request, user_information=fresh).to_bytes()
        return apdu

    def _unprotect(self, apdu: bytes) -> bytes:
        """Plaintext of a ciphered APDU; other APDUs pass unchanged (the roles decide
        which plain APDUs a ciphered association accepts)."""
        if self._ciphering is None:
            return apdu
        if apdu[:1] and apdu[0] in CIPHERED_TAGS:
            return self._ciphering.unprotect(apdu)
        return apdu

    def _cipher_overhead(self) -> int:
        return CIPHER_OVERHEAD if self._ciphered else 0

    def _fits(self, plain_apdu_length: int) -> bool:
        """Whether an APDU of that (plaintext) length fits the peer's max receive PDU."""
        return plain_apdu_length + self._cipher_overhead() <= self.peer_max_pdu

    def _send_gbt(self, apdu: bytes) -> None:
        """Send an already protected APDU as general-block-transfer blocks."""
        block_size = payload_size(self.peer_max_pdu, GBT_HEADER)
        ack = self._gbt_receiver.last_good if self._gbt_receiver is not None else 0
        self._gbt_sender = GbtSender(apdu, block_size=block_size, own_window=self._gbt_window)
        self._gbt_receiver = GbtReceiver(
            max_size=self.max_reassembled_size, max_blocks=min(self.max_blocks, 0xFFFF)
        )
        self._queue_burst(ack)

    def _queue_burst(self, ack: int) -> None:
        assert self._gbt_sender is not None
        for block in self._gbt_sender.burst(peer_window=self._gbt_peer_window, ack=ack):
            self._gbt_last_number = block.number
            self._out.append(_to_apdu(block))

    def _receive_gbt(self, data: bytes, *, expect_new: bool) -> bytes | None:
        """Handle one general-block-transfer APDU; the whole APDU once it is complete.

        ``expect_new`` lets a block 1 start a fresh transfer (the server side, where a
        new request may follow a finished response).
        """
        block = _from_apdu(data)
        self._gbt_peer_window = max(1, block.window)
        if block.is_ack_only:
            if self._gbt_sender is None:
                raise RemoteProtocolError("GBT acknowledgement while nothing is being sent")
            self._gbt_sender.on_ack(block.ack)
            receiver = self._gbt_receiver
            self._queue_burst(receiver.last_good if receiver is not None else 0)
            return None
        if self._gbt_receiver is None or (expect_new and block.number == 1):
            self._gbt_receiver = GbtReceiver(
                max_size=self.max_reassembled_size, max_blocks=min(self.max_blocks, 0xFFFF)
            )
        # Data from the peer means our own APDU reached it whole.
        self._gbt_sender = None
        whole, need_ack = self._gbt_receiver.on_block(block)
        if whole is not None:
            return whole
        if need_ack:
            self._queue_gbt_ack()
        return None

    def _queue_gbt_ack(self) -> None:
        assert self._gbt_receiver is not None
        ack = self._gbt_receiver.ack_block(number=self._gbt_last_number, window=self._gbt_window)
        self._out.append(_to_apdu(ack))

    def _retransmit_gbt(self) -> bool:
        """After the caller's timer expired: re-ask for missing blocks or resend ours."""
        if self._gbt_receiver is not None and self._gbt_receiver.last_good > 0:
            self._queue_gbt_ack()
            return True
        if self._gbt_sender is not None:
            self._gbt_sender.on_ack(self._gbt_sender.acked)
            self._queue_burst(0)
            return True
        return False
