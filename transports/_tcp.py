"""The wrapper over TCP with trio: dial a meter, or accept connections meters open.

:class:`WrapperStreamTransport` runs the sans-IO :class:`~transports.WrapperFramer` over
any ``trio.abc.Stream``. :func:`open_tcp_wrapper` dials; :func:`serve_tcp_wrapper` accepts
meter-initiated connections (pushes, wake-up, meters behind carrier-grade NAT) and hands
each to a handler that can run requests over it.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio

from dlmskit.errors import LocalProtocolError, TransportError
from transports._interface import LinkAddress
from transports._wrapper import DEFAULT_MAX_APDU, Wpdu, encode_wpdu
from transports._wrapper_ends import WrapperEnds

__all__ = ["WrapperStreamTransport", "open_tcp_wrapper", "serve_tcp_wrapper"]

_RECEIVE_SIZE = 65536


class _Turn:
    """One task at a time on one direction of the link: taken at once when free (no
    scheduling round trip: the socket call that follows is the checkpoint), else waited
    for in line; ``release`` hands it straight to the longest waiter. A flag and a
    parking lot: cheaper than ``trio.Lock`` on a path taken for every APDU."""

    __slots__ = ("_busy", "_waiting")

    def __init__(self) -> None:
        self._busy = False
        self._waiting = trio.lowlevel.ParkingLot()

    async def acquire(self) -> None:
        if self._busy:
            # release() hands the turn over: when park() returns, it is ours
            await self._waiting.park()
        else:
            self._busy = True

    def release(self) -> None:
        if self._waiting:
            self._waiting.unpark()
        else:
            self._busy = False


def _socket_addresses(stream: trio.abc.Stream) -> tuple[tuple[str, int] | None, ...]:
    if isinstance(stream, trio.SocketStream):
        try:
            local = stream.socket.getsockname()
            peer = stream.socket.getpeername()
        except OSError:
            return None, None
        return (local[0], local[1]), (peer[0], peer[1])
    return None, None


class WrapperStreamTransport(WrapperEnds):
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
        self._setup(local_wport, remote_wport, max_apdu)
        self._stream: trio.abc.Stream | None = stream
        self._local, self._peer = _socket_addresses(stream)
        self._addresses_unread = False

    @classmethod
    def _on_socket(
        cls,
        sock: socket.socket,
        *,
        local_wport: int | None,
        remote_wport: int | None,
        max_apdu: int = DEFAULT_MAX_APDU,
    ) -> WrapperStreamTransport:
        """A link this module dialled, on its connected non-blocking socket: sent to and
        read from directly, with the checkpoints trio's socket calls make. The trio
        stream is made only if ``stream`` is asked for, and the addresses are read when
        first asked for (ask before closing)."""
        self = cls.__new__(cls)
        self._setup(local_wport, remote_wport, max_apdu)
        self._stream = None
        self._socket = sock
        self._local = self._peer = None
        self._addresses_unread = True
        return self

    def _setup(self, local_wport: int | None, remote_wport: int | None, max_apdu: int) -> None:
        self._ends(local_wport, remote_wport, max_apdu)
        self._send_turn = _Turn()
        self._receive_turn = _Turn()
        #: the socket under the link when this module dialled it (see ``_on_socket``)
        self._socket: socket.socket | None = None
        #: a WPDU went out since the last read: its answer is most likely not there yet
        self._awaiting_answer = False

    @property
    def stream(self) -> trio.abc.Stream:
        """The byte stream the wrapper runs over (a ``trio.SocketStream`` for a link
        dialled with :func:`open_tcp_wrapper`, made when first asked for)."""
        stream = self._stream
        if stream is None:
            assert self._socket is not None
            stream = self._stream = trio.SocketStream(trio.socket.from_stdlib_socket(self._socket))
        return stream

    def _read_addresses(self) -> None:
        self._addresses_unread = False
        assert self._socket is not None
        try:
            local = self._socket.getsockname()
            peer = self._socket.getpeername()
        except OSError:
            return
        self._local, self._peer = (local[0], local[1]), (peer[0], peer[1])

    @property
    def local_address(self) -> LinkAddress:
        if self._addresses_unread:
            self._read_addresses()
        host, port = self._local if self._local else (None, None)
        return LinkAddress(host=host, port=port, sap=self.local_wport)

    @property
    def peer_address(self) -> LinkAddress:
        if self._addresses_unread:
            self._read_addresses()
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
        turn = self._send_turn
        await turn.acquire()
        try:
            if self._socket is not None:
                await _send_socket(self._socket, data)
                self._awaiting_answer = True
            else:
                await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise TransportError(f"send failed: {exc!r}") from exc
        finally:
            turn.release()

    async def receive_wpdu(self) -> Wpdu:
        """The next WPDU for our wPorts, header included (push listeners want the wPorts)."""
        source, destination, apdu = await self._receive_frame()
        return Wpdu(source=source, destination=destination, apdu=apdu)

    async def receive_apdu(self) -> bytes:
        return (await self._receive_frame())[2]

    async def _receive_frame(self) -> tuple[int, int, bytes]:
        """(source, destination, APDU) of the next WPDU for our wPorts."""
        turn = self._receive_turn
        await turn.acquire()
        try:
            return await self._next_frame(self._read)
        finally:
            turn.release()

    async def _read(self) -> bytes | bytearray:
        try:
            if self._socket is not None:
                data = await _receive_socket(self._socket, self._awaiting_answer)
                self._awaiting_answer = False
                return data
            return await self.stream.receive_some(_RECEIVE_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise TransportError(f"receive failed: {exc!r}") from exc

    async def aclose(self) -> None:
        self._closed = True
        sock = self._socket
        if self._stream is None and sock is not None:
            # what the stream's aclose does: wake any task waiting on the socket, close
            # it, checkpoint
            if sock.fileno() != -1:
                trio.lowlevel.notify_closing(sock)
                sock.close()
            await trio.lowlevel.checkpoint()
            return
        await self.stream.aclose()


async def _send_socket(sock: socket.socket, data: bytes) -> None:
    """All of ``data`` on a non-blocking socket, without ``SocketStream.send_all``'s
    layers: a cancellation point first, then written at once; other tasks run while it
    waits for room in the socket buffer, not after a write that did not wait (a request
    is followed by the wait for its answer, which is the schedule point)."""
    await trio.lowlevel.checkpoint_if_cancelled()
    try:
        sent = sock.send(data)
    except BlockingIOError:
        sent = 0
    if sent == len(data):
        return
    view = memoryview(data)
    while sent < len(data):
        await trio.lowlevel.wait_writable(sock)
        with contextlib.suppress(BlockingIOError):
            sent += sock.send(view[sent:])


async def _receive_socket(sock: socket.socket, wait_first: bool) -> bytes:
    """Bytes from a non-blocking socket (``b""`` at end of stream): what
    ``SocketStream.receive_some`` does, without its layers. ``wait_first``: a request
    has just gone out, so a read now would almost always find nothing (and raise):
    wait for the socket to be readable first, which is a checkpoint all the same."""
    if not wait_first:
        await trio.lowlevel.checkpoint_if_cancelled()
        try:
            data = sock.recv(_RECEIVE_SIZE)
        except BlockingIOError:
            pass
        else:
            await trio.lowlevel.cancel_shielded_checkpoint()
            return data
    while True:
        await trio.lowlevel.wait_readable(sock)
        try:
            return sock.recv(_RECEIVE_SIZE)
        except BlockingIOError:
            pass


#: Made non-blocking by socket() itself where the platform can (one system call less).
_NONBLOCK: int = getattr(socket, "SOCK_NONBLOCK", 0)


def _literal_family(host: str) -> socket.AddressFamily | None:
    """The address family of a numeric IP address (no zone index), else ``None``."""
    try:
        socket.inet_pton(socket.AF_INET, host)
    except (OSError, ValueError):
        pass
    else:
        # inet_pton takes only the four-part dotted decimal form (ipaddress's IPv4)
        return socket.AF_INET
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if address.version == 4:
        return socket.AF_INET
    return None if "%" in host else socket.AF_INET6


async def _connect_literal(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    """Connect to a numeric address: one address, so no name lookup and no happy eyeballs
    (what ``trio.open_tcp_stream`` comes down to for it, without its tasks); the
    connected non-blocking socket."""
    sock = socket.socket(family, socket.SOCK_STREAM | _NONBLOCK)
    try:
        if not _NONBLOCK:
            sock.setblocking(False)
        # every APDU goes out at once (what trio.SocketStream sets on its sockets)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await trio.lowlevel.checkpoint_if_cancelled()
        error = sock.connect_ex((host, port))
        if error == errno.EINPROGRESS:
            await trio.lowlevel.wait_writable(sock)
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        else:
            await trio.lowlevel.cancel_shielded_checkpoint()
        if error:
            raise OSError(error, os.strerror(error))
    except BaseException:
        sock.close()
        raise
    return sock


async def open_tcp_wrapper(
    host: str,
    port: int = 4059,
    *,
    client_wport: int = 0x10,
    server_wport: int = 0x01,
    max_apdu: int = DEFAULT_MAX_APDU,
) -> WrapperStreamTransport:
    """Dial a meter (or any wrapper server). Bound the connect with a cancel scope.

    ``TCP_NODELAY`` is set: every APDU goes out at once. A numeric address is dialled
    directly and the link then runs on its socket (see ``WrapperStreamTransport``);
    a name goes through ``trio.open_tcp_stream``."""
    try:
        family = _literal_family(host)
        if family is None:
            stream = await trio.open_tcp_stream(host, port)
        else:
            sock = await _connect_literal(family, host, port)
            return WrapperStreamTransport._on_socket(
                sock, local_wport=client_wport, remote_wport=server_wport, max_apdu=max_apdu
            )
    except OSError as exc:
        raise TransportError(f"cannot connect to {host}:{port}: {exc}") from exc
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
