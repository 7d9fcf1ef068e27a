"""Ground truth: what a meter measured over a time range and which faults were injected.

The rows come from the same functions the COSEM tree serves, so a head-end's stored
readings can be checked one by one. CSV columns are ``meter,obis,start,value,unit,
quality`` (start in ISO 8601 UTC, value scaled to its unit), the head-end's export
columns. ``value`` is what the meter reports (empty for a missing interval, the
multiplied value for a spike); the JSON form also carries the measured value.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

import attrs

from dlmskit.cosem import unit_symbol
from obis import ObisCode
from simulators._faults import FaultKind, FaultPlan
from simulators._identity import MeterIdentity
from simulators._load import INTERVAL, interval_index, interval_start
from simulators._measure import MeteringPoint
from simulators._registers import (
    BLOCK_REGISTERS,
    REGISTERS,
    block_values,
    daily_values,
)
from simulators._supply import SupplyControl

__all__ = [
    "CSV_COLUMNS",
    "FaultRecord",
    "TruthRow",
    "injected_faults",
    "meter_truth",
    "truth_json",
    "write_truth_csv",
]

CSV_COLUMNS = ("meter", "obis", "start", "value", "unit", "quality")


def iso(when: _dt.datetime) -> str:
    """ISO 8601 UTC with a ``Z``."""
    return when.astimezone(_dt.UTC).isoformat().replace("+00:00", "Z")


@attrs.frozen(kw_only=True)
class TruthRow:
    """One channel of one interval (or one daily reading) of one meter."""

    meter: str
    obis: ObisCode
    start: _dt.datetime
    value: float | int | None
    unit: str
    quality: str
    measured: float | int

    def csv_row(self) -> tuple[str, ...]:
        value = "" if self.value is None else repr(self.value)
        return (self.meter, str(self.obis), iso(self.start), value, self.unit, self.quality)


@attrs.frozen(kw_only=True)
class FaultRecord:
    """One injected fault: kind, window (``end`` ``None``: open) and its parameter."""

    meter: str
    kind: FaultKind
    start: _dt.datetime | None
    end: _dt.datetime | None
    value: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "meter": self.meter,
            "kind": self.kind.value,
            "start": None if self.start is None else iso(self.start),
            "end": None if self.end is None else iso(self.end),
            "value": self.value,
        }


def _scaled(obis: ObisCode, raw: int) -> float | int:
    return REGISTERS[obis].scaled(raw)


def meter_truth(
    identity: MeterIdentity,
    plan: FaultPlan,
    start: _dt.datetime,
    end: _dt.datetime,
    *,
    daily: bool = True,
    control: SupplyControl | None = None,
) -> Iterator[TruthRow]:
    """Block load rows (every channel of every 15-minute interval starting in
    [start, end)) then, with ``daily``, the daily readings at local midnights in range.
    ``control`` is the relay switching and load limits clients applied (``Fleet.truth``
    passes them); without it the meter is taken as never switched."""
    point = MeteringPoint(
        model=identity.load_model(), plan=plan, control=control or SupplyControl()
    )
    model = point.model
    first = interval_index(start)
    if interval_start(first) < start:
        first += 1
    first = max(first, model.first_index)
    last = interval_index(end - _dt.timedelta(microseconds=1)) + 1
    columns = BLOCK_REGISTERS[1 if model.phases == 1 else 3]
    name = identity.name
    for row in point.intervals(first, last):
        raw = block_values(point, row)
        measured = block_values(point, attrs.evolve(row, reported=row.measured))
        when = interval_start(row.measured.index)
        for obis in columns:
            register = REGISTERS[obis]
            yield TruthRow(
                meter=name,
                obis=obis,
                start=when,
                value=None if row.reported is None else _scaled(obis, raw[obis]),
                unit=unit_symbol(int(register.unit)),
                quality=row.quality,
                measured=_scaled(obis, measured[obis]),
            )
    if not daily:
        return
    for day in range(max(model.day_of(first), model.origin_day + 1), model.day_of(last) + 1):
        index = model.first_interval(day)
        when = interval_start(index)
        if not start <= when < end:
            continue
        for obis, raw_value in daily_values(point, index).items():
            value = _scaled(obis, raw_value)
            yield TruthRow(
                meter=name,
                obis=obis,
                start=when,
                value=value,
                unit=unit_symbol(int(REGISTERS[obis].unit)),
                quality="daily",
                measured=value,
            )


def injected_faults(
    identity: MeterIdentity, plan: FaultPlan, start: _dt.datetime, end: _dt.datetime
) -> list[FaultRecord]:
    """Every fault the plan puts on this meter overlapping [start, end)."""
    name = identity.name
    out: list[FaultRecord] = []
    for n, rule in enumerate(plan.silence):
        if not plan.cluster_silenced(n, rule, identity.clusters[rule.by]):
            continue
        if (rule.end is None or rule.end > start) and (rule.start is None or rule.start < end):
            out.append(
                FaultRecord(meter=name, kind=FaultKind.SILENCE, start=rule.start, end=rule.end)
            )
    for meter_rule in plan.meter_rules(identity.seed):
        if meter_rule.start is None or meter_rule.start < end:
            out.append(
                FaultRecord(
                    meter=name,
                    kind=meter_rule.kind,
                    start=meter_rule.start,
                    end=None,
                    value=meter_rule.value,
                )
            )
    point = MeteringPoint(model=identity.load_model(), plan=plan)
    model = point.model
    first, last = interval_index(start), interval_index(end)
    for day in range(model.day_of(first), model.day_of(last) + 1):
        base = model.first_interval(day)
        for kind, q, length, factor in plan.day_events(identity.seed, day):
            begin = base + q
            if begin + length <= first or begin >= last or begin < model.first_index:
                continue
            out.append(
                FaultRecord(
                    meter=name,
                    kind=kind,
                    start=interval_start(begin),
                    end=interval_start(begin) + _dt.timedelta(seconds=INTERVAL * length),
                    value=float(factor) if kind is FaultKind.SPIKE else None,
                )
            )
    return out


def write_truth_csv(rows: Iterable[TruthRow], out: TextIO) -> int:
    """Write the CSV (with header); returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(row.csv_row())
        count += 1
    return count


def truth_json(rows: Iterable[TruthRow], faults: Iterable[FaultRecord]) -> str:
    """Readings and faults as one JSON document."""
    buffer = io.StringIO()
    json.dump(
        {
            "readings": [
                {
                    **dict(zip(CSV_COLUMNS, row.csv_row(), strict=True)),
                    "value": row.value,
                    "measured": row.measured,
                }
                for row in rows
            ],
            "faults": [fault.to_json() for fault in faults],
        },
        buffer,
        indent=1,
    )
    return buffer.getvalue()
