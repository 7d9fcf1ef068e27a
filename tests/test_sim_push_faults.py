"""Faults of the plan reach the pushes: a meter whose link corrupts frames sends pushes
cut short (garbage) or with a broken tag, a meter whose counter was reset replays its
pushes; the head-end's listener (TCP and UDP on loopback) refuses exactly those and
accepts the rest."""

from __future__ import annotations

import functools
from pathlib import Path

import trio

from dlmskit.client import listen
from hes import PushIngest, Store, push_keys
from hes._inventory import Inventory
from simulators import (
    DEFAULT_AK,
    DEFAULT_EK,
    INSTANTANEOUS_PUSH,
    FaultKind,
    FaultPlan,
    Fleet,
    FleetLayout,
    MeterFaultRule,
    PushConfig,
    PushStats,
    as_sent,
    notification,
    run_pushes,
)


def _fleet(meters: int) -> Fleet:
    plan = FaultPlan(
        seed=4,
        meter=(
            MeterFaultRule(kind="corrupted_frame", meters=0.4, value=1.0),
            MeterFaultRule(kind="counter_reset", meters=0.4),
        ),
    )
    return Fleet(FleetLayout(seed=9, meters=meters), plan=plan)


def test_as_sent_follows_the_meters_faults() -> None:
    fleet = _fleet(12)
    kinds: set[object] = set()
    for number in range(12):
        meter = fleet.meter(number)
        payload = notification(meter, INSTANTANEOUS_PUSH)
        corrupt = bool(meter.state.rules(FaultKind.CORRUPTED_FRAME))
        reset = bool(meter.state.rules(FaultKind.COUNTER_RESET))
        for round_number in range(4):
            sent = as_sent(meter, payload, round_number)
            assert len(sent) == (2 if reset else 1)
            assert len(set(sent)) == 1  # a replay is the same bytes again
            if not corrupt:
                assert sent[0] == payload
                continue
            # value 1.0: every push is either cut in half or has its last tag byte flipped
            if len(sent[0]) == len(payload) // 2:
                assert sent[0] == payload[: len(payload) // 2]
                kinds.add("cut")
            else:
                assert sent[0][:-1] == payload[:-1] and sent[0][-1] == payload[-1] ^ 0xFF
                kinds.add("tag")
        kinds.add(("corrupt", corrupt))
        kinds.add(("reset", reset))
    # the plan gave some meters each fault and left some clean
    assert {"cut", "tag", ("corrupt", True), ("corrupt", False)} <= kinds
    assert {("reset", True), ("reset", False)} <= kinds


async def _until(predicate: object, timeout: float = 15.0) -> None:
    with trio.fail_after(timeout):
        while not predicate():  # type: ignore[operator]
            await trio.sleep(0.02)


async def test_listener_refuses_the_faulty_pushes_over_tcp_and_udp(tmp_path: Path) -> None:
    meters = 16
    fleet = _fleet(meters)
    inventory = Inventory.from_address_plan(fleet.address_plan(4059))
    expected_ok = expected_refused = corrupted = 0
    reasons: set[str] = set()
    for number in range(meters):
        meter = fleet.meter(number)
        payload = notification(meter, INSTANTANEOUS_PUSH)  # counters move on: fine
        sent = as_sent(meter, payload, 0)
        corrupt = sent[0] != payload
        if corrupt:
            corrupted += 1
            expected_refused += len(sent)
            reasons.add("garbage" if len(sent[0]) < len(payload) else "security")
        else:
            expected_ok += 1
            expected_refused += len(sent) - 1
            if len(sent) == 2:
                reasons.add("replay")
    assert {"replay", "security", "garbage"} <= reasons  # the seed covers every case
    stats = PushStats()
    with Store(tmp_path / "p.db") as store:
        keys = push_keys(inventory, lambda meter: (DEFAULT_EK, DEFAULT_AK))
        async with (
            listen(keys, host="127.0.0.1", tcp_port=0, udp_port=0) as listener,
            trio.open_nursery() as nursery,
        ):
            ingest = PushIngest(store, interval=0.05)
            nursery.start_soon(ingest.run, listener)
            assert listener.tcp_port is not None and listener.udp_port is not None
            for transport, port, numbers in (
                ("tcp", listener.tcp_port, range(0, meters, 2)),
                ("udp", listener.udp_port, range(1, meters, 2)),
            ):
                config = PushConfig(
                    host="127.0.0.1",
                    port=port,
                    transport=transport,
                    randomisation=0.05,
                    alerts=False,
                    setups=(INSTANTANEOUS_PUSH,),
                )
                await nursery.start(
                    functools.partial(
                        run_pushes, fleet, config, stats=stats, meters=list(numbers), rounds=1
                    )
                )
            await _until(
                lambda: (
                    ingest.accepted == expected_ok
                    and sum(ingest.rejected.values()) == expected_refused
                )
            )
            nursery.cancel_scope.cancel()
    assert stats.sent == meters + stats.replayed and stats.failed == 0
    assert stats.corrupted == corrupted
    assert set(ingest.rejected) == reasons
    assert {p.transport for p in listener.rejected} == {"tcp", "udp"}
