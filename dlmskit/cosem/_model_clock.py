"""The Clock object (class 8, version 0; Blue Book 4.5.1), driven by an injected clock.

The meter's time is ``now() + offset``: ``now`` is passed in (a simulator's virtual
clock, or the system clock in an application), and setting the time, shifting it or
adjusting it only moves ``offset``. ``time_zone`` and every date-time deviation are
signed with the meter's :class:`DeviationSign` (Blue Book: IST is -330; many IS 15959
meters send +330). Daylight saving attributes are stored and served but do not shift
the time.
"""

from __future__ import annotations

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
        self.bind(4, lambda ctx, sa: Unsigned(int(self.status)))
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
        """The meter's current local time (aware); a naive ``now()`` counts as UTC."""
        base = self._now()
        if base.tzinfo is None:
            base = base.replace(tzinfo=_dt.UTC)
        return (base + self.offset).astimezone(self.tzinfo)

    def date_time(self) -> DateTime:
        """The current time as a COSEM date-time with the clock status."""
        return DateTime.from_datetime(self.local_now(), sign=self.sign, clock_status=self.status)

    def set_time(self, value: _dt.datetime) -> None:
        """Set the meter's time; a naive ``value`` is local time."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.tzinfo)
        base = self._now()
        if base.tzinfo is None:
            base = base.replace(tzinfo=_dt.UTC)
        self.offset = value - base
        self.status &= ~(ClockStatus.INVALID_VALUE | ClockStatus.DOUBTFUL_VALUE)

    def to_datetime(self, value: DateTime) -> _dt.datetime:
        """A date-time read with this meter's sign; unspecified deviation = local time."""
        result = value.to_datetime(sign=self.sign)
        return result if result.tzinfo is not None else result.replace(tzinfo=self.tzinfo)

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
