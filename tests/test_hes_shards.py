"""Collection in one process per shard: the shards split the fleet, each process's
schedule and head-end see only their shard's gaps, real processes run the shards and
report their failures, invocation counters drawn by several processes never repeat,
and a fleet collected by two processes into one store holds what one process stores."""

from __future__ import annotations

import datetime as dt
import functools
import os
import time
from pathlib import Path

import attrs
import pytest
import trio

from dlmskit.security import MAX_INVOCATION_COUNTER, InvocationCounterExhausted
from hes import (
    CollectionConfig,
    Gap,
    GapState,
    HeadEnd,
    Inventory,
    MeterInfo,
    MeterScope,
    Outcome,
    Schedule,
    Shard,
    ShardFailed,
    SqliteCounterStore,
    Store,
    WorkKind,
    day_range,
    run_processes,
    shard_of,
)
from hes._session import TcpConnector
from simulators import IST, Fleet, FleetLayout, serve_fleet_wrapper

NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)


def _inventory(count: int) -> Inventory:
    return Inventory(MeterInfo(name=f"M{n:05d}", host="127.0.0.1") for n in range(count))


def test_shards_split_the_fleet() -> None:
    inventory = _inventory(300)
    parts = [inventory.sharded(Shard(i, 3)) for i in range(3)]
    names = [{m.name for m in part} for part in parts]
    assert set().union(*names) == {m.name for m in inventory}
    assert sum(len(n) for n in names) == len(inventory)
    assert all(len(n) > 60 for n in names)  # about 100 each
    for i, part in enumerate(parts):
        assert part.shard == Shard(i, 3)
        assert all(shard_of(m.name, 3) == i and part.shard.owns(m.name) for m in part)
    assert inventory.shard is None
    # the same meter, the same shard, in any process and run
    assert shard_of("M00042", 3) == shard_of("M00042", 3)
    assert {shard_of(m.name, 1) for m in inventory} == {0}
    with pytest.raises(ValueError):
        Shard(3, 3)
    with pytest.raises(ValueError):
        shard_of("M", 0)


def _gap(meter: str, hour: int) -> Gap:
    start = dt.datetime(2026, 6, 9, hour, tzinfo=dt.UTC)
    return Gap(meter=meter, profile="block_load", start=start, end=start + dt.timedelta(hours=1))


def test_each_shard_sees_its_own_gaps(tmp_path: Path) -> None:
    inventory = _inventory(40)
    with Store(tmp_path / "g.db") as store:
        store.open_gaps(_gap(m.name, n % 20) for n, m in enumerate(inventory))
        everything = {(g.meter, g.start) for g in store.due_gaps(NOW, 1000)}
        assert len(everything) == 40
        seen: set[tuple[str, dt.datetime]] = set()
        for i in range(2):
            shard = Shard(i, 2)
            part = inventory.sharded(shard)
            due = store.due_gaps(NOW, 1000, scope=part.scope)
            assert due and all(shard.owns(g.meter) for g in due)
            assert {g.meter for g in store.gaps(scope=part.scope)} == {g.meter for g in due}
            seen |= {(g.meter, g.start) for g in due}
            # a schedule over the shard's inventory plans back-reads of its meters only
            items = Schedule(part, store).due(NOW, 1000)
            assert {i.meter for i in items} == {g.meter for g in due}
            assert {i.kind for i in items} == {WorkKind.BACK_READ}
        assert seen == everything


def test_a_gap_of_a_meter_no_longer_listed_expires(tmp_path: Path) -> None:
    inventory = _inventory(3)
    with Store(tmp_path / "x.db") as store:
        # more due gaps of a meter gone from the fleet than a call asks for: they must not
        # keep the listed meters' back-reads waiting
        store.open_gaps(_gap("REMOVED", h) for h in range(8))
        store.open_gaps([_gap("M00001", 9)])
        schedule = Schedule(inventory, store)
        items = schedule.due(NOW, 4) + schedule.due(NOW, 4) + schedule.due(NOW, 4)
        assert [i.meter for i in items] == ["M00001"]
        assert {g.state for g in store.gaps(meter="REMOVED")} == {GapState.EXPIRED}
        assert len(schedule.expired) == 8


def test_scopes_pick_listed_meters_less_others(tmp_path: Path) -> None:
    inventory = _inventory(30)
    nat = {f"M{n:05d}" for n in (1, 5, 9, 22)}
    with Store(tmp_path / "s.db") as store:
        store.open_gaps(_gap(m.name, n % 20) for n, m in enumerate(inventory))
        # the process serving the meters behind NAT takes theirs only, however old the rest
        theirs = Schedule(inventory.only(nat), store).due(NOW, 2)
        theirs += Schedule(inventory.only(nat), store).due(NOW, 10)
        assert {i.meter for i in theirs} == nat
        for i in range(2):
            part = inventory.sharded(Shard(i, 2)).without(nat)
            assert part.shard == Shard(i, 2) and not nat & {m.name for m in part}
            due = store.due_gaps(NOW, 1000, scope=part.scope)
            assert {g.meter for g in due} == {m.name for m in part}
            assert all(part.scope.owns(g.meter) for g in due)
        # nothing of a scope's own is touched by another's schedule
        assert {g.state for g in store.gaps()} == {GapState.OPEN}
        assert MeterScope().whole and not inventory.only(nat).scope.whole


