"""Serving meters over the wrapper on UDP (IEC 62056-4-7 UDP profile) with trio.

One UDP endpoint per meter address (a datagram does not tell which local address it was
sent to without ancillary data, so each meter binds its own); every client (address,
port, wPort pair) gets its own session on that meter.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import trio

from dlmskit.errors import TransportError
from simulators._fleet import Fleet
from simulators._serve import DEFAULT_IDLE_TIMEOUT, LinkStats, run_session
from transports import UdpPeerTransport, open_udp_endpoint

__all__ = ["serve_fleet_udp"]


async def _serve_peer(
    fleet: Fleet, number: int, peer: UdpPeerTransport, stats: LinkStats, idle_timeout: float
) -> None:
    try:
        await run_session(
            fleet.meter(number),
            peer.remote_wport,
            None,
            peer.receive_apdu,
            peer.send_apdu,
            stats,
            idle_timeout=idle_timeout,
        )
    except TransportError:
        pass
    finally:
        peer.close()


async def _serve_meter(
    fleet: Fleet,
    number: int,
    host: str,
    port: int,
    stats: LinkStats,
    idle_timeout: float,
    task_status: trio.TaskStatus[tuple[str, int]] = trio.TASK_STATUS_IGNORED,
) -> None:
    async with open_udp_endpoint(host, port) as endpoint, trio.open_nursery() as nursery:
        task_status.started(endpoint.sockname)
        while True:
            try:
                peer = await endpoint.accept()
            except TransportError:
                return
            stats.connections += 1
            nursery.start_soon(_serve_peer, fleet, number, peer, stats, idle_timeout)


async def serve_fleet_udp(
    fleet: Fleet,
    port: int = 4059,
    *,
    host: str | None = None,
    stats: LinkStats | None = None,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    task_status: trio.TaskStatus[Sequence[tuple[str, int]]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve every meter on its own address (``host`` for a one-meter fleet), UDP
    ``port``; ``nursery.start`` returns the bound (address, port) of each meter."""
    counters = stats if stats is not None else LinkStats()
    async with trio.open_nursery() as nursery:
        bound = []
        for number in range(len(fleet)):
            address = host if host is not None and len(fleet) == 1 else fleet.identity(number).host
            bound.append(
                await nursery.start(
                    functools.partial(
                        _serve_meter, fleet, number, address, port, counters, idle_timeout
                    )
                )
            )
        task_status.started(bound)
