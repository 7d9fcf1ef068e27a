"""Simulator: sessions served per second and memory per meter of a fleet.

* Sessions: a full public-client session (AARQ, GET clock, RLRQ) and a meter-reader
  session (LLS, ciphered, one day of block load by range) against one simulated meter,
  compared with the bare server association over a one-attribute in-memory tree (the
  floor: what the protocol machine costs without the meter model); and the public
  session over real loopback TCP (wrapper, trio) against the same session in memory.
* The wrapper server alone: CPU per connection of ``serve_tcp_wrapper_sockets`` (what
  the fleet serves with) against ``serve_tcp_wrapper`` (trio streams), each in its own
  process answering bench_collect's five exchanges with canned APDUs of their sizes.
* Memory: a fleet of 10,000 and 100,000 idle meters against the floor of one Python int
  (the meter's seed record) per meter; a materialised meter (tables shared by every
  meter of a model) against a full per-meter COSEM object tree; an evicted meter.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import resource
import socket
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable

import attrs
import trio
from _harness import Measurement, is_quick, rate

from dlmskit.apdu import (
    ApplicationContextName,
    CosemAttributeDescriptor,
    MechanismName,
    SelectiveAccess,
)
from dlmskit.association import (
    NEED_DATA,
    AssociationPolicy,
    ClientAssociation,
    ClientSettings,
    MemoryObjectTree,
    ServerAssociation,
)
from dlmskit.axdr import DateTime, DeviationSign, OctetString
from dlmskit.client import Association
from dlmskit.cosem import is15959_object_tree
from dlmskit.security import MemoryCounterStore, SecurityContext
from obis import ObisCode
from simulators import (
    DEFAULT_AK,
    DEFAULT_EK,
    DEFAULT_LLS_SECRET,
    Fleet,
    FleetLayout,
    LinkStats,
    MeterKeys,
    MeterSession,
    serve_fleet_wrapper,
)
from transports import (
    WrapperSocketTransport,
    WrapperStreamTransport,
    open_tcp_wrapper,
    serve_tcp_wrapper,
    serve_tcp_wrapper_sockets,
)

NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
CLOCK = CosemAttributeDescriptor(class_id=8, instance_id=ObisCode(0, 0, 1, 0, 0), attribute_id=2)
BLOCK_LOAD = CosemAttributeDescriptor(
    class_id=7, instance_id=ObisCode(1, 0, 99, 1, 0), attribute_id=2
)
DAY = SelectiveAccess.range_descriptor(
    restricting_object=CLOCK,
    from_value=DateTime.from_datetime(
        dt.datetime(2026, 6, 9, tzinfo=IST), sign=DeviationSign.UTC_TO_LOCAL
    ),
    to_value=DateTime.from_datetime(
        dt.datetime(2026, 6, 9, 23, 45, tzinfo=IST), sign=DeviationSign.UTC_TO_LOCAL
    ),
)


#: The head-end's sending counters persist across sessions, as the meter expects.
CLIENT_COUNTERS = MemoryCounterStore()


def _reader_settings() -> ClientSettings:
    return ClientSettings(
        application_context=ApplicationContextName.LN_CIPHERED,
        mechanism=MechanismName.LOW,
        password=DEFAULT_LLS_SECRET,
        security=SecurityContext(
            system_title=bytes.fromhex("4D4D4D0000000009"),
            global_unicast_key=DEFAULT_EK,
            authentication_key=DEFAULT_AK,
            counter_store=CLIENT_COUNTERS,
        ),
    )


Handle = Callable[[bytes], list[bytes]]
Reads = list[tuple[CosemAttributeDescriptor, SelectiveAccess | None]]


def _drive(client: ClientAssociation, handle: Handle) -> None:
    while True:
        out = client.data_to_send()
        if not out:
            break
        for apdu in out:
            for reply in handle(apdu):
                client.receive_apdu(reply)


def _session(handle_for: Callable[[], Handle], settings: ClientSettings, reads: Reads) -> None:
    client = ClientAssociation(settings)
    handle = handle_for()
    client.associate()
    _drive(client, handle)
    for descriptor, access in reads:
        client.get(descriptor, access)
        _drive(client, handle)
    client.release()
    _drive(client, handle)
    while client.next_event() is not NEED_DATA:
        pass


def _sessions() -> list[Measurement]:
    fleet = Fleet(FleetLayout(seed=1, meters=1), clock=lambda: NOW)
    meter = fleet.meter(0)

    def meter_public() -> Handle:
        session = meter.open_session(0x10)
        assert session is not None
        return session.handle

    clock_value = OctetString(bytes(12))
    tree = MemoryObjectTree({(8, ObisCode(0, 0, 1, 0, 0), 2): clock_value})

    def bare_public() -> Handle:
        server = ServerAssociation(AssociationPolicy(client_sap=0x10), tree)

        def handle(apdu: bytes) -> list[bytes]:
            server.receive_apdu(apdu)
            while server.next_event() is not NEED_DATA:
                pass
            return server.data_to_send()

        return handle

    public: Reads = [(CLOCK, None)]
    ours = rate(functools.partial(_session, meter_public, ClientSettings(), public))
    floor = rate(functools.partial(_session, bare_public, ClientSettings(), public))

    def meter_reader() -> Handle:
        session = meter.open_session(0x20)
        assert session is not None
        return session.handle

    day: Reads = [(BLOCK_LOAD, DAY)]
    reader = rate(lambda: _session(meter_reader, _reader_settings(), day), min_time=0.5, repeats=3)
    collected = _collect_sessions()
    tcp = _tcp_sessions(fleet)
    big = Fleet(FleetLayout(seed=7, meters=10_000), clock=lambda: NOW)
    spread = _tcp_sessions(big, 1000, concurrency=32)
    return [
        Measurement(
            name="simulator public session (AARQ, GET clock, RLRQ), in memory",
            unit="sessions/s",
            ours=ours,
            peer_name="bare ServerAssociation, one-attribute tree",
            peer=floor,
            note="the meter model's cost on top of the protocol machine",
        ),
        Measurement(
            name="simulator meter-reader session (LLS, ciphered, 96 block load rows by range)",
            unit="sessions/s",
            ours=reader,
            peer_name="public session on the same meter",
            peer=ours,
            note="computing and ciphering a day of profile per session",
        ),
        Measurement(
            name="simulator utility-settings session (HLS-GMAC, clock, 96 block load rows by"
            " range, release), meter side only, a fleet of 1,000 materialising each meter",
            unit="sessions/s",
            ours=collected,
            peer_name="public session on one meter (both sides)",
            peer=ours,
            note="the simulator's part of bench_collect's session, in memory: the meter's "
            "answers timed alone (materialising the meter included)",
        ),
        Measurement(
            name="simulator public session over loopback TCP (wrapper, trio, client in-process)",
            unit="sessions/s",
            ours=tcp,
            peer_name="same session in memory",
            peer=ours,
        ),
        Measurement(
            name="fleet of 10,000: public sessions over TCP to 1,000 distinct meters,"
            " 32 clients at once, one wildcard socket",
            unit="sessions/s",
            ours=spread,
            peer_name="one meter, one client at a time",
            peer=tcp,
            note="includes materialising each meter on first contact",
        ),
    ]


def _collect_sessions() -> float:
    """Meter-side sessions per second of bench_collect's session: the HLS-GMAC utility
    settings association, the clock, a day of block load by range, release; each over a
    meter of a 1,000-meter fleet that keeps 128 materialised (so each is built anew)."""
    meters = 1000
    fleet = Fleet(
        FleetLayout(seed=9, meters=meters),
        keys=MeterKeys(hls_mechanism=MechanismName.HIGH_GMAC),
        clock=lambda: NOW,
        max_active=128,
    )
    counters = MemoryCounterStore()
    recipe = Association.utility_settings(
        mechanism=MechanismName.HIGH_GMAC, hls_secret=None, counter_store=counters
    )
    reads: Reads = [(CLOCK, None), (BLOCK_LOAD, DAY)]
    spent = 0.0
    number = 0
    opened: list[MeterSession] = []

    def handle_for() -> Handle:
        nonlocal spent, number
        start = time.perf_counter()
        meter = fleet.meter(number % meters)
        number += 1
        session = meter.open_session(0x30)
        spent += time.perf_counter() - start
        assert session is not None
        opened.append(session)

        def handle(apdu: bytes) -> list[bytes]:
            nonlocal spent
            start = time.perf_counter()
            answers = session.handle(apdu)
            spent += time.perf_counter() - start
            return answers

        return handle

    def one() -> None:
        nonlocal spent
        _session(handle_for, recipe.client_settings(recipe.security_context()), reads)
        start = time.perf_counter()
        opened.pop().close()  # the link goes: the fleet may evict the meter
        spent += time.perf_counter() - start

    one()  # warm up
    best = 0.0
    rounds = 1 if is_quick() else 3
    count = 10 if is_quick() else 400
    for _ in range(rounds):
        spent = 0.0
        for _ in range(count):
            one()
        best = max(best, count / spent)
    return best


async def _public_session(host: str, port: int) -> None:
    transport = await open_tcp_wrapper(host, port)
    client = ClientAssociation(ClientSettings())
    client.associate()
    for step in range(3):
        if step == 1:
            client.get(CLOCK)
        elif step == 2:
            client.release()
        for apdu in client.data_to_send():
            await transport.send_apdu(apdu)
        while client.next_event() is NEED_DATA:
            client.receive_apdu(await transport.receive_apdu())
    await transport.aclose()


def _tcp_sessions(fleet: Fleet, count: int = 300, *, concurrency: int = 1) -> float:
    """Public sessions per second over loopback TCP, spread over the fleet's meters."""

    async def main() -> float:
        limiter = trio.CapacityLimiter(concurrency)

        async def one(number: int) -> None:
            async with limiter:
                await _public_session(fleet.identity(number % len(fleet)).host, port)

        async with trio.open_nursery() as nursery:
            serve = functools.partial(
                serve_fleet_wrapper, fleet, 0, host="0.0.0.0", stats=LinkStats()
            )
            listeners = await nursery.start(serve)
            port = listeners[0].socket.getsockname()[1]
            start = time.perf_counter()
            async with trio.open_nursery() as clients:
                for number in range(count):
                    clients.start_soon(one, number * 7919)
            elapsed = time.perf_counter() - start
            nursery.cancel_scope.cancel()
        return count / elapsed

    return trio.run(main)


