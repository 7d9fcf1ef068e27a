"""Monthly billing: time-of-day registers, maximum demand and the billing profile rows.

The billing period is the calendar month in local time (billing at 00:00 on the 1st).
Time-of-day zones are six blocks of four local hours (TZ1 00:00-04:00 ... TZ6 20:00-24:00);
the zone registers 1.0.1.8.1..6 / 1.0.9.8.1..6 count energy since the meter's origin, the
register's initial reading being booked in TZ1, so the zones always add up to the total.
A month is summarised in one pass over its intervals and cached.
"""

from __future__ import annotations

import datetime as _dt
import functools
from typing import Final

import attrs

from obis import ObisCode
from simulators._load import INTERVAL, IST, interval_index, interval_start
from simulators._measure import MeteringPoint

__all__ = [
    "BILLING_DATE",
    "BILLING_PERIOD_REGISTERS",
    "ZONES",
    "billing_values",
    "current_period",
    "running_period",
    "MonthSummary",
    "billing_points",
    "month_summary",
    "tod_registers",
]

ZONES: Final = 6
#: The billing date column of the billing profile (class 3 attribute 2, a date-time).
BILLING_DATE: Final = (ObisCode(0, 0, 0, 1, 2), 2)
_TZ_WH: Final = tuple(ObisCode(1, 0, 1, 8, z) for z in range(1, ZONES + 1))
_TZ_VAH: Final = tuple(ObisCode(1, 0, 9, 8, z) for z in range(1, ZONES + 1))
_PF: Final = ObisCode(1, 0, 13, 0, 0)
_ON: Final = ObisCode(0, 0, 94, 91, 13)
#: Registers of the running billing period (time-of-day, average PF, power-on time).
BILLING_PERIOD_REGISTERS: Final = frozenset({*_TZ_WH, *_TZ_VAH, _PF, _ON})
_QUARTERS_PER_ZONE: Final = 96 // ZONES


@attrs.frozen(kw_only=True)
class MonthSummary:
    """One billing period: energy by zone, maximum demand, average PF, power-on time."""

    first: int
    end: int
    zone_wh: tuple[int, ...]
    zone_vah: tuple[int, ...]
    md_w: int
    md_w_index: int
    md_va: int
    md_va_index: int
    power_factor: int
    on_minutes: int


def _month_start(year: int, month: int) -> int:
    return interval_index(_dt.datetime(year, month, 1, tzinfo=IST))


def billing_points(point: MeteringPoint, now: _dt.datetime) -> list[int]:
    """Interval indices of every billing (local month start) after the origin up to now."""
    origin = point.model.first_index
    local = now.astimezone(IST)
    year, month = local.year, local.month
    out: list[int] = []
    while True:
        index = _month_start(year, month)
        if index <= origin:
            break
        out.append(index)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _period(point: MeteringPoint, billing: int) -> tuple[int, int]:
    """The month that ends at ``billing`` (clipped to the origin)."""
    local = interval_start(billing).astimezone(IST)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return max(_month_start(year, month), point.model.first_index), billing


@functools.lru_cache(maxsize=4096)
def month_summary(point: MeteringPoint, first: int, end: int) -> MonthSummary:
    """Summary of intervals ``first..end-1``."""
    zone_wh = [0] * ZONES
    zone_vah = [0] * ZONES
    md_w = md_va = 0
    md_w_index = md_va_index = first
    on = 0
    model = point.model
    for row in point.intervals(first, end):
        m = row.measured
        q = m.index - model.first_interval(model.day_of(m.index))
        zone = q // _QUARTERS_PER_ZONE
        zone_wh[zone] += m.import_wh
        zone_vah[zone] += m.import_vah
        if m.import_wh * 4 > md_w:
            md_w, md_w_index = m.import_wh * 4, m.index
        if m.import_vah * 4 > md_va:
            md_va, md_va_index = m.import_vah * 4, m.index
        if row.quality != "missing":
            on += INTERVAL // 60
    total_wh, total_vah = sum(zone_wh), sum(zone_vah)
    return MonthSummary(
        first=first,
        end=end,
        zone_wh=tuple(zone_wh),
        zone_vah=tuple(zone_vah),
        md_w=md_w,
        md_w_index=md_w_index,
        md_va=md_va,
        md_va_index=md_va_index,
        power_factor=1000 if not total_vah else total_wh * 1000 // total_vah,
        on_minutes=on,
    )


def tod_registers(point: MeteringPoint, index: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(kWh by zone, kVAh by zone) cumulative at the start of interval ``index``."""
    start_wh, start_vah, _, _ = point.cumulative(point.model.first_index)
    wh = [start_wh] + [0] * (ZONES - 1)
    vah = [start_vah] + [0] * (ZONES - 1)
    first = point.model.first_index
    for billing in billing_points(point, interval_start(index)):
        if billing > index:
            break
        summary = month_summary(point, *_period(point, billing))
        for z in range(ZONES):
            wh[z] += summary.zone_wh[z]
            vah[z] += summary.zone_vah[z]
        first = billing
    if first < index:
        part = month_summary(point, first, index)
        for z in range(ZONES):
            wh[z] += part.zone_wh[z]
            vah[z] += part.zone_vah[z]
    return tuple(wh), tuple(vah)


def billing_values(point: MeteringPoint, billing: int) -> dict[tuple[ObisCode, int], int]:
    """Raw values of the billing row captured at ``billing``, by (logical name, attribute);
    date-time columns hold interval indices."""
    summary = month_summary(point, *_period(point, billing))
    imp, imp_va, exp, exp_va = point.cumulative(billing)
    wh, vah = tod_registers(point, billing)
    out: dict[tuple[ObisCode, int], int] = {
        (ObisCode(0, 0, 0, 1, 2), 2): billing,
        (ObisCode(1, 0, 13, 0, 0), 2): summary.power_factor,
        (ObisCode(1, 0, 1, 8, 0), 2): imp,
        (ObisCode(1, 0, 9, 8, 0), 2): imp_va,
        (ObisCode(1, 0, 1, 6, 0), 2): summary.md_w,
        (ObisCode(1, 0, 1, 6, 0), 5): summary.md_w_index,
        (ObisCode(1, 0, 9, 6, 0), 2): summary.md_va,
        (ObisCode(1, 0, 9, 6, 0), 5): summary.md_va_index,
        (ObisCode(0, 0, 94, 91, 13), 2): summary.on_minutes,
        (ObisCode(1, 0, 2, 8, 0), 2): exp,
        (ObisCode(1, 0, 10, 8, 0), 2): exp_va,
    }
    for z in range(ZONES):
        out[(ObisCode(1, 0, 1, 8, z + 1), 2)] = wh[z]
        out[(ObisCode(1, 0, 9, 8, z + 1), 2)] = vah[z]
    return out


def running_period(point: MeteringPoint, now: _dt.datetime) -> MonthSummary:
    """Summary of the running billing period's completed intervals at ``now``."""
    index = interval_index(now)
    points = billing_points(point, now)
    start = points[-1] if points else point.model.first_index
    return month_summary(point, start, index)


def current_period(point: MeteringPoint, now: _dt.datetime) -> dict[ObisCode, int]:
    """Raw values of the running period's registers at ``now`` (completed intervals)."""
    summary = running_period(point, now)
    wh, vah = tod_registers(point, interval_index(now))
    out = {_PF: summary.power_factor, _ON: summary.on_minutes}
    out.update(zip(_TZ_WH, wh, strict=True))
    out.update(zip(_TZ_VAH, vah, strict=True))
    return out
