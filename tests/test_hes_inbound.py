"""Meter-initiated connections: a simulated meter dials the head-end's wrapper port on
loopback and pushes; the head-end identifies it by the push's system title, stores the
push, and runs the reads queued for it over that same connection."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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

METER_WPORT, PUSH_WPORT, READER_SAP = 0x01, 0x40, 0x20


async def _dial(meter: SimulatedMeter, port: int, first: bytes | None, stats: LinkStats) -> None:
    """The meter's side: connect, push, then answer the head-end until it hangs up."""
    link = await open_tcp_wrapper(
        "127.0.0.1", port, client_wport=METER_WPORT, server_wport=PUSH_WPORT
    )
    try:
        if first is not None:
            await link.send_apdu(first)
        await run_session(
            meter, READER_SAP, None, link.receive_apdu, link.send_apdu, stats, idle_timeout=10
        )
    except DlmsError:
        pass  # the head-end closed the link when its reads were done
    finally:
        await link.aclose()


async def _setup(tmp_path: Path, fleet: Fleet) -> tuple[Inventory, Store, HeadEnd, PushIngest]:
    inventory = Inventory.from_address_plan(fleet.address_plan(4059))
    store = Store(tmp_path / "in.db")
    config = CollectionConfig(time_sync=False, read_daily=False)
    head_end = HeadEnd(inventory, store, counters=MemoryCounterStore(), config=config)
    ingest = PushIngest(store, inventory=inventory, layouts=LayoutCache())
    return inventory, store, head_end, ingest


async def test_queued_reads_run_over_the_meters_own_connection(tmp_path: Path) -> None:
    fleet = Fleet(FleetLayout(seed=8, meters=3))
    inventory, store, head_end, ingest = await _setup(tmp_path, fleet)
    start, end = day_range((dt.datetime.now(IST) - dt.timedelta(days=1)).date(), IST)
    target = fleet.identity(1).name
    keys = push_keys(inventory, lambda meter: (DEFAULT_EK, DEFAULT_AK))
    with store:
        async with (
            listen(keys, host="127.0.0.1", tcp_port=None, udp_port=None) as listener,
            trio.open_nursery() as nursery,
        ):
            inbound = InboundSessions(head_end, listener, ingest)
            inbound.queue(WorkItem(meter=target, kind=WorkKind.BLOCK_LOAD, start=start, end=end))
            inbound.queue(WorkItem(meter=target, kind=WorkKind.EVENTS, start=start, end=end))
            listeners = await nursery.start(inbound.serve, 0, "127.0.0.1")
            port = int(listeners[0].socket.getsockname()[1])
            stats = LinkStats()
            meter = fleet.meter(1)
            with trio.fail_after(30):
                await _dial(meter, port, notification(meter, BLOCK_LOAD_PUSH), stats)
            # another meter dials with nothing queued: its push is stored, the link closed
            other = fleet.meter(2)
            with trio.fail_after(30):
                await _dial(other, port, notification(other, BLOCK_LOAD_PUSH), LinkStats())
            nursery.cancel_scope.cancel()
        assert inbound.connections == 2 and inbound.unidentified == 0
        assert inbound.sessions_run == 2 and inbound.queued(target) == 0
        # both reads (two associations) went over the one link the meter opened
        assert stats.sessions == 1 and stats.responses == stats.requests > 4
        sessions = [s for s in store.sessions(meter=target)]
        kinds = sorted((s.kind, s.outcome) for s in sessions)
        assert kinds == sorted(
            [
                (WorkKind.PUSH, Outcome.OK),
                (WorkKind.BLOCK_LOAD, Outcome.OK),
                (WorkKind.EVENTS, Outcome.OK),
            ]
        )
        pulled = [r for r in store.readings(meter=target) if r.source is ReadingSource.PULL]
        assert len({r.start for r in pulled}) >= 90  # a day of block load (faults aside)
        assert store.count_readings(meter=fleet.identity(2).name) == 0
        assert {s.kind for s in store.sessions(meter=fleet.identity(2).name)} == {WorkKind.PUSH}
        assert not [s for s in store.sessions() if s.meter == fleet.identity(0).name]


async def test_a_link_without_push_is_matched_by_address_or_closed(tmp_path: Path) -> None:
    fleet = Fleet(FleetLayout(seed=8, meters=2))
    inventory, store, head_end, ingest = await _setup(tmp_path, fleet)
    keys = push_keys(inventory, lambda meter: (DEFAULT_EK, DEFAULT_AK))
    with store:
        async with (
            listen(keys, host="127.0.0.1", tcp_port=None, udp_port=None) as listener,
            trio.open_nursery() as nursery,
        ):
            inbound = InboundSessions(head_end, listener, ingest, first_timeout=0.5)
            listeners = await nursery.start(inbound.serve, 0, "127.0.0.1")
            port = int(listeners[0].socket.getsockname()[1])
            # garbage first from 127.0.0.1, which no meter of the inventory has: closed
            link = await open_tcp_wrapper(
                "127.0.0.1", port, client_wport=METER_WPORT, server_wport=PUSH_WPORT
            )
            await link.send_apdu(b"\x0f\x00garbage")
            with trio.fail_after(10):
                while inbound.unidentified < 1:
                    await trio.sleep(0.01)
            await link.aclose()
            # silence: closed after the first timeout
            link = await open_tcp_wrapper(
                "127.0.0.1", port, client_wport=METER_WPORT, server_wport=PUSH_WPORT
            )
            with trio.fail_after(10):
                while inbound.unidentified < 2:
                    await trio.sleep(0.01)
            await link.aclose()
            nursery.cancel_scope.cancel()
        assert inbound.connections == 2 and inbound.sessions_run == 0
        assert store.sessions() == []


async def test_calls_beyond_the_concurrency_wait_their_turn(tmp_path: Path) -> None:
    """Three meters call at once; with room for one session at a time, the others wait
    on their open links and are read after it, none refused."""
    fleet = Fleet(FleetLayout(seed=8, meters=3))
    inventory, store, head_end, ingest = await _setup(tmp_path, fleet)
    start, end = day_range((dt.datetime.now(IST) - dt.timedelta(days=1)).date(), IST)
    keys = push_keys(inventory, lambda meter: (DEFAULT_EK, DEFAULT_AK))
    with store:
        async with (
            listen(keys, host="127.0.0.1", tcp_port=None, udp_port=None) as listener,
            trio.open_nursery() as nursery,
        ):
            inbound = InboundSessions(head_end, listener, ingest, concurrency=1)
            for identity in fleet.identities():
                inbound.queue(
                    WorkItem(meter=identity.name, kind=WorkKind.EVENTS, start=start, end=end)
                )
            listeners = await nursery.start(inbound.serve, 0, "127.0.0.1")
            port = int(listeners[0].socket.getsockname()[1])
            with trio.fail_after(60):
                async with trio.open_nursery() as meters:
                    for number in range(3):
                        meter = fleet.meter(number)
                        meters.start_soon(
                            _dial, meter, port, notification(meter, BLOCK_LOAD_PUSH), LinkStats()
                        )
            nursery.cancel_scope.cancel()
        assert inbound.sessions_run == 3 and inbound.sessions_failed == 0
        assert inbound.max_active == 1 and inbound.active == 0
        assert inbound.queued() == 0
        events = [s for s in store.sessions() if s.kind is WorkKind.EVENTS]
        assert len(events) == 3 and all(s.outcome is Outcome.OK for s in events)