#: bench_collect's session: the sizes of the meter's five answers (AARE, HLS pass 4, clock,
#: a day of block load, RLRE); the head-end's requests are about 40 bytes each.
_ANSWERS = (107, 44, 37, 4251, 5)
_REQUEST = struct.pack(">HHHH", 1, 0x30, 1, 40) + bytes(40)


async def _serve_canned(kind: str) -> None:
    """Serve canned answers with one of the two wrapper servers; print the port, then
    answer each line on stdin with this process's CPU seconds (bench only)."""

    async def answer(transport: WrapperSocketTransport | WrapperStreamTransport) -> None:
        await transport.receive_apdu()
        for number in itertools.count():  # until the client closes
            await transport.send_apdu(bytes(_ANSWERS[number % len(_ANSWERS)]))
            await transport.receive_apdu()

    serve = serve_tcp_wrapper_sockets if kind == "sockets" else serve_tcp_wrapper
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve, answer, "127.0.0.1", 0)
        print(listeners[0].socket.getsockname()[1], flush=True)
        while await trio.to_thread.run_sync(sys.stdin.readline):
            usage = resource.getrusage(resource.RUSAGE_SELF)
            print(f"{usage.ru_utime + usage.ru_stime:.6f}", flush=True)
        nursery.cancel_scope.cancel()


