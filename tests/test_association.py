"""Client and server association machines paired in memory: every service, both ways."""

from __future__ import annotations

import pytest
from test_association_pair import Pair

from dlmskit.apdu import (
    AcseServiceUserDiagnostic,
    ActionResult,
    ApplicationContextName,
    AssociationResult,
    ConfirmedServiceError,
    Conformance,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    DataAccessResult,
    ExceptionResponse,
    GetRequestNormal,
    GetResponseNormal,
    InitiateError,
    InvokeIdAndPriority,
    MechanismName,
    ReleaseResponseReason,
    SelectiveAccess,
    ServiceErrorKind,
    SetRequestNormal,
    StateError,
)
from dlmskit.association import (
    ActionCompleted,
    ActionWithListCompleted,
    AssociationAccepted,
    AssociationPolicy,
    AssociationRejected,
    AssociationState,
    AttributeAccessMode,
    ClientAssociation,
    ClientSettings,
    ExceptionReceived,
    GetCompleted,
    InvokeIdPolicy,
    MemoryObjectTree,
    Released,
    RequestContext,
    SetCompleted,
)
from dlmskit.axdr import (
    Array,
    DoubleLongUnsigned,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
    VisibleString,
)
from dlmskit.errors import LocalProtocolError, RemoteProtocolError
from obis import ObisCode

CLOCK = CosemAttributeDescriptor(
    class_id=8, instance_id=ObisCode(0, 0, 1, 0, 0, 255), attribute_id=2
)
ENERGY = CosemAttributeDescriptor(
    class_id=3, instance_id=ObisCode(1, 0, 1, 8, 0, 255), attribute_id=2
)
NAME = CosemAttributeDescriptor(
    class_id=1, instance_id=ObisCode(0, 0, 96, 1, 0, 255), attribute_id=2
)
PROFILE = CosemAttributeDescriptor(
    class_id=7, instance_id=ObisCode(1, 0, 99, 1, 0, 255), attribute_id=2
)
RESET = CosemMethodDescriptor(class_id=3, instance_id=ObisCode(1, 0, 1, 8, 0, 255), method_id=1)
ECHO = CosemMethodDescriptor(class_id=1, instance_id=ObisCode(0, 0, 96, 1, 0, 255), method_id=1)

ALL = Conformance(0x001E1D)
WITH_GBT = Conformance(0x001E1D | Conformance.GENERAL_BLOCK_TRANSFER)

BIG = OctetString(bytes(range(256)) * 200)  # 51 200 bytes


def _key(d: CosemAttributeDescriptor | CosemMethodDescriptor) -> tuple[int, ObisCode, int]:
    index = d.attribute_id if isinstance(d, CosemAttributeDescriptor) else d.method_id
    return (d.class_id, d.instance_id, index)


def _profile(ctx: RequestContext, access: SelectiveAccess | None) -> Structure:
    """Echo the selective access back, so the test sees it passed through."""
    if access is None:
        return Structure([Unsigned(0)])
    return Structure([Unsigned(access.selector), access.parameters])


def _echo(ctx: RequestContext, params: object) -> tuple[ActionResult, object]:
    return ActionResult.SUCCESS, params


def make_objects() -> MemoryObjectTree:
    return MemoryObjectTree(
        {
            _key(CLOCK): OctetString(bytes.fromhex("07EA0C04FF16280000FEB600")),
            _key(ENERGY): DoubleLongUnsigned(123456),
            _key(NAME): VisibleString("dlmskit"),
            _key(PROFILE): _profile,
        },
        methods={
            _key(RESET): lambda ctx, p: (ActionResult.SUCCESS, None),
            _key(ECHO): _echo,  # type: ignore[dict-item]
        },
        access={_key(CLOCK): AttributeAccessMode.READ_ONLY},
    )


def pair(
    *,
    settings: ClientSettings | None = None,
    policy: AssociationPolicy | None = None,
) -> Pair:
    return Pair(settings, policy, make_objects())


