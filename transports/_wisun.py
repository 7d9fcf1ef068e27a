"""Wi-SUN profile: a border-router model that carries wrapper datagrams (UDP port 4059 in
the field) between a head-end and meters over a simulated Wi-SUN FAN (dlms-facts §5).

On a real FAN the head-end sends UDP to each meter's IPv6 address and the border router
routes it into the mesh. On one machine every endpoint lives on loopback, so the model
gives each meter an address of its own on the head-end side: ``BorderRouter.address_of``
returns ``(host, port)``, a UDP socket the router binds for that meter. The host is the
IPv6 loopback ``::1`` when the machine has it, else ``127.0.0.1`` (``loopback_host``);
meters are told apart by port, or, on IPv4, each gets an address of the 127.0.0.0/8
range on port 4059 (``add_meter(..., routed_address=...)``). Whatever the head-end sends there:

1. is decided by the ``ChannelModel`` for that meter (hop count from the seed, per-hop
   latency and jitter, per-frame loss, outages, MTU);
2. is cut into 6LoWPAN fragments when the channel has a ``frame_payload``; each fragment
   arrives (or not) at its own time and a reassembler on the far side rebuilds the
   datagram, so the loss of any fragment loses the datagram;
3. is sent from the router to the meter's own UDP endpoint (or handed to an in-process
   meter, ``meter_link``), in order: per meter and
   direction a datagram never overtakes an earlier one still on its way (a route is one
   FIFO path), while a lost one holds nothing up.

Meter replies go the same way back and reach the head-end from the meter's address. A
datagram a meter sends before the head-end ever spoke to it (a push) goes to
``push_destination``. Datagrams are forwarded opaque; the router does not parse them.
Channel time 0 is the moment the router opens. trio only; the decisions are the channel's.
"""

from __future__ import annotations

import functools
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import attrs
import trio

from dlmskit.errors import LocalProtocolError, TransportError
from transports._channel import WISUN_DEFAULT, ChannelModel, Direction, LossCause
from transports._channel_lowpan import LowpanReassembler, fragment_datagram
from transports._mesh_link import MeshMeterLink

__all__ = [
    "BorderRouter",
    "BorderRouterStats",
    "loopback_host",
    "open_border_router",
]

_MAX_DATAGRAM = 65535


def loopback_host() -> str:
    """``"::1"`` if an IPv6 loopback socket can be bound here, else ``"127.0.0.1"``."""
    if socket.has_ipv6:
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
                probe.bind(("::1", 0))
        except OSError:
            return "127.0.0.1"
        return "::1"
    return "127.0.0.1"


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


@attrs.define
class BorderRouterStats:
    """Counters of what the router did, for tests and KPIs."""

    sent: dict[Direction, int] = attrs.field(factory=lambda: dict.fromkeys(Direction, 0))
    delivered: dict[Direction, int] = attrs.field(factory=lambda: dict.fromkeys(Direction, 0))
    lost: dict[LossCause, int] = attrs.field(factory=lambda: dict.fromkeys(LossCause, 0))
    fragments: int = 0
    fragments_lost: int = 0
    no_destination: int = 0
    """Meter datagrams dropped because no head-end address was known."""
    strangers: int = 0
    """Datagrams from unknown senders, ignored."""
    send_errors: int = 0
    """Datagrams the operating system refused to send."""
    reassembly_failed: int = 0
    """Datagrams whose frames all arrived but could not be reassembled."""


@attrs.define
class _Meter:
    meter_id: str
    address: tuple[str, int] | None
    north: trio.socket.SocketType
    routed: tuple[str, int]
    """The address the head-end reaches this meter at."""
    link: MeshMeterLink | None = None
    peer: tuple[str, int] | None = None
    seq: dict[Direction, int] = attrs.field(factory=lambda: dict.fromkeys(Direction, 0))
    released: dict[Direction, int] = attrs.field(factory=lambda: dict.fromkeys(Direction, 0))
    """Per direction, the sequence number of the next datagram to hand over."""
    ready: dict[Direction, dict[int, bytes | None]] = attrs.field(
        factory=lambda: {d: {} for d in Direction}
    )
    """Reassembled datagrams (``None``: lost) waiting for earlier ones, by sequence number."""
    lock: dict[Direction, trio.StrictFIFOLock] = attrs.field(
        factory=lambda: {d: trio.StrictFIFOLock() for d in Direction}
    )
    expected_frames: dict[Direction, dict[int, int]] = attrs.field(
        factory=lambda: {d: {} for d in Direction}
    )
    """Frames still to arrive of each datagram the channel delivers, by sequence number."""


