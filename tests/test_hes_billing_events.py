"""Billing and events-only rounds: the billing profile (1.0.98.1.0.255) read by the
billing date into readings stamped at the local month start, agreeing with the daily
profile's register at that midnight; an events-only round stores the event logs without
reading the block load profile; neither kind opens block load gaps, even when it fails."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import trio

from dlmskit.security import MemoryCounterStore
from hes import Outcome, ReadingSource, Store, WorkKind
from hes._engine import CollectionConfig, HeadEnd
from hes._inventory import Inventory, MeterInfo
from hes._schedule import Schedule
from hes._session import TcpConnector
from simulators import IST, FaultPlan, Fleet, FleetLayout, IntervalFaultRule, serve_fleet_wrapper

ENERGY = "1.0.1.8.0.255"


async def _run(
    fleet: Fleet, store: Store, kind: WorkKind, start: dt.datetime, end: dt.datetime
) -> Inventory:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
        port = int(listeners[0].socket.getsockname()[1])
        plan = list(Inventory.from_address_plan(fleet.address_plan(port)))
        inventory = Inventory([*plan, MeterInfo(name="GONE", host="127.0.0.1", port=1)])
        config = CollectionConfig(time_sync=False, read_events=False, session_timeout=5.0)
        head_end = HeadEnd(
            inventory, store, connector=TcpConnector(), counters=MemoryCounterStore(), config=config
        )
        schedule = Schedule(inventory, store, seed=1)
        schedule.add_round(start, end, kind)
        await head_end.run(schedule, deadline=20.0)
        nursery.cancel_scope.cancel()
    return inventory


async def test_billing_round_reads_the_billing_profile(tmp_path: Path) -> None:
    fleet = Fleet(FleetLayout(seed=5, meters=2))
    now = dt.datetime.now(dt.UTC)
    with Store(tmp_path / "b.db") as store:
        await _run(fleet, store, WorkKind.BILLING, now - dt.timedelta(days=70), now)
        sessions = {s.meter: s for s in store.sessions()}
        assert {s.kind for s in sessions.values()} == {WorkKind.BILLING}
        assert sessions["GONE"].outcome is Outcome.TRANSPORT
        assert store.gaps() == []  # a failed billing read is not a block load gap
        readings = list(store.readings())
        assert readings and all(r.source is ReadingSource.PULL for r in readings)
        starts = {r.start.astimezone(IST) for r in readings}
        # billing dates of the last 70 days: local month starts (two or three of them)
        assert 2 <= len(starts) <= 3
        assert all((s.day, s.hour, s.minute) == (1, 0, 0) for s in starts)
        energy = [r for r in readings if r.channel == ENERGY]
        assert len(energy) == 2 * len(starts) and all(r.unit == "Wh" for r in energy)
        for meter in {r.meter for r in energy}:
            values = [
                r.value or 0.0 for r in sorted(energy, key=lambda r: r.start) if r.meter == meter
            ]
            assert values == sorted(values) and values[0] < values[-1]
        assert sessions[energy[0].meter].outcome is Outcome.OK
        assert sessions[energy[0].meter].rows >= len(starts)

        # the daily profile's register at that midnight agrees with the billing value
        latest = max(starts)
        day = dt.datetime.combine(latest.date(), dt.time(), IST)
        await _run(fleet, store, WorkKind.BLOCK_LOAD, day, day + dt.timedelta(days=1))
        stored = [
            r for r in store.readings(channel=ENERGY, start=day, end=day + dt.timedelta(minutes=1))
        ]
        assert len(stored) == 2 and all(not r.quality for r in stored)


async def test_events_only_round_reads_no_block_load(tmp_path: Path) -> None:
    plan = FaultPlan(
        seed=3, interval=(IntervalFaultRule(kind="missing", meters=1.0, per_day=1.0, length=2),)
    )
    fleet = Fleet(FleetLayout(seed=5, meters=2), plan=plan)
    end = dt.datetime.now(dt.UTC)
    with Store(tmp_path / "e.db") as store:
        inventory = await _run(fleet, store, WorkKind.EVENTS, end - dt.timedelta(days=2), end)
        sessions = {s.meter: s for s in store.sessions()}
        assert {s.kind for s in sessions.values()} == {WorkKind.EVENTS}
        assert sessions["GONE"].outcome is Outcome.TRANSPORT
        assert store.gaps() == []
        assert store.count_readings() == 0  # no block load, no daily profile
        events = store.events()
        simulated = {m.name for m in inventory if m.name != "GONE"}
        assert {e.meter for e in events} == simulated
        assert all(sessions[m].outcome is Outcome.OK for m in simulated)
        # the power failures appear as occurrence/restoration pairs in the power log
        power = [e for e in events if e.log == 2]
        assert any(e.code % 2 == 1 for e in power) and any(e.code % 2 == 0 for e in power)
