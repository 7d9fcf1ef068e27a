"""Every ApduTransport adapter passes the same conformance checks (transports.testing)."""

from __future__ import annotations

import os
import termios
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import pytest
import serial
import trio
import trio.testing

from dlmskit.errors import TransportError
from transports import (
    SIGN_ON_LINE,
    ApduTransport,
    HdlcAddress,
    HdlcParameters,
    HdlcStreamTransport,
    LineSettings,
    ModeEMeter,
    accept_hdlc,
    answer_mode_e,
    open_hdlc,
    open_optical_probe,
    open_serial_hdlc,
    open_tcp_hdlc,
    open_tcp_wrapper,
    open_udp_endpoint,
    serve_tcp_hdlc,
    serve_tcp_wrapper,
)
from transports.testing import check_apdu_transport, open_memory_apdu_pair

SERVER = HdlcAddress.server(1, 0x11)
WIDE = HdlcParameters(
    max_info_transmit=512, max_info_receive=512, window_transmit=7, window_receive=7
)

Pair = tuple[ApduTransport, ApduTransport]


def _pty_sign_on_line() -> LineSettings:
    """300 Bd 7E1 where the kernel's pseudo-terminals accept it; some refuse parity and
    7-bit characters (EINVAL), and there the sign-on runs 300 Bd 8N1 (the mode E
    machines strip the parity bit either way, see test_hdlc_mode_e)."""
    master, slave = os.openpty()
    try:
        port = serial.Serial(os.ttyname(slave), baudrate=300, bytesize=7, parity="E")
        try:
            port.apply_settings({"baudrate": 9600, "bytesize": 8, "parity": "N"})
        finally:
            port.close()
    except (serial.SerialException, OSError, termios.error):
        return LineSettings(baudrate=300)
    finally:
        os.close(master)
        os.close(slave)
    return SIGN_ON_LINE


async def test_memory_pair() -> None:
    await check_apdu_transport(open_memory_apdu_pair)


@asynccontextmanager
async def tcp_wrapper_pair() -> AsyncIterator[Pair]:
    accepted: trio.MemorySendChannel[ApduTransport]
    accepted, incoming = trio.open_memory_channel[ApduTransport](1)
    finished = trio.Event()

    async def handler(transport: ApduTransport) -> None:
        await accepted.send(transport)
        await finished.wait()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            partial(
                serve_tcp_wrapper,
                handler,
                "127.0.0.1",
                0,
                local_wport=0x01,
                remote_wport=0x10,
            )
        )
        port = listeners[0].socket.getsockname()[1]
        client = await open_tcp_wrapper("127.0.0.1", port, client_wport=0x10, server_wport=0x01)
        server = await incoming.receive()
        assert server.peer_address.host == "127.0.0.1"
        assert server.local_address.port == port
        assert client.peer_address.port == port
        try:
            yield client, server
        finally:
            await client.aclose()
            finished.set()
            nursery.cancel_scope.cancel()


async def test_tcp_wrapper() -> None:
    await check_apdu_transport(tcp_wrapper_pair, large_size=65_535)


@asynccontextmanager
async def udp_wrapper_pair() -> AsyncIterator[Pair]:
    async with (
        open_udp_endpoint("127.0.0.1", 0) as hes,
        open_udp_endpoint("127.0.0.1", 0) as meter,
    ):
        a = hes.peer("127.0.0.1", meter.sockname[1], local_wport=0x10, remote_wport=0x01)
        b = meter.peer("127.0.0.1", hes.sockname[1], local_wport=0x01, remote_wport=0x10)
        yield a, b


async def test_udp_wrapper() -> None:
    await check_apdu_transport(udp_wrapper_pair, detects_peer_close=False)


@asynccontextmanager
async def hdlc_memory_pair(parameters: HdlcParameters | None = None) -> AsyncIterator[Pair]:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        server_box: list[HdlcStreamTransport] = []

        async def serve() -> None:
            server_box.append(
                await accept_hdlc(server_stream, server_address=SERVER, parameters=parameters)
            )

        nursery.start_soon(serve)
        client = await open_hdlc(
            client_stream, server_address=SERVER, client_address=0x10, parameters=parameters
        )
    try:
        yield client, server_box[0]
    finally:
        await server_box[0].aclose()
        await client.aclose()


