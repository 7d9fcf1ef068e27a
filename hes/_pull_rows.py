"""Store rows straight from a pulled block load read: the columnar path of collection.

What a session with a meter leaves in the store is :func:`~hes.validate_block_load`'s
readings, the daily registers read with them and :func:`~hes.check_cumulative`'s
non-monotonic flags, each turned into a :data:`~hes.ReadingRow`. Most of that work is per
reading (about 600 a meter a day) while the checks are per interval row (96) or per
channel. :func:`block_load_rows` does the per-row work once: the flags of a row are a
bit mask found once and shared by its channels, the quality text is looked up per mask,
the spike and sum checks run on each channel's column of values, and the rows go to
:meth:`~hes.Store.put_reading_rows` without a :class:`~hes.Reading` in between.

The rows are exactly those the readings path leads the store to keep, in the same order
(tests compare the two on generated reads).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence

import attrs

from hes._gapledger import _gap_runs
from hes._model import MeterEventRecord, ReadingSource, epoch_seconds, utc
from hes._quality import Quality, quality_text
from hes._store import ReadingRow
from hes._validate import (
    _BAD_CLOCK,
    _LOG_CURRENT,
    _LOG_OTHER,
    _LOG_POWER,
    IntervalRow,
    ValidationPolicy,
    _inside,
    _is_cumulative,
    _nearest,
    _windows,
    is_block_energy,
    is_export_energy,
    is_import_energy,
    register_of,
)

__all__ = ["BlockLoadRows", "block_load_rows"]

#: Row flags as bits, in the order a reading's flags are counted.
_BITS = (
    Quality.MISALIGNED,
    Quality.CLOCK_STATUS,
    Quality.CLOCK_DEVIATION,
    Quality.TAMPER,
    Quality.POWER_FAILURE,
    Quality.DUPLICATE,
    Quality.REVERSE_ENERGY,
    Quality.SPIKE,
    Quality.SUM_CHECK,
    Quality.NON_MONOTONIC,
)
_MISALIGNED, _CLOCK_STATUS, _CLOCK_DEVIATION, _TAMPER, _POWER = 1, 2, 4, 8, 16
_DUPLICATE, _REVERSE, _SPIKE, _SUM_CHECK, _NON_MONOTONIC = 32, 64, 128, 256, 512
_at = _dt.datetime.fromtimestamp
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_NO_VALUE: tuple[None, str] = (None, "")
#: Quality text per mask, filled as masks occur.
_TEXT: dict[int, str] = {}


def _microseconds(span: _dt.timedelta) -> int:
    return (span.days * 86400 + span.seconds) * 1_000_000 + span.microseconds


def _ceil_seconds(when: _dt.datetime) -> int:
    """The first whole epoch second at or after ``when``."""
    since = utc(when) - _EPOCH
    return since.days * 86400 + since.seconds + (1 if since.microseconds else 0)


def _plain_rows(
    meter: str,
    plain: Sequence[tuple[int, str, int, Mapping[str, tuple[float | None, str]]]],
    received: int,
    kind: int,
) -> list[ReadingRow]:
    """Store rows of rows whose channels all carry the row's flags, in order."""
    return [
        (meter, ch, when, v, u, text, captured, received, kind)
        for when, text, captured, values in plain
        for ch, (v, u) in values.items()
    ]


def _text(mask: int) -> str:
    found = _TEXT.get(mask)
    if found is None:
        found = _TEXT[mask] = quality_text(
            frozenset(q for n, q in enumerate(_BITS) if mask >> n & 1)
        )
    return found


@attrs.frozen(kw_only=True)
class BlockLoadRows:
    """Store rows of one block load read, with what validation found beside them."""

    rows: list[ReadingRow]
    """Validated readings, then the register readings, as :data:`~hes.ReadingRow`."""
    missing: list[tuple[_dt.datetime, _dt.datetime]]
    """Runs of interval starts ``[first, end)`` the range should have had."""
    flags: Counter[Quality]
    """Flag counts of the validated readings (as :attr:`ValidationResult.flags`)."""
    power_failures: list[tuple[_dt.datetime, _dt.datetime]]