def associated(**kw: object) -> Pair:
    p = pair(**kw)  # type: ignore[arg-type]
    event = p.associate()
    assert isinstance(event, AssociationAccepted), event
    assert p.client.state is AssociationState.ASSOCIATED
    assert p.server.state is AssociationState.ASSOCIATED
    return p


# -- golden bytes ---------------------------------------------------------------------


def test_aarq_ln_no_auth_matches_the_reference_frame() -> None:
    client = ClientAssociation(ClientSettings())
    client.associate()
    assert client.data_to_send() == [
        bytes.fromhex("601DA109060760857405080101BE10040E01000000065F1F0400001E1DFFFF")
    ]
    assert client.state is AssociationState.ASSOCIATION_PENDING
    assert client.awaiting == "AARE"


def test_aare_accepted_matches_the_reference_frame() -> None:
    p = pair(policy=AssociationPolicy(max_receive_pdu_size=0x04C8))
    p.client.associate()
    p.server.receive_apdu(p.client.data_to_send()[0])
    aare = p.server.data_to_send()
    assert aare == [
        bytes.fromhex(
            "6129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F0400001E1D04C80007"
        )
    ]
    p.client.receive_apdu(aare[0])
    event = p.one_event()
    assert event == AssociationAccepted(
        application_context=ApplicationContextName.LN,
        mechanism=MechanismName.LOWEST,
        conformance=ALL,
        dlms_version=6,
        client_max_receive_pdu_size=0xFFFF,
        server_max_receive_pdu_size=0x04C8,
    )
    assert p.client.negotiated == event
    assert p.client.peer_max_pdu == 0x04C8


def test_aare_dlms_version_too_low_matches_the_reference_frame() -> None:
    p = pair(settings=ClientSettings(dlms_version=5))
    p.client.associate()
    p.pump()
    assert p.wire[1] == (
        "s2c",
        bytes.fromhex("611FA109060760857405080101A203020101A305A103020101BE0604040E010601"),
    )
    event = p.one_event()
    assert isinstance(event, AssociationRejected)
    assert event.result is AssociationResult.REJECTED_PERMANENT
    assert event.diagnostic is AcseServiceUserDiagnostic.NO_REASON_GIVEN
    assert event.initiate_error is not None
    assert event.initiate_error.error is InitiateError.DLMS_VERSION_TOO_LOW
    assert p.client.state is AssociationState.IDLE
    assert p.server.state is AssociationState.IDLE


def test_get_requests_match_the_reference_bytes() -> None:
    p = associated()
    p.client.get(CLOCK)
    assert p.client.data_to_send() == [bytes.fromhex("C001C100080000010000FF0200")]
    p.client.abort()
    p = associated()
    entries = SelectiveAccess(
        selector=2,
        parameters=Structure(
            [DoubleLongUnsigned(1), DoubleLongUnsigned(96), LongUnsigned(1), LongUnsigned(0)]
        ),
    )
    p.client.get(PROFILE, entries)
    # dlms-facts 1.4: BLP by entry 1..96, all columns
    assert p.client.data_to_send() == [
        bytes.fromhex("C001C100070100630100FF020102020406000000010600000060120001120000")
    ]


# -- rejections -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "policy", "diagnostic"),
    [
        (
            ClientSettings(application_context=ApplicationContextName.SN),
            AssociationPolicy(),
            AcseServiceUserDiagnostic.APPLICATION_CONTEXT_NAME_NOT_SUPPORTED,
        ),
        (
            ClientSettings(),
            AssociationPolicy(mechanism=MechanismName.LOW, password=b"12345678"),
            AcseServiceUserDiagnostic.AUTHENTICATION_MECHANISM_NAME_REQUIRED,
        ),
        (
            ClientSettings(mechanism=MechanismName.LOW, password=b"12345678"),
            AssociationPolicy(),
            AcseServiceUserDiagnostic.AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNISED,
        ),
        (
            ClientSettings(mechanism=MechanismName.LOW, password=b"1234567"),
            AssociationPolicy(mechanism=MechanismName.LOW, password=b"12345678"),
            AcseServiceUserDiagnostic.AUTHENTICATION_FAILURE,
        ),
    ],
)
def test_rejection_diagnostics(
    settings: ClientSettings, policy: AssociationPolicy, diagnostic: AcseServiceUserDiagnostic
) -> None:
    p = pair(settings=settings, policy=policy)
    event = p.associate()
    assert isinstance(event, AssociationRejected)
    assert event.result is AssociationResult.REJECTED_PERMANENT
    assert event.diagnostic is diagnostic
    assert [type(e) for e in p.server_events()] == [AssociationRejected]
    assert p.client.state is p.server.state is AssociationState.IDLE


