"""Meters in the same process as the DCU: no sockets on the meter side."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import pytest
import trio
import trio.testing

from dlmskit.errors import LocalProtocolError, TransportError
from transports import (
    RF_MESH_DEFAULT,
    ApduTransport,
    Direction,
    MeshMeter,
    MeshMeterLink,
    open_data_concentrator,
    open_gateway_multiplexer,
    open_tcp_wrapper,
)
from transports.testing import check_apdu_transport

QUIET = attrs.evolve(RF_MESH_DEFAULT, hop_jitter=0.0, hop_loss=0.0, outage_probability=0.0)


@pytest.fixture
def net_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 2 ms of real idleness, so a datagram still in
    the kernel's loopback path is not overtaken by a jump."""
    return trio.testing.MockClock(autojump_threshold=0.002)


def _eui(n: int) -> bytes:
    return bytes.fromhex("70B3D5FFFE") + n.to_bytes(3, "big")


@asynccontextmanager
async def _pair() -> AsyncIterator[tuple[ApduTransport, ApduTransport]]:
    meter = MeshMeter(physical_device_address=_eui(1))
    async with (
        open_data_concentrator(channel=QUIET, meters=[meter], queue_limit=64) as dcu,
        open_gateway_multiplexer(await open_tcp_wrapper(*dcu.address)) as mux,
    ):
        head_end = mux.meter(0, _eui(1))
        # The meter learns its wPorts from the first WPDU; prime them both ways.
        await head_end.send_apdu(b"\xc0\x01")
        link = dcu.meter_link(meter)
        assert await link.receive_apdu() == b"\xc0\x01"
        yield head_end, link


async def test_in_process_link_passes_the_conformance_checks(
    net_clock: trio.testing.MockClock,
) -> None:
    await check_apdu_transport(
        _pair, large_size=1900, count=20, detects_peer_close=False, timeout=600.0
    )


async def _echo(link: MeshMeterLink) -> None:
    while True:
        apdu = await link.receive_apdu()
        await link.send_apdu(b"\xc4" + apdu[1:])


async def test_a_fleet_of_300_meters_behind_one_dcu(net_clock: trio.testing.MockClock) -> None:
    meters = [MeshMeter(physical_device_address=_eui(n)) for n in range(300)]
    async with (
        open_data_concentrator(channel=QUIET, meters=meters) as dcu,
        open_gateway_multiplexer(await open_tcp_wrapper(*dcu.address)) as mux,
        trio.open_nursery() as nursery,
    ):
        for meter in meters:
            nursery.start_soon(_echo, dcu.meter_link(meter))
        answers: dict[int, bytes] = {}
        limit = trio.CapacityLimiter(50)

        async def read(n: int) -> None:
            async with limit:
                transport = mux.meter(0, _eui(n))
                await transport.send_apdu(bytes([0xC0, 0x01]) + n.to_bytes(2, "big"))
                answers[n] = await transport.receive_apdu()
                await transport.aclose()

        start = trio.current_time()
        async with trio.open_nursery() as readers:
            for n in range(300):
                readers.start_soon(read, n)
        elapsed = trio.current_time() - start
        nursery.cancel_scope.cancel()
    assert answers == {n: bytes([0xC4, 0x01]) + n.to_bytes(2, "big") for n in range(300)}
    assert dcu.stats.delivered == {Direction.DOWNLINK: 300, Direction.UPLINK: 300}
    # Fifty at a time: six rounds of at most one slowest round trip each.
    slowest = max(2 * (0.05 + QUIET.hops_for(m.link) * (0.115 + 12 / 2500)) for m in meters)
    assert elapsed <= 6 * slowest + 1e-6


async def test_meter_link_keeps_the_client_sap(net_clock: trio.testing.MockClock) -> None:
    meter = MeshMeter(physical_device_address=_eui(7))
    async with open_data_concentrator(channel=QUIET, meters=[meter]) as dcu:
        link = dcu.meter_link(meter)
        reader = await open_tcp_wrapper(*dcu.address, client_wport=0x20, server_wport=0x01)
        async with open_gateway_multiplexer(reader) as mux:
            head_end = mux.meter(0, _eui(7))
            await head_end.send_apdu(b"\xc0\x01\x01")
            wpdu = await link.receive_wpdu()
            assert (wpdu.source, wpdu.destination) == (0x20, 0x01)
            assert (link.local_address.sap, link.peer_address.sap) == (0x01, 0x20)
            await link.send_apdu(b"\xc4\x01\x01")
            assert await head_end.receive_apdu() == b"\xc4\x01\x01"
        await link.aclose()
        with pytest.raises(TransportError):
            await link.receive_apdu()


async def test_socket_meters_have_no_in_process_link() -> None:
    meter = MeshMeter(physical_device_address=_eui(1), address=("127.0.0.1", 9))
    async with open_data_concentrator(channel=QUIET, meters=[meter]) as dcu:
        with pytest.raises(LocalProtocolError):
            dcu.meter_link(meter)
