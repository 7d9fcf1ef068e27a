"""The pulled block load's rows: ``block_load_rows`` stores exactly what the readings path
(``validate_block_load``, the register readings, ``check_cumulative``) stores."""

from __future__ import annotations

import datetime as dt
import itertools
import pathlib
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlmskit.client import LinkSettings
from dlmskit.security import MemoryCounterStore
from hes import (
    CollectionConfig,
    HeadEnd,
    InterpolationPolicy,
    Inventory,
    MeterEventRecord,
    Metrics,
    Quality,
    Reading,
    ReadingSource,
    Schedule,
    Store,
    day_range,
    reading_row,
)
from hes._pull_rows import BlockLoadRows, block_load_rows
from hes._session import TcpConnector
from hes._validate import (
    IntervalColumns,
    IntervalRow,
    ValidationPolicy,
    check_cumulative,
    validate_block_load,
)
from simulators import (
    IST,
    FaultPlan,
    Fleet,
    FleetLayout,
    IntervalFaultRule,
    MeterFaultRule,
    serve_fleet_wrapper,
)

T0 = dt.datetime(2026, 12, 1, 18, 30, tzinfo=dt.UTC)
Q = dt.timedelta(minutes=15)
IMP, EXP, VOLT = "1.0.1.29.0.255", "1.0.2.29.0.255", "1.0.12.27.0.255"
APP, CUM, ODD = "1.0.9.29.0.255", "1.0.1.8.0.255", "not-an-obis"
REGISTERS = (CUM, "1.0.2.8.0.255", "1.0.9.8.0.255", "1.0.1.6.0.255")
RECEIVED = T0 + dt.timedelta(days=1, seconds=7)


def readings_path(
    meter: str,
    rows: Sequence[IntervalRow],
    registers: Mapping[dt.datetime, Mapping[str, float]],
    **kw: object,
) -> tuple[list[Reading], object]:
    """What the head-end kept for a session before the rows path: readings, then the
    register readings, then the monotonic check."""
    result = validate_block_load(
        meter,
        rows,
        registers=registers,
        received=RECEIVED,
        **kw,  # type: ignore[arg-type]
    )
    readings = list(result.readings)
    for when, values in registers.items():
        readings.extend(
            Reading(
                meter=meter,
                channel=channel,
                start=when,
                value=value,
                unit="",
                received=RECEIVED,
                source=ReadingSource.PULL,
            )
            for channel, value in values.items()
        )
    return check_cumulative(readings), result


values = st.one_of(
    st.none(),
    st.floats(min_value=-50, max_value=5000, allow_nan=False),
    st.sampled_from([0.0, 100.0, 100.0, 2000.0, float("nan")]),
)


@st.composite
def reads(draw: st.DrawFn, dense: bool = False) -> dict[str, object]:
    """A block load read with what the session learnt; ``dense``: every row has every
    channel, each channel one unit (what a session reads), else rows may differ."""
    channels = draw(
        st.lists(st.sampled_from([IMP, EXP, VOLT, APP, CUM, ODD]), min_size=0, max_size=6)
    )
    channels = list(dict.fromkeys(channels))
    units = {ch: draw(st.sampled_from(["Wh", "V", ""])) for ch in channels}
    n = draw(st.integers(0, 14))
    rows = []
    for _ in range(n):
        slot = draw(st.integers(-2, 12))
        skew = draw(st.sampled_from([0.0, 0.0, 0.0, 0.5, -0.9, 1.5, -40.0, 300.0, 0.01]))
        unit = st.sampled_from(["Wh", "V", ""])
        row_values = {ch: (draw(values), units[ch] if dense else draw(unit)) for ch in channels}
        drop: str | None = None
        if not dense:
            drop = draw(st.one_of(st.none(), st.none(), st.sampled_from(channels or [""])))
        row_values.pop(drop or "", None)
        rows.append(
            IntervalRow(
                captured=T0 + slot * Q + dt.timedelta(seconds=skew),
                clock_status=draw(st.sampled_from([None, 0, 0, 1, 0x80, 0x08])),
                values=row_values,
            )
        )
    if draw(st.booleans()):  # repeat some rows as read twice
        rows.extend(draw(st.lists(st.sampled_from(rows), max_size=3)) if rows else [])
    registers: dict[dt.datetime, dict[str, float]] = {}
    for slot in draw(st.lists(st.integers(-1, 12), max_size=4, unique=True)):
        names = draw(st.lists(st.sampled_from(REGISTERS), max_size=4, unique=True))
        when = T0 + slot * Q + dt.timedelta(seconds=draw(st.sampled_from([0, 0, 0.25])))
        registers[when] = {
            name: draw(st.floats(min_value=0, max_value=20000, allow_nan=False)) for name in names
        }
    events = [
        MeterEventRecord(
            meter="M",
            when=T0
            + draw(st.integers(-2, 13)) * Q
            + dt.timedelta(seconds=draw(st.integers(0, 899))),
            log=draw(st.sampled_from([1, 2, 4, 3])),
            code=draw(st.integers(1, 12)),
        )
        for _ in range(draw(st.integers(0, 5)))
    ]
    deviation = draw(st.sampled_from([None, 0, 5, -29, 31, -95, 600, -1800]))
    first = draw(st.integers(-1, 3))
    return {
        "rows": rows,
        "registers": registers,
        "start": T0 + first * Q + dt.timedelta(seconds=draw(st.sampled_from([0, 0, 30]))),
        "end": T0 + draw(st.integers(first + 1, 13)) * Q,
        "net_metered": draw(st.booleans()),
        "clock_deviation": None if deviation is None else dt.timedelta(seconds=deviation),
        "events": events,
        "source": draw(st.sampled_from([ReadingSource.PULL, ReadingSource.BACK_READ])),
        "policy": draw(
            st.sampled_from(
                [
                    ValidationPolicy(),
                    ValidationPolicy(spike_ratio=2.0, spike_floor=5.0, sum_resolution=0.01),
                    ValidationPolicy(alignment_tolerance=dt.timedelta(0)),
                ]
            )
        ),
    }


