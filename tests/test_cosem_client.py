"""Client side: quantities, clock values, profile columns, typed rows and the
selective access of profile reads (golden bytes from dlms-facts 1.4, gurux-dlms columns)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import CosemAttributeDescriptor, GetRequestNormal
from dlmskit.axdr import (
    Array,
    ClockStatus,
    Data,
    DateTime,
    DeviationSign,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    Float32,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
    decode,
    encode,
)
from dlmskit.cosem import (
    IS15959_SINGLE_PHASE,
    CaptureObject,
    ProfileColumns,
    ProfileGeneric,
    Quantity,
    ScalerUnit,
    Unit,
    by_entries,
    by_time_range,
    clock_datetime,
    clock_time_descriptor,
    clock_value,
    local_context,
    register_descriptors,
    register_quantity,
)
from dlmskit.errors import DecodeError
from obis import ObisCode

IST = dt.timezone(dt.timedelta(minutes=330))
BLOCK_LOAD = ObisCode.parse("1.0.99.1.0.255")


# -- quantities ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "scaler", "expected"),
    [
        (DoubleLongUnsigned(123456), -3, "123.456"),
        (LongUnsigned(23456), -2, "234.56"),
        (DoubleLong(-5), 2, "-5E+2"),
        (Unsigned(1), -1, "0.1"),
        (DoubleLongUnsigned(0xFFFFFFFF), -9, "4.294967295"),
        (Float32(2.5), -1, "0.25"),
    ],
)
def test_quantities_are_exact(raw: Data, scaler: int, expected: str) -> None:
    quantity = register_quantity(raw, Structure((Integer(scaler), Enum(30))))
    assert quantity.value == Decimal(expected)
    assert quantity.unit is Unit.WATT_HOUR
    assert float(quantity) == float(Decimal(expected))


def test_quantity_text_and_unknown_units() -> None:
    assert str(Quantity(value=Decimal("230.1"), unit=Unit.VOLT)) == "230.1 V"
    odd = register_quantity(Unsigned(3), ScalerUnit(scaler=0, unit=200))
    assert odd.unit == 200 and not isinstance(odd.unit, Unit)
    # 0.1 + 0.2 is exact with the decimal scaling, not 0.30000000000000004
    tenth = register_quantity(Unsigned(1), ScalerUnit(scaler=-1, unit=Unit.VOLT)).value
    fifth = register_quantity(Unsigned(2), ScalerUnit(scaler=-1, unit=Unit.VOLT)).value
    assert tenth + fifth == Decimal("0.3")


@pytest.mark.parametrize(
    ("value", "scaler_unit"),
    [
        (OctetString(b"12"), Structure((Integer(0), Enum(30)))),
        (None, Structure((Integer(0), Enum(30)))),
        (True, Structure((Integer(0), Enum(30)))),
        (Unsigned(1), Structure((Integer(0),))),
        (Unsigned(1), Array()),
    ],
)
def test_register_quantity_refuses_what_is_not_a_scaled_number(
    value: Data, scaler_unit: Data
) -> None:
    with pytest.raises(DecodeError):
        register_quantity(value, scaler_unit)


def test_register_descriptors() -> None:
    value, scaler = register_descriptors("1.0.1.8.0.255")
    assert (value.class_id, value.attribute_id, scaler.attribute_id) == (3, 2, 3)
    current, demand_scaler = register_descriptors("1.0.1.4.0.255", class_id=5)
    assert (current.attribute_id, demand_scaler.attribute_id) == (2, 4)


# -- clock -------------------------------------------------------------------------------------


def test_clock_read_with_either_deviation_sign() -> None:
    # dlms-facts 2.2: 2024-01-01 00:00:00 IST, deviation -330 (Blue Book sign)
    blue_book = OctetString(bytes.fromhex("07E80101FF00000000FEB600"))
    moment = clock_datetime(blue_book, sign=DeviationSign.BLUE_BOOK)
    assert moment == dt.datetime(2024, 1, 1, tzinfo=IST)
    assert moment.utcoffset() == dt.timedelta(minutes=330)
    indian = OctetString(bytes.fromhex("07E80101FF000000000 14A00".replace(" ", "")))
    assert clock_datetime(indian, sign=DeviationSign.UTC_TO_LOCAL) == moment
    assert clock_datetime(indian, sign=DeviationSign.BLUE_BOOK) != moment


def test_clock_value_round_trip_and_unspecified_deviation() -> None:
    moment = dt.datetime(2024, 2, 29, 23, 59, 59, 990000, tzinfo=IST)
    for sign in DeviationSign:
        value = clock_value(moment, sign=sign)
        assert clock_datetime(value, sign=sign) == moment
        assert clock_datetime(DateTime.from_bytes(value), sign=sign) == moment
    naive = clock_value(moment.replace(tzinfo=None), sign=DeviationSign.BLUE_BOOK)
    assert naive[9:11] == b"\x80\x00"
    assert clock_datetime(naive, sign=DeviationSign.BLUE_BOOK).tzinfo is None
    assert clock_datetime(naive, sign=DeviationSign.BLUE_BOOK, tz=IST) == moment
    status = clock_value(moment, sign=DeviationSign.BLUE_BOOK, clock_status=ClockStatus(0x80))
    assert status[-1] == 0x80
    assert clock_time_descriptor().to_bytes() == bytes.fromhex("00080000010000FF02")


@pytest.mark.parametrize(
    "value",
    [
        OctetString(bytes(11)),
        OctetString(bytes.fromhex("FFFF0101FF00000000FEB600")),
        OctetString(bytes(12)),
        Unsigned(3),
    ],
)
def test_clock_values_that_are_not_instants(value: Data) -> None:
    with pytest.raises(DecodeError):
        clock_datetime(value, sign=DeviationSign.BLUE_BOOK)


# -- selective access: golden bytes ----------------------------------------------------------


def _request(access: object) -> bytes:
    return GetRequestNormal(
        attribute_descriptor=CosemAttributeDescriptor(
            class_id=7, instance_id=BLOCK_LOAD, attribute_id=2
        ),
        access_selection=access,  # type: ignore[arg-type]
    ).to_bytes()


def test_range_read_matches_the_dlms_facts_vector() -> None:
    access = by_time_range(
        dt.datetime(2024, 1, 1, tzinfo=IST),
        dt.datetime(2024, 1, 2, tzinfo=IST),
        sign=DeviationSign.BLUE_BOOK,
    )
    assert _request(access) == bytes.fromhex(
        "C001C1 0007 0100630100FF 02 01 01 0204 0204 120008 0906 0000010000FF 0F02 120000"
        " 090C 07E80101FF00000000FEB600 090C 07E80102FF00000000FEB600 0100"
    )


def test_entry_read_matches_the_dlms_facts_vector() -> None:
    assert _request(by_entries(1, 96)) == bytes.fromhex(
        "C001C1 0007 0100630100FF 02 01 02 0204 0600000001 0600000060 120001 120000"
    )


def test_range_read_with_selected_columns() -> None:
    columns = [CaptureObject.of(8, "0.0.1.0.0.255", 2), CaptureObject.of(3, "1.0.1.29.0.255", 2)]
    access = by_time_range(
        dt.datetime(2024, 1, 1, 0, 15),
        dt.datetime(2024, 1, 1, 0, 45),
        sign=DeviationSign.BLUE_BOOK,
        columns=columns,
    )
    selected = access.parameters[3]  # type: ignore[index]
    assert isinstance(selected, Array)
    assert [CaptureObject.from_data(c) for c in selected] == columns
    assert access.parameters[1][9:11] == b"\x80\x00"  # type: ignore[index]
    with pytest.raises(ValueError, match="data_index"):
        by_time_range(
            dt.datetime(2024, 1, 1),
            dt.datetime(2024, 1, 2),
            sign=DeviationSign.BLUE_BOOK,
            columns=[CaptureObject.of(4, "1.0.1.6.0.255", 2, 1)],
        )


# -- profile columns ---------------------------------------------------------------------------

gurux_dlms = pytest.importorskip("gurux_dlms")

from gurux_dlms import GXDLMSSettings, ValueEventArgs  # noqa: E402
from gurux_dlms.objects import (  # noqa: E402
    GXDLMSClock,
    GXDLMSDemandRegister,
    GXDLMSExtendedRegister,
    GXDLMSProfileGeneric,
    GXDLMSRegister,
)


def test_columns_from_gurux_capture_objects_and_ours_encode_the_same() -> None:
    profile = GXDLMSProfileGeneric("1.0.99.1.0.255")
    profile.addCaptureObject(GXDLMSClock("0.0.1.0.0.255"), 2, 0)
    profile.addCaptureObject(GXDLMSRegister("1.0.12.27.0.255"), 2, 0)
    profile.addCaptureObject(GXDLMSExtendedRegister("1.0.1.6.0.255"), 5, 0)
    profile.addCaptureObject(GXDLMSDemandRegister("1.0.1.4.0.255"), 3, 2)
    server = GXDLMSSettings(True, None)
    raw = bytes(profile.getValue(server, ValueEventArgs(server, profile, 3, 0, None)).array())
    columns = ProfileColumns.from_data(decode(raw))
    assert [
        (c.class_id, str(c.logical_name), c.attribute_index, c.data_index) for c in columns
    ] == [
        (8, "0.0.1.0.0.255", 2, 0),
        (3, "1.0.12.27.0.255", 2, 0),
        (4, "1.0.1.6.0.255", 5, 0),
        (5, "1.0.1.4.0.255", 3, 2),
    ]
    assert [c.index for c in columns] == [0, 1, 2, 3]
    assert columns[0].name == "Clock" and columns[0].is_clock
    assert columns.clock is columns[0]
    assert columns[2].name.endswith("(attribute 5)") and columns[2].is_date_time
    assert columns[1].is_register_value and not columns[3].is_register_value
    ours = ProfileGeneric("1.0.99.1.0.255", capture_objects=columns.capture_objects)
    assert encode(ours.get_attribute(local_context(), 3, None)) == raw


def test_columns_slice_and_select_follow_the_blue_book_numbering() -> None:
    definition = IS15959_SINGLE_PHASE.profile(BLOCK_LOAD)
    assert definition is not None
    columns = ProfileColumns.of(definition.capture_objects)
    assert [c.logical_name for c in columns.slice(2, 3)] == [
        ObisCode.parse("1.0.12.27.0.255"),
        ObisCode.parse("1.0.1.29.0.255"),
    ]
    assert len(columns.slice(5)) == len(columns) - 4
    assert len(columns.slice(0, 99)) == len(columns)
    assert columns.select(()) is columns
    picked = columns.select([definition.capture_objects[3], definition.capture_objects[0]])
    assert [c.index for c in picked] == [0, 1] and picked[1].is_clock
    assert ProfileColumns.of([]).clock is None


def _block_load_columns() -> ProfileColumns:
    definition = IS15959_SINGLE_PHASE.profile(BLOCK_LOAD)
    assert definition is not None
    return ProfileColumns.of(definition.capture_objects)


def _scaler_read() -> tuple[ProfileColumns, Array]:
    scaler = IS15959_SINGLE_PHASE.scaler_profile_of(BLOCK_LOAD)
    assert scaler is not None
    units = (
        ScalerUnit(scaler=-2, unit=Unit.VOLT),
        ScalerUnit(scaler=0, unit=Unit.WATT_HOUR),
        ScalerUnit(scaler=0, unit=Unit.VOLT_AMPERE_HOUR),
        ScalerUnit(scaler=0, unit=Unit.WATT_HOUR),
        ScalerUnit(scaler=0, unit=Unit.VOLT_AMPERE_HOUR),
        ScalerUnit(scaler=-3, unit=Unit.AMPERE),
    )
    return (
        ProfileColumns.of(scaler.capture_objects),
        Array((Structure(u.to_data() for u in units),)),
    )


def test_typed_rows_apply_the_block_load_scaler_profile() -> None:
    columns = _block_load_columns()
    scaler_columns, scaler_buffer = _scaler_read()
    scalers = columns.scalers(scaler_columns, scaler_buffer)
    buffer = Array(
        (
            Structure(
                (
                    OctetString(bytes.fromhex("07E80101FF000F0000FEB600")),
                    LongUnsigned(23012),
                    DoubleLongUnsigned(125),
                    DoubleLongUnsigned(130),
                    DoubleLongUnsigned(0),
                    DoubleLongUnsigned(0),
                    DoubleLong(5432),
                )
            ),
            Structure(
                (
                    OctetString(bytes.fromhex("FFFFFFFFFFFFFFFFFF8000FF")),
                    LongUnsigned(0),
                    DoubleLongUnsigned(0),
                    DoubleLongUnsigned(0),
                    DoubleLongUnsigned(0),
                    DoubleLongUnsigned(0),
                    DoubleLong(0),
                )
            ),
        )
    )
    first, second = columns.rows(buffer, sign=DeviationSign.BLUE_BOOK, scalers=scalers)
    assert first.time == dt.datetime(2024, 1, 1, 0, 15, tzinfo=IST)
    assert first["1.0.12.27.0.255"] == Quantity(value=Decimal("230.12"), unit=Unit.VOLT)
    assert first[ObisCode.parse("1.0.11.27.0.255")] == Quantity(
        value=Decimal("5.432"), unit=Unit.AMPERE
    )
    assert first[2] == Quantity(value=Decimal(125), unit=Unit.WATT_HOUR)
    assert second.time is None and second[0] == OctetString(bytes.fromhex("FF" * 9 + "8000FF"))
    with pytest.raises(KeyError):
        first["1.0.1.8.0.255"]
    unscaled = columns.rows(buffer, sign=DeviationSign.BLUE_BOOK)
    assert unscaled[0][1] == LongUnsigned(23012)


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
        _block_load_columns().rows(buffer, sign=DeviationSign.BLUE_BOOK)


def test_scaler_profile_without_an_entry_is_a_decode_error() -> None:
    scaler_columns, _ = _scaler_read()
    with pytest.raises(DecodeError):
        _block_load_columns().scalers(scaler_columns, Array())
    with pytest.raises(DecodeError):
        ProfileColumns.from_data(Structure())


_cells = st.one_of(
    st.none(),
    st.integers(0, 0xFFFF).map(LongUnsigned),
    st.integers(-(2**31), 2**31 - 1).map(DoubleLong),
    st.binary(min_size=12, max_size=12).map(OctetString),
    st.booleans(),
)


@settings(max_examples=150)
@given(st.lists(st.lists(_cells, min_size=7, max_size=7).map(Structure), max_size=4))
def test_any_seven_column_rows_decode_or_raise_decode_error(rows: list[Structure]) -> None:
    columns = _block_load_columns()
    scaler_columns, scaler_buffer = _scaler_read()
    scalers = columns.scalers(scaler_columns, scaler_buffer)
    try:
        typed = columns.rows(Array(rows), sign=DeviationSign.UTC_TO_LOCAL, scalers=scalers)
    except DecodeError:
        return
    assert len(typed) == len(rows)
    for row in typed:
        assert row.time is None or row.time == row.values[0]
        assert all(isinstance(v, Quantity) for v in row.values[1:])


def test_a_push_body_typed_by_its_push_object_list() -> None:
    alert = IS15959_SINGLE_PHASE.push_setup(ObisCode.parse("0.4.25.9.0.255"))
    assert alert is not None
    columns = ProfileColumns.of(alert.push_object_list)
    body = Structure(
        (
            OctetString(b"DEV-1"),
            OctetString(alert.logical_name.to_bytes()),
            OctetString(bytes.fromhex("07E80101FF000F0000FEB600")),
            OctetString(bytes(16)),
        )
    )
    row = columns.row(body, sign=DeviationSign.BLUE_BOOK)
    assert row.time == dt.datetime(2024, 1, 1, 0, 15, tzinfo=IST)
    assert row["0.0.96.1.2.255"] == OctetString(b"DEV-1")
    assert row["0.0.94.91.18.255"] == OctetString(bytes(16))
    with pytest.raises(DecodeError):
        columns.row(Structure(body[:3]), sign=DeviationSign.BLUE_BOOK)


def test_demand_register_scalers_come_from_attribute_4() -> None:
    columns = ProfileColumns.of(
        [CaptureObject.of(8, "0.0.1.0.0.255", 2), CaptureObject.of(5, "1.0.1.4.0.255", 2)]
    )
    scaler_columns = ProfileColumns.of([CaptureObject.of(5, "1.0.1.4.0.255", 4)])
    unit = ScalerUnit(scaler=1, unit=Unit.WATT)
    scalers = columns.scalers(scaler_columns, Array((Structure((unit.to_data(),)),)))
    assert scalers == {ObisCode.parse("1.0.1.4.0.255"): unit}
    entry = Structure((OctetString(bytes.fromhex("07E80101FF000F0000FEB600")), DoubleLong(42)))
    row = columns.row(entry, sign=DeviationSign.BLUE_BOOK, scalers=scalers)
    assert row[1] == Quantity(value=Decimal(420), unit=Unit.WATT)


def test_every_truncation_or_corruption_of_a_read_is_a_decode_error_or_rows() -> None:
    columns = _block_load_columns()
    scaler_columns, scaler_buffer = _scaler_read()
    scalers = columns.scalers(scaler_columns, scaler_buffer)
    entry = Structure(
        (
            OctetString(bytes.fromhex("07E80101FF000F0000FEB600")),
            LongUnsigned(23012),
            DoubleLongUnsigned(125),
            DoubleLongUnsigned(130),
            DoubleLongUnsigned(0),
            DoubleLongUnsigned(0),
            DoubleLong(5432),
        )
    )
    raw = encode(Array((entry, entry)))
    capture_raw = encode(Array(c.to_data() for c in columns.capture_objects))
    for blob in (raw, capture_raw):
        for cut in range(len(blob)):
            with pytest.raises(DecodeError):
                decode(blob[:cut])
        for pos in range(len(blob)):
            for byte in (0x00, 0x01, 0x02, 0x09, 0x12, 0xFF):
                corrupted = blob[:pos] + bytes((byte,)) + blob[pos + 1 :]
                try:
                    value = decode(corrupted)
                except DecodeError:
                    continue
                try:
                    typed = columns.rows(value, sign=DeviationSign.BLUE_BOOK, scalers=scalers)
                except DecodeError:
                    pass
                else:
                    assert isinstance(value, Array) and len(typed) == len(value)
                try:
                    again = ProfileColumns.from_data(value)
                except DecodeError:
                    pass
                else:
                    assert isinstance(value, Array) and len(again) == len(value)
