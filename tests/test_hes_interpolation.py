"""Interpolation in the collection engine: runs a block load read lacked are estimated
only where the policy allows (enabled, short runs, neighbours on both sides), flagged
estimated with source ESTIMATE, left open in the gap ledger; the back-read's real rows
replace the estimates. An estimate never overwrites a real reading."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import trio

from dlmskit.security import MemoryCounterStore
from hes import (
    GapState,
    InterpolationPolicy,
    Quality,
    Reading,
    ReadingSource,
    Store,
    estimate_missing,
)
from hes._engine import CollectionConfig, HeadEnd, day_range
from hes._inventory import Inventory
from hes._schedule import Schedule
from hes._session import TcpConnector
from simulators import IST, FaultPlan, Fleet, FleetLayout, IntervalFaultRule, serve_fleet_wrapper

Q = dt.timedelta(minutes=15)
ENERGY = "1.0.1.29.0.255"


def _config(policy: InterpolationPolicy) -> CollectionConfig:
    return CollectionConfig(
        read_daily=False, read_events=False, time_sync=False, interpolation=policy
    )


async def _collect(
    fleet: Fleet,
    store: Store,
    config: CollectionConfig,
    start: dt.datetime,
    end: dt.datetime,
    *,
    round_: bool,
) -> None:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
        port = int(listeners[0].socket.getsockname()[1])
        inventory = Inventory.from_address_plan(fleet.address_plan(port))
        head_end = HeadEnd(
            inventory, store, connector=TcpConnector(), counters=MemoryCounterStore(), config=config
        )
        schedule = Schedule(inventory, store, seed=1)
        if round_:
            schedule.add_round(start, end)
        await head_end.run(schedule, deadline=20.0)
        nursery.cancel_scope.cancel()


async def test_estimates_fill_short_runs_and_a_back_read_replaces_them(tmp_path: Path) -> None:
    layout = FleetLayout(seed=11, meters=2)
    plan = FaultPlan(
        seed=3,
        interval=(IntervalFaultRule(kind="missing", meters=1.0, per_day=1.0, length=2),),
    )
    start, end = day_range((dt.datetime.now(IST) - dt.timedelta(days=1)).date(), IST)
    policy = InterpolationPolicy(enabled=True, max_intervals=2, channels=frozenset({ENERGY}))
    with Store(tmp_path / "i.db") as store:
        await _collect(Fleet(layout, plan=plan), store, _config(policy), start, end, round_=True)
        estimated = [r for r in store.readings() if r.source is ReadingSource.ESTIMATE]
        assert estimated, "the fault plan leaves runs of two intervals to estimate"
        assert all(r.channel == ENERGY for r in estimated)
        assert all(r.quality == frozenset({Quality.ESTIMATED}) for r in estimated)
        real = [r for r in store.readings(channel=ENERGY) if r.source is ReadingSource.PULL]
        for r in estimated:  # between the real readings on both sides of its run
            before = max(
                (x for x in real if x.meter == r.meter and x.start < r.start), key=lambda x: x.start
            )
            after = min(
                (x for x in real if x.meter == r.meter and x.start > r.start), key=lambda x: x.start
            )
            assert after.start - before.start <= 3 * Q
            low, high = sorted((before.value or 0.0, after.value or 0.0))
            assert r.value is not None and low <= r.value <= high
        gaps = store.gaps()
        for r in estimated:  # each estimate lies in a gap the ledger still holds
            assert any(g.meter == r.meter and g.start <= r.start < g.end for g in gaps)

        # the back-reads fall due; the same meters without the fault answer with real rows
        now = dt.datetime.now(dt.UTC)
        for gap in gaps:
            assert gap.state is GapState.OPEN and gap.attempts == 0
            store.update_gap(attrs.evolve(gap, next_try=now))
        await _collect(Fleet(layout), store, _config(policy), start, end, round_=False)
        stored = {r.key: r for r in store.readings()}
        for r in estimated:
            read = stored[r.key]
            assert read.source is ReadingSource.BACK_READ
            assert Quality.ESTIMATED not in read.quality
        assert not [r for r in stored.values() if r.source is ReadingSource.ESTIMATE]
        assert {g.state for g in store.gaps()} == {GapState.FILLED}


async def test_disabled_policy_estimates_nothing(tmp_path: Path) -> None:
    layout = FleetLayout(seed=11, meters=1)
    plan = FaultPlan(
        seed=3,
        interval=(IntervalFaultRule(kind="missing", meters=1.0, per_day=1.0, length=2),),
    )
    start, end = day_range((dt.datetime.now(IST) - dt.timedelta(days=1)).date(), IST)
    with Store(tmp_path / "d.db") as store:
        config = _config(InterpolationPolicy())
        await _collect(Fleet(layout, plan=plan), store, config, start, end, round_=True)
        assert store.gaps()
        assert not [r for r in store.readings() if r.source is ReadingSource.ESTIMATE]


T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def _reading(n: int, value: float, source: ReadingSource = ReadingSource.PULL) -> Reading:
    return Reading(meter="M", channel=ENERGY, start=T0 + n * Q, value=value, source=source)


def test_estimate_missing_is_bounded_and_needs_both_sides() -> None:
    policy = InterpolationPolicy(enabled=True, max_intervals=2)
    read = [_reading(0, 10.0), _reading(3, 40.0), _reading(4, 50.0), _reading(8, 90.0)]
    found = estimate_missing(
        read, [(T0 + Q, T0 + 3 * Q), (T0 + 5 * Q, T0 + 8 * Q), (T0 + 9 * Q, T0 + 10 * Q)], policy
    )
    # only the two-interval run: the three-interval run is too long, the last has no right side
    assert [(r.start, r.value) for r in found] == [(T0 + Q, 20.0), (T0 + 2 * Q, 30.0)]
    assert estimate_missing(read, [(T0 + Q, T0 + 3 * Q)], InterpolationPolicy()) == []


def test_an_estimate_never_overwrites_a_real_reading(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.put_readings([_reading(1, 25.0, ReadingSource.PUSH)])
        estimate = Reading(
            meter="M",
            channel=ENERGY,
            start=T0 + Q,
            value=20.0,
            quality=frozenset({Quality.ESTIMATED}),
            source=ReadingSource.ESTIMATE,
        )
        store.put_readings([estimate])
        (kept,) = store.readings()
        assert kept.value == 25.0 and kept.source is ReadingSource.PUSH
        assert kept.quality == frozenset()
