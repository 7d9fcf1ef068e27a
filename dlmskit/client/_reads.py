"""Typed reads over a connected meter: registers, clock, object list, profiles.

Built on the sans-IO functions of :mod:`dlmskit.cosem` (``Quantity``, ``ProfileColumns``,
``by_time_range``, ``by_entries``); only the I/O lives here.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dlmskit.apdu import DataAccessResult, SelectiveAccess
from dlmskit.axdr import Data
from dlmskit.cosem import (
    CLOCK,
    IS15959_SINGLE_PHASE,
    IS15959_THREE_PHASE,
    CaptureObject,
    ObjectListEntry,
    ProfileColumns,
    ProfileRow,
    Quantity,
    ScalerUnit,
    by_entries,
    by_time_range,
    clock_datetime,
    clock_value,
    decode_object_list,
    interface_class,
    register_quantity,
)
from dlmskit.errors import DecodeError, LocalProtocolError, ServiceError
from obis import ObisCode, ObisLike, as_obis

if TYPE_CHECKING:
    from dlmskit.client._meter import Meter

__all__ = [
    "object_list",
    "profile_columns",
    "read_clock",
    "read_invocation_counter",
    "read_profile",
    "read_register",
    "read_typed",
    "scaler_profile_of",
    "sync_clock",
]

#: The current association object (class 15), whose attribute 2 is the object_list.
CURRENT_ASSOCIATION_LN = ObisCode(0, 0, 40, 0, 0, 255)


def scaler_profile_of(logical_name: ObisLike) -> ObisCode | None:
    """The IS 15959-2 scaler profile of a profile (block load -> 1.0.94.91.4.255...)."""
    code = as_obis(logical_name)
    for companion in (IS15959_SINGLE_PHASE, IS15959_THREE_PHASE):
        for profile in companion.profiles:
            if profile.logical_name == code:
                return profile.scaler_profile
    return None


async def read_register(meter: Meter, logical_name: ObisLike, class_id: int = 3) -> Quantity:
    scaler_index = 4 if class_id == 5 else 3
    value = await meter.get(class_id, logical_name, 2)
    scaler = await meter.get(class_id, logical_name, scaler_index)
    return register_quantity(value, scaler)


#: Scaled value attributes: (class, attribute) -> the scaler_unit attribute.
_SCALED = {(3, 2): 3, (4, 2): 3, (5, 2): 4, (5, 3): 4}


async def read_typed(
    meter: Meter, class_id: int, logical_name: ObisLike, attribute: int
) -> Quantity | _dt.datetime | ScalerUnit | Data:
    """An attribute as the interface class says it is: a register's value scaled to a
    :class:`Quantity`, a scaler_unit as :class:`ScalerUnit`, a date-time as ``datetime``
    (as read when its fields are not specified), anything else as the A-XDR value."""
    value = await meter.get(class_id, logical_name, attribute)
    scaler_index = _SCALED.get((class_id, attribute))
    if scaler_index is not None:
        return register_quantity(value, await meter.get(class_id, logical_name, scaler_index))
    definition = interface_class(class_id).attribute(attribute)
    if definition is None:
        return value
    try:
        if definition.name == "scaler_unit":
            return ScalerUnit.from_data(value)
        if definition.date_time:
            return clock_datetime(value, sign=meter.association.sign)
    except DecodeError:
        return value
    return value


async def read_clock(meter: Meter, *, tz: _dt.tzinfo | None = None) -> _dt.datetime:
    value = await meter.get(8, CLOCK, 2)
    return clock_datetime(value, sign=meter.association.sign, tz=tz)


async def sync_clock(meter: Meter, moment: _dt.datetime | None = None) -> _dt.timedelta:
    before = _dt.datetime.now(_dt.UTC)
    current = await read_clock(meter, tz=_dt.UTC)
    after = _dt.datetime.now(_dt.UTC)
    drift = current - (before + (after - before) / 2)
    target = moment if moment is not None else _dt.datetime.now(_dt.UTC)
    if target.tzinfo is None:
        raise LocalProtocolError("sync_clock needs an aware datetime")
    offset = current.utcoffset()
    if offset is not None:
        target = target.astimezone(_dt.timezone(offset))
    await meter.set(8, CLOCK, 2, clock_value(target, sign=meter.association.sign))
    return drift


async def object_list(meter: Meter) -> tuple[ObjectListEntry, ...]:
    return decode_object_list(await meter.get(15, CURRENT_ASSOCIATION_LN, 2))


async def read_invocation_counter(meter: Meter, logical_name: ObisLike | None = None) -> int:
    name = logical_name if logical_name is not None else meter.association.invocation_counter_object
    if name is None:
        raise LocalProtocolError(
            f"the {meter.association.name} association names no invocation counter object"
        )
    value = await meter.get(1, name, 2)
    if isinstance(value, bool) or not isinstance(value, int):
        raise DecodeError(
            f"invocation counter {as_obis(name)} is a {type(value).__name__}",
            expected="double-long-unsigned",
        )
    return int(value)


async def profile_columns(meter: Meter, logical_name: ObisLike) -> ProfileColumns:
    return ProfileColumns.from_data(await meter.get(7, logical_name, 3))


def _capture(columns: ProfileColumns, item: ObisLike | CaptureObject) -> CaptureObject:
    if isinstance(item, CaptureObject):
        return item
    code = as_obis(item)
    for column in columns:
        if column.logical_name == code:
            return column.capture
    raise LocalProtocolError(f"{code} is not captured by this profile")


async def _scalers(
    meter: Meter,
    logical_name: ObisLike,
    columns: ProfileColumns,
    scaler_profile: ObisLike | bool | None,
) -> dict[ObisCode, ScalerUnit]:
    if scaler_profile is False or scaler_profile is None:
        return {}
    source = scaler_profile_of(logical_name) if scaler_profile is True else scaler_profile
    if source is not None:
        try:
            scaler_columns = await profile_columns(meter, source)
            return columns.scalers(scaler_columns, await meter.get(7, source, 2))
        except (ServiceError, DecodeError):
            pass  # no scaler profile on this meter: ask the registers themselves
    registers = [c for c in columns if c.is_register_value and c.class_id in (3, 4)]
    if not registers:
        return {}
    results = await meter.get_with_list([(c.class_id, c.logical_name, 3) for c in registers])
    scalers: dict[ObisCode, ScalerUnit] = {}
    for column, result in zip(registers, results, strict=True):
        if not isinstance(result, DataAccessResult):
            try:
                scalers[column.logical_name] = ScalerUnit.from_data(result)
            except DecodeError:
                continue
    return scalers


async def read_profile(
    meter: Meter,
    logical_name: ObisLike,
    start: _dt.datetime | None = None,
    end: _dt.datetime | None = None,
    *,
    entries: tuple[int, int] | None = None,
    columns: Sequence[ObisLike | CaptureObject] | None = None,
    scaler_profile: ObisLike | bool | None = True,
    tz: _dt.tzinfo | None = None,
) -> tuple[ProfileRow, ...]:
    """Typed rows of a profile generic buffer.

    ``start``/``end`` select by capture time (selector 1, restricted by the clock
    column); ``entries=(first, last)`` by entry number (selector 2); neither reads the
    whole buffer. ``columns`` keeps only those (by the selected_values of selector 1;
    by projection otherwise). ``scaler_profile=True`` scales register columns with the
    IS 15959-2 scaler profile of the profile, falling back on each register's
    scaler_unit; an OBIS code names the scaler profile; ``False`` leaves raw values.
    """
    if (start is None) != (end is None):
        raise LocalProtocolError("read_profile needs both start and end, or neither")
    if start is not None and entries is not None:
        raise LocalProtocolError("read_profile selects by time or by entries, not both")
    sign = meter.association.sign
    all_columns = await profile_columns(meter, logical_name)
    wanted = tuple(_capture(all_columns, c) for c in columns) if columns else ()
    access: SelectiveAccess | None = None
    read_columns = all_columns
    if start is not None and end is not None:
        clock = all_columns.clock
        access = by_time_range(
            start,
            end,
            sign=sign,
            columns=wanted,
            clock=clock.capture if clock is not None else None,
        )
        read_columns = all_columns.select(wanted)
    elif entries is not None:
        access = by_entries(entries[0], entries[1])
    buffer = await meter.get(7, logical_name, 2, access)
    scalers = await _scalers(meter, logical_name, all_columns, scaler_profile)
    rows = read_columns.rows(buffer, sign=sign, scalers=scalers, tz=tz)
    if wanted and read_columns is all_columns:
        projected = ProfileColumns.of(wanted)
        index = [next(c.index for c in all_columns if c.capture == w) for w in wanted]
        rows = tuple(
            ProfileRow(time=r.time, values=tuple(r.values[i] for i in index), columns=projected)
            for r in rows
        )
    return rows
