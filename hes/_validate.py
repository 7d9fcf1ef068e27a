"""Validation at the head-end: quality flags on readings, never edits (IEC 61968-9 VEE's
"V" at the data-integrity level; estimation and editing belong to the MDM).

:func:`validate_block_load` takes the rows of one block load read as the meter sent them
(its own time stamps and clock status) with what the session learnt (clock deviation,
daily cumulative registers, event log entries) and returns readings keyed by the nominal
interval start, each with its flags, plus the runs of intervals the range lacked.
"""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence

import attrs

from hes._gapledger import find_gaps
from hes._model import MeterEventRecord, Reading, ReadingSource, utc
from hes._quality import Quality

__all__ = [
    "IntervalColumns",
    "IntervalRow",
    "ValidationPolicy",
    "ValidationResult",
    "check_cumulative",
    "validate_block_load",
]

#: Clock status bits that make a time stamp untrustworthy (Blue Book 4.1.6.1):
#: invalid value, doubtful value, different clock base, invalid clock status.
_BAD_CLOCK = 0x01 | 0x02 | 0x04 | 0x08
#: IS 15959-2 event logs whose occurrence-restoration windows flag intervals.
_LOG_CURRENT = 1
_LOG_POWER = 2
_LOG_OTHER = 4


@functools.lru_cache(maxsize=1024)
def _group(channel: str) -> tuple[int, ...] | None:
    try:
        parts = tuple(int(p) for p in channel.split("."))
    except ValueError:
        return None
    return parts if len(parts) == 6 else None


@functools.lru_cache(maxsize=1024)
def is_import_energy(channel: str) -> bool:
    """Block or cumulative active/apparent import energy (C = 1 or 9)."""
    g = _group(channel)
    return g is not None and g[0] == 1 and g[2] in (1, 9) and g[3] in (8, 29)


@functools.lru_cache(maxsize=1024)
def is_export_energy(channel: str) -> bool:
    """Block or cumulative active/apparent export energy (C = 2 or 10)."""
    g = _group(channel)
    return g is not None and g[0] == 1 and g[2] in (2, 10) and g[3] in (8, 29)


@functools.lru_cache(maxsize=1024)
def is_block_energy(channel: str) -> bool:
    g = _group(channel)
    return g is not None and g[3] == 29 and g[2] in (1, 2, 9, 10)


def register_of(block_channel: str) -> str:
    """The cumulative register (D = 8) a block energy channel (D = 29) adds up to."""
    g = _group(block_channel)
    if g is None or g[3] != 29:
        raise ValueError(f"{block_channel} is not a block energy channel")
    return ".".join(str(v) for v in (*g[:3], 8, *g[4:]))


@attrs.frozen(kw_only=True)
class IntervalRow:
    """One profile row as read: the meter's stamp, its clock status and the values
    (channel -> (value, unit))."""

    captured: _dt.datetime = attrs.field(converter=utc)
    clock_status: int | None = None
    values: Mapping[str, tuple[float | None, str]]


@attrs.frozen(kw_only=True)
class IntervalColumns:
    """Profile rows as read, as columns: per row the meter's stamp (aware; a naive one is
    taken as UTC, as :class:`IntervalRow` does) and its clock status; per channel its
    unit and one value per row. Every row has every channel. The shape a session reads
    a block load profile into: no object per row or per value."""

    captured: Sequence[_dt.datetime]
    clock_status: Sequence[int | None]
    channels: Sequence[str]
    units: Sequence[str]
    values: Sequence[Sequence[float | None]]
    """One column per channel, an item per row."""

    def __attrs_post_init__(self) -> None:
        rows = len(self.captured)
        if len(self.clock_status) != rows or any(len(c) != rows for c in self.values):
            raise ValueError("every column needs one item per row")
        if not len(self.channels) == len(self.units) == len(self.values):
            raise ValueError("every channel needs a unit and a column")
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("a channel appears twice")

    def __len__(self) -> int:
        return len(self.captured)

    def rows(self) -> list[IntervalRow]:
        """The same rows as :class:`IntervalRow` values."""
        names, units = self.channels, self.units
        per_row = zip(*self.values, strict=True) if self.values else itertools.repeat(())
        return [
            IntervalRow(
                captured=when,
                clock_status=status,
                values={ch: (v, u) for ch, v, u in zip(names, values, units, strict=True)},
            )
            for when, status, values in zip(self.captured, self.clock_status, per_row, strict=False)
        ]


