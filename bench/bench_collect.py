"""Head-end collection rate: meters collected per second, wall clock (issues #9 and #10).

Each session is what a head-end runs every day for every meter: an HLS-GMAC association
(the IS 15959-2 utility settings association, client SAP 48, authentication mechanism 5
with suite 0 ciphering), the clock read, the 96-row block load profile of one day by
range, release. The simulator serves the fleet over the TCP wrapper (one loopback
address per meter) in its own process; the head-end runs in ``PROCESSES`` processes
(:func:`hes.run_processes`), each a :class:`hes.HeadEnd` over its shard of the meters
(:meth:`hes.Inventory.sharded`), all writing to one SQLite store (WAL) and drawing
invocation counters from one :class:`hes.SqliteCounterStore`; simulator and head-end
share the machine's cores. The head-end validates the rows and commits readings and
session records.

The rate is meters over the collection's span: from the first process starting its run
to the last one ending it (each process reports its own span; interpreter start-up and
imports are outside it, as for a head-end that runs for days).

Figures, all from one run:

- the head-end's rate against the same sessions run by the bare client (connect, clock,
  profile by range decoded to A-XDR values, release: no typed rows, no validation, no
  store) in as many processes, the protocol floor on this machine;
- the head-end's rate against the 500 meters/s of issue #10, a fixed figure;
- CPU milliseconds per meter of each side (the head-end processes' ``time.process_time``,
  their store threads included; the simulator's own ``resource.getrusage``), the one
  against the other: which side is the bottleneck.

``python bench/bench_collect.py --profile DIR`` writes cProfile statistics of a
one-process head-end (``hes.prof``) and of the simulator (``sim.prof``) for one pass.
"""

from __future__ import annotations

import contextlib
import cProfile
import datetime as dt
import gc
import pathlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import attrs
import trio
from _harness import Measurement, is_quick

from dlmskit.apdu import MechanismName
from dlmskit.axdr import Array, DeviationSign
from dlmskit.client import Association, connect
from dlmskit.cosem import by_time_range
from dlmskit.security import InvocationCounterStore
from hes import (
    CollectionConfig,
    HeadEnd,
    Inventory,
    Outcome,
    Schedule,
    Shard,
    SqliteCounterStore,
    Store,
    day_range,
    run_processes,
)
from hes._session import BLOCK_LOAD, TcpConnector

HERE = pathlib.Path(__file__).resolve().parent
NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
DAY = day_range(dt.date(2026, 6, 9), IST)
ROWS = 96
CONCURRENCY = 32
#: Head-end processes (one per core of this machine).
PROCESSES = 2
SEED = 9
TARGET = 500.0
GC_THRESHOLD = CollectionConfig().gc_threshold or 700
#: Meters materialised by the simulator at a time: every session builds its meter, as a
#: large fleet's would.
MAX_ACTIVE = CONCURRENCY * 4


def gmac_association(counters: InvocationCounterStore) -> Association:
    """The HLS-GMAC association of the simulated meters: utility settings, mechanism 5."""
    return Association.utility_settings(
        mechanism=MechanismName.HIGH_GMAC, hls_secret=None, counter_store=counters
    )


@attrs.frozen(kw_only=True)
class Pass:
    """One pass over the fleet: wall seconds and CPU seconds of each process."""

    meters: int
    wall: float
    cpu: float
    main_cpu: float
    """CPU seconds of the trio thread alone (the rest is the store's worker thread)."""
    simulator_cpu: float

    @property
    def rate(self) -> float:
        return self.meters / self.wall

    @property
    def cpu_ms(self) -> float:
        return 1e3 * self.cpu / self.meters

    @property
    def store_cpu_ms(self) -> float:
        return 1e3 * (self.cpu - self.main_cpu) / self.meters

    @property
    def simulator_cpu_ms(self) -> float:
        return 1e3 * self.simulator_cpu / self.meters


# -- the simulator process ---------------------------------------------------------------


def _fleet(meters: int) -> object:
    from simulators import Fleet, FleetLayout, MeterKeys

    return Fleet(
        FleetLayout(seed=SEED, meters=meters),
        keys=MeterKeys(hls_mechanism=MechanismName.HIGH_GMAC),
        clock=lambda: NOW,
        max_active=MAX_ACTIVE,
    )


