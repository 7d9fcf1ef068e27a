"""The wrapper over TCP for servers: each accepted connection served on its socket.

:func:`~transports.serve_tcp_wrapper` gives each connection a trio stream. A server that
answers requests (a meter, a fleet of simulated meters) does one read and one write a
request, and through a stream each costs locks, a conflict check, an error-translating
context and a scheduler round trip after every completed socket call. Here a connection
is a non-blocking socket driven with trio's low-level waits: a request is awaited with
``wait_readable`` (the one checkpoint of a request; a WPDU already buffered takes a plain
checkpoint instead), an answer is written at once and waits on ``wait_writable`` only
while the socket buffer is full, and connections are accepted in batches whenever the
listening socket is readable. The wrapper framing is :class:`~transports.WrapperFramer`'s.
"""

from __future__ import annotations

import errno
import socket
import struct
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

import trio

from dlmskit.errors import LocalProtocolError, TransportError
from transports._interface import LinkAddress
from transports._wrapper import DEFAULT_MAX_APDU, WRAPPER_VERSION, Wpdu
from transports._wrapper_ends import WrapperEnds

__all__ = ["WrapperSocketTransport", "serve_tcp_wrapper_sockets"]

_RECEIVE_SIZE: Final = 65536
_HEADER: Final = struct.Struct(">HHHH")
#: Connections accepted per wake-up of a listener before it yields to the others.
_ACCEPT_BATCH: Final = 64
#: accept() errors that concern one half-open connection only: try the next.
_TRANSIENT: Final = frozenset({errno.ECONNABORTED, errno.EPERM, errno.EPROTO})
#: accept() errors from exhausted resources: wait a little, then accept again.
_EXHAUSTED: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})
_EXHAUSTED_PAUSE: Final = 0.1


def _address(value: object) -> tuple[str, int] | None:
    if isinstance(value, tuple) and len(value) >= 2:
        return str(value[0]), int(value[1])
    return None


class WrapperSocketTransport(WrapperEnds):
    """An :class:`~transports.ApduTransport` speaking the wrapper on a connected
    non-blocking TCP socket (as accepted by :func:`serve_tcp_wrapper_sockets`).

    ``local_wport``/``remote_wport`` ``None`` are learnt from the first WPDU received (its
    destination and source); a WPDU for another pair of wPorts is dropped and counted in
    ``wrong_wport``. One task receives and one sends at a time (a server's session).
    """

    def __init__(
        self,
        sock: socket.socket,
        *,
        local_wport: int | None = None,
        remote_wport: int | None = None,
        max_apdu: int = DEFAULT_MAX_APDU,
    ) -> None:
        self.socket = sock
        self._ends(local_wport, remote_wport, max_apdu)

    @property
    def local_address(self) -> LinkAddress:
        """The address the peer connected to (a fleet tells its meters apart by it)."""
        host, port = self._name(self.socket.getsockname)
        return LinkAddress(host=host, port=port, sap=self.local_wport)

    @property
    def peer_address(self) -> LinkAddress:
        host, port = self._name(self.socket.getpeername)
        return LinkAddress(host=host, port=port, sap=self.remote_wport)

    def _name(self, query: Callable[[], object]) -> tuple[str | None, int | None]:
        try:
            found = _address(query())
        except OSError:
            found = None
        return found if found is not None else (None, None)

    async def send_apdu(self, apdu: bytes) -> None:
        """Write one WPDU; waits only while the socket's send buffer is full."""
        if self._closed:
            raise TransportError("transport is closed")
        local, remote = self.local_wport, self.remote_wport
        if local is None or remote is None:
            raise LocalProtocolError("wPorts unknown until the peer has sent a WPDU")
        if len(apdu) > 0xFFFF:
            raise LocalProtocolError(f"APDU of {len(apdu)} bytes exceeds the wrapper length")
        data = _HEADER.pack(WRAPPER_VERSION, local, remote, len(apdu)) + apdu
        sock = self.socket
        try:
            sent = sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            raise TransportError(f"send failed: {exc!r}") from exc
        if sent == len(data):
            return
        view = memoryview(data)
        while sent < len(data):
            try:
                await trio.lowlevel.wait_writable(sock)
                sent += sock.send(view[sent:])
            except BlockingIOError:
                continue
            except (OSError, trio.ClosedResourceError) as exc:
                raise TransportError(f"send failed: {exc!r}") from exc

    async def receive_wpdu(self) -> Wpdu:
        """The next WPDU for our wPorts, header included."""
        source, destination, apdu = await self._receive_frame()
        return Wpdu(source=source, destination=destination, apdu=apdu)

    async def receive_apdu(self) -> bytes:
        return (await self._receive_frame())[2]

    async def _receive_frame(self) -> tuple[int, int, bytes]:
        """(source, destination, APDU) of the next WPDU for our wPorts."""
        return await self._next_frame(self._read)

    async def _read(self) -> bytes | None:
        sock = self.socket
        try:
            await trio.lowlevel.wait_readable(sock)
            return sock.recv(_RECEIVE_SIZE)
        except BlockingIOError:
            return None
        except (OSError, trio.ClosedResourceError) as exc:
            raise TransportError(f"receive failed: {exc!r}") from exc

    def close(self) -> None:
        """Close the socket (waking any task waiting on it with ``ClosedResourceError``)."""
        if self._closed:
            return
        self._closed = True
        trio.lowlevel.notify_closing(self.socket)
        self.socket.close()

    async def aclose(self) -> None:
        self.close()
        await trio.lowlevel.checkpoint()


