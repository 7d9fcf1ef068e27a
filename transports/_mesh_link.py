"""The meter's end of an in-process link through a simulated network (DCU or border
router): a fleet of simulated meters behind one network model needs no sockets."""

from __future__ import annotations

from collections.abc import Callable

import trio

from dlmskit.errors import DecodeError, LocalProtocolError, TransportError
from transports._interface import LinkAddress
from transports._wrapper import Wpdu, decode_wpdu

__all__ = ["MeshMeterLink"]


class MeshMeterLink:
    """An ``ApduTransport`` for a meter simulator living in the same process as the
    network model.

    The model calls ``deliver`` with each datagram (one WPDU) the network brings to the
    meter; what the meter sends is handed to the model's ``send`` callback as a datagram
    and travels the network like any other. Answers sent with ``send_apdu`` carry the
    wPorts of the last WPDU received (the client SAP of the association);
    ``receive_wpdu``/``send_wpdu`` expose the wPorts.
    """

    def __init__(self, send: Callable[[bytes], object], *, queue_size: int) -> None:
        self._to_network = send
        self._send, self._receive = trio.open_memory_channel[Wpdu](queue_size)
        self._wports = (0x01, 0x10)
        self._closed = False
        self.dropped = 0
        """Datagrams the network delivered while ``queue_size`` were already unread."""
        self.malformed = 0
        """Datagrams delivered that were not one WPDU."""

    @property
    def local_address(self) -> LinkAddress:
        return LinkAddress(host="mesh", sap=self._wports[0])

    @property
    def peer_address(self) -> LinkAddress:
        return LinkAddress(host="network", sap=self._wports[1])

    def deliver(self, datagram: bytes) -> None:
        """Called by the network model when a datagram reaches the meter."""
        try:
            wpdu = decode_wpdu(datagram)
        except DecodeError:
            self.malformed += 1
            return
        try:
            self._send.send_nowait(wpdu)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            self.dropped += 1

    async def receive_wpdu(self) -> Wpdu:
        if self._closed:
            raise TransportError("mesh link is closed")
        try:
            wpdu = await self._receive.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise TransportError("mesh link is closed") from None
        self._wports = (wpdu.destination, wpdu.source)
        return wpdu

    async def receive_apdu(self) -> bytes:
        return (await self.receive_wpdu()).apdu

    async def send_wpdu(self, wpdu: Wpdu) -> None:
        if self._closed:
            raise TransportError("mesh link is closed")
        self._to_network(wpdu.encode())
        await trio.lowlevel.checkpoint()

    async def send_apdu(self, apdu: bytes) -> None:
        try:
            wpdu = Wpdu(source=self._wports[0], destination=self._wports[1], apdu=bytes(apdu))
        except ValueError as exc:
            raise LocalProtocolError(str(exc)) from None
        await self.send_wpdu(wpdu)

    async def aclose(self) -> None:
        self._closed = True
        self._send.close()
        self._receive.close()
        await trio.lowlevel.checkpoint()