def columns_of(rows: Sequence[IntervalRow]) -> IntervalColumns:
    """Rows that all have the same channels with one unit each, as columns."""
    channels = list(rows[0].values) if rows else []
    return IntervalColumns(
        captured=[r.captured for r in rows],
        clock_status=[r.clock_status for r in rows],
        channels=channels,
        units=[rows[0].values[ch][1] for ch in channels],
        values=[[r.values[ch][0] for r in rows] for ch in channels],
    )


def key_order(rows: Sequence[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Rows sorted by (channel, interval start), rows of one key in the order given."""
    return sorted(rows, key=lambda r: (str(r[1]), int(r[2])))  # type: ignore[call-overload]


def in_key_order(rows: Sequence[tuple[object, ...]]) -> bool:
    """Each channel's rows together, by interval start (the store's key order)."""
    seen: list[object] = []
    for a, b in itertools.pairwise(rows):
        if a[1] == b[1]:
            if int(a[2]) > int(b[2]):  # type: ignore[call-overload]
                return False
        elif b[1] in seen:
            return False
        else:
            seen.append(a[1])
    return True


def same(expected: list[tuple[object, ...]], got: list[tuple[object, ...]]) -> bool:
    """Row lists equal, NaN equal to NaN."""
    if len(expected) != len(got):
        return False
    for a, b in zip(expected, got, strict=True):
        if len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            if x != y and not (x != x and y != y):
                return False
    return True


@settings(max_examples=200, deadline=None)
@given(reads())
def test_rows_equal_the_readings_path(read: dict[str, object]) -> None:
    rows = read.pop("rows")
    registers = read.pop("registers")
    assert isinstance(rows, list) and isinstance(registers, dict)
    readings, result = readings_path("M", rows, registers, **read)
    got = block_load_rows("M", rows, registers=registers, received=RECEIVED, **read)  # type: ignore[arg-type]
    assert isinstance(got, BlockLoadRows)
    assert in_key_order(got.rows)
    assert same(key_order([reading_row(r) for r in readings]), key_order(got.rows))
    newest: dict[str, int] = {}
    for row in got.rows:
        newest[row[1]] = max(newest.get(row[1], row[2]), row[2])
    assert got.newest == newest
    assert got.missing == result.missing  # type: ignore[attr-defined]
    assert got.flags == result.flags  # type: ignore[attr-defined]
    assert got.power_failures == result.power_failures  # type: ignore[attr-defined]


@settings(max_examples=200, deadline=None)
@given(reads(dense=True))
def test_columns_give_the_rows_of_the_readings_path(read: dict[str, object]) -> None:
    """A read given as columns (as a session reads it) gives the rows of the readings
    path, and the rows of the same read given as interval rows, in the same order."""
    rows = read.pop("rows")
    registers = read.pop("registers")
    assert isinstance(rows, list) and isinstance(registers, dict)
    readings, result = readings_path("M", rows, registers, **read)
    columns = columns_of(rows)
    assert columns.rows() == rows
    got = block_load_rows("M", columns, registers=registers, received=RECEIVED, **read)  # type: ignore[arg-type]
    assert in_key_order(got.rows)
    assert same(key_order([reading_row(r) for r in readings]), key_order(got.rows))
    assert same(
        list(block_load_rows("M", rows, registers=registers, received=RECEIVED, **read).rows),  # type: ignore[arg-type]
        list(got.rows),
    )
    assert got.missing == result.missing  # type: ignore[attr-defined]
    assert got.flags == result.flags  # type: ignore[attr-defined]
    assert got.power_failures == result.power_failures  # type: ignore[attr-defined]
    again = validate_block_load("M", columns, registers=registers, received=RECEIVED, **read)  # type: ignore[arg-type]
    assert same(
        [reading_row(r) for r in again.readings],
        [reading_row(r) for r in result.readings],  # type: ignore[attr-defined]
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.one_of(reads(), reads(dense=True).map(lambda r: {**r, "as_columns": True})),
        min_size=1,
        max_size=3,
    )
)
def test_the_store_keeps_the_same_table(batch: list[dict[str, object]]) -> None:
    """Several sessions of one meter (overlapping keys: duplicates, estimates aside) give
    the same table by either path, each session its own commit; a read a session would
    make (every row every channel) given as columns."""
    with tempfile.TemporaryDirectory() as tmp:
        one = Store(pathlib.Path(tmp) / "a.db")
        other = Store(pathlib.Path(tmp) / "b.db")
        try:
            for read in batch:
                rows = read.pop("rows")
                registers = read.pop("registers")
                assert isinstance(rows, list) and isinstance(registers, dict)
                given = columns_of(rows) if read.pop("as_columns", False) else rows
                readings, _result = readings_path("M", rows, registers, **read)
                got = block_load_rows("M", given, registers=registers, received=RECEIVED, **read)  # type: ignore[arg-type]
                one.put_readings(readings)
                other.put_reading_rows(got.rows)
            kept = one.query("SELECT * FROM readings ORDER BY meter, channel, start")
            assert same(kept, other.query("SELECT * FROM readings ORDER BY meter, channel, start"))
        finally:
            one.close()
            other.close()


def test_flags_shared_by_a_row_and_per_channel_checks() -> None:
    """A misaligned row flags each of its channels; a spike flags only its channel; a
    cumulative register below its predecessor is flagged non-monotonic."""
    rows = [
        IntervalRow(
            captured=T0 + n * Q + dt.timedelta(seconds=5 if n == 2 else 0),
            clock_status=0,
            values={IMP: (5000.0 if n == 3 else 10.0, "Wh"), VOLT: (230.0, "V")},
        )
        for n in range(6)
    ]
    registers = {T0: {CUM: 100.0}, T0 + 6 * Q: {CUM: 90.0}}
    got = block_load_rows(
        "M", rows, start=T0, end=T0 + 6 * Q, received=RECEIVED, registers=registers
    )
    quality = {(r[1], (r[2] - int(T0.timestamp())) // 900): r[5] for r in got.rows}
    assert quality[(VOLT, 2)] == Quality.MISALIGNED.value
    assert quality[(IMP, 2)] == " ".join([Quality.MISALIGNED.value, Quality.SUM_CHECK.value])
    assert quality[(IMP, 3)] == " ".join([Quality.SPIKE.value, Quality.SUM_CHECK.value])
    assert quality[(VOLT, 3)] == Quality.VALID.value
    assert quality[(CUM, 6)] == Quality.NON_MONOTONIC.value
    assert got.flags[Quality.MISALIGNED] == 2 and got.flags[Quality.SPIKE] == 1
    assert got.flags[Quality.SUM_CHECK] == 6
    assert got.missing == []


NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
FAULTS = FaultPlan(
    seed=5,
    interval=(
        IntervalFaultRule(kind="missing", meters=0.5, per_day=1.0, length=3),
        IntervalFaultRule(kind="spike", meters=0.5, per_day=1.0),
        IntervalFaultRule(kind="reverse", meters=0.5, per_day=1.0),
        IntervalFaultRule(kind="magnet", meters=0.5, per_day=1.0, length=2),
    ),
    meter=(MeterFaultRule(kind="clock_drift", meters=0.5, value=120.0),),
)


async def _collect(store: Store, config: CollectionConfig) -> Metrics:
    fleet = Fleet(FleetLayout(seed=4, meters=6), plan=FAULTS, clock=lambda: NOW)
    metrics = Metrics()
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
        port = int(listeners[0].socket.getsockname()[1])
        inventory = Inventory.from_address_plan(fleet.address_plan(port))
        head_end = HeadEnd(
            inventory,
            store,
            connector=TcpConnector(),
            counters=MemoryCounterStore(),
            config=config,
            clock=lambda: NOW,
            metrics=metrics,
        )
        schedule = Schedule(inventory, store, seed=1)
        schedule.add_round(*day_range(dt.date(2026, 6, 8), IST))
        schedule.add_round(*day_range(dt.date(2026, 6, 9), IST))
        await head_end.run(schedule, deadline=600.0)
        assert head_end.not_started == 0
        nursery.cancel_scope.cancel()
    return metrics


async def test_a_collection_run_stores_what_the_readings_path_stores(tmp_path: Path) -> None:
    """Faulty meters (gaps, spikes, reverse energy, tamper, clock drift) collected with
    daily registers and event logs: the rows path and the readings path (interpolation on,
    with nothing it may estimate) leave the same tables and count the same flags."""
    # timeouts far beyond a loaded 2-core machine's delays: both runs must read alike
    patient = LinkSettings(
        connect_timeout=60.0, response_timeout=60.0, release_timeout=30.0, retries=0
    )
    base = CollectionConfig(
        concurrency=4, cluster_limit=4, time_sync=False, link=patient, session_timeout=240.0
    )
    readings_path = attrs.evolve(
        base, interpolation=InterpolationPolicy(enabled=True, max_intervals=0)
    )
    with Store(tmp_path / "rows.db") as one, Store(tmp_path / "readings.db") as other:
        ours = await _collect(one, base)
        theirs = await _collect(other, readings_path)
        for table in ("readings", "events", "gaps"):
            sql = f"SELECT * FROM {table} ORDER BY 1, 2, 3"
            assert same(one.query(sql), other.query(sql)), table
        sql = "SELECT meter, kind, started, ended, outcome, rows, clock_deviation FROM sessions"
        assert sorted(one.query(sql)) == sorted(other.query(sql))
        kept = {q for r in one.readings() for q in r.quality}
        assert {Quality.SPIKE, Quality.REVERSE_ENERGY, Quality.TAMPER} <= kept
        assert Quality.CLOCK_DEVIATION in kept and one.gaps()
        assert ours.flags == theirs.flags and ours.readings == theirs.readings
        assert ours.lag_seconds == theirs.lag_seconds > 0


def test_columns_with_local_and_naive_stamps_give_the_rows_of_their_interval_rows() -> None:
    """Stamps in the meter's zone, or naive (taken as UTC), as a session may read them:
    the same rows as the interval rows made of the columns (which hold them in UTC)."""
    zone = dt.timezone(dt.timedelta(hours=5, minutes=30))
    stamps = [T0 + n * Q for n in range(8)]
    captured = [
        s.astimezone(zone) if n % 2 else s.replace(tzinfo=None) for n, s in enumerate(stamps)
    ]
    columns = IntervalColumns(
        captured=captured,
        clock_status=[0, 0, 0x80, 1, 0, 0, 0, 0],
        channels=[IMP, EXP, VOLT],
        units=["Wh", "Wh", "V"],
        values=[
            [10.0, 12.0, 9000.0, 11.0, 10.0, None, 13.0, 12.0],
            [0.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0],
            [230.0] * 8,
        ],
    )
    events = [
        MeterEventRecord(meter="M", when=T0 + 5 * Q, log=2, code=101),
        MeterEventRecord(meter="M", when=T0 + 6 * Q + dt.timedelta(seconds=1), log=2, code=102),
    ]
    kw: dict[str, object] = {
        "start": T0,
        "end": T0 + 8 * Q,
        "received": RECEIVED,
        "events": events,
        "registers": {T0: {CUM: 5.0}, T0 + 8 * Q: {CUM: 4.0}},
    }
    got = block_load_rows("M", columns, **kw)  # type: ignore[arg-type]
    assert same(list(got.rows), list(block_load_rows("M", columns.rows(), **kw).rows))  # type: ignore[arg-type]
    quality = {(r[1], (r[2] - int(T0.timestamp())) // 900): r[5] for r in got.rows}
    assert quality[(VOLT, 3)] == Quality.CLOCK_STATUS.value
    # the block energies do not add up to the register's (falling) difference
    assert set(quality[(IMP, 2)].split()) == {Quality.SPIKE.value, Quality.SUM_CHECK.value}
    assert quality[(IMP, 1)] == Quality.SUM_CHECK.value
    assert quality[(EXP, 4)] == Quality.REVERSE_ENERGY.value
    assert quality[(VOLT, 5)] == quality[(VOLT, 6)] == Quality.POWER_FAILURE.value
    assert quality[(CUM, 8)] == Quality.NON_MONOTONIC.value
    last = int(stamps[7].timestamp())
    assert got.newest == {IMP: last, EXP: last, VOLT: last, CUM: last + 900}
