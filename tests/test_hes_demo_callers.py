"""The demo's field calls the head-end: meters push ciphered block load rows over TCP
and UDP (refused when their keys are wrong or their counter was reset), and meters
behind NAT, which the head-end cannot dial, have their day read over the links they
open. Stored pushed and pulled readings of fault-free meters equal the ground truth."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from hes import Outcome, ReadingSource, Store, WorkKind
from hes._demo import run_demo
from hes._engine import CollectionConfig
from hes._field import behind_nat
from hes._gapledger import BackReadPolicy
from simulators import FaultKind, FaultPlan, Fleet, FleetLayout

METERS, SEED, NAT_EVERY = 40, 3, 5


def _plan() -> FaultPlan:
    return FaultPlan.from_mapping(
        {
            "seed": 21,
            "interval": [{"kind": "spike", "meters": 0.1, "per_day": 1.0}],
            "meter": [
                {"kind": "wrong_keys", "meters": 0.1},
                {"kind": "counter_reset", "meters": 0.1},
            ],
        }
    )


async def test_pushes_and_meter_initiated_reads_agree_with_truth(tmp_path: Path) -> None:
    plan = _plan()
    fleet = Fleet(FleetLayout(seed=SEED, meters=METERS), plan=plan)
    nat = {i.name for i in fleet.identities() if behind_nat(i, NAT_EVERY)}
    faulty = {
        kind: {
            i.name
            for i in fleet.identities()
            if any(r.kind is kind for r in plan.meter_rules(i.seed))
        }
        for kind in (FaultKind.WRONG_KEYS, FaultKind.COUNTER_RESET)
    }
    # the plan covers the cases this test is about
    assert len(nat) >= 3 and faulty[FaultKind.WRONG_KEYS] and faulty[FaultKind.COUNTER_RESET]
    assert faulty[FaultKind.COUNTER_RESET] - nat
    config = CollectionConfig(
        concurrency=32,
        cluster_limit=8,
        session_timeout=15.0,
        datagram_session_timeout=40.0,
        back_reads=BackReadPolicy(
            max_attempts=2, base_delay=dt.timedelta(seconds=3), max_delay=dt.timedelta(seconds=6)
        ),
    )
    result = await run_demo(
        meters=METERS,
        workdir=tmp_path,
        seed=SEED,
        deadline=25.0,
        plan=plan,
        config=config,
        nat_every=NAT_EVERY,
        push_spread=4.0,
        dial_period=4.0,
    )
    pushes, agreement = result.pushes, result.agreement
    report = agreement.text() + pushes.text()
    plan_file = json.loads((tmp_path / "field.json").read_text())["meters"]
    assert {e["meter"] for e in plan_file if e.get("behind_nat")} == nat
    assert all(e["port"] == 1 for e in plan_file if e.get("behind_nat"))

    # pushes: accepted from every meter with good keys, refused by reason otherwise
    assert pushes.accepted >= METERS - len(faulty[FaultKind.WRONG_KEYS]), report
    assert pushes.rejected.get("security", 0) >= len(faulty[FaultKind.WRONG_KEYS]), report
    assert pushes.rejected.get("replay", 0) >= 1, report
    assert pushes.readings > 0
    # every accepted push is stored as a receipt; the polled outcomes leave them out
    assert result.kpis.pushes == pushes.accepted, report
    # every pushed reading of a fault-free meter equals the ground truth
    assert agreement.pushed_rows > 0 and agreement.pushed_matched == agreement.pushed_rows, report
    # and so does every pulled one, those read over the links meters behind NAT opened too
    assert agreement.matched_rows == agreement.healthy_rows, report
    assert all(seen == injected for injected, seen in agreement.faults.values()), report

    # meters behind NAT: each called, its day was read over its own link (the plan's
    # address is unreachable, so a dialled session would have failed)
    assert pushes.inbound_meters == len(nat) and pushes.inbound_called == len(nat), report
    assert pushes.inbound_sessions >= len(nat) and pushes.inbound_waiting == 0, report
    assert pushes.inbound_unidentified == 0
    with Store(tmp_path / "hes.db") as store:
        polled = [s for s in store.sessions() if s.kind is not WorkKind.PUSH]
        assert sum(result.kpis.outcomes.values()) == len(polled)
        for name in nat:
            sessions = [s for s in store.sessions(meter=name) if s.kind is WorkKind.BLOCK_LOAD]
            assert sessions, name
            if name not in faulty[FaultKind.WRONG_KEYS]:
                assert any(s.outcome is Outcome.OK for s in sessions), (name, sessions)
                assert any(s.kind is WorkKind.PUSH for s in store.sessions(meter=name))
                sources = {r.source for r in store.readings(meter=name)}
                assert {ReadingSource.PULL, ReadingSource.PUSH} <= sources
            else:
                assert all(s.outcome is Outcome.SECURITY for s in sessions), sessions
        # the queue of reads waiting for calls is empty, and kept in the store's file
        tables = {t for (t,) in store.query("SELECT name FROM sqlite_master", ())}
        assert "inbound_queue" in tables
        assert store.query("SELECT count(*) FROM inbound_queue", ())[0][0] == 0
