"""Key performance indicators of a collection run, computed from the store.

* communication success per cluster (cell, feeder, model, network): meters read at
  least once / meters tried, and sessions ok / sessions;
* completeness per profile and day: intervals stored / intervals expected;
* latency of sessions (percentiles) and lag behind real time (newest interval stored);
* quality flags and gap states;
* billing and events reads retried, and the meters given up on (every session of the
  kind failed: retries exhausted or the round's window closed).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

import attrs

from hes._inventory import Inventory, MeterInfo
from hes._model import Outcome, SessionRecord, WorkKind, from_epoch
from hes._quality import parse_quality
from hes._store import Store

__all__ = ["ClusterStats", "KpiReport", "compute_kpis", "percentile"]

#: The channel whose presence marks a stored block load interval.
REFERENCE_CHANNEL = "1.0.1.29.0.255"
_DAY = _dt.timedelta(days=1)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered)))) - 1
    return float(ordered[rank])


@attrs.frozen(kw_only=True)
class ClusterStats:
    meters: int
    meters_ok: int
    sessions: int
    sessions_ok: int

    @property
    def meter_success(self) -> float:
        return self.meters_ok / self.meters if self.meters else 0.0

    @property
    def session_success(self) -> float:
        return self.sessions_ok / self.sessions if self.sessions else 0.0


@attrs.frozen(kw_only=True)
class KpiReport:
    """Everything ``dlmskit-hes report`` prints and plots."""

    meters: int
    clusters: Mapping[str, Mapping[str, ClusterStats]]
    """Cluster kind -> cluster name -> stats."""
    completeness: Mapping[str, Mapping[str, float]]
    """Profile -> local day (ISO date) -> stored / expected intervals."""
    outcomes: Mapping[str, int]
    """Polled sessions (pushes excluded) by outcome."""
    latency: Mapping[str, float]
    """``p50``, ``p95``, ``p99``, ``max`` of session latency (s)."""
    latency_histogram: Sequence[tuple[float, int]]
    """(upper bound s, sessions) buckets."""
    lag: Mapping[str, float]
    """``p50``, ``p95``, ``max`` of (now - end of the newest stored interval) in s."""
    flags: Mapping[str, int]
    gaps: Mapping[str, int]
    readings: int
    clock_deviation: Mapping[str, float]
    """``max_abs`` and ``p95_abs`` session clock deviation (s); ``synced`` meters."""
    retried: Mapping[str, int] = attrs.field(factory=dict)
    """Work kind (``billing``, ``events``) -> sessions beyond each meter's first."""
    given_up: Mapping[str, int] = attrs.field(factory=dict)
    """Work kind -> meters none of whose sessions of that kind succeeded."""
    pushes: int = 0
    """Pushes accepted and stored (refused ones are counted by the listener's metrics)."""

    def overall_success(self) -> float:
        stats = self.clusters.get("network", {})
        meters = sum(s.meters for s in stats.values())
        ok = sum(s.meters_ok for s in stats.values())
        return ok / meters if meters else 0.0


_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, float("inf"))


def _cluster_keys(info: MeterInfo) -> dict[str, str]:
    return {
        "cell": info.cell or "-",
        "feeder": info.feeder or "-",
        "model": info.model or "-",
        "network": info.operator or info.network.value,
        "transport": info.network.value,
    }


