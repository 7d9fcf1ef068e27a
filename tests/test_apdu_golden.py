"""Golden byte vectors for the LN-service APDUs (dlms-facts 1.3, 1.4, 1.9 and 7.2)."""

from __future__ import annotations

import pytest

from dlmskit.apdu import (
    ABSENT,
    ActionRequestNormal,
    ActionResponseNormal,
    ActionResponseWithList,
    ActionResponseWithOptionalData,
    ActionResult,
    CosemAttributeDescriptor,
    CosemMethodDescriptor,
    DataAccessResult,
    DataNotification,
    EventNotificationRequest,
    GeneralBlockTransfer,
    GetRequestNormal,
    GetResponseNormal,
    GetResponseWithDatablock,
    GetResponseWithList,
    InvokeIdAndPriority,
    LongInvokeIdAndPriority,
    SelectiveAccess,
    SetResponseNormal,
    decode_apdu,
    encode_apdu,
)
from dlmskit.axdr import (
    Array,
    DateTime,
    DoubleLongUnsigned,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
)
from dlmskit.errors import LocalProtocolError
from obis import ObisCode

CLOCK_TIME = CosemAttributeDescriptor(class_id=8, instance_id="0.0.1.0.0.255", attribute_id=2)
BLOCK_LOAD = CosemAttributeDescriptor(class_id=7, instance_id="1.0.99.1.0.255", attribute_id=2)
C1 = InvokeIdAndPriority()


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def test_invoke_id_and_priority_byte() -> None:
    assert C1.to_byte() == 0xC1
    assert InvokeIdAndPriority.from_byte(0xC1) == InvokeIdAndPriority(
        invoke_id=1, confirmed=True, high_priority=True
    )
    assert InvokeIdAndPriority(invoke_id=15, confirmed=False, high_priority=False).to_byte() == 0x0F
    assert InvokeIdAndPriority(invoke_id=2, confirmed=True, high_priority=False).to_byte() == 0x42
    with pytest.raises(LocalProtocolError):
        InvokeIdAndPriority.from_byte(0x11)


def test_long_invoke_id_and_priority_bits() -> None:
    full = LongInvokeIdAndPriority(
        invoke_id=0x123456,
        self_descriptive=True,
        processing_option=True,
        confirmed=True,
        high_priority=True,
    )
    assert full.to_int() == 0xF0123456
    assert LongInvokeIdAndPriority.from_int(0xF0123456) == full
    assert LongInvokeIdAndPriority.from_int(0xC0000001) == LongInvokeIdAndPriority(
        invoke_id=1, confirmed=True, high_priority=True
    )
    assert LongInvokeIdAndPriority(invoke_id=1, self_descriptive=True).to_int() == 0x10000001
    with pytest.raises(LocalProtocolError):
        LongInvokeIdAndPriority.from_int(0x01000000)


def test_get_clock_time() -> None:
    wire = hexbytes("C0 01 C1 0008 0000010000FF 02 00")
    apdu = GetRequestNormal(attribute_descriptor=CLOCK_TIME)
    assert apdu.to_bytes() == wire
    assert decode_apdu(wire) == apdu
    assert apdu.attribute_descriptor.instance_id == ObisCode(0, 0, 1, 0, 0, 255)


def test_profile_by_range_selective_access() -> None:
    wire = hexbytes(
        "C001C1 0007 0100630100FF 02 01 01 0204 0204 120008 0906 0000010000FF 0F02 120000"
        " 090C 07E80101FF00000000FEB600  090C 07E80102FF00000000FEB600  0100"
    )
    start = DateTime.from_bytes(hexbytes("07E80101FF00000000FEB600"))
    end = DateTime.from_bytes(hexbytes("07E80102FF00000000FEB600"))
    assert (start.deviation, start.clock_status) == (-330, 0)
    apdu = GetRequestNormal(
        attribute_descriptor=BLOCK_LOAD,
        access_selection=SelectiveAccess.range_descriptor(
            restricting_object=CLOCK_TIME, from_value=start, to_value=end
        ),
    )
    assert apdu.to_bytes() == wire
    decoded = decode_apdu(wire)
    assert decoded == apdu
    assert isinstance(decoded, GetRequestNormal)
    assert decoded.access_selection is not None
    assert decoded.access_selection.parameters == Structure(
        (
            Structure(
                (
                    LongUnsigned(8),
                    OctetString(bytes(ObisCode(0, 0, 1, 0, 0, 255))),
                    Integer(2),
                    LongUnsigned(0),
                )
            ),
            OctetString(start.to_bytes()),
            OctetString(end.to_bytes()),
            Array(),
        )
    )


def test_profile_by_entry_selective_access() -> None:
    wire = hexbytes("C001C1 0007 0100630100FF 02 01 02 0204 0600000001 0600000060 120001 120000")
    apdu = GetRequestNormal(
        attribute_descriptor=BLOCK_LOAD,
        access_selection=SelectiveAccess.entry_descriptor(from_entry=1, to_entry=96),
    )
    assert apdu.to_bytes() == wire
    assert decode_apdu(wire) == apdu
    assert apdu.access_selection is not None
    assert apdu.access_selection.parameters[0] == DoubleLongUnsigned(1)  # type: ignore[index]


