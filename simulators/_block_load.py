"""Block load profile rows of a simulated meter (IS 15959-2 block load, 15 minutes).

A day of rows per read, for every meter of a fleet: raw values come from value tuples
(``MeteringPoint.reported_values``), each column's A-XDR values are built at once
(``column``), and the time stamps are looked up by interval while the meter clock reads
true time: the same rows as building each one alone.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import functools
from collections.abc import Callable, Sequence
from typing import Final

from dlmskit.axdr import Data, DoubleLong, DoubleLongUnsigned, Long, LongUnsigned, Structure
from obis import ObisCode
from simulators._attributes import BLOCK_LOAD_DAYS
from simulators._load import INTERVAL, interval_index
from simulators._measure import MeteringPoint
from simulators._registers import BLOCK_REGISTERS, REGISTERS, block_rows
from simulators._state import MeterState

__all__ = ["block_load_rows", "block_order", "block_wraps"]

_EPOCH: Final = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_INTERVAL_US: Final = INTERVAL * 1_000_000


def block_load_rows(
    state: MeterState, window: tuple[_dt.datetime, _dt.datetime] | None
) -> list[Structure]:
    """The block load rows the meter holds (those stamped within ``window``, in meter
    time, when given)."""
    point = state.point
    end = interval_index(state.now())
    first = max(point.model.first_index, end - BLOCK_LOAD_DAYS * 96)
    if window is not None:
        # the window is in meter time; the drift at those times maps it to intervals
        lo = interval_index(window[0] - state.clock_offset(window[0])) - 1
        hi = interval_index(window[1] - state.clock_offset(window[1])) + 2
        first, end = max(first, lo), min(end, hi)
    columns = _raw_columns(point, first, end)
    if not columns:
        return []
    indexes = columns[0]
    if state.true_clock:
        # stamps are the interval starts: the window is a range of indexes
        if window is not None:
            low = bisect.bisect_left(indexes, -(-_microseconds(window[0]) // _INTERVAL_US))
            high = bisect.bisect_right(indexes, _microseconds(window[1]) // _INTERVAL_US)
            if low == high:
                return []
            if (low, high) != (0, len(indexes)):
                columns = [column[low:high] for column in columns]
        octets = state.interval_octets(columns[0])
    else:
        stamps = state.stamps(list(indexes))
        if window is not None:
            kept = [n for n, stamp in enumerate(stamps) if window[0] <= stamp <= window[1]]
            if not kept:
                return []
            columns = [[column[n] for n in kept] for column in columns]
            stamps = [stamps[n] for n in kept]
        octets = state.date_time_octets_of(stamps)
    cells = [
        wrap(column)
        for wrap, column in zip(block_columns(point.model.phases), columns[1:], strict=True)
    ]
    return list(map(Structure, zip(octets, *cells, strict=True)))


def _raw_columns(point: MeteringPoint, first: int, end: int) -> list[Sequence[int]]:
    """The columns of ``block_rows(point, first, end)``: interval indexes, then the raw
    values in ``block_order``; none when no interval was reported. A single-phase meter's
    are the reported values' own columns, reordered."""
    if point.model.phases == 1:
        values = point.reported_values(first, end)
        if not values:
            return []
        index, import_wh, import_vah, export_wh, export_vah, volts, amps = zip(*values, strict=True)
        # block_rows: (index, voltage, the four energies, current)
        return [index, volts, import_wh, import_vah, export_wh, export_vah, amps]
    table = block_rows(point, first, end)
    return list(zip(*table, strict=True)) if table else []


def _microseconds(when: _dt.datetime) -> int:
    """Microseconds from 1970 UTC to ``when``, exactly."""
    return (when - _EPOCH) // _dt.timedelta(microseconds=1)


def block_order(phases: int) -> tuple[ObisCode, ...]:
    """The registers of a block load row after the clock, by the meter's phases."""
    return BLOCK_REGISTERS[1 if phases == 1 else 3]


@functools.lru_cache(maxsize=4)
def block_wraps(phases: int) -> tuple[Callable[[int], Data], ...]:
    """The A-XDR type of each block load column after the clock."""
    return tuple(REGISTERS[ln].wrap for ln in block_order(phases))


_COLUMN_TYPES: Final = (LongUnsigned, DoubleLongUnsigned, Long, DoubleLong)


def _column_of(wrap: Callable[[int], Data]) -> Callable[[Sequence[int]], Sequence[Data]]:
    for kind in _COLUMN_TYPES:
        if wrap is kind:
            return kind.column
    return lambda values: [wrap(v) for v in values]


@functools.lru_cache(maxsize=4)
def block_columns(phases: int) -> tuple[Callable[[Sequence[int]], Sequence[Data]], ...]:
    """Each block load column after the clock, raw values to A-XDR values."""
    return tuple(map(_column_of, block_wraps(phases)))
