"""RF mesh profile: a data-concentrator (DCU / gateway) model between a head-end and meters
on a slow, lossy mesh (dlms-facts §5).

Addressing a meter behind the DCU
---------------------------------
The head-end opens one TCP connection to the DCU and speaks the wrapper on it (port 4059
in the field). Each APDU for a meter travels inside a gateway request (``0xE6``, see
``transports._gateway``)::

    WPDU(source = head-end client SAP, destination = meter logical device,
         apdu = E6 | network-id | len | physical-device-address | xDLMS APDU)

The DCU keeps a table from ``(network-id, physical-device-address)`` to the meter
(``MeshMeter``; the address is typically the node's 8-byte EUI-64). It relays the inner
APDU over the mesh to the meter with the same wPorts, and wraps whatever the meter sends
back in a gateway response (``0xE7``) with the same network-id and address, on the
connection that last addressed that meter (a meter that nobody addressed yet, e.g. one
sending a push, is relayed to the newest connection). The head-end thus tells responses
apart by the address, and can keep many meters busy over one connection.

Meters are UDP wrapper endpoints (on loopback in tests and simulations): one WPDU per
datagram, as the UDP profile of IEC 62056-4-7. A meter added without an address lives in
the same process: ``DataConcentrator.meter_link`` gives its end of the link, an
``ApduTransport`` (a fleet of thousands behind one DCU needs no sockets).

The mesh
--------
Every relayed datagram, both ways, goes through the ``ChannelModel`` for that meter
(link key: network-id and address in hex): hop count from the seed, per-hop latency,
jitter and loss, bandwidth, outages. Per meter and direction the relay keeps order: a
datagram never overtakes an earlier one (it waits behind it). The DCU holds a request
while the meter's route is down and drops it once it has waited ``request_timeout``
seconds. Per meter at most ``queue_limit`` requests may be queued or in flight on the
mesh; a request beyond that is refused at once (backpressure instead of an unbounded
queue), like a request for an unknown meter, with a gateway response carrying
exception-response ``D8 01 01`` (service-not-allowed, operation-not-possible). An APDU
that is not a gateway request is answered with ``D8 01 02`` (service-not-allowed,
service-not-supported). Towards the head-end at most ``uplink_limit`` datagrams per meter
wait on the mesh; more are dropped and counted. Channel time 0 is the moment the DCU
opens.
"""

from __future__ import annotations

import functools
import math
import socket
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import attrs
import trio

from dlmskit.errors import DecodeError, LocalProtocolError
from transports._channel import RF_MESH_DEFAULT, ChannelModel, Direction, LossCause
from transports._gateway import (
    MAX_PHYSICAL_ADDRESS_SIZE,
    GatewayRequest,
    GatewayResponse,
    decode_gateway_apdu,
    encode_gateway_apdu,
)
from transports._mesh_link import MeshMeterLink
from transports._wisun import loopback_host
from transports._wrapper import Wpdu, WrapperFramer, decode_wpdu, encode_wpdu

__all__ = [
    "DataConcentrator",
    "DcuStats",
    "MeshMeter",
    "open_data_concentrator",
]

_MAX_DATAGRAM = 65535
REFUSED = bytes.fromhex("D80101")
"""exception-response: service-not-allowed, operation-not-possible."""
NOT_SUPPORTED = bytes.fromhex("D80102")
"""exception-response: service-not-allowed, service-not-supported."""


def _check_address(_: object, attribute: attrs.Attribute[bytes], value: bytes) -> None:
    if not 1 <= len(value) <= MAX_PHYSICAL_ADDRESS_SIZE:
        raise LocalProtocolError(f"{attribute.name} of {len(value)} bytes")


@attrs.frozen(kw_only=True)
class MeshMeter:
    """A meter behind the DCU: its gateway address and where the DCU reaches it."""

    network_id: int = 0
    physical_device_address: bytes = attrs.field(converter=bytes, validator=_check_address)
    address: tuple[str, int] | None = None
    """The meter's UDP endpoint; ``None`` for a meter in the same process, reached through
    ``DataConcentrator.meter_link``."""

    @property
    def link(self) -> str:
        """The channel-model link key of this meter."""
        return f"{self.network_id}:{self.physical_device_address.hex()}"


