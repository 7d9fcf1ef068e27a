"""Fleets behind simulated networks: an RF mesh data concentrator and a Wi-SUN border
router (``transports`` channel models), with the meters in the same process.

A head-end reaches an RF mesh meter through the DCU's gateway APDUs and a Wi-SUN meter
at its routed UDP address; both cross the seeded channel model (hops, latency, jitter,
loss, outages). The link is connectionless, so each client SAP has one association per
meter, and an AARQ on an established one starts a new one (the client came back).
"""

from __future__ import annotations

import functools

import trio

from dlmskit.association import AssociationState
from dlmskit.errors import TransportError
from simulators._fleet import Fleet
from simulators._meter import MeterSession
from simulators._serve import DEFAULT_IDLE_TIMEOUT, LinkFaults, LinkStats
from transports import (
    RF_MESH_DEFAULT,
    WISUN_DEFAULT,
    BorderRouter,
    ChannelModel,
    DataConcentrator,
    MeshMeter,
    MeshMeterLink,
    Wpdu,
    open_border_router,
    open_data_concentrator,
)

__all__ = ["eui64", "serve_fleet_mesh", "serve_fleet_wisun", "serve_link"]

_AARQ = 0x60


def eui64(system_title: bytes) -> bytes:
    """The meter's 8-byte radio address (EUI-64): its system title."""
    return bytes(system_title)


async def serve_link(
    fleet: Fleet,
    number: int,
    link: MeshMeterLink,
    stats: LinkStats,
    *,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
) -> None:
    """Serve meter ``number`` on its end of a network link until the link closes."""
    sessions: dict[int, tuple[MeterSession, LinkFaults]] = {}
    while True:
        try:
            wpdu = await link.receive_wpdu()
        except TransportError:
            return
        meter = fleet.meter(number)
        entry = sessions.get(wpdu.source)
        if (
            entry is None
            or entry[0].meter is not meter
            or (wpdu.apdu[:1] == bytes((_AARQ,)) and entry[0].associated)
        ):
            if entry is not None:
                entry[0].close()
            session = meter.open_session(wpdu.source)
            if session is None:
                stats.refused += 1
                continue
            stats.sessions += 1
            entry = sessions[wpdu.source] = (session, LinkFaults(meter, stats))
        session, faults = entry
        reply = functools.partial(_reply, link, wpdu)
        try:
            await faults.answer(session, wpdu.apdu, reply)
        except TransportError:
            return
        if session.association.state is AssociationState.IDLE:
            # released or refused: nothing to keep (and the meter may be evicted)
            session.close()
            del sessions[wpdu.source]


async def _reply(link: MeshMeterLink, request: Wpdu, apdu: bytes) -> None:
    await link.send_wpdu(Wpdu(source=request.destination, destination=request.source, apdu=apdu))


async def serve_fleet_mesh(
    fleet: Fleet,
    *,
    channel: ChannelModel = RF_MESH_DEFAULT,
    network_id: int = 0,
    host: str | None = None,
    port: int = 0,
    stats: LinkStats | None = None,
    task_status: trio.TaskStatus[DataConcentrator] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Every meter of ``fleet`` behind one RF mesh DCU (radio address: ``eui64`` of its
    system title); ``nursery.start`` returns the DCU (``.address`` for the head-end)."""
    counters = stats if stats is not None else LinkStats()
    async with (
        open_data_concentrator(channel=channel, host=host, port=port) as dcu,
        trio.open_nursery() as nursery,
    ):
        for number in range(len(fleet)):
            node = MeshMeter(
                network_id=network_id,
                physical_device_address=eui64(fleet.identity(number).system_title),
            )
            dcu.add_meter(node)
            nursery.start_soon(serve_link, fleet, number, dcu.meter_link(node), counters)
        task_status.started(dcu)


async def serve_fleet_wisun(
    fleet: Fleet,
    *,
    channel: ChannelModel = WISUN_DEFAULT,
    port: int = 4059,
    host: str | None = None,
    stats: LinkStats | None = None,
    task_status: trio.TaskStatus[BorderRouter] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Every meter of ``fleet`` behind one Wi-SUN border router, reachable at its own
    loopback address on UDP ``port``; ``nursery.start`` returns the router."""
    counters = stats if stats is not None else LinkStats()
    async with (
        open_border_router(channel=channel, host=host) as router,
        trio.open_nursery() as nursery,
    ):
        for number in range(len(fleet)):
            ident = fleet.identity(number)
            await router.add_meter(ident.name, None, routed_address=(ident.host, port))
            link = router.meter_link(ident.name)
            nursery.start_soon(serve_link, fleet, number, link, counters)
        task_status.started(router)
