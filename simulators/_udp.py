"""Serving meters over the wrapper on UDP (IEC 62056-4-7 UDP profile) with trio.

On Linux one socket bound to the wildcard address serves the whole fleet: IP_PKTINFO
tells which local (meter) address each datagram was sent to, and the answer leaves from
that address. Elsewhere, or for a given host, each meter binds its own endpoint. Every
client (address, port, wPort pair) gets its own session on its meter.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import struct
import sys
from collections.abc import Sequence

import trio

from dlmskit.errors import DecodeError, TransportError
from simulators._fleet import Fleet
from simulators._serve import DEFAULT_IDLE_TIMEOUT, LinkStats, run_session
from transports import UdpPeerTransport, decode_wpdu, encode_wpdu, open_udp_endpoint

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
    """Serve every meter on its own address, UDP ``port``: from one wildcard socket when
    ``host`` is ``None`` (Linux), else one endpoint per meter (``host`` for a one-meter
    fleet); ``nursery.start`` returns the bound (address, port) of each socket."""
    counters = stats if stats is not None else LinkStats()
    if host is None and sys.platform.startswith("linux"):
        await _serve_wildcard(fleet, port, counters, idle_timeout, task_status)
        return
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


_IP_PKTINFO = 8  # Linux <netinet/in.h>; the socket module does not name it
_PKTINFO = struct.Struct("=i4s4s")  # ifindex, spec_dst, addr


def _destination(ancillary: list[tuple[int, int, bytes]]) -> str | None:
    for level, kind, data in ancillary:
        if level == socket.IPPROTO_IP and kind == _IP_PKTINFO and len(data) >= _PKTINFO.size:
            _, _, address = _PKTINFO.unpack_from(data)
            return str(ipaddress.IPv4Address(address))
    return None


async def _serve_wildcard(
    fleet: Fleet,
    port: int,
    stats: LinkStats,
    idle_timeout: float,
    task_status: trio.TaskStatus[Sequence[tuple[str, int]]],
) -> None:
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with sock:
        sock.setsockopt(socket.IPPROTO_IP, _IP_PKTINFO, 1)
        await sock.bind(("0.0.0.0", port))
        name = sock.getsockname()
        sessions: dict[tuple[str, str, int, int, int], trio.MemorySendChannel[bytes]] = {}

        async def session(
            key: tuple[str, str, int, int, int], receive: trio.MemoryReceiveChannel[bytes]
        ) -> None:
            local, peer_host, peer_port, meter_wport, client_wport = key
            meter = fleet.meter_at(local)
            pktinfo = [
                (
                    socket.IPPROTO_IP,
                    _IP_PKTINFO,
                    _PKTINFO.pack(0, ipaddress.IPv4Address(local).packed, bytes(4)),
                )
            ]

            async def send(apdu: bytes) -> None:
                data = encode_wpdu(meter_wport, client_wport, apdu)
                await sock.sendmsg([data], pktinfo, 0, (peer_host, peer_port))

            try:
                if meter is not None:
                    await run_session(
                        meter, client_wport, None, receive.receive, send, stats,
                        idle_timeout=idle_timeout,
                    )  # fmt: skip
            except (OSError, trio.EndOfChannel):
                pass
            finally:
                sessions.pop(key, None)
                receive.close()

        async with trio.open_nursery() as nursery:
            task_status.started([(str(name[0]), int(name[1]))])
            while True:
                data, ancillary, _flags, address = await sock.recvmsg(65535, 256)
                local = _destination(ancillary)
                try:
                    wpdu = decode_wpdu(data)
                except DecodeError:
                    stats.refused += 1
                    continue
                if local is None or fleet.meter_at(local) is None:
                    stats.refused += 1
                    continue
                assert isinstance(address, tuple)
                key = (local, str(address[0]), int(address[1]), wpdu.destination, wpdu.source)
                channel = sessions.get(key)
                if channel is None:
                    stats.connections += 1
                    channel, receive = trio.open_memory_channel[bytes](16)
                    sessions[key] = channel
                    nursery.start_soon(session, key, receive)
                try:
                    channel.send_nowait(wpdu.apdu)
                except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
                    stats.dropped += 1
