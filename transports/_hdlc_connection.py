"""HDLC link layer for DLMS in normal response mode (IEC 62056-46), sans-IO.

One :class:`HdlcConnection` is either end of a link: the client (primary station,
which sends SNRM/DISC and polls) or the server (the meter, secondary station, which
answers). Feed received bytes with :meth:`~HdlcConnection.receive_data`, pull events with
:meth:`~HdlcConnection.next_event`, and put on the wire what :meth:`send_apdu`,
:meth:`connect`, :meth:`disconnect`, :meth:`handle_timeout` return and what
:meth:`data_to_send` holds after processing (acknowledgements, UA, DM, retransmissions).

Time comes from the caller: methods take ``now`` (seconds, any monotonic origin) and
:attr:`next_deadline` says when the client wants :meth:`handle_timeout` to be called.
Every state change of the link is in :data:`~transports.TRANSITIONS` (``_hdlc_state``).
"""

from __future__ import annotations

from collections import deque

import attrs

from dlmskit.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from transports._hdlc_address import HdlcAddress
from transports._hdlc_events import (
    NEED_DATA,
    ApduReceived,
    Connected,
    Disconnected,
    HdlcEvent,
)
from transports._hdlc_frame import HdlcFrame, HdlcFrameReader, HdlcFrameType
from transports._hdlc_parameters import HdlcParameters
from transports._hdlc_state import TRANSITIONS, HdlcRole, HdlcState, HdlcTrigger

__all__ = [
    "LLC_REQUEST",
    "LLC_RESPONSE",
    "TRANSITIONS",
    "HdlcConnection",
    "HdlcRole",
    "HdlcState",
    "HdlcStats",
    "HdlcTrigger",
]

#: LLC header on client → server information fields (dest LSAP, src LSAP, quality).
LLC_REQUEST = b"\xe6\xe6\x00"
#: LLC header on server → client information fields.
LLC_RESPONSE = b"\xe6\xe7\x00"


@attrs.frozen(kw_only=True)
class HdlcStats:
    """Counters of what the link dropped or repeated, for diagnostics and KPIs."""

    frames_received: int
    bad_hcs: int
    bad_fcs: int
    garbage_bytes: int
    wrong_address: int
    out_of_sequence: int
    retransmissions: int


def _negotiate(own: HdlcParameters, peer: HdlcParameters) -> HdlcParameters:
    """Our effective parameters given our proposal and the peer's (peer's point of view)."""
    return HdlcParameters(
        max_info_transmit=min(own.tx_info, peer.rx_info),
        max_info_receive=min(own.rx_info, peer.tx_info),
        window_transmit=min(own.tx_window, peer.rx_window),
        window_receive=min(own.rx_window, peer.tx_window),
    )


