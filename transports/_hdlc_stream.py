"""HDLC over any trio byte stream (TCP, serial, an in-memory pipe).

:class:`HdlcStreamTransport` drives the sans-IO :class:`~transports.HdlcConnection` with
trio's clock: it feeds received bytes, writes what the machine produces, and calls
``handle_timeout`` at the machine's deadline. Receiving on the client polls the server
(RR) every ``poll_interval`` so that server-initiated data can flow in normal response
mode; receiving on the server without replying hands the poll back to the client.
"""

from __future__ import annotations

import math
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio

from dlmskit.errors import LocalProtocolError, TransportError
from transports._hdlc_address import HdlcAddress
from transports._hdlc_connection import HdlcConnection
from transports._hdlc_events import ApduReceived, Connected, Disconnected, NeedData
from transports._hdlc_parameters import HdlcParameters
from transports._hdlc_state import HdlcRole, HdlcState
from transports._interface import LinkAddress

__all__ = ["HdlcStreamTransport", "accept_hdlc", "open_hdlc", "open_tcp_hdlc", "serve_tcp_hdlc"]

_RECEIVE_SIZE = 4096
_BROKEN = (trio.BrokenResourceError, trio.ClosedResourceError, OSError)


def _state(conn: HdlcConnection) -> HdlcState:
    return conn.state


class HdlcStreamTransport:
    """An :class:`~transports.ApduTransport` running HDLC over a ``trio.abc.Stream``."""

    def __init__(
        self,
        stream: trio.abc.Stream,
        connection: HdlcConnection,
        *,
        poll_interval: float = 0.1,
        device: str | None = None,
    ) -> None:
        self.stream = stream
        self.connection = connection
        self.poll_interval = poll_interval
        self.device = device
        self._apdus: deque[bytes] = deque()
        self._down: str | None = None
        self._closed = False
        self._connected = False
        self._next_poll = -math.inf
        self._send_lock = trio.Lock()
        self._write_lock = trio.Lock()
        self._pump_lock = trio.Lock()
        self._receive_lock = trio.Lock()

    # ---------------------------------------------------------------- addresses

    def _address(self, hdlc: HdlcAddress | None) -> LinkAddress:
        return LinkAddress(
            sap=None if hdlc is None else hdlc.upper,
            physical=None if hdlc is None else hdlc.lower,
            device=self.device,
        )

    @property
    def local_address(self) -> LinkAddress:
        conn = self.connection
        own = conn.client_address if conn.role is HdlcRole.CLIENT else conn.server_address
        return self._address(own)

    @property
    def peer_address(self) -> LinkAddress:
        conn = self.connection
        peer = conn.server_address if conn.role is HdlcRole.CLIENT else conn.client_address
        return self._address(peer)

    # -------------------------------------------------------------------- pump

    async def _write(self, data: bytes) -> None:
        if not data:
            return
        async with self._write_lock:
            try:
                await self.stream.send_all(data)
            except _BROKEN as exc:
                self._down = self._down or f"send failed: {exc!r}"
                raise TransportError(self._down) from exc

    def _take_events(self) -> None:
        while True:
            event = self.connection.next_event()
            if isinstance(event, NeedData):
                return
            if isinstance(event, ApduReceived):
                self._apdus.append(event.apdu)
            elif isinstance(event, Connected):
                self._connected = True
            elif isinstance(event, Disconnected):
                self._down = event.reason

    async def _pump(self, *, polling: bool = False) -> None:
        """Wait for bytes until the machine's deadline (or the next poll), then process."""
        conn = self.connection
        wake = conn.next_deadline
        if polling and conn.can_poll:
            now = trio.current_time()
            if now >= self._next_poll:
                self._next_poll = now + self.poll_interval
                await self._write(conn.poll(now=now))
                wake = conn.next_deadline
            else:
                wake = self._next_poll if wake is None else min(wake, self._next_poll)
        data: bytes | bytearray | None = None
        with trio.move_on_at(math.inf if wake is None else wake):
            try:
                data = await self.stream.receive_some(_RECEIVE_SIZE)
            except _BROKEN as exc:
                self._down = self._down or f"receive failed: {exc!r}"
                raise TransportError(self._down) from exc
        now = trio.current_time()
        if data is None:
            await self._write(conn.handle_timeout(now=now))
            self._take_events()
            return
        if not data:
            self._down = self._down or (
                "peer closed the link mid-frame" if conn.mid_frame else "peer closed the link"
            )
            raise TransportError(self._down)
        conn.receive_data(data, now=now)
        try:
            self._take_events()
        finally:
            await self._write(conn.data_to_send())

    def _check(self) -> None:
        if self._closed:
            raise TransportError("transport is closed")
        if self._down is not None:
            raise TransportError(f"HDLC link down: {self._down}")

    # -------------------------------------------------------------- lifecycle

    async def connect(self) -> None:
        """Client: SNRM/UA. Raises ``TransportError`` if refused or unanswered."""
        self._check()
        await self._write(self.connection.connect(now=trio.current_time()))
        while not self._connected:
            self._check()
            async with self._pump_lock:
                await self._pump()

    async def accept(self) -> None:
        """Server: wait for the client's SNRM (answered with UA)."""
        while not self._connected:
            self._check()
            async with self._pump_lock:
                await self._pump()

    async def send_apdu(self, apdu: bytes) -> None:
        self._check()
        async with self._send_lock:
            try:
                data = self.connection.send_apdu(apdu, now=trio.current_time())
            except LocalProtocolError as exc:
                raise TransportError(str(exc)) from exc
            await self._write(data)
            while self.connection.sending:
                self._check()
                async with self._pump_lock:
                    if self.connection.sending:
                        await self._pump()

    async def send_unnumbered(self, apdu: bytes) -> None:
        """An APDU in a UI frame (no acknowledgement): pushes."""
        self._check()
        await self._write(self.connection.send_unnumbered(apdu))

    async def receive_apdu(self) -> bytes:
        async with self._receive_lock:
            while not self._apdus:
                self._check()
                await self._write(self.connection.release_poll())
                async with self._pump_lock:
                    if not self._apdus:
                        await self._pump(polling=True)
            self._next_poll = -math.inf  # data flows: the next receive may poll at once
            return self._apdus.popleft()

    async def aclose(self) -> None:
        """Client: DISC (bounded by the response timeout); then close the stream."""
        if self._closed:
            return
        conn = self.connection
        try:
            if (
                conn.role is HdlcRole.CLIENT
                and conn.state is HdlcState.CONNECTED
                and self._down is None
            ):
                with trio.move_on_after(conn.response_timeout) as scope:
                    scope.shield = True
                    await self._write(conn.disconnect(now=trio.current_time()))
                    while _state(conn) is HdlcState.DISCONNECTING:
                        async with self._pump_lock:
                            await self._pump()
        except TransportError:
            pass
        finally:
            self._closed = True
            await self.stream.aclose()


