"""The demo's check against the ground truth: every stored reading (pulled or pushed) of
a meter without injected faults compared with what the simulator says it measured, and
every injected fault looked up in the store (flagged readings, failed sessions, gaps
back-read or reported open)."""

from __future__ import annotations

import datetime as _dt
import math
from collections import Counter, defaultdict
from collections.abc import Mapping

import attrs

from hes._inventory import Inventory
from hes._model import (
    GapState,
    Outcome,
    Reading,
    ReadingSource,
)
from hes._quality import Quality
from hes._store import Store
from simulators import (
    FaultKind,
    FaultPlan,
    Fleet,
    MeterIdentity,
    injected_faults,
    meter_truth,
)

__all__ = ["Agreement", "compare_with_truth"]

#: The block load channel whose intervals say whether a day was read.
_BLOCK_ENERGY = "1.0.1.29.0.255"

_INTERVAL_KINDS = (FaultKind.MISSING, FaultKind.SPIKE, FaultKind.REVERSE)
_ROW_FLAGS = {
    FaultKind.SPIKE: {Quality.SPIKE, Quality.SUM_CHECK},
    FaultKind.REVERSE: {Quality.REVERSE_ENERGY, Quality.TAMPER},
}


@attrs.frozen(kw_only=True)
class Agreement:
    """How the store compares with the ground truth."""

    healthy_meters: int
    healthy_rows: int
    matched_rows: int
    mismatched: list[str]
    faults: Mapping[str, tuple[int, int]]
    """Fault kind -> (injected, accounted for: flagged, failed session, gap)."""
    unaccounted: list[str]
    pushed_meters: int = 0
    """Fault-free meters with pushed readings in the store."""
    pushed_rows: int = 0
    pushed_matched: int = 0

    @property
    def healthy_agreement(self) -> float:
        return self.matched_rows / self.healthy_rows if self.healthy_rows else 1.0

    def text(self) -> str:
        pushed = 100 * self.pushed_matched / self.pushed_rows if self.pushed_rows else 100.0
        lines = [
            f"ground truth: {self.matched_rows}/{self.healthy_rows} readings of "
            f"{self.healthy_meters} fault-free meters equal ({100 * self.healthy_agreement:.3f} %)",
            f"ground truth of pushes: {self.pushed_matched}/{self.pushed_rows} pushed readings "
            f"of {self.pushed_meters} fault-free meters equal ({pushed:.3f} %)",
        ]
        for kind, (injected, seen) in sorted(self.faults.items()):
            lines.append(f"  fault {kind:<16} injected {injected:>5}  accounted for {seen:>5}")
        for line in self.unaccounted[:10]:
            lines.append(f"  not accounted for: {line}")
        for line in self.mismatched[:10]:
            lines.append(f"  mismatch: {line}")
        return "\n".join(lines) + "\n"


def _observable(
    identity: MeterIdentity, plan: FaultPlan, start: _dt.datetime, end: _dt.datetime
) -> bool:
    """Whether a spike changed what the meter reports in ``[start, end)`` (the reported
    block energy differs from the measured one)."""
    return any(
        row.value != row.measured for row in meter_truth(identity, plan, start, end, daily=False)
    )


def _close(a: float | None, b: float | int | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, float(b), rel_tol=1e-9, abs_tol=1e-9)


