"""Reads queued for meters behind NAT survive a restart: the SQLite queue keeps them in
its own table of the store's file (WAL mode, its own connection); after a restart (new
objects on the same file) the queued read runs when the meter dials in, over its link."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
import trio

from dlmskit.client import listen
from dlmskit.errors import DlmsError
from dlmskit.security import MemoryCounterStore
from hes import (
    CollectionConfig,
    HeadEnd,
    InboundSessions,
    Inventory,
    Outcome,
    PushIngest,
    ReadingSource,
    Store,
    WorkItem,
    WorkKind,
    day_range,
    push_keys,
)
from hes._inbound_queue import MemoryInboundQueue, SqliteInboundQueue
from hes._ports import InboundQueue
from hes._session import LayoutCache
from simulators import (
    BLOCK_LOAD_PUSH,
    DEFAULT_AK,
    DEFAULT_EK,
    IST,
    Fleet,
    FleetLayout,
    LinkStats,
    SimulatedMeter,
    notification,
    run_session,
)
from transports import open_tcp_wrapper

T0 = dt.datetime(2026, 12, 1, 18, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def _item(meter: str, kind: WorkKind = WorkKind.BLOCK_LOAD, days: int = 0) -> WorkItem:
    start = T0 + days * DAY
    return WorkItem(meter=meter, kind=kind, start=start, end=start + DAY)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_queue_operations(tmp_path: Path, kind: str) -> None:
    queue: InboundQueue
    queue = MemoryInboundQueue() if kind == "memory" else SqliteInboundQueue(tmp_path / "q.db")
    assert isinstance(queue, InboundQueue)
    a1, a2, b1 = _item("A"), _item("A", WorkKind.EVENTS), _item("B", days=1)
    for item in (a1, a2, b1, a1):  # a second put of the same item is ignored
        queue.put(item)
    assert queue.items("A") == [a1, a2] and queue.items("B") == [b1]
    assert queue.items("C") == []
    assert queue.count() == 3 and queue.count("A") == 2 and queue.count("C") == 0
    assert queue.meters() == ["A", "B"]
    queue.remove(a1)
    queue.remove(a1)  # removing twice is harmless
    assert queue.items("A") == [a2] and queue.count() == 2
    queue.remove(b1)
    assert queue.meters() == ["A"]
    # microseconds and attempts survive the round trip
    odd = WorkItem(
        meter="A",
        kind=WorkKind.BILLING,
        start=T0 + dt.timedelta(microseconds=7),
        end=T0 + DAY,
        attempt=2,
    )
    queue.put(odd)
    assert queue.items("A") == [a2, odd]
    if isinstance(queue, SqliteInboundQueue):
        queue.close()


def test_sqlite_queue_shares_the_store_file_and_survives_reopening(tmp_path: Path) -> None:
    db = tmp_path / "hes.db"
    with Store(db) as store, SqliteInboundQueue(db) as queue:
        queue.put(_item("A"))
        store.open_gaps([])
        assert queue.count() == 1
    # a new process: new objects on the same file
    with SqliteInboundQueue(db) as queue, Store(db) as store:
        assert queue.items("A") == [_item("A")]
        assert store.gaps() == []
    plain = sqlite3.connect(db)
    try:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in plain.execute("SELECT name FROM sqlite_master")}
        assert {"inbound_queue", "readings"} <= tables
    finally:
        plain.close()
    with pytest.raises(ValueError):
        SqliteInboundQueue(db, synchronous="OFF")  # type: ignore[arg-type]


METER_WPORT, PUSH_WPORT, READER_SAP = 0x01, 0x40, 0x20


async def _dial(meter: SimulatedMeter, port: int, stats: LinkStats) -> None:
    """The meter's side: connect, push, then answer the head-end until it hangs up."""
    link = await open_tcp_wrapper(
        "127.0.0.1", port, client_wport=METER_WPORT, server_wport=PUSH_WPORT
    )
    try:
        await link.send_apdu(notification(meter, BLOCK_LOAD_PUSH))
        await run_session(
            meter, READER_SAP, None, link.receive_apdu, link.send_apdu, stats, idle_timeout=10
        )
    except DlmsError:
        pass  # the head-end closed the link when its reads were done
    finally:
        await link.aclose()


def _head_end(fleet: Fleet, db: Path) -> tuple[Inventory, Store, HeadEnd, PushIngest]:
    inventory = Inventory.from_address_plan(fleet.address_plan(4059))
    store = Store(db)
    config = CollectionConfig(time_sync=False, read_daily=False)
    head_end = HeadEnd(inventory, store, counters=MemoryCounterStore(), config=config)
    ingest = PushIngest(store, inventory=inventory, layouts=LayoutCache())
    return inventory, store, head_end, ingest