async def open_hdlc(
    stream: trio.abc.Stream,
    *,
    server_address: HdlcAddress,
    client_address: int = 0x10,
    parameters: HdlcParameters | None = None,
    response_timeout: float = 3.0,
    max_retries: int = 3,
    poll_interval: float = 0.1,
    device: str | None = None,
) -> HdlcStreamTransport:
    """Client: run SNRM/UA over ``stream`` and return the connected transport."""
    conn = HdlcConnection(
        HdlcRole.CLIENT,
        server_address=server_address,
        client_address=client_address,
        parameters=parameters,
        response_timeout=response_timeout,
        max_retries=max_retries,
    )
    transport = HdlcStreamTransport(stream, conn, poll_interval=poll_interval, device=device)
    await transport.connect()
    return transport


async def accept_hdlc(
    stream: trio.abc.Stream,
    *,
    server_address: HdlcAddress,
    client_address: int | None = None,
    parameters: HdlcParameters | None = None,
    device: str | None = None,
) -> HdlcStreamTransport:
    """Server (meter): wait for SNRM over ``stream`` and return the connected transport."""
    conn = HdlcConnection(
        HdlcRole.SERVER,
        server_address=server_address,
        client_address=client_address,
        parameters=parameters,
    )
    transport = HdlcStreamTransport(stream, conn, device=device)
    await transport.accept()
    return transport


async def open_tcp_hdlc(
    host: str,
    port: int,
    *,
    server_address: HdlcAddress,
    client_address: int = 0x10,
    parameters: HdlcParameters | None = None,
    response_timeout: float = 3.0,
    max_retries: int = 3,
) -> HdlcStreamTransport:
    """HDLC over TCP (some GPRS modems and gateways): connect, then SNRM/UA."""
    try:
        stream = await trio.open_tcp_stream(host, port)
    except OSError as exc:
        raise TransportError(f"cannot connect to {host}:{port}: {exc}") from exc
    stream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        return await open_hdlc(
            stream,
            server_address=server_address,
            client_address=client_address,
            parameters=parameters,
            response_timeout=response_timeout,
            max_retries=max_retries,
        )
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise


async def serve_tcp_hdlc(
    handler: Callable[[HdlcStreamTransport], Awaitable[object]],
    host: str | None = None,
    port: int = 4059,
    *,
    server_address: HdlcAddress,
    client_address: int | None = None,
    parameters: HdlcParameters | None = None,
    connect_timeout: float = 30.0,
    handler_nursery: trio.Nursery | None = None,
    task_status: trio.TaskStatus[Sequence[trio.SocketListener]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Meter side of HDLC over TCP: for each connection wait (up to ``connect_timeout``)
    for SNRM, then run ``handler(transport)``; the transport is closed when it returns.
    A ``TransportError`` ends only that connection."""
    listeners = await trio.open_tcp_listeners(port, host=host)

    async def run(stream: trio.SocketStream) -> None:
        try:
            with trio.fail_after(connect_timeout):
                transport = await accept_hdlc(
                    stream,
                    server_address=server_address,
                    client_address=client_address,
                    parameters=parameters,
                )
        except (TransportError, trio.TooSlowError):
            await trio.aclose_forcefully(stream)
            return
        try:
            await handler(transport)
        except TransportError:
            pass
        finally:
            await transport.aclose()

    serve: Any = trio.serve_listeners
    await serve(run, listeners, handler_nursery=handler_nursery, task_status=task_status)