@attrs.define
class DcuStats:
    """Counters of what the DCU did, for tests and KPIs."""

    requests: int = 0
    relayed: dict[Direction, int] = attrs.field(factory=lambda: dict.fromkeys(Direction, 0))
    delivered: dict[Direction, int] = attrs.field(factory=lambda: dict.fromkeys(Direction, 0))
    lost: dict[LossCause, int] = attrs.field(factory=lambda: dict.fromkeys(LossCause, 0))
    refused_queue_full: int = 0
    unknown_meter: int = 0
    not_gateway: int = 0
    timed_out: int = 0
    """Requests dropped after waiting ``request_timeout`` for a route."""
    no_head_end: int = 0
    """Meter APDUs dropped because no head-end connection was open."""
    uplink_overflow: int = 0
    """Meter datagrams dropped because ``uplink_limit`` were already waiting for the
    head-end (a head-end that stops reading must not make the DCU grow without bound)."""
    malformed: int = 0
    """Broken wrapper streams and undecodable meter datagrams."""
    send_errors: int = 0
    """Datagrams the operating system refused to send to a meter."""
    strangers: int = 0


_Timed = tuple[float, bytes]
"""(channel time, datagram): when a request reached the DCU, or when a datagram arrives."""
_Fifo = tuple[trio.MemorySendChannel[_Timed], trio.MemoryReceiveChannel[_Timed]]


@attrs.define(eq=False)
class _Connection:
    stream: trio.SocketStream
    lock: trio.Lock = attrs.field(factory=trio.Lock)
    open: bool = True

    async def send(self, data: bytes) -> bool:
        if not self.open:
            return False
        try:
            async with self.lock:
                await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.open = False
            return False
        return True


@attrs.define(eq=False)
class _Route:
    """One meter's relay state: a FIFO of requests waiting for the mesh and, per direction,
    a FIFO of datagrams on the mesh in arrival order."""

    meter: MeshMeter
    in_flight: int = 0
    uplink_pending: int = 0
    owner: _Connection | None = None
    seq: dict[Direction, int] = attrs.field(factory=lambda: dict.fromkeys(Direction, 0))
    last_arrival: dict[Direction, float] = attrs.field(
        factory=lambda: dict.fromkeys(Direction, 0.0)
    )
    link: MeshMeterLink | None = None
    waiting: _Fifo = attrs.field(factory=lambda: trio.open_memory_channel[_Timed](math.inf))
    on_mesh: dict[Direction, _Fifo] = attrs.field(
        factory=lambda: {d: trio.open_memory_channel[_Timed](math.inf) for d in Direction}
    )