def test_disconnect_action() -> None:
    wire = hexbytes("C3 01 C1 0046 000060030AFF 01 01 0F00")
    apdu = ActionRequestNormal(
        method_descriptor=CosemMethodDescriptor(
            class_id=70, instance_id="0.0.96.3.10.255", method_id=1
        ),
        parameters=Integer(0),
    )
    assert apdu.to_bytes() == wire
    assert decode_apdu(wire) == apdu


def test_absent_parameters_differ_from_null_data() -> None:
    method = CosemMethodDescriptor(class_id=70, instance_id="0.0.96.3.10.255", method_id=2)
    absent = ActionRequestNormal(method_descriptor=method)
    null = ActionRequestNormal(method_descriptor=method, parameters=None)
    assert absent.parameters is ABSENT
    assert absent.to_bytes() == hexbytes("C3 01 C1 0046 000060030AFF 02 00")
    assert null.to_bytes() == hexbytes("C3 01 C1 0046 000060030AFF 02 01 00")
    assert decode_apdu(absent.to_bytes()) == absent
    assert decode_apdu(null.to_bytes()) == null


@pytest.mark.parametrize(
    ("wire", "apdu"),
    [
        (
            "C4 01 C1 00 06 00003039",
            GetResponseNormal(result=DoubleLongUnsigned(12345)),
        ),
        ("C4 01 C1 01 03", GetResponseNormal(result=DataAccessResult.READ_WRITE_DENIED)),
        (
            "C4 02 C1 01 00000002 00 03 0A0B0C",
            GetResponseWithDatablock(last_block=True, block_number=2, result=b"\x0a\x0b\x0c"),
        ),
        (
            "C4 02 C1 01 00000001 01 0E",
            GetResponseWithDatablock(
                last_block=True, block_number=1, result=DataAccessResult.DATA_BLOCK_UNAVAILABLE
            ),
        ),
        (
            "C4 03 C1 02 00 0300 01 04",
            GetResponseWithList(results=[False, DataAccessResult.OBJECT_UNDEFINED]),
        ),
        ("C5 01 C1 00", SetResponseNormal(result=DataAccessResult.SUCCESS)),
        (
            "C7 01 C1 00 01 00 0F05",
            ActionResponseNormal(result=ActionResult.SUCCESS, return_parameters=Integer(5)),
        ),
        (
            "C7 01 C1 00 01 01 03",
            ActionResponseNormal(
                result=ActionResult.SUCCESS, return_parameters=DataAccessResult.READ_WRITE_DENIED
            ),
        ),
        (
            "C7 03 C1 02 00 00 0B 01 00 0300",
            ActionResponseWithList(
                responses=[
                    ActionResponseWithOptionalData(result=ActionResult.SUCCESS),
                    ActionResponseWithOptionalData(
                        result=ActionResult.OBJECT_UNAVAILABLE, return_parameters=False
                    ),
                ]
            ),
        ),
        (
            "0F C0000001 0C 07E80101FF0A000000FEB600 0300",
            DataNotification(
                long_invoke_id_and_priority=LongInvokeIdAndPriority(
                    invoke_id=1, confirmed=True, high_priority=True
                ),
                date_time=DateTime.from_bytes(hexbytes("07E80101FF0A000000FEB600")),
                notification_body=False,
            ),
        ),
    ],
)
def test_response_vectors(wire: str, apdu: object) -> None:
    raw = hexbytes(wire)
    assert encode_apdu(apdu) == raw  # type: ignore[arg-type]
    assert decode_apdu(raw) == apdu


def test_general_block_transfer_block_control() -> None:
    gbt = GeneralBlockTransfer(
        last_block=True,
        streaming=False,
        window=5,
        block_number=3,
        block_number_ack=2,
        block_data=b"\xc4\x01\xc1",
    )
    assert gbt.block_control == 0x85
    wire = hexbytes("E0 85 0003 0002 03 C401C1")
    assert gbt.to_bytes() == wire
    assert decode_apdu(wire) == gbt
    streaming = decode_apdu(hexbytes("E0 7F 0001 0000 00"))
    assert streaming == GeneralBlockTransfer(
        last_block=False, streaming=True, window=63, block_number=1, block_data=b""
    )


def test_event_notification_time_forms() -> None:
    stamp = "07E80101FF0A000000FEB600"
    body = "0046 000060030AFF 02 0300"
    with_length = hexbytes(f"C2 01 0C {stamp} {body}")
    fixed = hexbytes(f"C2 01 {stamp} {body}")
    expected = EventNotificationRequest(
        time=DateTime.from_bytes(hexbytes(stamp)),
        attribute_descriptor=CosemAttributeDescriptor(
            class_id=70, instance_id="0.0.96.3.10.255", attribute_id=2
        ),
        value=False,
    )
    assert expected.to_bytes() == with_length
    assert decode_apdu(with_length) == expected
    assert decode_apdu(fixed) == expected
    assert decode_apdu(hexbytes(f"C2 00 {body}")) == EventNotificationRequest(
        attribute_descriptor=expected.attribute_descriptor, value=False
    )
