"""One session at a time per meter: work items for the same meter (two days of block load
in one run) never overlap, so the meter sees the invocation counters in order and every
session succeeds."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import trio

from dlmskit.client import Association, Target, connect
from dlmskit.cosem import Quantity
from dlmskit.security import MemoryCounterStore
from hes import CollectionConfig, HeadEnd, Inventory, Outcome, Schedule, Store, day_range
from hes._inventory import MeterInfo
from hes._session import BLOCK_LOAD, LayoutCache, TcpConnector, read_meter
from simulators import IST, Fleet, FleetLayout, serve_fleet_wrapper

NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)


class _Watching:
    """The TCP connector, counting the links open to each meter at a time."""

    def __init__(self) -> None:
        self.inner = TcpConnector()
        self.open_now: Counter[str] = Counter()
        self.most: Counter[str] = Counter()

    def open(
        self, meter: MeterInfo, sap: int = 0x20
    ) -> contextlib.AbstractAsyncContextManager[Target]:
        return self._open(meter, sap)

    @contextlib.asynccontextmanager
    async def _open(self, meter: MeterInfo, sap: int) -> AsyncIterator[Target]:
        self.open_now[meter.name] += 1
        self.most[meter.name] = max(self.most[meter.name], self.open_now[meter.name])
        try:
            async with self.inner.open(meter, sap) as target:
                # a checkpoint with the link open: a second session could start here
                await trio.sleep(0.01)
                yield target
        finally:
            self.open_now[meter.name] -= 1


async def test_sessions_of_one_meter_do_not_overlap(tmp_path: Path) -> None:
    fleet = Fleet(FleetLayout(seed=4, meters=2), clock=lambda: NOW)
    connector = _Watching()
    with Store(tmp_path / "c.db") as store:
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
            port = int(listeners[0].socket.getsockname()[1])
            inventory = Inventory.from_address_plan(fleet.address_plan(port))
            head_end = HeadEnd(
                inventory,
                store,
                connector=connector,
                counters=MemoryCounterStore(),
                config=CollectionConfig(concurrency=8, cluster_limit=8, time_sync=False),
                clock=lambda: NOW,
            )
            schedule = Schedule(inventory, store, seed=1)
            for day in (dt.date(2026, 6, 7), dt.date(2026, 6, 8), dt.date(2026, 6, 9)):
                schedule.add_round(*day_range(day, IST))
            await head_end.run(schedule, deadline=20.0)
            nursery.cancel_scope.cancel()
    sessions = head_end.metrics.sessions
    assert sum(sessions.values()) == 6
    assert sum(n for (_kind, outcome), n in sessions.items() if outcome == Outcome.OK) == 6
    assert set(connector.most.values()) == {1}
    assert not +connector.open_now


async def test_a_session_reads_the_block_load_as_columns_of_the_typed_rows() -> None:
    """read_meter's block load columns hold, per row with a stamp, the stamp and per
    channel the float of the typed row's value (the client's read_profile of the same
    range), in the channel's unit; ``rows`` gives the same as interval rows."""
    fleet = Fleet(FleetLayout(seed=4, meters=1), clock=lambda: NOW)
    start, end = day_range(dt.date(2026, 6, 9), IST)
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
        port = int(listeners[0].socket.getsockname()[1])
        (info,) = Inventory.from_address_plan(fleet.address_plan(port))
        association = attrs.evolve(Association.meter_reader(), counter_store=MemoryCounterStore())
        async with (
            TcpConnector().open(info) as target,
            connect(target, association=association, link=CollectionConfig().link) as meter,
        ):
            data = await read_meter(
                meter,
                info,
                LayoutCache(),
                start=start,
                end=end,
                now=lambda: NOW,
                zone=IST,
                daily=False,
                events=False,
            )
            typed = await meter.read_profile(
                BLOCK_LOAD,
                start.astimezone(IST),
                (end - dt.timedelta(seconds=1)).astimezone(IST),
            )
        nursery.cancel_scope.cancel()
    columns = data.block_load
    assert len(columns) == 96 == len(typed)
    assert list(columns.captured) == [row.time for row in typed]
    clock = typed[0].columns.clock
    assert clock is not None
    kept = [c for c in typed[0].columns if c.index != clock.index]
    assert list(columns.channels) == [str(c.logical_name) for c in kept]
    for n, column in enumerate(kept):
        values = [row.values[column.index] for row in typed]
        assert all(isinstance(v, Quantity) for v in values)
        assert columns.values[n] == [float(v.value) for v in values]  # type: ignore[union-attr]
        assert columns.units[n] == values[0].symbol  # type: ignore[union-attr]
    assert data.rows == columns.rows() and len(data.rows) == 96
