"""Units, scaler_unit and capture_object_definition values."""

from __future__ import annotations

import contextlib

import pytest
from gurux_dlms._GXObjectFactory import _GXObjectFactory
from gurux_dlms.enums import ObjectType
from gurux_dlms.enums import Unit as GuruxUnit
from gurux_dlms.GXByteBuffer import GXByteBuffer
from gurux_dlms.GXDLMSClient import GXDLMSClient
from gurux_dlms.GXEnum import GXEnum
from gurux_dlms.GXInt8 import GXInt8
from gurux_dlms.GXStructure import GXStructure
from gurux_dlms.internal._GXCommon import _GXCommon
from gurux_dlms.objects.GXDLMSCaptureObject import GXDLMSCaptureObject
from gurux_dlms.objects.GXDLMSProfileGeneric import GXDLMSProfileGeneric
from gurux_dlms.ValueEventArgs import ValueEventArgs
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.axdr import (
    Array,
    DoubleLongUnsigned,
    Enum,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
    decode,
    encode,
)
from dlmskit.cosem import CaptureObject, ScalerUnit, Unit, unit_symbol
from dlmskit.errors import DecodeError
from obis import ObisCode

# dlms-facts.md 2.3 and the task's unit list.
FACTS_UNITS = {
    1: "a",
    2: "mo",
    3: "wk",
    4: "d",
    5: "h",
    6: "min.",
    7: "s",
    8: "°",
    9: "°C",
    10: "currency",
    11: "m",
    12: "m/s",
    13: "m³",
    27: "W",
    28: "VA",
    29: "var",
    30: "Wh",
    31: "VAh",
    32: "varh",
    33: "A",
    34: "C",
    35: "V",
    44: "Hz",
    56: "%",
}


@pytest.mark.parametrize(("value", "symbol"), sorted(FACTS_UNITS.items()))
def test_unit_symbols(value: int, symbol: str) -> None:
    assert Unit(value).symbol == symbol
    assert unit_symbol(value) == symbol


def test_special_units() -> None:
    assert Unit(255) is Unit.COUNT
    assert Unit(254) is Unit.OTHER
    assert Unit(253) is Unit.RESERVED
    assert Unit.COUNT.quantity == "count / no unit"
    assert Unit.WATT_HOUR.quantity == "active energy"


def test_table_covers_1_to_72() -> None:
    values = {int(u) for u in Unit}
    assert values == set(range(1, 58)) | set(range(60, 68)) | {70, 71, 72, 253, 254, 255}
    assert all(u.quantity for u in Unit)
    assert all(u.symbol for u in Unit if u < 253)


def test_unit_values_agree_with_gurux_enum() -> None:
    ours = {int(u) for u in Unit} - {253}
    theirs = {int(u) for u in GuruxUnit if 1 <= int(u) <= 72 or int(u) in (254, 255)}
    assert ours == theirs


@pytest.mark.parametrize("value", [0, 58, 59, 68, 69, 73, 128, 200, 252])
def test_unknown_unit_values(value: int) -> None:
    with pytest.raises(ValueError):
        Unit(value)
    assert unit_symbol(value) == f"unit {value}"


def _gurux_scaler_unit(scaler: int, unit: int) -> bytes:
    buffer = GXByteBuffer()
    structure = GXStructure()
    structure.append(GXInt8(scaler))
    structure.append(GXEnum(unit))
    _GXCommon.setData(GXDLMSClient(True).settings, buffer, 2, structure)
    return bytes(buffer.array())


def test_scaler_unit_golden() -> None:
    raw = bytes.fromhex("02020FFD161E")  # {-3, Wh}
    value = ScalerUnit.from_data(decode(raw))
    assert value == ScalerUnit(scaler=-3, unit=Unit.WATT_HOUR)
    assert encode(value.to_data()) == raw
    assert value.scale(123456) == 123.456
    assert value.symbol == "Wh"
    assert str(value) == "10^-3 Wh"
    assert ScalerUnit(scaler=2, unit=Unit.WATT).scale(7) == 700
    assert ScalerUnit(scaler=0, unit=Unit.COUNT).scale(5) == 5
    assert ScalerUnit(scaler=1, unit=Unit.VOLT).scale(2.5) == 25.0


@settings(max_examples=100, deadline=None)
@given(st.integers(-128, 127), st.integers(0, 255))
def test_scaler_unit_matches_gurux_bytes(scaler: int, unit: int) -> None:
    raw = _gurux_scaler_unit(scaler, unit)
    value = ScalerUnit.from_data(decode(raw))
    assert value.scaler == scaler
    assert int(value.unit) == unit
    assert isinstance(value.unit, Unit) == (unit in {int(u) for u in Unit})
    assert encode(value.to_data()) == raw