def _wrapper_server_cpu(kind: str, sessions: int) -> float:
    """CPU ms per connection of a wrapper server in its own process: each connection
    five request/answer exchanges, then closed; blocking clients on 8 threads."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--canned", kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    def cpu() -> float:
        stdin.write("cpu\n")
        stdin.flush()
        return float(stdout.readline())

    def receive(sock: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        return data

    def client(count: int) -> None:
        for _ in range(count):
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for _ in _ANSWERS:
                    sock.sendall(_REQUEST)
                    receive(sock, struct.unpack(">6xH", receive(sock, 8))[0])

    try:
        port = int(stdout.readline())
        start = cpu()
        threads = [threading.Thread(target=client, args=(sessions // 8,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(0.05)  # the last connections' ends reach the server
        return 1e3 * (cpu() - start) / (sessions // 8 * 8)
    finally:
        stdin.close()
        process.wait(timeout=30)


def _wrapper_servers() -> Measurement:
    sessions = 80 if is_quick() else 2000
    sockets = min(_wrapper_server_cpu("sockets", sessions) for _ in range(1 if is_quick() else 2))
    streams = min(_wrapper_server_cpu("streams", sessions) for _ in range(1 if is_quick() else 2))
    return Measurement(
        name="wrapper server CPU per connection (5 request/answer exchanges of"
        " bench_collect's sizes, canned answers), server in its own process",
        unit="ms CPU/connection",
        ours=sockets,
        peer_name="serve_tcp_wrapper (trio streams)",
        peer=streams,
        higher_is_better=False,
        note="serve_tcp_wrapper_sockets: the fleet's wrapper server",
    )


def _memory(meters: int) -> float:
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    fleet = Fleet(FleetLayout(seed=3, meters=meters))
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(fleet) == meters
    return (after - before) / meters


def _materialised() -> tuple[float, float]:
    fleet = Fleet(FleetLayout(seed=3, meters=1000), max_active=1000, clock=lambda: NOW)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for number in range(200):
        fleet.meter(number)
    active = (tracemalloc.get_traced_memory()[0] - before) / 200
    fleet.max_active = 1
    before_evict = tracemalloc.get_traced_memory()[0]
    fleet.meter(999)
    evicted = (tracemalloc.get_traced_memory()[0] - before_evict) / 200
    tracemalloc.stop()
    return active, evicted


def _switched() -> tuple[float, float, float]:
    """Bytes a relay switch and a load limit add to a materialised meter; energy reads
    per second (register value at an instant) on a switched and on an untouched meter."""
    fleet = Fleet(FleetLayout(seed=3, meters=400), max_active=400, clock=lambda: NOW)
    meters = [fleet.meter(number) for number in range(200)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for meter in meters:
        state = meter.state
        control = (
            state.point.control.disconnected(NOW - dt.timedelta(hours=2))
            .reconnected(NOW - dt.timedelta(minutes=50))
            .limited(NOW - dt.timedelta(minutes=20), 2000)
        )
        state.point = attrs.evolve(state.point, control=control)
    added = (tracemalloc.get_traced_memory()[0] - before) / len(meters)
    tracemalloc.stop()
    switched, plain = meters[0].state.point, fleet.meter(300).state.point
    when = NOW - dt.timedelta(minutes=7)
    return added, rate(lambda: switched.running(when)), rate(lambda: plain.running(when))


def run() -> list[Measurement]:
    results = _sessions()
    results.append(_wrapper_servers())
    floor = float(sys.getsizeof(2**40))  # a meter's seed record: one Python int
    for meters in (10_000, 100_000):
        results.append(
            Measurement(
                name=f"simulator memory per idle meter, fleet of {meters:,}",
                unit="bytes/meter",
                ours=_memory(meters),
                peer_name="one Python int per meter (seed record)",
                peer=floor,
                higher_is_better=False,
                target=1.0,
            )
        )
    active, evicted = _materialised()
    results.append(
        Measurement(
            name="simulator memory per materialised meter (object tree, state, counters)",
            unit="bytes/meter",
            ours=active,
            peer_name="a dlmskit.cosem is15959_object_tree per meter",
            peer=_cosem_tree(),
            higher_is_better=False,
            note=f"an evicted meter keeps {max(evicted, 0):.0f} bytes (counter and settings);"
            f" floor one int: {floor:.0f} bytes",
        )
    )
    added, switched_reads, plain_reads = _switched()
    results.append(
        Measurement(
            name="simulator energy register read on a meter a client switched",
            unit="reads/s",
            ours=switched_reads,
            peer_name="the same read on an untouched meter",
            peer=plain_reads,
            note=f"the relay switch and load limit add {added:.0f} bytes to the meter",
        )
    )
    return results


def _cosem_tree(count: int = 20) -> float:
    """Bytes of one full per-meter COSEM object tree (the alternative design)."""
    is15959_object_tree(now=lambda: NOW)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    trees = [is15959_object_tree(now=lambda: NOW) for _ in range(count)]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(trees) == count
    return (after - before) / count


if __name__ == "__main__":
    if sys.argv[1:2] == ["--canned"]:
        trio.run(_serve_canned, sys.argv[2])
        raise SystemExit(0)
    for m in run():
        print(f"{m.name}: {m.ours:,.2f} {m.unit} vs {m.peer_name} {m.peer:,.2f} ({m.ratio:.3g}x)")