# -- real processes ---------------------------------------------------------------------


def _pid(shard: Shard) -> tuple[int, int]:
    return shard.index, os.getpid()


def _raise(shard: Shard) -> None:
    if shard.index == 1:
        raise LookupError("meter table missing in shard two")


def _die(shard: Shard) -> None:
    os._exit(3)


def _sleep(directory: str, shard: Shard) -> None:
    Path(directory, f"{shard.index}.pid").write_text(str(os.getpid()))
    time.sleep(60)


async def test_processes_run_the_shards() -> None:
    results = await run_processes(_pid, 3)
    assert [index for index, _pid in results] == [0, 1, 2]
    pids = {pid for _index, pid in results}
    assert len(pids) == 3 and os.getpid() not in pids


async def test_a_failing_shard_fails_the_run() -> None:
    with pytest.raises(ShardFailed, match="meter table missing in shard two") as failed:
        await run_processes(_raise, 2)
    assert failed.value.shard == Shard(1, 2)
    assert "LookupError" in failed.value.detail
    with pytest.raises(ShardFailed, match="exit code 3"):
        await run_processes(_die, 1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not running: its state letter in /proc is Z
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1][:1] != "Z"


async def test_a_cancelled_run_ends_its_processes(tmp_path: Path) -> None:
    with trio.move_on_after(30) as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_processes, functools.partial(_sleep, str(tmp_path)), 2)
            while len(list(tmp_path.glob("*.pid"))) < 2:
                await trio.sleep(0.05)
            nursery.cancel_scope.cancel()
    assert not scope.cancelled_caught
    pids = [int(p.read_text()) for p in tmp_path.glob("*.pid")]
    assert len(pids) == 2 and not any(_alive(pid) for pid in pids)


# -- counters shared by processes -------------------------------------------------------

TITLE = bytes.fromhex("4D4D4D0000BC614E")


def _draw(path: str, count: int, shard: Shard) -> list[int]:
    with SqliteCounterStore(path, reserve=100) as counters:
        return [counters.next(TITLE, 0) for _ in range(count)]


async def test_counters_never_repeat_across_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "ic.db")
    drawn = await run_processes(functools.partial(_draw, path, 2500), 2)
    for values in drawn:
        assert values == sorted(set(values))  # rising, no repeats
    every = [v for values in drawn for v in values]
    assert len(set(every)) == 5000
    with SqliteCounterStore(path, reserve=100) as again:
        assert again.peek(TITLE, 0) > max(every)
        assert again.next(TITLE, 0) > max(every)  # a restart never goes back
        assert again.peek(TITLE, 1) == 0


def test_counters_reset_and_run_out(tmp_path: Path) -> None:
    with SqliteCounterStore(tmp_path / "ic.db", reserve=10) as counters:
        assert [counters.next(TITLE, 0) for _ in range(3)] == [0, 1, 2]
        assert counters.peek(TITLE, 0) == 3
        counters.reset(TITLE, 0, 500)
        assert counters.next(TITLE, 0) == 500
        counters.reset(TITLE, 0, MAX_INVOCATION_COUNTER)
        assert counters.next(TITLE, 0) == MAX_INVOCATION_COUNTER
        with pytest.raises(InvocationCounterExhausted):
            counters.next(TITLE, 0)
        with pytest.raises(ValueError):
            counters.reset(TITLE, 0, -1)
    with pytest.raises(ValueError):
        SqliteCounterStore(tmp_path / "other.db", reserve=0)


# -- a fleet collected by two processes --------------------------------------------------

SEED = 21


def _plan_inventory(meters: int, port: int) -> Inventory:
    return Inventory.from_address_plan(
        Fleet(FleetLayout(seed=SEED, meters=meters)).address_plan(port)
    )


@attrs.frozen
class _Collect:
    meters: int
    port: int
    db: str
    counters: str
    day: tuple[dt.datetime, dt.datetime]

    def __call__(self, shard: Shard) -> dict[str, int]:
        return trio.run(self.collect, _plan_inventory(self.meters, self.port).sharded(shard))

    async def collect(self, inventory: Inventory) -> dict[str, int]:
        with Store(self.db) as store, SqliteCounterStore(self.counters) as counters:
            head_end = HeadEnd(
                inventory,
                store,
                connector=TcpConnector(),
                counters=counters,
                config=CollectionConfig(concurrency=8, time_sync=False),
            )
            schedule = Schedule(inventory, store, seed=1)
            schedule.add_round(*self.day)
            await head_end.run(schedule, deadline=60.0)
            return {
                f"{kind}:{outcome}": n for (kind, outcome), n in head_end.metrics.sessions.items()
            }


def _values(path: Path) -> dict[tuple[object, ...], object]:
    with Store(path) as store:
        rows = store.query("SELECT meter, channel, start, value FROM readings")
        return {row[:3]: row[3] for row in rows}