def compare_with_truth(
    store: Store,
    fleet: Fleet,
    inventory: Inventory,
    start: _dt.datetime,
    end: _dt.datetime,
    until: _dt.datetime | None = None,
) -> Agreement:
    """Stored readings against ``dlmskit-sim truth`` for every meter of the inventory;
    faults are those of the range and of the collection itself (up to ``until``, default
    a day after ``end``)."""
    until = until if until is not None else end + _dt.timedelta(days=1)
    names = {m.name for m in inventory}
    sessions: dict[str, list[Outcome]] = defaultdict(list)
    synced: set[str] = set()
    for s in store.sessions():
        sessions[s.meter].append(s.outcome)
        if s.time_synced:
            synced.add(s.meter)
    gaps = defaultdict(list)
    for g in store.gaps():
        gaps[g.meter].append(g)
    healthy_meters = healthy_rows = matched = 0
    pushed_meters = pushed_rows = pushed_matched = 0
    mismatched: list[str] = []
    faults: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    unaccounted: list[str] = []
    for identity in fleet.identities():
        if identity.name not in names:
            continue
        stored: dict[tuple[str, int], Reading] = {
            (r.channel, int(r.start.timestamp())): r
            for r in store.readings(meter=identity.name, start=start, end=end)
        }
        # faults during the collection count too: a meter silent now was not read
        injected = [
            f
            for f in injected_faults(identity, fleet.plan, start, until)
            if f.kind not in _INTERVAL_KINDS or (f.start is not None and f.start < end)
        ]
        outcomes = sessions.get(identity.name, [])
        failed = any(o is not Outcome.OK for o in outcomes)
        if not injected:
            healthy_meters += 1
            found = _pushed_agreement(store, fleet, identity, end, mismatched)
            if found[0]:
                pushed_meters += 1
                pushed_rows += found[0]
                pushed_matched += found[1]
            for row in meter_truth(identity, fleet.plan, start, end, daily=False):
                healthy_rows += 1
                got = stored.get((str(row.obis), int(row.start.timestamp())))
                if got is not None and _close(got.value, row.value):
                    matched += 1
                elif len(mismatched) < 50:
                    mismatched.append(
                        f"{identity.name} {row.obis} {row.start:%H:%M} truth {row.value} "
                        f"stored {None if got is None else got.value}"
                    )
            continue
        # every interval the meter has (its missing-interval faults aside) is stored
        block = {t for c, t in stored if c == _BLOCK_ENERGY}
        complete = len(block) >= 96 or all(
            int(row.start.timestamp()) in block
            for row in meter_truth(identity, fleet.plan, start, end, daily=False)
            if str(row.obis) == _BLOCK_ENERGY and row.value is not None
        )
        for fault in injected:
            kind = fault.kind
            faults[kind.value] += 1
            ok = False
            if kind in _ROW_FLAGS:
                assert fault.start is not None and fault.end is not None
                if kind is FaultKind.SPIKE and not _observable(
                    identity, fleet.plan, fault.start, fault.end
                ):
                    seen[kind.value] += 1  # e.g. a spike of a zero interval is still zero
                    continue
                flagged = [
                    r
                    for (_c, t), r in stored.items()
                    if fault.start.timestamp() <= t < fault.end.timestamp()
                    and r.quality & _ROW_FLAGS[kind]
                ]
                ok = bool(flagged) or failed or bool(gaps.get(identity.name))
            elif kind is FaultKind.MISSING:
                assert fault.start is not None and fault.end is not None
                in_store = any(
                    fault.start.timestamp() <= t < fault.end.timestamp() and r.value is not None
                    for (c, t), r in stored.items()
                    if c == _BLOCK_ENERGY
                )
                covered = any(
                    g.start <= fault.start and fault.end <= g.end
                    for g in gaps.get(identity.name, [])
                    if g.state in (GapState.ABSENT, GapState.OPEN, GapState.EXPIRED)
                )
                ok = covered and not in_store
            elif kind is FaultKind.CLOCK_DRIFT:
                ok = (
                    identity.name in synced
                    or any(
                        r.quality & {Quality.CLOCK_DEVIATION, Quality.MISALIGNED}
                        for r in stored.values()
                    )
                    or failed
                )
            elif kind is FaultKind.SILENCE:
                # silent while polled (a failed session), or silent only when nobody asked
                ok = failed or not outcomes or complete
            elif kind is FaultKind.WRONG_KEYS:
                # nothing was accepted from a meter whose keys are wrong
                ok = bool(outcomes) and Outcome.OK not in outcomes
            else:  # link faults: slow, dropped, corrupted, counter reset
                ok = failed or complete
            if ok:
                seen[kind.value] += 1
            elif len(unaccounted) < 50:
                unaccounted.append(f"{identity.name} {kind.value} {fault.start} {fault.end}")
    return Agreement(
        healthy_meters=healthy_meters,
        healthy_rows=healthy_rows,
        matched_rows=matched,
        mismatched=mismatched,
        faults={k: (v, seen[k]) for k, v in faults.items()},
        unaccounted=unaccounted,
        pushed_meters=pushed_meters,
        pushed_rows=pushed_rows,
        pushed_matched=pushed_matched,
    )


def _pushed_agreement(
    store: Store, fleet: Fleet, identity: MeterIdentity, since: _dt.datetime, mismatched: list[str]
) -> tuple[int, int]:
    """(pushed readings stored at or after ``since``, those equal to the ground truth)."""
    pushed = [
        r
        for r in store.readings(meter=identity.name, start=since)
        if r.source is ReadingSource.PUSH
    ]
    if not pushed:
        return 0, 0
    first = min(r.start for r in pushed)
    last = max(r.start for r in pushed) + _dt.timedelta(minutes=15)
    truth = {
        (str(row.obis), int(row.start.timestamp())): row.value
        for row in meter_truth(identity, fleet.plan, first, last, daily=False)
    }
    matched = 0
    for reading in pushed:
        want = truth.get((reading.channel, int(reading.start.timestamp())))
        if want is not None and _close(reading.value, want):
            matched += 1
        elif len(mismatched) < 50:
            mismatched.append(
                f"{identity.name} pushed {reading.channel} {reading.start:%H:%M} truth {want} "
                f"stored {reading.value}"
            )
    return len(pushed), matched
