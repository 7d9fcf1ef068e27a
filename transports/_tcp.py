"""The wrapper over TCP with trio: dial a meter, or accept connections meters open.

:class:`WrapperStreamTransport` runs the sans-IO :class:`~transports.WrapperFramer` over
any ``trio.abc.Stream``. :func:`open_tcp_wrapper` dials; :func:`serve_tcp_wrapper` accepts
meter-initiated connections (pushes, wake-up, meters behind carrier-grade NAT) and hands
each to a handler that can run requests over it.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio

from dlmskit.errors import DecodeError, LocalProtocolError, TransportError
from transports._interface import LinkAddress
from transports._wrapper import DEFAULT_MAX_APDU, Wpdu, WrapperFramer, encode_wpdu

__all__ = ["WrapperStreamTransport", "open_tcp_wrapper", "serve_tcp_wrapper"]

_RECEIVE_SIZE = 65536


async def _hold(lock: trio.Lock) -> None:
    """Take ``lock``: at once when it is free (no scheduling round trip: the socket call
    that follows is the checkpoint), else wait in line for it."""
    try:
        lock.acquire_nowait()
    except trio.WouldBlock:
        await lock.acquire()


def _socket_addresses(stream: trio.abc.Stream) -> tuple[tuple[str, int] | None, ...]:
    if isinstance(stream, trio.SocketStream):
        try:
            local = stream.socket.getsockname()
            peer = stream.socket.getpeername()
        except OSError:
            return None, None
        return (local[0], local[1]), (peer[0], peer[1])
    return None, None


class WrapperStreamTransport:
    """An :class:`~transports.ApduTransport` speaking the wrapper over a byte stream.

    ``local_wport``/``remote_wport`` may be ``None`` on an accepted connection: they are
    then learnt from the first WPDU received (its destination and source). A WPDU for
    another pair of wPorts is dropped and counted in ``wrong_wport``.
    """

    def __init__(
        self,
        stream: trio.abc.Stream,
        *,
        local_wport: int | None,
        remote_wport: int | None,
        max_apdu: int = DEFAULT_MAX_APDU,
    ) -> None:
        self.stream = stream
        self.local_wport = local_wport
        self.remote_wport = remote_wport
        self.wrong_wport = 0
        self._framer = WrapperFramer(max_apdu=max_apdu)
        self._send_lock = trio.Lock()
        self._receive_lock = trio.Lock()
        self._closed = False
        self._eof = False
        self._local, self._peer = _socket_addresses(stream)

    @property
    def local_address(self) -> LinkAddress:
        host, port = self._local if self._local else (None, None)
        return LinkAddress(host=host, port=port, sap=self.local_wport)

    @property
    def peer_address(self) -> LinkAddress:
        host, port = self._peer if self._peer else (None, None)
        return LinkAddress(host=host, port=port, sap=self.remote_wport)

    async def send_apdu(self, apdu: bytes) -> None:
        if self._closed:
            raise TransportError("transport is closed")
        if self.local_wport is None or self.remote_wport is None:
            raise LocalProtocolError("wPorts unknown until the peer has sent a WPDU")
        try:
            data = encode_wpdu(self.local_wport, self.remote_wport, apdu)
        except ValueError as exc:
            raise LocalProtocolError(str(exc)) from None
        await _hold(self._send_lock)
        try:
            await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise TransportError(f"send failed: {exc!r}") from exc
        finally:
            self._send_lock.release()

    async def receive_wpdu(self) -> Wpdu:
        """The next WPDU for our wPorts, header included (push listeners want the wPorts)."""
        await _hold(self._receive_lock)
        try:
            if self._framer.buffered:
                # bytes held from an earlier read may make a whole WPDU: checkpoint before
                # taking it (a cancellation here loses nothing), so a peer flooding WPDUs
                # cannot starve the other tasks
                await trio.lowlevel.checkpoint()
            while True:
                if self._closed:
                    raise TransportError("transport is closed")
                try:
                    wpdu = self._framer.next_wpdu()
                except DecodeError as exc:
                    raise TransportError(f"wrapper stream broken: {exc}") from exc
                if wpdu is not None:
                    if self._accept(wpdu):
                        return wpdu
                    continue
                if self._eof:
                    raise TransportError(self._eof_message())
                try:
                    data = await self.stream.receive_some(_RECEIVE_SIZE)
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                    raise TransportError(f"receive failed: {exc!r}") from exc
                if not data:
                    self._eof = True
                    raise TransportError(self._eof_message())
                self._framer.feed(data)
        finally:
            self._receive_lock.release()

    def _eof_message(self) -> str:
        if self._framer.buffered:
            return f"peer closed the connection mid-WPDU ({self._framer.buffered} bytes held)"
        return "peer closed the connection"

    def _accept(self, wpdu: Wpdu) -> bool:
        if self.local_wport is None:
            self.local_wport = wpdu.destination
        if self.remote_wport is None:
            self.remote_wport = wpdu.source
        if wpdu.destination != self.local_wport or wpdu.source != self.remote_wport:
            self.wrong_wport += 1
            return False
        return True

    async def receive_apdu(self) -> bytes:
        return (await self.receive_wpdu()).apdu

    async def aclose(self) -> None:
        self._closed = True
        await self.stream.aclose()


def _literal_family(host: str) -> socket.AddressFamily | None:
    """The address family of a numeric IP address (no zone index), else ``None``."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if address.version == 4:
        return socket.AF_INET
    return None if "%" in host else socket.AF_INET6