async def test_a_queued_read_survives_a_restart_and_runs_when_the_meter_calls(
    tmp_path: Path,
) -> None:
    fleet = Fleet(FleetLayout(seed=8, meters=2))
    db = tmp_path / "hes.db"
    target = fleet.identity(1).name
    start, end = day_range((dt.datetime.now(IST) - DAY).date(), IST)
    read = WorkItem(meter=target, kind=WorkKind.BLOCK_LOAD, start=start, end=end)

    # first life: the read is queued, nobody calls, the head-end stops
    inventory, store, head_end, ingest = _head_end(fleet, db)
    keys = push_keys(inventory, lambda meter: (DEFAULT_EK, DEFAULT_AK))
    with store, SqliteInboundQueue(db) as queue:
        async with listen(keys, host="127.0.0.1", tcp_port=None, udp_port=None) as listener:
            inbound = InboundSessions(head_end, listener, ingest, queue=queue)
            inbound.queue(read)
            assert inbound.queued(target) == 1
    del inbound, head_end

    # second life: new objects on the same file; the meter calls
    inventory, store, head_end, ingest = _head_end(fleet, db)
    with store, SqliteInboundQueue(db) as queue:
        assert queue.items(target) == [read]
        async with (
            listen(keys, host="127.0.0.1", tcp_port=None, udp_port=None) as listener,
            trio.open_nursery() as nursery,
        ):
            inbound = InboundSessions(head_end, listener, ingest, queue=queue)
            assert inbound.queued() == 1
            listeners = await nursery.start(inbound.serve, 0, "127.0.0.1")
            port = int(listeners[0].socket.getsockname()[1])
            stats = LinkStats()
            with trio.fail_after(30):
                await _dial(fleet.meter(1), port, stats)
            nursery.cancel_scope.cancel()
        assert inbound.sessions_run == 1 and inbound.queued() == 0
        assert queue.count() == 0
        assert stats.sessions == 1 and stats.requests > 2
        sessions = store.sessions(meter=target)
        assert sorted((s.kind, s.outcome) for s in sessions) == sorted(
            [(WorkKind.PUSH, Outcome.OK), (WorkKind.BLOCK_LOAD, Outcome.OK)]
        )
        pulled = [r for r in store.readings(meter=target) if r.source is ReadingSource.PULL]
        assert len({r.start for r in pulled}) >= 90
    # the queue's emptiness is durable too
    with SqliteInboundQueue(db) as queue:
        assert queue.count() == 0


async def test_a_read_that_loses_the_link_leaves_the_rest_queued(tmp_path: Path) -> None:
    """The meter hangs up after its push: the first read fails on the broken link and is
    recorded; the second stays queued for the next call."""
    fleet = Fleet(FleetLayout(seed=8, meters=2))
    db = tmp_path / "hes.db"
    target = fleet.identity(0).name
    start, end = day_range((dt.datetime.now(IST) - DAY).date(), IST)
    first = WorkItem(meter=target, kind=WorkKind.BLOCK_LOAD, start=start, end=end)
    second = WorkItem(meter=target, kind=WorkKind.EVENTS, start=start, end=end)
    inventory, store, head_end, ingest = _head_end(fleet, db)
    keys = push_keys(inventory, lambda meter: (DEFAULT_EK, DEFAULT_AK))
    with store, SqliteInboundQueue(db) as queue:
        async with (
            listen(keys, host="127.0.0.1", tcp_port=None, udp_port=None) as listener,
            trio.open_nursery() as nursery,
        ):
            inbound = InboundSessions(head_end, listener, ingest, queue=queue)
            inbound.queue(first)
            inbound.queue(second)
            listeners = await nursery.start(inbound.serve, 0, "127.0.0.1")
            port = int(listeners[0].socket.getsockname()[1])
            link = await open_tcp_wrapper(
                "127.0.0.1", port, client_wport=METER_WPORT, server_wport=PUSH_WPORT
            )
            await link.send_apdu(notification(fleet.meter(0), BLOCK_LOAD_PUSH))
            await link.aclose()
            with trio.fail_after(30):
                while inbound.sessions_run < 1:
                    await trio.sleep(0.02)
            nursery.cancel_scope.cancel()
        assert inbound.sessions_failed == 1
        assert queue.items(target) == [second]
        failed = [s for s in store.sessions(meter=target) if s.kind is WorkKind.BLOCK_LOAD]
        assert [s.outcome for s in failed] == [Outcome.TRANSPORT]
        assert [(g.start, g.end) for g in store.gaps()] == [(start, end)]
