"""COSEM date, time and date-time (IEC 62056-6-2, Blue Book 4.1.6.1).

Each field that the meter may leave "not specified" (0xFF, 0xFFFF, 0x8000) is ``None``.
The deviation's sign is the one fact two camps disagree on, so converting to and from
``datetime`` always takes an explicit ``DeviationSign``.
"""

from __future__ import annotations

import datetime as _dt
import enum
import struct
from collections.abc import Callable
from typing import ClassVar

import attrs

from dlmskit.errors import DecodeError, LocalProtocolError

__all__ = ["ClockStatus", "Date", "DateTime", "DeviationSign", "Time"]


class ClockStatus(enum.IntFlag):
    """The clock_status byte of a date-time (0xFF, "not specified", is ``None``)."""

    OK = 0x00
    INVALID_VALUE = 0x01
    DOUBTFUL_VALUE = 0x02
    DIFFERENT_CLOCK_BASE = 0x04
    INVALID_CLOCK_STATUS = 0x08
    DAYLIGHT_SAVING_ACTIVE = 0x80


class DeviationSign(enum.Enum):
    """How a meter signs the deviation field of a date-time.

    ``BLUE_BOOK``: deviation of local time *to* UTC, UTC = local + deviation, so India
    (UTC+05:30) sends -330. ``UTC_TO_LOCAL``: local = UTC + deviation, India sends +330
    (what many IS 15959 meters do). Pick per meter make.
    """

    BLUE_BOOK = "blue-book"
    UTC_TO_LOCAL = "utc-to-local"

    def utc_offset(self, deviation: int) -> _dt.timedelta:
        """The local time's offset from UTC that ``deviation`` minutes stands for."""
        minutes = -deviation if self is DeviationSign.BLUE_BOOK else deviation
        return _dt.timedelta(minutes=minutes)

    def deviation(self, utc_offset: _dt.timedelta) -> int:
        """The deviation in minutes to send for a local time ``utc_offset`` from UTC."""
        seconds = int(utc_offset.total_seconds())
        if seconds % 60 or utc_offset.microseconds:
            raise LocalProtocolError(f"UTC offset {utc_offset} is not a whole number of minutes")
        minutes = seconds // 60
        return -minutes if self is DeviationSign.BLUE_BOOK else minutes


