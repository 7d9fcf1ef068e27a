"""Head-end throughput: meters collected per second and pushes ingested per second.

Collection: a fleet served over the wrapper on TCP in this process (simulator and
head-end share the cores), each session an IS 15959 meter-reader association (LLS)
with suite 0 ciphering reading the clock, a 96-row block load day, the daily profile
and two event logs, then release; the head-end validates and commits everything to
SQLite (WAL). The floor is the same sessions run by the bare client with no validation
and no store: the ratio is what the head-end's work costs on top of the protocol.

Push ingest: ciphered data-notifications of the simulated meters sent over one TCP
connection to ``dlmskit.listen`` and drained by the head-end into the store; the floor
is the listener alone (deciphering and replay checks, nothing stored).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

import trio
from _harness import Measurement, is_quick

from dlmskit.client import Association, connect, listen
from dlmskit.security import MemoryCounterStore
from hes import Store
from hes._engine import CollectionConfig, HeadEnd, day_range
from hes._inventory import Inventory
from hes._push import PushIngest, push_keys
from hes._schedule import Schedule
from hes._session import LayoutCache, TcpConnector, read_meter
from simulators import (
    DEFAULT_AK,
    DEFAULT_EK,
    INSTANTANEOUS_PUSH,
    IST,
    Fleet,
    FleetLayout,
    notification,
    serve_fleet_wrapper,
)
from transports import open_tcp_wrapper


def _day() -> tuple[dt.datetime, dt.datetime]:
    return day_range((dt.datetime.now(IST) - dt.timedelta(days=1)).date(), IST)


async def _collect(meters: int, with_head_end: bool) -> float:
    fleet = Fleet(FleetLayout(seed=3, meters=meters))
    start, end = _day()
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
        port = int(listeners[0].socket.getsockname()[1])
        inventory = Inventory.from_address_plan(fleet.address_plan(port))
        counters = MemoryCounterStore()
        began = time.perf_counter()
        if with_head_end:
            with tempfile.TemporaryDirectory() as tmp:
                store = Store(Path(tmp) / "b.db")
                config = CollectionConfig(concurrency=32, cluster_limit=32, time_sync=False)
                head_end = HeadEnd(
                    inventory, store, connector=TcpConnector(), counters=counters, config=config
                )
                schedule = Schedule(inventory, store)
                schedule.add_round(start, end)
                await head_end.run(schedule, deadline=600)
                elapsed = time.perf_counter() - began
                ok = sum(1 for s in store.sessions() if s.outcome.value == "ok")
                store.close()
                assert ok == meters, f"{ok} of {meters} sessions ok"
        else:
            layouts = LayoutCache()
            limiter = trio.CapacityLimiter(32)

            async def one(host: str, model: str) -> None:
                async with limiter:
                    target = f"tcp://{host}:{port}"
                    association = Association.meter_reader(counter_store=counters)
                    async with connect(target, association=association) as meter:
                        info = inventory[next(m.name for m in inventory if m.host == host)]
                        await read_meter(
                            meter,
                            info,
                            layouts,
                            start=start,
                            end=end,
                            now=lambda: dt.datetime.now(dt.UTC),
                            zone=IST,
                        )

            async with trio.open_nursery() as sessions:
                for m in inventory:
                    sessions.start_soon(one, m.host, m.model)
            elapsed = time.perf_counter() - began
        nursery.cancel_scope.cancel()
    return meters / elapsed


async def _ingest(count: int, with_head_end: bool) -> float:
    meters = 50
    fleet = Fleet(FleetLayout(seed=4, meters=meters))
    inventory = Inventory.from_address_plan(fleet.address_plan(4059))
    payloads = [notification(fleet.meter(n % meters), INSTANTANEOUS_PUSH) for n in range(count)]
    keys = push_keys(inventory, lambda meter: (DEFAULT_EK, DEFAULT_AK))
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "p.db")
        async with (
            listen(keys, host="127.0.0.1", tcp_port=0, udp_port=None, buffer=64) as listener,
            trio.open_nursery() as nursery,
        ):
            assert listener.tcp_port is not None
            ingest = PushIngest(store, interval=0.02)
            drained = 0
            if with_head_end:
                nursery.start_soon(ingest.run, listener)
            else:

                async def drain() -> None:
                    nonlocal drained
                    async for _push in listener:
                        drained += 1

                nursery.start_soon(drain)
            link = await open_tcp_wrapper(
                "127.0.0.1", listener.tcp_port, client_wport=0x01, server_wport=0x40
            )
            began = time.perf_counter()
            for payload in payloads:
                await link.send_apdu(payload)
            with trio.fail_after(120):
                while (ingest.accepted if with_head_end else drained) < count:
                    await trio.sleep(0.005)
            elapsed = time.perf_counter() - began
            await link.aclose()
            nursery.cancel_scope.cancel()
        store.close()
    return count / elapsed


def run() -> list[Measurement]:
    meters = 20 if is_quick() else 300
    pushes = 200 if is_quick() else 5000
    # each side warm (a head-end runs for days; the simulator keeps what it computed of
    # each meter's history): a first pass of each, then the measured ones
    trio.run(_collect, meters, True)
    trio.run(_collect, meters, False)
    ours = trio.run(_collect, meters, True)
    floor = trio.run(_collect, meters, False)
    ingest = trio.run(_ingest, pushes, True)
    listen_only = trio.run(_ingest, pushes, False)
    return [
        Measurement(
            name=f"head-end collection, {meters} meters (LLS + suite 0, 96-row day, daily, events)",
            unit="meters/s",
            ours=ours,
            peer_name="bare client sessions (no validation, no store)",
            peer=floor,
            target=0.5,
            note="simulator and head-end in one process",
        ),
        Measurement(
            name=f"push ingest, {pushes} ciphered data-notifications over TCP",
            unit="pushes/s",
            ours=ingest,
            peer_name="listener alone (decipher + replay check)",
            peer=listen_only,
            target=0.5,
        ),
    ]


if __name__ == "__main__":
    for m in run():
        print(f"{m.name}: {m.ours:.1f} {m.unit} vs {m.peer_name} {m.peer:.1f} (x{m.ratio:.2f})")