async def _connect_literal(family: socket.AddressFamily, host: str, port: int) -> trio.SocketStream:
    """Connect to a numeric address: one address, so no name lookup and no happy eyeballs
    (what ``trio.open_tcp_stream`` comes down to for it, without its tasks)."""
    sock = trio.socket.socket(family, socket.SOCK_STREAM)
    try:
        await sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return trio.SocketStream(sock)


async def open_tcp_wrapper(
    host: str,
    port: int = 4059,
    *,
    client_wport: int = 0x10,
    server_wport: int = 0x01,
    max_apdu: int = DEFAULT_MAX_APDU,
) -> WrapperStreamTransport:
    """Dial a meter (or any wrapper server). Bound the connect with a cancel scope."""
    try:
        family = _literal_family(host)
        if family is None:
            stream = await trio.open_tcp_stream(host, port)
        else:
            stream = await _connect_literal(family, host, port)
    except OSError as exc:
        raise TransportError(f"cannot connect to {host}:{port}: {exc}") from exc
    stream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return WrapperStreamTransport(
        stream, local_wport=client_wport, remote_wport=server_wport, max_apdu=max_apdu
    )


async def serve_tcp_wrapper(
    handler: Callable[[WrapperStreamTransport], Awaitable[object]],
    host: str | None = None,
    port: int = 4059,
    *,
    local_wport: int | None = None,
    remote_wport: int | None = None,
    max_apdu: int = DEFAULT_MAX_APDU,
    handler_nursery: trio.Nursery | None = None,
    task_status: trio.TaskStatus[Sequence[trio.SocketListener]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Accept wrapper connections forever; run ``handler(transport)`` for each.

    ``host=None`` listens on every local address; ``handler`` can tell meters apart by
    ``transport.local_address`` (the address each connection was made to). Use with
    ``nursery.start`` to get the listeners (and the bound port when ``port=0``).
    ``local_wport``/``remote_wport`` ``None`` learns them from the first WPDU. The
    transport is closed when the handler returns; a ``TransportError`` out of the handler
    ends only that connection.
    """
    listeners = await trio.open_tcp_listeners(port, host=host)

    async def run(stream: trio.SocketStream) -> None:
        try:
            stream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:  # the peer may already be gone
            if exc.errno not in (errno.EINVAL, errno.ECONNRESET):
                raise
        transport = WrapperStreamTransport(
            stream, local_wport=local_wport, remote_wport=remote_wport, max_apdu=max_apdu
        )
        try:
            await handler(transport)
        except TransportError:
            pass
        finally:
            await transport.aclose()

    serve: Any = trio.serve_listeners
    await serve(run, listeners, handler_nursery=handler_nursery, task_status=task_status)
