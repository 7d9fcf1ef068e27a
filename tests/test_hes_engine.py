"""The collection engine with misbehaving meters: one that answers garbage, one that
accepts the connection and never answers, one that is not there; the good meters are
collected on time, the bad ones end in their own outcome and a gap, and the cluster
limit holds."""

from __future__ import annotations

import datetime as dt
import gc
import time
from pathlib import Path

import attrs
import trio

from dlmskit.security import MemoryCounterStore
from hes import GapState, Outcome, Quality, Store, WorkItem, WorkKind
from hes._engine import CollectionConfig, HeadEnd, day_range
from hes._inventory import Inventory, MeterInfo
from hes._metrics import Metrics
from hes._schedule import Schedule
from hes._session import TcpConnector
from simulators import IST, Fleet, FleetLayout, serve_fleet_wrapper


async def _garbage(stream: trio.SocketStream) -> None:
    with trio.move_on_after(5):
        await stream.receive_some(4096)
        await stream.send_all(b"\x00\x01\x00\x01\x00\x01\x00\x05garbage in, garbage out")
        await trio.sleep(5)


async def _stall(stream: trio.SocketStream) -> None:
    await trio.sleep(30)


async def test_bad_meters_do_not_stall_the_good_ones(tmp_path: Path) -> None:
    fleet = Fleet(FleetLayout(seed=9, meters=6))
    start, end = day_range((dt.datetime.now(IST) - dt.timedelta(days=1)).date(), IST)
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
        port = int(listeners[0].socket.getsockname()[1])
        bad = {}
        for name, handler in (("GARBAGE", _garbage), ("STALL", _stall)):
            found = await nursery.start(trio.serve_tcp, handler, 0)
            bad[name] = int(found[0].socket.getsockname()[1])
        plan = fleet.address_plan(port)
        for entry in plan:
            entry["cell"] = 1  # one cell: the cluster limit applies to all of them
        meters = list(Inventory.from_address_plan(plan))
        meters += [
            MeterInfo(name="GARBAGE", host="127.0.0.1", port=bad["GARBAGE"], cell="1"),
            MeterInfo(name="STALL", host="127.0.0.1", port=bad["STALL"], cell="1"),
            MeterInfo(name="GONE", host="127.0.0.1", port=1, cell="1"),
        ]
        inventory = Inventory(meters)
        config = CollectionConfig(concurrency=8, cluster_limit=3, session_timeout=3.0)
        metrics = Metrics()
        with Store(tmp_path / "e.db") as store:
            head_end = HeadEnd(
                inventory,
                store,
                connector=TcpConnector(),
                counters=MemoryCounterStore(),
                config=config,
                metrics=metrics,
            )
            schedule = Schedule(inventory, store, seed=1)
            schedule.add_round(start, end)
            began = time.perf_counter()
            await head_end.run(schedule, deadline=20.0)
            elapsed = time.perf_counter() - began
            sessions = {s.meter: s for s in store.sessions() if s.kind is WorkKind.BLOCK_LOAD}
            assert {sessions[m.name].outcome for m in inventory if m.name.startswith("SIM")} == {
                Outcome.OK
            }
            assert sessions["GARBAGE"].outcome in (Outcome.GARBAGE, Outcome.TRANSPORT)
            assert sessions["STALL"].outcome is Outcome.TIMEOUT
            assert sessions["GONE"].outcome is Outcome.TRANSPORT
            # the bad meters cost their own timeouts only: not one per meter in a row
            assert elapsed < 3 * config.session_timeout
            assert head_end.max_cluster_busy["cell:1"] <= 3
            gaps = {g.meter: g for g in store.gaps(state=GapState.OPEN)}
            assert {"GARBAGE", "STALL", "GONE"} <= set(gaps)
            assert gaps["STALL"].next_try is not None  # a back-read is planned
            good = store.count_readings(meter=fleet.identity(0).name)
            assert good >= 96 * 6
            flags = {q for r in store.readings() for q in r.quality}
            assert Quality.DUPLICATE not in flags
            assert metrics.sessions[("block_load", "ok")] == 6
        nursery.cancel_scope.cancel()


