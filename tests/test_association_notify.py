"""Notifications from the server machine: DATA-NOTIFICATION and EVENT-NOTIFICATION,
plain, ciphered through the seam, with and without an association."""

from __future__ import annotations

import pytest
from gurux_dlms import GXByteBuffer
from gurux_dlms.enums import InterfaceType, Security
from gurux_dlms.secure import GXDLMSSecureNotify
from test_association_pair import Pair

from dlmskit.apdu import (
    ApplicationContextName,
    Conformance,
    CosemAttributeDescriptor,
    DataNotification,
    EventNotificationRequest,
    LongInvokeIdAndPriority,
    MechanismName,
)
from dlmskit.association import (
    DEFAULT_CONFORMANCE,
    AssociationAccepted,
    AssociationPolicy,
    AssociationState,
    ClientSettings,
    MemoryObjectTree,
    NotificationReceived,
    ServerAssociation,
)
from dlmskit.axdr import DateTime, DoubleLongUnsigned, OctetString, Structure
from dlmskit.errors import LocalProtocolError
from dlmskit.security import HlsSecret, KeyId, MemoryCounterStore, SecurityContext
from obis import ObisCode

EK = bytes(range(16))
AK = bytes(range(16, 32))
METER_ST = b"MTR00001"
HES_ST = b"HES00001"
ENERGY = CosemAttributeDescriptor(
    class_id=3, instance_id=ObisCode(1, 0, 1, 8, 0, 255), attribute_id=2
)
PUSHES = Conformance(
    DEFAULT_CONFORMANCE | Conformance.DATA_NOTIFICATION | Conformance.EVENT_NOTIFICATION
)
BODY = Structure((OctetString(bytes.fromhex("0000010000FF")), DoubleLongUnsigned(12345)))
WHEN = DateTime.from_bytes(bytes.fromhex("07E80101FF0A000000FEB600"))


def _ctx(title: bytes, next_ic: int = 0) -> SecurityContext:
    return SecurityContext(
        system_title=title,
        global_unicast_key=EK,
        authentication_key=AK,
        counter_store=MemoryCounterStore({(title, KeyId.GLOBAL_UNICAST_ENCRYPTION): next_ic}),
    )


def _pair(conformance: Conformance = PUSHES, *, ciphered: bool = False, pdu: int = 0xFFFF) -> Pair:
    context = ApplicationContextName.LN_CIPHERED if ciphered else ApplicationContextName.LN
    pair = Pair(
        ClientSettings(
            application_context=context,
            security=_ctx(HES_ST) if ciphered else None,
            conformance=conformance,
            max_receive_pdu_size=pdu,
        ),
        AssociationPolicy(
            application_context=context,
            security=_ctx(METER_ST) if ciphered else None,
            conformance=conformance,
            min_client_pdu_size=12,
        ),
        MemoryObjectTree(),
    )
    assert isinstance(pair.associate(), AssociationAccepted)
    return pair


def test_ciphered_push_without_association_equals_gurux_secure_notify() -> None:
    notify = GXDLMSSecureNotify(True, 1, 64, InterfaceType.WRAPPER)
    notify.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
    notify.ciphering.systemTitle = METER_ST
    notify.ciphering.blockCipherKey = EK
    notify.ciphering.authenticationKey = AK
    notify.ciphering.invocationCounter = 77
    body = GXByteBuffer()
    body.set(bytes.fromhex("020209060000010000FF0600003039"))
    (frame,) = notify.generateDataNotificationMessages(None, body)
    expected = bytes(frame)[8:]  # after the wrapper header
    server = ServerAssociation(
        AssociationPolicy(
            client_sap=0x66,
            application_context=ApplicationContextName.LN_CIPHERED,
            security=_ctx(METER_ST, next_ic=77),
        ),
        MemoryObjectTree(),
    )
    assert server.state is AssociationState.IDLE
    server.data_notification(
        BODY,
        long_invoke_id=LongInvokeIdAndPriority(invoke_id=1, confirmed=True, high_priority=True),
    )
    assert server.data_to_send() == [expected]
    assert expected[:2] == bytes.fromhex("DB08")  # general-glo-ciphering with the title


def test_plain_data_and_event_notifications_reach_the_client() -> None:
    pair = _pair()
    pair.server.data_notification(BODY, date_time=WHEN)
    pair.server.event_notification(ENERGY, DoubleLongUnsigned(42), time=WHEN)
    pair.pump()
    events = pair.client_events()
    assert events == [
        NotificationReceived(notification=DataNotification(date_time=WHEN, notification_body=BODY)),
        NotificationReceived(
            notification=EventNotificationRequest(
                time=WHEN, attribute_descriptor=ENERGY, value=DoubleLongUnsigned(42)
            )
        ),
    ]
    wire = [apdu for _, apdu in pair.wire[2:]]
    assert wire[0] == bytes.fromhex(
        "0F000000000C07E80101FF0A000000FEB600020209060000010000FF0600003039"
    )
    assert wire[1] == bytes.fromhex("C2010C07E80101FF0A000000FEB60000030100010800FF02060000002A")


def test_notifications_in_a_ciphered_association_go_through_the_seam() -> None:
    pair = _pair(ciphered=True)
    pair.server.data_notification(BODY)
    pair.server.event_notification(ENERGY, DoubleLongUnsigned(42))
    pair.pump()
    events = pair.client_events()
    assert [type(e.notification) for e in events] == [  # type: ignore[union-attr]
        DataNotification,
        EventNotificationRequest,
    ]
    assert [apdu[0] for _, apdu in pair.wire[2:]] == [0xDB, 0xCA]


def test_notifications_need_their_conformance_bit_and_a_usable_state() -> None:
    pair = _pair(DEFAULT_CONFORMANCE)
    with pytest.raises(LocalProtocolError, match="DATA_NOTIFICATION"):
        pair.server.data_notification(BODY)
    with pytest.raises(LocalProtocolError, match="EVENT_NOTIFICATION"):
        pair.server.event_notification(ENERGY, DoubleLongUnsigned(1))
    # during HLS passes 3 and 4 the association is not established yet
    hls = Pair(
        ClientSettings(mechanism=MechanismName.HIGH, hls=HlsSecret(secret=EK)),
        AssociationPolicy(mechanism=MechanismName.HIGH, hls=HlsSecret(secret=EK)),
        MemoryObjectTree(),
    )
    hls.client.associate()
    hls.server.receive_apdu(hls.client.data_to_send()[0])
    assert hls.server.state is AssociationState.AUTHENTICATING
    with pytest.raises(LocalProtocolError, match="AUTHENTICATING"):
        hls.server.data_notification(BODY)


def test_a_long_notification_travels_in_general_block_transfer() -> None:
    big = OctetString(bytes(range(256)) * 8)
    pair = _pair(Conformance(PUSHES | Conformance.GENERAL_BLOCK_TRANSFER), pdu=128)
    pair.server.data_notification(big)
    pair.pump()
    assert pair.client_events() == [
        NotificationReceived(notification=DataNotification(notification_body=big))
    ]
    assert all(apdu[0] == 0xE0 and len(apdu) <= 128 for d, apdu in pair.wire[2:] if d == "s2c")
    pair = _pair(pdu=128)
    with pytest.raises(LocalProtocolError, match="exceeds"):
        pair.server.data_notification(big)