class DataConcentrator:
    """The running DCU; create it with ``open_data_concentrator``."""

    def __init__(
        self,
        *,
        nursery: trio.Nursery,
        channel: ChannelModel,
        south: trio.socket.SocketType,
        listeners: list[trio.SocketListener],
        queue_limit: int,
        request_timeout: float,
        uplink_limit: int,
        max_apdu: int,
    ) -> None:
        self.channel = channel
        self.queue_limit = queue_limit
        self.request_timeout = request_timeout
        self.uplink_limit = uplink_limit
        self.max_apdu = max_apdu
        self.stats = DcuStats()
        self._nursery = nursery
        self._south = south
        self._listeners = listeners
        self._origin = trio.current_time()
        self._routes: dict[tuple[int, bytes], _Route] = {}
        self._by_address: dict[tuple[str, int], _Route] = {}
        self._connections: list[_Connection] = []

    def now(self) -> float:
        """Channel time: seconds since the DCU opened."""
        return trio.current_time() - self._origin

    @property
    def address(self) -> tuple[str, int]:
        """The TCP address the head-end connects to."""
        host, port = self._listeners[0].socket.getsockname()[:2]
        return (host, port)

    @property
    def meter_side_address(self) -> tuple[str, int]:
        """Where the DCU sends from and receives the meters' datagrams."""
        host, port = self._south.getsockname()[:2]
        return (host, port)

    def add_meter(self, meter: MeshMeter) -> None:
        key = (meter.network_id, meter.physical_device_address)
        if key in self._routes:
            raise LocalProtocolError(f"meter {meter.link} already known")
        route = _Route(meter=meter)
        self._routes[key] = route
        if meter.address is None:
            route.link = MeshMeterLink(
                functools.partial(self._from_meter, route), queue_size=self.uplink_limit
            )
        else:
            self._by_address[(meter.address[0], meter.address[1])] = route
        self._nursery.start_soon(self._downlink, route)
        for direction in Direction:
            self._nursery.start_soon(self._deliver, route, direction)

    def meter_link(self, meter: MeshMeter) -> MeshMeterLink:
        """The meter's end of the link to an in-process meter (added without an address)."""
        route = self._routes[(meter.network_id, meter.physical_device_address)]
        if route.link is None:
            raise LocalProtocolError(f"meter {meter.link} is reached over UDP, not in-process")
        return route.link

    def queue_depth(self, meter: MeshMeter) -> int:
        """Requests for ``meter`` queued or in flight on the mesh."""
        return self._routes[(meter.network_id, meter.physical_device_address)].in_flight

    async def handle_head_end(self, stream: trio.SocketStream) -> None:
        """Serve one head-end connection until it closes or breaks its framing."""
        conn = _Connection(stream=stream)
        self._connections.append(conn)
        framer = WrapperFramer(max_apdu=self.max_apdu)
        try:
            async with stream:
                while True:
                    try:
                        data = await stream.receive_some(65536)
                    except trio.BrokenResourceError:
                        return
                    if not data:
                        return
                    try:
                        framer.feed(data)
                        while (wpdu := framer.next_wpdu()) is not None:
                            await self._request(conn, wpdu)
                    except DecodeError:
                        self.stats.malformed += 1
                        return
        finally:
            conn.open = False
            self._connections.remove(conn)

    async def _reply(self, conn: _Connection, wpdu: Wpdu, apdu: bytes) -> None:
        # Sent by the connection's reader: a head-end that does not read stops being read.
        await conn.send(encode_wpdu(wpdu.destination, wpdu.source, apdu))

    async def _request(self, conn: _Connection, wpdu: Wpdu) -> None:
        self.stats.requests += 1
        try:
            request = decode_gateway_apdu(wpdu.apdu)
        except DecodeError:
            request = None
        if not isinstance(request, GatewayRequest):
            self.stats.not_gateway += 1
            await self._reply(conn, wpdu, NOT_SUPPORTED)
            return
        route = self._routes.get((request.network_id, request.physical_device_address))
        if route is None or route.in_flight >= self.queue_limit:
            if route is None:
                self.stats.unknown_meter += 1
            else:
                self.stats.refused_queue_full += 1
            refusal = GatewayResponse(
                network_id=request.network_id,
                physical_device_address=request.physical_device_address,
                apdu=REFUSED,
            )
            await self._reply(conn, wpdu, encode_gateway_apdu(refusal))
            return
        route.owner = conn
        route.in_flight += 1
        relayed = encode_wpdu(wpdu.source, wpdu.destination, request.apdu)
        route.waiting[0].send_nowait((self.now(), relayed))

    async def _downlink(self, route: _Route) -> None:
        """Put the meter's waiting requests on the mesh in order, holding them while its
        route is down and dropping those that wait longer than ``request_timeout``."""
        link = route.meter.link
        item: _Timed
        async for item in route.waiting[1]:
            received, datagram = item
            deadline = received + self.request_timeout
            now = self.now()
            route_up = self.channel.outage_end(link, now, limit=deadline)
            if route_up >= deadline:
                await trio.sleep_until(self._origin + deadline)
                self.stats.timed_out += 1
                route.in_flight -= 1
                continue
            if route_up > now:
                await trio.sleep_until(self._origin + route_up)
            arrival = self._transmit(route, Direction.DOWNLINK, datagram)
            if arrival is None:
                route.in_flight -= 1
                continue
            route.on_mesh[Direction.DOWNLINK][0].send_nowait((arrival, datagram))

    async def _deliver(self, route: _Route, direction: Direction) -> None:
        """Hand the datagrams on the mesh to the meter (downlink) or the head-end (uplink)
        at their arrival times, in order."""
        item: _Timed
        async for item in route.on_mesh[direction][1]:
            arrival, datagram = item
            await trio.sleep_until(self._origin + arrival)
            if direction is Direction.DOWNLINK:
                route.in_flight -= 1
                self.stats.delivered[Direction.DOWNLINK] += 1
                if route.link is not None:
                    route.link.deliver(datagram)
                    continue
                assert route.meter.address is not None
                try:
                    await self._south.sendto(datagram, route.meter.address)
                except OSError:
                    self.stats.delivered[Direction.DOWNLINK] -= 1
                    self.stats.send_errors += 1
            else:
                try:
                    await self._to_head_end(route, datagram)
                finally:
                    route.uplink_pending -= 1

    def _transmit(self, route: _Route, direction: Direction, datagram: bytes) -> float | None:
        seq = route.seq[direction]
        route.seq[direction] = seq + 1
        self.stats.relayed[direction] += 1
        tx = self.channel.transmit(
            link=route.meter.link, seq=seq, at=self.now(), size=len(datagram), direction=direction
        )
        if tx.arrival is None:
            self.stats.lost[tx.cause] += 1
            return None
        arrival = max(tx.arrival, route.last_arrival[direction])
        route.last_arrival[direction] = arrival
        return arrival

    async def uplink_loop(self) -> None:
        while True:
            data, sender = await self._south.recvfrom(_MAX_DATAGRAM)
            route = self._by_address.get((sender[0], sender[1]))
            if route is None:
                self.stats.strangers += 1
                continue
            try:
                decode_wpdu(data, max_apdu=self.max_apdu)
            except DecodeError:
                self.stats.malformed += 1
                continue
            self._from_meter(route, data)

    def _from_meter(self, route: _Route, data: bytes) -> None:
        """Put a meter's datagram (one WPDU) on the mesh towards the head-end."""
        if route.uplink_pending >= self.uplink_limit:
            self.stats.uplink_overflow += 1
            return
        arrival = self._transmit(route, Direction.UPLINK, data)
        if arrival is not None:
            route.uplink_pending += 1
            route.on_mesh[Direction.UPLINK][0].send_nowait((arrival, data))

    async def _to_head_end(self, route: _Route, datagram: bytes) -> None:
        wpdu = decode_wpdu(datagram, max_apdu=self.max_apdu)
        response = GatewayResponse(
            network_id=route.meter.network_id,
            physical_device_address=route.meter.physical_device_address,
            apdu=wpdu.apdu,
        )
        data = encode_wpdu(wpdu.source, wpdu.destination, encode_gateway_apdu(response))
        targets = [route.owner] if route.owner is not None and route.owner.open else []
        targets += reversed(self._connections)
        for conn in targets:
            if await conn.send(data):
                self.stats.delivered[Direction.UPLINK] += 1
                return
        self.stats.no_head_end += 1


