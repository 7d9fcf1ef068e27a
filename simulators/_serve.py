"""Serving a fleet with trio: the wrapper and HDLC over TCP, one listening socket each.

Every meter of a fleet has its own loopback address; one socket bound to a wildcard
address accepts every connection and picks the meter by the local address the client
dialled. Each connection is one client SAP's session; what a client does to it (garbage,
stalling, flooding, dropping the link) ends only that session. Faults that live on the
link (silence, slow responses, dropped or corrupted responses) are applied here.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs
import trio

from dlmskit.errors import DlmsError, TransportError
from simulators._faults import FaultKind
from simulators._fleet import Fleet
from simulators._load import mix
from simulators._meter import MeterSession, SimulatedMeter
from transports import (
    HdlcAddress,
    WrapperSocketTransport,
    accept_hdlc,
    serve_tcp_wrapper_sockets,
)

__all__ = ["LinkFaults", "LinkStats", "run_session", "serve_fleet_hdlc", "serve_fleet_wrapper"]

#: A session with no request for this long is closed (a stalled client).
DEFAULT_IDLE_TIMEOUT = 120.0


@attrs.define
class LinkStats:
    """What the servers did, for tests and benchmarks."""

    connections: int = 0
    sessions: int = 0
    requests: int = 0
    responses: int = 0
    dropped: int = 0
    corrupted: int = 0
    silenced: int = 0
    refused: int = 0
    timeouts: int = 0


def _corrupt(apdu: bytes, rng: random.Random) -> bytes:
    if not apdu:
        return apdu
    position = rng.randrange(len(apdu))
    return apdu[:position] + bytes((apdu[position] ^ 0xFF,)) + apdu[position + 1 :]


class LinkFaults:
    """The link faults of one meter for one session: delay, drops and corruption."""

    def __init__(self, meter: SimulatedMeter, stats: LinkStats) -> None:
        state = meter.state
        self.meter = meter
        self.stats = stats
        self._session = meter.sessions_opened
        self._rng: random.Random | None = None
        self.delay = sum(rule.value for rule in state.rules(FaultKind.SLOW_RESPONSE))
        self.drop = max((r.value for r in state.rules(FaultKind.DROPPED_FRAME)), default=0.0)
        self.corrupt = max((r.value for r in state.rules(FaultKind.CORRUPTED_FRAME)), default=0.0)
        self._faulty = bool(self.delay or self.drop or self.corrupt)
        self._silences = bool(state.point.plan.silence)

    @property
    def rng(self) -> random.Random:
        """The session's draws for drops and corruption (seeded when first needed)."""
        if self._rng is None:
            self._rng = random.Random(mix(self.meter.identity.seed, self._session))
        return self._rng

    async def answer(
        self, session: MeterSession, apdu: bytes, send: Callable[[bytes], Awaitable[None]]
    ) -> None:
        """Hand one request to the session and send its answers through the faults."""
        stats = self.stats
        stats.requests += 1
        if self._silences and self.meter.silent():
            stats.silenced += 1
            return
        answers = session.handle(apdu)
        if not self._faulty:
            for answer in answers:
                await send(answer)
                stats.responses += 1
            return
        for answer in answers:
            if self.delay:
                await trio.sleep(self.delay)
            if self.drop and self.rng.random() < self.drop:
                stats.dropped += 1
                continue
            if self.corrupt and self.rng.random() < self.corrupt:
                stats.corrupted += 1
                answer = _corrupt(answer, self.rng)
            await send(answer)
            stats.responses += 1


