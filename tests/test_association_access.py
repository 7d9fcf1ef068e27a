"""The ACCESS service: GET, SET and ACTION items in one APDU, client and server paired."""

from __future__ import annotations

import pytest
from gurux_dlms import GXDLMSAccessItem, GXDLMSClient
from gurux_dlms.enums import AccessServiceCommandType, Authentication, InterfaceType
from gurux_dlms.enums import Conformance as GuruxConformance
from gurux_dlms.objects import GXDLMSData, GXDLMSRegister
from test_association_gurux import Link, _unwrap
from test_association_pair import Pair

from dlmskit.apdu import (
    AccessRequest,
    AccessRequestAction,
    AccessRequestGet,
    AccessRequestGetWithSelection,
    AccessRequestSet,
    AccessResponse,
    AccessResponseAction,
    AccessResponseGet,
    AccessResponseSet,
    ActionResult,
    ApplicationContextName,
    Conformance,
    CosemAttributeDescriptor,
    CosemMethodDescriptor,
    DataAccessResult,
    ExceptionResponse,
    LongInvokeIdAndPriority,
    SelectiveAccess,
    ServiceErrorKind,
    StateError,
    decode_apdu,
)
from dlmskit.association import (
    DEFAULT_CONFORMANCE,
    AccessCompleted,
    AssociationAccepted,
    AssociationPolicy,
    AttributeAccessMode,
    ClientSettings,
    ExceptionReceived,
    MemoryObjectTree,
    RequestContext,
    ServerAssociation,
)
from dlmskit.axdr import Array, Data, DoubleLongUnsigned, OctetString, Unsigned
from dlmskit.errors import LocalProtocolError, RemoteProtocolError
from dlmskit.security import KeyId, MemoryCounterStore, SecurityContext
from obis import ObisCode

ENERGY_LN = ObisCode(1, 0, 1, 8, 0, 255)
NAME_LN = ObisCode(0, 0, 96, 1, 0, 255)
PROFILE_LN = ObisCode(1, 0, 99, 1, 0, 255)
ENERGY = CosemAttributeDescriptor(class_id=3, instance_id=ENERGY_LN, attribute_id=2)
SCALER = CosemAttributeDescriptor(class_id=3, instance_id=ENERGY_LN, attribute_id=3)
NAME = CosemAttributeDescriptor(class_id=1, instance_id=NAME_LN, attribute_id=2)
PROFILE = CosemAttributeDescriptor(class_id=7, instance_id=PROFILE_LN, attribute_id=2)
RESET = CosemMethodDescriptor(class_id=3, instance_id=ENERGY_LN, method_id=1)
WITH_ACCESS = Conformance(DEFAULT_CONFORMANCE | Conformance.ACCESS)
WITH_GBT = Conformance(WITH_ACCESS | Conformance.GENERAL_BLOCK_TRANSFER)
BIG = OctetString(bytes(range(256)) * 40)


def _profile(ctx: RequestContext, access: SelectiveAccess | None) -> Array:
    rows = 96 if access is None else 2
    return Array([Unsigned(i) for i in range(rows)])


def _objects() -> MemoryObjectTree:
    tree = MemoryObjectTree(
        {
            (3, ENERGY_LN, 2): DoubleLongUnsigned(42),
            (3, ENERGY_LN, 3): OctetString(b"\x00\x1e"),
            (1, NAME_LN, 2): OctetString(b"abc"),
            (7, PROFILE_LN, 2): _profile,
        },
        access={(3, ENERGY_LN, 3): AttributeAccessMode.READ_ONLY},
    )

    def reset(ctx: RequestContext, params: Data | None) -> tuple[ActionResult, Data | None]:
        tree.values[(3, ENERGY_LN, 2)] = DoubleLongUnsigned(0)
        return ActionResult.SUCCESS, Unsigned(1)

    tree.methods[(3, ENERGY_LN, 1)] = reset
    return tree


def _pair(conformance: Conformance = WITH_ACCESS, **settings: object) -> Pair:
    pair = Pair(
        ClientSettings(conformance=conformance, **settings),  # type: ignore[arg-type]
        AssociationPolicy(conformance=conformance, max_receive_pdu_size=256),
        _objects(),
    )
    assert isinstance(pair.associate(), AssociationAccepted)
    return pair


def _access(pair: Pair, *items: tuple[object, Data], **kw: bool) -> AccessCompleted:
    pair.client.access(list(items), **kw)  # type: ignore[arg-type]
    pair.pump()
    event = pair.one_event()
    assert isinstance(event, AccessCompleted)
    return event


