"""The Clock object driven by an injected clock: time, time zone, adjust/shift/preset
methods and daylight saving (Blue Book 4.5.1)."""

from __future__ import annotations

import datetime as dt

import pytest

from dlmskit.apdu import (
    ActionResult,
    ApplicationContextName,
    Conformance,
    DataAccessResult,
    MechanismName,
)
from dlmskit.association import RequestContext
from dlmskit.axdr import (
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
from dlmskit.cosem import Clock

IST = dt.timezone(dt.timedelta(minutes=330))
CTX = RequestContext(
    client_sap=48,
    application_context=ApplicationContextName.LN,
    mechanism=MechanismName.LOWEST,
    conformance=Conformance.GET | Conformance.SET | Conformance.ACTION,
)


class VirtualTime:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


def clock_at(text: str, sign: DeviationSign = DeviationSign.BLUE_BOOK, tz: int = -330) -> Clock:
    return Clock(now=VirtualTime(dt.datetime.fromisoformat(text)), sign=sign, time_zone=tz)


def local(clock: Clock) -> str:
    return clock.local_now().strftime("%H:%M:%S")


# -- clock -----------------------------------------------------------------------------------


def test_clock_serves_time_with_the_blue_book_deviation() -> None:
    clock = clock_at("2024-01-01T00:00:00+00:00")
    value = clock.get_attribute(CTX, 2, None)
    assert value == OctetString(bytes.fromhex("07E8010101051E0000FEB600"))
    assert clock.get_attribute(CTX, 3, None) == Long(-330)
    assert clock.get_attribute(CTX, 9, None) == Enum(1)


@pytest.mark.parametrize(
    ("start", "method", "parameter", "expected"),
    [
        ("2024-01-01T00:07:29+05:30", 1, Integer(0), "00:00:00"),
        ("2024-01-01T00:07:30+05:30", 1, Integer(0), "00:15:00"),
        ("2024-01-01T00:00:29+05:30", 3, Integer(0), "00:00:00"),
        ("2024-01-01T00:00:30+05:30", 3, Integer(0), "00:01:00"),
        ("2024-01-01T00:29:59+05:30", 2, Integer(0), "00:30:00"),
        ("2024-01-01T00:10:00+05:30", 6, Long(-600), "00:00:00"),
        ("2024-01-01T00:10:00+05:30", 6, Long(900), "00:25:00"),
    ],
)
def test_clock_adjust_and_shift_methods(
    start: str, method: int, parameter: Data, expected: str
) -> None:
    clock = clock_at(start)
    clock.measuring_period = 1800
    assert clock.invoke(CTX, method, parameter) == (ActionResult.SUCCESS, None)
    assert local(clock) == expected


def test_clock_shift_out_of_range_and_wrong_types_are_refused() -> None:
    clock = clock_at("2024-01-01T00:00:00+05:30")
    assert clock.invoke(CTX, 6, Long(901)) == (ActionResult.OTHER_REASON, None)
    assert clock.invoke(CTX, 6, Integer(1)) == (ActionResult.TYPE_UNMATCHED, None)
    assert clock.set_attribute(CTX, 3, Long(800)) is DataAccessResult.OTHER_REASON
    assert clock.set_attribute(CTX, 3, Long(330)) is DataAccessResult.SUCCESS
    assert clock.tzinfo == dt.timezone(dt.timedelta(minutes=-330))


def test_preset_then_adjust_to_preset_time_inside_the_validity_interval() -> None:
    now = VirtualTime(dt.datetime(2024, 1, 1, 10, 0, tzinfo=IST))
    clock = Clock(now=now, sign=DeviationSign.UTC_TO_LOCAL, time_zone=330)
    assert clock.invoke(CTX, 4, Integer(0)) == (ActionResult.OTHER_REASON, None)

    def stamp(h: int, m: int) -> OctetString:
        moment = dt.datetime(2024, 1, 1, h, m, tzinfo=IST)
        return OctetString(
            DateTime.from_datetime(moment, sign=DeviationSign.UTC_TO_LOCAL).to_bytes()
        )

    preset = Structure((stamp(12, 0), stamp(10, 30), stamp(11, 0)))
    assert clock.invoke(CTX, 5, preset) == (ActionResult.SUCCESS, None)
    assert clock.invoke(CTX, 4, Integer(0)) == (ActionResult.OTHER_REASON, None)  # too early
    now.now += dt.timedelta(minutes=40)
    assert clock.invoke(CTX, 4, Integer(0)) == (ActionResult.SUCCESS, None)
    assert local(clock) == "12:00:00"
    now.now += dt.timedelta(seconds=5)
    assert local(clock) == "12:00:05"


def test_setting_the_time_keeps_running_from_the_injected_clock() -> None:
    now = VirtualTime(dt.datetime(2024, 1, 1, 0, 0, tzinfo=dt.UTC))
    clock = Clock(now=now, sign=DeviationSign.UTC_TO_LOCAL, time_zone=330)
    target = DateTime(
        year=2024, month=6, day=1, hour=8, minute=0, second=0, hundredths=0, deviation=None
    )
    assert clock.set_attribute(CTX, 2, OctetString(target.to_bytes())) is DataAccessResult.SUCCESS
    assert clock.local_now() == dt.datetime(2024, 6, 1, 8, 0, tzinfo=IST)
    assert clock.set_attribute(CTX, 2, target) is DataAccessResult.SUCCESS  # date-time type too
    now.now += dt.timedelta(minutes=1)
    assert local(clock) == "08:01:00"
    assert clock.set_attribute(CTX, 2, Unsigned(1)) is DataAccessResult.TYPE_UNMATCHED
    assert clock.set_attribute(CTX, 4, Unsigned(0)) is DataAccessResult.READ_WRITE_DENIED


def _eu_summer_time(clock: Clock) -> None:
    """Last Sunday of March 02:00 to last Sunday of October 03:00, one hour."""
    begin = DateTime(month=3, day=0xFE, day_of_week=7, hour=2, minute=0, second=0, hundredths=0)
    end = DateTime(month=10, day=0xFE, day_of_week=7, hour=3, minute=0, second=0, hundredths=0)
    for index, value in ((5, OctetString(begin.to_bytes())), (6, OctetString(end.to_bytes()))):
        assert clock.set_attribute(CTX, index, value) is DataAccessResult.SUCCESS
    assert clock.set_attribute(CTX, 7, Integer(60)) is DataAccessResult.SUCCESS
    assert clock.set_attribute(CTX, 8, True) is DataAccessResult.SUCCESS


@pytest.mark.parametrize(
    ("utc", "local_text", "deviation", "status"),
    [
        ("2024-01-15T10:00:00+00:00", "2024-01-15 11:00", -60, 0x00),
        ("2024-07-01T10:00:00+00:00", "2024-07-01 12:00", -120, 0x80),
        ("2024-03-31T00:59:59+00:00", "2024-03-31 01:59", -60, 0x00),
        ("2024-03-31T01:00:00+00:00", "2024-03-31 03:00", -120, 0x80),
        ("2024-10-27T00:59:00+00:00", "2024-10-27 02:59", -120, 0x80),
        ("2024-10-27T02:00:00+00:00", "2024-10-27 03:00", -60, 0x00),
    ],
)
def test_daylight_saving_moves_local_time_deviation_and_status(
    utc: str, local_text: str, deviation: int, status: int
) -> None:
    clock = clock_at(utc, tz=-60)
    _eu_summer_time(clock)
    assert clock.local_now().strftime("%Y-%m-%d %H:%M") == local_text
    stamp = DateTime.from_bytes(clock.get_attribute(CTX, 2, None))  # type: ignore[arg-type]
    assert (stamp.deviation, stamp.clock_status) == (deviation, status)
    assert clock.get_attribute(CTX, 4, None) == Unsigned(status)
    assert clock.local_now() == dt.datetime.fromisoformat(utc)


def test_daylight_saving_across_new_year_and_disabled() -> None:
    clock = clock_at("2024-01-10T00:00:00+00:00", tz=0)
    begin = DateTime(month=10, day=1, day_of_week=7, hour=2, minute=0, second=0, hundredths=0)
    end = DateTime(month=4, day=1, day_of_week=7, hour=3, minute=0, second=0, hundredths=0)
    clock[5] = OctetString(begin.to_bytes())
    clock[6] = OctetString(end.to_bytes())
    clock[7] = Integer(60)
    assert clock.local_now().utcoffset() == dt.timedelta(0)  # not enabled
    clock[8] = True
    assert clock.local_now().utcoffset() == dt.timedelta(hours=1)
    clock.set_time(dt.datetime(2024, 6, 1, 12, 0))
    assert clock.local_now().utcoffset() == dt.timedelta(0)
    assert clock.local_now().strftime("%H:%M") == "12:00"