@pytest.mark.parametrize(
    ("settings", "policy", "error"),
    [
        (
            ClientSettings(max_receive_pdu_size=63),
            AssociationPolicy(),
            InitiateError.PDU_SIZE_TOO_SHORT,
        ),
        (
            ClientSettings(conformance=Conformance.READ | Conformance.WRITE),
            AssociationPolicy(),
            InitiateError.INCOMPATIBLE_CONFORMANCE,
        ),
    ],
)
def test_initiate_errors(
    settings: ClientSettings, policy: AssociationPolicy, error: InitiateError
) -> None:
    event = pair(settings=settings, policy=policy).associate()
    assert isinstance(event, AssociationRejected)
    assert isinstance(event.initiate_error, ConfirmedServiceError)
    assert event.initiate_error.error is error


def test_lls_password_accepted_and_association_can_be_reopened() -> None:
    p = associated(
        settings=ClientSettings(mechanism=MechanismName.LOW, password=b"12345678"),
        policy=AssociationPolicy(mechanism=MechanismName.LOW, password=b"12345678"),
    )
    aarq = p.wire[0][1]
    assert bytes.fromhex("8B0760857405080201") in aarq
    assert bytes.fromhex("AC0A80083132333435363738") in aarq
    p.client.release()
    p.pump()
    assert isinstance(p.one_event(), Released)
    again = p.associate()
    assert isinstance(again, AssociationAccepted) and again.mechanism is MechanismName.LOW
    assert again == p.client.negotiated


def test_negotiation_intersects_conformance_and_keeps_pdu_sizes() -> None:
    p = associated(
        settings=ClientSettings(max_receive_pdu_size=200),
        policy=AssociationPolicy(
            conformance=Conformance.GET | Conformance.SET, max_receive_pdu_size=300
        ),
    )
    n = p.client.negotiated
    assert n is not None
    assert n.conformance == Conformance.GET | Conformance.SET
    assert (n.client_max_receive_pdu_size, n.server_max_receive_pdu_size) == (200, 300)
    assert p.server.peer_max_pdu == 200 and p.client.peer_max_pdu == 300


# -- services ---------------------------------------------------------------------------


def test_get_normal_and_denied_and_undefined() -> None:
    p = associated()
    invoke_id = p.client.get(ENERGY)
    awaiting = p.client.awaiting
    assert awaiting == "GET-Response"
    p.pump()
    assert p.one_event() == GetCompleted(invoke_id=invoke_id, results=(DoubleLongUnsigned(123456),))
    assert p.client.awaiting is None
    missing = CosemAttributeDescriptor(
        class_id=3, instance_id=ObisCode(1, 0, 2, 8, 0, 255), attribute_id=2
    )
    p.client.get(missing)
    p.pump()
    event = p.one_event()
    assert isinstance(event, GetCompleted)
    assert event.result is DataAccessResult.OBJECT_UNDEFINED


def test_invoke_ids_increment_and_wrap() -> None:
    p = associated()
    seen = []
    for _ in range(18):
        seen.append(p.client.get(ENERGY))
        p.pump()
        p.one_event()
    assert seen == [*range(1, 16), 0, 1, 2]
    fixed = associated(
        settings=ClientSettings(invoke_id_policy=InvokeIdPolicy.FIXED, first_invoke_id=7)
    )
    for _ in range(2):
        assert fixed.client.get(ENERGY) == 7
        fixed.pump()
        assert fixed.one_event() == GetCompleted(invoke_id=7, results=(DoubleLongUnsigned(123456),))
    assert fixed.wire[-2][1][:3] == b"\xc0\x01\xc7"  # high priority, confirmed, id 7