def _optional(low: int, high: int, *extra: int) -> attrs._ValidatorType[int | None]:
    allowed = frozenset(extra)

    def check(instance: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
        if value is not None and not (low <= value <= high or value in allowed):
            raise LocalProtocolError(f"{attribute.name} {value!r} out of range")

    return check


def _to_status(value: int | None) -> ClockStatus | None:
    if value is None:
        return None
    if not 0 <= value <= 0xFE:
        raise LocalProtocolError(f"clock_status {value!r} out of range 0..254")
    return ClockStatus(value)


_DATE = struct.Struct(">HBBB")
_DATETIME = struct.Struct(">HBBBBBBBhB")

# Offset of each field inside the 12 octets, for DecodeError offsets.
_FIELD_OFFSET = {
    "year": 0,
    "month": 2,
    "day": 3,
    "day_of_week": 4,
    "hour": 5,
    "minute": 6,
    "second": 7,
    "hundredths": 8,
    "deviation": 9,
    "clock_status": 11,
}


def _octets(*ranges: range) -> tuple[bool, ...]:
    """A table of 256 flags: which octet values are allowed (0xFF, "not specified", always)."""
    allowed = {octet for r in ranges for octet in r} | {0xFF}
    return tuple(octet in allowed for octet in range(256))


_MONTH_OK = _octets(range(1, 13), range(0xFD, 0xFF))
_DAY_OK = _octets(range(1, 32), range(0xFD, 0xFF))
_DOW_OK = _octets(range(1, 8))
_HOUR_OK = _octets(range(24))
_MINUTE_OK = _octets(range(60))
_HUNDREDTHS_OK = _octets(range(100))
_STATUS = tuple(ClockStatus(octet) for octet in range(0xFF))


def _nullable(value: int, unspecified: int) -> int | None:
    return None if value == unspecified else value


def _raw(value: int | None, unspecified: int) -> int:
    return unspecified if value is None else value


def _bad_field(
    error: LocalProtocolError, kind: str, raw: bytes, base: int, field_base: int = 0
) -> DecodeError:
    text = str(error)
    name = text.split(" ", 1)[0]
    return DecodeError(
        f"invalid {kind}: {text}",
        offset=base + _FIELD_OFFSET.get(name, 0) - field_base,
        expected=f"valid {kind} field",
    )


def _check_size(raw: bytes, size: int, kind: str, offset: int) -> None:
    if len(raw) != size:
        raise DecodeError(
            f"{kind} needs {size} octets, got {len(raw)}", offset=offset, expected=f"{size} octets"
        )


@attrs.frozen(kw_only=True)
class Date:
    """COSEM ``date`` (5 octets): year, month, day of month, day of week."""

    year: int | None = attrs.field(default=None, validator=_optional(0, 0xFFFE))
    month: int | None = attrs.field(default=None, validator=_optional(1, 12, 0xFD, 0xFE))
    day: int | None = attrs.field(default=None, validator=_optional(1, 31, 0xFD, 0xFE))
    day_of_week: int | None = attrs.field(default=None, validator=_optional(1, 7))

    DAYLIGHT_SAVINGS_END: ClassVar[int] = 0xFD
    DAYLIGHT_SAVINGS_BEGIN: ClassVar[int] = 0xFE
    SECOND_LAST_DAY: ClassVar[int] = 0xFD
    LAST_DAY: ClassVar[int] = 0xFE
    SIZE: ClassVar[int] = 5

    @classmethod
    def from_bytes(cls, raw: bytes, offset: int = 0) -> Date:
        """Decode the 5 octets; ``offset`` only places a ``DecodeError``."""
        _check_size(raw, 5, "date", offset)
        year, month, day, dow = _DATE.unpack(raw)
        try:
            return cls(
                year=_nullable(year, 0xFFFF),
                month=_nullable(month, 0xFF),
                day=_nullable(day, 0xFF),
                day_of_week=_nullable(dow, 0xFF),
            )
        except LocalProtocolError as error:
            raise _bad_field(error, "date", raw, offset) from None

    def to_bytes(self) -> bytes:
        return _DATE.pack(
            _raw(self.year, 0xFFFF),
            _raw(self.month, 0xFF),
            _raw(self.day, 0xFF),
            _raw(self.day_of_week, 0xFF),
        )

    def to_date(self) -> _dt.date:
        """The calendar date; every field but day of week must be a plain value."""
        _require_plain(self.year, self.month, self.day)
        return _dt.date(self.year, self.month, self.day)  # type: ignore[arg-type]

    @classmethod
    def from_date(cls, value: _dt.date) -> Date:
        return cls(
            year=value.year, month=value.month, day=value.day, day_of_week=value.isoweekday()
        )


@attrs.frozen(kw_only=True)
class Time:
    """COSEM ``time`` (4 octets): hour, minute, second, hundredths."""

    hour: int | None = attrs.field(default=None, validator=_optional(0, 23))
    minute: int | None = attrs.field(default=None, validator=_optional(0, 59))
    second: int | None = attrs.field(default=None, validator=_optional(0, 59))
    hundredths: int | None = attrs.field(default=None, validator=_optional(0, 99))

    SIZE: ClassVar[int] = 4

    @classmethod
    def from_bytes(cls, raw: bytes, offset: int = 0) -> Time:
        """Decode the 4 octets; ``offset`` only places a ``DecodeError``."""
        _check_size(raw, 4, "time", offset)
        hour, minute, second, hundredths = raw[0], raw[1], raw[2], raw[3]
        try:
            return cls(
                hour=_nullable(hour, 0xFF),
                minute=_nullable(minute, 0xFF),
                second=_nullable(second, 0xFF),
                hundredths=_nullable(hundredths, 0xFF),
            )
        except LocalProtocolError as error:
            raise _bad_field(error, "time", raw, offset, field_base=5) from None

    def to_bytes(self) -> bytes:
        return bytes(
            (
                _raw(self.hour, 0xFF),
                _raw(self.minute, 0xFF),
                _raw(self.second, 0xFF),
                _raw(self.hundredths, 0xFF),
            )
        )

    def to_time(self) -> _dt.time:
        """The time of day; hour and minute must be given, a missing second or hundredths is 0."""
        _require_plain(0, self.hour, self.minute)
        return _dt.time(
            self.hour,  # type: ignore[arg-type]
            self.minute,  # type: ignore[arg-type]
            self.second or 0,
            (self.hundredths or 0) * 10_000,
        )

    @classmethod
    def from_time(cls, value: _dt.time) -> Time:
        return cls(
            hour=value.hour,
            minute=value.minute,
            second=value.second,
            hundredths=value.microsecond // 10_000,
        )


# One timezone object per UTC offset in minutes (at most 1441 of them).
_ZONES: dict[int, _dt.timezone] = {}


def _zone(sign: DeviationSign, deviation: int) -> _dt.timezone:
    minutes = -deviation if sign is DeviationSign.BLUE_BOOK else deviation
    zone = _ZONES.get(minutes)
    if zone is None:
        zone = _ZONES[minutes] = _dt.timezone(_dt.timedelta(minutes=minutes))
    return zone


def _require_plain(year: int | None, *fields: int | None) -> None:
    """Refuse "not specified" fields, and the DST/last-day wildcards of month and day."""
    if year is None or any(value is None or value >= 0xFD for value in fields):
        raise LocalProtocolError("cannot convert: a date/time field is not specified or a wildcard")


@attrs.frozen(kw_only=True)
class DateTime:
    """COSEM ``date-time`` (12 octets): date, time, deviation (minutes), clock status.

    ``deviation`` is ``None`` for 0x8000 ("not specified"); ``clock_status`` is ``None``
    for 0xFF. The deviation is kept as sent; its sign is interpreted only by
    ``to_datetime``/``from_datetime``, which take a ``DeviationSign``.
    """

    year: int | None = attrs.field(default=None, validator=_optional(0, 0xFFFE))
    month: int | None = attrs.field(default=None, validator=_optional(1, 12, 0xFD, 0xFE))
    day: int | None = attrs.field(default=None, validator=_optional(1, 31, 0xFD, 0xFE))
    day_of_week: int | None = attrs.field(default=None, validator=_optional(1, 7))
    hour: int | None = attrs.field(default=None, validator=_optional(0, 23))
    minute: int | None = attrs.field(default=None, validator=_optional(0, 59))
    second: int | None = attrs.field(default=None, validator=_optional(0, 59))
    hundredths: int | None = attrs.field(default=None, validator=_optional(0, 99))
    deviation: int | None = attrs.field(default=None, validator=_optional(-720, 720))
    clock_status: ClockStatus | None = attrs.field(default=None, converter=_to_status)

    SIZE: ClassVar[int] = 12

    @classmethod
    def from_bytes(cls, raw: bytes, offset: int = 0) -> DateTime:
        """Decode the 12 octets; ``offset`` only places a ``DecodeError``."""
        _check_size(raw, 12, "date-time", offset)
        y, mo, d, dow, h, mi, s, hs, dev, status = _DATETIME.unpack(raw)
        if (
            _MONTH_OK[mo]
            and _DAY_OK[d]
            and _DOW_OK[dow]
            and _HOUR_OK[h]
            and _MINUTE_OK[mi]
            and _MINUTE_OK[s]
            and _HUNDREDTHS_OK[hs]
            and (-720 <= dev <= 720 or dev == -0x8000)
        ):
            # Every field is in range (checked above with tables): build without running
            # the validators again; profile buffers hold thousands of these.
            self = object.__new__(cls)
            set_y, set_mo, set_d, set_dow, set_h, set_mi, set_s, set_hs, set_dev, set_st = (
                _DATETIME_SLOTS
            )
            set_y(self, None if y == 0xFFFF else y)
            set_mo(self, None if mo == 0xFF else mo)
            set_d(self, None if d == 0xFF else d)
            set_dow(self, None if dow == 0xFF else dow)
            set_h(self, None if h == 0xFF else h)
            set_mi(self, None if mi == 0xFF else mi)
            set_s(self, None if s == 0xFF else s)
            set_hs(self, None if hs == 0xFF else hs)
            set_dev(self, None if dev == -0x8000 else dev)
            set_st(self, None if status == 0xFF else _STATUS[status])
            return self
        try:
            return cls(
                year=None if y == 0xFFFF else y,
                month=None if mo == 0xFF else mo,
                day=None if d == 0xFF else d,
                day_of_week=None if dow == 0xFF else dow,
                hour=None if h == 0xFF else h,
                minute=None if mi == 0xFF else mi,
                second=None if s == 0xFF else s,
                hundredths=None if hs == 0xFF else hs,
                deviation=None if dev == -0x8000 else dev,
                clock_status=None if status == 0xFF else status,
            )
        except LocalProtocolError as error:
            raise _bad_field(error, "date-time", raw, offset) from None

    def to_bytes(self) -> bytes:
        return _DATETIME.pack(
            _raw(self.year, 0xFFFF),
            _raw(self.month, 0xFF),
            _raw(self.day, 0xFF),
            _raw(self.day_of_week, 0xFF),
            _raw(self.hour, 0xFF),
            _raw(self.minute, 0xFF),
            _raw(self.second, 0xFF),
            _raw(self.hundredths, 0xFF),
            _raw(self.deviation, -0x8000),
            _raw(self.clock_status, 0xFF),
        )

    @property
    def date(self) -> Date:
        return Date(year=self.year, month=self.month, day=self.day, day_of_week=self.day_of_week)

    @property
    def time(self) -> Time:
        return Time(
            hour=self.hour, minute=self.minute, second=self.second, hundredths=self.hundredths
        )

    def to_datetime(self, *, sign: DeviationSign) -> _dt.datetime:
        """The ``datetime`` this stands for, aware when the deviation is given.

        ``sign`` says how the meter signs the deviation (no default: Blue Book and many
        Indian meters disagree). Year, month, day, hour and minute must be plain values;
        a missing second or hundredths counts as 0. With deviation "not specified" the
        result is a naive local time.
        """
        year, month, day, hour, minute = self.year, self.month, self.day, self.hour, self.minute
        if year is None or month is None or day is None or hour is None or minute is None:
            raise LocalProtocolError("cannot convert: a date/time field is not specified")
        if month > 12 or day > 31:
            raise LocalProtocolError("cannot convert: month or day is a wildcard")
        deviation = self.deviation
        tz = None if deviation is None else _zone(sign, deviation)
        try:
            return _dt.datetime(
                year,
                month,
                day,
                hour,
                minute,
                self.second or 0,
                (self.hundredths or 0) * 10_000,
                tzinfo=tz,
            )
        except ValueError as error:
            raise LocalProtocolError(f"not a calendar date-time: {error}") from None

    @classmethod
    def from_datetime(
        cls,
        value: _dt.datetime,
        *,
        sign: DeviationSign,
        clock_status: ClockStatus | None = ClockStatus.OK,
    ) -> DateTime:
        """The date-time for ``value``; a naive ``value`` gets deviation "not specified".

        Hundredths are the microseconds truncated to 1/100 s. ``sign`` as in ``to_datetime``.
        """
        offset = value.utcoffset()
        return cls(
            year=value.year,
            month=value.month,
            day=value.day,
            day_of_week=value.isoweekday(),
            hour=value.hour,
            minute=value.minute,
            second=value.second,
            hundredths=value.microsecond // 10_000,
            deviation=None if offset is None else sign.deviation(offset),
            clock_status=clock_status,
        )


# The slot setters of DateTime's fields, in field order (used by from_bytes).
_DATETIME_SLOTS: tuple[Callable[[DateTime, object], None], ...] = tuple(
    DateTime.__dict__[field.name].__set__ for field in attrs.fields(DateTime)
)
