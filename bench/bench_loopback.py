"""A complete session over real loopback TCP: the dlmskit client against gurux-dlms.

The simulator (one IS 15959-2 meter, wrapper over TCP on 127.0.0.1, clock frozen) runs
in its own process, so the client process's CPU time is the client's alone. Each client
does the same reads in every session: meter-reader association (SAP 0x20, LLS, suite 0
ciphering), the block-load profile's capture objects, one day of its buffer by range
(96 rows), release. gurux-dlms is blocking and runs its socket directly; the dlmskit
client runs under trio with :func:`dlmskit.client.connect`.

Two comparisons come out of one run, clients measured in alternating rounds:

- client CPU seconds per session (the cost a head-end pays per meter read);
- wall-clock sessions per second, one session at a time (includes the simulator and
  the loopback round trips, which are the same for both clients).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import trio
from _harness import Measurement, is_quick
from gurux_dlms import GXByteBuffer, GXReplyData
from gurux_dlms.enums import Authentication, InterfaceType, Security
from gurux_dlms.objects import GXDLMSProfileGeneric
from gurux_dlms.secure import GXDLMSSecureClient

from dlmskit.axdr import DeviationSign
from dlmskit.client import Association, connect

NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
START = NOW - dt.timedelta(days=1)
END = NOW - dt.timedelta(minutes=15)
ROWS = 96
BLOCK_LOAD = "1.0.99.1.0.255"
LLS_SECRET = b"12345678"
EK = bytes(range(16))
AK = bytes(range(0xD0, 0xE0))
GURUX_TITLE = bytes.fromhex("4D4D4D0000000101")
DLMSKIT_TITLE = bytes.fromhex("4D4D4D0000000102")
#: Invocation counters advance by this much between sessions (a session uses < 100).
COUNTER_STEP = 1000


# -- the simulator process ---------------------------------------------------------------


async def _serve_forever() -> None:
    from simulators import Fleet, FleetLayout, serve_fleet_wrapper

    fleet = Fleet(
        FleetLayout(seed=7, meters=1, first_host="127.0.0.1"),
        clock=lambda: NOW,
        sign=DeviationSign.BLUE_BOOK,
    )
    async with trio.open_nursery() as nursery:
        serve = functools.partial(serve_fleet_wrapper, fleet, 0, host="127.0.0.1")
        listeners = await nursery.start(serve)
        print(listeners[0].socket.getsockname()[1], flush=True)


@contextlib.contextmanager
def simulator() -> Iterator[int]:
    """A simulator process serving one meter; yields its TCP port."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"the simulator did not start: {line!r}")
        yield int(line)
    finally:
        process.terminate()
        process.wait(timeout=10)


# -- gurux-dlms ---------------------------------------------------------------------------


class GuruxSession:
    """One gurux-dlms session over a blocking socket."""

    def __init__(self, port: int, counter: int) -> None:
        client = GXDLMSSecureClient(
            True, 0x20, 1, Authentication.LOW, LLS_SECRET, InterfaceType.WRAPPER
        )
        client.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
        client.ciphering.systemTitle = GURUX_TITLE
        client.ciphering.blockCipherKey = EK
        client.ciphering.authenticationKey = AK
        client.ciphering.invocationCounter = counter
        self.client = client
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _packet(self, data: Any, reply: Any) -> None:
        notify = GXReplyData()
        if data is not None:
            self.sock.sendall(bytes(data))
        received = GXByteBuffer()
        while not self.client.getData(received, reply, notify):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the simulator closed the connection")
            received.set(chunk)

    def _exchange(self, frames: list[Any]) -> Any:
        reply = GXReplyData()
        for frame in frames:
            reply.clear()
            self._packet(frame, reply)
            while reply.isMoreData():
                more = None if reply.isStreaming() else self.client.receiverReady(reply)
                self._packet(more, reply)
        return reply

    def run(self) -> int:
        """Associate, read the profile's capture objects and one day, release; the rows."""
        try:
            self.client.parseAareResponse(self._exchange(self.client.aarqRequest()).data)
            profile = GXDLMSProfileGeneric(BLOCK_LOAD)
            reply = self._exchange(self.client.read(profile, 3))
            self.client.updateValue(profile, 3, reply.value)
            reply = self._exchange(self.client.readRowsByRange(profile, START, END))
            self.client.updateValue(profile, 2, reply.value)
            self._exchange(self.client.releaseRequest())
            return len(profile.buffer)
        finally:
            self.sock.close()


