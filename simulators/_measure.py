"""What one meter measured and reports: the load model with the fault plan applied.

Physical faults change what was measured and so the cumulative registers: a missing
interval is a power failure (no energy, no profile row, a power failure event), reverse
energy books the interval's import as export (a current reversal event), over current
draws more than the rated current and books the energy it took (an over current event).
A spike only
corrupts the reported block energy: the registers keep the true value, which is what a
head-end's sum check should catch. Clock drift moves the meter clock and every time
stamp it writes.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Iterator, Mapping
from typing import Final

import attrs

from simulators._faults import FaultKind, FaultPlan
from simulators._load import (
    INTERVAL,
    IntervalEnergy,
    IntervalValues,
    LoadModel,
    interval_index,
    interval_start,
)
from simulators._supply import NO_CONTROL, SupplyControl

__all__ = ["EVENTS", "TAMPER", "MeterEvent", "MeteringPoint", "ReportedInterval"]

_QUARTERS = 96
_CHUNK = 32
_ZERO = (0, 0, 0, 0)
_NO_OFFSET: Final = _dt.timedelta(0)


@attrs.frozen(kw_only=True)
class ReportedInterval:
    """One block load interval: what was measured and what the profile row says.

    ``reported`` is ``None`` for a missing interval; ``quality`` names the fault
    (``"valid"`` when none).
    """

    measured: IntervalEnergy
    reported: IntervalEnergy | None
    quality: str


@attrs.frozen(kw_only=True)
class MeterEvent:
    """An event the meter logged: IS 15959-2 event code, log number (0.0.99.98.<log>),
    meter-clock time (UTC) and the fault behind it."""

    when: _dt.datetime
    log: int
    code: int
    kind: FaultKind | None = None


#: Interval fault -> (event log, occurrence code, has a restoration code = code + 1),
#: IS 15959-2 event codes: voltage log 0, current 1, power 2, other (tamper) 4,
#: non-roll-over 5.
EVENTS: Final[Mapping[FaultKind, tuple[int, int, bool]]] = {
    FaultKind.MISSING: (2, 101, True),
    FaultKind.REVERSE: (1, 51, True),
    FaultKind.OVER_VOLTAGE: (0, 7, True),
    FaultKind.LOW_VOLTAGE: (0, 9, True),
    FaultKind.MAGNET: (4, 201, True),
    FaultKind.NEUTRAL_DISTURBANCE: (4, 203, True),
    FaultKind.COVER_OPEN: (5, 251, False),
    FaultKind.OVER_CURRENT: (1, 67, True),
}
#: Current rating of the simulated meters (name plate 5-60 A), in mA.
RATED_CURRENT: Final = 60_000
#: Interval faults IS 15959-2 counts as tamper (cumulative tamper count 0.0.94.91.0.255).
TAMPER: Final = frozenset(
    {
        FaultKind.MAGNET,
        FaultKind.NEUTRAL_DISTURBANCE,
        FaultKind.COVER_OPEN,
        FaultKind.REVERSE,
    }
)
#: Block average voltage (centivolts) during low and over voltage.
_VOLTAGE: Final = {FaultKind.LOW_VOLTAGE: 18_500, FaultKind.OVER_VOLTAGE: 26_800}


_Four = tuple[int, int, int, int]


def _sum(a: _Four, b: _Four) -> _Four:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]


def _energies(part: IntervalEnergy) -> tuple[int, int, int, int]:
    return part.import_wh, part.import_vah, part.export_wh, part.export_vah


@attrs.frozen(kw_only=True)
class MeteringPoint:
    """One meter's measurements: :class:`LoadModel` plus the :class:`FaultPlan`."""

    model: LoadModel
    plan: FaultPlan = attrs.field(factory=FaultPlan)
    #: Relay switching and load limits clients applied (what the meter did not measure).
    control: SupplyControl = attrs.field(default=NO_CONTROL)

    @property
    def seed(self) -> int:
        return self.model.seed

    # -- interval faults ---------------------------------------------------------------

    def day_faults(self, day: int) -> dict[int, tuple[FaultKind, int]]:
        """Faulted quarters of local day ``day``: quarter -> (kind, spike factor)."""
        out: dict[int, tuple[FaultKind, int]] = {}
        for kind, first, length, factor in self.plan.day_events(self.seed, day):
            for q in range(first, first + length):
                out.setdefault(q, (kind, factor))
        return out

    def _fault_at(self, index: int) -> tuple[FaultKind, int] | None:
        day = self.model.day_of(index)
        return self.day_faults(day).get(index - self.model.first_interval(day))

    def interval(self, index: int) -> ReportedInterval:
        """Interval ``index`` as measured (physical faults and supply control applied) and
        as reported."""
        return self._controlled(index, self.with_supply(index))

    def _controlled(self, index: int, row: ReportedInterval) -> ReportedInterval:
        if not self.control.active:
            return row
        part = row.measured
        off = INTERVAL if self._tripped(index, part) else self.control.off_seconds(index)
        if off == 0:
            return row
        on = INTERVAL - off
        cut = attrs.evolve(
            part,
            import_wh=part.import_wh * on // INTERVAL,
            import_vah=part.import_vah * on // INTERVAL,
            export_wh=part.export_wh * on // INTERVAL,
            export_vah=part.export_vah * on // INTERVAL,
            current=part.current * on // INTERVAL,
        )
        if row.reported is None:
            return attrs.evolve(row, measured=cut)
        if row.reported == part:
            return attrs.evolve(row, measured=cut, reported=cut)
        factor = row.reported.import_wh // max(part.import_wh, 1)
        spiked = attrs.evolve(
            cut, import_wh=cut.import_wh * factor, import_vah=cut.import_vah * factor
        )
        return attrs.evolve(row, measured=cut, reported=spiked)

    def with_supply(self, index: int) -> ReportedInterval:
        """Interval ``index`` with the fault plan applied, as if the supply stayed on."""
        fault = self._fault_at(index) if self.plan.interval else None
        return self._faulted(index, fault)

    def _faulted(self, index: int, fault: tuple[FaultKind, int] | None) -> ReportedInterval:
        return self._faulted_from(self.model.interval(index), fault)

    def _faulted_from(
        self, clean: IntervalEnergy, fault: tuple[FaultKind, int] | None
    ) -> ReportedInterval:
        if fault is None:
            return ReportedInterval(measured=clean, reported=clean, quality="valid")
        kind, factor = fault
        if kind is FaultKind.MISSING:
            zero = attrs.evolve(
                clean, import_wh=0, import_vah=0, export_wh=0, export_vah=0, current=0
            )
            return ReportedInterval(measured=zero, reported=None, quality=kind.value)
        if kind is FaultKind.REVERSE:
            swapped = attrs.evolve(
                clean,
                import_wh=clean.export_wh,
                import_vah=clean.export_vah,
                export_wh=clean.import_wh,
                export_vah=clean.import_wh,
            )
            return ReportedInterval(measured=swapped, reported=swapped, quality=kind.value)
        if kind is FaultKind.SPIKE:
            spiked = attrs.evolve(
                clean,
                import_wh=clean.import_wh * factor,
                import_vah=clean.import_vah * factor,
            )
            return ReportedInterval(measured=clean, reported=spiked, quality=kind.value)
        if kind is FaultKind.OVER_CURRENT:
            amps = RATED_CURRENT * 11 // 10 + int(clean.voltage) % (RATED_CURRENT // 10)
            wh = amps * clean.voltage * self.model.phases // 100_000 // 4
            heavy = attrs.evolve(
                clean,
                current=amps,
                import_wh=wh,
                import_vah=wh + clean.import_vah - clean.import_wh,
                export_wh=0,
                export_vah=0,
            )
            return ReportedInterval(measured=heavy, reported=heavy, quality=kind.value)
        if kind in _VOLTAGE:
            changed = attrs.evolve(clean, voltage=_VOLTAGE[kind] + clean.voltage % 200)
            return ReportedInterval(measured=changed, reported=changed, quality=kind.value)
        return ReportedInterval(measured=clean, reported=clean, quality=kind.value)

    def intervals(self, first: int, end: int) -> Iterator[ReportedInterval]:
        """:meth:`interval` for ``first..end-1`` (each day's faults worked out once)."""
        model = self.model
        day: int | None = None
        faults: dict[int, tuple[FaultKind, int]] = {}
        for clean in model.intervals(first, end):
            index = clean.index
            fault = None
            if self.plan.interval:
                today = model.day_of(index)
                if today != day:
                    day, faults = today, self.day_faults(today)
                fault = faults.get(index - model.first_interval(today))
            yield self._controlled(index, self._faulted_from(clean, fault))

    def reported_values(self, first: int, end: int) -> list[IntervalValues]:
        """The reported intervals among ``first..end-1`` as value tuples (missing ones
        left out): what :meth:`intervals` reports, with objects built only for the
        intervals a fault or the supply control changes (a profile read's fast path)."""
        if self.control.active:
            rows = self.intervals(first, end)
            return [row.reported.values for row in rows if row.reported is not None]
        model = self.model
        values = model.interval_values(first, end)
        if not self.plan.interval:
            return values
        out: list[IntervalValues] = []
        start = end_of_day = first
        faults: dict[int, tuple[FaultKind, int]] = {}
        for clean in values:
            index = clean[0]
            if index >= end_of_day:
                day = model.day_of(index)
                faults = self.day_faults(day)
                start, end_of_day = model.first_interval(day), model.first_interval(day + 1)
            fault = faults.get(index - start) if faults else None
            if fault is None:
                out.append(clean)
                continue
            reported = self._faulted_from(IntervalEnergy.from_values(clean), fault).reported
            if reported is not None:
                out.append(reported.values)
        return out

    # -- registers ---------------------------------------------------------------------
    # -- registers ---------------------------------------------------------------------

    def _physical_faults(self) -> bool:
        return any(
            r.kind in (FaultKind.MISSING, FaultKind.REVERSE, FaultKind.OVER_CURRENT)
            for r in self.plan.interval_rules(self.seed)
        )

    def _corrected(self) -> bool:
        return self.control.active or (bool(self.plan.interval) and self._physical_faults())

    def _corrected_quarters(self, day: int) -> list[int]:
        """Quarters of local day ``day`` whose measured energy may differ from the model."""
        first = self.model.first_interval(day)
        end = self.model.first_interval(day + 1)
        if self.control.touches(first, end):
            return list(range(end - first))
        if not self.plan.interval:
            return []
        return [q for q, (kind, _f) in self.day_faults(day).items() if kind is not FaultKind.SPIKE]

    def cumulative(self, index: int) -> tuple[int, int, int, int]:
        """(import Wh, import VAh, export Wh, export VAh) at the start of ``index``."""
        clean = self.model.cumulative(index)
        if not self._corrected():
            return clean
        day = self.model.day_of(index)
        total = _sum(clean, _correction_to_day(self, day))
        if day < self.model.origin_day:
            return total
        return _sum(total, _day_prefix(self, day)[index - self.model.first_interval(day)])

    def _tripped(self, index: int, part: IntervalEnergy) -> bool:
        limit = self.control.limit_for(index)
        return limit is not None and part.import_wh * 4 > limit

    def supplied(self, now: _dt.datetime) -> bool:
        """Whether the load is supplied at true time ``now`` (relay closed, not tripped)."""
        if not self.control.active:
            return True
        index = interval_index(now)
        return not self.control.open_at(now) and not self._tripped(
            index, self.with_supply(index).measured
        )

    def running(self, now: _dt.datetime) -> tuple[int, int, int, int]:
        """Cumulative energies at true time ``now``: the running interval counts pro rata
        over its supplied seconds, so the registers meet the block sums at each boundary."""
        index = interval_index(now)
        cumulative = self.cumulative(index)
        part = self.with_supply(index).measured
        elapsed = int((now - interval_start(index)).total_seconds())
        if self.control.active:
            if self._tripped(index, part):
                elapsed = 0
            else:
                elapsed -= self.control.off_seconds(index, until=now)
        return (
            cumulative[0] + part.import_wh * elapsed // INTERVAL,
            cumulative[1] + part.import_vah * elapsed // INTERVAL,
            cumulative[2] + part.export_wh * elapsed // INTERVAL,
            cumulative[3] + part.export_vah * elapsed // INTERVAL,
        )

    def day_correction(self, day: int) -> tuple[int, int, int, int]:
        """How the physical faults and supply control of local day ``day`` change its
        energy totals."""
        if day < self.model.origin_day:
            return _ZERO
        return _day_prefix(self, day)[-1]

    # -- clock ---------------------------------------------------------------------------

    def clock_offset(self, when: _dt.datetime) -> _dt.timedelta:
        """How far the meter clock is ahead of true time at ``when`` (clock drift)."""
        if not self.plan.meter:
            return _NO_OFFSET
        offset = 0.0
        for rule in self.plan.meter_rules(self.seed):
            if rule.kind is FaultKind.CLOCK_DRIFT and (rule.start is None or when > rule.start):
                since = rule.start or interval_start(self.model.first_index)
                offset += rule.value * (when - since).total_seconds() / 86400
        return _dt.timedelta(seconds=int(offset))

    def meter_time(self, when: _dt.datetime) -> _dt.datetime:
        """The meter clock at true time ``when``."""
        return when + self.clock_offset(when)

    def stamp(self, index: int) -> _dt.datetime:
        """The time stamp of interval ``index``'s profile row (interval start, meter clock)."""
        return self.meter_time(interval_start(index))

    # -- events ----------------------------------------------------------------------

    def events(self, first: int, end: int) -> Iterator[MeterEvent]:
        """Events (occurrence and restoration, see ``EVENTS``) time-stamped within
        intervals ``first..end-1``, by day, not sorted within a day."""
        if not self.plan.interval:
            return
        day = self.model.day_of(first) - 1  # a restoration may follow yesterday's event
        while self.model.first_interval(day) < end:
            base = self.model.first_interval(day)
            for kind, q, length, _factor in self.plan.day_events(self.seed, day):
                spec = EVENTS.get(kind)
                if spec is None:
                    continue
                log, code, paired = spec
                start, stop = base + q, base + q + length
                if first <= start < end:
                    yield MeterEvent(when=self.stamp(start), log=log, code=code, kind=kind)
                if paired and first <= stop < end:
                    yield MeterEvent(when=self.stamp(stop), log=log, code=code + 1, kind=kind)
            day += 1

    def tamper_count(self, end: int) -> int:
        """Tamper occurrences (``TAMPER``) that began in intervals before ``end``, since
        the meter's origin: the cumulative tamper count (0.0.94.91.0.255)."""
        if not self.plan.interval or not any(
            r.kind in TAMPER for r in self.plan.interval_rules(self.seed)
        ):
            return 0
        count = 0
        origin = self.model.first_index
        day = self.model.origin_day
        while self.model.first_interval(day) < end:
            base = self.model.first_interval(day)
            for kind, q, _length, _factor in self.plan.day_events(self.seed, day):
                if kind in TAMPER and origin <= base + q < end:
                    count += 1
            day += 1
        return count

    def active(self, index: int) -> set[FaultKind]:
        """The interval faults going on in interval ``index``."""
        if not self.plan.interval:
            return set()
        found = self._fault_at(index)
        return set() if found is None else {found[0]}


