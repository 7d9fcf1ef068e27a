"""Profile rows as plain numbers: the shape a head-end stores (Blue Book 4.3.6).

:meth:`ProfileColumns.rows` gives every register value as an exact :class:`Quantity`;
a head-end reading a day of 15-minute rows from every meter wants floats and the
capture time. :func:`numeric_rows` gives, per buffer entry, the capture time, the clock
status of the capture time column and one ``float`` (or ``None``) per column;
:func:`numeric_columns` gives the same as columns (one list per column, no object per
entry), the shape a head-end validating a day of rows works on. Each number is equal
to ``float()`` of what :meth:`ProfileColumns.rows` makes of it: an integer register value
is scaled by exact integer arithmetic (one correctly rounded division or product, the
same float as the exact decimal); anything else goes through :func:`register_quantity`.
A capture time stamp decodes once per distinct 12 octets (meters of a fleet stamp the
same intervals), with every field check of :meth:`DateTime.from_bytes`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
import operator
from collections.abc import Mapping, Sequence
from typing import Final, TypeAlias, cast

import attrs

from dlmskit.axdr import Array, Data, DateTime, DeviationSign, OctetString, Structure
from dlmskit.cosem._capture import ScalerUnit
from dlmskit.cosem._client import _symbol, clock_datetime, register_quantity
from dlmskit.cosem._client_profile import ProfileColumns
from dlmskit.errors import DecodeError
from obis import ObisCode

__all__ = ["NumericColumns", "NumericRow", "column_units", "numeric_columns", "numeric_rows"]

# what to do with one column's value
_SCALED, _DATE_TIME, _CLOCK, _PLAIN = range(4)


@attrs.frozen(kw_only=True)
class NumericRow:
    """One buffer entry: capture time (``None`` when the clock column has none), the
    clock status of that column, and per column a number (``None``: not a number, or a
    date-time)."""

    time: _dt.datetime | None
    clock_status: int | None
    values: tuple[float | None, ...]


@attrs.frozen(kw_only=True)
class NumericColumns:
    """The entries of a buffer as columns: per entry the capture time and the clock status
    of the capture time column (as :class:`NumericRow` has them), and per column one list
    of numbers, an item per entry."""

    times: list[_dt.datetime | None]
    clock_statuses: list[int | None]
    values: tuple[list[float | None], ...]

    def __len__(self) -> int:
        return len(self.times)

    def rows(self) -> list[NumericRow]:
        """The same entries as :class:`NumericRow` values."""
        per_entry = zip(*self.values, strict=True) if self.values else itertools.repeat(())
        return [
            NumericRow(time=t, clock_status=found, values=values)
            for t, found, values in zip(self.times, self.clock_statuses, per_entry, strict=False)
        ]


def column_units(
    columns: ProfileColumns, scalers: Mapping[ObisCode, ScalerUnit] | None = None
) -> tuple[str, ...]:
    """The unit symbol of each column (``""`` without a scaler), as
    :attr:`Quantity.symbol` gives it."""
    return tuple(
        "" if scaler is None else _symbol(int(scaler.unit))
        for scaler, _date_time, _clock in columns._plan(scalers)
    )


@functools.lru_cache(maxsize=4096)
def _stamp(
    raw: bytes, sign: DeviationSign, tz: _dt.tzinfo | None
) -> tuple[_dt.datetime | None, int | None]:
    """(the moment, the clock status) of a 12-octet date-time; ``None`` for what it
    does not give."""
    try:
        stamp = DateTime.from_bytes(raw)
    except DecodeError:
        return None, None
    status = None if stamp.clock_status is None else int(stamp.clock_status)
    try:
        return clock_datetime(stamp, sign=sign, tz=tz), status
    except DecodeError:
        return None, status


def _number(value: Data) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return None


def numeric_rows(
    columns: ProfileColumns,
    buffer: Data,
    *,
    sign: DeviationSign,
    scalers: Mapping[ObisCode, ScalerUnit] | None = None,
    tz: _dt.tzinfo | None = None,
) -> list[NumericRow]:
    """The entries of a buffer read with ``columns`` as numbers (see the module text).

    Raises :class:`DecodeError` like :meth:`ProfileColumns.rows`: for a buffer that is
    not an array, an entry that is not a structure of one value per column, or a
    register value that is not a number.
    """
    return numeric_columns(columns, buffer, sign=sign, scalers=scalers, tz=tz).rows()


def numeric_columns(
    columns: ProfileColumns,
    buffer: Data,
    *,
    sign: DeviationSign,
    scalers: Mapping[ObisCode, ScalerUnit] | None = None,
    tz: _dt.tzinfo | None = None,
) -> NumericColumns:
    """:func:`numeric_rows` as columns (the same numbers, times, statuses and errors)."""
    if not isinstance(buffer, Array):
        raise DecodeError("profile buffer is not an array", expected="array")
    plan: list[tuple[int, ScalerUnit | None]] = []
    for scaler, date_time, clock in columns._plan(scalers):
        if scaler is not None:
            plan.append((_SCALED, scaler))
        elif clock:
            plan.append((_CLOCK, None))
        elif date_time:
            plan.append((_DATE_TIME, None))
        else:
            plan.append((_PLAIN, None))
    width = len(plan)
    entries = list(buffer)
    # every entry a structure of one value per column (the types first: len() of a
    # structure only)
    if not all(issubclass(kind, Structure) for kind in set(map(type, entries))) or (
        set(map(len, cast(list[Structure], entries))) - {width}
    ):
        raise DecodeError(
            "profile entry does not match the columns", expected=f"structure of {width}"
        )
    count = len(entries)
    if not count:
        return NumericColumns(times=[], clock_statuses=[], values=tuple([] for _ in plan))
    times: list[_dt.datetime | None] = [None] * count
    statuses: list[int | None] = [None] * count
    seen_clock = False
    numbers: list[list[float | None]] = []
    # column by column: one kind of conversion over all the rows at a time
    for (kind, scaler), column in zip(plan, zip(*entries, strict=True), strict=False):
        if kind == _SCALED:
            assert scaler is not None
            numbers.append(_scaled(column, scaler))
        elif kind == _PLAIN and _integers(column):
            numbers.append(list(map(float, cast(Sequence[int], column))))
        elif kind == _CLOCK and set(map(type, column)) == _OCTET_STRING:
            # 12 octets or not, an octet string is not a number
            moments = _stamp_moments(cast(Sequence[OctetString], column), sign, tz)
            numbers.append([None] * count)
            if not seen_clock:
                seen_clock = True
                statuses = list(map(_second, moments))
                times = list(map(_first, moments))
            else:
                times = [
                    t if t is not None else m for t, (m, _s) in zip(times, moments, strict=True)
                ]
        else:
            moments = (
                _moments(column, sign, tz)
                if kind != _PLAIN
                else [
                    _moment(v, sign, tz) if isinstance(v, DateTime) else _NO_MOMENT for v in column
                ]
            )
            numbers.append(
                [
                    None if m is not None else _number(v)
                    for (m, _s), v in zip(moments, column, strict=True)
                ]
            )
            if kind == _CLOCK:
                if not seen_clock:
                    seen_clock = True
                    statuses = [found for _m, found in moments]
                times = [
                    t if t is not None else m for t, (m, _s) in zip(times, moments, strict=True)
                ]
    return NumericColumns(times=times, clock_statuses=statuses, values=tuple(numbers))


_NO_MOMENT: tuple[None, None] = (None, None)


_first = operator.itemgetter(0)
_second = operator.itemgetter(1)


def _integers(column: Sequence[Data]) -> bool:
    """Whether every value is an integer (not a boolean)."""
    kinds = set(map(type, column))
    if len(kinds) == 1:
        kind = kinds.pop()
        return kind is not bool and issubclass(kind, int)
    return all(kind is not bool and issubclass(kind, int) for kind in kinds)


def _scaled(column: Sequence[Data], scaler: ScalerUnit) -> list[float | None]:
    """Register values x 10^scaler: for integers one correctly rounded division (or an
    exact product), the float nearest the exact decimal; anything else as
    :func:`register_quantity` has it (``DecodeError`` for what is not a number)."""
    power = scaler.scaler
    if _integers(column):
        integers = cast(Sequence[int], column)
        if power < 0:
            # v / divisor for each v
            return list(map((10**-power).__rtruediv__, integers))
        if power == 0:
            return list(map(float, integers))
        return list(map(float, map((10**power).__mul__, integers)))
    return [float(register_quantity(v, scaler).value) for v in column]


_Moment: TypeAlias = tuple[_dt.datetime | None, int | None]
#: Decoded capture times by (sign, zone), then by their 12 octets: a column of stamps is
#: looked up in one pass. Bounded: a table outgrowing its limit is cleared.
_STAMPS: dict[tuple[DeviationSign, _dt.tzinfo | None], dict[bytes, _Moment]] = {}
_STAMPS_LIMIT: Final = 8192
_STAMPS_ZONES: Final = 16
_OCTET_STRING: Final = {OctetString}


def _moments(column: Sequence[Data], sign: DeviationSign, tz: _dt.tzinfo | None) -> list[_Moment]:
    """:func:`_moment` of each value of a column."""
    if set(map(type, column)) != _OCTET_STRING:
        return [_moment(v, sign, tz) for v in column]
    return _stamp_moments(cast(Sequence[OctetString], column), sign, tz)


def _stamp_moments(
    octets: Sequence[OctetString], sign: DeviationSign, tz: _dt.tzinfo | None
) -> list[_Moment]:
    """:func:`_moment` of each of a column of octet strings."""
    table = _STAMPS.get((sign, tz))
    if table is None:
        if len(_STAMPS) >= _STAMPS_ZONES:
            _STAMPS.clear()
        table = _STAMPS[sign, tz] = {}
    found = list(map(table.get, octets))
    if all(found):  # a moment is a pair: only a stamp not seen yet is None (falsy)
        return cast(list[_Moment], found)
    if len(table) >= _STAMPS_LIMIT:
        table.clear()
    out = []
    for value, moment in zip(octets, found, strict=True):
        if moment is None:
            moment = _moment(value, sign, tz)
            if len(value) == 12:
                table[value] = moment
        out.append(moment)
    return out


def _moment(
    value: Data, sign: DeviationSign, tz: _dt.tzinfo | None
) -> tuple[_dt.datetime | None, int | None]:
    if isinstance(value, OctetString) and len(value) == 12:
        return _stamp(value, sign, tz)
    if isinstance(value, DateTime):
        status = None if value.clock_status is None else int(value.clock_status)
        try:
            return clock_datetime(value, sign=sign, tz=tz), status
        except DecodeError:
            return None, status
    return None, None
