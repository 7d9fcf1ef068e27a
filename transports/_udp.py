"""The wrapper over UDP with trio: one socket, many peers (IEC 62056-4-7 UDP profile).

One datagram carries exactly one WPDU. A :class:`UdpEndpoint` owns one bound socket and
a receive task that hands each valid datagram to the :class:`UdpPeerTransport` registered
for (peer address, our wPort, its wPort); datagrams from peers nobody registered come out
of :meth:`UdpEndpoint.accept` as new transports (pushes from meters). Invalid datagrams
are dropped and counted: UDP has no stream to break.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from dlmskit.errors import DecodeError, LocalProtocolError, TransportError
from transports._interface import LinkAddress
from transports._wrapper import Wpdu, decode_wpdu, encode_wpdu

__all__ = ["UdpEndpoint", "UdpPeerTransport", "open_udp_endpoint"]

_MAX_DATAGRAM = 65535
_Key = tuple[str, int, int, int]  # peer host, peer port, local wPort, remote wPort


class UdpPeerTransport:
    """An :class:`~transports.ApduTransport` to one peer through a shared :class:`UdpEndpoint`.

    There is no connection: the peer closing cannot be seen, so only a local ``aclose``
    (or closing the endpoint) makes ``receive_apdu`` raise ``TransportError``.
    """

    def __init__(
        self,
        endpoint: UdpEndpoint,
        peer: tuple[str, int],
        *,
        local_wport: int,
        remote_wport: int,
        queue_size: int,
    ) -> None:
        self.endpoint = endpoint
        self.peer = peer
        self.local_wport = local_wport
        self.remote_wport = remote_wport
        self.dropped = 0  # datagrams lost because nobody was reading
        self._send, self._receive = trio.open_memory_channel[bytes](queue_size)
        self._closed = False

    @property
    def _key(self) -> _Key:
        return (self.peer[0], self.peer[1], self.local_wport, self.remote_wport)

    @property
    def local_address(self) -> LinkAddress:
        host, port = self.endpoint.sockname
        return LinkAddress(host=host, port=port, sap=self.local_wport)

    @property
    def peer_address(self) -> LinkAddress:
        return LinkAddress(host=self.peer[0], port=self.peer[1], sap=self.remote_wport)

    def _deliver(self, apdu: bytes) -> None:
        try:
            self._send.send_nowait(apdu)
        except trio.WouldBlock:
            self.dropped += 1
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    async def send_apdu(self, apdu: bytes) -> None:
        if self._closed:
            raise TransportError("transport is closed")
        try:
            data = encode_wpdu(self.local_wport, self.remote_wport, apdu)
        except ValueError as exc:
            raise LocalProtocolError(str(exc)) from None
        await self.endpoint.send_to(data, self.peer)

    async def receive_apdu(self) -> bytes:
        if self._closed:
            raise TransportError("transport is closed")
        try:
            return await self._receive.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise TransportError("transport is closed") from None

    def close(self) -> None:
        """Close at once (synchronous, safe in ``finally`` blocks)."""
        if not self._closed:
            self._closed = True
            self.endpoint._forget(self)
            self._send.close()
            self._receive.close()

    async def aclose(self) -> None:
        self.close()
        await trio.lowlevel.checkpoint()


class UdpEndpoint:
    """One bound UDP socket serving many peers; create it with :func:`open_udp_endpoint`."""

    def __init__(
        self, sock: trio.socket.SocketType, *, max_apdu: int = 0xFFFF, queue_size: int = 64
    ) -> None:
        self.socket = sock
        self.max_apdu = max_apdu
        self.queue_size = queue_size
        self.bad_datagrams = 0
        self.refused = 0  # datagrams from new peers while nobody accepts
        self._peers: dict[_Key, UdpPeerTransport] = {}
        self._new_send, self._new_receive = trio.open_memory_channel[UdpPeerTransport](queue_size)
        self._closed = False

    @property
    def sockname(self) -> tuple[str, int]:
        name = self.socket.getsockname()
        return str(name[0]), int(name[1])

    def peer(
        self, host: str, port: int = 4059, *, local_wport: int = 0x10, remote_wport: int = 0x01
    ) -> UdpPeerTransport:
        """A transport to ``host:port`` between our ``local_wport`` and its ``remote_wport``."""
        if self._closed:
            raise TransportError("endpoint is closed")
        transport = UdpPeerTransport(
            self,
            (host, port),
            local_wport=local_wport,
            remote_wport=remote_wport,
            queue_size=self.queue_size,
        )
        if transport._key in self._peers:
            raise LocalProtocolError(f"a transport for {transport._key} is already open")
        self._peers[transport._key] = transport
        return transport

    async def accept(self) -> UdpPeerTransport:
        """The transport for the next datagram from a peer nobody registered."""
        try:
            return await self._new_receive.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise TransportError("endpoint is closed") from None

    def _forget(self, transport: UdpPeerTransport) -> None:
        if self._peers.get(transport._key) is transport:
            del self._peers[transport._key]

    async def send_to(self, data: bytes, peer: tuple[str, int]) -> None:
        if self._closed:
            raise TransportError("endpoint is closed")
        try:
            await self.socket.sendto(data, peer)
        except OSError as exc:
            raise TransportError(f"sendto {peer} failed: {exc}") from exc

    def _dispatch(self, data: bytes, address: tuple[str, int]) -> None:
        try:
            wpdu: Wpdu = decode_wpdu(data, max_apdu=self.max_apdu)
        except DecodeError:
            self.bad_datagrams += 1
            return
        key = (address[0], address[1], wpdu.destination, wpdu.source)
        transport = self._peers.get(key)
        if transport is None:
            transport = UdpPeerTransport(
                self,
                address,
                local_wport=wpdu.destination,
                remote_wport=wpdu.source,
                queue_size=self.queue_size,
            )
            try:
                self._new_send.send_nowait(transport)
            except trio.WouldBlock:
                self.refused += 1
                return
            self._peers[key] = transport
        transport._deliver(wpdu.apdu)

    async def run(self) -> None:
        """Receive and dispatch datagrams until the endpoint is closed."""
        while True:
            try:
                data, address = await self.socket.recvfrom(_MAX_DATAGRAM)
            except trio.ClosedResourceError:
                return
            except OSError as exc:
                if self._closed:
                    return
                if isinstance(exc, ConnectionRefusedError):
                    continue  # ICMP port unreachable for an earlier datagram
                raise TransportError(f"UDP receive failed: {exc}") from exc
            self._dispatch(data, (str(address[0]), int(address[1])))

    def close(self) -> None:
        """Close the socket and every peer transport (synchronous)."""
        if self._closed:
            return
        self._closed = True
        for transport in list(self._peers.values()):
            transport.close()
        self._new_send.close()
        self.socket.close()

    async def aclose(self) -> None:
        self.close()
        await trio.lowlevel.checkpoint()


@asynccontextmanager
async def open_udp_endpoint(
    host: str = "0.0.0.0", port: int = 4059, *, max_apdu: int = 0xFFFF, queue_size: int = 64
) -> AsyncIterator[UdpEndpoint]:
    """Bind a UDP socket (``port=0`` for any) and run its receive task while in the block."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = trio.socket.socket(family, socket.SOCK_DGRAM)
    try:
        await sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise TransportError(f"cannot bind UDP {host}:{port}: {exc}") from exc
    endpoint = UdpEndpoint(sock, max_apdu=max_apdu, queue_size=queue_size)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(endpoint.run)
        try:
            yield endpoint
        finally:
            endpoint.close()
            nursery.cancel_scope.cancel()