@functools.lru_cache(maxsize=4096)
def _day_prefix(point: MeteringPoint, day: int) -> tuple[_Four, ...]:
    """Running (measured - model) energy corrections of local day ``day``: entry ``q`` is
    the sum over its quarters before ``q``; the last entry the whole day's."""
    first = point.model.first_interval(day)
    quarters = point.model.first_interval(day + 1) - first
    deltas = [_ZERO] * quarters
    faults = point.day_faults(day) if point.plan.interval else {}
    for q in point._corrected_quarters(day):
        index = first + q
        row = point._controlled(index, point._faulted(index, faults.get(q)))
        measured = _energies(row.measured)
        base = _energies(point.model.interval(index))
        deltas[q] = (
            measured[0] - base[0],
            measured[1] - base[1],
            measured[2] - base[2],
            measured[3] - base[3],
        )
    out = [_ZERO]
    for delta in deltas:
        out.append(_sum(out[-1], delta))
    return tuple(out)


@functools.lru_cache(maxsize=16384)
def _correction_to_day(point: MeteringPoint, day: int) -> tuple[int, int, int, int]:
    """Sum of the physical fault corrections of every day before ``day``."""
    origin = point.model.origin_day
    if day <= origin:
        return _ZERO
    anchor = day - (day - origin) % _CHUNK
    if anchor == day:
        anchor = day - _CHUNK
    anchor = max(anchor, origin)
    total = _correction_to_day(point, anchor) if anchor > origin else _ZERO
    for d in range(anchor, day):
        total = _sum(total, point.day_correction(d))
    return total