def _cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _serve(meters: int) -> None:
    """Serve the fleet; print the port, then answer each line on stdin with this
    process's CPU seconds; stop at end of input."""
    from simulators import Fleet, serve_fleet_wrapper

    fleet = _fleet(meters)
    assert isinstance(fleet, Fleet)
    # as `dlmskit-sim fleet` serves: the cycle collector's young generation scanned every
    # 20,000 allocations, the fleet left out of its scans
    gc.freeze()
    gc.set_threshold(20_000, *gc.get_threshold()[1:])
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
        print(listeners[0].socket.getsockname()[1], flush=True)
        while await trio.to_thread.run_sync(sys.stdin.readline):
            print(f"{_cpu():.6f}", flush=True)
        nursery.cancel_scope.cancel()


class _Simulator:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        assert process.stdout is not None and process.stdin is not None
        self._out = process.stdout
        self._in = process.stdin
        line = self._out.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"the simulator did not start: {line!r}")
        self.port = int(line)

    def cpu(self) -> float:
        self._in.write("cpu\n")
        self._in.flush()
        return float(self._out.readline())


@contextlib.contextmanager
def _simulator(meters: int, profile: pathlib.Path | None = None) -> Iterator[_Simulator]:
    args = [sys.executable, __file__, "--serve", str(meters)]
    if profile is not None:
        args = [sys.executable, "-m", "cProfile", "-o", str(profile), *args[1:]]
    process = subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=HERE
    )
    try:
        yield _Simulator(process)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(timeout=30)


# -- the two clients ---------------------------------------------------------------------


def _inventory(meters: int, port: int) -> Inventory:
    from simulators import Fleet, FleetLayout

    plan = Fleet(FleetLayout(seed=SEED, meters=meters)).address_plan(port)
    return Inventory.from_address_plan([{**e, "transport": "gprs"} for e in plan])


async def head_end_pass(inventory: Inventory, counters: InvocationCounterStore, db: str) -> int:
    """The head-end collects one day of block load from every meter; sessions ok."""
    store = Store(db)
    try:
        schedule = Schedule(inventory, store)
        schedule.add_round(*DAY)
        config = CollectionConfig(
            concurrency=CONCURRENCY,
            cluster_limit=CONCURRENCY,
            read_daily=False,
            read_events=False,
            time_sync=False,
        )
        head_end = HeadEnd(
            inventory,
            store,
            connector=TcpConnector(),
            reader=lambda info: gmac_association(counters),
            counters=counters,
            config=config,
            clock=lambda: NOW,
        )
        await head_end.run(schedule, deadline=600)
        ok = sum(
            n for (_, outcome), n in head_end.metrics.sessions.items() if outcome == Outcome.OK
        )
        if head_end.metrics.readings < ok * ROWS:
            raise RuntimeError(f"{head_end.metrics.readings} readings from {ok} meters")
        return ok
    finally:
        store.close()


async def bare_pass(inventory: Inventory, counters: InvocationCounterStore, db: str) -> int:
    """The same sessions by the bare client: rows decoded, nothing validated or kept;
    the cycle collector tuned as in a head-end run, so only the head-end's work differs
    (``db`` is unused: the same signature as :func:`head_end_pass`)."""
    limiter = trio.CapacityLimiter(CONCURRENCY)
    link = CollectionConfig().link
    start, end = (t.astimezone(IST) for t in DAY)
    access = by_time_range(start, end - dt.timedelta(seconds=1), sign=DeviationSign.UTC_TO_LOCAL)
    ok = 0

    async def one(host: str, port: int) -> None:
        nonlocal ok
        async with (
            limiter,
            connect(
                f"tcp://{host}:{port}", association=gmac_association(counters), link=link
            ) as meter,
        ):
            await meter.read_clock()
            rows = await meter.get(7, BLOCK_LOAD, 2, access)
            if not isinstance(rows, Array) or len(rows) != ROWS:
                raise RuntimeError(f"{host}: not {ROWS} rows")
            ok += 1

    # the cycle collector as a head-end run has it (CollectionConfig.gc_threshold)
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(GC_THRESHOLD, threshold[0]), threshold[1], threshold[2])
    try:
        async with trio.open_nursery() as nursery:
            for info in inventory:
                nursery.start_soon(one, info.host, info.port)
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
    return ok