def test_get_set_and_action_in_one_access_request() -> None:
    pair = _pair()
    event = _access(
        pair,
        (AccessRequestGet(attribute_descriptor=ENERGY), None),
        (AccessRequestSet(attribute_descriptor=NAME), OctetString(b"xyz")),
        (AccessRequestAction(method_descriptor=RESET), None),
        (AccessRequestGet(attribute_descriptor=ENERGY), None),
        (AccessRequestSet(attribute_descriptor=SCALER), OctetString(b"")),
        (
            AccessRequestGetWithSelection(
                attribute_descriptor=PROFILE,
                access_selection=SelectiveAccess(selector=2, parameters=None),
            ),
            None,
        ),
    )
    assert event.results == (
        AccessResponseGet(result=DataAccessResult.SUCCESS),
        AccessResponseSet(result=DataAccessResult.SUCCESS),
        AccessResponseAction(result=ActionResult.SUCCESS),
        AccessResponseGet(result=DataAccessResult.SUCCESS),
        AccessResponseSet(result=DataAccessResult.READ_WRITE_DENIED),
        AccessResponseGet(result=DataAccessResult.SUCCESS),
    )
    assert event.data == (
        DoubleLongUnsigned(42),
        None,
        Unsigned(1),
        DoubleLongUnsigned(0),
        None,
        Array([Unsigned(0), Unsigned(1)]),
    )
    assert event.items[0] == (AccessResponseGet(result=DataAccessResult.SUCCESS), 42)
    assert pair.objects.values[(1, NAME_LN, 2)] == OctetString(b"xyz")
    request = AccessRequest.from_bytes(pair.wire[2][1])
    assert request.long_invoke_id_and_priority == LongInvokeIdAndPriority(
        invoke_id=1, confirmed=True, high_priority=True
    )
    assert pair.wire[2][1][:5] == bytes.fromhex("D9C0000001")


def test_break_on_error_stops_the_list_at_the_first_failure() -> None:
    pair = _pair()
    items = (
        (AccessRequestGet(attribute_descriptor=ENERGY), None),
        (AccessRequestSet(attribute_descriptor=SCALER), OctetString(b"")),
        (AccessRequestSet(attribute_descriptor=NAME), OctetString(b"never")),
        (AccessRequestAction(method_descriptor=RESET), None),
    )
    event = _access(pair, *items, break_on_error=True)
    assert event.results == (
        AccessResponseGet(result=DataAccessResult.SUCCESS),
        AccessResponseSet(result=DataAccessResult.READ_WRITE_DENIED),
        AccessResponseSet(result=DataAccessResult.OTHER_REASON),
        AccessResponseAction(result=ActionResult.OTHER_REASON),
    )
    assert pair.objects.values[(1, NAME_LN, 2)] == OctetString(b"abc")
    assert pair.objects.values[(3, ENERGY_LN, 2)] == DoubleLongUnsigned(42)
    # without the processing option every item runs
    event = _access(pair, *items)
    assert event.results[2] == AccessResponseSet(result=DataAccessResult.SUCCESS)
    assert event.long_invoke_id == 2


def test_access_needs_its_conformance_bit_on_both_sides() -> None:
    pair = _pair(conformance=DEFAULT_CONFORMANCE)
    with pytest.raises(LocalProtocolError, match="ACCESS"):
        pair.client.access([(AccessRequestGet(attribute_descriptor=ENERGY), None)])
    pair.server.receive_apdu(
        AccessRequest(
            specifications=(AccessRequestGet(attribute_descriptor=ENERGY),), data=(None,)
        ).to_bytes()
    )
    answer = decode_apdu(pair.server.data_to_send()[0])
    assert answer == ExceptionResponse(
        state_error=StateError.SERVICE_NOT_ALLOWED,
        service_error=ServiceErrorKind.SERVICE_NOT_SUPPORTED,
    )
    pair = _pair()
    with pytest.raises(LocalProtocolError, match="at least one"):
        pair.client.access([])


def test_a_long_access_response_needs_general_block_transfer() -> None:
    pair = _pair(max_receive_pdu_size=128)
    pair.objects.values[(1, NAME_LN, 2)] = BIG
    pair.client.access([(AccessRequestGet(attribute_descriptor=NAME), None)])
    pair.pump()
    event = pair.one_event()
    assert isinstance(event, ExceptionReceived)
    assert event.exception.service_error == ServiceErrorKind.PDU_TOO_LONG
    pair = _pair(conformance=WITH_GBT, max_receive_pdu_size=128)
    pair.objects.values[(1, NAME_LN, 2)] = BIG
    event = _access(pair, (AccessRequestGet(attribute_descriptor=NAME), None))
    assert event.data == (BIG,)
    assert all(apdu[0] == 0xE0 for direction, apdu in pair.wire[3:] if direction == "s2c")