async def run_session(
    meter: SimulatedMeter,
    client_sap: int,
    first: bytes | None,
    receive: Callable[[], Awaitable[bytes]],
    send: Callable[[bytes], Awaitable[None]],
    stats: LinkStats,
    *,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
) -> None:
    """Serve one client SAP on one link until it closes, stalls or breaks."""
    session = meter.open_session(client_sap)
    if session is None:
        stats.refused += 1
        return
    stats.sessions += 1
    faults = LinkFaults(meter, stats)
    # answers the meter delays on purpose (a slow-response fault) are not bounded by the
    # idle timeout; otherwise the deadline set for a request stays while it is answered
    # (a client that stops reading stalls the link as one that stops sending)
    delayed = bool(faults.delay)
    # the deadline is moved on only when that puts it later by more than this: a client
    # silent for the idle timeout, less at most 1 % of it, is dropped
    slack = idle_timeout / 100
    pending = first
    try:
        # one scope for the session, its deadline moved at the waits for a request
        start = math.inf if delayed else trio.current_time() + idle_timeout
        with trio.CancelScope(deadline=start) as idle:
            while True:
                if pending is None:
                    limit = trio.current_time() + idle_timeout
                    if delayed or idle.deadline < limit - slack:
                        idle.deadline = limit
                    pending = await receive()
                    if delayed:
                        idle.deadline = math.inf
                apdu, pending = pending, None
                await faults.answer(session, apdu, send)
        stats.timeouts += 1
    finally:
        session.close()


async def serve_fleet_wrapper(
    fleet: Fleet,
    port: int = 4059,
    *,
    host: str | None = None,
    stats: LinkStats | None = None,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    task_status: trio.TaskStatus[Sequence[trio.SocketListener]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve every meter of ``fleet`` over the wrapper on ``host:port`` (``None``: every
    address); ``nursery.start`` returns the listeners (the port when ``port=0``). Each
    connection is served on its socket (:func:`~transports.serve_tcp_wrapper_sockets`)."""
    counters = stats if stats is not None else LinkStats()

    async def handler(transport: WrapperSocketTransport) -> None:
        counters.connections += 1
        meter = fleet.meter_at(transport.local_address.host)
        if meter is None:
            counters.refused += 1
            return
        with trio.move_on_after(idle_timeout) as waiting:
            try:
                wpdu = await transport.receive_wpdu()
            except TransportError:
                return
        if waiting.cancelled_caught:
            counters.timeouts += 1
            return
        # the session's own idle timeout from here on, not a bound on the whole session
        await run_session(
            meter,
            wpdu.source,
            wpdu.apdu,
            transport.receive_apdu,
            transport.send_apdu,
            counters,
            idle_timeout=idle_timeout,
        )

    await serve_tcp_wrapper_sockets(handler, host=host, port=port, task_status=task_status)


async def serve_fleet_hdlc(
    fleet: Fleet,
    port: int = 4059,
    *,
    host: str | None = None,
    server_address: HdlcAddress | None = None,
    stats: LinkStats | None = None,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    task_status: trio.TaskStatus[Sequence[trio.SocketListener]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve every meter of ``fleet`` with HDLC over TCP (logical device 1 by default)."""
    counters = stats if stats is not None else LinkStats()
    address = server_address if server_address is not None else HdlcAddress.server(1)

    async def handler(stream: trio.SocketStream) -> None:
        counters.connections += 1
        try:
            local = stream.socket.getsockname()[0]
        except OSError:
            return
        meter = fleet.meter_at(str(local))
        if meter is None:
            counters.refused += 1
            await stream.aclose()
            return
        try:
            with trio.move_on_after(idle_timeout) as scope:
                transport = await accept_hdlc(stream, server_address=address)
            if scope.cancelled_caught:
                counters.timeouts += 1
                return
            try:
                sap = transport.peer_address.sap
                if sap is not None:
                    await run_session(
                        meter,
                        sap,
                        None,
                        transport.receive_apdu,
                        transport.send_apdu,
                        counters,
                        idle_timeout=idle_timeout,
                    )
            finally:
                with trio.CancelScope(shield=True):
                    await transport.aclose()
        except (TransportError, DlmsError):
            pass
        finally:
            await trio.aclose_forcefully(stream)

    listeners = await trio.open_tcp_listeners(port, host=host)
    serve: Any = trio.serve_listeners
    await serve(handler, listeners, task_status=task_status)
