"""The columnar push path stores exactly what the per-push path stores: for any pushed
row (well formed or not, any clock, clock status, deviation, scaler, export energy,
net metering), :class:`hes.PushRows` gives the rows :func:`hes.push_readings` leads the
store to keep, and the common shape really takes the columnar way."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import DataNotification
from dlmskit.axdr import (
    ClockStatus,
    Data,
    DateTime,
    DeviationSign,
    DoubleLong,
    DoubleLongUnsigned,
    Float32,
    Long,
    Long64,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
)
from dlmskit.client import Push
from dlmskit.cosem import CaptureObject, ProfileColumns, ScalerUnit
from hes import (
    LayoutCache,
    MeterInfo,
    PushIngest,
    PushRows,
    Quality,
    ReadingRow,
    ReadingSource,
    Store,
    ValidationPolicy,
    clock_deviation,
    push_readings,
    quality_text,
    reading_row,
    session_row,
)
from hes._session import ProfileLayout
from obis import ObisCode
from simulators import BLOCK_LOAD_PUSH
from transports import LinkAddress

_IMPORT = "1.0.1.29.0.255"
_EXPORT = "1.0.2.29.0.255"
_VOLTAGE = "1.0.12.27.0.255"
_CURRENT = "1.0.11.27.0.255"
_COLUMNS = ProfileColumns.of(
    (
        CaptureObject.of(1, "0.0.96.1.2.255", 2),
        CaptureObject.of(40, BLOCK_LOAD_PUSH, 1),
        CaptureObject.of(8, "0.0.1.0.0.255", 2),
        CaptureObject.of(3, _VOLTAGE, 2),
        CaptureObject.of(3, _IMPORT, 2),
        CaptureObject.of(3, _EXPORT, 2),
        CaptureObject.of(3, _CURRENT, 2),  # no scaler known: raw number, no unit
        CaptureObject.of(4, _IMPORT, 2),  # the same channel again: its value wins
    )
)
_SETUP = OctetString(BLOCK_LOAD_PUSH.to_bytes())
_RECEIVED = dt.datetime(2026, 12, 1, 6, 30, 4, tzinfo=dt.UTC)
_INTEGERS = (Unsigned, LongUnsigned, Long, DoubleLong, DoubleLongUnsigned, Long64)


def _layouts(scalers: dict[str, int]) -> LayoutCache:
    cache = LayoutCache()
    units = {_VOLTAGE: 35, _IMPORT: 30, _EXPORT: 30}
    mapping = {
        ObisCode.parse(name): ScalerUnit(scaler=scaler, unit=units[name])
        for name, scaler in scalers.items()
    }
    cache.add("m1", BLOCK_LOAD_PUSH, ProfileLayout(columns=_COLUMNS, scalers=mapping))
    return cache


def _push(body: Data, date_time: DateTime | None, received: dt.datetime = _RECEIVED) -> Push:
    return Push(
        notification=DataNotification(date_time=date_time, notification_body=body),
        system_title=b"MMM\x00\x00\x00\x00\x01",
        meter="M",
        peer=LinkAddress(),
        transport="tcp",
        invocation_counter=1,
        received_at=received,
        raw=b"",
    )


def _stamp(moment: dt.datetime, status: int | None = 0) -> DateTime:
    return DateTime.from_datetime(
        moment.astimezone(dt.timezone(dt.timedelta(minutes=330))),
        sign=DeviationSign.UTC_TO_LOCAL,
        clock_status=None if status is None else ClockStatus(status),
    )


def _body(clock: Data, values: list[Data]) -> Structure:
    return Structure((OctetString(b"M"), _SETUP, clock, *values))


def _same(
    body: Data,
    date_time: DateTime | None,
    *,
    scalers: dict[str, int] | None = None,
    policy: ValidationPolicy | None = None,
    net_metered: bool = False,
) -> tuple[PushRows, list[ReadingRow]]:
    """Both paths on one push; the columnar rows, checked equal to the per-push ones."""
    if scalers is None:
        scalers = {_VOLTAGE: -2, _IMPORT: 0, _EXPORT: 0}
    policy = policy or ValidationPolicy()
    info = MeterInfo(name="M", host="127.0.0.1", model="m1", net_metered=net_metered)
    layouts = _layouts(scalers)
    sign = DeviationSign.UTC_TO_LOCAL
    push = _push(body, date_time)
    builder = PushRows(layouts, sign=sign, policy=policy)
    rows = builder.rows(push, info)
    expected = [
        reading_row(r) for r in push_readings(push, info, layouts, sign=sign, policy=policy)
    ]
    assert rows == expected
    return builder, rows


def test_a_well_formed_row_goes_the_columnar_way() -> None:
    interval = dt.datetime(2026, 12, 1, 6, 30, tzinfo=dt.UTC)
    clock = OctetString(_stamp(interval).to_bytes())
    body = _body(
        clock,
        [LongUnsigned(23012), DoubleLongUnsigned(95), DoubleLongUnsigned(0), Long(7), Long(96)],
    )
    builder, rows = _same(body, _stamp(_RECEIVED))
    assert builder.general == 0
    start = int(interval.timestamp())
    received = int(_RECEIVED.timestamp())
    assert rows == [
        ("M", _VOLTAGE, start, 230.12, "V", "1.0.0", start, received, 2),
        ("M", _IMPORT, start, 96.0, "Wh", "1.0.0", start, received, 2),
        ("M", _EXPORT, start, 0.0, "Wh", "1.0.0", start, received, 2),
        ("M", _CURRENT, start, 7.0, "", "1.0.0", start, received, 2),
    ]
    # export energy on a meter that is not net-metered; a clock off by minutes; bad bits
    late = _stamp(_RECEIVED + dt.timedelta(minutes=40))
    body = _body(
        OctetString(_stamp(interval + dt.timedelta(seconds=7), status=0x02).to_bytes()),
        [LongUnsigned(1), DoubleLongUnsigned(5), DoubleLongUnsigned(3), Long(0), Long(9)],
    )
    builder, rows = _same(body, late)
    assert builder.general == 0
    flags = {Quality.MISALIGNED, Quality.CLOCK_STATUS, Quality.CLOCK_DEVIATION}
    assert {r[5] for r in rows} == {quality_text(flags | {Quality.REVERSE_ENERGY})}
    # put back by the deviation: the interval 40 minutes before the meter's stamp
    assert {r[2] for r in rows} == {int((interval - dt.timedelta(minutes=45)).timestamp())}
    _, rows = _same(body, late, net_metered=True)
    assert all(Quality.REVERSE_ENERGY.value not in r[5] for r in rows)


def test_off_shape_rows_take_the_general_path_and_agree() -> None:
    interval = dt.datetime(2026, 12, 1, 6, 30, tzinfo=dt.UTC)
    clock = OctetString(_stamp(interval).to_bytes())
    floats = _body(clock, [Float32(230.5), DoubleLongUnsigned(1), Long(0), Long(0), Long(1)])
    builder, rows = _same(floats, None)
    assert builder.general == 1 and rows and rows[0][3] == 2.305
    # a clock without a deviation is a naive time: the general path judges it
    naive = DateTime.from_bytes(_stamp(interval).to_bytes()[:9] + b"\x80\x00\x00")
    body = _body(OctetString(naive.to_bytes()), [Long(1), Long(1), Long(1), Long(1), Long(1)])
    builder, _ = _same(body, None)
    assert builder.general == 1


def test_a_notification_time_that_cannot_be_placed_gives_no_deviation() -> None:
    wildcard = DateTime(year=None, month=12, day=1, hour=6, minute=30)
    assert (
        clock_deviation(
            DataNotification(date_time=wildcard, notification_body=None),
            _RECEIVED,
            DeviationSign.UTC_TO_LOCAL,
        )
        is None
    )
    interval = dt.datetime(2026, 12, 1, 6, 30, tzinfo=dt.UTC)
    body = _body(
        OctetString(_stamp(interval).to_bytes()), [Long(1), Long(1), Long(0), Long(1), Long(1)]
    )
    # a wildcard date-time in the notification header no longer escapes as an error
    _, rows = _same(body, wildcard)
    assert len(rows) == 4 and all(r[5] == "1.0.0" for r in rows)


_integers = st.sampled_from(_INTEGERS).flatmap(
    lambda kind: st.integers(kind.MIN, kind.MAX).map(kind)
)
_numbers = st.one_of(
    _integers,
    st.floats(width=32, allow_nan=False, allow_infinity=False).map(Float32),
    st.none(),
    st.binary(max_size=4).map(OctetString),
)
_moments = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1), timezones=st.just(dt.UTC)
)


@st.composite
def _clocks(draw: st.DrawFn) -> Data:
    kind = draw(st.sampled_from([0, 1, 2, 2, 2, 3, 3]))
    if kind == 0:
        return OctetString(draw(st.binary(min_size=12, max_size=12)))
    if kind == 1:
        return draw(st.binary(max_size=13).map(OctetString))
    moment = draw(_moments)
    if kind == 2:  # on a period boundary, maybe a few seconds off
        moment = moment.replace(minute=moment.minute // 15 * 15, second=0, microsecond=0)
        moment += dt.timedelta(seconds=draw(st.sampled_from([0, 0, 1, -2, 7])))
    status = draw(st.sampled_from([0, 0, 0x01, 0x02, 0x04, 0x08, 0x80, None]))
    return OctetString(_stamp(moment, status).to_bytes())


@st.composite
def _header(draw: st.DrawFn, clock: Data) -> DateTime | None:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return None
    if kind == 1:
        return DateTime(year=None, month=draw(st.integers(1, 12)), day=1, hour=0, minute=0)
    base = _RECEIVED
    if kind == 2 and isinstance(clock, OctetString) and len(clock) == 12:
        try:
            base = DateTime.from_bytes(bytes(clock)).to_datetime(sign=DeviationSign.UTC_TO_LOCAL)
        except Exception:
            base = _RECEIVED
    if base.tzinfo is None:
        base = base.replace(tzinfo=dt.UTC)
    offset = dt.timedelta(seconds=draw(st.integers(-7200, 7200)))
    try:
        return _stamp(base + offset)
    except (ValueError, OverflowError):
        return None


@settings(max_examples=200, deadline=None)
@given(
    clock=_clocks(),
    values=st.one_of(
        st.lists(_integers, min_size=5, max_size=5), st.lists(_numbers, min_size=5, max_size=5)
    ),
    scalers=st.dictionaries(
        st.sampled_from([_VOLTAGE, _IMPORT, _EXPORT]), st.integers(-128, 127), max_size=3
    ),
    net_metered=st.booleans(),
    threshold=st.sampled_from([30, 600]),
    data=st.data(),
)
def test_columnar_rows_equal_the_per_push_rows(
    clock: Data,
    values: list[Data],
    scalers: dict[str, int],
    net_metered: bool,
    threshold: int,
    data: st.DataObject,
) -> None:
    header = data.draw(_header(clock))
    policy = ValidationPolicy(clock_threshold=dt.timedelta(seconds=threshold))
    _same(
        _body(clock, values),
        header,
        scalers=scalers,
        net_metered=net_metered,
        policy=policy,
    )


def test_both_ways_store_the_same_readings(tmp_path: Path) -> None:
    layouts = _layouts({_VOLTAGE: -2, _IMPORT: 0, _EXPORT: 0})
    sign = DeviationSign.UTC_TO_LOCAL
    builder = PushRows(layouts, sign=sign)
    pushes = []
    for meter in range(5):
        for n in range(8):
            interval = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=15 * n)
            skew = dt.timedelta(seconds=3 if meter == 2 else 0, minutes=50 if meter == 3 else 0)
            body = _body(
                OctetString(_stamp(interval + skew, 0x01 if meter == 4 else 0).to_bytes()),
                [LongUnsigned(23000 + n), Long(n), Long(meter % 2), Long(3), Long(n + 1)],
            )
            received = interval + dt.timedelta(seconds=5)
            pushes.append(
                (
                    _push(body, _stamp(received + skew), received),
                    MeterInfo(name=f"M{meter}", host="h", model="m1", net_metered=meter == 1),
                )
            )
    with Store(tmp_path / "columnar.db") as one, Store(tmp_path / "per_push.db") as other:
        one.put_reading_rows([row for push, info in pushes for row in builder.rows(push, info)])
        other.put_readings(
            [r for push, info in pushes for r in push_readings(push, info, layouts, sign=sign)]
        )
        stored = list(one.readings())
        assert stored == list(other.readings())
    assert builder.general == 0
    assert len(stored) == 5 * 8 * 4 and all(r.source is ReadingSource.PUSH for r in stored)
    assert any(Quality.CLOCK_DEVIATION in r.quality for r in stored)
    assert any(Quality.REVERSE_ENERGY in r.quality for r in stored)


@pytest.mark.parametrize(
    "received",
    [
        _RECEIVED,
        _RECEIVED.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30))),
        _RECEIVED.replace(tzinfo=None),
    ],
)
@pytest.mark.parametrize("meter", ["M", ""])
def test_receipts_are_the_records_rows(received: dt.datetime, meter: str) -> None:
    push = attrs.evolve(_push(Structure(), None, received), meter=meter)
    assert PushIngest.receipt(push) == session_row(PushIngest.record(push))


@pytest.mark.parametrize(
    ("stamp", "deviation"),
    [
        ((1, 1, 1, 0, 0), 330),  # UTC falls before year 1
        ((9999, 12, 31, 23, 59), -330),  # UTC falls after year 9999
        ((1, 1, 1, 1, 0), -330),  # fits, but a meter clock hours ahead puts it back past 1
        ((9999, 12, 31, 23, 59), 330),
    ],
)
def test_clocks_at_the_ends_of_the_calendar(
    stamp: tuple[int, int, int, int, int], deviation: int
) -> None:
    year, month, day, hour, minute = stamp
    clock = DateTime(
        year=year,
        month=month,
        day=day,
        hour=hour,
        minute=minute,
        second=0,
        hundredths=0,
        deviation=deviation,
        clock_status=ClockStatus.OK,
    )
    body = _body(OctetString(clock.to_bytes()), [Long(1), Long(1), Long(0), Long(1), Long(1)])
    for header in (None, clock, _stamp(_RECEIVED + dt.timedelta(hours=9))):
        _same(body, header)