def test_get_with_list_and_selective_access_pass_through() -> None:
    p = associated()
    access = SelectiveAccess(
        selector=2,
        parameters=Structure(
            [DoubleLongUnsigned(1), DoubleLongUnsigned(96), LongUnsigned(1), LongUnsigned(0)]
        ),
    )
    p.client.get_with_list(
        [
            ENERGY,
            CosemAttributeDescriptorWithSelection(
                attribute_descriptor=PROFILE, access_selection=access
            ),
            NAME,
        ]
    )
    p.pump()
    event = p.one_event()
    assert isinstance(event, GetCompleted)
    assert event.results == (
        DoubleLongUnsigned(123456),
        Structure([Unsigned(2), access.parameters]),
        VisibleString("dlmskit"),
    )


def test_set_normal_with_list_and_access_rights() -> None:
    p = associated()
    p.client.set(ENERGY, DoubleLongUnsigned(7))
    p.pump()
    assert p.one_event() == SetCompleted(invoke_id=1, results=(DataAccessResult.SUCCESS,))
    assert p.objects.values[_key(ENERGY)] == DoubleLongUnsigned(7)
    p.client.set_with_list([(NAME, VisibleString("x")), (CLOCK, OctetString(b"\x00" * 12))])
    p.pump()
    event = p.one_event()
    assert isinstance(event, SetCompleted)
    assert event.results == (DataAccessResult.SUCCESS, DataAccessResult.READ_WRITE_DENIED)
    assert p.objects.values[_key(NAME)] == VisibleString("x")


def test_action_with_and_without_parameters() -> None:
    p = associated()
    p.client.action(RESET)
    p.pump()
    assert p.one_event() == ActionCompleted(invoke_id=1, result=ActionResult.SUCCESS)
    p.client.action(ECHO, Array([Unsigned(1), Unsigned(2)]))
    p.pump()
    assert p.one_event() == ActionCompleted(
        invoke_id=2, result=ActionResult.SUCCESS, return_data=Array([Unsigned(1), Unsigned(2)])
    )
    p.client.action(
        CosemMethodDescriptor(class_id=9, instance_id=ObisCode(0, 0, 10, 0, 0, 255), method_id=1)
    )
    p.pump()
    event = p.one_event()
    assert isinstance(event, ActionCompleted) and event.result is ActionResult.OBJECT_UNDEFINED


def test_action_with_list() -> None:
    p = associated()
    missing = CosemMethodDescriptor(
        class_id=9, instance_id=ObisCode(0, 0, 10, 0, 0, 255), method_id=1
    )
    p.client.action_with_list([(RESET, None), (ECHO, Unsigned(5)), (missing, None)])
    p.pump()
    assert p.wire[-2][1][:2] == b"\xc3\x03" and p.wire[-1][1][:2] == b"\xc7\x03"
    assert p.one_event() == ActionWithListCompleted(
        invoke_id=1,
        results=(
            (ActionResult.SUCCESS, None),
            (ActionResult.SUCCESS, Unsigned(5)),
            (ActionResult.OBJECT_UNDEFINED, None),
        ),
    )
    with pytest.raises(LocalProtocolError, match="at least one method"):
        p.client.action_with_list([])


def test_release() -> None:
    p = associated()
    p.client.release()
    assert p.client.awaiting == "RLRE"
    p.pump()
    assert p.wire[-2:] == [
        ("c2s", bytes.fromhex("6203800100")),
        ("s2c", bytes.fromhex("6303800100")),
    ]
    assert p.one_event() == Released(reason=ReleaseResponseReason.NORMAL)
    assert [type(e) for e in p.server_events()] == [AssociationAccepted, Released]
    assert p.client.state is p.server.state is AssociationState.IDLE
    with pytest.raises(LocalProtocolError):
        p.client.get(ENERGY)


# -- block transfer ---------------------------------------------------------------------


def _big_objects(p: Pair) -> None:
    p.objects.values[_key(NAME)] = BIG