async def test_a_closed_window_leaves_open_gaps_not_silence(tmp_path: Path) -> None:
    fleet = Fleet(FleetLayout(seed=9, meters=4))
    start, end = day_range((dt.datetime.now(IST) - dt.timedelta(days=1)).date(), IST)
    inventory = Inventory.from_address_plan(fleet.address_plan(4059))
    with Store(tmp_path / "w.db") as store:
        head_end = HeadEnd(inventory, store, connector=TcpConnector())
        schedule = Schedule(inventory, store)
        schedule.add_round(start, end)
        await head_end.run(schedule, deadline=0.0)
        assert head_end.not_started == 4 and schedule.pending == 0
        gaps = store.gaps(state=GapState.OPEN)
        assert {g.meter for g in gaps} == {m.name for m in inventory}
        assert all(g.detail.startswith("not started") for g in gaps)
        assert store.sessions() == []


async def test_billing_items_left_unstarted_are_not_block_load_gaps(tmp_path: Path) -> None:
    fleet = Fleet(FleetLayout(seed=9, meters=3))
    start, end = day_range((dt.datetime.now(IST) - dt.timedelta(days=1)).date(), IST)
    inventory = Inventory.from_address_plan(fleet.address_plan(4059))
    with Store(tmp_path / "b.db") as store:
        head_end = HeadEnd(inventory, store, connector=TcpConnector())
        schedule = Schedule(inventory, store)
        schedule.add_round(start, end, WorkKind.BILLING)
        schedule.add_round(start, end, WorkKind.EVENTS)
        await head_end.run(schedule, deadline=0.0)
        assert head_end.not_started == 6 and schedule.pending == 0
        assert store.gaps() == []


async def test_a_run_tunes_the_cycle_collector_and_puts_it_back(tmp_path: Path) -> None:
    fleet = Fleet(FleetLayout(seed=9, meters=3))
    start, end = day_range((dt.datetime.now(IST) - dt.timedelta(days=1)).date(), IST)
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    seen: list[tuple[tuple[int, int, int], int]] = []

    class Watched(Schedule):
        def due(self, now: dt.datetime, limit: int) -> list[WorkItem]:
            seen.append((gc.get_threshold(), gc.get_freeze_count()))
            return super().due(now, limit)

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
        port = int(listeners[0].socket.getsockname()[1])
        inventory = Inventory.from_address_plan(fleet.address_plan(port))
        with Store(tmp_path / "g.db") as store:
            config = CollectionConfig(read_daily=False, read_events=False, gc_threshold=30_000)
            head_end = HeadEnd(inventory, store, counters=MemoryCounterStore(), config=config)
            schedule = Watched(inventory, store)
            schedule.add_round(start, end)
            await head_end.run(schedule, deadline=20.0)
            assert head_end.metrics.sessions[(WorkKind.BLOCK_LOAD.value, Outcome.OK.value)] == 3
            # untuned: the thresholds stay as they are during the run
            untouched = Watched(inventory, store)
            untouched.add_round(start, end)
            plain = HeadEnd(
                inventory,
                store,
                counters=head_end.counters,
                config=attrs.evolve(config, gc_threshold=None),
            )
            await plain.run(untouched, deadline=20.0)
        nursery.cancel_scope.cancel()
    assert seen[0][0] == (30_000, before[1], before[2]) and seen[0][1] > frozen
    assert seen[-1] == (before, frozen)
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen


async def test_objects_the_application_froze_stay_frozen(tmp_path: Path) -> None:
    fleet = Fleet(FleetLayout(seed=9, meters=2))
    start, end = day_range((dt.datetime.now(IST) - dt.timedelta(days=1)).date(), IST)
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
            port = int(listeners[0].socket.getsockname()[1])
            inventory = Inventory.from_address_plan(fleet.address_plan(port))
            with Store(tmp_path / "f.db") as store:
                config = CollectionConfig(read_daily=False, read_events=False)
                head_end = HeadEnd(inventory, store, counters=MemoryCounterStore(), config=config)
                schedule = Schedule(inventory, store)
                schedule.add_round(start, end)
                await head_end.run(schedule, deadline=20.0)
            nursery.cancel_scope.cancel()
        # still frozen (a few frozen objects may have been freed by reference counting)
        assert gc.get_freeze_count() > frozen // 2
    finally:
        gc.unfreeze()