def block_load_rows(
    meter: str,
    rows: Sequence[IntervalRow],
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
) -> BlockLoadRows:
    """The rows a session's read leaves in the store: :func:`~hes.validate_block_load`'s
    readings followed by one reading per register value (source ``PULL``, no captured
    time, received at ``received``), after :func:`~hes.check_cumulative`, each as
    :func:`~hes.reading_row` gives it. Same arguments as
    :func:`~hes.validate_block_load`."""
    policy = policy or ValidationPolicy()
    start, end = utc(start), utc(end)
    period = policy.period
    tolerance = policy.alignment_tolerance
    tamper = _windows(events, _LOG_CURRENT) + _windows(events, _LOG_OTHER)
    power = _windows(events, _LOG_POWER)
    deviated = clock_deviation is not None and abs(clock_deviation) > policy.clock_threshold
    shift = clock_deviation if deviated and clock_deviation is not None else None
    common = _CLOCK_DEVIATION if deviated else 0

    # interval starts are whole seconds (rounded to the period), kept as epoch seconds
    by_start: dict[int, IntervalRow] = {}
    masks: dict[int, int] = {}
    # every channel read, to classify each once (a read has the same few on every row)
    every: set[str] = set()
    for row in rows:
        every.update(row.values)
    exports = [] if net_metered else [ch for ch in every if is_export_energy(ch)]
    cumulative_channels = {ch for ch in every if _is_cumulative(ch)}
    # epoch seconds of each row's stamp (the store's key beside the interval start)
    captured_at: dict[int, int] = {}
    step = int(period.total_seconds())
    tolerance_us = _microseconds(tolerance)
    for row in rows:
        captured = row.captured
        since = captured - _EPOCH
        # captured.timestamp(), and _nearest(captured, period) in epoch seconds
        stamp = since.total_seconds()
        near_seconds = round(stamp / step) * step
        if shift is None:
            nominal = near_seconds
        else:
            nominal = epoch_seconds(_nearest(captured - shift, period))
        if nominal in by_start:
            if dict(by_start[nominal].values) != dict(row.values):
                masks[nominal] |= _DUPLICATE
            continue
        mask = common
        # abs(captured - near) > tolerance, in whole microseconds
        off = (since.days * 86400 + since.seconds - near_seconds) * 1_000_000 + since.microseconds
        if abs(off) > tolerance_us:
            mask |= _MISALIGNED
        status = row.clock_status
        if status is not None and status & _BAD_CLOCK:
            mask |= _CLOCK_STATUS
        if tamper and _inside(captured, tamper):
            mask |= _TAMPER
        if power and _inside(captured, power):
            mask |= _POWER
        for channel in exports:
            pair = row.values.get(channel)
            if pair is not None and (value := pair[0]) is not None and value > 0:
                mask |= _REVERSE
                break
        by_start[nominal] = row
        masks[nominal] = mask
        captured_at[nominal] = int(stamp)

    # per interval start: the channels flagged spike or sum check
    extra: dict[int, dict[str, int]] = {}
    channels = {ch for row in by_start.values() for ch in row.values}
    block = [ch for ch in channels if is_block_energy(ch)]
    starts = list(by_start)
    row_maps = [row.values for row in by_start.values()]
    for channel in block:
        if not is_import_energy(channel):
            continue
        column = [values.get(channel, _NO_VALUE)[0] for values in row_maps]
        present = [v for v in column if v is not None]
        if len(present) < 4:
            continue
        median = statistics.median(present)
        limit = max(median * policy.spike_ratio, median + policy.spike_floor)
        if max(present) <= limit:
            continue
        for when, v in zip(starts, column, strict=True):
            if v is not None and v > limit:
                marks = extra.setdefault(when, {})
                marks[channel] = marks.get(channel, 0) | _SPIKE
    if registers and block:
        instants = sorted(utc(k) for k in registers)
        regs = {utc(k): v for k, v in registers.items()}
        moments = {w: _at(w, _dt.UTC) for w in by_start}
        spans = [
            (a, b, [w for w, m in moments.items() if a <= m < b])
            for a, b in itertools.pairwise(instants)
            if not (a < start or b > end)
        ]
        for channel in block:
            register = register_of(channel)
            for a, b, inside in spans:
                if register not in regs[a] or register not in regs[b]:
                    continue
                total = sum(by_start[w].values.get(channel, (0.0, ""))[0] or 0.0 for w in inside)
                delta = regs[b][register] - regs[a][register]
                tolerance_sum = policy.sum_resolution * (len(inside) / 2 + 2)
                if abs(total - delta) > tolerance_sum:
                    for when in inside:
                        marks = extra.setdefault(when, {})
                        marks[channel] = marks.get(channel, 0) | _SUM_CHECK

    out: list[ReadingRow] = []
    # cumulative registers (D = 8) go after the rest, sorted, for the monotonic check
    cumulative: list[tuple[str, int, int, ReadingRow]] = []
    # readings per flag mask, for the counts
    by_mask: dict[int, int] = {}
    kind = int(source)
    received_seconds = epoch_seconds(received)
    # [start, end) as whole epoch seconds: the first second at or after each bound
    first, stop = _ceil_seconds(start), _ceil_seconds(end)
    # rows without per-channel flags: (interval start, flags text, stamp, values)
    plain: list[tuple[int, str, int, Mapping[str, tuple[float | None, str]]]] = []
    for when in sorted(by_start):
        if not first <= when < stop:
            continue
        row = by_start[when]
        mask = masks[when]
        text = _text(mask)
        special = extra.get(when)
        row_values = row.values
        if special is None and not cumulative_channels:
            # the common row: every channel with the row's flags
            plain.append((when, text, captured_at[when], row_values))
            if row_values:
                by_mask[mask] = by_mask.get(mask, 0) + len(row_values)
            continue
        if plain:
            out.extend(_plain_rows(meter, plain, received_seconds, kind))
            plain = []
        captured_seconds = captured_at[when]
        for channel, (value, unit) in row_values.items():
            own = mask | special.get(channel, 0) if special is not None else mask
            by_mask[own] = by_mask.get(own, 0) + 1
            found: ReadingRow = (
                meter,
                channel,
                when,
                value,
                unit,
                text if own == mask else _text(own),
                captured_seconds,
                received_seconds,
                kind,
            )
            if channel in cumulative_channels:
                cumulative.append((channel, when, own, found))
            else:
                out.append(found)
    if plain:
        out.extend(_plain_rows(meter, plain, received_seconds, kind))
    flags: Counter[Quality] = Counter()
    for n, flag in enumerate(_BITS):
        count = sum(c for mask, c in by_mask.items() if mask >> n & 1)
        if count:
            flags[flag] = count

    pull = int(ReadingSource.PULL)
    valid = _text(0)
    for instant, values in (registers or {}).items():
        when_seconds = epoch_seconds(utc(instant))
        for channel, value in values.items():
            found = (meter, channel, when_seconds, value, "", valid, None, received_seconds, pull)
            if _is_cumulative(channel):
                cumulative.append((channel, when_seconds, 0, found))
            else:
                out.append(found)

    cumulative.sort(key=lambda c: (c[0], c[1]))
    last: dict[str, float] = {}
    for channel, _when, own, found in cumulative:
        value = found[3]
        if value is not None:
            previous = last.get(channel)
            if previous is not None and value < previous:
                found = (
                    found[0],
                    found[1],
                    found[2],
                    found[3],
                    found[4],
                    _text(own | _NON_MONOTONIC),
                    found[6],
                    found[7],
                    found[8],
                )
                value = previous
            last[channel] = value
        out.append(found)

    missing = _gap_runs(set(by_start), start, end, period)
    if missing:
        flags[Quality.SKIPPED] += sum(int((b - a) / period) for a, b in missing)
    return BlockLoadRows(rows=out, missing=missing, flags=flags, power_failures=power)
