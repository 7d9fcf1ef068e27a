"""Edge cases of the association machines: long transfers cut short, limits, notifications."""

from __future__ import annotations

import pytest
from test_association_pair import Pair

from dlmskit.apdu import (
    AcseServiceUserDiagnostic,
    ApplicationContextName,
    AssociationResult,
    Conformance,
    CosemAttributeDescriptor,
    DataAccessResult,
    DataNotification,
    GetRequestNext,
    GetRequestNormal,
    GetResponseNormal,
    GetResponseWithDatablock,
    InvokeIdAndPriority,
    LongInvokeIdAndPriority,
    MechanismName,
    SelectiveAccess,
    SetRequestWithDatablock,
    SetResponseLastDatablock,
)
from dlmskit.association import (
    AssociationAccepted,
    AssociationPolicy,
    AssociationRejected,
    AssociationState,
    AttributeAccessMode,
    ClientAssociation,
    ClientSettings,
    ExceptionReceived,
    GetCompleted,
    MemoryObjectTree,
    NotificationReceived,
    RequestContext,
)
from dlmskit.axdr import Array, DoubleLongUnsigned, OctetString, Structure
from dlmskit.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from obis import ObisCode

ENERGY = CosemAttributeDescriptor(
    class_id=3, instance_id=ObisCode(1, 0, 1, 8, 0, 255), attribute_id=2
)
SECRET = CosemAttributeDescriptor(
    class_id=1, instance_id=ObisCode(0, 0, 96, 1, 9, 255), attribute_id=2
)
BIG = OctetString(bytes(1000))


def _pair(**policy: object) -> Pair:
    objects = MemoryObjectTree(
        {(3, ENERGY.instance_id, 2): BIG, (1, SECRET.instance_id, 2): OctetString(b"k")},
        access={(1, SECRET.instance_id, 2): AttributeAccessMode.WRITE_ONLY},
    )
    p = Pair(ClientSettings(max_receive_pdu_size=64), AssociationPolicy(**policy), objects)  # type: ignore[arg-type]
    p.associate()
    return p


def test_get_request_next_without_a_long_get() -> None:
    p = _pair()
    p.server.receive_apdu(GetRequestNext(block_number=1).to_bytes())
    reply = GetResponseWithDatablock.from_bytes(p.server.data_to_send()[0])
    assert reply.last_block and reply.result is DataAccessResult.NO_LONG_GET_IN_PROGRESS


def test_get_request_next_with_the_wrong_block_number_aborts_the_long_get() -> None:
    p = _pair()
    p.server.receive_apdu(GetRequestNormal(attribute_descriptor=ENERGY).to_bytes())
    first = GetResponseWithDatablock.from_bytes(p.server.data_to_send()[0])
    assert first.block_number == 1 and not first.last_block
    p.server.receive_apdu(GetRequestNext(block_number=5).to_bytes())
    reply = GetResponseWithDatablock.from_bytes(p.server.data_to_send()[0])
    assert reply.result is DataAccessResult.DATA_BLOCK_NUMBER_INVALID
    p.server.receive_apdu(GetRequestNext(block_number=1).to_bytes())
    reply = GetResponseWithDatablock.from_bytes(p.server.data_to_send()[0])
    assert reply.result is DataAccessResult.NO_LONG_GET_IN_PROGRESS


def test_a_new_get_replaces_an_unfinished_long_get() -> None:
    p = _pair()
    p.server.receive_apdu(GetRequestNormal(attribute_descriptor=ENERGY).to_bytes())
    p.server.data_to_send()
    p.server.receive_apdu(GetRequestNormal(attribute_descriptor=SECRET).to_bytes())
    reply = GetResponseNormal.from_bytes(p.server.data_to_send()[0])
    assert reply.result is DataAccessResult.READ_WRITE_DENIED


def test_set_datablock_without_first_block() -> None:
    p = _pair()
    p.server.receive_apdu(
        SetRequestWithDatablock(last_block=True, block_number=2, raw_data=b"\x00").to_bytes()
    )
    reply = SetResponseLastDatablock.from_bytes(p.server.data_to_send()[0])
    assert reply.result is DataAccessResult.NO_LONG_SET_IN_PROGRESS


def test_datablock_from_server_out_of_sequence_is_a_remote_error() -> None:
    p = _pair()
    p.client.get(ENERGY)
    p.client.data_to_send()
    block = GetResponseWithDatablock(
        invoke_id_and_priority=InvokeIdAndPriority(invoke_id=1),
        last_block=False,
        block_number=2,
        result=b"\x09",
    )
    with pytest.raises(RemoteProtocolError, match="block 2 received, block 1 expected"):
        p.client.receive_apdu(block.to_bytes())
    assert p.client.state is AssociationState.ERROR


