"""The Clock object (class 8, version 0; Blue Book 4.5.1), driven by an injected clock.

The meter's time is ``now() + offset``: ``now`` is passed in (a simulator's virtual
clock, or the system clock in an application), and setting the time, shifting it or
adjusting it only moves ``offset``. ``time_zone`` and every date-time deviation are
signed with the meter's :class:`DeviationSign` (Blue Book: IST is -330; many IS 15959
meters send +330). With daylight_savings_enabled, the local time moves by
daylight_savings_deviation between daylight_savings_begin and _end (date-times whose
year may be unspecified; day 0xFE/0xFD with a day of week means the last/second-last
such weekday of the month), the deviation sent follows, and status bit 0x80 is set.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import enum
from collections.abc import Callable

from dlmskit.apdu import ActionResult, DataAccessResult, SelectiveAccess
from dlmskit.association import RequestContext
from dlmskit.axdr import (
    ClockStatus,
    Data,
    DateTime,
    DeviationSign,
    Enum,
    Integer,
    Long,
    OctetString,
    Structure,
    Unsigned,
)
from dlmskit.cosem._model_base import CosemObject, method_failed
from dlmskit.errors import DlmsError
from obis import ObisLike

__all__ = ["Clock", "ClockBase"]

_UNSPECIFIED_DATE_TIME = OctetString(bytes.fromhex("FFFFFFFFFFFFFFFFFF8000FF"))


class ClockBase(enum.IntEnum):
    """Clock attribute 9 clock_base."""

    NOT_DEFINED = 0
    INTERNAL_CRYSTAL = 1
    MAINS_50_HZ = 2
    MAINS_60_HZ = 3
    GPS = 4
    RADIO_CONTROLLED = 5


def date_time_value(value: Data) -> DateTime:
    """A date-time sent as octet-string(12) or as the date-time type."""
    if isinstance(value, DateTime):
        return value
    if isinstance(value, OctetString) and len(value) == 12:
        return DateTime.from_bytes(value)
    raise method_failed(DataAccessResult.TYPE_UNMATCHED, "not a date-time")


def _occurrence(value: Data, year: int) -> _dt.datetime | None:
    """The local normal time a daylight_savings_begin/_end pattern names in ``year``."""
    if not isinstance(value, OctetString) or len(value) != 12:
        return None
    try:
        pattern = DateTime.from_bytes(value)
    except DlmsError:
        return None
    year = pattern.year if pattern.year is not None else year
    month = pattern.month
    if month is None or not 1 <= month <= 12:
        return None
    last = calendar.monthrange(year, month)[1]
    weekday = pattern.day_of_week
    if pattern.day in (0xFE, 0xFD):
        day = last if pattern.day == 0xFE else last - 1
        step = -1
    else:
        day = 1 if pattern.day is None else pattern.day
        step = 1
    if not 1 <= day <= last:
        return None
    if weekday is not None:
        while _dt.date(year, month, day).isoweekday() != weekday:
            day += step
            if not 1 <= day <= last:
                return None
    return _dt.datetime(
        year, month, day, pattern.hour or 0, pattern.minute or 0, pattern.second or 0
    )


class Clock(CosemObject):
    """Clock (class 8): time, time zone, status, daylight saving and adjust methods."""

    def __init__(
        self,
        logical_name: ObisLike = "0.0.1.0.0.255",
        *,
        now: Callable[[], _dt.datetime],
        time_zone: int = 0,
        sign: DeviationSign = DeviationSign.BLUE_BOOK,
        status: ClockStatus = ClockStatus.OK,
        clock_base: ClockBase = ClockBase.INTERNAL_CRYSTAL,
        measuring_period: int = 900,
    ) -> None:
        super().__init__(logical_name, class_id=8, version=0)
        if not -720 <= time_zone <= 720:
            raise ValueError(f"time_zone must be -720..720 minutes, got {time_zone}")
        self._now = now
        self.sign = sign
        self.offset = _dt.timedelta()
        self.status = ClockStatus(status)
        self.measuring_period = measuring_period
        self.preset: tuple[_dt.datetime, _dt.datetime, _dt.datetime] | None = None
        self.bind(2, self._get_time, self._set_time)
        self[3] = Long(time_zone)
        self.bind(4, lambda ctx, sa: Unsigned(int(self.current_status())))
        self[5] = _UNSPECIFIED_DATE_TIME
        self[6] = _UNSPECIFIED_DATE_TIME
        self[7] = Integer(0)
        self[8] = False
        self[9] = Enum(clock_base)
        self.on_set(3, self._set_time_zone)
        self.on_set(5, self._set_date_time_attribute(5))
        self.on_set(6, self._set_date_time_attribute(6))
        for index, method in enumerate(
            (
                self._adjust_to_quarter,
                self._adjust_to_measuring_period,
                self._adjust_to_minute,
                self._adjust_to_preset_time,
                self._preset_adjusting_time,
                self._shift_time,
            ),
            start=1,
        ):
            self.implement(index, method)

    # -- time ------------------------------------------------------------------------------

    @property
    def time_zone(self) -> int:
        value = self[3]
        assert isinstance(value, int)
        return int(value)

    @property
    def tzinfo(self) -> _dt.timezone:
        """The meter's local (normal) time zone."""
        return _dt.timezone(self.sign.utc_offset(self.time_zone))

    def local_now(self) -> _dt.datetime:
        """The meter's current local time (aware, daylight saving applied); a naive
        ``now()`` counts as UTC."""
        base = self._now()
        if base.tzinfo is None:
            base = base.replace(tzinfo=_dt.UTC)
        normal = (base + self.offset).astimezone(self.tzinfo)
        if not self._daylight_saving(normal):
            return normal
        shift = _dt.timedelta(minutes=self._int(7))
        return normal.astimezone(_dt.timezone(self.sign.utc_offset(self.time_zone) + shift))

    def current_status(self) -> ClockStatus:
        """The clock status now, with daylight saving active when it is."""
        offset = self.local_now().utcoffset()
        if offset is not None and offset != self.sign.utc_offset(self.time_zone):
            return self.status | ClockStatus.DAYLIGHT_SAVING_ACTIVE
        return self.status

    def date_time(self) -> DateTime:
        """The current time as a COSEM date-time with the clock status."""
        return DateTime.from_datetime(
            self.local_now(), sign=self.sign, clock_status=self.current_status()
        )

    def _int(self, index: int) -> int:
        value = self[index]
        return int(value) if isinstance(value, int) else 0

    def _daylight_saving(self, normal: _dt.datetime) -> bool:
        if self[8] is not True or not self._int(7):
            return False
        begin = _occurrence(self[5], normal.year)
        end = _occurrence(self[6], normal.year)
        if begin is None or end is None:
            return False
        moment = normal.replace(tzinfo=None)
        if begin <= end:
            return begin <= moment < end
        return moment >= begin or moment < end  # southern hemisphere: across new year

    def set_time(self, value: _dt.datetime) -> None:
        """Set the meter's time; a naive ``value`` is local time (daylight saving
        included when it is in force at that time)."""
        value = self._localize(value)
        base = self._now()
        if base.tzinfo is None:
            base = base.replace(tzinfo=_dt.UTC)
        self.offset = value - base
        self.status &= ~(ClockStatus.INVALID_VALUE | ClockStatus.DOUBTFUL_VALUE)

    def to_datetime(self, value: DateTime) -> _dt.datetime:
        """A date-time read with this meter's sign; unspecified deviation = local time."""
        result = value.to_datetime(sign=self.sign)
        return self._localize(result)

    def _localize(self, value: _dt.datetime) -> _dt.datetime:
        """An aware time for a naive local one (daylight saving as in force then)."""
        if value.tzinfo is not None:
            return value
        normal = value.replace(tzinfo=self.tzinfo)
        if not self._daylight_saving(normal):
            return normal
        shift = _dt.timedelta(minutes=self._int(7))
        return value.replace(tzinfo=_dt.timezone(self.sign.utc_offset(self.time_zone) + shift))

    def _get_time(self, ctx: RequestContext, access: SelectiveAccess | None) -> Data:
        return OctetString(self.date_time().to_bytes())

    def _set_time(self, ctx: RequestContext, value: Data) -> DataAccessResult:
        try:
            self.set_time(self.to_datetime(date_time_value(value)))
        except DlmsError:
            return DataAccessResult.OTHER_REASON
        return DataAccessResult.SUCCESS

    def _set_time_zone(self, ctx: RequestContext, value: Data) -> DataAccessResult:
        if not isinstance(value, int) or not -720 <= value <= 720:
            return DataAccessResult.OTHER_REASON
        self._values[3] = Long(value)
        return DataAccessResult.SUCCESS

    def _set_date_time_attribute(
        self, index: int
    ) -> Callable[[RequestContext, Data], DataAccessResult]:
        def store(ctx: RequestContext, value: Data) -> DataAccessResult:
            if isinstance(value, DateTime):
                value = OctetString(value.to_bytes())
            if not isinstance(value, OctetString) or len(value) != 12:
                return DataAccessResult.TYPE_UNMATCHED
            try:
                DateTime.from_bytes(value)
            except DlmsError:
                return DataAccessResult.OTHER_REASON
            self._values[index] = value
            return DataAccessResult.SUCCESS

        return store

    # -- methods (Blue Book 4.5.1) -----------------------------------------------------------

    def adjust_to(self, period: int) -> None:
        """Round the time to the nearest multiple of ``period`` seconds (ties go up)."""
        local = self.local_now()
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        seconds = (local - midnight).total_seconds()
        rounded = int((seconds + period / 2) // period) * period
        self.set_time(midnight + _dt.timedelta(seconds=rounded))

    def _adjust_to_quarter(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        self.adjust_to(900)
        return None

    def _adjust_to_measuring_period(
        self, ctx: RequestContext, parameters: Data | None
    ) -> Data | None:
        self.adjust_to(self.measuring_period)
        return None

    def _adjust_to_minute(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        self.adjust_to(60)
        return None

    def _adjust_to_preset_time(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        if self.preset is None:
            raise method_failed(ActionResult.OTHER_REASON, "no preset time")
        preset, start, end = self.preset
        if not start <= self.local_now() <= end:
            raise method_failed(ActionResult.OTHER_REASON, "outside the validity interval")
        self.set_time(preset)
        self.preset = None
        return None

    def _preset_adjusting_time(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        if not isinstance(parameters, Structure) or len(parameters) != 3:
            raise method_failed(ActionResult.TYPE_UNMATCHED, "structure of three date-times")
        preset, start, end = (self.to_datetime(date_time_value(v)) for v in parameters)
        self.preset = (preset, start, end)
        return None

    def _shift_time(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        if not isinstance(parameters, int) or not -900 <= parameters <= 900:
            raise method_failed(ActionResult.OTHER_REASON, "shift must be -900..900 s")
        self.set_time(self.local_now() + _dt.timedelta(seconds=int(parameters)))
        return None