@attrs.frozen(kw_only=True)
class ValidationPolicy:
    """Thresholds of the checks.

    ``alignment_tolerance``: a stamp this far from the period boundary is still aligned.
    ``clock_threshold``: session clock deviation that flags the readings (and triggers a
    time sync). ``spike_ratio``/``spike_floor``: a block energy above ``ratio x`` the
    channel's median and ``floor`` above it is a spike. ``sum_resolution``: register
    resolution in the channel's unit; the sum check tolerates half a unit per block row
    plus two units for the two register reads.
    """

    period: _dt.timedelta = _dt.timedelta(minutes=15)
    alignment_tolerance: _dt.timedelta = _dt.timedelta(seconds=1)
    clock_threshold: _dt.timedelta = _dt.timedelta(seconds=30)
    spike_ratio: float = 10.0
    spike_floor: float = 50.0
    sum_resolution: float = 1.0


@attrs.frozen(kw_only=True)
class ValidationResult:
    readings: list[Reading]
    missing: list[tuple[_dt.datetime, _dt.datetime]]
    """Runs of interval starts ``[first, end)`` the range should have had."""
    flags: Counter[Quality]
    power_failures: list[tuple[_dt.datetime, _dt.datetime]]
    """Occurrence-restoration windows of power failure events (meter clock)."""


def _nearest(when: _dt.datetime, period: _dt.timedelta) -> _dt.datetime:
    step = int(period.total_seconds())
    stamp = when.timestamp()
    return _dt.datetime.fromtimestamp(round(stamp / step) * step, _dt.UTC)


def _windows(
    events: Sequence[MeterEventRecord], log: int, open_code: int | None = None
) -> list[tuple[_dt.datetime, _dt.datetime]]:
    """Occurrence (odd code) to restoration (next even code) windows of one log."""
    out = []
    start: _dt.datetime | None = None
    for event in sorted((e for e in events if e.log == log), key=lambda e: e.when):
        if open_code is not None and event.code not in (open_code, open_code + 1):
            continue
        if event.code % 2 == 1:
            start = start or event.when
        elif start is not None:
            out.append((start, event.when))
            start = None
    if start is not None:
        out.append((start, _dt.datetime.max.replace(tzinfo=_dt.UTC)))
    return out


def _inside(when: _dt.datetime, windows: Sequence[tuple[_dt.datetime, _dt.datetime]]) -> bool:
    return any(a <= when < b for a, b in windows)