class BorderRouter:
    """The running router; create it with ``open_border_router``."""

    def __init__(
        self,
        *,
        nursery: trio.Nursery,
        channel: ChannelModel,
        host: str,
        south: trio.socket.SocketType,
        push_destination: tuple[str, int] | None,
        reassembly_timeout: float,
    ) -> None:
        self.channel = channel
        self.host = host
        self.push_destination = push_destination
        self.stats = BorderRouterStats()
        self._nursery = nursery
        self._south = south
        self._origin = trio.current_time()
        self._meters: dict[str, _Meter] = {}
        self._by_address: dict[tuple[str, int], _Meter] = {}
        self._tag = 0
        self._reassemblers = {
            d: LowpanReassembler(timeout=reassembly_timeout, max_pending=1024) for d in Direction
        }

    def now(self) -> float:
        """Channel time: seconds since the router opened."""
        return trio.current_time() - self._origin

    def meter_link(self, meter_id: str) -> MeshMeterLink:
        """The meter's end of the link to an in-process meter (added without an address)."""
        link = self._meters[meter_id].link
        if link is None:
            raise LocalProtocolError(f"meter {meter_id!r} is reached over UDP, not in-process")
        return link

    def address_of(self, meter_id: str) -> tuple[str, int]:
        """The address a head-end sends to in order to reach ``meter_id``."""
        return self._meters[meter_id].routed

    @property
    def meter_side_address(self) -> tuple[str, int]:
        """Where the router receives the meters' datagrams (their next hop)."""
        host, port = self._south.getsockname()[:2]
        return (host, port)

    def hops_of(self, meter_id: str) -> int:
        return self.channel.hops_for(meter_id)

    async def add_meter(
        self,
        meter_id: str,
        address: tuple[str, int] | None = None,
        *,
        routed_address: tuple[str, int] | None = None,
    ) -> tuple[str, int]:
        """Route ``meter_id`` whose UDP endpoint is ``address``; return its head-end address.

        ``address`` ``None``: the meter lives in this process and talks through
        ``meter_link(meter_id)``. ``routed_address`` picks the head-end address, e.g.
        ``("127.0.3.7", 4059)`` to give every meter its own IPv4 loopback address on the
        DLMS port; by default the router's host and a free port.
        """
        if meter_id in self._meters:
            raise LocalProtocolError(f"meter {meter_id!r} already routed")
        bind = (self.host, 0) if routed_address is None else routed_address
        north = trio.socket.socket(_family(bind[0]), socket.SOCK_DGRAM)
        try:
            await north.bind(bind)
        except OSError as exc:
            north.close()
            raise TransportError(f"cannot bind {bind}: {exc}") from exc
        name = north.getsockname()
        routed = (str(name[0]), int(name[1]))
        if address is None:
            meter = _Meter(meter_id=meter_id, address=None, north=north, routed=routed)
            meter.link = MeshMeterLink(
                functools.partial(self._forward, meter, Direction.UPLINK), queue_size=64
            )
        else:
            meter = _Meter(
                meter_id=meter_id, address=(address[0], address[1]), north=north, routed=routed
            )
            self._by_address[(address[0], address[1])] = meter
        self._meters[meter_id] = meter
        self._nursery.start_soon(self._downlink, meter)
        return self.address_of(meter_id)

    async def _downlink(self, meter: _Meter) -> None:
        with meter.north:
            while True:
                data, sender = await meter.north.recvfrom(_MAX_DATAGRAM)
                meter.peer = (sender[0], sender[1])
                self._forward(meter, Direction.DOWNLINK, data)

    async def uplink_loop(self) -> None:
        while True:
            data, sender = await self._south.recvfrom(_MAX_DATAGRAM)
            meter = self._by_address.get((sender[0], sender[1]))
            if meter is None:
                self.stats.strangers += 1
                continue
            self._forward(meter, Direction.UPLINK, data)

    def _forward(self, meter: _Meter, direction: Direction, data: bytes) -> None:
        seq = meter.seq[direction]
        meter.seq[direction] = seq + 1
        self.stats.sent[direction] += 1
        tx = self.channel.transmit(
            link=meter.meter_id, seq=seq, at=self.now(), size=len(data), direction=direction
        )
        if tx.cause in (LossCause.TOO_BIG, LossCause.OUTAGE):
            self.stats.lost[tx.cause] += 1
            self._settle(meter, direction, seq, None)
            return
        if self.channel.frame_payload is None:
            frames = [data]
        else:
            frames = fragment_datagram(
                data, tag=self._tag, frame_payload=self.channel.frame_payload
            )
            self._tag = (self._tag + 1) & 0xFFFF
        self.stats.fragments += len(frames)
        if tx.delivered:
            meter.expected_frames[direction][seq] = len(frames)
        else:
            self.stats.lost[LossCause.LOSS] += 1
            self._settle(meter, direction, seq, None)
        for frame, arrival in zip(frames, tx.frame_arrivals, strict=True):
            if arrival is None:
                self.stats.fragments_lost += 1
                continue
            self._nursery.start_soon(self._arrive, meter, direction, seq, frame, arrival)

    async def _arrive(
        self, meter: _Meter, direction: Direction, seq: int, frame: bytes, at: float
    ) -> None:
        await trio.sleep_until(self._origin + at)
        if self.channel.frame_payload is None:
            datagram: bytes | None = frame
        else:
            datagram = self._reassemblers[direction].receive(
                frame, now=self.now(), source=meter.meter_id
            )
        expected = meter.expected_frames[direction]
        remaining = expected.get(seq)
        if remaining is not None:
            if remaining > 1:
                expected[seq] = remaining - 1
            else:
                del expected[seq]
                if datagram is None:
                    # Every frame came but the reassembler dropped the datagram (its
                    # partial buffer expired or was evicted): lost, and nothing waits on it.
                    self.stats.reassembly_failed += 1
                    await self._hand_over(
                        meter, direction, self._settle(meter, direction, seq, None)
                    )
                    return
        if datagram is not None:
            await self._hand_over(meter, direction, self._settle(meter, direction, seq, datagram))

    def _settle(
        self, meter: _Meter, direction: Direction, seq: int, datagram: bytes | None
    ) -> list[bytes]:
        """Record datagram ``seq`` as reassembled (or lost, ``None``); return the datagrams
        now due, in order: a datagram never overtakes an earlier one still on its way."""
        ready = meter.ready[direction]
        ready[seq] = datagram
        due = []
        while meter.released[direction] in ready:
            item = ready.pop(meter.released[direction])
            meter.released[direction] += 1
            if item is not None:
                due.append(item)
        return due

    async def _hand_over(self, meter: _Meter, direction: Direction, due: list[bytes]) -> None:
        if not due:
            return
        async with meter.lock[direction]:
            for datagram in due:
                if direction is Direction.DOWNLINK and meter.link is not None:
                    self.stats.delivered[direction] += 1
                    meter.link.deliver(datagram)
                    continue
                if direction is Direction.DOWNLINK:
                    assert meter.address is not None
                    sock, destination = self._south, meter.address
                elif (peer := meter.peer or self.push_destination) is not None:
                    sock, destination = meter.north, peer
                else:
                    self.stats.no_destination += 1
                    continue
                self.stats.delivered[direction] += 1
                try:
                    await sock.sendto(datagram, destination)
                except OSError:
                    self.stats.delivered[direction] -= 1
                    self.stats.send_errors += 1


