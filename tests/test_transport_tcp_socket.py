"""A wrapper link dialled by numeric address is read and written on its socket directly:
over real loopback sockets it keeps whole WPDUs when senders overlap and the socket
buffer fills, lets other tasks run while it drains WPDUs the peer flooded, is a
cancellation point, gives its turn back when cancelled, and ends a waiting receive with
TransportError when closed or when the peer hangs up."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
import trio
import trio.testing

from dlmskit.errors import TransportError
from transports import WrapperFramer, WrapperStreamTransport, encode_wpdu, open_tcp_wrapper


@pytest.fixture
async def link() -> AsyncIterator[tuple[WrapperStreamTransport, trio.SocketStream]]:
    """(our transport dialled to 127.0.0.1, the accepted peer stream)."""
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    with trio.fail_after(5):
        transport = await open_tcp_wrapper("127.0.0.1", port, client_wport=0x10, server_wport=1)
        peer = await listeners[0].accept()
    assert transport._socket is not None  # the direct path is the one under test
    try:
        yield transport, peer
    finally:
        await transport.aclose()
        await peer.aclose()
        await listeners[0].aclose()


Link = tuple[WrapperStreamTransport, trio.SocketStream]


async def test_overlapping_senders_keep_whole_wpdus_through_a_full_buffer(link: Link) -> None:
    transport, peer = link
    # far more than the socket buffers hold: sends block part-way and wait for room
    apdus = [bytes([n]) * 60_000 for n in range(8)]
    framer = WrapperFramer()
    received: list[bytes] = []

    async def slow_reader() -> None:
        while len(received) < len(apdus):
            framer.feed(await peer.receive_some(4096))
            while (wpdu := framer.next_wpdu()) is not None:
                assert (wpdu.source, wpdu.destination) == (0x10, 0x01)
                received.append(wpdu.apdu)
            await trio.sleep(0)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            for apdu in apdus:
                nursery.start_soon(transport.send_apdu, apdu)
            nursery.start_soon(slow_reader)
    assert sorted(received) == apdus


async def test_draining_a_flood_lets_other_tasks_run(link: Link) -> None:
    transport, peer = link
    # more than one read takes (64 KiB): reads that find data at once are schedule
    # points too, not only the WPDUs already buffered
    count = 8000
    flood = b"".join(encode_wpdu(1, 0x10, n.to_bytes(2, "big")) for n in range(count))
    ticks: list[int] = []
    got: list[bytes] = []

    async def ticker() -> None:
        while len(got) < count:
            ticks.append(len(got))
            await trio.lowlevel.checkpoint()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(peer.send_all, flood)
            nursery.start_soon(ticker)
            for _ in range(count):
                got.append(await transport.receive_apdu())
    assert got == [n.to_bytes(2, "big") for n in range(count)]
    assert len({t for t in ticks if 0 < t < count}) > count // 2


async def test_send_and_receive_are_cancellation_points(link: Link) -> None:
    transport, peer = link
    with trio.CancelScope() as scope:
        scope.cancel()
        await transport.send_apdu(b"never")
    assert scope.cancelled_caught
    with trio.CancelScope() as scope:
        scope.cancel()
        await transport.receive_apdu()
    assert scope.cancelled_caught
    # nothing was sent, nothing was lost: the link still works both ways
    await transport.send_apdu(b"\xc0\x01")
    with trio.fail_after(5):
        assert await peer.receive_some(100) == encode_wpdu(0x10, 1, b"\xc0\x01")
        await peer.send_all(encode_wpdu(1, 0x10, b"\xc4\x01"))
        assert await transport.receive_apdu() == b"\xc4\x01"


async def test_a_cancelled_wait_gives_the_turn_back(link: Link) -> None:
    transport, peer = link
    with trio.move_on_after(0.05) as scope:
        await transport.receive_apdu()
    assert scope.cancelled_caught
    await peer.send_all(encode_wpdu(1, 0x10, b"late"))
    with trio.fail_after(5):
        assert await transport.receive_apdu() == b"late"


async def test_waiting_receivers_take_turns_in_order(link: Link) -> None:
    transport, peer = link
    got: list[tuple[int, bytes]] = []

    async def receive(n: int) -> None:
        got.append((n, await transport.receive_apdu()))

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            for n in range(3):
                nursery.start_soon(receive, n)
                await trio.testing.wait_all_tasks_blocked()
            for n in range(3):
                await peer.send_all(encode_wpdu(1, 0x10, bytes([n])))
    assert got == [(0, b"\x00"), (1, b"\x01"), (2, b"\x02")]


async def test_closing_ends_a_waiting_receive(link: Link) -> None:
    transport, _ = link
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:

            async def close_soon() -> None:
                await trio.testing.wait_all_tasks_blocked()
                await transport.aclose()

            nursery.start_soon(close_soon)
            with pytest.raises(TransportError, match="receive failed"):
                await transport.receive_apdu()
    with pytest.raises(TransportError, match="closed"):
        await transport.send_apdu(b"\xc0")


async def test_the_peer_hanging_up_is_a_transport_error(link: Link) -> None:
    transport, peer = link
    await peer.send_all(encode_wpdu(1, 0x10, b"last") + encode_wpdu(1, 0x10, b"half")[:-2])
    await peer.aclose()
    with trio.fail_after(5):
        assert await transport.receive_apdu() == b"last"
        with pytest.raises(TransportError, match="mid-WPDU"):
            await transport.receive_apdu()


async def test_the_socket_sends_at_once_and_knows_its_addresses(link: Link) -> None:
    transport, peer = link
    assert transport._socket is not None
    assert transport._socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    assert not transport._socket.getblocking()
    ours, theirs = transport.local_address, transport.peer_address
    assert (ours.host, ours.port) == peer.socket.getpeername()[:2]
    assert (theirs.host, theirs.port) == peer.socket.getsockname()[:2]
    assert (ours.sap, theirs.sap) == (0x10, 1)


async def test_the_stream_asked_for_is_the_same_link(link: Link) -> None:
    transport, peer = link
    stream = transport.stream
    assert isinstance(stream, trio.SocketStream)
    assert stream.socket.fileno() == transport._socket.fileno()  # type: ignore[union-attr]
    await transport.send_apdu(b"\xc0\x01")
    with trio.fail_after(5):
        assert await peer.receive_some(100) == encode_wpdu(0x10, 1, b"\xc0\x01")
        await peer.send_all(encode_wpdu(1, 0x10, b"\xc4\x01"))
        assert await transport.receive_apdu() == b"\xc4\x01"
    await transport.aclose()
    await transport.aclose()  # closing twice is harmless
    with pytest.raises(TransportError):
        await transport.receive_apdu()
