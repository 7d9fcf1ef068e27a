"""Push reception: ciphered data-notifications from simulated meters are matched to the
inventory by system title and stored; a replayed push is refused and counted."""

from __future__ import annotations

import functools
from pathlib import Path

import trio

from dlmskit.client import listen
from hes import Outcome, Store, WorkKind
from hes._inventory import Inventory
from hes._metrics import Metrics
from hes._push import PushIngest, push_keys
from simulators import (
    DEFAULT_AK,
    DEFAULT_EK,
    INSTANTANEOUS_PUSH,
    Fleet,
    FleetLayout,
    PushConfig,
    notification,
    run_pushes,
)
from transports import open_tcp_wrapper


async def _until(predicate: object, timeout: float = 10.0) -> None:
    with trio.fail_after(timeout):
        while not predicate():  # type: ignore[operator]
            await trio.sleep(0.01)


async def test_pushes_are_stored_and_replays_refused(tmp_path: Path) -> None:
    fleet = Fleet(FleetLayout(seed=2, meters=6))
    inventory = Inventory.from_address_plan(fleet.address_plan(4059))
    metrics = Metrics()
    with Store(tmp_path / "p.db") as store:
        keys = push_keys(inventory, lambda meter: (DEFAULT_EK, DEFAULT_AK))
        async with (
            listen(keys, host="127.0.0.1", tcp_port=0, udp_port=None) as listener,
            trio.open_nursery() as nursery,
        ):
            ingest = PushIngest(store, metrics=metrics, interval=0.05)
            nursery.start_soon(ingest.run, listener)
            assert listener.tcp_port is not None
            config = PushConfig(
                host="127.0.0.1", port=listener.tcp_port, randomisation=0.05, alerts=False
            )
            await nursery.start(functools.partial(run_pushes, fleet, config, rounds=1))
            await _until(lambda: ingest.accepted == 12)  # 6 meters x 2 push setups
            # one push captured and sent twice: the second is a replay
            raw = notification(fleet.meter(3), INSTANTANEOUS_PUSH)
            for _ in range(2):
                link = await open_tcp_wrapper(
                    "127.0.0.1", listener.tcp_port, client_wport=0x01, server_wport=0x40
                )
                await link.send_apdu(raw)
                await trio.sleep(0.1)
                await link.aclose()
            await _until(lambda: ingest.accepted == 13 and ingest.rejected.get("replay") == 1)
            nursery.cancel_scope.cancel()
        pushes = [s for s in store.sessions() if s.kind is WorkKind.PUSH]
        assert len(pushes) == 13
        assert {s.meter for s in pushes} == {m.name for m in inventory}
        assert all(s.outcome is Outcome.OK for s in pushes)
        assert metrics.pushes["accepted"] == 13 and metrics.pushes["replay"] == 1


async def test_unknown_sender_is_refused(tmp_path: Path) -> None:
    fleet = Fleet(FleetLayout(seed=2, meters=2))
    inventory = Inventory.from_address_plan(fleet.address_plan(4059)[:1])  # meter 1 unknown
    with Store(tmp_path / "p.db") as store:
        keys = push_keys(inventory, lambda meter: (DEFAULT_EK, DEFAULT_AK))
        async with (
            listen(keys, host="127.0.0.1", tcp_port=0, udp_port=None) as listener,
            trio.open_nursery() as nursery,
        ):
            ingest = PushIngest(store, interval=0.05)
            nursery.start_soon(ingest.run, listener)
            assert listener.tcp_port is not None
            link = await open_tcp_wrapper(
                "127.0.0.1", listener.tcp_port, client_wport=0x01, server_wport=0x40
            )
            await link.send_apdu(notification(fleet.meter(1), INSTANTANEOUS_PUSH))
            await link.send_apdu(b"\xdb\x08garbage!")
            await _until(lambda: sum(ingest.rejected.values()) == 2)
            await link.aclose()
            nursery.cancel_scope.cancel()
        assert ingest.accepted == 0
        assert store.sessions() == []
