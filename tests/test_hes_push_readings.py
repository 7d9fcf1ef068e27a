"""Pushed block load rows become readings: the head-end learns the push setup's
push_object_list from one meter of the model, types every meter's push through it,
validates and stores the row as readings of source PUSH; a pull of the same interval
afterwards finds the same values and adds nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import trio

from dlmskit.client import Association, connect, listen
from dlmskit.security import MemoryCounterStore
from hes import LayoutCache, Quality, ReadingSource, Store, WorkKind
from hes._engine import CollectionConfig, HeadEnd
from hes._inventory import Inventory
from hes._push import PushIngest, push_keys
from hes._schedule import Schedule
from hes._session import TcpConnector
from simulators import (
    BLOCK_LOAD_PUSH,
    DEFAULT_AK,
    DEFAULT_EK,
    INSTANTANEOUS_PUSH,
    Fleet,
    FleetLayout,
    notification,
    serve_fleet_wrapper,
)
from transports import open_tcp_wrapper

_BLOCK_LOAD = "1.0.99.1.0.255"


async def _until(predicate: object, timeout: float = 10.0) -> None:
    with trio.fail_after(timeout):
        while not predicate():  # type: ignore[operator]
            await trio.sleep(0.01)


async def test_block_load_pushes_become_readings_and_a_pull_adds_nothing(
    tmp_path: Path,
) -> None:
    fleet = Fleet(FleetLayout(seed=4, meters=3))
    counters = MemoryCounterStore()  # one monotonic invocation counter per meter
    reader = attrs.evolve(Association.meter_reader(), counter_store=counters)
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
        port = int(listeners[0].socket.getsockname()[1])
        inventory = Inventory.from_address_plan(fleet.address_plan(port))
        first = next(iter(inventory))
        layouts = LayoutCache()
        async with connect(f"tcp://{first.host}:{first.port}", association=reader) as meter:
            layout = await layouts.push_layout(first.model or "default", meter, BLOCK_LOAD_PUSH)
        assert layout.columns.clock is not None and layout.scalers
        with Store(tmp_path / "p.db") as store:
            keys = push_keys(inventory, lambda meter: (DEFAULT_EK, DEFAULT_AK))
            async with listen(keys, host="127.0.0.1", tcp_port=0, udp_port=None) as listener:
                ingest = PushIngest(
                    store,
                    interval=0.05,
                    inventory=inventory,
                    layouts=layouts,
                    sign=reader.sign,
                )
                nursery.start_soon(ingest.run, listener)
                assert listener.tcp_port is not None
                link = await open_tcp_wrapper(
                    "127.0.0.1", listener.tcp_port, client_wport=0x01, server_wport=0x40
                )
                for number in range(3):
                    meter_ = fleet.meter(number)
                    await link.send_apdu(notification(meter_, BLOCK_LOAD_PUSH))
                    # an instantaneous push carries no profile row: a receipt, no readings
                    await link.send_apdu(notification(meter_, INSTANTANEOUS_PUSH))
                await _until(lambda: ingest.accepted == 6)
                await link.aclose()
            pushed = [r for r in store.readings() if r.source is ReadingSource.PUSH]
            assert {r.meter for r in pushed} == {m.name for m in inventory}
            assert all(r.received is not None and r.captured is not None for r in pushed)
            assert all(r.start.minute % 15 == 0 and r.start.second == 0 for r in pushed)
            # one interval per meter, one reading per register column of the row
            registers = sum(1 for c in layout.columns if c.class_id == 3)
            assert len(pushed) == 3 * registers == ingest.readings
            assert not any(Quality.MISALIGNED in r.quality for r in pushed)
            assert len({r.start for r in pushed if r.meter == first.name}) == 1

            # pull the same interval: values agree, nothing is duplicated or flagged
            begin = min(r.start for r in pushed)
            finish = max(r.start for r in pushed) + dt.timedelta(minutes=15)
            config = CollectionConfig(read_daily=False, read_events=False, time_sync=False)
            head_end = HeadEnd(
                inventory, store, connector=TcpConnector(), counters=counters, config=config
            )
            schedule = Schedule(inventory, store, seed=1)
            schedule.add_round(begin, finish)
            await head_end.run(schedule, deadline=20.0)
            pulls = [s for s in store.sessions() if s.kind is WorkKind.BLOCK_LOAD]
            assert len(pulls) == 3 and all(s.rows >= 1 for s in pulls)
            after = {r.key: r for r in store.readings(start=begin, end=finish)}
            for reading in pushed:
                stored = after[reading.key]
                assert stored.source is ReadingSource.PUSH
                assert Quality.DUPLICATE not in stored.quality
                assert stored.value == reading.value
            pulled_only = [r for r in after.values() if r.source is ReadingSource.PULL]
            assert all(r.channel != _BLOCK_LOAD for r in pulled_only)
        nursery.cancel_scope.cancel()