class HdlcConnection:
    """One end of an HDLC link carrying DLMS APDUs.

    ``client_address`` is the client SAP (e.g. 0x10 public client). On the server side it
    may be ``None``: the server then accepts a connection from any client and talks to
    that one until it disconnects.
    ``parameters`` are this end's proposal/capabilities (max information field lengths
    and window sizes). ``response_timeout`` and ``max_retries`` drive the client's
    retransmissions; ``reply_poll_interval`` is how soon the client polls again when the
    server handed the poll back without the awaited reply; ``max_apdu_size`` bounds
    reassembly of segmented APDUs.
    """

    def __init__(
        self,
        role: HdlcRole,
        *,
        server_address: HdlcAddress,
        client_address: int | None = 0x10,
        parameters: HdlcParameters | None = None,
        response_timeout: float = 3.0,
        max_retries: int = 3,
        reply_poll_interval: float = 0.1,
        max_apdu_size: int = 0x10000,
    ) -> None:
        if role is HdlcRole.CLIENT and client_address is None:
            raise ValueError("a client needs its own client address")
        self.role = role
        self.server_address = server_address
        self.client_address = None if client_address is None else HdlcAddress.client(client_address)
        self.proposal = parameters if parameters is not None else HdlcParameters()
        self.parameters = HdlcParameters(
            max_info_transmit=self.proposal.tx_info,
            max_info_receive=self.proposal.rx_info,
            window_transmit=self.proposal.tx_window,
            window_receive=self.proposal.rx_window,
        )
        self.response_timeout = response_timeout
        self.max_retries = max_retries
        self.reply_poll_interval = reply_poll_interval
        self._any_client = role is HdlcRole.SERVER and client_address is None
        self.max_apdu_size = max_apdu_size
        self.state = HdlcState.DISCONNECTED
        self._reader = HdlcFrameReader()
        self._out = bytearray()
        self._events: deque[HdlcEvent] = deque()
        self._now = 0.0
        self._deadline: float | None = None
        self._retries = 0
        self._wrong_address = 0
        self._out_of_sequence = 0
        self._retransmissions = 0
        self._reset_link()

    # ----------------------------------------------------------------- helpers

    def _reset_link(self) -> None:
        self._vs = 0  # N(S) of the next I frame we send
        self._vr = 0  # N(S) we expect next from the peer
        self._unacked: deque[tuple[bytes, bool]] = deque()
        self._pending: deque[tuple[bytes, bool]] = deque()
        self._rx_parts: list[bytes] = []
        self._rx_size = 0
        self._rx_overflow = False
        self._poll_outstanding = False  # client: sent P, waiting for F
        self._expect_reply = False  # client: an APDU was sent, its answer has not come
        self._has_poll = False  # server: may transmit (received P, not yet answered F)
        self._reply_pending = False  # server: an APDU was delivered, not yet answered

    @property
    def _own(self) -> HdlcAddress:
        if self.role is HdlcRole.CLIENT:
            assert self.client_address is not None
            return self.client_address
        return self.server_address

    @property
    def _peer(self) -> HdlcAddress:
        if self.role is HdlcRole.CLIENT:
            return self.server_address
        return self.client_address if self.client_address is not None else HdlcAddress.client(0)

    @property
    def _llc_out(self) -> bytes:
        return LLC_REQUEST if self.role is HdlcRole.CLIENT else LLC_RESPONSE

    @property
    def _llc_in(self) -> bytes:
        return LLC_RESPONSE if self.role is HdlcRole.CLIENT else LLC_REQUEST

    def _transition(self, trigger: HdlcTrigger) -> bool:
        new = TRANSITIONS[self.role][self.state].get(trigger)
        if new is None:
            return False
        self.state = new
        return True

    def _emit(self, frame: HdlcFrame) -> None:
        self._out += frame.encode()

    def _u(self, kind: HdlcFrameType, *, poll: bool = True, info: bytes = b"") -> None:
        self._emit(
            HdlcFrame.u_frame(kind, destination=self._peer, source=self._own, poll=poll, info=info)
        )

    def _rr(self) -> None:
        self._emit(
            HdlcFrame.s_frame(
                HdlcFrameType.RR,
                destination=self._peer,
                source=self._own,
                receive_sequence=self._vr,
                poll=True,
            )
        )

    def _arm(self) -> None:
        self._deadline = self._now + self.response_timeout

    def _drain(self) -> bytes:
        data = bytes(self._out)
        self._out.clear()
        return data

    def _set_now(self, now: float | None) -> None:
        if now is not None:
            self._now = now

    def _down(self, trigger: HdlcTrigger, reason: str) -> None:
        if self._transition(trigger):
            self._reset_link()
            self._deadline = None
            self._retries = 0
            self._events.append(Disconnected(reason=reason))

    # -------------------------------------------------------------- public API

    @property
    def next_deadline(self) -> float | None:
        """When :meth:`handle_timeout` should be called, or ``None`` (nothing to time)."""
        return self._deadline

    @property
    def sending(self) -> bool:
        """True while segments of an APDU we send wait for the peer to let them go out."""
        return bool(self._pending)

    @property
    def can_poll(self) -> bool:
        """Client: connected and not waiting for an answer, so :meth:`poll` would send RR."""
        return (
            self.role is HdlcRole.CLIENT
            and self.state is HdlcState.CONNECTED
            and not self._poll_outstanding
            and not self._pending
        )

    @property
    def holding_poll(self) -> bool:
        """Server: the client polled and we have not answered (we may transmit)."""
        return self.role is HdlcRole.SERVER and self._has_poll

    def poll(self, *, now: float | None = None) -> bytes:
        """Client: RR with the poll bit, giving the server the right to send what it has."""
        self._set_now(now)
        if not self.can_poll:
            return b""
        self._rr()
        self._after_poll_sent()
        return self._drain()

    def release_poll(self) -> bytes:
        """Server: answer a held poll with RR when we will not reply with data now.

        A server holds the poll after delivering an APDU so that the reply can go out at
        once; an application that does not reply releases it so the client may go on.
        """
        if self.role is not HdlcRole.SERVER or not self._has_poll or self._pending:
            return b""
        self._reply_pending = False
        if self._unacked:
            self._retransmissions += 1
            self._resend_unacked()
        else:
            self._rr()
            self._has_poll = False
        return self._drain()

    @property
    def stats(self) -> HdlcStats:
        reader = self._reader
        return HdlcStats(
            frames_received=reader.frames,
            bad_hcs=reader.bad_hcs,
            bad_fcs=reader.bad_fcs,
            garbage_bytes=reader.garbage_bytes,
            wrong_address=self._wrong_address,
            out_of_sequence=self._out_of_sequence,
            retransmissions=self._retransmissions,
        )

    @property
    def mid_frame(self) -> bool:
        """True when received bytes of an unfinished frame are buffered."""
        return self._reader.in_frame

    def connect(self, *, now: float | None = None) -> bytes:
        """Client: SNRM with our proposed parameters."""
        self._set_now(now)
        if self.role is not HdlcRole.CLIENT or not self._transition(HdlcTrigger.CONNECT):
            raise LocalProtocolError(f"cannot connect: {self.role.value} in {self.state.value}")
        self._reset_link()
        self._retries = 0
        self._u(HdlcFrameType.SNRM, info=self.proposal.encode())
        self._arm()
        return self._drain()

    def disconnect(self, *, now: float | None = None) -> bytes:
        """Client: DISC. The link is down once :class:`Disconnected` comes out."""
        self._set_now(now)
        if self.role is not HdlcRole.CLIENT or not self._transition(HdlcTrigger.DISCONNECT):
            raise LocalProtocolError(f"cannot disconnect: {self.role.value} in {self.state.value}")
        self._reset_link()
        self._retries = 0
        self._u(HdlcFrameType.DISC)
        self._arm()
        return self._drain()

    def send_apdu(self, apdu: bytes, *, now: float | None = None) -> bytes:
        """Queue an APDU (LLC header added, segmented to the negotiated size) and return
        the frames that may go out now; the rest follow as the peer acknowledges."""
        self._set_now(now)
        if self.state is not HdlcState.CONNECTED:
            raise LocalProtocolError(f"cannot send an APDU in state {self.state.value}")
        data = self._llc_out + bytes(apdu)
        size = self.parameters.tx_info
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        for i, chunk in enumerate(chunks):
            self._pending.append((chunk, i < len(chunks) - 1))
        if self.role is HdlcRole.CLIENT:
            self._expect_reply = True
            if not self._poll_outstanding:
                self._send_window()
        else:
            self._reply_pending = False
            if self._has_poll:
                self._send_window()
        return self._drain()

    def send_unnumbered(
        self, apdu: bytes, *, poll: bool = False, destination: HdlcAddress | None = None
    ) -> bytes:
        """A UI frame carrying ``apdu`` (with LLC header): unsolicited pushes over HDLC.

        ``destination`` defaults to the peer; a server that has no client yet must name
        one (the push client, e.g. ``HdlcAddress.client(0x40)``).
        """
        if destination is None:
            if self.role is HdlcRole.SERVER and self.client_address is None:
                raise LocalProtocolError("no client address yet: give the push destination")
            destination = self._peer
        info = self._llc_out + bytes(apdu)
        frame = HdlcFrame.u_frame(
            HdlcFrameType.UI, destination=destination, source=self._own, poll=poll, info=info
        )
        try:
            return frame.encode()
        except ValueError as exc:
            raise LocalProtocolError(str(exc)) from None

    def receive_data(
        self, data: bytes | bytearray | memoryview, *, now: float | None = None
    ) -> None:
        """Bytes from the link; an empty ``data`` is not end-of-stream (HDLC has none)."""
        self._set_now(now)
        self._reader.feed(data)

    def data_to_send(self) -> bytes:
        """Frames generated while processing received data (acknowledgements, UA, ...)."""
        return self._drain()

    def next_event(self) -> HdlcEvent:
        """The next event, or :data:`NEED_DATA`.

        Raises ``RemoteProtocolError`` for an APDU that arrived intact at the HDLC level
        but is unusable (missing LLC header, larger than ``max_apdu_size``); the link
        state stays consistent and the call can be repeated.
        """
        while not self._events:
            frame = self._reader.next_frame()
            if frame is None:
                return NEED_DATA
            self._process(frame)
        return self._events.popleft()

    def handle_timeout(self, *, now: float) -> bytes:
        """Client: retransmit what is unanswered (or poll for an awaited reply), or give
        up after ``max_retries`` silent periods in a row; :class:`Disconnected` then comes
        out of :meth:`next_event`."""
        self._now = now
        if self._deadline is None or now < self._deadline:
            return b""
        self._retries += 1
        if self._retries > self.max_retries:
            self._down(HdlcTrigger.GIVE_UP, "no response from the server")
            return self._drain()
        if self._poll_outstanding or self._unacked or self.state is not HdlcState.CONNECTED:
            self._retransmissions += 1
        if self.state is HdlcState.CONNECTING:
            self._u(HdlcFrameType.SNRM, info=self.proposal.encode())
        elif self.state is HdlcState.DISCONNECTING:
            self._u(HdlcFrameType.DISC)
        elif self.state is HdlcState.CONNECTED:
            if self._unacked:
                self._resend_unacked()
            else:
                self._rr()
            self._poll_outstanding = True
        self._arm()
        return self._drain()

    # ------------------------------------------------------------- sequencing

    def _i_frame(self, info: bytes, segmented: bool, ns: int, poll: bool) -> None:
        self._emit(
            HdlcFrame.i_frame(
                destination=self._peer,
                source=self._own,
                send_sequence=ns,
                receive_sequence=self._vr,
                poll=poll,
                info=info,
                segmented=segmented,
            )
        )

    def _after_poll_sent(self) -> None:
        if self.role is HdlcRole.CLIENT:
            self._poll_outstanding = True
            self._arm()
        else:
            self._has_poll = False

    def _send_window(self) -> None:
        window = self.parameters.tx_window
        polled = False
        while self._pending and len(self._unacked) < window:
            info, segmented = self._pending.popleft()
            self._unacked.append((info, segmented))
            polled = not self._pending or len(self._unacked) == window
            self._i_frame(info, segmented, self._vs, polled)
            self._vs = (self._vs + 1) & 7
        if polled:
            self._after_poll_sent()

    def _resend_unacked(self) -> None:
        """Go back N: resend every unacknowledged I frame, poll/final on the last."""
        ns = (self._vs - len(self._unacked)) & 7
        last = len(self._unacked) - 1
        for i, (info, segmented) in enumerate(self._unacked):
            self._i_frame(info, segmented, (ns + i) & 7, i == last)
        self._after_poll_sent()

    def _ack(self, nr: int) -> None:
        acked = (nr - (self._vs - len(self._unacked))) & 7
        if acked > len(self._unacked):
            self._out_of_sequence += 1
            return
        for _ in range(acked):
            self._unacked.popleft()

    # --------------------------------------------------------------- receiving

    def _addressed_to_us(self, frame: HdlcFrame) -> bool:
        if frame.destination != self._own:
            return False
        if self._any_client and (
            self.client_address is None or self.state is HdlcState.DISCONNECTED
        ):
            return True  # a server open to every client, between associations
        return frame.source == self._peer

    def _process(self, frame: HdlcFrame) -> None:
        if not self._addressed_to_us(frame):
            self._wrong_address += 1
            return
        self._retries = 0
        kind = frame.frame_type
        if self.role is HdlcRole.CLIENT:
            self._process_client(frame, kind)
        else:
            self._process_server(frame, kind)

    def _process_client(self, frame: HdlcFrame, kind: HdlcFrameType) -> None:
        state = self.state
        if kind is HdlcFrameType.UI:
            self._deliver(frame.info, unnumbered=True)
        elif kind is HdlcFrameType.UA:
            if state is HdlcState.CONNECTING:
                try:
                    offered = HdlcParameters.decode(frame.info)
                except DecodeError:
                    offered = HdlcParameters()
                self._transition(HdlcTrigger.UA)
                self.parameters = _negotiate(self.proposal, offered)
                self._deadline = None
                self._events.append(Connected(parameters=self.parameters))
            elif state is HdlcState.DISCONNECTING:
                self._down(HdlcTrigger.UA, "disconnected")
        elif kind is HdlcFrameType.DM:
            reason = {
                HdlcState.CONNECTING: "connection refused (DM)",
                HdlcState.DISCONNECTING: "disconnected",
            }.get(state, "server in disconnected mode (DM)")
            self._down(HdlcTrigger.DM, reason)
        elif kind is HdlcFrameType.FRMR:
            self._down(HdlcTrigger.FRMR, "frame rejected by the server (FRMR)")
        elif state is not HdlcState.CONNECTED:
            return
        elif kind is HdlcFrameType.I:
            self._client_information(frame)
        elif kind in (HdlcFrameType.RR, HdlcFrameType.RNR):
            self._ack(frame.receive_sequence)
            if frame.poll_final:
                self._poll_outstanding = False
                if kind is HdlcFrameType.RNR:
                    self._arm()
                else:
                    self._client_continue()

    def _client_continue(self) -> None:
        """The server handed the poll back: send, resend, or wait for the reply."""
        if self._unacked:
            self._retransmissions += 1
            self._resend_unacked()
        elif self._pending:
            self._send_window()
        elif self._expect_reply:
            self._deadline = self._now + self.reply_poll_interval
        else:
            self._deadline = None

    def _client_information(self, frame: HdlcFrame) -> None:
        self._ack(frame.receive_sequence)
        in_sequence, complete, overflow = self._accept(frame)
        if frame.poll_final:
            self._poll_outstanding = False
            if not in_sequence or frame.segmented:
                self._rr()  # pull the next segment, or ask again from V(R)
                self._after_poll_sent()
            else:
                self._client_continue()
        if complete is not None:
            self._expect_reply = False
            if not self._poll_outstanding and not self._pending and not self._unacked:
                self._deadline = None
            self._deliver(complete, unnumbered=False, overflow=overflow)

    def _accept(self, frame: HdlcFrame) -> tuple[bool, bytes | None, bool]:
        """Sequence-check an I frame and reassemble.

        Returns (in sequence, the complete information when this was the last segment,
        whether the reassembly overflowed ``max_apdu_size``).
        """
        if frame.send_sequence != self._vr:
            self._out_of_sequence += 1
            return False, None, False
        self._vr = (self._vr + 1) & 7
        if not self._rx_overflow:
            self._rx_size += len(frame.info)
            if self._rx_size > self.max_apdu_size + len(self._llc_in):
                self._rx_overflow = True
                self._rx_parts.clear()
            else:
                self._rx_parts.append(frame.info)
        if frame.segmented:
            return True, None, False
        data = b"".join(self._rx_parts)
        overflow = self._rx_overflow
        self._rx_parts.clear()
        self._rx_size = 0
        self._rx_overflow = False
        return True, data, overflow

    def _deliver(self, info: bytes, *, unnumbered: bool, overflow: bool = False) -> None:
        if overflow:
            self._reply_pending = False
            raise RemoteProtocolError(f"APDU larger than max_apdu_size {self.max_apdu_size}")
        llc = self._llc_in
        if info[:3] != llc:
            self._reply_pending = False
            raise DecodeError("information field without LLC header", offset=0, expected=llc.hex())
        self._events.append(ApduReceived(apdu=info[3:], unnumbered=unnumbered))

    def _process_server(self, frame: HdlcFrame, kind: HdlcFrameType) -> None:
        state = self.state
        if kind is HdlcFrameType.SNRM:
            try:
                offered = HdlcParameters.decode(frame.info)
            except DecodeError:
                self._u(HdlcFrameType.DM)
                return
            self.client_address = frame.source
            self._transition(HdlcTrigger.SNRM)
            self._reset_link()
            self.parameters = _negotiate(self.proposal, offered)
            self._u(HdlcFrameType.UA, info=self.parameters.encode())
            self._events.append(Connected(parameters=self.parameters))
        elif kind is HdlcFrameType.DISC:
            if state is HdlcState.CONNECTED:
                self._u(HdlcFrameType.UA)
                self._down(HdlcTrigger.DISC, "disconnected by the client")
            else:
                self._u(HdlcFrameType.DM)
        elif kind is HdlcFrameType.UI:
            if frame.poll_final and state is HdlcState.CONNECTED:
                self._has_poll = True
                self._server_respond()
            self._deliver(frame.info, unnumbered=True)
        elif state is not HdlcState.CONNECTED:
            if frame.poll_final:
                self._u(HdlcFrameType.DM)
        elif kind is HdlcFrameType.I:
            if len(frame.info) > self.parameters.rx_info:
                self._frmr(frame, 0x04)
                return
            self._ack(frame.receive_sequence)
            _, complete, overflow = self._accept(frame)
            if complete is not None:
                self._reply_pending = True
            if frame.poll_final:
                self._has_poll = True
                self._server_respond()
            if complete is not None:
                self._deliver(complete, unnumbered=False, overflow=overflow)
        elif kind in (HdlcFrameType.RR, HdlcFrameType.RNR):
            self._ack(frame.receive_sequence)
            if frame.poll_final:
                self._has_poll = True
                self._server_respond()
        elif frame.poll_final:
            self._frmr(frame, 0x01)

    def _frmr(self, frame: HdlcFrame, reason: int) -> None:
        """Reject a frame: rejected control, our V(R)/V(S), reason bits (ISO/IEC 13239)."""
        info = bytes((frame.control, (self._vr << 5) | (self._vs << 1), reason))
        self._u(HdlcFrameType.FRMR, info=info)

    def _server_respond(self) -> None:
        """The client polled us: resend what it missed, send what is queued, or ack."""
        if self._unacked:
            self._retransmissions += 1
            self._resend_unacked()
        elif self._pending:
            self._send_window()
        elif not self._reply_pending:
            self._rr()
            self._has_poll = False