@asynccontextmanager
async def open_border_router(
    *,
    channel: ChannelModel = WISUN_DEFAULT,
    meters: Mapping[str, tuple[str, int] | None] | None = None,
    host: str | None = None,
    push_destination: tuple[str, int] | None = None,
    reassembly_timeout: float = 60.0,
) -> AsyncIterator[BorderRouter]:
    """Run a border router for the duration of the ``async with`` block.

    ``meters`` maps a meter id to its UDP endpoint (``None``: in-process, see
    ``meter_link``); more can be added with ``add_meter``.
    ``host`` defaults to ``loopback_host()``; the meters must use the same address family.
    """
    bind_host = loopback_host() if host is None else host
    south = trio.socket.socket(_family(bind_host), socket.SOCK_DGRAM)
    with south:
        await south.bind((bind_host, 0))
        async with trio.open_nursery() as nursery:
            router = BorderRouter(
                nursery=nursery,
                channel=channel,
                host=bind_host,
                south=south,
                push_destination=push_destination,
                reassembly_timeout=reassembly_timeout,
            )
            for meter_id, address in (meters or {}).items():
                await router.add_meter(meter_id, address)
            nursery.start_soon(router.uplink_loop)
            try:
                yield router
            finally:
                nursery.cancel_scope.cancel()
