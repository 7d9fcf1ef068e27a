"""Profile rows as plain numbers: the shape a head-end stores (Blue Book 4.3.6).

:meth:`ProfileColumns.rows` gives every register value as an exact :class:`Quantity`;
a head-end reading a day of 15-minute rows from every meter wants floats and the
capture time. :func:`numeric_rows` gives, per buffer entry, the capture time, the clock
status of the capture time column and one ``float`` (or ``None``) per column, each equal
to ``float()`` of what :meth:`ProfileColumns.rows` makes of it: an integer register value
is scaled by exact integer arithmetic (one correctly rounded division or product, the
same float as the exact decimal); anything else goes through :func:`register_quantity`.
A capture time stamp decodes once per distinct 12 octets (meters of a fleet stamp the
same intervals), with every field check of :meth:`DateTime.from_bytes`.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Mapping

import attrs

from dlmskit.axdr import Array, Data, DateTime, DeviationSign, OctetString, Structure
from dlmskit.cosem._capture import ScalerUnit
from dlmskit.cosem._client import _symbol, clock_datetime, register_quantity
from dlmskit.cosem._client_profile import ProfileColumns
from dlmskit.errors import DecodeError
from obis import ObisCode

__all__ = ["NumericRow", "column_units", "numeric_rows"]

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
    out = []
    for entry in buffer:
        if not isinstance(entry, Structure) or len(entry) != width:
            raise DecodeError(
                "profile entry does not match the columns", expected=f"structure of {width}"
            )
        time: _dt.datetime | None = None
        status: int | None = None
        seen_clock = False
        values: list[float | None] = []
        for (kind, scaler), value in zip(plan, entry, strict=True):
            if kind == _SCALED:
                assert scaler is not None
                if isinstance(value, int) and type(value) is not bool:
                    power = scaler.scaler
                    values.append(
                        value / 10**-power if power < 0 else float(int(value) * 10**power)
                    )
                else:
                    values.append(float(register_quantity(value, scaler).value))
                continue
            if kind in (_CLOCK, _DATE_TIME) or isinstance(value, DateTime):
                moment, found = _moment(value, sign, tz)
                if kind == _CLOCK and not seen_clock:
                    seen_clock = True
                    status = found
                if moment is None:
                    values.append(_number(value))
                    continue
                if kind == _CLOCK and time is None:
                    time = moment
                values.append(None)
                continue
            values.append(_number(value))
        out.append(NumericRow(time=time, clock_status=status, values=tuple(values)))
    return out


def _moment(
    value: Data, sign: DeviationSign, tz: _dt.tzinfo | None
) -> tuple[_dt.datetime | None, int | None]:
    if isinstance(value, OctetString) and len(value) == 12:
        return _stamp(bytes(value), sign, tz)
    if isinstance(value, DateTime):
        status = None if value.clock_status is None else int(value.clock_status)
        try:
            return clock_datetime(value, sign=sign, tz=tz), status
        except DecodeError:
            return None, status
    return None, None
