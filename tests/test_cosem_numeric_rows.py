"""Profile rows as numbers: the same values, times and errors as the typed rows."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.axdr import (
    Array,
    ClockStatus,
    Data,
    DateTime,
    DeviationSign,
    DoubleLong,
    DoubleLongUnsigned,
    Float32,
    Float64,
    Long64Unsigned,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
)
from dlmskit.cosem import (
    IS15959_SINGLE_PHASE,
    CaptureObject,
    ProfileColumns,
    Quantity,
    ScalerUnit,
    Unit,
    column_units,
    numeric_columns,
    numeric_rows,
)
from dlmskit.errors import DecodeError
from obis import ObisCode

IST = dt.timezone(dt.timedelta(minutes=330))
BLOCK_LOAD = ObisCode.parse("1.0.99.1.0.255")


def _columns() -> ProfileColumns:
    definition = IS15959_SINGLE_PHASE.profile(BLOCK_LOAD)
    assert definition is not None
    return ProfileColumns.of(definition.capture_objects)


def _scalers(columns: ProfileColumns, powers: list[int]) -> dict[ObisCode, ScalerUnit]:
    registers = [c for c in columns if c.is_register_value]
    return {
        c.logical_name: ScalerUnit(scaler=p, unit=Unit.WATT_HOUR if p % 2 else Unit.VOLT)
        for c, p in zip(registers, powers, strict=False)
    }


def _as_number(value: object) -> float | None:
    """What a typed row's value is as a number (the head-end's reading)."""
    if isinstance(value, Quantity):
        return float(value.value)
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, (bool, int, float)):
        return float(value)
    return None


def _same_as_typed(
    columns: ProfileColumns, buffer: Data, scalers: dict[ObisCode, ScalerUnit], tz: object = None
) -> None:
    sign = DeviationSign.UTC_TO_LOCAL
    try:
        typed = columns.rows(buffer, sign=sign, scalers=scalers, tz=tz)  # type: ignore[arg-type]
    except DecodeError:
        with pytest.raises(DecodeError):
            numeric_rows(columns, buffer, sign=sign, scalers=scalers, tz=tz)  # type: ignore[arg-type]
        return
    numbers = numeric_rows(columns, buffer, sign=sign, scalers=scalers, tz=tz)  # type: ignore[arg-type]
    assert len(numbers) == len(typed)
    by_column = numeric_columns(columns, buffer, sign=sign, scalers=scalers, tz=tz)  # type: ignore[arg-type]
    assert len(by_column) == len(typed) and len(by_column.values) == len(columns)
    assert by_column.rows() == numbers
    assert [list(v) for v in zip(*by_column.values, strict=True)] == [
        list(n.values) for n in numbers
    ]
    clock = columns.clock
    assert isinstance(buffer, Array)
    for entry, row, number in zip(buffer, typed, numbers, strict=True):
        assert number.time == row.time
        if number.time is not None:
            assert number.time.tzinfo == row.time.tzinfo  # type: ignore[union-attr]
        assert number.values == tuple(_as_number(v) for v in row.values)
        assert clock is not None and isinstance(entry, Structure)
        raw = entry[clock.index]
        status = None
        if isinstance(raw, OctetString) and len(raw) == 12:
            try:
                found = DateTime.from_bytes(bytes(raw)).clock_status
                status = None if found is None else int(found)
            except DecodeError:
                status = None
        elif isinstance(raw, DateTime) and raw.clock_status is not None:
            status = int(raw.clock_status)
        assert number.clock_status == status


def test_a_block_load_read_gives_scaled_floats_units_and_the_stamp() -> None:
    columns = _columns()
    scalers = {
        c.logical_name: s
        for c, s in zip(
            [c for c in columns if c.is_register_value],
            [
                ScalerUnit(scaler=-2, unit=Unit.VOLT),
                ScalerUnit(scaler=0, unit=Unit.WATT_HOUR),
                ScalerUnit(scaler=0, unit=Unit.VOLT_AMPERE_HOUR),
                ScalerUnit(scaler=0, unit=Unit.WATT_HOUR),
                ScalerUnit(scaler=0, unit=Unit.VOLT_AMPERE_HOUR),
                ScalerUnit(scaler=-3, unit=Unit.AMPERE),
            ],
            strict=True,
        )
    }
    stamp = OctetString(bytes.fromhex("07E80101FF000F0000FEB608"))  # clock status 0x08
    buffer = Array(
        (
            Structure(
                (
                    stamp,
                    LongUnsigned(23012),
                    DoubleLongUnsigned(125),
                    DoubleLongUnsigned(130),
                    DoubleLongUnsigned(0),
                    DoubleLongUnsigned(0),
                    DoubleLong(5432),
                )
            ),
        )
    )
    (row,) = numeric_rows(columns, buffer, sign=DeviationSign.BLUE_BOOK, scalers=scalers)
    assert row.time == dt.datetime(2024, 1, 1, 0, 15, tzinfo=IST)
    assert row.clock_status == int(ClockStatus.INVALID_CLOCK_STATUS)
    assert row.values == (None, 230.12, 125.0, 130.0, 0.0, 0.0, 5.432)
    assert column_units(columns, scalers) == ("", "V", "Wh", "VAh", "Wh", "VAh", "A")
    assert column_units(columns) == ("",) * 7


def test_an_unspecified_stamp_gives_no_time_and_no_clock_status() -> None:
    columns = _columns()
    buffer = Array(
        (Structure((OctetString(bytes.fromhex("FF" * 9 + "8000FF")), *(Unsigned(1),) * 6)),)
    )
    (row,) = numeric_rows(columns, buffer, sign=DeviationSign.BLUE_BOOK)
    assert row.time is None and row.clock_status is None  # 0xFF: not specified
    assert row.values == (None, *(1.0,) * 6)


@pytest.mark.parametrize(
    "buffer",
    [
        Structure(),
        Array((Structure((Unsigned(1),)),)),
        Array((Array(),)),
        Array((None,)),
    ],
)
def test_rows_that_do_not_fit_the_columns_are_decode_errors(buffer: Data) -> None:
    with pytest.raises(DecodeError):
        numeric_rows(_columns(), buffer, sign=DeviationSign.BLUE_BOOK)


def test_a_register_value_that_is_not_a_number_is_a_decode_error() -> None:
    columns = _columns()
    scalers = _scalers(columns, [0] * 6)
    entry = Structure((OctetString(bytes(12)), OctetString(b"x"), *(Unsigned(1),) * 5))
    with pytest.raises(DecodeError):
        numeric_rows(columns, Array((entry,)), sign=DeviationSign.BLUE_BOOK, scalers=scalers)


def test_a_date_time_value_in_a_plain_column_is_not_a_number() -> None:
    columns = ProfileColumns.of(
        [CaptureObject.of(8, "0.0.1.0.0.255", 2), CaptureObject.of(1, "0.0.96.1.0.255", 2)]
    )
    moment = DateTime.from_datetime(
        dt.datetime(2024, 5, 1, 10, 0, tzinfo=IST), sign=DeviationSign.BLUE_BOOK
    )
    buffer = Array((Structure((moment, moment)),))
    _same_as_typed(columns, buffer, {})
    (row,) = numeric_rows(columns, buffer, sign=DeviationSign.BLUE_BOOK)
    assert row.values == (None, None)


_stamps = st.one_of(
    st.binary(min_size=12, max_size=12).map(OctetString),
    st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2090, 1, 1),
        timezones=st.sampled_from([dt.UTC, IST]),
    ).map(
        lambda t: OctetString(DateTime.from_datetime(t, sign=DeviationSign.UTC_TO_LOCAL).to_bytes())
    ),
    st.none(),
    st.integers(0, 5).map(Unsigned),
)
_cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(0, 0xFFFF).map(LongUnsigned),
    st.integers(-(2**31), 2**31 - 1).map(DoubleLong),
    st.integers(0, 2**64 - 1).map(Long64Unsigned),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(Float32),
    st.floats(allow_nan=False, allow_infinity=False).map(Float64),
    st.binary(min_size=0, max_size=12).map(OctetString),
)


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(_stamps, st.lists(_cells, min_size=6, max_size=6)).map(
            lambda r: Structure((r[0], *r[1]))
        ),
        max_size=4,
    ),
    st.lists(st.integers(-128, 127), min_size=6, max_size=6),
    st.sampled_from([None, IST]),
)
def test_any_rows_give_the_numbers_of_the_typed_rows(
    rows: list[Structure], powers: list[int], tz: dt.tzinfo | None
) -> None:
    columns = _columns()
    _same_as_typed(columns, Array(rows), _scalers(columns, powers), tz)


def test_stamps_looked_up_again_and_past_the_table_limit_read_the_same() -> None:
    from dlmskit.cosem import _numeric_rows as module

    columns = _columns()
    start = dt.datetime(2026, 1, 1, tzinfo=IST)
    stamps = [
        OctetString(
            DateTime.from_datetime(
                start + dt.timedelta(minutes=15 * n), sign=DeviationSign.UTC_TO_LOCAL
            ).to_bytes()
        )
        for n in range(module._STAMPS_LIMIT + 300)
    ]
    # a wrong-length stamp and an invalid month among the good ones
    stamps[5] = OctetString(bytes(11))
    stamps[9] = OctetString(bytes.fromhex("07EA0D0104000000008000FF"))
    cells: tuple[Data, ...] = (LongUnsigned(1), *[DoubleLongUnsigned(2)] * 4, DoubleLong(3))
    buffer = Array(Structure((s, *cells)) for s in stamps)
    scalers = _scalers(columns, [0, 0, 0, 0, 0, 0])
    first = numeric_rows(columns, buffer, sign=DeviationSign.UTC_TO_LOCAL, scalers=scalers)
    again = numeric_rows(columns, buffer, sign=DeviationSign.UTC_TO_LOCAL, scalers=scalers)
    assert first == again
    assert first[0].time == start and first[-1].time == start + dt.timedelta(
        minutes=15 * (len(stamps) - 1)
    )
    assert first[5].time is None and first[9].time is None
    assert all(len(table) <= module._STAMPS_LIMIT + 300 for table in module._STAMPS.values())
    small = Array(buffer[:40])
    _same_as_typed(columns, small, scalers)
    _same_as_typed(columns, small, scalers)
