"""Head-end side of the gateway protocol: many meters behind one DCU over one transport.

``open_gateway_multiplexer(transport)`` takes the head-end's transport to a DCU (for
example ``open_tcp_wrapper(dcu_host, dcu_port)``) and hands out one ``ApduTransport`` per
meter, ``mux.meter(network_id, physical_device_address)``. What a client sends on a meter
transport goes to the DCU inside a gateway request (0xE6) for that meter; the reader task
routes each gateway response (0xE7) to the transport of the meter it names. A client
association, a GBT exchange or a push listener runs on a meter transport exactly as on a
direct link. Responses for meters nobody opened (pushes) come out of ``accept``; APDUs
that are not gateway responses are counted in ``unmatched`` and dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from dlmskit.errors import DecodeError, LocalProtocolError, TransportError
from transports._gateway import (
    GatewayRequest,
    GatewayResponse,
    decode_gateway_apdu,
    encode_gateway_apdu,
)
from transports._interface import ApduTransport, LinkAddress

__all__ = ["GatewayMeterTransport", "GatewayMultiplexer", "open_gateway_multiplexer"]

_Key = tuple[int, bytes]


class GatewayMeterTransport:
    """An ``ApduTransport`` to one meter behind a DCU, through a ``GatewayMultiplexer``."""

    def __init__(
        self, mux: GatewayMultiplexer, network_id: int, physical_device_address: bytes
    ) -> None:
        self.mux = mux
        self.network_id = network_id
        self.physical_device_address = physical_device_address
        self.dropped = 0
        """APDUs lost because nobody was reading and the queue was full."""
        self._send, self._receive = trio.open_memory_channel[bytes](mux.queue_size)
        self._closed = False

    @property
    def local_address(self) -> LinkAddress:
        return self.mux.transport.local_address

    @property
    def peer_address(self) -> LinkAddress:
        return self.mux.transport.peer_address

    def _deliver(self, apdu: bytes) -> None:
        try:
            self._send.send_nowait(apdu)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            self.dropped += 1

    async def send_apdu(self, apdu: bytes) -> None:
        if self._closed or self.mux.closed:
            raise TransportError("transport is closed")
        request = GatewayRequest(
            network_id=self.network_id,
            physical_device_address=self.physical_device_address,
            apdu=apdu,
        )
        await self.mux.transport.send_apdu(encode_gateway_apdu(request))

    async def receive_apdu(self) -> bytes:
        if self._closed:
            raise TransportError("transport is closed")
        try:
            return await self._receive.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise TransportError("gateway link closed") from None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._send.close()
        self._receive.close()
        self.mux._forget(self)

    async def aclose(self) -> None:
        self.close()
        await trio.lowlevel.checkpoint()


class GatewayMultiplexer:
    """Routes gateway responses to per-meter transports; see ``open_gateway_multiplexer``."""

    def __init__(self, transport: ApduTransport, *, queue_size: int = 16) -> None:
        self.transport = transport
        self.queue_size = queue_size
        self.unmatched = 0
        self.refused = 0
        """Pushes from unopened meters dropped because nobody called ``accept``."""
        self._meters: dict[_Key, GatewayMeterTransport] = {}
        self._new_send, self._new_receive = trio.open_memory_channel[GatewayMeterTransport](
            queue_size
        )
        self.closed = False

    def meter(self, network_id: int, physical_device_address: bytes) -> GatewayMeterTransport:
        """The transport to the meter at ``physical_device_address`` on ``network_id``."""
        if self.closed:
            raise TransportError("gateway multiplexer is closed")
        key = (network_id, bytes(physical_device_address))
        if key in self._meters:
            raise LocalProtocolError(f"a transport to meter {key[1].hex()} is already open")
        transport = GatewayMeterTransport(self, network_id, key[1])
        self._meters[key] = transport
        return transport

    async def accept(self) -> GatewayMeterTransport:
        """The transport of the next meter that sent something nobody asked for."""
        try:
            return await self._new_receive.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise TransportError("gateway multiplexer is closed") from None

    def _forget(self, transport: GatewayMeterTransport) -> None:
        key = (transport.network_id, transport.physical_device_address)
        if self._meters.get(key) is transport:
            del self._meters[key]

    def _dispatch(self, apdu: bytes) -> None:
        try:
            response = decode_gateway_apdu(apdu)
        except DecodeError:
            self.unmatched += 1
            return
        if not isinstance(response, GatewayResponse):
            self.unmatched += 1
            return
        key = (response.network_id, response.physical_device_address)
        transport = self._meters.get(key)
        if transport is None:
            transport = GatewayMeterTransport(self, *key)
            try:
                self._new_send.send_nowait(transport)
            except trio.WouldBlock:
                self.refused += 1
                return
            self._meters[key] = transport
        transport._deliver(response.apdu)

    async def run(self) -> None:
        """Read the DCU transport until it closes, routing each response."""
        try:
            while True:
                self._dispatch(await self.transport.receive_apdu())
        except TransportError:
            return
        finally:
            self.close()

    def close(self) -> None:
        """Close every meter transport (synchronous; the DCU transport stays open)."""
        if self.closed:
            return
        self.closed = True
        for transport in list(self._meters.values()):
            transport.close()
        self._new_send.close()


@asynccontextmanager
async def open_gateway_multiplexer(
    transport: ApduTransport, *, queue_size: int = 16
) -> AsyncIterator[GatewayMultiplexer]:
    """Run a multiplexer over ``transport`` (to a DCU) while in the block.

    ``transport`` is closed on exit; the meter transports then raise ``TransportError``.
    """
    mux = GatewayMultiplexer(transport, queue_size=queue_size)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(mux.run)
            try:
                yield mux
            finally:
                mux.close()
                nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            await transport.aclose()