def compute_kpis(
    store: Store,
    inventory: Inventory,
    *,
    now: _dt.datetime,
    days: Iterable[_dt.date] = (),
    zone: _dt.tzinfo = _dt.UTC,
    period: _dt.timedelta = _dt.timedelta(minutes=15),
) -> KpiReport:
    """KPIs of the stored sessions and readings; ``days`` (local dates in ``zone``) get a
    completeness figure for the block load profile."""
    sessions = store.sessions()
    by_meter: dict[str, list[SessionRecord]] = defaultdict(list)
    for s in sessions:
        by_meter[s.meter].append(s)
    acc: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))
    for info in inventory:
        mine = by_meter.get(info.name, [])
        polled = [s for s in mine if s.kind is not WorkKind.PUSH]
        ok_sessions = sum(1 for s in polled if s.outcome is Outcome.OK)
        for kind, name in _cluster_keys(info).items():
            row = acc[kind][name]
            row[0] += 1
            row[1] += 1 if ok_sessions else 0
            row[2] += len(polled)
            row[3] += ok_sessions
    clusters = {
        kind: {
            name: ClusterStats(meters=v[0], meters_ok=v[1], sessions=v[2], sessions_ok=v[3])
            for name, v in sorted(names.items())
        }
        for kind, names in acc.items()
    }

    latencies = [s.latency for s in sessions if s.kind is not WorkKind.PUSH]
    histogram = []
    for bound in _BUCKETS:
        histogram.append((bound, sum(1 for v in latencies if v <= bound)))
    outcomes = Counter(s.outcome.value for s in sessions if s.kind is not WorkKind.PUSH)
    pushes = sum(1 for s in sessions if s.kind is WorkKind.PUSH)

    # completeness: distinct stored interval starts of the reference channel per day
    completeness: dict[str, dict[str, float]] = {"block_load": {}}
    for day in days:
        begin = _dt.datetime.combine(day, _dt.time(), zone).astimezone(_dt.UTC)
        end = begin + _DAY
        stored = store.query(
            "SELECT count(*) FROM readings WHERE channel = ? AND start >= ? AND start < ?"
            " AND source != 4",
            (REFERENCE_CHANNEL, int(begin.timestamp()), int(end.timestamp())),
        )[0][0]
        expected = len(inventory) * int(_DAY / period)
        assert isinstance(stored, int)
        completeness["block_load"][day.isoformat()] = stored / expected if expected else 0.0

    newest = dict(
        (str(m), int(str(t)))
        for m, t in store.query(
            "SELECT meter, max(start) FROM readings WHERE channel = ? GROUP BY meter",
            (REFERENCE_CHANNEL,),
        )
    )
    lags = []
    for info in inventory:
        stamp = newest.get(info.name)
        if stamp is None:
            continue
        lags.append((now - (from_epoch(stamp) + period)).total_seconds())

    flags: Counter[str] = Counter()
    for text, count in store.query("SELECT quality, count(*) FROM readings GROUP BY quality"):
        for flag in parse_quality(str(text)) or {"1.0.0"}:
            assert isinstance(count, int)
            flags[str(flag)] += count
    gaps = Counter(g.state.value for g in store.gaps())
    retried, given_up = _retries(by_meter)
    deviations = [abs(s.clock_deviation) for s in sessions if s.clock_deviation is not None]
    synced = len({s.meter for s in sessions if s.time_synced})
    return KpiReport(
        meters=len(inventory),
        clusters=clusters,
        completeness=completeness,
        outcomes=dict(outcomes),
        latency={
            "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95),
            "p99": percentile(latencies, 0.99),
            "max": max(latencies, default=0.0),
        },
        latency_histogram=histogram,
        lag={
            "p50": percentile(lags, 0.5),
            "p95": percentile(lags, 0.95),
            "max": max(lags, default=0.0),
        },
        flags=dict(flags),
        gaps=dict(gaps),
        readings=store.count_readings(),
        clock_deviation={
            "max_abs": max(deviations, default=0.0),
            "p95_abs": percentile(deviations, 0.95),
            "synced": float(synced),
        },
        retried=retried,
        given_up=given_up,
        pushes=pushes,
    )


#: Kinds whose failed sessions the schedule retries (block load failures are gaps).
_RETRIED = (WorkKind.BILLING, WorkKind.EVENTS)


def _retries(
    by_meter: Mapping[str, Sequence[SessionRecord]],
) -> tuple[dict[str, int], dict[str, int]]:
    retried: Counter[str] = Counter()
    given_up: Counter[str] = Counter()
    for sessions in by_meter.values():
        for kind in _RETRIED:
            mine = [s for s in sessions if s.kind is kind]
            if not mine:
                continue
            retried[kind.value] += len(mine) - 1
            if all(s.outcome is not Outcome.OK for s in mine):
                given_up[kind.value] += 1
    return dict(retried), dict(given_up)