def test_client_nesting_limit_on_reassembled_data() -> None:
    deep = b"\x01\x01" * 40 + b"\x00"
    p = Pair()
    p.client = ClientAssociation(max_depth=16)
    p.associate()
    p.client.get(ENERGY)
    p.client.data_to_send()
    block = GetResponseWithDatablock(
        invoke_id_and_priority=InvokeIdAndPriority(invoke_id=1),
        last_block=True,
        block_number=1,
        result=deep,
    )
    with pytest.raises(DecodeError):
        p.client.receive_apdu(block.to_bytes())
    assert p.client.state is AssociationState.ERROR


def test_data_notification_reaches_the_client_in_any_live_state() -> None:
    push = DataNotification(
        long_invoke_id_and_priority=LongInvokeIdAndPriority(invoke_id=7),
        notification_body=Structure([DoubleLongUnsigned(1)]),
    )
    idle = ClientAssociation()
    idle.receive_apdu(push.to_bytes())
    assert idle.next_event() == NotificationReceived(notification=push)
    p = _pair()
    p.client.get(ENERGY)
    p.client.receive_apdu(push.to_bytes())  # while a GET is outstanding
    p.pump()
    events = p.client_events()
    assert events[0] == NotificationReceived(notification=push)
    assert isinstance(events[1], GetCompleted) and events[1].result == BIG


def test_second_aarq_while_associated_is_rejected_transiently() -> None:
    p = _pair()
    p.server_events()
    p.server.receive_apdu(p.wire[0][1])
    assert p.server_events() == []
    again = p.server.data_to_send()[0]
    other = ClientAssociation()
    other.associate()
    other.data_to_send()
    other.receive_apdu(again)
    rejected = other.next_event()
    assert isinstance(rejected, AssociationRejected)
    assert rejected.result is AssociationResult.REJECTED_TRANSIENT
    assert rejected.diagnostic is AcseServiceUserDiagnostic.NO_REASON_GIVEN
    assert p.server.state is AssociationState.ASSOCIATED


def test_abort_resets_both_sides() -> None:
    p = _pair()
    p.client.get(ENERGY)
    p.client.abort()
    p.server.abort()
    assert p.client.state is p.server.state is AssociationState.IDLE
    assert p.client.awaiting is None
    with pytest.raises(LocalProtocolError):
        p.client.get(ENERGY)
    assert isinstance(p.associate(), AssociationAccepted)


def test_selective_access_refused_by_server_when_not_negotiated() -> None:
    seen: list[SelectiveAccess | None] = []

    def buffer(ctx: RequestContext, access: SelectiveAccess | None) -> Array:
        seen.append(access)
        return Array([])

    objects = MemoryObjectTree({(7, ObisCode(1, 0, 99, 1, 0, 255), 2): buffer})
    p = Pair(ClientSettings(), AssociationPolicy(conformance=Conformance.GET), objects)
    p.associate()
    request = GetRequestNormal(
        attribute_descriptor=CosemAttributeDescriptor(
            class_id=7, instance_id=ObisCode(1, 0, 99, 1, 0, 255), attribute_id=2
        ),
        access_selection=SelectiveAccess(selector=2, parameters=None),
    )
    p.server.receive_apdu(request.to_bytes())
    reply = GetResponseNormal.from_bytes(p.server.data_to_send()[0])
    assert reply.result is DataAccessResult.SCOPE_OF_ACCESS_VIOLATED
    assert seen == []


def test_settings_validation() -> None:
    with pytest.raises(LocalProtocolError, match="needs a password"):
        ClientSettings(mechanism=MechanismName.LOW)
    with pytest.raises(LocalProtocolError, match="needs a ciphering object"):
        ClientSettings(application_context=ApplicationContextName.LN_CIPHERED)
    with pytest.raises(LocalProtocolError, match="max receive PDU"):
        AssociationPolicy(max_receive_pdu_size=11)
    with pytest.raises(LocalProtocolError, match="GBT window"):
        ClientSettings(gbt_window=64)


def test_faults_in_the_object_tree_become_exception_responses() -> None:
    def broken(ctx: RequestContext, access: SelectiveAccess | None) -> Array:
        raise RuntimeError("sensor unplugged")

    objects = MemoryObjectTree({(3, ENERGY.instance_id, 2): broken})
    p = Pair(ClientSettings(), AssociationPolicy(), objects)
    p.associate()
    p.client.get(ENERGY)
    p.pump()
    event = p.one_event()
    assert isinstance(event, ExceptionReceived)
    assert event.exception.to_bytes() == bytes.fromhex("D80203")
    assert p.client.state is p.server.state is AssociationState.ASSOCIATED