def test_50k_get_and_set_through_64_byte_pdus_with_service_block_transfer() -> None:
    p = associated(
        settings=ClientSettings(max_receive_pdu_size=64),
        policy=AssociationPolicy(max_receive_pdu_size=64),
    )
    _big_objects(p)
    p.client.get(NAME)
    p.pump()
    assert p.one_event() == GetCompleted(invoke_id=1, results=(BIG,))
    responses = [a for d, a in p.wire if d == "s2c"][1:]
    assert len(responses) > 800
    assert all(len(a) <= 64 for _, a in p.wire[2:])
    assert {a[:2] for a in responses} == {b"\xc4\x02"}
    p.wire.clear()
    p.client.set(ENERGY, BIG)
    p.pump()
    assert p.one_event() == SetCompleted(invoke_id=2, results=(DataAccessResult.SUCCESS,))
    assert p.objects.values[_key(ENERGY)] == BIG
    assert all(len(a) <= 64 for _, a in p.wire)
    assert p.wire[0][1][:2] == b"\xc1\x02" and p.wire[2][1][:2] == b"\xc1\x03"
    p.wire.clear()
    p.client.action(ECHO, BIG)
    p.pump()
    assert p.one_event() == ActionCompleted(
        invoke_id=3, result=ActionResult.SUCCESS, return_data=BIG
    )
    assert all(len(a) <= 64 for _, a in p.wire)
    kinds = {a[:2] for _, a in p.wire}
    assert {b"\xc3\x04", b"\xc3\x06", b"\xc7\x04", b"\xc7\x02", b"\xc3\x02"} <= kinds


def test_get_with_list_large_response_uses_datablocks() -> None:
    p = associated(settings=ClientSettings(max_receive_pdu_size=64))
    _big_objects(p)
    p.client.get_with_list([ENERGY, NAME, CLOCK])
    p.pump()
    event = p.one_event()
    assert isinstance(event, GetCompleted)
    assert event.results[:2] == (DoubleLongUnsigned(123456), BIG)


@pytest.mark.parametrize("window", [1, 4])
@pytest.mark.parametrize("lose", [None, 3, 7])
def test_50k_through_64_byte_pdus_with_general_block_transfer(
    window: int, lose: int | None
) -> None:
    p = associated(
        settings=ClientSettings(
            max_receive_pdu_size=64,
            conformance=WITH_GBT,
            use_general_block_transfer=True,
            gbt_window=window,
        ),
        policy=AssociationPolicy(max_receive_pdu_size=64, conformance=WITH_GBT, gbt_window=window),
    )
    _big_objects(p)
    p.wire.clear()
    dropped: list[bytes] = []

    def loss(direction: str, apdu: bytes) -> bool:
        # lose the first transmission of server block number ``lose``
        if lose is None or direction != "s2c" or dropped:
            return False
        if apdu[0] == 0xE0 and int.from_bytes(apdu[2:4], "big") == lose:
            dropped.append(apdu)
            return True
        return False

    p.client.get(NAME)
    p.pump(loss)
    if lose is not None and window == 1:
        # the window-end block itself was lost: only the caller's timer can notice
        assert p.client_events() == []
        assert p.client.request_retransmission()
        p.pump(loss)
    event = p.one_event()
    assert event == GetCompleted(invoke_id=1, results=(BIG,))
    assert all(len(a) <= 64 for _, a in p.wire)
    assert all(a[0] == 0xE0 for _, a in p.wire)
    server_blocks = [a for d, a in p.wire if d == "s2c" and len(a) > 6]
    assert len(server_blocks) >= 51203 // 57
    assert {a[1] & 0x3F for a in server_blocks} == {window}
    if lose is not None:
        assert len(dropped) == 1
        resent = [a for d, a in p.wire if d == "s2c" and a[2:4] == dropped[0][2:4]]
        assert len(resent) == 2 and resent[1][6:] == dropped[0][6:]
    # and a large request (SET) goes out through GBT as well
    p.wire.clear()
    p.client.set(ENERGY, BIG)
    p.pump()
    assert p.one_event() == SetCompleted(invoke_id=2, results=(DataAccessResult.SUCCESS,))
    assert p.objects.values[_key(ENERGY)] == BIG
    assert all(len(a) <= 64 and a[0] == 0xE0 for _, a in p.wire)


