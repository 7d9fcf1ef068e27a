"""The wrapper server on plain sockets (``serve_tcp_wrapper_sockets``) against the dlmskit
wrapper client over real loopback TCP: framing, wPorts, back-pressure, broken and closed
streams, batches of connections, cancellation."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
import trio

from dlmskit.errors import TransportError
from transports import (
    ApduTransport,
    WrapperSocketTransport,
    WrapperStreamTransport,
    encode_wpdu,
    open_tcp_wrapper,
    serve_tcp_wrapper_sockets,
)

Handler = Callable[[WrapperSocketTransport], Awaitable[object]]


@asynccontextmanager
async def _serving(handler: Handler, host: str = "127.0.0.1") -> AsyncIterator[int]:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_tcp_wrapper_sockets, handler, host, 0)
        yield listeners[0].socket.getsockname()[1]
        nursery.cancel_scope.cancel()


async def _echo(transport: WrapperSocketTransport) -> None:
    while True:
        apdu = await transport.receive_apdu()
        await transport.send_apdu(apdu[::-1])


async def test_requests_are_answered_with_the_learnt_wports() -> None:
    seen: list[tuple[int | None, int | None, str | None]] = []

    async def handler(transport: WrapperSocketTransport) -> None:
        wpdu = await transport.receive_wpdu()
        seen.append((transport.local_wport, transport.remote_wport, transport.local_address.host))
        assert isinstance(transport, ApduTransport)
        await transport.send_apdu(wpdu.apdu + b"!")
        await _echo(transport)

    async with _serving(handler) as port:
        client = await open_tcp_wrapper("127.0.0.1", port, client_wport=0x30, server_wport=1)
        with trio.fail_after(5):
            await client.send_apdu(b"\x60\x01")
            assert await client.receive_apdu() == b"\x60\x01!"
            for size in (0, 1, 1000, 0xFFFF):
                apdu = bytes(n % 251 for n in range(size))
                await client.send_apdu(apdu)
                assert await client.receive_apdu() == apdu[::-1]
        await client.aclose()
    assert seen == [(1, 0x30, "127.0.0.1")]


async def test_the_peer_address_is_the_client() -> None:
    peers: list[str | None] = []

    async def handler(transport: WrapperSocketTransport) -> None:
        peers.append(transport.peer_address.host)
        await transport.receive_apdu()

    async with _serving(handler) as port:
        client = await open_tcp_wrapper("127.0.0.1", port)
        await client.send_apdu(b"\x01")
        with trio.fail_after(5):
            while not peers:
                await trio.sleep(0.01)
        await client.aclose()
    assert peers == ["127.0.0.1"]


async def test_a_wpdu_for_other_wports_is_dropped_and_counted() -> None:
    counted: list[int] = []

    async def handler(transport: WrapperSocketTransport) -> None:
        await transport.receive_wpdu()
        apdu = await transport.receive_apdu()
        counted.append(transport.wrong_wport)
        await transport.send_apdu(apdu)

    async with _serving(handler) as port:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        await stream.send_all(
            encode_wpdu(0x10, 1, b"first")
            + encode_wpdu(0x20, 1, b"other client")
            + encode_wpdu(0x10, 2, b"other server")
            + encode_wpdu(0x10, 1, b"second")
        )
        with trio.fail_after(5):
            assert await stream.receive_some(100) == encode_wpdu(1, 0x10, b"second")
        await stream.aclose()
    assert counted == [2]


async def test_a_flood_of_wpdus_in_one_segment_is_answered_in_order() -> None:
    async with _serving(_echo) as port:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        await stream.send_all(b"".join(encode_wpdu(0x10, 1, bytes([n])) for n in range(200)))
        expected = b"".join(encode_wpdu(1, 0x10, bytes([n])) for n in range(200))
        received = b""
        with trio.fail_after(5):
            while len(received) < len(expected):
                received += await stream.receive_some(65536)
        await stream.aclose()
    assert received == expected


async def test_answers_wait_while_the_client_does_not_read() -> None:
    """Answers bigger than the socket buffers: the server waits for room, loses nothing."""
    count = 40
    sent = trio.Event()

    async def handler(transport: WrapperSocketTransport) -> None:
        transport.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        await transport.receive_apdu()
        for n in range(count):
            await transport.send_apdu(bytes([n]) * 0xFFFF)
        sent.set()

    async with _serving(handler) as port:
        sock = trio.socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        await sock.connect(("127.0.0.1", port))
        client = WrapperStreamTransport(trio.SocketStream(sock), local_wport=0x10, remote_wport=1)
        await client.send_apdu(b"go")
        await trio.sleep(0.2)
        assert not sent.is_set()  # 2.6 MB cannot all be in flight
        with trio.fail_after(10):
            for n in range(count):
                assert await client.receive_apdu() == bytes([n]) * 0xFFFF
            await sent.wait()
        await client.aclose()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x07" + bytes(40), "broken"),
        (encode_wpdu(0x10, 1, bytes(30))[:12], "mid-WPDU (12 bytes held)"),
        (b"", "peer closed the connection"),
    ],
    ids=["wrong-version", "closed-mid-wpdu", "closed"],
)
async def test_broken_and_closed_streams_end_the_connection(data: bytes, message: str) -> None:
    errors: list[str] = []

    async def handler(transport: WrapperSocketTransport) -> None:
        try:
            await transport.receive_apdu()
        except TransportError as exc:
            errors.append(str(exc))
            raise

    async with _serving(handler) as port:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        await stream.send_all(data)
        if data[:2] == b"\x00\x07":
            with trio.fail_after(5):
                assert await stream.receive_some(10) == b""  # the server dropped it
        await stream.aclose()
        with trio.fail_after(5):
            while not errors:
                await trio.sleep(0.01)
    assert message in errors[0]


async def test_more_connections_at_once_than_one_accept_batch() -> None:
    served: list[str | None] = []

    async def handler(transport: WrapperSocketTransport) -> None:
        served.append(transport.local_address.host)
        await _echo(transport)

    async def one(number: int) -> None:
        client = await open_tcp_wrapper(f"127.3.0.{number % 250 + 1}", port)
        await client.send_apdu(number.to_bytes(2, "big"))
        assert await client.receive_apdu() == number.to_bytes(2, "big")[::-1]
        await client.aclose()

    async with _serving(handler, host="0.0.0.0") as port:
        with trio.fail_after(20):
            async with trio.open_nursery() as clients:
                for number in range(300):
                    clients.start_soon(one, number)
    assert len(served) == 300
    assert {f"127.3.0.{n}" for n in range(1, 251)} == set(served)


async def test_every_address_is_served_when_no_host_is_given() -> None:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_tcp_wrapper_sockets, _echo, None, 0)
        targets = []
        for listener in listeners:  # each family's listener has its own port (port 0)
            port = listener.socket.getsockname()[1]
            if listener.socket.family == socket.AF_INET6:
                targets.append(("::1", port))
            else:
                targets += [("127.0.0.1", port), ("127.2.0.9", port)]
        assert targets
        for host, port in targets:
            client = await open_tcp_wrapper(host, port)
            with trio.fail_after(5):
                await client.send_apdu(b"\x01\x02")
                assert await client.receive_apdu() == b"\x02\x01"
            await client.aclose()
        nursery.cancel_scope.cancel()


async def test_cancelling_the_server_closes_its_connections() -> None:
    waiting = trio.Event()

    async def handler(transport: WrapperSocketTransport) -> None:
        waiting.set()
        await transport.receive_apdu()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_tcp_wrapper_sockets, handler, "127.0.0.1", 0)
        port = listeners[0].socket.getsockname()[1]
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        with trio.fail_after(5):
            await waiting.wait()
        nursery.cancel_scope.cancel()
    with trio.fail_after(5):
        assert await stream.receive_some(10) == b""
    await stream.aclose()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


async def test_a_closed_transport_refuses_to_send_and_receive() -> None:
    left, right = socket.socketpair()
    left.setblocking(False)
    transport = WrapperSocketTransport(left, local_wport=1, remote_wport=0x10)
    await transport.aclose()
    await transport.aclose()  # idempotent
    with pytest.raises(TransportError):
        await transport.send_apdu(b"\x01")
    with pytest.raises(TransportError):
        await transport.receive_apdu()
    right.close()


async def test_sending_before_the_wports_are_known_is_a_local_error() -> None:
    from dlmskit.errors import LocalProtocolError

    left, right = socket.socketpair()
    left.setblocking(False)
    transport = WrapperSocketTransport(left)
    with pytest.raises(LocalProtocolError):
        await transport.send_apdu(b"\x01")
    transport.local_wport, transport.remote_wport = 1, 0x10
    with pytest.raises(LocalProtocolError):
        await transport.send_apdu(bytes(0x10000))
    await transport.send_apdu(b"\x01")
    assert right.recv(100) == encode_wpdu(1, 0x10, b"\x01")
    await transport.aclose()
    right.close()