def test_access_in_a_ciphered_context_uses_general_glo_ciphering() -> None:
    def ctx(title: bytes) -> SecurityContext:
        return SecurityContext(
            system_title=title,
            global_unicast_key=bytes(range(16)),
            authentication_key=bytes(range(16, 32)),
            counter_store=MemoryCounterStore({(title, KeyId.GLOBAL_UNICAST_ENCRYPTION): 0}),
        )

    pair = Pair(
        ClientSettings(
            application_context=ApplicationContextName.LN_CIPHERED,
            security=ctx(b"CLIENT01"),
            conformance=WITH_ACCESS,
        ),
        AssociationPolicy(
            application_context=ApplicationContextName.LN_CIPHERED,
            security=ctx(b"SERVER01"),
            conformance=WITH_ACCESS,
        ),
        _objects(),
    )
    assert isinstance(pair.associate(), AssociationAccepted)
    event = _access(pair, (AccessRequestGet(attribute_descriptor=ENERGY), None))
    assert event.data == (DoubleLongUnsigned(42),)
    assert [apdu[0] for _, apdu in pair.wire[2:]] == [0xDB, 0xDB]


def test_client_rejects_an_access_response_that_does_not_match() -> None:
    pair = _pair()
    pair.client.access([(AccessRequestGet(attribute_descriptor=ENERGY), None)])
    request = AccessRequest.from_bytes(pair.client.data_to_send()[0])

    wrong = AccessResponse(
        long_invoke_id_and_priority=LongInvokeIdAndPriority(invoke_id=9),
        data=(None,),
        results=(AccessResponseGet(result=DataAccessResult.SUCCESS),),
    )
    with pytest.raises(RemoteProtocolError, match="long invoke-id"):
        pair.client.receive_apdu(wrong.to_bytes())
    pair = _pair()
    with pytest.raises(RemoteProtocolError, match="no Access-Request"):
        pair.client.receive_apdu(
            AccessResponse(
                long_invoke_id_and_priority=request.long_invoke_id_and_priority,
                data=(),
                results=(),
            ).to_bytes()
        )


def test_gurux_client_access_request_against_our_server() -> None:
    server = ServerAssociation(AssociationPolicy(conformance=WITH_ACCESS), _objects())
    gurux = GXDLMSClient(True, 16, 1, Authentication.NONE, None, InterfaceType.WRAPPER)
    gurux.proposedConformance |= GuruxConformance.ACCESS
    link = Link(server, gurux)
    gurux.parseAareResponse(link.exchange(gurux.aarqRequest()).data)
    register, name = GXDLMSRegister(str(ENERGY_LN)), GXDLMSData(str(NAME_LN))
    items = [
        GXDLMSAccessItem(AccessServiceCommandType.GET, register, 2),
        GXDLMSAccessItem(AccessServiceCommandType.GET, name, 2),
    ]
    (frame,) = gurux.accessRequest(None, items)
    reply = link.exchange(frame)
    gurux.parseAccessResponse(items, reply.data)
    assert register.value == 42
    assert bytes(name.value) == b"abc"
    assert [int(item.error) for item in items] == [0, 0]
    # our client sends the same request bytes
    pair = _pair()
    pair.client.access(
        [
            (AccessRequestGet(attribute_descriptor=ENERGY), None),
            (AccessRequestGet(attribute_descriptor=NAME), None),
        ]
    )
    assert pair.client.data_to_send()[0] == _unwrap(bytes(frame))


def test_long_access_both_ways_ciphered_through_general_block_transfer() -> None:
    def ctx(title: bytes) -> SecurityContext:
        return SecurityContext(
            system_title=title,
            global_unicast_key=bytes(range(16)),
            authentication_key=bytes(range(16, 32)),
            counter_store=MemoryCounterStore({(title, KeyId.GLOBAL_UNICAST_ENCRYPTION): 0}),
        )

    pair = Pair(
        ClientSettings(
            application_context=ApplicationContextName.LN_CIPHERED,
            security=ctx(b"CLIENT01"),
            conformance=WITH_GBT,
            max_receive_pdu_size=128,
            gbt_window=4,
        ),
        AssociationPolicy(
            application_context=ApplicationContextName.LN_CIPHERED,
            security=ctx(b"SERVER01"),
            conformance=WITH_GBT,
            max_receive_pdu_size=128,
            min_client_pdu_size=12,
        ),
        _objects(),
    )
    assert isinstance(pair.associate(), AssociationAccepted)
    event = _access(
        pair,
        (AccessRequestSet(attribute_descriptor=NAME), BIG),
        (AccessRequestGet(attribute_descriptor=NAME), None),
    )
    assert event.data == (None, BIG)
    blocks = [apdu for _, apdu in pair.wire[2:]]
    assert all(apdu[0] == 0xE0 and len(apdu) <= 128 for apdu in blocks)
    # without GBT a request that long is refused locally
    plain = _pair()
    with pytest.raises(LocalProtocolError, match="exceeds"):
        plain.client.access([(AccessRequestSet(attribute_descriptor=NAME), BIG)])
