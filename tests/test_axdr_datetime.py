"""COSEM date, time and date-time values and their conversion to ``datetime``."""

from __future__ import annotations

import datetime as dt
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.axdr import (
    ClockStatus,
    Date,
    DateTime,
    DeviationSign,
    OctetString,
    Time,
    decode,
    encode,
)
from dlmskit.errors import DecodeError, LocalProtocolError

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def test_every_field_not_specified() -> None:
    raw = bytes.fromhex("FFFF FF FF FF FF FF FF FF 8000 FF")
    value = DateTime.from_bytes(raw)
    assert value == DateTime()
    assert value.deviation is None and value.clock_status is None
    assert value.to_bytes() == raw
    assert Date.from_bytes(b"\xff" * 5) == Date() and Date().to_bytes() == b"\xff" * 5
    assert Time.from_bytes(b"\xff" * 4) == Time() and Time().to_bytes() == b"\xff" * 4


def test_wildcards_and_special_days() -> None:
    value = Date(year=None, month=Date.DAYLIGHT_SAVINGS_BEGIN, day=Date.LAST_DAY, day_of_week=7)
    assert value.to_bytes() == bytes.fromhex("FFFF FE FE 07")
    assert decode(encode(value)) == value
    end = Date(month=Date.DAYLIGHT_SAVINGS_END, day=Date.SECOND_LAST_DAY)
    assert end.to_bytes() == bytes.fromhex("FFFF FD FD FF")
    with pytest.raises(LocalProtocolError):
        end.to_date()


def test_clock_status_bits() -> None:
    raw = bytes.fromhex("07E8 06 01 06 0C 00 00 00 FEB6 87")
    value = DateTime.from_bytes(raw)
    status = value.clock_status
    assert status is not None
    assert ClockStatus.DAYLIGHT_SAVING_ACTIVE in status
    assert ClockStatus.INVALID_VALUE in status and ClockStatus.DOUBTFUL_VALUE in status
    assert ClockStatus.DIFFERENT_CLOCK_BASE in status
    assert ClockStatus.INVALID_CLOCK_STATUS not in status
    # Reserved bits 0x10..0x40 are kept as sent.
    reserved = DateTime.from_bytes(raw[:11] + b"\x50")
    assert reserved.clock_status == 0x50 and reserved.to_bytes()[11] == 0x50
    with pytest.raises(LocalProtocolError):
        DateTime(clock_status=0xFF)


@pytest.mark.parametrize(
    ("sign", "deviation"), [(DeviationSign.BLUE_BOOK, -330), (DeviationSign.UTC_TO_LOCAL, 330)]
)
def test_sign_conventions_for_india(sign: DeviationSign, deviation: int) -> None:
    moment = dt.datetime(2024, 1, 1, 9, 45, 12, 340_000, tzinfo=IST)
    value = DateTime.from_datetime(moment, sign=sign)
    assert value.deviation == deviation
    assert (value.hundredths, value.day_of_week) == (34, 1)
    assert value.to_datetime(sign=sign) == moment
    assert value.to_datetime(sign=sign).utcoffset() == dt.timedelta(hours=5, minutes=30)
    other = next(s for s in DeviationSign if s is not sign)
    assert value.to_datetime(sign=other).utcoffset() == dt.timedelta(hours=-5, minutes=-30)


def test_to_datetime_needs_the_sign() -> None:
    value = OctetString(bytes.fromhex("07E80101FF00000000FEB600")).as_datetime()
    with pytest.raises(TypeError):
        value.to_datetime()  # type: ignore[call-arg]