def validate_block_load(
    meter: str,
    rows: Sequence[IntervalRow] | IntervalColumns,
    *,
    start: _dt.datetime,
    end: _dt.datetime,
    received: _dt.datetime,
    net_metered: bool = False,
    clock_deviation: _dt.timedelta | None = None,
    registers: Mapping[_dt.datetime, Mapping[str, float]] | None = None,
    events: Sequence[MeterEventRecord] = (),
    source: ReadingSource = ReadingSource.PULL,
    policy: ValidationPolicy | None = None,
) -> ValidationResult:
    """Readings with flags for the block load rows read for ``[start, end)``.

    ``registers`` maps instants (interval starts, e.g. local midnights of the daily
    profile) to cumulative register values; every pair of consecutive instants gives a
    sum check of the block energies between them. ``rows`` may be given as
    :class:`IntervalColumns`.
    """
    if isinstance(rows, IntervalColumns):
        rows = rows.rows()
    policy = policy or ValidationPolicy()
    start, end = utc(start), utc(end)
    flags: Counter[Quality] = Counter()
    out: dict[tuple[str, _dt.datetime], Reading] = {}
    row_flags: dict[_dt.datetime, set[Quality]] = {}
    by_start: dict[_dt.datetime, IntervalRow] = {}
    tamper = _windows(events, _LOG_CURRENT) + _windows(events, _LOG_OTHER)
    power = _windows(events, _LOG_POWER)
    deviated = clock_deviation is not None and abs(clock_deviation) > policy.clock_threshold

    # stamps of a meter whose clock is off are put back by the deviation measured in the
    # session (flagged), so the reading lands on the interval it belongs to
    shift = clock_deviation if deviated and clock_deviation is not None else _dt.timedelta(0)
    for row in rows:
        nominal = _nearest(row.captured - shift, policy.period)
        marks: set[Quality] = set()
        if abs(row.captured - _nearest(row.captured, policy.period)) > policy.alignment_tolerance:
            marks.add(Quality.MISALIGNED)
        if row.clock_status is not None and row.clock_status & _BAD_CLOCK:
            marks.add(Quality.CLOCK_STATUS)
        if deviated:
            marks.add(Quality.CLOCK_DEVIATION)
        if _inside(row.captured, tamper):
            marks.add(Quality.TAMPER)
        if _inside(row.captured, power):
            marks.add(Quality.POWER_FAILURE)
        if nominal in by_start:
            if dict(by_start[nominal].values) != dict(row.values):
                row_flags[nominal].add(Quality.DUPLICATE)
            continue
        if not net_metered and any(
            is_export_energy(ch) and v is not None and v > 0 for ch, (v, _u) in row.values.items()
        ):
            marks.add(Quality.REVERSE_ENERGY)
        by_start[nominal] = row
        row_flags[nominal] = marks

    # spikes: per import energy channel, against the median of the rows read
    channels = {ch for row in by_start.values() for ch in row.values}
    spiked: dict[str, set[_dt.datetime]] = {}
    for channel in channels:
        if not (is_import_energy(channel) and is_block_energy(channel)):
            continue
        values = [
            (when, v)
            for when, row in by_start.items()
            if (v := row.values.get(channel, (None, ""))[0]) is not None
        ]
        if len(values) < 4:
            continue
        median = statistics.median(v for _w, v in values)
        limit = max(median * policy.spike_ratio, median + policy.spike_floor)
        spiked[channel] = {when for when, v in values if v > limit}

    # sum check: block energies between two register reads against their difference
    sum_failed: dict[str, set[_dt.datetime]] = {}
    if registers:
        instants = sorted(utc(k) for k in registers)
        regs = {utc(k): v for k, v in registers.items()}
        for channel in channels:
            if not is_block_energy(channel):
                continue
            register = register_of(channel)
            for a, b in itertools.pairwise(instants):
                if register not in regs[a] or register not in regs[b]:
                    continue
                if a < start or b > end:
                    continue
                # a missing row is a power failure: no energy, nothing to add
                inside = [w for w in by_start if a <= w < b]
                total = sum(by_start[w].values.get(channel, (0.0, ""))[0] or 0.0 for w in inside)
                delta = regs[b][register] - regs[a][register]
                tolerance = policy.sum_resolution * (len(inside) / 2 + 2)
                if abs(total - delta) > tolerance:
                    sum_failed.setdefault(channel, set()).update(inside)

    for when, row in sorted(by_start.items()):
        if not start <= when < end:
            continue
        base = row_flags[when]
        for channel, (value, unit) in row.values.items():
            marks = set(base)
            if when in spiked.get(channel, ()):
                marks.add(Quality.SPIKE)
            if when in sum_failed.get(channel, ()):
                marks.add(Quality.SUM_CHECK)
            flags.update(marks)
            out[(channel, when)] = Reading(
                meter=meter,
                channel=channel,
                start=when,
                value=value,
                unit=unit,
                quality=frozenset(marks),
                captured=row.captured,
                received=received,
                source=source,
            )

    missing = find_gaps(by_start, start, end, policy.period)
    if missing:
        flags[Quality.SKIPPED] += sum(int((b - a) / policy.period) for a, b in missing)
    return ValidationResult(
        readings=list(out.values()), missing=missing, flags=flags, power_failures=power
    )


@functools.lru_cache(maxsize=1024)
def _is_cumulative(channel: str) -> bool:
    g = _group(channel)
    return g is not None and g[3] == 8


def check_cumulative(readings: Sequence[Reading]) -> list[Reading]:
    """Flag cumulative register readings (D = 8) lower than the previous reading of the
    same meter and channel (non-monotonic); other readings pass through unchanged."""
    last: dict[tuple[str, str], float] = {}
    out = [r for r in readings if not _is_cumulative(r.channel)]
    registers = [r for r in readings if _is_cumulative(r.channel)]
    for reading in sorted(registers, key=lambda r: (r.meter, r.channel, r.start)):
        g = _group(reading.channel)
        key = (reading.meter, reading.channel)
        value = reading.value
        if g is not None and g[3] == 8 and value is not None:
            previous = last.get(key)
            if previous is not None and value < previous:
                reading = attrs.evolve(reading, quality=reading.quality | {Quality.NON_MONOTONIC})
                value = previous
            last[key] = value
        out.append(reading)
    return out
