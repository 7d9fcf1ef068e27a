"""The head-end against a simulated field (cellular, Wi-SUN and RF-mesh meters in a
child process) with a fault plan: readings of fault-free meters equal the ground truth,
every injected fault shows up (flags, failed sessions, gaps), every gap is back-read or
reported open; then the store is exported and reported on."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from hes import GapState, Outcome, Store
from hes._demo import run_demo
from hes._engine import CollectionConfig
from hes._export import write_csv
from hes._gapledger import BackReadPolicy
from hes._report import text_report
from simulators import FaultPlan


def _plan(now: dt.datetime) -> FaultPlan:
    return FaultPlan.from_mapping(
        {
            "seed": 11,
            "silence": [
                {
                    "by": "feeder",
                    "fraction": 0.08,
                    "start": now - dt.timedelta(hours=1),
                    "end": now + dt.timedelta(seconds=8),
                },
                {"by": "feeder", "fraction": 0.04, "start": now - dt.timedelta(hours=1)},
            ],
            "interval": [
                {"kind": "missing", "meters": 0.15, "per_day": 1.0, "length": 2},
                {"kind": "spike", "meters": 0.15, "per_day": 1.0},
                {"kind": "reverse", "meters": 0.1, "per_day": 1.0, "length": 2},
            ],
            "meter": [
                {
                    "kind": "clock_drift",
                    "meters": 0.1,
                    "value": 300.0,
                    "start": now - dt.timedelta(days=2),
                },
                {"kind": "wrong_keys", "meters": 0.05},
                {"kind": "slow_response", "meters": 0.05, "value": 9.0},
            ],
        }
    )


async def test_field_collection_agrees_with_ground_truth(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    config = CollectionConfig(
        concurrency=64,
        cluster_limit=16,
        session_timeout=15.0,
        datagram_session_timeout=60.0,
        back_reads=BackReadPolicy(
            max_attempts=2, base_delay=dt.timedelta(seconds=4), max_delay=dt.timedelta(seconds=8)
        ),
    )
    result = await run_demo(
        meters=60, workdir=tmp_path, seed=5, deadline=45.0, plan=_plan(now), config=config
    )
    agreement = result.agreement
    report = text_report(result.kpis) + agreement.text()
    assert set(result.transports) == {"gprs", "wisun", "rf_mesh"}, report
    # every reading of every fault-free meter equals the simulator's ground truth
    assert agreement.healthy_meters > 20, report
    assert agreement.matched_rows == agreement.healthy_rows, report
    # every injected fault is accounted for, and the plan did inject each kind
    kinds = set(agreement.faults)
    assert {"missing", "spike", "reverse", "clock_drift", "silence", "wrong_keys"} <= kinds
    assert all(seen == injected for injected, seen in agreement.faults.values()), report
    assert result.kpis.outcomes.get(Outcome.TIMEOUT.value, 0) > 0
    assert result.kpis.outcomes.get(Outcome.SECURITY.value, 0) > 0
    with Store(tmp_path / "hes.db") as store:
        sessions = store.sessions()
        failed = {s.meter for s in sessions if s.outcome is not Outcome.OK}
        gaps = store.gaps()
        # gaps were back-read: some filled, missing intervals confirmed absent
        assert any(g.state is GapState.FILLED for g in gaps), report
        assert any(g.state is GapState.ABSENT for g in gaps), report
        # a gap still open belongs to a meter whose sessions failed: reported, not lost
        for gap in gaps:
            if gap.state is GapState.OPEN:
                assert gap.meter in failed, gap
        out = io.StringIO()
        count = write_csv(store.readings(), out)
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert count == len(rows) == store.count_readings() > 0
        assert {r["quality"] for r in rows} >= {"1.0.0"}
