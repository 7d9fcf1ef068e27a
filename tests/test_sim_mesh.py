"""Simulated meters behind an RF mesh DCU and a Wi-SUN border router (channel models)."""

from __future__ import annotations

import functools
from typing import Any

import trio

from dlmskit.apdu import CosemAttributeDescriptor
from dlmskit.association import (
    NEED_DATA,
    AssociationAccepted,
    ClientAssociation,
    ClientSettings,
    Event,
    GetCompleted,
)
from obis import ObisCode
from simulators import Fleet, FleetLayout, LinkStats
from simulators._mesh import eui64, serve_fleet_mesh, serve_fleet_wisun
from transports import (
    ChannelModel,
    open_gateway_multiplexer,
    open_tcp_wrapper,
    open_udp_endpoint,
)

SERIAL = CosemAttributeDescriptor(class_id=1, instance_id=ObisCode(0, 0, 96, 1, 0), attribute_id=2)
QUIET = ChannelModel(name="test", base_latency=0.005, hop_latency=0.002, hop_weights=(1.0, 1.0))


async def _exchange(transport: Any, client: ClientAssociation) -> Event:
    for apdu in client.data_to_send():
        await transport.send_apdu(apdu)
    while (event := client.next_event()) is NEED_DATA:
        client.receive_apdu(await transport.receive_apdu())
        for apdu in client.data_to_send():
            await transport.send_apdu(apdu)
    assert not isinstance(event, type(NEED_DATA))
    return event


async def _serial(transport: Any) -> bytes:
    client = ClientAssociation(ClientSettings())
    client.associate()
    assert isinstance(await _exchange(transport, client), AssociationAccepted)
    client.get(SERIAL)
    event = await _exchange(transport, client)
    assert isinstance(event, GetCompleted)
    value = event.results[0]
    assert isinstance(value, bytes)
    return value


async def test_meters_behind_a_data_concentrator() -> None:
    fleet = Fleet(FleetLayout(seed=6, meters=3))
    stats = LinkStats()
    async with trio.open_nursery() as nursery:
        dcu = await nursery.start(
            functools.partial(serve_fleet_mesh, fleet, channel=QUIET, stats=stats)
        )
        host, port = dcu.address
        transport = await open_tcp_wrapper(host, port)
        async with open_gateway_multiplexer(transport) as mux:
            with trio.fail_after(10):
                for number in (2, 0):
                    address = eui64(fleet.identity(number).system_title)
                    serial = await _serial(mux.meter(0, address))
                    assert serial == str(fleet.identity(number).serial).encode()
        nursery.cancel_scope.cancel()
    assert stats.sessions == 2


async def test_meters_behind_a_wisun_border_router() -> None:
    fleet = Fleet(FleetLayout(seed=6, meters=3))
    async with trio.open_nursery() as nursery:
        router = await nursery.start(
            functools.partial(serve_fleet_wisun, fleet, channel=QUIET, port=0, host="127.0.0.1")
        )
        async with open_udp_endpoint("127.0.0.1", 0) as endpoint:
            ident = fleet.identity(1)
            host, port = router.address_of(ident.name)
            assert host == ident.host
            with trio.fail_after(10):
                serial = await _serial(endpoint.peer(host, port, local_wport=0x10, remote_wport=1))
            assert serial == str(ident.serial).encode()
        nursery.cancel_scope.cancel()