def test_naive_and_partial_values() -> None:
    naive = DateTime.from_datetime(dt.datetime(2024, 2, 29, 23, 59), sign=DeviationSign.BLUE_BOOK)
    assert naive.deviation is None
    assert naive.to_datetime(sign=DeviationSign.BLUE_BOOK) == dt.datetime(2024, 2, 29, 23, 59)
    # Seconds and hundredths "not specified" read as zero; the rest must be given.
    no_seconds = DateTime(year=2024, month=5, day=1, hour=6, minute=30, deviation=0)
    assert no_seconds.to_datetime(sign=DeviationSign.BLUE_BOOK) == dt.datetime(
        2024, 5, 1, 6, 30, tzinfo=dt.UTC
    )
    with pytest.raises(LocalProtocolError):
        DateTime(year=2024, month=5, day=1, minute=30).to_datetime(sign=DeviationSign.BLUE_BOOK)
    with pytest.raises(LocalProtocolError):
        DateTime(year=2023, month=2, day=30, hour=0, minute=0).to_datetime(
            sign=DeviationSign.BLUE_BOOK
        )
    with pytest.raises(LocalProtocolError):
        DeviationSign.BLUE_BOOK.deviation(dt.timedelta(seconds=90))


def test_date_and_time_conversions() -> None:
    day = Date.from_date(dt.date(2024, 3, 17))
    assert day == Date(year=2024, month=3, day=17, day_of_week=7)
    assert day.to_date() == dt.date(2024, 3, 17)
    clock = Time.from_time(dt.time(13, 5, 9, 990_000))
    assert clock.to_bytes() == bytes((13, 5, 9, 99))
    assert clock.to_time() == dt.time(13, 5, 9, 990_000)
    stamp = DateTime.from_datetime(
        dt.datetime(2024, 3, 17, 13, 5, 9, tzinfo=IST), sign=DeviationSign.BLUE_BOOK
    )
    assert stamp.date == day and stamp.time == Time(hour=13, minute=5, second=9, hundredths=0)
    assert OctetString(day.to_bytes()).as_date() == day
    assert OctetString(clock.to_bytes()).as_time() == clock


@pytest.mark.parametrize("size", [0, 5, 11, 13])
def test_octet_string_of_wrong_size(size: int) -> None:
    with pytest.raises(DecodeError):
        OctetString(b"\x00" * size).as_datetime()


@settings(max_examples=150)
@given(
    st.datetimes(
        min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31), timezones=st.none()
    ),
    st.integers(-720, 720),
    st.sampled_from(list(DeviationSign)),
)
def test_datetime_round_trip(naive: dt.datetime, minutes: int, sign: DeviationSign) -> None:
    moment = naive.replace(
        microsecond=naive.microsecond // 10_000 * 10_000,
        tzinfo=dt.timezone(dt.timedelta(minutes=minutes)),
    )
    value = DateTime.from_datetime(moment, sign=sign, clock_status=ClockStatus.DOUBTFUL_VALUE)
    assert DateTime.from_bytes(value.to_bytes()) == value
    back = value.to_datetime(sign=sign)
    assert back == moment and back.utcoffset() == moment.utcoffset()


def _field(octet: int) -> int | None:
    return None if octet == 0xFF else octet


@settings(max_examples=200)
@given(
    st.tuples(
        st.integers(0, 0xFFFF),
        *(
            st.sampled_from([0, 1, 7, 12, 13, 23, 24, 31, 59, 60, 99, 100, 0xFD, 0xFE, 0xFF])
            for _ in range(7)
        ),
        st.sampled_from([-0x8000, -721, -720, -330, 0, 330, 720, 721]),
        st.integers(0, 0xFF),
    )
)
def test_from_bytes_agrees_with_the_validating_constructor(fields: tuple[int, ...]) -> None:
    """from_bytes builds in-range values without re-running validators: same result."""
    year, month, day, dow, hour, minute, second, hundredths, deviation, status = fields
    raw = struct.pack(">HBBBBBBBhB", *fields)
    try:
        expected = DateTime(
            year=None if year == 0xFFFF else year,
            month=_field(month),
            day=_field(day),
            day_of_week=_field(dow),
            hour=_field(hour),
            minute=_field(minute),
            second=_field(second),
            hundredths=_field(hundredths),
            deviation=None if deviation == -0x8000 else deviation,
            clock_status=_field(status),
        )
    except LocalProtocolError:
        with pytest.raises(DecodeError):
            DateTime.from_bytes(raw)
        return
    value = DateTime.from_bytes(raw)
    assert value == expected and hash(value) == hash(expected)
    assert type(value.clock_status) is type(expected.clock_status)
    assert value.to_bytes() == raw
