"""Head-end cost curve: CPU seconds and peak memory against fleet size.

For each fleet size (1,000, 10,000 and 100,000 meters) two fresh processes run: a
simulator serving the fleet over the TCP wrapper (one wildcard socket, one loopback
address per meter) and the reference head-end, :class:`hes.HeadEnd`, whose inventory is
the simulator's address plan. The head-end runs one block-load round over every meter
(meter-reader association with its monotonic counter, clock read, block-load profile by
range, validation, SQLite store; profile layouts learnt once per meter model), with
``CONCURRENCY`` sessions at a time; daily-profile and event-log reads, which a head-end
runs once a day rather than every round, are left out. The head-end process measures
its own CPU seconds (``resource.getrusage``, inventory loading included) and peak
resident memory (``ru_maxrss``), so the simulator's cost is not in the figures.

Span: every size reads the same ``SPAN_INTERVALS`` intervals (one hour, 4 rows) per
meter, not a whole day: a day for 100,000 meters (9.6 million rows) does not fit in one
``make bench`` on a 2-core machine. The same span at every size keeps the per-meter cost
comparable, which is what the curve checks: cost growing linearly means the CPU per
meter at 100,000 stays that of 1,000.

The curve is drawn to ``bench/cost_curve.png`` (matplotlib, the ``bench`` extra) from the
points kept in ``bench/cost_curve.json``; ``python bench/bench_scaling.py --plot`` redraws
it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import pathlib
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence

import attrs
import trio
from _harness import Measurement, is_quick

from hes import CollectionConfig, HeadEnd, Inventory, Outcome, Schedule, Store

HERE = pathlib.Path(__file__).resolve().parent
PLOT = HERE / "cost_curve.png"
#: The measured points of the last full run, so that ``--plot`` can redraw the curve.
POINTS = HERE / "cost_curve.json"
NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
SPAN_INTERVALS = 4
START = NOW - dt.timedelta(minutes=15 * SPAN_INTERVALS)
SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (20, 60, 180)
CONCURRENCY = 32
SEED = 5


@attrs.frozen(kw_only=True)
class CostPoint:
    """What collecting one fleet cost the head-end process."""

    meters: int
    sessions_ok: int
    readings: int
    cpu_seconds: float
    peak_rss_mb: float
    wall_seconds: float

    @property
    def cpu_ms_per_meter(self) -> float:
        return 1e3 * self.cpu_seconds / self.meters

    @property
    def meters_per_second(self) -> float:
        return self.meters / self.wall_seconds


# -- the simulator process ---------------------------------------------------------------


async def _serve_fleet(meters: int) -> None:
    from simulators import Fleet, FleetLayout, serve_fleet_wrapper

    fleet = Fleet(
        FleetLayout(seed=SEED, meters=meters),
        clock=lambda: NOW,
        max_active=CONCURRENCY * 4,
    )
    async with trio.open_nursery() as nursery:
        serve = functools.partial(serve_fleet_wrapper, fleet, 0, host="0.0.0.0", idle_timeout=30.0)
        listeners = await nursery.start(serve)
        print(listeners[0].socket.getsockname()[1], flush=True)


@contextlib.contextmanager
def _process(*args: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)


# -- the head-end process ----------------------------------------------------------------


async def collect(inventory: Inventory, store: Store) -> tuple[int, int]:
    """One block-load round over every meter of ``inventory`` with the reference
    head-end; (sessions that succeeded, readings stored)."""
    schedule = Schedule(inventory, store)
    schedule.add_round(START, NOW)
    config = CollectionConfig(concurrency=CONCURRENCY, read_daily=False, read_events=False)
    head_end = HeadEnd(inventory, store, config=config, clock=lambda: NOW)
    await head_end.run(schedule)
    ok = sum(n for (_, outcome), n in head_end.metrics.sessions.items() if outcome == Outcome.OK)
    return ok, head_end.metrics.readings


def _head_end(plan: pathlib.Path, meters: int) -> CostPoint:
    before = resource.getrusage(resource.RUSAGE_SELF)
    wall0 = time.perf_counter()
    inventory = Inventory.load(plan)
    if len(inventory) != meters:
        raise RuntimeError(f"the inventory has {len(inventory)} meters, not {meters}")
    store = Store(plan.with_name("hes.sqlite"), synchronous="NORMAL")
    try:
        ok, readings = trio.run(collect, inventory, store)
    finally:
        store.close()
    wall = time.perf_counter() - wall0
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return CostPoint(
        meters=meters,
        sessions_ok=ok,
        readings=readings,
        cpu_seconds=cpu,
        peak_rss_mb=after.ru_maxrss / 1024,
        wall_seconds=wall,
    )


# -- measuring ------------------------------------------------------------------------------


def cost_point(meters: int) -> CostPoint:
    """Collect a fleet of ``meters`` in fresh simulator and head-end processes."""
    from simulators import Fleet, FleetLayout

    with (
        tempfile.TemporaryDirectory() as tmp,
        _process("--serve", str(meters)) as simulator,
    ):
        assert simulator.stdout is not None
        line = simulator.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"the simulator did not start: {line!r}")
        # the simulator's address plan is the head-end's inventory (all cellular: TCP)
        plan = pathlib.Path(tmp) / "inventory.json"
        fleet = Fleet(FleetLayout(seed=SEED, meters=meters))
        entries = [{**e, "transport": "gprs"} for e in fleet.address_plan(int(line))]
        plan.write_text(json.dumps(entries))
        del entries
        with _process("--collect", str(plan), str(meters)) as head_end:
            out, _ = head_end.communicate(timeout=3600)
        if head_end.returncode != 0:
            raise RuntimeError(f"the head-end process failed ({head_end.returncode})")
    return CostPoint(**json.loads(out.strip().splitlines()[-1]))


def linear_fit(points: Sequence[CostPoint]) -> tuple[float, float]:
    """Least-squares CPU seconds = a + b x meters: (a, b)."""
    n = len(points)
    xs = [float(p.meters) for p in points]
    ys = [p.cpu_seconds for p in points]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    return my - b * mx, b


def plot(points: Sequence[CostPoint], path: pathlib.Path) -> bool:
    """Draw CPU seconds and peak memory against fleet size; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    sizes = [p.meters for p in points]
    a, b = linear_fit(points)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    left.loglog(sizes, [p.cpu_seconds for p in points], "o-", label="measured")
    left.loglog(
        sizes, [a + b * s for s in sizes], "--", label=f"linear fit, {1e3 * b:.2f} ms/meter"
    )
    left.set_xlabel("meters in the fleet")
    left.set_ylabel("head-end CPU seconds")
    left.set_title(f"CPU to read every meter once ({SPAN_INTERVALS} intervals)")
    left.legend()
    left.grid(True, which="both", alpha=0.3)
    memory = [p.peak_rss_mb for p in points]
    right.loglog(sizes, memory, "o-", color="C2", label="measured")
    # what linear growth from the smallest fleet's per-meter share would look like
    base = points[0]
    right.loglog(
        sizes,
        [base.peak_rss_mb * s / base.meters for s in sizes],
        ":",
        color="C7",
        label="proportional to the fleet",
    )
    right.set_xlabel("meters in the fleet")
    right.set_ylabel("peak resident memory, MB")
    right.set_title(f"head-end peak memory ({CONCURRENCY} sessions at a time)")
    right.legend()
    right.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def measurements(points: Sequence[CostPoint]) -> list[Measurement]:
    """The cost curve as measurements against the smallest fleet, same run."""
    base = points[0]
    a, b = linear_fit(points)
    out: list[Measurement] = []
    for p in points[1:]:
        out.append(
            Measurement(
                name=f"head-end CPU per meter, fleet of {p.meters:,} against {base.meters:,}",
                unit="ms CPU/meter",
                ours=p.cpu_ms_per_meter,
                peer_name=f"fleet of {base.meters:,}",
                peer=base.cpu_ms_per_meter,
                higher_is_better=False,
                target=0.8 if p is points[-1] else None,
                note=f"{p.meters_per_second:,.0f} meters/s collected, {p.readings:,} readings, "
                f"{p.cpu_seconds:.1f} s CPU; ratio 1 is linear growth; least-squares "
                f"{1e3 * b:.3f} ms/meter + {a:.2f} s",
            )
        )
    top = points[-1]
    out.append(
        Measurement(
            name=f"head-end collection capacity, fleet of {top.meters:,}",
            unit="meters per CPU second",
            ours=1e3 / top.cpu_ms_per_meter,
            peer_name="target 500 meters/s (a fixed figure)",
            peer=500.0,
            target=1.0,
            note=f"meters read per second of head-end CPU (one core); wall clock "
            f"{top.meters_per_second:,.0f} meters/s with the simulator on the same 2 cores",
        )
    )
    for p in points[1:]:
        out.append(
            Measurement(
                name=f"head-end peak memory, fleet of {p.meters:,} against {base.meters:,}",
                unit="MB",
                ours=p.peak_rss_mb,
                peer_name=f"fleet of {base.meters:,}",
                peer=base.peak_rss_mb,
                higher_is_better=False,
                note=f"hes.HeadEnd, {CONCURRENCY} sessions at a time, inventory of "
                f"{p.meters:,} meters in memory, SQLite store",
            )
        )
    return out