# -- dlmskit --------------------------------------------------------------------------------


async def dlmskit_session(port: int, counter: int) -> int:
    """The same reads with the dlmskit client; the rows."""
    association = Association.meter_reader(
        system_title=DLMSKIT_TITLE, invocation_counter=counter, sign=DeviationSign.BLUE_BOOK
    )
    async with connect(f"tcp://127.0.0.1:{port}", association=association) as meter:
        rows = await meter.read_profile(BLOCK_LOAD, START, END, scaler_profile=False)
    return len(rows)


# -- measuring ------------------------------------------------------------------------------


class _Counter:
    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        self.value += COUNTER_STEP
        return self.value


def _check(rows: int) -> None:
    if rows != ROWS:
        raise RuntimeError(f"a session read {rows} rows, not {ROWS}")


def gurux_round(port: int, counters: _Counter, min_time: float) -> tuple[int, float, float]:
    """gurux-dlms sessions back to back for ``min_time``: (count, wall s, CPU s)."""
    count = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    # gurux-dlms prints a line for every ciphered APDU; keep it off the terminal
    with contextlib.redirect_stdout(io.StringIO()):
        while True:
            _check(GuruxSession(port, counters.next()).run())
            count += 1
            wall = time.perf_counter() - wall0
            if wall >= min_time:
                return count, wall, time.process_time() - cpu0


async def _dlmskit_round(
    port: int, counters: _Counter, min_time: float
) -> tuple[int, float, float]:
    count = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while True:
        _check(await dlmskit_session(port, counters.next()))
        count += 1
        wall = time.perf_counter() - wall0
        if wall >= min_time:
            return count, wall, time.process_time() - cpu0


def dlmskit_round(port: int, counters: _Counter, min_time: float) -> tuple[int, float, float]:
    """dlmskit sessions back to back in one trio run for ``min_time``."""
    return trio.run(_dlmskit_round, port, counters, min_time)


def measure(*, min_time: float = 1.0, rounds: int = 3) -> list[Measurement]:
    """Both clients in alternating rounds of ``min_time`` against one simulator process."""
    counters = {"gurux": _Counter(), "dlmskit": _Counter()}
    clients = {"gurux": gurux_round, "dlmskit": dlmskit_round}
    best: dict[str, tuple[float, float]] = {}
    with simulator() as port:
        for name, client in clients.items():
            client(port, counters[name], 0.0)  # warm up
        for _ in range(rounds):
            for name, client in clients.items():
                count, wall, cpu = client(port, counters[name], min_time)
                rate_, cpu_each = count / wall, cpu / count
                old_rate, old_cpu = best.get(name, (0.0, float("inf")))
                best[name] = (max(old_rate, rate_), min(old_cpu, cpu_each))
    (g_rate, g_cpu), (o_rate, o_cpu) = best["gurux"], best["dlmskit"]
    what = "meter reader LLS + suite 0, capture objects, 96-row block load by range, release"
    return [
        Measurement(
            name="loopback session, client CPU (TCP wrapper, simulator in its own process)",
            unit="ms CPU/session",
            ours=o_cpu * 1e3,
            peer_name="gurux-dlms 1.0.203 client",
            peer=g_cpu * 1e3,
            higher_is_better=False,
            target=10.0,
            note=what,
        ),
        Measurement(
            name="loopback session, wall clock, one at a time",
            unit="sessions/s",
            ours=o_rate,
            peer_name="gurux-dlms 1.0.203 client",
            peer=g_rate,
            note=what + "; includes the simulator's time, the same for both",
        ),
    ]


def run() -> list[Measurement]:
    return measure(min_time=0.05, rounds=1) if is_quick() else measure()


if __name__ == "__main__" and sys.argv[1:] == ["--serve"]:
    trio.run(_serve_forever)
