"""Store rows straight from a pulled block load read: the columnar path of collection.

What a session with a meter leaves in the store is :func:`~hes.validate_block_load`'s
readings, the daily registers read with them and :func:`~hes.check_cumulative`'s
non-monotonic flags, each turned into a :data:`~hes.ReadingRow`. Most of that work is per
reading (about 600 a meter a day) while the checks are per interval row (96) or per
channel. :func:`block_load_rows` works on columns (:class:`~hes.IntervalColumns`, as a
session reads them): what the stamps give (interval starts, alignment, duplicates, the
rows in range, the runs missing) is worked out once per distinct column of stamps (the
meters of a fleet stamp the same intervals), the flags of a row are a bit mask found once
and shared by its channels, the spike and sum checks run on each channel's column, and
the store rows of a channel are zipped from its column with no object per row between.

The rows are those the readings path leads the store to keep, in the store's key order
within the meter: channel by channel (in the order of the columns, then the registers
read beside them), each channel's rows by interval start; rows of one key keep the order
the readings path gives them, so the store keeps the same table (tests compare the two
on generated reads).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import operator
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import compress, repeat
from typing import Final, TypeAlias, cast

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
    IntervalColumns,
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
_EPOCH: Final = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
#: Quality text per mask, filled as masks occur.
_TEXT: dict[int, str] = {}
_by_key = operator.itemgetter(0)
#: A channel's units: one for every row, or one per row.
_Units: TypeAlias = str | Sequence[str]
#: A store row with what orders it (interval start, exact for cumulative registers) and
#: its flag mask.
_Keyed: TypeAlias = tuple[int, int, ReadingRow]


def _text(mask: int) -> str:
    found = _TEXT.get(mask)
    if found is None:
        found = _TEXT[mask] = quality_text(
            frozenset(q for n, q in enumerate(_BITS) if mask >> n & 1)
        )
    return found


def _microseconds(since: _dt.timedelta) -> int:
    return (since.days * 86400 + since.seconds) * 1_000_000 + since.microseconds


@attrs.frozen(kw_only=True)
class BlockLoadRows:
    """Store rows of one block load read, with what validation found beside them."""

    rows: list[ReadingRow]
    """Validated readings and the register readings, as :data:`~hes.ReadingRow`, channel
    by channel (as read), each channel's by interval start: the store's key order."""
    missing: list[tuple[_dt.datetime, _dt.datetime]]
    """Runs of interval starts ``[first, end)`` the range should have had."""
    flags: Counter[Quality]
    """Flag counts of the validated readings (as :attr:`ValidationResult.flags`)."""
    power_failures: list[tuple[_dt.datetime, _dt.datetime]]
    newest: dict[str, int] = attrs.field(factory=dict)
    """Per channel, the newest interval start (epoch seconds) among its rows."""


class _Table:
    """A read as columns, with per-row units and presence where rows differ."""

    __slots__ = ("captured", "channels", "present", "statuses", "units", "values")

    def __init__(
        self,
        captured: Sequence[_dt.datetime],
        statuses: Sequence[int | None],
        channels: Sequence[str],
        values: Sequence[Sequence[float | None]],
        units: Sequence[_Units],
        present: Sequence[Sequence[bool] | None],
    ) -> None:
        self.captured = captured
        self.statuses = statuses
        self.channels = channels
        self.values = values
        self.units = units
        #: Per channel, whether each row has it (``None``: every row does).
        self.present = present

    @classmethod
    def of(cls, rows: Sequence[IntervalRow] | IntervalColumns) -> _Table:
        if isinstance(rows, IntervalColumns):
            every: list[Sequence[bool] | None] = [None] * len(rows.channels)
            return cls(
                rows.captured, rows.clock_status, rows.channels, rows.values, rows.units, every
            )
        index: dict[str, int] = {}
        for row in rows:
            for channel in row.values:
                if channel not in index:
                    index[channel] = len(index)
        count = len(rows)
        values: list[list[float | None]] = [[None] * count for _ in index]
        units: list[list[str]] = [[""] * count for _ in index]
        present = [[False] * count for _ in index]
        for n, row in enumerate(rows):
            for channel, (value, unit) in row.values.items():
                c = index[channel]
                values[c][n] = value
                units[c][n] = unit
                present[c][n] = True
        return cls(
            [row.captured for row in rows],
            [row.clock_status for row in rows],
            list(index),
            values,
            [_one_unit(u, p) for u, p in zip(units, present, strict=True)],
            [None if all(p) else p for p in present],
        )

    def row_key(self, n: int) -> tuple[tuple[bool, float | None, str], ...]:
        """What a row holds, to tell a repeated row from a different one."""
        return tuple(
            (
                present is None or present[n],
                column[n],
                unit if isinstance(unit, str) else unit[n],
            )
            for column, unit, present in zip(self.values, self.units, self.present, strict=True)
        )


def _one_unit(units: list[str], present: list[bool]) -> _Units:
    """One unit for the column when the rows that have it agree."""
    found = {u for u, p in zip(units, present, strict=True) if p}
    return found.pop() if len(found) == 1 else units


class _StampColumns:
    """What the stamps of a read give whatever its values (the same for every meter that
    stamps the same intervals): the row kept for each interval start, the rows in range
    by start with their stamps and alignment, the repeated rows, the runs missing."""

    __slots__ = (
        "captured",
        "duplicates",
        "every_kept",
        "kept",
        "kept_starts",
        "misaligned",
        "missing",
        "order",
        "position",
        "span",
        "starts",
    )

    def __init__(
        self,
        captured: Sequence[_dt.datetime],
        shift: _dt.timedelta | None,
        policy: ValidationPolicy,
        start: _dt.datetime,
        end: _dt.datetime,
    ) -> None:
        period = policy.period
        step = int(period.total_seconds())
        tolerance = _microseconds(policy.alignment_tolerance)
        # interval start (epoch seconds, rounded to the period) -> the first row there
        first_at: dict[int, int] = {}
        later: list[tuple[int, int]] = []
        seconds: list[int] = []
        aligned: list[int] = []
        for n, when in enumerate(captured):
            when = utc(when)
            since = when - _EPOCH
            stamp = since.total_seconds()
            near = round(stamp / step) * step
            nominal = near if shift is None else epoch_seconds(_nearest(when - shift, period))
            # abs(captured - nearest) > tolerance, in whole microseconds
            off = (since.days * 86400 + since.seconds - near) * 1_000_000 + since.microseconds
            seconds.append(int(stamp))
            aligned.append(_MISALIGNED if abs(off) > tolerance else 0)
            if nominal in first_at:
                later.append((first_at[nominal], n))
            else:
                first_at[nominal] = n
        #: rows first at their interval start, in the order read, and those starts
        self.kept = list(first_at.values())
        self.kept_starts = list(first_at)
        self.every_kept = len(self.kept) == len(captured)
        # [start, end) as whole epoch seconds: the first second at or after each bound
        first, stop = _ceil_seconds(start), _ceil_seconds(end)
        inside = sorted((w, n) for w, n in first_at.items() if first <= w < stop)
        #: the kept rows in range by interval start, their starts and stamps (epoch seconds)
        self.order = [n for _w, n in inside]
        self.starts = [w for w, _n in inside]
        self.captured = [seconds[n] for n in self.order]
        self.misaligned = [aligned[n] for n in self.order]
        low = self.order[0] if self.order else 0
        #: the rows in range as a slice of the read, when they are one
        self.span = (
            slice(low, low + len(self.order))
            if self.order == list(range(low, low + len(self.order)))
            else None
        )
        #: position in range of each row in range
        self.position = {n: p for p, n in enumerate(self.order)}
        #: (position in range of a kept row, a later row with the same interval start)
        self.duplicates = [(self.position[k], n) for k, n in later if k in self.position]
        self.missing = _gap_runs(set(first_at), start, end, period)


#: Stamp columns by (stamps, shift, period, tolerance, range). Bounded: cleared when full.
_STAMPS: dict[object, _StampColumns] = {}
_STAMPS_LIMIT: Final = 256


def _stamp_columns(
    captured: Sequence[_dt.datetime],
    shift: _dt.timedelta | None,
    policy: ValidationPolicy,
    start: _dt.datetime,
    end: _dt.datetime,
) -> _StampColumns:
    """:class:`_StampColumns` of ``captured``, worked out once per distinct stamps."""
    key = (tuple(captured), shift, policy.period, policy.alignment_tolerance, start, end)
    found = _STAMPS.get(key)
    if found is None:
        if len(_STAMPS) >= _STAMPS_LIMIT:
            _STAMPS.clear()
        found = _STAMPS[key] = _StampColumns(captured, shift, policy, start, end)
    return found


def _ceil_seconds(when: _dt.datetime) -> int:
    """The first whole epoch second at or after ``when``."""
    since = utc(when) - _EPOCH
    return since.days * 86400 + since.seconds + (1 if since.microseconds else 0)


def block_load_rows(
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
) -> BlockLoadRows:
    """The rows a session's read leaves in the store: :func:`~hes.validate_block_load`'s
    readings and one reading per register value (source ``PULL``, no captured time,
    received at ``received``), after :func:`~hes.check_cumulative`, each as
    :func:`~hes.reading_row` gives it, in the store's key order. Same arguments as
    :func:`~hes.validate_block_load` (``rows`` as :class:`~hes.IntervalRow` values or as
    :class:`~hes.IntervalColumns`)."""
    policy = policy or ValidationPolicy()
    start, end = utc(start), utc(end)
    table = _Table.of(rows)
    tamper = _windows(events, _LOG_CURRENT) + _windows(events, _LOG_OTHER) if events else []
    power = _windows(events, _LOG_POWER) if events else []
    deviated = clock_deviation is not None and abs(clock_deviation) > policy.clock_threshold
    shift = clock_deviation if deviated else None
    stamps = _stamp_columns(table.captured, shift, policy, start, end)
    masks = _row_masks(table, stamps, net_metered, tamper, power, deviated)
    extra = _channel_marks(table, stamps, policy, registers, start, end)

    kind = int(source)
    received_seconds = epoch_seconds(received)
    groups = _register_rows(meter, registers, received_seconds)
    out: list[ReadingRow] = []
    newest: dict[str, int] = {}
    # readings per flag mask, for the counts; channels whose rows all carry the row flags
    by_mask: Counter[int] = Counter()
    plain = 0
    order, starts, captured = stamps.order, stamps.starts, stamps.captured
    span = stamps.span
    # the rows' flag texts, or the one text of them all
    texts = [_TEXT.get(m) or _text(m) for m in masks] if len(set(masks)) > 1 else None
    text_mask = masks[0] if masks else 0
    text = _text(text_mask)
    for c, channel in enumerate(table.channels):
        column = table.values[c]
        values = column[span] if span is not None else [column[n] for n in order]
        unit = table.units[c]
        units: Iterable[str] = (
            repeat(unit)
            if isinstance(unit, str)
            else (unit[span] if span is not None else [unit[n] for n in order])
        )
        marks = extra.get(c)
        own = masks
        own_texts: Iterable[str] = repeat(text) if texts is None else texts
        if marks is not None:
            own = masks.copy()
            for n, bits in marks.items():
                p = stamps.position.get(n)
                if p is not None:
                    own[p] |= bits
            own_texts = list(map(_text, own))
        made: Iterable[ReadingRow] = zip(
            repeat(meter),
            repeat(channel),
            starts,
            values,
            units,
            own_texts,
            captured,
            repeat(received_seconds),
            repeat(kind),
        )
        present = table.present[c]
        if present is not None:
            has = present[span] if span is not None else [present[n] for n in order]
            made = compress(made, has)
            by_mask.update(compress(own, has))
        elif marks is not None:
            by_mask.update(own)
        else:
            plain += 1
        before = len(out)
        registered = groups.pop(channel, None)
        if registered is None and not _is_cumulative(channel):
            out.extend(made)
        else:
            mine = list(made)
            kept = own if present is None else list(compress(own, has))
            keyed = [(r[2] * 1_000_000, m, r) for r, m in zip(mine, kept, strict=True)]
            out.extend(_in_order(keyed, registered or [], _is_cumulative(channel)))
        if len(out) > before:
            # a channel's rows go by interval start: its last is its newest
            newest[channel] = out[-1][2]
    for channel, registered in groups.items():
        out.extend(_in_order([], registered, _is_cumulative(channel)))
        newest[channel] = out[-1][2]

    if plain:
        for mask, count in (
            Counter(masks) if texts is not None else {text_mask: len(masks)}
        ).items():
            by_mask[mask] += count * plain
    flags: Counter[Quality] = Counter()
    for mask, count in by_mask.items():
        if mask and count:
            for n, flag in enumerate(_BITS):
                if mask >> n & 1:
                    flags[flag] += count
    missing = list(stamps.missing)
    if missing:
        flags[Quality.SKIPPED] += sum(int((b - a) / policy.period) for a, b in missing)
    return BlockLoadRows(
        rows=out, missing=missing, flags=flags, power_failures=power, newest=newest
    )


def _row_masks(
    table: _Table,
    stamps: _StampColumns,
    net_metered: bool,
    tamper: Sequence[tuple[_dt.datetime, _dt.datetime]],
    power: Sequence[tuple[_dt.datetime, _dt.datetime]],
    deviated: bool,
) -> list[int]:
    """The flags each row in range shares with all its channels, as bit masks."""
    order = stamps.order
    masks = [m | _CLOCK_DEVIATION for m in stamps.misaligned] if deviated else stamps.misaligned[:]
    statuses = table.statuses
    if any(statuses) and any(s is not None and s & _BAD_CLOCK for s in set(statuses)):
        for p, n in enumerate(order):
            status = statuses[n]
            if status is not None and status & _BAD_CLOCK:
                masks[p] |= _CLOCK_STATUS
    if tamper or power:
        for p, n in enumerate(order):
            when = utc(table.captured[n])
            if tamper and _inside(when, tamper):
                masks[p] |= _TAMPER
            if power and _inside(when, power):
                masks[p] |= _POWER
    if not net_metered:
        for channel, column in zip(table.channels, table.values, strict=True):
            # nothing to look at in a column of zeros (and None)
            if not is_export_energy(channel) or not any(column):
                continue
            for p, n in enumerate(order):
                value = column[n]
                if value is not None and value > 0:
                    masks[p] |= _REVERSE
    for p, later in stamps.duplicates:
        if not masks[p] & _DUPLICATE and table.row_key(order[p]) != table.row_key(later):
            masks[p] |= _DUPLICATE
    return masks


def _channel_marks(
    table: _Table,
    stamps: _StampColumns,
    policy: ValidationPolicy,
    registers: Mapping[_dt.datetime, Mapping[str, float]] | None,
    start: _dt.datetime,
    end: _dt.datetime,
) -> dict[int, dict[int, int]]:
    """Per channel (by position), the rows (by position in the read) its spike and sum
    checks flag, with the flags."""
    extra: dict[int, dict[int, int]] = {}
    kept = stamps.kept
    every = stamps.every_kept
    for c, channel in enumerate(table.channels):
        if not (is_block_energy(channel) and is_import_energy(channel)):
            continue
        column = table.values[c]
        if not every:
            column = [column[n] for n in kept]
        present = cast(list[float], column)
        try:
            ordered = sorted(present)
        except TypeError:  # None among the values (no other value fails to compare)
            present = [v for v in column if v is not None]
            ordered = sorted(present)
        count = len(ordered)
        if count < 4:
            continue
        # statistics.median of the values, from the sorted list at hand
        middle = count // 2
        median = ordered[middle] if count % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        limit = max(median * policy.spike_ratio, median + policy.spike_floor)
        if max(present) <= limit:
            continue
        marks = extra.setdefault(c, {})
        for n, v in zip(kept, column, strict=True):
            if v is not None and v > limit:
                marks[n] = marks.get(n, 0) | _SPIKE
    if not registers or not any(map(is_block_energy, table.channels)):
        return extra
    instants = sorted(utc(k) for k in registers)
    regs = {utc(k): v for k, v in registers.items()}
    moments = [(n, _at(when, _dt.UTC)) for n, when in zip(kept, stamps.kept_starts, strict=True)]
    spans = [
        (a, b, [n for n, m in moments if a <= m < b])
        for a, b in itertools.pairwise(instants)
        if not (a < start or b > end)
    ]
    for c, channel in enumerate(table.channels):
        if not is_block_energy(channel):
            continue
        register = register_of(channel)
        column = table.values[c]
        for a, b, inside in spans:
            if register not in regs[a] or register not in regs[b]:
                continue
            # a missing row is a power failure: no energy, nothing to add
            total = sum(column[n] or 0.0 for n in inside)
            delta = regs[b][register] - regs[a][register]
            tolerance = policy.sum_resolution * (len(inside) / 2 + 2)
            if abs(total - delta) > tolerance:
                marks = extra.setdefault(c, {})
                for n in inside:
                    marks[n] = marks.get(n, 0) | _SUM_CHECK
    return extra


def _register_rows(
    meter: str,
    registers: Mapping[_dt.datetime, Mapping[str, float]] | None,
    received: int,
) -> dict[str, list[_Keyed]]:
    """Store rows of the register values by channel, each with its exact instant in
    microseconds (the order of the monotonic check)."""
    groups: dict[str, list[_Keyed]] = {}
    if not registers:
        return groups
    pull = int(ReadingSource.PULL)
    valid = _text(0)
    for instant, values in registers.items():
        moment = utc(instant)
        exact = _microseconds(moment - _EPOCH)
        seconds = epoch_seconds(moment)
        for channel, value in values.items():
            row = (meter, channel, seconds, value, "", valid, None, received, pull)
            groups.setdefault(channel, []).append((exact, 0, row))
    return groups


def _in_order(block: list[_Keyed], registered: list[_Keyed], cumulative: bool) -> list[ReadingRow]:
    """One channel's block load rows (by interval start) and register rows (as read)
    together by start; rows of one start keep that order (the store keeps the first). A
    cumulative register (D = 8) is ordered by exact instant and checked: a value below the
    one before it is flagged non-monotonic."""
    if cumulative:
        merged = sorted(block + registered, key=_by_key)
    else:
        merged = sorted(block + registered, key=lambda k: k[2][2])
        return [row for _key, _mask, row in merged]
    out: list[ReadingRow] = []
    last: float | None = None
    for _key, mask, row in merged:
        value = row[3]
        if value is not None:
            if last is not None and value < last:
                text = _text(mask | _NON_MONOTONIC)
                row = (row[0], row[1], row[2], value, row[4], text, row[6], row[7], row[8])
                value = last
            last = value
        out.append(row)
    return out