async def _accept_loop(
    listener: trio.SocketListener,
    nursery: trio.Nursery,
    run: Callable[[socket.socket], Awaitable[None]],
) -> None:
    """Accept the connections of one listener, a batch per wake-up; each runs in its task."""
    trio_socket = listener.socket
    # our own descriptor of the listening socket (the listener keeps its own): plain
    # accept() calls on it, and trio's wait on it
    sock = socket.fromfd(trio_socket.fileno(), trio_socket.family, trio_socket.type)
    sock.setblocking(False)
    try:
        while True:
            await trio.lowlevel.wait_readable(sock)
            for _ in range(_ACCEPT_BATCH):
                try:
                    conn, _peer = sock.accept()
                except BlockingIOError:
                    break
                except OSError as exc:
                    if exc.errno in _TRANSIENT:
                        continue
                    if exc.errno in _EXHAUSTED:
                        await trio.sleep(_EXHAUSTED_PAUSE)
                        break
                    raise
                nursery.start_soon(run, conn)
    finally:
        trio.lowlevel.notify_closing(sock)
        sock.close()


async def serve_tcp_wrapper_sockets(
    handler: Callable[[WrapperSocketTransport], Awaitable[object]],
    host: str | None = None,
    port: int = 4059,
    *,
    local_wport: int | None = None,
    remote_wport: int | None = None,
    max_apdu: int = DEFAULT_MAX_APDU,
    task_status: trio.TaskStatus[Sequence[trio.SocketListener]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Accept wrapper connections forever; run ``handler(transport)`` for each, on its
    socket (:class:`WrapperSocketTransport`).

    As :func:`~transports.serve_tcp_wrapper`: ``host=None`` listens on every local
    address, ``nursery.start`` returns the listeners, the transport is closed when the
    handler returns and a ``TransportError`` out of the handler ends only its connection.
    """
    listeners = await trio.open_tcp_listeners(port, host=host)

    async def run(conn: socket.socket) -> None:
        transport = WrapperSocketTransport(
            conn, local_wport=local_wport, remote_wport=remote_wport, max_apdu=max_apdu
        )
        try:
            conn.setblocking(False)
            try:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError as exc:  # the peer may already be gone
                if exc.errno not in (errno.EINVAL, errno.ECONNRESET):
                    raise
            await handler(transport)
        except TransportError:
            pass
        finally:
            transport.close()

    try:
        async with trio.open_nursery() as nursery:
            for listener in listeners:
                nursery.start_soon(_accept_loop, listener, nursery, run)
            task_status.started(listeners)
    finally:
        for listener in listeners:
            await trio.aclose_forcefully(listener)