# -- conformance and protocol errors ------------------------------------------------


def test_local_refusal_outside_negotiated_conformance() -> None:
    p = associated(policy=AssociationPolicy(conformance=Conformance.GET))
    with pytest.raises(LocalProtocolError, match="SET"):
        p.client.set(ENERGY, DoubleLongUnsigned(1))
    with pytest.raises(LocalProtocolError, match="ACTION"):
        p.client.action(RESET)
    with pytest.raises(LocalProtocolError, match="GET-Request-With-List"):
        p.client.get_with_list([ENERGY, NAME])
    with pytest.raises(LocalProtocolError, match="selective access"):
        p.client.get(PROFILE, SelectiveAccess(selector=1, parameters=None))
    assert p.client.state is AssociationState.ASSOCIATED
    assert p.client.data_to_send() == []


def test_request_too_long_without_block_transfer_is_refused_locally() -> None:
    p = associated(policy=AssociationPolicy(conformance=Conformance.SET, max_receive_pdu_size=64))
    with pytest.raises(LocalProtocolError, match="SET longer than the PDU"):
        p.client.set(ENERGY, BIG)


def test_server_answers_services_outside_conformance_with_exception_response() -> None:
    p = associated(policy=AssociationPolicy(conformance=Conformance.GET))
    request = SetRequestNormal(attribute_descriptor=ENERGY, value=DoubleLongUnsigned(1))
    p.server.receive_apdu(request.to_bytes())
    assert p.server.data_to_send() == [
        ExceptionResponse(
            state_error=StateError.SERVICE_NOT_ALLOWED,
            service_error=ServiceErrorKind.SERVICE_NOT_SUPPORTED,
        ).to_bytes()
    ]
    assert p.objects.values[_key(ENERGY)] == DoubleLongUnsigned(123456)


def test_server_refuses_requests_before_association() -> None:
    p = pair()
    p.server.receive_apdu(GetRequestNormal(attribute_descriptor=ENERGY).to_bytes())
    assert p.server.data_to_send() == [bytes.fromhex("D80101")]


def test_client_passes_exception_response_up() -> None:
    p = associated()
    p.client.get(ENERGY)
    p.client.data_to_send()
    p.client.receive_apdu(bytes.fromhex("D80102"))
    event = p.one_event()
    assert isinstance(event, ExceptionReceived)
    assert event.exception.service_error is ServiceErrorKind.SERVICE_NOT_SUPPORTED
    assert p.client.state is AssociationState.ASSOCIATED


def test_wrong_invoke_id_is_a_remote_error_and_ends_in_error_state() -> None:
    p = associated()
    p.client.get(ENERGY)
    p.client.data_to_send()
    wrong = GetResponseNormal(
        invoke_id_and_priority=InvokeIdAndPriority(invoke_id=9), result=Unsigned(1)
    ).to_bytes()
    with pytest.raises(RemoteProtocolError, match="invoke-id 9"):
        p.client.receive_apdu(wrong)
    assert p.client.state is AssociationState.ERROR
    with pytest.raises(RemoteProtocolError):
        p.client.receive_apdu(wrong)
    with pytest.raises(LocalProtocolError):
        p.client.get(ENERGY)


def test_unsolicited_response_is_a_remote_error() -> None:
    p = associated()
    with pytest.raises(RemoteProtocolError, match="no request outstanding"):
        p.client.receive_apdu(GetResponseNormal(result=Unsigned(1)).to_bytes())
    assert p.client.state is AssociationState.ERROR


def test_one_request_at_a_time() -> None:
    p = associated()
    p.client.get(ENERGY)
    with pytest.raises(LocalProtocolError, match="GET-Response is awaited"):
        p.client.get(ENERGY)
    with pytest.raises(LocalProtocolError):
        p.client.release()