def run() -> list[Measurement]:
    sizes = QUICK_SIZES if is_quick() else SIZES
    points = []
    for meters in sizes:
        point = cost_point(meters)
        if point.sessions_ok != meters:
            raise RuntimeError(f"only {point.sessions_ok} of {meters} meters were read")
        points.append(point)
        print(
            f"  fleet of {meters:,}: {point.cpu_seconds:.1f} s CPU, "
            f"{point.peak_rss_mb:.0f} MB peak, {point.meters_per_second:,.0f} meters/s",
            flush=True,
        )
    if not is_quick():
        POINTS.write_text(json.dumps([attrs.asdict(p) for p in points], indent=1) + "\n")
        plot(points, PLOT)
    return measurements(points)


def _main(argv: list[str]) -> int:
    if argv[:1] == ["--serve"]:
        trio.run(_serve_fleet, int(argv[1]))
        return 0
    if argv[:1] == ["--plot"]:
        points = [CostPoint(**p) for p in json.loads(POINTS.read_text())]
        return 0 if plot(points, PLOT) else 1
    if argv[:1] == ["--collect"]:
        point = _head_end(pathlib.Path(argv[1]), int(argv[2]))
        print(json.dumps(attrs.asdict(point)), flush=True)
        return 0
    for m in run():
        print(f"{m.name}: {m.ours:,.3f} {m.unit} vs {m.peer_name} {m.peer:,.3f} ({m.ratio:.3g}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