async def test_hdlc_memory_stream() -> None:
    await check_apdu_transport(hdlc_memory_pair)


async def test_hdlc_memory_stream_wide_window() -> None:
    await check_apdu_transport(partial(hdlc_memory_pair, WIDE), large_size=60_000)


@asynccontextmanager
async def hdlc_tcp_pair() -> AsyncIterator[Pair]:
    accepted, incoming = trio.open_memory_channel[HdlcStreamTransport](1)
    finished = trio.Event()

    async def meter(transport: HdlcStreamTransport) -> None:
        await accepted.send(transport)
        await finished.wait()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            partial(
                serve_tcp_hdlc,
                meter,
                "127.0.0.1",
                0,
                server_address=SERVER,
                parameters=WIDE,
            )
        )
        port = listeners[0].socket.getsockname()[1]
        client = await open_tcp_hdlc(
            "127.0.0.1", port, server_address=SERVER, client_address=0x10, parameters=WIDE
        )
        server = await incoming.receive()
        try:
            yield client, server
        finally:
            await server.aclose()
            await client.aclose()
            finished.set()
            nursery.cancel_scope.cancel()


async def test_hdlc_tcp() -> None:
    await check_apdu_transport(hdlc_tcp_pair)


@asynccontextmanager
async def hdlc_pty_pair(optical: bool = False) -> AsyncIterator[Pair]:
    master, slave = os.openpty()
    device = os.ttyname(slave)
    meter_stream = trio.lowlevel.FdStream(master)
    try:
        async with trio.open_nursery() as nursery:
            server_box: list[HdlcStreamTransport] = []

            async def serve() -> None:
                if optical:
                    meter = ModeEMeter(manufacturer="DLK", baud_char="5", identification="SIM1")
                    await answer_mode_e(meter_stream, meter)
                server_box.append(
                    await accept_hdlc(meter_stream, server_address=SERVER, device="pty-master")
                )

            nursery.start_soon(serve)
            if optical:
                client = await open_optical_probe(
                    device,
                    server_address=SERVER,
                    handover_delay=0.01,
                    sign_on_line=_pty_sign_on_line(),
                )
            else:
                client = await open_serial_hdlc(device, server_address=SERVER)
        assert client.local_address.device == device
    finally:
        os.close(slave)  # pyserial holds its own descriptor
    try:
        yield client, server_box[0]
    finally:
        await server_box[0].aclose()
        await client.aclose()


async def test_hdlc_serial_pty() -> None:
    await check_apdu_transport(hdlc_pty_pair)


async def test_optical_probe_mode_e_then_hdlc_pty() -> None:
    await check_apdu_transport(partial(hdlc_pty_pair, True), large_size=4000, count=10)


async def test_check_detects_a_broken_transport() -> None:
    """The suite itself fails on a transport that corrupts large APDUs."""

    class Truncating:
        def __init__(self, inner: ApduTransport) -> None:
            self.inner = inner
            self.local_address = inner.local_address
            self.peer_address = inner.peer_address

        async def send_apdu(self, apdu: bytes) -> None:
            await self.inner.send_apdu(apdu[:1000])

        async def receive_apdu(self) -> bytes:
            return await self.inner.receive_apdu()

        async def aclose(self) -> None:
            await self.inner.aclose()

    @asynccontextmanager
    async def broken_pair() -> AsyncIterator[Pair]:
        async with open_memory_apdu_pair() as (a, b):
            yield Truncating(a), Truncating(b)

    with pytest.raises(AssertionError, match="large APDUs"):
        await check_apdu_transport(broken_pair)


async def test_tcp_connect_refused_is_transport_error() -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    await listeners[0].aclose()
    with pytest.raises(TransportError):
        await open_tcp_wrapper("127.0.0.1", port)
