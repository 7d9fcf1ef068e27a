"""trio adapters beyond the conformance checks: meter-initiated TCP connections, wPort
learning and filtering, broken streams, a peer that stops mid-frame (the caller owns the
timeout), UDP demultiplexing, HDLC timeouts and pushes, serial sign-on failures."""

from __future__ import annotations

import os
import socket
from functools import partial

import pytest
import trio
import trio.testing

from dlmskit.errors import TransportError
from transports import (
    HdlcAddress,
    HdlcFrame,
    HdlcStreamTransport,
    LineSettings,
    WrapperStreamTransport,
    accept_hdlc,
    encode_wpdu,
    open_hdlc,
    open_optical_probe,
    open_tcp_hdlc,
    open_tcp_wrapper,
    open_udp_endpoint,
    serve_tcp_wrapper,
)

SERVER = HdlcAddress.server(1, 0x11)
PUSH = bytes.fromhex("0F00000001000C07E6010101000000FF800000")
GET = bytes.fromhex("C001C100010000600100FF0200")
REPLY = bytes.fromhex("C401C100090453494D31")


async def test_meter_initiated_tcp_connection_push_then_requests() -> None:
    """The meter dials the head-end, pushes, then answers requests on the same socket."""
    seen: list[object] = []
    done = trio.Event()

    async def hes(transport: WrapperStreamTransport) -> None:
        push = await transport.receive_wpdu()
        seen.append((push.source, push.destination, push.apdu))
        seen.append(transport.peer_address.host)
        await transport.send_apdu(GET)
        seen.append(await transport.receive_apdu())
        done.set()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(serve_tcp_wrapper, hes, "127.0.0.1", 0))
        port = listeners[0].socket.getsockname()[1]
        meter = await open_tcp_wrapper("127.0.0.1", port, client_wport=0x01, server_wport=0x40)
        await meter.send_apdu(PUSH)
        assert await meter.receive_apdu() == GET
        await meter.send_apdu(REPLY)
        with trio.fail_after(5):
            await done.wait()
        await meter.aclose()
        nursery.cancel_scope.cancel()
    assert seen == [(0x01, 0x40, PUSH), "127.0.0.1", REPLY]


async def _raw_pair() -> tuple[
    trio.SocketStream, WrapperStreamTransport, trio.abc.Listener[trio.SocketStream]
]:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    transport = await open_tcp_wrapper("127.0.0.1", port, client_wport=0x10, server_wport=0x01)
    raw = await listeners[0].accept()
    return raw, transport, listeners[0]


async def test_wrong_wports_are_dropped_and_counted() -> None:
    raw, transport, listener = await _raw_pair()
    async with raw, listener:
        await raw.send_all(
            encode_wpdu(0x01, 0x20, b"other client") + encode_wpdu(0x01, 0x10, REPLY)
        )
        with trio.fail_after(5):
            assert await transport.receive_apdu() == REPLY
        assert transport.wrong_wport == 1
        await transport.aclose()


async def test_broken_wrapper_stream_raises_transport_error() -> None:
    raw, transport, listener = await _raw_pair()
    async with raw, listener:
        await raw.send_all(b"\x00\x02\x00\x01\x00\x10\x00\x01\xc4")  # version 2
        with trio.fail_after(5), pytest.raises(TransportError, match="broken"):
            await transport.receive_apdu()
        await transport.aclose()


async def test_peer_stops_mid_wpdu_then_closes() -> None:
    raw, transport, listener = await _raw_pair()
    async with listener:
        await raw.send_all(encode_wpdu(0x01, 0x10, REPLY)[:11])
        with trio.move_on_after(0.2) as scope:
            await transport.receive_apdu()
        assert scope.cancelled_caught  # the caller's timeout ended the wait
        await raw.aclose()
        with trio.fail_after(5), pytest.raises(TransportError, match="mid-WPDU"):
            await transport.receive_apdu()
        await transport.aclose()


