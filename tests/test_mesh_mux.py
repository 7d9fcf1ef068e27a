"""Head-end gateway multiplexer over the DCU model, with the project's TCP and UDP wrapper
adapters on loopback and the ApduTransport conformance checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import attrs
import pytest
import trio
import trio.testing

from dlmskit.errors import LocalProtocolError, TransportError
from transports import (
    RF_MESH_DEFAULT,
    ApduTransport,
    MeshMeter,
    OutageWindow,
    UdpEndpoint,
    loopback_host,
    open_data_concentrator,
    open_gateway_multiplexer,
    open_tcp_wrapper,
    open_udp_endpoint,
)
from transports.testing import check_apdu_transport

HOST = loopback_host()
QUIET = attrs.evolve(RF_MESH_DEFAULT, hop_jitter=0.0, hop_loss=0.0, outage_probability=0.0)


@pytest.fixture
def net_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 2 ms of real idleness, so a datagram still in
    the kernel's loopback path is not overtaken by a jump."""
    return trio.testing.MockClock(autojump_threshold=0.002)


def _eui(n: int) -> bytes:
    return bytes.fromhex("70B3D5FFFE0000") + bytes([0, n])


@asynccontextmanager
async def _pair() -> AsyncIterator[tuple[ApduTransport, ApduTransport]]:
    """(head-end transport to the meter through the DCU, the meter's own UDP transport)."""
    async with open_udp_endpoint(HOST, 0) as meter_end:
        meter = MeshMeter(network_id=1, physical_device_address=_eui(1), address=meter_end.sockname)
        # A queue deep enough for the burst checks; backpressure is tested on its own.
        dcu_cm = open_data_concentrator(channel=QUIET, meters=[meter], queue_limit=64)
        async with dcu_cm as dcu:
            link = await open_tcp_wrapper(*dcu.address)
            async with open_gateway_multiplexer(link) as mux:
                a = mux.meter(1, _eui(1))
                b = meter_end.peer(*dcu.meter_side_address, local_wport=0x01, remote_wport=0x10)
                yield a, b


async def test_meter_transport_passes_the_conformance_checks(
    net_clock: trio.testing.MockClock,
) -> None:
    await check_apdu_transport(_pair, large_size=1900, count=20, detects_peer_close=False)


async def _answer_forever(endpoint: UdpEndpoint, peer: tuple[str, int]) -> None:
    transport = endpoint.peer(*peer, local_wport=0x01, remote_wport=0x10)
    while True:
        request = await transport.receive_apdu()
        await transport.send_apdu(b"\xc4" + request[1:])


async def test_concurrent_sessions_to_many_meters(net_clock: trio.testing.MockClock) -> None:
    async with AsyncExitStack() as stack:
        endpoints = [await stack.enter_async_context(open_udp_endpoint(HOST, 0)) for _ in range(6)]
        meters = [
            MeshMeter(physical_device_address=_eui(i), address=e.sockname)
            for i, e in enumerate(endpoints)
        ]
        dcu = await stack.enter_async_context(open_data_concentrator(channel=QUIET, meters=meters))
        nursery = await stack.enter_async_context(trio.open_nursery())
        for endpoint in endpoints:
            nursery.start_soon(_answer_forever, endpoint, dcu.meter_side_address)
        mux = await stack.enter_async_context(
            open_gateway_multiplexer(await open_tcp_wrapper(*dcu.address))
        )
        results: dict[int, list[bytes]] = {}

        async def session(i: int) -> None:
            transport = mux.meter(0, _eui(i))
            got = []
            for n in range(5):
                await transport.send_apdu(bytes([0xC0, 0x01, i, n]))
                got.append(await transport.receive_apdu())
            results[i] = got

        start = trio.current_time()
        async with trio.open_nursery() as sessions:
            for i in range(6):
                sessions.start_soon(session, i)
        elapsed = trio.current_time() - start
        assert results == {i: [bytes([0xC4, 0x01, i, n]) for n in range(5)] for i in range(6)}
        # The sessions overlap: the whole run takes as long as the slowest meter's five.
        slowest = max(QUIET.hops_for(m.link) for m in meters)
        assert elapsed < 5 * 2 * (0.05 + slowest * 0.125) + 0.5
        assert mux.unmatched == 0
        nursery.cancel_scope.cancel()


async def test_push_from_a_meter_comes_out_of_accept(
    net_clock: trio.testing.MockClock,
) -> None:
    async with open_udp_endpoint(HOST, 0) as meter_end:
        meter = MeshMeter(network_id=4, physical_device_address=_eui(9), address=meter_end.sockname)
        async with (
            open_data_concentrator(channel=QUIET, meters=[meter]) as dcu,
            open_gateway_multiplexer(await open_tcp_wrapper(*dcu.address)) as mux,
        ):
            # The head-end must have spoken once so the DCU knows where to relay.
            probe = mux.meter(0, _eui(200))
            await probe.send_apdu(b"\xc0\x01")
            assert await probe.receive_apdu() == bytes.fromhex("D80101")
            push = meter_end.peer(*dcu.meter_side_address, local_wport=0x01, remote_wport=0x10)
            notification = bytes.fromhex("0F0000000100") + bytes([0x09, 0x02, 0x12, 0x34])
            await push.send_apdu(notification)
            with trio.fail_after(10):
                pushed = await mux.accept()
            assert (pushed.network_id, pushed.physical_device_address) == (4, _eui(9))
            assert await pushed.receive_apdu() == notification
            with pytest.raises(LocalProtocolError):
                mux.meter(4, _eui(9))


async def test_refusal_reaches_the_meter_transport(net_clock: trio.testing.MockClock) -> None:
    channel = attrs.evolve(QUIET, outages=(OutageWindow(start=0.0, end=20.0),))
    async with open_udp_endpoint(HOST, 0) as meter_end:
        meter = MeshMeter(physical_device_address=_eui(3), address=meter_end.sockname)
        async with (
            open_data_concentrator(channel=channel, meters=[meter], queue_limit=1) as dcu,
            open_gateway_multiplexer(await open_tcp_wrapper(*dcu.address)) as mux,
            trio.open_nursery() as nursery,
        ):
            nursery.start_soon(_answer_forever, meter_end, dcu.meter_side_address)
            transport = mux.meter(0, _eui(3))
            await transport.send_apdu(b"\xc0\x01\x01")
            await transport.send_apdu(b"\xc0\x01\x02")
            assert await transport.receive_apdu() == bytes.fromhex("D80101")
            assert await transport.receive_apdu() == b"\xc4\x01\x01"
            assert dcu.now() >= 20.0
            nursery.cancel_scope.cancel()


async def test_closing_the_dcu_link_closes_the_meter_transports(
    net_clock: trio.testing.MockClock,
) -> None:
    async with open_data_concentrator(channel=QUIET) as dcu:
        link = await open_tcp_wrapper(*dcu.address)
        async with open_gateway_multiplexer(link) as mux:
            transport = mux.meter(0, _eui(1))
            await link.stream.aclose()
            with trio.fail_after(5), pytest.raises(TransportError):
                await transport.receive_apdu()
            with pytest.raises(TransportError):
                mux.meter(0, _eui(2))