@asynccontextmanager
async def open_data_concentrator(
    *,
    channel: ChannelModel = RF_MESH_DEFAULT,
    meters: Iterable[MeshMeter] = (),
    host: str | None = None,
    port: int = 0,
    queue_limit: int = 4,
    request_timeout: float = 60.0,
    uplink_limit: int = 64,
    max_apdu: int = 0xFFFF,
) -> AsyncIterator[DataConcentrator]:
    """Run a DCU for the duration of the ``async with`` block.

    The head-end side listens on TCP ``(host, port)`` (port 0: any free port, see
    ``DataConcentrator.address``); the meter side is one UDP socket on the same host.
    ``host`` defaults to ``loopback_host()``; the meters must use the same address family.
    """
    if queue_limit < 1:
        raise LocalProtocolError("queue_limit must be at least 1")
    if request_timeout <= 0:
        raise LocalProtocolError("request_timeout must be positive")
    if uplink_limit < 1:
        raise LocalProtocolError("uplink_limit must be at least 1")
    bind_host = loopback_host() if host is None else host
    family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
    south = trio.socket.socket(family, socket.SOCK_DGRAM)
    with south:
        await south.bind((bind_host, 0))
        listeners = await trio.open_tcp_listeners(port, host=bind_host)
        try:
            async with trio.open_nursery() as nursery:
                dcu = DataConcentrator(
                    nursery=nursery,
                    channel=channel,
                    south=south,
                    listeners=listeners,
                    queue_limit=queue_limit,
                    request_timeout=request_timeout,
                    uplink_limit=uplink_limit,
                    max_apdu=max_apdu,
                )
                for meter in meters:
                    dcu.add_meter(meter)
                nursery.start_soon(dcu.uplink_loop)
                nursery.start_soon(trio.serve_listeners, dcu.handle_head_end, listeners)
                try:
                    yield dcu
                finally:
                    nursery.cancel_scope.cancel()
        finally:
            for listener in listeners:
                listener.socket.close()