@attrs.frozen
class _ShardRun:
    """One head-end process's part of a pass: its shard of the fleet (picklable)."""

    kind: str
    meters: int
    port: int
    db: str
    counters: str

    def __call__(self, shard: Shard) -> tuple[int, float, float, float, float]:
        """(sessions ok, start, end on the shared monotonic clock, CPU, trio thread CPU)."""
        inventory = _inventory(self.meters, self.port).sharded(shard)
        fn = head_end_pass if self.kind == "head-end" else bare_pass
        with SqliteCounterStore(self.counters) as counters:
            cpu0, main0, start = time.process_time(), time.thread_time(), time.perf_counter()
            ok = trio.run(fn, inventory, counters, self.db)
            end = time.perf_counter()
            return ok, start, end, time.process_time() - cpu0, time.thread_time() - main0


def _timed(simulator: _Simulator, meters: int, kind: str, tmp: str) -> Pass:
    """One pass over the fleet by ``PROCESSES`` processes of ``kind``."""
    job = _ShardRun(
        kind=kind,
        meters=meters,
        port=simulator.port,
        db=str(pathlib.Path(tmp) / f"{kind}.db"),
        counters=str(pathlib.Path(tmp) / "counters.db"),
    )
    sim0 = simulator.cpu()
    parts = trio.run(run_processes, job, PROCESSES)
    sim = simulator.cpu() - sim0
    ok = sum(p[0] for p in parts)
    wall = max(p[2] for p in parts) - min(p[1] for p in parts)
    if ok != meters:
        raise RuntimeError(f"{ok} of {meters} sessions succeeded")
    return Pass(
        meters=meters,
        wall=wall,
        cpu=sum(p[3] for p in parts),
        main_cpu=sum(p[4] for p in parts),
        simulator_cpu=sim,
    )


def measure(meters: int) -> tuple[Pass, Pass]:
    """(head-end pass, bare client pass) over one simulator process."""
    ours, floor, _growth = _measure(meters, growth=False)
    return ours, floor


def _measure(meters: int, *, growth: bool) -> tuple[Pass, Pass, tuple[float, float] | None]:
    with tempfile.TemporaryDirectory() as tmp:
        with _simulator(meters) as simulator:
            ours = _timed(simulator, meters, "head-end", tmp)
            floor = _timed(simulator, meters, "bare", tmp)
        grown = store_growth(str(pathlib.Path(tmp) / "head-end.db"), tmp) if growth else None
    return ours, floor, grown


#: Days of readings the store holds before the day whose writes :func:`store_growth` times.
DAYS_HELD = 7
_DAY_SECONDS = 86_400


def store_growth(db: str, tmp: str) -> tuple[float, float]:
    """(CPU ms per meter, ms per meter) of writing a head-end pass's readings, in batches
    of the head-end's size, into an empty store and into one holding ``DAYS_HELD`` days
    of them: each day the same rows, their time stamps shifted by whole days. Readings
    are keyed meter first, so a day's writes land in every meter's part of the table."""
    with Store(db) as source:
        rows = source.query(
            "SELECT meter, channel, start, value, unit, quality, captured, received, source"
            " FROM readings ORDER BY meter, channel, start"
        )
    per_meter: dict[object, list[Any]] = {}
    for row in rows:
        per_meter.setdefault(row[0], []).append(row)
    size = CollectionConfig().batch
    meters = list(per_meter.values())
    batches = [meters[n : n + size] for n in range(0, len(meters), size)]

    def day(shift: int) -> list[list[Any]]:
        late = shift * _DAY_SECONDS
        return [
            [
                (m, c, s + late, v, u, q, None if t is None else t + late, r + late, k)
                for part in batch
                for m, c, s, v, u, q, t, r, k in part
            ]
            for batch in batches
        ]

    def timed(store: Store, shift: int) -> float:
        work = day(shift)
        start = time.process_time()
        for batch in work:
            store.put_reading_rows(batch)
        return 1e3 * (time.process_time() - start) / len(meters)

    with Store(pathlib.Path(tmp) / "empty.db") as store:
        empty = timed(store, 0)
    with Store(pathlib.Path(tmp) / "week.db") as store:
        for shift in range(DAYS_HELD):
            for batch in day(shift):
                store.put_reading_rows(batch)
        held = timed(store, DAYS_HELD)
        if store.count_readings() != (DAYS_HELD + 1) * len(rows):
            raise RuntimeError("the shifted days overlap: fewer readings than written")
    return held, empty