async def test_two_processes_store_what_one_process_stores(tmp_path: Path) -> None:
    meters = 16
    day = day_range((dt.datetime.now(IST) - dt.timedelta(days=1)).date(), IST)
    fleet = Fleet(FleetLayout(seed=SEED, meters=meters))
    counters = str(tmp_path / "counters.db")
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
        port = int(listeners[0].socket.getsockname()[1])
        shared = str(tmp_path / "shared.db")
        reports = await run_processes(_Collect(meters, port, shared, counters, day), 2)
        single = str(tmp_path / "single.db")
        alone = await trio.to_thread.run_sync(
            _Collect(meters, port, single, counters, day), Shard(0, 1)
        )
        nursery.cancel_scope.cancel()
    ok = f"{WorkKind.BLOCK_LOAD.value}:{Outcome.OK.value}"
    assert all(r.get(ok, 0) > 0 for r in reports)  # both processes collected
    assert sum(r.get(ok, 0) for r in reports) == meters == alone[ok]
    together, one = _values(Path(shared)), _values(Path(single))
    assert len({key[0] for key in together}) == meters
    assert len(together) >= meters * 96 * 6
    assert together == one
    with Store(shared) as store:
        sessions = [s for s in store.sessions() if s.kind is WorkKind.BLOCK_LOAD]
        assert sorted(s.meter for s in sessions) == sorted(
            m.name for m in _plan_inventory(meters, port)
        )


def test_a_store_takes_over_counters_kept_in_a_json_file(tmp_path: Path) -> None:
    from dlmskit.client import Association
    from dlmskit.security import FileCounterStore
    from hes._shard_run import open_counters

    reader = Association.meter_reader()
    db = tmp_path / "hes.db"
    old = FileCounterStore(db.with_suffix(".counters.json"), reserve=1)
    for _ in range(42):
        old.next(reader.system_title, 0)
    old.persist()
    with open_counters(db, reader) as counters:
        assert counters.next(reader.system_title, 0) == 42
    with open_counters(db, reader) as counters:  # taken over once, then only rising
        assert counters.next(reader.system_title, 0) > 42


def _open_fresh(directory: str, count: int, start_at: float, shard: Shard) -> int:
    """Open the same fresh files as the other processes at the same moment."""
    from hes import SqliteInboundQueue

    time.sleep(max(0.0, start_at - time.time()))
    for n in range(count):
        path = Path(directory, f"s{n}.db")
        with Store(path), SqliteCounterStore(path.with_suffix(".ic")) as counters:
            counters.next(TITLE, shard.index)
        SqliteInboundQueue(path).close()
    return count


async def test_processes_open_a_new_store_at_once(tmp_path: Path) -> None:
    # switching a new file to WAL mode takes a lock SQLite's busy timeout does not wait for
    opening = functools.partial(_open_fresh, str(tmp_path), 40, time.time() + 3.0)
    assert await run_processes(opening, 3) == [40] * 3


# -- metrics of several processes served as one -------------------------------------------


def _publish(path: str, shard: Shard) -> None:
    from hes import Metrics, MetricsBoard

    metrics = Metrics()
    for n in range(3 + shard.index):
        metrics.session("block_load", "ok", 0.2 * (n + 1))
    metrics.session("block_load", "timeout", 31.0)
    metrics.readings = 100 * (shard.index + 1)
    metrics.pushes["accepted"] = 7
    metrics.queue(5 + shard.index)
    metrics.lag_seconds = 60.0 * (shard.index + 1)
    with MetricsBoard(path) as board:
        board.publish(f"shard {shard}", metrics)


async def test_collection_processes_metrics_are_served_as_one(tmp_path: Path) -> None:
    from hes import Metrics, MetricsBoard, merge_metrics, serve_metrics

    path = str(tmp_path / "hes.metrics.db")
    await run_processes(functools.partial(_publish, path), 2)
    own = Metrics()
    own.pushes["accepted"] = 3
    with MetricsBoard(path) as board:
        snapshots = board.snapshots()
        assert sorted(snapshots) == ["shard 1/2", "shard 2/2"]
        shown = board.merged_with(own)
        assert shown == merge_metrics([own, *snapshots.values()])
        assert shown.sessions == {("block_load", "ok"): 7, ("block_load", "timeout"): 2}
        assert shown.readings == 300 and shown.pushes["accepted"] == 17
        assert shown.queue_depth == 11 and shown.max_queue_depth == 6
        assert shown.lag_seconds == 120.0
        assert shown.latency_count == 9 and shown.latency_buckets[-1] == 7  # 30 s bucket
        async with trio.open_nursery() as nursery:
            port = await nursery.start(serve_metrics, functools.partial(board.merged_with, own), 0)
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            await stream.send_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while chunk := await stream.receive_some(65536):
                answer += chunk
            nursery.cancel_scope.cancel()
        assert b'dlmskit_hes_sessions_total{kind="block_load",outcome="ok"} 7' in answer
        assert b"dlmskit_hes_readings_total 300" in answer
        board.clear()
        assert board.snapshots() == {}