@pytest.mark.parametrize(
    "data",
    [
        Structure((Integer(-3),)),
        Array((Integer(-3), Enum(30))),
        Structure((OctetString(b"x"), Enum(30))),
        Structure((True, Enum(30))),
        Structure((Integer(-3), Enum(30), Enum(1))),
        None,
    ],
)
def test_scaler_unit_rejects(data: object) -> None:
    with pytest.raises(DecodeError):
        ScalerUnit.from_data(data)  # type: ignore[arg-type]


def test_scaler_unit_range_checks() -> None:
    with pytest.raises(ValueError):
        ScalerUnit(scaler=128, unit=Unit.WATT)
    with pytest.raises(ValueError):
        ScalerUnit(scaler=0, unit=256)
    with pytest.raises(DecodeError):
        ScalerUnit.from_data(Structure((LongUnsigned(300), Enum(30))))


def test_capture_object_golden_bytes() -> None:
    clock = CaptureObject.of(8, "0.0.1.0.0.255", 2)
    raw = encode(clock.to_data())
    assert raw == bytes.fromhex("0204 120008 09060000010000FF 0F02 120000")
    assert CaptureObject.from_data(decode(raw)) == clock
    assert clock.logical_name == ObisCode(0, 0, 1, 0, 0, 255)
    assert clock.data_index == 0
    assert str(clock) == "8/0.0.1.0.0.255/2"
    assert str(CaptureObject.of(7, "1.0.99.1.0.255", 2, 3)) == "7/1.0.99.1.0.255/2/3"


def _gurux_capture_objects(columns: list[CaptureObject]) -> bytes:
    client = GXDLMSClient(True)
    profile = GXDLMSProfileGeneric("1.0.99.1.0.255")
    for column in columns:
        target = _GXObjectFactory.createObject(ObjectType(column.class_id))
        target.logicalName = str(column.logical_name)
        profile.captureObjects.append(
            (target, GXDLMSCaptureObject(column.attribute_index, column.data_index))
        )
    value = profile.getValue(client.settings, ValueEventArgs(client, profile, 3, 0, None))
    return bytes(value.array())


capture_objects = st.builds(
    CaptureObject.of,
    st.sampled_from([1, 3, 4, 5, 7, 8, 15, 40, 70, 71]),
    st.builds(ObisCode, *[st.integers(0, 255)] * 6),
    st.integers(1, 20),
    st.integers(0, 0xFFFF),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(capture_objects, min_size=1, max_size=6))
def test_capture_objects_match_gurux_encoding(columns: list[CaptureObject]) -> None:
    ours = encode(Array(c.to_data() for c in columns))
    assert ours == _gurux_capture_objects(columns)
    decoded = decode(ours)
    assert isinstance(decoded, Array)
    assert [CaptureObject.from_data(item) for item in decoded] == columns


@pytest.mark.parametrize(
    "data",
    [
        Structure((LongUnsigned(3), OctetString(bytes(6)), Integer(2))),
        Structure((LongUnsigned(3), OctetString(bytes(5)), Integer(2), LongUnsigned(0))),
        Structure((LongUnsigned(3), OctetString(b"123456"), False, LongUnsigned(0))),
        Structure((DoubleLongUnsigned(70000), OctetString(bytes(6)), Integer(2), Unsigned(0))),
        Array((LongUnsigned(3), OctetString(bytes(6)), Integer(2), LongUnsigned(0))),
        "not data",
    ],
)
def test_capture_object_rejects(data: object) -> None:
    with pytest.raises(DecodeError):
        CaptureObject.from_data(data)  # type: ignore[arg-type]


def test_capture_object_validates() -> None:
    with pytest.raises(ValueError):
        CaptureObject.of(70000, "0.0.1.0.0.255", 2)
    with pytest.raises(ValueError):
        CaptureObject.of(8, "0.0.1.0.0.255", 200)
    with pytest.raises(ValueError):
        CaptureObject.of(8, "not obis", 2)


_elements = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-128, 127).map(Integer),
    st.integers(0, 0xFFFF).map(LongUnsigned),
    st.integers(0, 0xFFFFFFFF).map(DoubleLongUnsigned),
    st.integers(0, 255).map(Enum),
    st.binary(max_size=8).map(OctetString),
)
_shapes = st.one_of(
    _elements,
    st.lists(_elements, max_size=5).map(Structure),
    st.lists(_elements, max_size=5).map(Array),
)


@settings(max_examples=200)
@given(_shapes)
def test_from_data_gives_a_value_or_decode_error(value: object) -> None:
    for reader in (CaptureObject.from_data, ScalerUnit.from_data):
        try:
            result = reader(value)  # type: ignore[arg-type]
        except DecodeError:
            continue
        # Integer widths are not enforced on input: the element values must survive.
        assert isinstance(value, Structure)
        assert list(result.to_data()) == list(value)


@settings(max_examples=200)
@given(st.binary(max_size=40))
def test_decoded_garbage_gives_a_value_or_decode_error(raw: bytes) -> None:
    try:
        value = decode(raw)
    except DecodeError:
        return
    for reader in (CaptureObject.from_data, ScalerUnit.from_data):
        with contextlib.suppress(DecodeError):
            reader(value)