@pytest.mark.parametrize("window", [1, 4])
@pytest.mark.parametrize("lose", [2, 4])
def test_gbt_request_blocks_lost_on_the_way_to_the_server(window: int, lose: int) -> None:
    p = associated(
        settings=ClientSettings(
            max_receive_pdu_size=64,
            conformance=WITH_GBT,
            use_general_block_transfer=True,
            gbt_window=window,
        ),
        policy=AssociationPolicy(max_receive_pdu_size=64, conformance=WITH_GBT, gbt_window=window),
    )
    dropped: list[bytes] = []

    def loss(direction: str, apdu: bytes) -> bool:
        if direction != "c2s" or dropped or int.from_bytes(apdu[2:4], "big") != lose:
            return False
        dropped.append(apdu)
        return True

    p.client.set(ENERGY, BIG)
    p.pump(loss)
    events = p.client_events()
    if not events:
        # the lost block ended a window: nobody acknowledges, the caller's timer fires
        assert window == 1 or lose % window == 0
        assert p.client.request_retransmission()
        p.pump(loss)
        events = p.client_events()
    assert dropped
    assert events == [SetCompleted(invoke_id=1, results=(DataAccessResult.SUCCESS,))]
    assert p.objects.values[_key(ENERGY)] == BIG


def test_large_set_with_list_goes_out_in_datablocks() -> None:
    p = associated(policy=AssociationPolicy(max_receive_pdu_size=64))
    p.wire.clear()
    p.client.set_with_list([(ENERGY, BIG), (NAME, VisibleString("n")), (CLOCK, BIG)])
    p.pump()
    assert p.one_event() == SetCompleted(
        invoke_id=1,
        results=(
            DataAccessResult.SUCCESS,
            DataAccessResult.SUCCESS,
            DataAccessResult.READ_WRITE_DENIED,
        ),
    )
    assert p.objects.values[_key(ENERGY)] == BIG
    assert all(len(apdu) <= 64 for d, apdu in p.wire if d == "c2s")
    assert p.wire[0][1][:2] == b"\xc1\x05"  # with-list-and-first-datablock
    assert p.wire[-1][1][:2] == b"\xc5\x04"  # last-datablock-with-list


def test_server_answers_through_gbt_when_it_is_the_only_block_transfer() -> None:
    only_gbt = Conformance.GET | Conformance.ACTION | Conformance.GENERAL_BLOCK_TRANSFER
    p = associated(
        settings=ClientSettings(max_receive_pdu_size=64, conformance=only_gbt, gbt_window=4),
        policy=AssociationPolicy(conformance=only_gbt),
    )
    _big_objects(p)
    p.wire.clear()
    p.client.get(NAME)  # a plain request; the long answer comes as GBT and the client follows
    p.pump()
    assert p.one_event() == GetCompleted(invoke_id=1, results=(BIG,))
    assert p.wire[0][1][:2] == b"\xc0\x01"
    assert {apdu[0] for _, apdu in p.wire[1:]} == {0xE0}
    assert all(len(apdu) <= 64 for _, apdu in p.wire)
    p.wire.clear()
    p.client.action(ECHO, BIG)  # too long for one APDU: GBT carries it both ways
    p.pump()
    assert p.one_event() == ActionCompleted(
        invoke_id=2, result=ActionResult.SUCCESS, return_data=BIG
    )
    assert {apdu[0] for _, apdu in p.wire} == {0xE0}
    assert all(len(apdu) <= (64 if d == "s2c" else 1024) for d, apdu in p.wire)
    assert len([d for d, _ in p.wire if d == "c2s"]) > 50  # the acks of the long answer


def test_server_refuses_a_long_answer_without_any_block_transfer() -> None:
    p = associated(
        settings=ClientSettings(max_receive_pdu_size=64, conformance=Conformance.GET),
        policy=AssociationPolicy(),
    )
    _big_objects(p)
    p.client.get(NAME)
    p.pump()
    event = p.one_event()
    assert isinstance(event, ExceptionReceived)
    assert event.exception.to_bytes() == bytes.fromhex("D80102")