def profile(meters: int, out: pathlib.Path) -> Pass:
    """One head-end pass in this process, both processes under cProfile."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, _simulator(meters, out / "sim.prof") as simulator:
        inventory = _inventory(meters, simulator.port)
        profiler = cProfile.Profile()
        sim0 = simulator.cpu()
        cpu0, main0, wall0 = time.process_time(), time.thread_time(), time.perf_counter()
        profiler.enable()
        try:
            with SqliteCounterStore(pathlib.Path(tmp) / "counters.db") as counters:
                ok = trio.run(head_end_pass, inventory, counters, str(pathlib.Path(tmp) / "c.db"))
        finally:
            profiler.disable()
            profiler.dump_stats(out / "hes.prof")
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        main = time.thread_time() - main0
        if ok != meters:
            raise RuntimeError(f"{ok} of {meters} sessions succeeded")
        return Pass(
            meters=meters,
            wall=wall,
            cpu=cpu,
            main_cpu=main,
            simulator_cpu=simulator.cpu() - sim0,
        )


def run() -> list[Measurement]:
    meters = 100 if is_quick() else 1000
    ours, floor, grown = _measure(meters, growth=True)
    assert grown is not None
    held, empty = grown
    return [
        *measurements(meters, ours, floor),
        Measurement(
            name=f"store CPU per meter writing a day of {meters} meters' block load into a "
            f"store holding {DAYS_HELD} days",
            unit="ms CPU/meter",
            ours=held,
            peer_name="the same day into an empty store",
            peer=empty,
            higher_is_better=False,
            note="the collection figures above write into an empty store; readings are "
            "keyed meter first, so a day's rows land in every meter's part of the table",
        ),
    ]


def measurements(meters: int, ours: Pass, floor: Pass) -> list[Measurement]:
    """The rows of one run: head-end against the bare client, against the target, and
    the CPU per meter of the two processes."""
    name = (
        f"head-end collection, {meters} meters, {PROCESSES} processes "
        "(HLS-GMAC, 96-row block load, release)"
    )
    cpu_note = (
        f"CPU per meter: head-end {ours.cpu_ms:.2f} ms (store threads {ours.store_cpu_ms:.2f}), "
        f"simulator {ours.simulator_cpu_ms:.2f} ms "
        f"(bare client {floor.cpu_ms:.2f} ms, simulator {floor.simulator_cpu_ms:.2f} ms); "
        "simulator in its own process, all on the same cores"
    )
    return [
        Measurement(
            name=name,
            unit="meters/s",
            ours=ours.rate,
            peer_name=f"bare client sessions, {PROCESSES} processes (no validation, no store)",
            peer=floor.rate,
            target=0.5,
            note=cpu_note,
        ),
        Measurement(
            name=f"{name} against issue #10",
            unit="meters/s",
            ours=ours.rate,
            peer_name=f"target {TARGET:.0f} meters/s (a fixed figure)",
            peer=TARGET,
            target=1.0,
            note=f"head-end {1e3 / ours.cpu_ms:,.0f} meters per CPU second",
        ),
        Measurement(
            name=f"head-end CPU per meter, {meters} meters, {PROCESSES} processes "
            "(HLS-GMAC, 96-row block load)",
            unit="ms CPU/meter",
            ours=ours.cpu_ms,
            peer_name="the simulator's CPU per meter, same sessions",
            peer=ours.simulator_cpu_ms,
            higher_is_better=False,
            note=f"below 1: the head-end, not the simulator, bounds the rate; of the "
            f"head-end's {ours.cpu_ms:.2f} ms, {ours.store_cpu_ms:.2f} ms in the store's "
            "worker threads",
        ),
    ]


def _main(argv: list[str]) -> int:
    if argv[:1] == ["--serve"]:
        trio.run(_serve, int(argv[1]))
        return 0
    if argv[:1] == ["--profile"]:
        meters = int(argv[2]) if len(argv) > 2 else 500
        result = profile(meters, pathlib.Path(argv[1]))
        print(
            f"{result.rate:.1f} meters/s, head-end {result.cpu_ms:.2f} ms CPU/meter "
            f"(store thread {result.store_cpu_ms:.2f}), simulator "
            f"{result.simulator_cpu_ms:.2f} ms (both profiled)"
        )
        return 0
    if argv[:1] == ["--quick"]:
        from _harness import set_quick

        set_quick(True)
    for m in run():
        print(f"{m.name}: {m.ours:,.1f} {m.unit} vs {m.peer_name} {m.peer:,.1f} (x{m.ratio:.2f})")
        print(f"  {m.note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
