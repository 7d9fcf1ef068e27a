"""Property tests of the LN-service APDU codecs: exact round trips and garbage resistance."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlmskit.apdu import (
    ABSENT,
    AccessRequest,
    AccessRequestAction,
    AccessRequestGet,
    AccessRequestGetWithSelection,
    AccessRequestSet,
    AccessRequestSetWithSelection,
    AccessResponse,
    AccessResponseAction,
    AccessResponseGet,
    AccessResponseSet,
    ActionRequestNextPblock,
    ActionRequestNormal,
    ActionRequestWithFirstPblock,
    ActionRequestWithList,
    ActionRequestWithListAndFirstPblock,
    ActionRequestWithPblock,
    ActionResponseNextPblock,
    ActionResponseNormal,
    ActionResponseWithList,
    ActionResponseWithOptionalData,
    ActionResponseWithPblock,
    ActionResult,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    DataAccessResult,
    DataNotification,
    EventNotificationRequest,
    GeneralBlockTransfer,
    GetRequestNext,
    GetRequestNormal,
    GetRequestWithList,
    GetResponseNormal,
    GetResponseWithDatablock,
    GetResponseWithList,
    InvokeIdAndPriority,
    LongInvokeIdAndPriority,
    SelectiveAccess,
    SetRequestNormal,
    SetRequestWithDatablock,
    SetRequestWithFirstDatablock,
    SetRequestWithList,
    SetRequestWithListAndFirstDatablock,
    SetResponseDatablock,
    SetResponseLastDatablock,
    SetResponseLastDatablockWithList,
    SetResponseNormal,
    SetResponseWithList,
    decode_apdu,
    encode_apdu,
)
from dlmskit.axdr import (
    Array,
    DateTime,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    Integer,
    Long,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
    VisibleString,
)
from dlmskit.errors import DecodeError, LocalProtocolError
from obis import ObisCode

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

u32 = st.integers(0, 0xFFFFFFFF)
raw = st.binary(max_size=40)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(0, 0xFF).map(Unsigned),
    st.integers(0, 0xFFFF).map(LongUnsigned),
    st.integers(0, 0xFFFFFFFF).map(DoubleLongUnsigned),
    st.integers(-128, 127).map(Integer),
    st.integers(-0x8000, 0x7FFF).map(Long),
    st.integers(-(2**31), 2**31 - 1).map(DoubleLong),
    st.integers(0, 0xFF).map(Enum),
    st.binary(max_size=16).map(OctetString),
    st.text(string.ascii_letters + string.digits, max_size=8).map(VisibleString),
)
data = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(Array), st.lists(inner, max_size=4).map(Structure)
    ),
    max_leaves=12,
)

obis_codes = st.binary(min_size=6, max_size=6).map(ObisCode.from_bytes)
iips = st.builds(
    InvokeIdAndPriority,
    invoke_id=st.integers(0, 15),
    confirmed=st.booleans(),
    high_priority=st.booleans(),
)
long_iips = st.builds(
    LongInvokeIdAndPriority,
    invoke_id=st.integers(0, 0xFFFFFF),
    self_descriptive=st.booleans(),
    processing_option=st.booleans(),
    confirmed=st.booleans(),
    high_priority=st.booleans(),
)
attributes = st.builds(
    CosemAttributeDescriptor,
    class_id=st.integers(0, 0xFFFF),
    instance_id=obis_codes,
    attribute_id=st.integers(-128, 127),
)
methods = st.builds(
    CosemMethodDescriptor,
    class_id=st.integers(0, 0xFFFF),
    instance_id=obis_codes,
    method_id=st.integers(-128, 127),
)
selections = st.builds(SelectiveAccess, selector=st.integers(0, 255), parameters=data)
optional_selection = st.none() | selections
with_selection = st.builds(
    CosemAttributeDescriptorWithSelection,
    attribute_descriptor=attributes,
    access_selection=optional_selection,
)
access_results = st.sampled_from(DataAccessResult)
action_results = st.sampled_from(ActionResult)
get_data_results = data | access_results
date_times = st.builds(
    DateTime,
    year=st.none() | st.integers(0, 0xFFFE),
    month=st.none() | st.integers(1, 12),
    day=st.none() | st.integers(1, 31),
    day_of_week=st.none() | st.integers(1, 7),
    hour=st.none() | st.integers(0, 23),
    minute=st.none() | st.integers(0, 59),
    second=st.none() | st.integers(0, 59),
    hundredths=st.none() | st.integers(0, 99),
    deviation=st.none() | st.integers(-720, 720),
    clock_status=st.none() | st.integers(0, 0xFE),
)
lists = st.lists

get_apdus = st.one_of(
    st.builds(
        GetRequestNormal,
        invoke_id_and_priority=iips,
        attribute_descriptor=attributes,
        access_selection=optional_selection,
    ),
    st.builds(GetRequestNext, invoke_id_and_priority=iips, block_number=u32),
    st.builds(
        GetRequestWithList, invoke_id_and_priority=iips, attribute_descriptors=lists(with_selection)
    ),
    st.builds(GetResponseNormal, invoke_id_and_priority=iips, result=get_data_results),
    st.builds(
        GetResponseWithDatablock,
        invoke_id_and_priority=iips,
        last_block=st.booleans(),
        block_number=u32,
        result=raw | access_results,
    ),
    st.builds(GetResponseWithList, invoke_id_and_priority=iips, results=lists(get_data_results)),
)

set_apdus = st.one_of(
    st.builds(
        SetRequestNormal,
        invoke_id_and_priority=iips,
        attribute_descriptor=attributes,
        access_selection=optional_selection,
        value=data,
    ),
    st.builds(
        SetRequestWithFirstDatablock,
        invoke_id_and_priority=iips,
        attribute_descriptor=attributes,
        access_selection=optional_selection,
        last_block=st.booleans(),
        block_number=u32,
        raw_data=raw,
    ),
    st.builds(
        SetRequestWithDatablock,
        invoke_id_and_priority=iips,
        last_block=st.booleans(),
        block_number=u32,
        raw_data=raw,
    ),
    st.builds(
        SetRequestWithList,
        invoke_id_and_priority=iips,
        attribute_descriptors=lists(with_selection, max_size=4),
        values=lists(data, max_size=4),
    ),
    st.builds(
        SetRequestWithListAndFirstDatablock,
        invoke_id_and_priority=iips,
        attribute_descriptors=lists(with_selection, max_size=4),
        last_block=st.booleans(),
        block_number=u32,
        raw_data=raw,
    ),
    st.builds(SetResponseNormal, invoke_id_and_priority=iips, result=access_results),
    st.builds(SetResponseDatablock, invoke_id_and_priority=iips, block_number=u32),
    st.builds(
        SetResponseLastDatablock,
        invoke_id_and_priority=iips,
        result=access_results,
        block_number=u32,
    ),
    st.builds(
        SetResponseLastDatablockWithList,
        invoke_id_and_priority=iips,
        results=lists(access_results),
        block_number=u32,
    ),
    st.builds(SetResponseWithList, invoke_id_and_priority=iips, results=lists(access_results)),
)

optional_data = st.just(ABSENT) | data
action_apdus = st.one_of(
    st.builds(
        ActionRequestNormal,
        invoke_id_and_priority=iips,
        method_descriptor=methods,
        parameters=optional_data,
    ),
    st.builds(ActionRequestNextPblock, invoke_id_and_priority=iips, block_number=u32),
    st.builds(
        ActionRequestWithList,
        invoke_id_and_priority=iips,
        method_descriptors=lists(methods, max_size=4),
        parameters=lists(data, max_size=4),
    ),
    st.builds(
        ActionRequestWithFirstPblock,
        invoke_id_and_priority=iips,
        method_descriptor=methods,
        last_block=st.booleans(),
        block_number=u32,
        raw_data=raw,
    ),
    st.builds(
        ActionRequestWithListAndFirstPblock,
        invoke_id_and_priority=iips,
        method_descriptors=lists(methods, max_size=4),
        last_block=st.booleans(),
        block_number=u32,
        raw_data=raw,
    ),
    st.builds(
        ActionRequestWithPblock,
        invoke_id_and_priority=iips,
        last_block=st.booleans(),
        block_number=u32,
        raw_data=raw,
    ),
    st.builds(
        ActionResponseNormal,
        invoke_id_and_priority=iips,
        result=action_results,
        return_parameters=st.just(ABSENT) | get_data_results,
    ),
    st.builds(
        ActionResponseWithPblock,
        invoke_id_and_priority=iips,
        last_block=st.booleans(),
        block_number=u32,
        raw_data=raw,
    ),
    st.builds(
        ActionResponseWithList,
        invoke_id_and_priority=iips,
        responses=lists(
            st.builds(
                ActionResponseWithOptionalData,
                result=action_results,
                return_parameters=st.just(ABSENT) | get_data_results,
            ),
            max_size=4,
        ),
    ),
    st.builds(ActionResponseNextPblock, invoke_id_and_priority=iips, block_number=u32),
)

request_specs = st.one_of(
    st.builds(AccessRequestGet, attribute_descriptor=attributes),
    st.builds(AccessRequestSet, attribute_descriptor=attributes),
    st.builds(AccessRequestAction, method_descriptor=methods),
    st.builds(
        AccessRequestGetWithSelection, attribute_descriptor=attributes, access_selection=selections
    ),
    st.builds(
        AccessRequestSetWithSelection, attribute_descriptor=attributes, access_selection=selections
    ),
)
response_specs = st.one_of(
    st.builds(AccessResponseGet, result=access_results),
    st.builds(AccessResponseSet, result=access_results),
    st.builds(AccessResponseAction, result=action_results),
)

other_apdus = st.one_of(
    st.builds(
        EventNotificationRequest,
        time=st.none() | date_times,
        attribute_descriptor=attributes,
        value=data,
    ),
    st.builds(
        DataNotification,
        long_invoke_id_and_priority=long_iips,
        date_time=st.none() | date_times,
        notification_body=data,
    ),
    st.builds(
        AccessRequest,
        long_invoke_id_and_priority=long_iips,
        date_time=st.none() | date_times,
        specifications=lists(request_specs, max_size=4),
        data=lists(data, max_size=4),
    ),
    st.builds(
        AccessResponse,
        long_invoke_id_and_priority=long_iips,
        date_time=st.none() | date_times,
        request_specifications=st.none() | lists(request_specs, max_size=4),
        data=lists(data, max_size=4),
        results=lists(response_specs, max_size=4),
    ),
    st.builds(
        GeneralBlockTransfer,
        last_block=st.booleans(),
        streaming=st.booleans(),
        window=st.integers(0, 63),
        block_number=st.integers(0, 0xFFFF),
        block_number_ack=st.integers(0, 0xFFFF),
        block_data=st.binary(max_size=300),
    ),
)

all_apdus = st.one_of(get_apdus, set_apdus, action_apdus, other_apdus)


def check_round_trip(apdu: Any) -> bytes:
    wire = encode_apdu(apdu)
    assert wire == apdu.to_bytes()
    assert wire[0] == type(apdu).TAG
    again = decode_apdu(wire)
    assert type(again) is type(apdu)
    assert again == apdu
    assert type(apdu).from_bytes(wire) == apdu
    assert again.to_bytes() == wire
    return wire


@FAST
@given(get_apdus)
def test_get_round_trip(apdu: Any) -> None:
    check_round_trip(apdu)


@FAST
@given(set_apdus)
def test_set_round_trip(apdu: Any) -> None:
    check_round_trip(apdu)


@FAST
@given(action_apdus)
def test_action_round_trip(apdu: Any) -> None:
    check_round_trip(apdu)


@FAST
@given(other_apdus)
def test_notification_access_gbt_round_trip(apdu: Any) -> None:
    check_round_trip(apdu)


def _decode_or_error(blob: bytes) -> Any:
    try:
        value = decode_apdu(blob)
    except DecodeError:
        return None
    # Whatever decodes re-encodes to a canonical form that is stable.
    canonical = encode_apdu(value)
    assert encode_apdu(decode_apdu(canonical)) == canonical
    return value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(all_apdus)
def test_truncation_at_every_byte_is_a_decode_error(apdu: Any) -> None:
    wire = apdu.to_bytes()
    cuts = list(range(len(wire)))
    if isinstance(apdu, ActionResponseNormal):
        # Cut right after the result it is the accepted short form without return parameters.
        short = ActionResponseNormal(
            invoke_id_and_priority=apdu.invoke_id_and_priority, result=apdu.result
        )
        assert decode_apdu(wire[:4]) == short
        cuts.remove(4)
    for cut in cuts:
        with pytest.raises(DecodeError):
            decode_apdu(wire[:cut])
    with pytest.raises(DecodeError):
        decode_apdu(wire + b"\x00")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(all_apdus, st.data())
def test_mutated_apdus_decode_or_raise_decode_error(apdu: Any, draw: st.DataObject) -> None:
    wire = bytearray(apdu.to_bytes())
    for _ in range(draw.draw(st.integers(1, 4))):
        position = draw.draw(st.integers(0, len(wire) - 1))
        wire[position] = draw.draw(st.integers(0, 255))
    _decode_or_error(bytes(wire))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([0xC0, 0xC1, 0xC3, 0xC4, 0xC5, 0xC7, 0xC2, 0x0F, 0xD9, 0xDA, 0xE0]), raw)
def test_garbage_after_a_known_tag(tag: int, body: bytes) -> None:
    _decode_or_error(bytes((tag,)) + body)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_garbage(blob: bytes) -> None:
    _decode_or_error(blob)


def test_huge_lengths_fail_before_allocating() -> None:
    # A GET-Response-With-List claiming 2^32-1 results, and a datablock claiming 4 GB.
    with pytest.raises(DecodeError):
        decode_apdu(bytes.fromhex("C403C1 84FFFFFFFF 0000"))
    with pytest.raises(DecodeError):
        decode_apdu(bytes.fromhex("C402C1 00 00000001 00 84FFFFFFFF 00"))
    with pytest.raises(DecodeError):
        decode_apdu(bytes.fromhex("E0 81 0001 0000 84FFFFFFF0"))


def test_deep_nesting_is_a_decode_error() -> None:
    nested = bytes.fromhex("C401C100") + b"\x01\x01" * 5000 + b"\x00"
    with pytest.raises(DecodeError):
        decode_apdu(nested)


def test_unknown_tag_and_choice_are_named() -> None:
    with pytest.raises(DecodeError, match="0x42"):
        decode_apdu(b"\x42\x00")
    with pytest.raises(DecodeError, match="choice 9"):
        decode_apdu(b"\xc0\x09\xc1")
    with pytest.raises(DecodeError):
        decode_apdu(b"")
    with pytest.raises(DecodeError):
        decode_apdu(b"\xc4")


def test_reserved_invoke_id_bits_are_rejected() -> None:
    with pytest.raises(DecodeError, match="reserved"):
        decode_apdu(bytes.fromhex("C001F1 0008 0000010000FF 02 00"))
    with pytest.raises(DecodeError, match="reserved"):
        decode_apdu(bytes.fromhex("0F 01000000 00 00"))


def test_unknown_result_codes_are_decode_errors() -> None:
    with pytest.raises(DecodeError, match="DataAccessResult"):
        decode_apdu(bytes.fromhex("C501C1 05"))
    with pytest.raises(DecodeError, match="ActionResult"):
        decode_apdu(bytes.fromhex("C701C1 11 00"))


def test_construction_is_validated() -> None:
    with pytest.raises(LocalProtocolError):
        InvokeIdAndPriority(invoke_id=16)
    with pytest.raises(LocalProtocolError):
        LongInvokeIdAndPriority(invoke_id=1 << 24)
    with pytest.raises(LocalProtocolError):
        CosemAttributeDescriptor(class_id=0x10000, instance_id="0.0.1.0.0.255", attribute_id=2)
    with pytest.raises(LocalProtocolError):
        CosemAttributeDescriptor(class_id=8, instance_id="0.0.1.0.0.255", attribute_id=128)
    with pytest.raises(LocalProtocolError):
        GetRequestNext(block_number=-1)
    with pytest.raises(LocalProtocolError):
        GeneralBlockTransfer(last_block=True, window=64, block_number=1, block_data=b"")


@FAST
@given(attributes, methods)
def test_descriptor_round_trip(attribute: CosemAttributeDescriptor, method: Any) -> None:
    assert len(attribute.to_bytes()) == 9
    assert CosemAttributeDescriptor.from_bytes(attribute.to_bytes()) == attribute
    assert CosemMethodDescriptor.from_bytes(method.to_bytes()) == method
    with pytest.raises(DecodeError):
        CosemAttributeDescriptor.from_bytes(attribute.to_bytes()[:-1])


def test_every_invoke_id_byte() -> None:
    for byte in range(256):
        if byte & 0x30:
            with pytest.raises(LocalProtocolError):
                InvokeIdAndPriority.from_byte(byte)
        else:
            assert InvokeIdAndPriority.from_byte(byte).to_byte() == byte


@FAST
@given(st.integers(0, 0xFFFFFFFF))
def test_every_long_invoke_id(value: int) -> None:
    if value & 0x0F000000:
        with pytest.raises(LocalProtocolError):
            LongInvokeIdAndPriority.from_int(value)
    else:
        assert LongInvokeIdAndPriority.from_int(value).to_int() == value
