"""LN-service APDUs checked byte for byte against an independent implementation.

gurux-dlms (GPL-2.0) is a test-only oracle here: it builds requests, pushes and block
transfer frames; dlmskit must decode them to the expected values and re-encode them to
the same bytes. Nothing from it is used by the library.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from dlmskit.apdu import (
    ABSENT,
    AccessRequest,
    AccessRequestGet,
    AccessResponse,
    AccessResponseGet,
    ActionRequestNextPblock,
    ActionRequestNormal,
    ActionRequestWithFirstPblock,
    ActionRequestWithPblock,
    ActionResponseNextPblock,
    ActionResponseNormal,
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
    InvokeIdAndPriority,
    LongInvokeIdAndPriority,
    SelectiveAccess,
    SetRequestNormal,
    SetRequestWithDatablock,
    SetRequestWithFirstDatablock,
    SetRequestWithList,
    SetResponseDatablock,
    SetResponseLastDatablock,
    SetResponseNormal,
    SetResponseWithList,
    decode_apdu,
)
from dlmskit.axdr import (
    DateTime,
    DoubleLongUnsigned,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
    VisibleString,
)
from obis import ObisCode

gurux_dlms = pytest.importorskip("gurux_dlms")

from gurux_dlms import (  # noqa: E402
    GXByteBuffer,
    GXDateTime,
    GXDLMSClient,
    GXDLMSSettings,
    GXDLMSTranslator,
)
from gurux_dlms.enums import (  # noqa: E402
    AccessServiceCommandType,
    Authentication,
    Command,
    Conformance,
    DataType,
    ErrorCode,
    InterfaceType,
    RequestTypes,
    TranslatorOutputType,
)
from gurux_dlms.GXDLMS import GXDLMS  # noqa: E402
from gurux_dlms.GXDLMSAccessItem import GXDLMSAccessItem  # noqa: E402
from gurux_dlms.GXDLMSLNParameters import GXDLMSLNParameters  # noqa: E402
from gurux_dlms.GXDLMSNotify import GXDLMSNotify  # noqa: E402
from gurux_dlms.internal._GXCommon import _GXCommon  # noqa: E402
from gurux_dlms.objects import (  # noqa: E402
    GXDLMSCaptureObject,
    GXDLMSClock,
    GXDLMSData,
    GXDLMSDisconnectControl,
    GXDLMSProfileGeneric,
    GXDLMSPushSetup,
    GXDLMSRegister,
)

CLOCK = ObisCode.parse("0.0.1.0.0.255")
C1 = InvokeIdAndPriority(invoke_id=1, confirmed=True, high_priority=True)


def unwrap(message: Any) -> bytes:
    """Strip the 8-byte IEC 62056-47 wrapper header gurux puts around each APDU."""
    raw = bytes(message)
    assert raw[:2] == b"\x00\x01"
    assert int.from_bytes(raw[6:8], "big") == len(raw) - 8
    return raw[8:]


def client(*, multiple_references: bool = False, max_pdu: int = 0xFFFF) -> Any:
    c = GXDLMSClient(True, 16, 1, Authentication.NONE, None, InterfaceType.WRAPPER)
    if multiple_references:
        c.negotiatedConformance = c.negotiatedConformance | Conformance.MULTIPLE_REFERENCES
    c.maxReceivePDUSize = max_pdu
    return c


def decoded(message: Any) -> Any:
    wire = unwrap(message)
    apdu = decode_apdu(wire)
    assert apdu.to_bytes() == wire
    return apdu


def test_get_request_normal_from_gurux_read() -> None:
    (message,) = client().read(GXDLMSClock("0.0.1.0.0.255"), 2)
    apdu = decoded(message)
    assert apdu == GetRequestNormal(
        invoke_id_and_priority=C1,
        attribute_descriptor=CosemAttributeDescriptor(
            class_id=8, instance_id=CLOCK, attribute_id=2
        ),
    )


def test_get_request_with_list_from_gurux_read_list() -> None:
    clock = GXDLMSClock("0.0.1.0.0.255")
    register = GXDLMSRegister("1.0.1.8.0.255")
    messages = client(multiple_references=True).readList([(clock, 2), (register, 2), (register, 3)])
    (message,) = messages[0] if isinstance(messages[0], list) else messages
    apdu = decoded(message)
    assert isinstance(apdu, GetRequestWithList)
    energy = ObisCode.parse("1.0.1.8.0.255")
    assert apdu.attribute_descriptors == (
        CosemAttributeDescriptorWithSelection(
            attribute_descriptor=CosemAttributeDescriptor(
                class_id=8, instance_id=CLOCK, attribute_id=2
            )
        ),
        CosemAttributeDescriptorWithSelection(
            attribute_descriptor=CosemAttributeDescriptor(
                class_id=3, instance_id=energy, attribute_id=2
            )
        ),
        CosemAttributeDescriptorWithSelection(
            attribute_descriptor=CosemAttributeDescriptor(
                class_id=3, instance_id=energy, attribute_id=3
            )
        ),
    )


def _profile() -> Any:
    profile = GXDLMSProfileGeneric("1.0.99.1.0.255")
    profile.captureObjects.append((GXDLMSClock("0.0.1.0.0.255"), GXDLMSCaptureObject(2, 0)))
    return profile


def test_read_rows_by_entry_matches_the_entry_descriptor_builder() -> None:
    (message,) = client().readRowsByEntry(_profile(), 1, 96)
    apdu = decoded(message)
    assert apdu == GetRequestNormal(
        invoke_id_and_priority=C1,
        attribute_descriptor=CosemAttributeDescriptor(
            class_id=7, instance_id="1.0.99.1.0.255", attribute_id=2
        ),
        access_selection=SelectiveAccess.entry_descriptor(from_entry=1, to_entry=96),
    )


def test_read_rows_by_range_matches_the_range_descriptor_builder() -> None:
    start = datetime.datetime(2024, 1, 1)
    end = datetime.datetime(2024, 1, 2)
    (message,) = client().readRowsByRange(_profile(), start, end)
    apdu = decoded(message)
    assert isinstance(apdu, GetRequestNormal)
    selection = apdu.access_selection
    assert selection is not None
    # Gurux sends the bounds as octet-string(12) date-times; take them from the wire.
    _, from_value, to_value, _ = selection.parameters  # type: ignore[misc]
    assert isinstance(from_value, OctetString)
    assert isinstance(to_value, OctetString)
    assert DateTime.from_bytes(from_value).day == 1
    assert DateTime.from_bytes(to_value).day == 2
    expected = SelectiveAccess.range_descriptor(
        restricting_object=CosemAttributeDescriptor(class_id=8, instance_id=CLOCK, attribute_id=2),
        from_value=DateTime.from_bytes(from_value),
        to_value=DateTime.from_bytes(to_value),
    )
    assert selection == expected


def test_read_rows_with_selected_columns() -> None:
    profile = _profile()
    clock = GXDLMSClock("0.0.1.0.0.255")
    register = GXDLMSRegister("1.0.1.8.0.255")
    profile.captureObjects.append((register, GXDLMSCaptureObject(2, 0)))
    columns = [(clock, GXDLMSCaptureObject(2, 0)), (register, GXDLMSCaptureObject(2, 0))]
    start = datetime.datetime(2024, 1, 1)
    end = datetime.datetime(2024, 1, 2)
    (message,) = client().readRowsByRange(profile, start, end, columns)
    apdu = decoded(message)
    assert isinstance(apdu, GetRequestNormal) and apdu.access_selection is not None
    _, low, high, _ = apdu.access_selection.parameters  # type: ignore[misc]
    assert isinstance(low, OctetString) and isinstance(high, OctetString)
    clock_time = CosemAttributeDescriptor(class_id=8, instance_id=CLOCK, attribute_id=2)
    energy = CosemAttributeDescriptor(class_id=3, instance_id="1.0.1.8.0.255", attribute_id=2)
    assert apdu.access_selection == SelectiveAccess.range_descriptor(
        restricting_object=clock_time,
        from_value=low,
        to_value=high,
        selected_values=[clock_time, energy],
    )
    # gurux sends (first column, column count) as from/to selected value.
    (message,) = client().readRowsByEntry(profile, 5, 10, [columns[1]])
    apdu = decoded(message)
    assert isinstance(apdu, GetRequestNormal)
    assert apdu.access_selection == SelectiveAccess.entry_descriptor(
        from_entry=5, to_entry=14, from_selected_value=2, to_selected_value=1
    )


def test_get_request_next_from_gurux_receiver_ready() -> None:
    c = client()
    c.read(GXDLMSClock("0.0.1.0.0.255"), 2)
    apdu = decoded(c.receiverReady(RequestTypes.DATABLOCK))
    assert apdu == GetRequestNext(invoke_id_and_priority=C1, block_number=1)


def test_set_request_normal_from_gurux_write() -> None:
    data = GXDLMSData("0.0.96.1.0.255")
    data.value = b"meter-01"
    data.setDataType(2, DataType.OCTET_STRING)
    (message,) = client().write(data, 2)
    apdu = decoded(message)
    assert apdu == SetRequestNormal(
        invoke_id_and_priority=C1,
        attribute_descriptor=CosemAttributeDescriptor(
            class_id=1, instance_id="0.0.96.1.0.255", attribute_id=2
        ),
        value=OctetString(b"meter-01"),
    )


def test_set_request_datablocks_from_a_long_gurux_write() -> None:
    data = GXDLMSData("0.0.96.1.0.255")
    data.value = b"x" * 300
    data.setDataType(2, DataType.OCTET_STRING)
    messages = client(max_pdu=128).write(data, 2)
    apdus = [decoded(m) for m in messages]
    assert isinstance(apdus[0], SetRequestWithFirstDatablock)
    assert apdus[0].attribute_descriptor.instance_id == ObisCode.parse("0.0.96.1.0.255")
    assert all(isinstance(a, SetRequestWithDatablock) for a in apdus[1:])
    assert [a.block_number for a in apdus] == list(range(1, len(apdus) + 1))
    assert [a.last_block for a in apdus] == [False] * (len(apdus) - 1) + [True]
    whole = b"".join(a.raw_data for a in apdus)
    assert whole == b"\x09\x82\x01\x2c" + b"x" * 300


def test_action_request_normal_from_gurux_disconnect() -> None:
    control = GXDLMSDisconnectControl("0.0.96.3.10.255")
    (message,) = control.remoteDisconnect(client())
    apdu = decoded(message)
    assert apdu == ActionRequestNormal(
        invoke_id_and_priority=C1,
        method_descriptor=CosemMethodDescriptor(
            class_id=70, instance_id="0.0.96.3.10.255", method_id=1
        ),
        parameters=Integer(0),
    )


def test_action_request_pblocks_from_a_long_gurux_method() -> None:
    c = client(max_pdu=128)
    control = GXDLMSDisconnectControl("0.0.96.3.10.255")
    messages = c.method(control, 1, b"y" * 300, DataType.OCTET_STRING)
    apdus = [decoded(m) for m in messages]
    assert isinstance(apdus[0], ActionRequestWithFirstPblock)
    assert apdus[0].method_descriptor.method_id == 1
    assert all(isinstance(a, ActionRequestWithPblock) for a in apdus[1:])
    assert [a.block_number for a in apdus] == list(range(1, len(apdus) + 1))
    assert apdus[-1].last_block
    whole = b"".join(a.raw_data for a in apdus)
    assert whole == b"\x09\x82\x01\x2c" + b"y" * 300
    assert decoded(c.receiverReady(RequestTypes.DATABLOCK)) == ActionRequestNextPblock(
        invoke_id_and_priority=C1, block_number=1
    )


def test_access_request_from_gurux() -> None:
    # gurux's Python accessRequest can only build GET items (its SET path fails).
    clock = GXDLMSClock("0.0.1.0.0.255")
    register = GXDLMSRegister("1.0.1.8.0.255")
    items = [
        GXDLMSAccessItem(AccessServiceCommandType.GET, clock, 2),
        GXDLMSAccessItem(AccessServiceCommandType.GET, register, 3),
    ]
    (message,) = client().accessRequest(datetime.datetime(2024, 1, 1, 10), items)
    apdu = decoded(message)
    assert isinstance(apdu, AccessRequest)
    assert apdu.date_time is not None
    assert (apdu.date_time.year, apdu.date_time.month, apdu.date_time.hour) == (2024, 1, 10)
    assert apdu.specifications == (
        AccessRequestGet(
            attribute_descriptor=CosemAttributeDescriptor(
                class_id=8, instance_id=CLOCK, attribute_id=2
            )
        ),
        AccessRequestGet(
            attribute_descriptor=CosemAttributeDescriptor(
                class_id=3, instance_id="1.0.1.8.0.255", attribute_id=3
            )
        ),
    )
    assert apdu.data == (None, None)


def _push_setup() -> tuple[Any, Any]:
    notify = GXDLMSNotify(True, 1, 16, InterfaceType.WRAPPER)
    clock = GXDLMSClock("0.0.1.0.0.255")
    clock.time = GXDateTime(datetime.datetime(2024, 1, 1, 10, 0, 0))
    name = GXDLMSData("0.0.96.1.0.255")
    name.value = "METER01"
    name.setDataType(2, DataType.STRING)
    push = GXDLMSPushSetup("0.7.25.9.0.255")
    push.pushObjectList.append((name, GXDLMSCaptureObject(2, 0)))
    push.pushObjectList.append((clock, GXDLMSCaptureObject(2, 0)))
    return notify, push


def test_data_notification_from_gurux_push_setup() -> None:
    notify, push = _push_setup()
    (message,) = notify.generatePushSetupMessages(None, push)
    apdu = decoded(message)
    assert isinstance(apdu, DataNotification)
    assert apdu.long_invoke_id_and_priority.invoke_id == 1
    assert apdu.date_time is None
    name, clock = apdu.notification_body  # type: ignore[misc]
    assert name == VisibleString("METER01")
    assert isinstance(clock, OctetString)
    stamp = DateTime.from_bytes(clock)
    assert (stamp.year, stamp.month, stamp.day, stamp.hour) == (2024, 1, 1, 10)

    (message,) = notify.generatePushSetupMessages(datetime.datetime(2024, 1, 1, 10), push)
    timed = decoded(message)
    assert isinstance(timed, DataNotification)
    assert timed.date_time is not None
    assert (timed.date_time.year, timed.date_time.hour) == (2024, 10)
    assert timed.notification_body == apdu.notification_body


def test_event_notification_from_gurux_report() -> None:
    notify, _ = _push_setup()
    name = GXDLMSData("0.0.96.1.0.255")
    name.value = "METER01"
    name.setDataType(2, DataType.STRING)
    (message,) = notify.generateReport(None, [(name, 2)])
    apdu = decoded(message)
    assert apdu == EventNotificationRequest(
        attribute_descriptor=CosemAttributeDescriptor(
            class_id=1, instance_id="0.0.96.1.0.255", attribute_id=2
        ),
        value=VisibleString("METER01"),
    )
    # Gurux marks a present time with 0x09 rather than 0x01; any non-zero usage flag
    # means "present", and dlmskit re-encodes it canonically.
    stamp = GXDateTime(datetime.datetime(2024, 1, 1, 10, 0, 0))
    (message,) = notify.generateReport(stamp, [(name, 2)])
    wire = unwrap(message)
    timed = decode_apdu(wire)
    assert isinstance(timed, EventNotificationRequest)
    assert timed.time is not None
    assert (timed.time.year, timed.time.hour) == (2024, 10)
    assert timed.to_bytes() == wire[:1] + b"\x01" + wire[2:]


def test_general_block_transfer_from_gurux_push() -> None:
    notify, push = _push_setup()
    notify.settings.negotiatedConformance |= Conformance.GENERAL_BLOCK_TRANSFER
    notify.settings.maxPduSize = 64
    push.pushObjectList[0][0].value = "X" * 200
    frames = [decoded(m) for m in notify.generatePushSetupMessages(None, push)]
    assert len(frames) > 1
    assert all(isinstance(f, GeneralBlockTransfer) for f in frames)
    assert [f.last_block for f in frames] == [False] * (len(frames) - 1) + [True]
    numbers = [f.block_number for f in frames]
    assert numbers == list(range(numbers[0], numbers[0] + len(frames)))
    inner = decode_apdu(b"".join(f.block_data for f in frames))
    assert isinstance(inner, DataNotification)
    assert inner.notification_body[0] == VisibleString("X" * 200)  # type: ignore[index]


def test_get_response_datablocks_from_gurux_server_side() -> None:
    settings = GXDLMSSettings(True, None)
    settings.interfaceType = InterfaceType.WRAPPER
    settings.maxPduSize = 64
    value = GXByteBuffer()
    _GXCommon.setData(settings, value, DataType.OCTET_STRING, b"q" * 150)
    blocks = []
    for number, kind in ((1, 1), (2, 2)):
        params = GXDLMSLNParameters(
            settings, 0xC1, Command.GET_RESPONSE, kind, None, value, ErrorCode.OK
        )
        out = GXByteBuffer()
        GXDLMS.getLNPdu(params, out)
        wire = bytes(out.array())
        apdu = decode_apdu(wire)
        assert isinstance(apdu, GetResponseWithDatablock)
        assert (apdu.last_block, apdu.block_number) == (False, number)
        assert isinstance(apdu.result, bytes)
        assert apdu.to_bytes() == wire
        blocks.append(apdu.result)
        settings.increaseBlockIndex()
    assert b"".join(blocks).startswith(b"\x09\x81\x96" + b"q" * 40)


def _server_pdu(command: int, kind: int, body: Any, status: int) -> bytes:
    settings = GXDLMSSettings(True, None)
    settings.interfaceType = InterfaceType.WRAPPER
    out = GXByteBuffer()
    GXDLMS.getLNPdu(GXDLMSLNParameters(settings, 0xC1, command, kind, None, body, status), out)
    return bytes(out.array())


def test_normal_responses_from_gurux_server_side() -> None:
    value = GXByteBuffer()
    _GXCommon.setData(None, value, DataType.UINT32, 12345)
    # The gurux server puts the return-parameters usage flag and CHOICE into the body.
    reply = GXByteBuffer()
    reply.setUInt8(1)
    reply.setUInt8(0)
    _GXCommon.setData(None, reply, DataType.UINT8, 7)
    no_reply = GXByteBuffer()
    no_reply.setUInt8(0)
    cases = [
        (
            _server_pdu(Command.GET_RESPONSE, 1, value, ErrorCode.OK),
            GetResponseNormal(invoke_id_and_priority=C1, result=DoubleLongUnsigned(12345)),
        ),
        (
            _server_pdu(Command.GET_RESPONSE, 1, GXByteBuffer(), ErrorCode.READ_WRITE_DENIED),
            GetResponseNormal(invoke_id_and_priority=C1, result=DataAccessResult.READ_WRITE_DENIED),
        ),
        (
            _server_pdu(Command.SET_RESPONSE, 1, None, ErrorCode.UNDEFINED_OBJECT),
            SetResponseNormal(invoke_id_and_priority=C1, result=DataAccessResult.OBJECT_UNDEFINED),
        ),
        (
            _server_pdu(Command.METHOD_RESPONSE, 1, reply, ErrorCode.OK),
            ActionResponseNormal(
                invoke_id_and_priority=C1,
                result=ActionResult.SUCCESS,
                return_parameters=Unsigned(7),
            ),
        ),
        (
            _server_pdu(Command.METHOD_RESPONSE, 1, no_reply, ErrorCode.READ_WRITE_DENIED),
            ActionResponseNormal(invoke_id_and_priority=C1, result=ActionResult.READ_WRITE_DENIED),
        ),
    ]
    for wire, expected in cases:
        assert decode_apdu(wire) == expected
        assert expected.to_bytes() == wire


# Responses: gurux's translator re-encodes its own parse of our bytes; both sides agree.

_TRANSLATED = [
    GetResponseNormal(invoke_id_and_priority=C1, result=DoubleLongUnsigned(12345)),
    GetResponseNormal(invoke_id_and_priority=C1, result=DataAccessResult.READ_WRITE_DENIED),
    GetResponseNormal(
        invoke_id_and_priority=C1,
        result=Structure((OctetString(b"\x07\xe8\x01\x01"), Unsigned(5), LongUnsigned(9))),
    ),
    GetResponseWithDatablock(
        invoke_id_and_priority=C1, last_block=False, block_number=1, result=b"\x01\x02\x03"
    ),
    ActionResponseNormal(
        invoke_id_and_priority=C1, result=ActionResult.SUCCESS, return_parameters=Unsigned(7)
    ),
    DataNotification(
        long_invoke_id_and_priority=LongInvokeIdAndPriority(invoke_id=1),
        notification_body=Unsigned(5),
    ),
    GetRequestNext(invoke_id_and_priority=C1, block_number=7),
    SetResponseDatablock(invoke_id_and_priority=C1, block_number=3),
    SetRequestWithList(
        invoke_id_and_priority=C1,
        attribute_descriptors=[
            CosemAttributeDescriptorWithSelection(
                attribute_descriptor=CosemAttributeDescriptor(
                    class_id=1, instance_id="0.0.96.1.0.255", attribute_id=2
                )
            )
        ],
        values=[OctetString(b"ab")],
    ),
]


@pytest.mark.parametrize("apdu", _TRANSLATED, ids=lambda a: type(a).__name__)
def test_gurux_translator_reencodes_our_bytes_identically(apdu: Any) -> None:
    translator = GXDLMSTranslator(TranslatorOutputType.SIMPLE_XML)
    wire = apdu.to_bytes()
    xml = translator.pduToXml(GXByteBuffer(wire))
    assert bytes(translator.xmlToPdu(xml).array()) == wire
    assert decode_apdu(wire) == apdu


# Where gurux's translator re-encodes differently (it drops the usage flag of an absent
# return-parameters and the access-response CHOICE byte), check what it parses instead.
_PARSED = [
    (
        ActionResponseNormal(invoke_id_and_priority=C1, result=ActionResult.READ_WRITE_DENIED),
        ['<Result Value="ReadWriteDenied" />'],
    ),
    (
        AccessResponse(
            long_invoke_id_and_priority=LongInvokeIdAndPriority(invoke_id=1),
            data=[Unsigned(5)],
            results=[AccessResponseGet(result=DataAccessResult.SUCCESS)],
        ),
        ['<UInt8 Value="05" />', "<AccessResponseGet>", '<Result Value="Success" />'],
    ),
    (
        SetResponseLastDatablock(
            invoke_id_and_priority=C1, result=DataAccessResult.SUCCESS, block_number=4
        ),
        ["<SetResponseWithLastDataBlock>", '<BlockNumber Value="00000004" />'],
    ),
    (
        SetResponseWithList(
            invoke_id_and_priority=C1,
            results=[DataAccessResult.SUCCESS, DataAccessResult.TYPE_UNMATCHED],
        ),
        ['<DataAccessResult Value="Success" />', '<DataAccessResult Value="UnmatchedType" />'],
    ),
    (
        ActionResponseNextPblock(invoke_id_and_priority=C1, block_number=2),
        ["<ActionResponseNextBlock>", '<BlockNumber Value="00000002" />'],
    ),
]


@pytest.mark.parametrize(("apdu", "fragments"), _PARSED, ids=lambda a: type(a).__name__)
def test_gurux_translator_parses_our_bytes(apdu: Any, fragments: list[str]) -> None:
    translator = GXDLMSTranslator(TranslatorOutputType.SIMPLE_XML)
    xml = translator.pduToXml(GXByteBuffer(apdu.to_bytes()))
    for fragment in fragments:
        assert fragment in xml


def test_action_response_without_usage_flag_is_accepted() -> None:
    # Some encoders (gurux's translator among them) end Action-Response-Normal right
    # after the result when there are no return parameters.
    short = bytes.fromhex("C701C1 00")
    apdu = decode_apdu(short)
    assert apdu == ActionResponseNormal(invoke_id_and_priority=C1, result=ActionResult.SUCCESS)
    assert apdu.return_parameters is ABSENT
    assert apdu.to_bytes() == short + b"\x00"
