"""Failed billing and events sessions are retried with backoff inside the round's window:
a fault plan silences the meters for the first seconds, so their first billing session
fails and a retry reads them; a meter that never answers is given up on after the
allowed attempts (or when the next try would fall after the window), and the KPIs and
the report say so. Real meters on loopback sockets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import trio

from dlmskit.client import LinkSettings
from dlmskit.security import MemoryCounterStore
from hes import Outcome, Store, WorkItem, WorkKind, compute_kpis, text_report
from hes._engine import CollectionConfig, HeadEnd
from hes._inventory import Inventory, MeterInfo
from hes._rounds import run_schedule
from hes._schedule import RetryPolicy, Schedule
from hes._session import TcpConnector
from simulators import FaultPlan, Fleet, FleetLayout, serve_fleet_wrapper

S = dt.timedelta(seconds=1)


def _config() -> CollectionConfig:
    return CollectionConfig(
        time_sync=False,
        read_events=False,
        session_timeout=2.0,
        link=LinkSettings(connect_timeout=1.0, response_timeout=1.0, release_timeout=0.5),
    )


async def _collect(
    fleet: Fleet,
    store: Store,
    kind: WorkKind,
    retry: RetryPolicy,
    window: dt.timedelta,
    deadline: float = 40.0,
) -> tuple[Schedule, Inventory]:
    now = dt.datetime.now(dt.UTC)
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
        port = int(listeners[0].socket.getsockname()[1])
        plan = list(Inventory.from_address_plan(fleet.address_plan(port)))
        inventory = Inventory([*plan, MeterInfo(name="GONE", host="127.0.0.1", port=1)])
        head_end = HeadEnd(
            inventory,
            store,
            connector=TcpConnector(),
            counters=MemoryCounterStore(),
            config=_config(),
        )
        schedule = Schedule(inventory, store, seed=1, retry=retry)
        schedule.add_round(now - dt.timedelta(days=70), now, kind, window=window)
        await run_schedule(head_end, schedule, deadline=deadline)
        nursery.cancel_scope.cancel()
    return schedule, inventory


async def test_a_failed_billing_session_is_retried_and_recovers(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    # every meter is silent for the first 3 s: the first billing session times out
    plan = FaultPlan.from_mapping(
        {
            "seed": 2,
            "silence": [
                {"by": "feeder", "fraction": 1.0, "start": now - 60 * S, "end": now + 3 * S}
            ],
        }
    )
    fleet = Fleet(FleetLayout(seed=5, meters=2), plan=plan)
    retry = RetryPolicy(max_attempts=3, base_delay=3 * S, max_delay=6 * S)
    with Store(tmp_path / "r.db") as store:
        schedule, inventory = await _collect(
            fleet, store, WorkKind.BILLING, retry, window=dt.timedelta(minutes=5)
        )
        by_meter: dict[str, list[Outcome]] = {}
        for s in sorted(store.sessions(), key=lambda s: s.started):
            assert s.kind is WorkKind.BILLING
            by_meter.setdefault(s.meter, []).append(s.outcome)
        for identity in fleet.identities():
            outcomes = by_meter[identity.name]
            # failed while silent, read on a retry
            assert outcomes[0] is not Outcome.OK and outcomes[-1] is Outcome.OK, outcomes
            assert len(outcomes) <= retry.max_attempts
        # the unreachable meter: every allowed attempt made, then given up on
        assert by_meter["GONE"] == [Outcome.TRANSPORT] * retry.max_attempts
        assert [(i.meter, i.attempt) for i in schedule.given_up] == [("GONE", 2)]
        assert schedule.retried == sum(len(v) - 1 for v in by_meter.values())
        assert schedule.waiting_retries == 0 and schedule.next_retry() is None
        # billing values were stored for the recovered meters
        assert {r.meter for r in store.readings()} == {i.name for i in fleet.identities()}
        assert store.gaps() == []  # billing failures are not block load gaps
        kpis = compute_kpis(store, inventory, now=dt.datetime.now(dt.UTC))
        assert kpis.given_up == {"billing": 1}
        assert kpis.retried == {"billing": schedule.retried}
        text = text_report(kpis)
        assert "given up (none ok)         billing 1" in text


async def test_no_retry_after_the_window_closes(tmp_path: Path) -> None:
    fleet = Fleet(FleetLayout(seed=5, meters=1))
    retry = RetryPolicy(max_attempts=5, base_delay=2 * S, max_delay=60 * S)
    with Store(tmp_path / "w.db") as store:
        # window 5 s: tries at 0 s and 2 s; the next (2 + 4 s) would fall after it
        schedule, _ = await _collect(fleet, store, WorkKind.EVENTS, retry, window=5 * S)
        gone = [s for s in store.sessions() if s.meter == "GONE"]
        assert [s.outcome for s in gone] == [Outcome.TRANSPORT] * 2
        assert all(s.kind is WorkKind.EVENTS for s in gone)
        assert [(i.meter, i.kind, i.attempt) for i in schedule.given_up] == [
            ("GONE", WorkKind.EVENTS, 1)
        ]
        ok = [s for s in store.sessions() if s.meter != "GONE"]
        assert [s.outcome for s in ok] == [Outcome.OK]  # a healthy meter: one session


def test_retry_policy_and_schedule_bookkeeping(tmp_path: Path) -> None:
    retry = RetryPolicy(max_attempts=4, base_delay=10 * S, max_delay=25 * S)
    assert [retry.delay(n) for n in (1, 2, 3, 4)] == [10 * S, 20 * S, 25 * S, 25 * S]
    clock = [dt.datetime(2026, 12, 1, tzinfo=dt.UTC)]
    inventory = Inventory([MeterInfo(name="A", host="127.0.0.2")])
    with Store(tmp_path / "s.db") as store:
        schedule = Schedule(inventory, store, retry=retry, clock=lambda: clock[0])
        start = clock[0] - dt.timedelta(days=1)
        schedule.add_round(start, clock[0], WorkKind.BILLING)
        (item,) = schedule.due(clock[0], 10)
        assert item.attempt == 0
        schedule.done(item, ok=False)
        assert schedule.due(clock[0], 10) == [] and schedule.waiting_retries == 1
        assert schedule.next_retry() == clock[0] + 10 * S
        clock[0] += 10 * S
        (again,) = schedule.due(clock[0], 10)
        assert again == WorkItem(
            meter="A", kind=WorkKind.BILLING, start=start, end=item.end, attempt=1
        )
        schedule.done(again, ok=True)  # recovered: nothing more
        assert schedule.next_retry() is None and schedule.given_up == []
        # block load failures are the gap ledger's business, not retried here
        schedule.done(_as_kind(again, WorkKind.BLOCK_LOAD), ok=False)
        assert schedule.waiting_retries == 0
        # retries waiting when the collection stops are given up on
        schedule.done(again, ok=False)
        assert schedule.waiting_retries == 1
        assert schedule.give_up_waiting() == [
            WorkItem(meter="A", kind=WorkKind.BILLING, start=start, end=item.end, attempt=2)
        ]
        assert len(schedule.given_up) == 1
        # diverted meters: their retries go to the other queue
        diverted: list[WorkItem] = []
        schedule.divert(["A"], diverted.append)
        schedule.done(item, ok=False)
        clock[0] += 60 * S
        assert schedule.due(clock[0], 10) == [] and diverted == [
            WorkItem(meter="A", kind=WorkKind.BILLING, start=start, end=item.end, attempt=1)
        ]


def _as_kind(item: WorkItem, kind: WorkKind) -> WorkItem:
    return WorkItem(meter=item.meter, kind=kind, start=item.start, end=item.end)
