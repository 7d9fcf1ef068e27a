"""The HDLC link machine (client and server roles) over a simulated link: negotiation,
sequencing, segmentation, windows, loss and retransmission on the caller's clock,
DISC/DM/FRMR, UI pushes, address filtering, limits."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from transports import (
    LLC_REQUEST,
    LLC_RESPONSE,
    NEED_DATA,
    TRANSITIONS,
    ApduReceived,
    Connected,
    Disconnected,
    HdlcAddress,
    HdlcConnection,
    HdlcFrame,
    HdlcFrameReader,
    HdlcFrameType,
    HdlcParameters,
    HdlcRole,
    HdlcState,
    HdlcTrigger,
    decode_frame,
)

SERVER = HdlcAddress.server(1, 0x11)
CLIENT = HdlcAddress.client(0x10)

Drop = Callable[[str, HdlcFrame], bool]


def split(data: bytes) -> list[HdlcFrame]:
    reader = HdlcFrameReader()
    reader.feed(data)
    frames = []
    while (frame := reader.next_frame()) is not None:
        frames.append(frame)
    return frames


class Link:
    """Client and server joined by a lossy wire; the clock is advanced by hand."""

    def __init__(
        self,
        client_params: HdlcParameters | None = None,
        server_params: HdlcParameters | None = None,
        *,
        drop: Drop | None = None,
        reply: Callable[[bytes], bytes | None] | None = None,
        max_retries: int = 3,
    ) -> None:
        self.client = HdlcConnection(
            HdlcRole.CLIENT,
            server_address=SERVER,
            client_address=0x10,
            parameters=client_params,
            response_timeout=1.0,
            max_retries=max_retries,
        )
        self.server = HdlcConnection(
            HdlcRole.SERVER, server_address=SERVER, client_address=None, parameters=server_params
        )
        self.drop = drop or (lambda direction, frame: False)
        self.reply = reply
        self.now = 0.0
        self.client_events: list[object] = []
        self.server_events: list[object] = []
        self.wire: list[tuple[str, HdlcFrame]] = []

    def _carry(self, direction: str, data: bytes) -> None:
        pending = [(direction, data)]
        while pending:
            direction, data = pending.pop(0)
            for frame in split(data):
                self.wire.append((direction, frame))
                if self.drop(direction, frame):
                    continue
                if direction == "c>s":
                    self.server.receive_data(frame.encode(), now=self.now)
                    out = self._events(self.server, self.server_events)
                    pending.append(("s>c", out))
                else:
                    self.client.receive_data(frame.encode(), now=self.now)
                    out = self._events(self.client, self.client_events)
                    pending.append(("c>s", out))

    def _events(self, conn: HdlcConnection, sink: list[object]) -> bytes:
        out = b""
        while (event := conn.next_event()) is not NEED_DATA:
            sink.append(event)
            if conn is self.server and isinstance(event, ApduReceived) and self.reply:
                answer = self.reply(event.apdu)
                if answer is not None:
                    out += conn.data_to_send() + conn.send_apdu(answer, now=self.now)
        return out + conn.data_to_send()

    def send(self, who: HdlcConnection, data: bytes) -> None:
        self._carry("c>s" if who is self.client else "s>c", data)
        self.settle()

    def settle(self, limit: int = 200) -> None:
        """Let timeouts fire until the client has nothing left to time."""
        for _ in range(limit):
            deadline = self.client.next_deadline
            if deadline is None or not (
                self.client.state is not HdlcState.CONNECTED
                or self.client.sending
                or self._client_waits()
            ):
                return
            self.now = max(self.now, deadline)
            out = self.client.handle_timeout(now=self.now)
            self._carry("c>s", out + self._events(self.client, self.client_events))
        raise AssertionError("link did not settle")

    def _client_waits(self) -> bool:
        return bool(self.client._poll_outstanding or self.client._expect_reply)

    def connect(self) -> None:
        self.send(self.client, self.client.connect(now=self.now))

    def apdus(self, sink: list[object]) -> list[bytes]:
        return [e.apdu for e in sink if isinstance(e, ApduReceived)]


def test_connect_negotiates_parameters() -> None:
    link = Link(
        HdlcParameters(max_info_transmit=512, max_info_receive=256, window_transmit=7),
        HdlcParameters(max_info_transmit=300, max_info_receive=1024, window_receive=3),
    )
    link.connect()
    assert link.client.state is HdlcState.CONNECTED and link.server.state is HdlcState.CONNECTED
    (client_connected,) = link.client_events
    (server_connected,) = link.server_events
    assert isinstance(client_connected, Connected) and isinstance(server_connected, Connected)
    assert client_connected.parameters == HdlcParameters(
        max_info_transmit=512, max_info_receive=256, window_transmit=3, window_receive=1
    )
    assert server_connected.parameters == HdlcParameters(
        max_info_transmit=256, max_info_receive=512, window_transmit=1, window_receive=3
    )
    snrm, ua = (frame for _, frame in link.wire)
    assert snrm.frame_type is HdlcFrameType.SNRM and ua.frame_type is HdlcFrameType.UA
    assert link.client.next_deadline is None


def test_request_reply_control_bytes_match_the_standard_table() -> None:
    link = Link(reply=lambda apdu: b"\xc4\x01\xc1\x00\x09\x00")
    link.connect()
    for _ in range(3):
        link.send(link.client, link.client.send_apdu(b"\xc0\x01\xc1\x00\x08", now=link.now))
    controls = [(d, f.control) for d, f in link.wire if f.frame_type is HdlcFrameType.I]
    # first client I = 0x10, server reply 0x30, next client 0x32, ... (dlms-facts 4.1)
    assert controls == [
        ("c>s", 0x10),
        ("s>c", 0x30),
        ("c>s", 0x32),
        ("s>c", 0x52),
        ("c>s", 0x54),
        ("s>c", 0x74),
    ]
    info = next(f.info for d, f in link.wire if d == "c>s" and f.frame_type is HdlcFrameType.I)
    assert info.startswith(LLC_REQUEST)
    info = next(f.info for d, f in link.wire if d == "s>c" and f.frame_type is HdlcFrameType.I)
    assert info.startswith(LLC_RESPONSE)
    assert link.apdus(link.client_events) == [b"\xc4\x01\xc1\x00\x09\x00"] * 3
    assert link.client.stats.retransmissions == 0


@pytest.mark.parametrize("window", [1, 2, 3, 7])
def test_segmentation_both_ways_with_windows(window: int) -> None:
    params = HdlcParameters(
        max_info_transmit=40, max_info_receive=40, window_transmit=window, window_receive=window
    )
    request = bytes(range(256)) * 2
    response = bytes(reversed(range(256))) * 3
    link = Link(params, params, reply=lambda apdu: response)
    link.connect()
    link.send(link.client, link.client.send_apdu(request, now=link.now))
    assert link.apdus(link.server_events) == [request]
    assert link.apdus(link.client_events) == [response]
    i_frames = [(d, f) for d, f in link.wire if f.frame_type is HdlcFrameType.I]
    assert all(len(f.info) <= 40 for _, f in i_frames)
    client_frames = [f for d, f in i_frames if d == "c>s"]
    assert [f.segmented for f in client_frames] == [True] * (len(client_frames) - 1) + [False]
    # Poll bit only on the last frame of each window (or of the APDU).
    polls = [f.poll_final for f in client_frames]
    assert polls.count(True) == -(-len(client_frames) // window)
    rr_count = sum(1 for d, f in link.wire if d == "c>s" and f.frame_type is HdlcFrameType.RR)
    server_frames = [f for d, f in i_frames if d == "s>c"]
    assert rr_count == -(-len(server_frames) // window) - 1  # the client pulls each window
    assert link.client.stats.retransmissions == 0 and link.server.stats.retransmissions == 0


@pytest.mark.parametrize(
    "victim",
    [
        ("c>s", HdlcFrameType.SNRM),
        ("s>c", HdlcFrameType.UA),
        ("c>s", HdlcFrameType.I),
        ("s>c", HdlcFrameType.I),
        ("s>c", HdlcFrameType.RR),
        ("c>s", HdlcFrameType.RR),
    ],
)
def test_a_lost_frame_is_recovered_by_retransmission(victim: tuple[str, HdlcFrameType]) -> None:
    dropped: list[HdlcFrame] = []

    def drop(direction: str, frame: HdlcFrame) -> bool:
        if not dropped and (direction, frame.frame_type) == victim:
            dropped.append(frame)
            return True
        return False

    params = HdlcParameters(max_info_transmit=32, max_info_receive=32)
    response = bytes(range(100))
    link = Link(params, params, drop=drop, reply=lambda apdu: response)
    link.connect()
    request = bytes(range(70))
    link.send(link.client, link.client.send_apdu(request, now=link.now))
    assert dropped, "the scenario never produced the frame to drop"
    assert link.apdus(link.server_events) == [request]
    assert link.apdus(link.client_events) == [response]
    assert link.client.stats.retransmissions >= 1
    assert link.now >= 1.0  # recovery waited for the caller-driven timeout


def test_retries_exhausted_gives_disconnected() -> None:
    link = Link(drop=lambda d, f: d == "s>c" and f.frame_type is HdlcFrameType.I, max_retries=2)
    link.reply = lambda apdu: b"\xc4"
    link.connect()
    link.send(link.client, link.client.send_apdu(b"\xc0\x01", now=link.now))
    assert link.client.state is HdlcState.DISCONNECTED
    assert isinstance(link.client_events[-1], Disconnected)
    assert "no response" in link.client_events[-1].reason
    assert link.client.next_deadline is None
    assert link.client.stats.retransmissions == 2
    with pytest.raises(LocalProtocolError):
        link.client.send_apdu(b"\x00")


def test_unanswered_snrm_is_repeated_then_abandoned() -> None:
    client = HdlcConnection(
        HdlcRole.CLIENT, server_address=SERVER, response_timeout=2.0, max_retries=1
    )
    first = client.connect(now=10.0)
    assert client.next_deadline == 12.0
    assert client.handle_timeout(now=11.0) == b""  # not yet
    assert client.handle_timeout(now=12.0) == first  # the same SNRM again
    assert client.next_deadline == 14.0
    assert client.handle_timeout(now=14.0) == b""
    assert client.next_event() == Disconnected(reason="no response from the server")
    assert client.state is HdlcState.DISCONNECTED


def test_dm_refuses_connection_and_disc_disconnects() -> None:
    link = Link()
    link.send(link.client, link.client.connect(now=0))
    link.send(link.client, link.client.disconnect(now=0))
    assert link.client_events[-1] == Disconnected(reason="disconnected")
    assert link.server_events[-1] == Disconnected(reason="disconnected by the client")
    assert link.server.state is HdlcState.DISCONNECTED
    # A server in disconnected mode answers a poll with DM; a second DISC gets DM too.
    link.server_events.clear()
    frame = HdlcFrame.i_frame(
        destination=SERVER,
        source=CLIENT,
        send_sequence=0,
        receive_sequence=0,
        poll=True,
        info=LLC_REQUEST + b"\xc0",
    )
    link.server.receive_data(frame.encode())
    assert link.server.next_event() is NEED_DATA
    assert decode_frame(link.server.data_to_send()).frame_type is HdlcFrameType.DM
    # A client whose SNRM meets DM reports the refusal.
    client = HdlcConnection(HdlcRole.CLIENT, server_address=SERVER)
    client.connect(now=0)
    client.receive_data(
        HdlcFrame.u_frame(HdlcFrameType.DM, destination=CLIENT, source=SERVER).encode()
    )
    assert client.next_event() == Disconnected(reason="connection refused (DM)")


def test_ui_push_both_in_and_out_of_a_connection() -> None:
    link = Link()
    push = bytes.fromhex("0F00000001000C07E6010101000000FF800000")
    with pytest.raises(LocalProtocolError):
        link.server.send_unnumbered(push)  # no client yet, no destination given
    wire = link.server.send_unnumbered(push, destination=CLIENT)
    assert decode_frame(wire).control == 0x03
    link.client.receive_data(wire)
    assert link.client.next_event() == ApduReceived(apdu=push, unnumbered=True)
    link.connect()
    link.client.receive_data(link.server.send_unnumbered(push, poll=True))
    assert link.client.next_event() == ApduReceived(apdu=push, unnumbered=True)


def test_wrong_address_frames_are_dropped_and_counted() -> None:
    link = Link()
    link.connect()
    other_client = HdlcFrame.u_frame(
        HdlcFrameType.UI, destination=HdlcAddress.client(0x20), source=SERVER, info=LLC_RESPONSE
    )
    other_server = HdlcFrame.u_frame(
        HdlcFrameType.UI, destination=CLIENT, source=HdlcAddress.server(2, 0x11), info=LLC_RESPONSE
    )
    link.client.receive_data(other_client.encode() + other_server.encode())
    assert link.client.next_event() is NEED_DATA
    assert link.client.stats.wrong_address == 2
    other_meter = HdlcFrame.u_frame(
        HdlcFrameType.SNRM, destination=HdlcAddress.server(5, 5), source=CLIENT
    )
    link.server.receive_data(other_meter.encode())
    assert link.server.next_event() is NEED_DATA
    assert link.server.data_to_send() == b""
    assert link.server.stats.wrong_address == 1


def test_frmr_for_oversized_information_field() -> None:
    link = Link()
    link.connect()
    frame = HdlcFrame.i_frame(
        destination=SERVER,
        source=CLIENT,
        send_sequence=0,
        receive_sequence=0,
        poll=True,
        info=LLC_REQUEST + bytes(200),
    )
    link.server.receive_data(frame.encode())
    assert link.server.next_event() is NEED_DATA
    frmr = decode_frame(link.server.data_to_send())
    assert frmr.frame_type is HdlcFrameType.FRMR
    assert frmr.info[0] == frame.control and frmr.info[2] == 0x04
    link.client.receive_data(frmr.encode())
    assert link.client.next_event() == Disconnected(reason="frame rejected by the server (FRMR)")


def test_rnr_makes_the_client_wait_then_poll() -> None:
    link = Link()
    link.connect()
    link.client.send_apdu(b"\xc0\x01", now=0.0)
    rnr = HdlcFrame.s_frame(
        HdlcFrameType.RNR, destination=CLIENT, source=SERVER, receive_sequence=1
    )
    link.client.receive_data(rnr.encode(), now=0.5)
    assert link.client.next_event() is NEED_DATA
    assert link.client.data_to_send() == b""
    assert link.client.next_deadline == 1.5
    poll = decode_frame(link.client.handle_timeout(now=1.5))
    assert poll.frame_type is HdlcFrameType.RR and poll.poll_final


def test_bad_llc_and_oversized_apdu_raise_but_link_survives() -> None:
    link = Link()
    link.connect()
    no_llc = HdlcFrame.i_frame(
        destination=SERVER,
        source=CLIENT,
        send_sequence=0,
        receive_sequence=0,
        poll=True,
        info=b"\xc0\x01\xc1",
    )
    link.server.receive_data(no_llc.encode())
    with pytest.raises(DecodeError):
        link.server.next_event()
    assert link.server.next_event() is NEED_DATA
    small = HdlcConnection(
        HdlcRole.SERVER, server_address=SERVER, client_address=None, max_apdu_size=50
    )
    link.server = small
    link.client = HdlcConnection(HdlcRole.CLIENT, server_address=SERVER)
    link.client_events.clear()
    link.connect()
    with pytest.raises(RemoteProtocolError):
        link.send(link.client, link.client.send_apdu(bytes(300), now=link.now))
    link.send(link.client, link.client.send_apdu(bytes(10), now=link.now))
    assert link.apdus(link.server_events)[-1] == bytes(10)


def test_local_protocol_errors() -> None:
    client = HdlcConnection(HdlcRole.CLIENT, server_address=SERVER)
    server = HdlcConnection(HdlcRole.SERVER, server_address=SERVER, client_address=None)
    with pytest.raises(LocalProtocolError):
        client.send_apdu(b"\x00")
    with pytest.raises(LocalProtocolError):
        client.disconnect()
    with pytest.raises(LocalProtocolError):
        server.connect()
    with pytest.raises(LocalProtocolError):
        server.disconnect()
    with pytest.raises(ValueError):
        HdlcConnection(HdlcRole.CLIENT, server_address=SERVER, client_address=None)


def test_transition_table_is_complete_and_consistent() -> None:
    for role, table in TRANSITIONS.items():
        assert set(table) == set(HdlcState), role
        for moves in table.values():
            for trigger, new in moves.items():
                assert isinstance(trigger, HdlcTrigger) and isinstance(new, HdlcState)
    assert TRANSITIONS[HdlcRole.CLIENT][HdlcState.DISCONNECTED] == {
        HdlcTrigger.CONNECT: HdlcState.CONNECTING
    }
    assert TRANSITIONS[HdlcRole.SERVER][HdlcState.CONNECTED][HdlcTrigger.DISC] is (
        HdlcState.DISCONNECTED
    )


def test_server_releases_the_poll_when_it_will_not_reply() -> None:
    link = Link()
    link.connect()
    link.send(link.client, link.client.send_apdu(b"\x01", now=link.now))
    assert link.server.holding_poll
    rr = decode_frame(link.server.release_poll())
    assert rr.frame_type is HdlcFrameType.RR and rr.receive_sequence == 1
    assert [link.server.holding_poll] == [False]
    assert link.server.release_poll() == b""


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.booleans(), min_size=1, max_size=60),
    st.integers(1, 7),
    st.lists(st.integers(1, 400), min_size=1, max_size=4),
)
def test_random_loss_still_delivers_everything_once_in_order(
    losses: list[bool], window: int, sizes: list[int]
) -> None:
    pattern = iter(losses)

    def drop(direction: str, frame: HdlcFrame) -> bool:
        return next(pattern, False)

    params = HdlcParameters(
        max_info_transmit=48, max_info_receive=48, window_transmit=window, window_receive=window
    )
    link = Link(params, params, drop=drop, reply=lambda apdu: apdu[::-1], max_retries=100)
    link.connect()
    if link.client.state is not HdlcState.CONNECTED:
        return  # every SNRM/UA was lost: nothing to check beyond not hanging
    requests = [bytes((i + n) & 0xFF for n in range(size)) for i, size in enumerate(sizes)]
    for request in requests:
        link.send(link.client, link.client.send_apdu(request, now=link.now))
    assert link.apdus(link.server_events) == requests
    assert link.apdus(link.client_events) == [r[::-1] for r in requests]


def test_open_server_takes_the_next_client_after_a_disconnect() -> None:
    link = Link()
    link.connect()
    intruder = HdlcFrame.u_frame(
        HdlcFrameType.SNRM, destination=SERVER, source=HdlcAddress.client(0x20)
    )
    link.server.receive_data(intruder.encode())
    assert link.server.next_event() is NEED_DATA  # busy with client 0x10
    assert link.server.stats.wrong_address == 1
    link.send(link.client, link.client.disconnect(now=link.now))
    link.server.receive_data(intruder.encode())
    assert isinstance(link.server.next_event(), Connected)
    assert link.server.client_address == HdlcAddress.client(0x20)
    ua = decode_frame(link.server.data_to_send())
    assert ua.frame_type is HdlcFrameType.UA and ua.destination == HdlcAddress.client(0x20)


def test_client_polls_soon_when_the_server_released_the_poll() -> None:
    link = Link()
    link.connect()
    link._carry("c>s", link.client.send_apdu(b"\xc0\x01", now=0.0))
    link._carry("s>c", link.server.release_poll())  # the server will answer later
    assert link.client.next_deadline == pytest.approx(0.1)
    link.server.send_apdu(b"\xc4\x01", now=0.05)  # queued: the client holds the poll
    link.now = 0.1
    link._carry("c>s", link.client.handle_timeout(now=0.1))
    assert link.apdus(link.client_events) == [b"\xc4\x01"]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([HdlcRole.CLIENT, HdlcRole.SERVER]),
    st.lists(st.binary(max_size=80), max_size=8),
)
def test_garbage_into_the_link_machine(role: HdlcRole, chunks: list[bytes]) -> None:
    """Any bytes: events or RemoteProtocolError, never anything else; frames built to
    look valid (right addresses, good CRCs) are mixed in to reach the deeper states."""
    conn = HdlcConnection(role, server_address=SERVER, client_address=0x10)
    if role is HdlcRole.CLIENT:
        conn.connect(now=0.0)
        peer, own = SERVER, CLIENT
    else:
        peer, own = CLIENT, SERVER
    for i, chunk in enumerate(chunks):
        control = chunk[0] if chunk else 0x93
        framed = HdlcFrame(destination=own, source=peer, control=control, info=chunk[1:]).encode()
        conn.receive_data(framed if i % 2 else chunk, now=float(i))
        for _ in range(20):
            try:
                if conn.next_event() is NEED_DATA:
                    break
            except RemoteProtocolError:
                continue
        conn.data_to_send()
        conn.handle_timeout(now=float(i) + 10)