async def test_udp_endpoint_demultiplexes_and_accepts_new_peers() -> None:
    async with (
        open_udp_endpoint("127.0.0.1", 0) as hes,
        open_udp_endpoint("127.0.0.1", 0) as meter_a,
        open_udp_endpoint("127.0.0.1", 0) as meter_b,
    ):
        hes_port = hes.sockname[1]
        to_a = hes.peer("127.0.0.1", meter_a.sockname[1], local_wport=0x10, remote_wport=1)
        a = meter_a.peer("127.0.0.1", hes_port, local_wport=1, remote_wport=0x10)
        b = meter_b.peer("127.0.0.1", hes_port, local_wport=1, remote_wport=0x40)
        raw = trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with raw, trio.fail_after(5):
            await b.send_apdu(PUSH)  # unknown to the head-end: comes out of accept()
            pushed = await hes.accept()
            assert await pushed.receive_apdu() == PUSH
            assert pushed.peer_address.port == meter_b.sockname[1]
            assert (pushed.local_wport, pushed.remote_wport) == (0x40, 1)
            await raw.sendto(b"\x00\x01\x00\x01\x00\x10\x00\x09short", ("127.0.0.1", hes_port))
            await a.send_apdu(REPLY)
            assert await to_a.receive_apdu() == REPLY
            await pushed.send_apdu(GET)  # answer the meter that pushed
            assert await b.receive_apdu() == GET
        assert hes.bad_datagrams == 1
        await to_a.aclose()
        with pytest.raises(TransportError):
            await to_a.receive_apdu()
    with pytest.raises(TransportError):
        await hes.accept()


async def test_hdlc_server_that_never_answers() -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    async with listeners[0]:
        with trio.fail_after(5), pytest.raises(TransportError, match="no response"):
            await open_tcp_hdlc(
                "127.0.0.1", port, server_address=SERVER, response_timeout=0.05, max_retries=2
            )


async def test_hdlc_peer_stops_mid_frame() -> None:
    client_stream, meter_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        box: list[HdlcStreamTransport] = []

        async def meter() -> None:
            box.append(await accept_hdlc(meter_stream, server_address=SERVER))

        nursery.start_soon(meter)
        client = await open_hdlc(
            client_stream, server_address=SERVER, response_timeout=0.05, max_retries=2
        )
    reply = HdlcFrame.i_frame(
        destination=HdlcAddress.client(0x10),
        source=SERVER,
        send_sequence=0,
        receive_sequence=1,
        poll=True,
        info=b"\xe6\xe7\x00" + REPLY,
    ).encode()
    await client.send_apdu(GET)
    await meter_stream.send_all(reply[:9])  # the meter dies halfway through its answer
    with trio.fail_after(5), pytest.raises(TransportError, match="no response"):
        await client.receive_apdu()
    assert client.connection.mid_frame


async def test_hdlc_ui_push_reaches_the_client() -> None:
    client_stream, meter_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        box: list[HdlcStreamTransport] = []

        async def meter() -> None:
            box.append(await accept_hdlc(meter_stream, server_address=SERVER))

        nursery.start_soon(meter)
        client = await open_hdlc(client_stream, server_address=SERVER)
    server = box[0]
    await server.send_unnumbered(PUSH)
    with trio.fail_after(5):
        assert await client.receive_apdu() == PUSH


async def test_optical_probe_silent_meter_is_a_transport_error() -> None:
    master, slave = os.openpty()
    try:
        with trio.fail_after(5), pytest.raises(TransportError, match="no identification"):
            await open_optical_probe(
                os.ttyname(slave),
                server_address=SERVER,
                identification_timeout=0.2,
                sign_on_line=LineSettings(baudrate=300),  # any line: the meter is silent
            )
    finally:
        os.close(master)
        os.close(slave)


async def test_one_wildcard_listener_tells_meters_apart_by_local_address() -> None:
    local_hosts: list[str | None] = []
    both = trio.Event()

    async def meter(transport: WrapperStreamTransport) -> None:
        local_hosts.append(transport.local_address.host)
        await transport.send_apdu(REPLY)
        if len(local_hosts) == 2:
            both.set()
        await both.wait()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            partial(serve_tcp_wrapper, meter, "0.0.0.0", 0, local_wport=1, remote_wport=0x10)
        )
        port = listeners[0].socket.getsockname()[1]
        clients = [await open_tcp_wrapper(host, port) for host in ("127.0.0.2", "127.0.0.3")]
        with trio.fail_after(5):
            for client in clients:
                assert await client.receive_apdu() == REPLY
                assert client.peer_address.port == port
            await both.wait()
        for client in clients:
            await client.aclose()
        nursery.cancel_scope.cancel()
    assert sorted(h for h in local_hosts if h) == ["127.0.0.2", "127.0.0.3"]
