"""Short name referencing: client and server association machines paired in memory."""

from __future__ import annotations

import pytest
from test_association_pair import Pair

from dlmskit.apdu import (
    ApplicationContextName,
    BlockNumberAccess,
    BlockNumberResult,
    ConfirmedServiceError,
    ConfirmedServiceErrorChoice,
    Conformance,
    CosemAttributeDescriptor,
    DataAccessResult,
    ExceptionResponse,
    GetRequestNormal,
    InformationReportRequest,
    MechanismName,
    ParameterizedAccess,
    ReadDataBlockAccess,
    ReadRequest,
    ReadResponse,
    SelectiveAccess,
    ServiceHandlingError,
    VariableName,
    WriteDataBlockAccess,
    WriteRequest,
    WriteResponse,
    decode_apdu,
)
from dlmskit.association import (
    ASSOCIATION_SN_BASE,
    DEFAULT_SN_CONFORMANCE,
    REPLY_TO_HLS_AUTHENTICATION_SN,
    AssociationAccepted,
    AssociationPolicy,
    AssociationState,
    AttributeAccessMode,
    AuthenticationFailed,
    ClientSettings,
    ConfirmedServiceErrorReceived,
    InformationReportReceived,
    MemoryObjectTree,
    ReadCompleted,
    RequestContext,
    ShortNameEntry,
    ShortNameKind,
    ShortNameLayout,
    ShortNameTable,
    WriteCompleted,
)
from dlmskit.axdr import (
    Array,
    DoubleLongUnsigned,
    Integer,
    Long,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
)
from dlmskit.errors import LocalProtocolError, RemoteProtocolError
from dlmskit.security import HlsGmac, HlsSecret, KeyId, MemoryCounterStore, SecurityContext
from obis import ObisCode

ENERGY_LN = ObisCode(1, 0, 1, 8, 0, 255)
NAME_LN = ObisCode(0, 0, 96, 1, 0, 255)
PROFILE_LN = ObisCode(1, 0, 99, 1, 0, 255)
BIG_LN = ObisCode(0, 0, 96, 1, 1, 255)
DISCONNECT_LN = ObisCode(0, 0, 96, 3, 10, 255)

TABLE = ShortNameTable(
    [
        ShortNameEntry(base_name=0x2000, class_id=3, logical_name=ENERGY_LN),
        ShortNameEntry(base_name=0x2100, class_id=1, logical_name=NAME_LN),
        ShortNameEntry(base_name=0x2200, class_id=7, logical_name=PROFILE_LN),
        ShortNameEntry(base_name=0x2300, class_id=1, logical_name=BIG_LN),
        ShortNameEntry(base_name=0x2400, class_id=70, logical_name=DISCONNECT_LN),
    ]
)
ENERGY = 0x2008  # register value (attribute 2)
SCALER = 0x2010
RESET = 0x2028  # register method 1
NAME = 0x2108
PROFILE = 0x2208
BIG_NAME = 0x2308
REMOTE_DISCONNECT = 0x2420  # disconnect control method 1

BIG = OctetString(bytes(range(256)) * 200)  # 51 200 bytes
ALL_SN = DEFAULT_SN_CONFORMANCE
WITH_GBT = Conformance(ALL_SN | Conformance.GENERAL_BLOCK_TRANSFER)


def _profile(ctx: RequestContext, access: SelectiveAccess | None) -> Array:
    rows = [Structure((DoubleLongUnsigned(i), Unsigned(i % 256))) for i in range(1, 97)]
    if access is not None and access.selector == 2:
        assert isinstance(access.parameters, Structure)
        first, last = list(access.parameters)[:2]
        assert isinstance(first, int) and isinstance(last, int)
        rows = rows[first - 1 : last]
    return Array(rows)


def _objects() -> MemoryObjectTree:
    tree = MemoryObjectTree(
        {
            (3, ENERGY_LN, 2): DoubleLongUnsigned(42),
            (3, ENERGY_LN, 3): Structure((Integer(0), Unsigned(30))),
            (1, NAME_LN, 2): OctetString(b"DLMSKIT"),
            (7, PROFILE_LN, 2): _profile,
            (1, BIG_LN, 2): BIG,
        },
        access={(3, ENERGY_LN, 3): AttributeAccessMode.READ_ONLY},
    )

    def reset(ctx: RequestContext, parameters: object) -> tuple[object, None]:
        tree.values[(3, ENERGY_LN, 2)] = DoubleLongUnsigned(0)
        from dlmskit.apdu import ActionResult

        return ActionResult.SUCCESS, None

    tree.methods[(3, ENERGY_LN, 1)] = reset  # type: ignore[assignment]
    return tree


def _pair(
    *,
    conformance: Conformance = ALL_SN,
    client_pdu: int = 0xFFFF,
    server_pdu: int = 1024,
    use_gbt: bool = False,
    gbt_window: int = 1,
) -> Pair:
    pair = Pair(
        ClientSettings(
            application_context=ApplicationContextName.SN,
            conformance=conformance,
            max_receive_pdu_size=client_pdu,
            use_general_block_transfer=use_gbt,
            gbt_window=gbt_window,
        ),
        AssociationPolicy(
            application_context=ApplicationContextName.SN,
            conformance=conformance,
            max_receive_pdu_size=server_pdu,
            min_client_pdu_size=12,
            gbt_window=gbt_window,
        ),
        _objects(),
        short_names=TABLE,
    )
    assert isinstance(pair.associate(), AssociationAccepted)
    return pair


def _read(pair: Pair, *names: int | VariableName | ParameterizedAccess) -> ReadCompleted:
    pair.client.read(names)
    pair.pump()
    event = pair.one_event()
    assert isinstance(event, ReadCompleted)
    return event


# -- the short name map --------------------------------------------------------------------


def test_short_names_follow_the_blue_book_offsets() -> None:
    assert TABLE.attribute_name(3, ENERGY_LN, 2) == 0x2008
    assert TABLE.method_name(3, ENERGY_LN, 1) == 0x2028
    assert TABLE.method_name(70, DISCONNECT_LN, 2) == 0x2428
    assert REPLY_TO_HLS_AUTHENTICATION_SN == ASSOCIATION_SN_BASE + 0x58 == 0xFA58
    target = TABLE.resolve(0x2010)
    assert target is not None and target.kind is ShortNameKind.ATTRIBUTE
    assert target.attribute == CosemAttributeDescriptor(
        class_id=3, instance_id=ENERGY_LN, attribute_id=3
    )
    method = TABLE.resolve(0x2028)
    assert method is not None and method.kind is ShortNameKind.METHOD
    assert method.method.method_id == 1
    # between the last attribute and the first method, off the grid, before every object
    assert TABLE.resolve(0x2018) is None
    assert TABLE.resolve(0x2009) is None
    assert TABLE.resolve(0x1000) is None
    assert TABLE.resolve(0x2030) is None
    with pytest.raises(LocalProtocolError):
        method.attribute  # noqa: B018
    with pytest.raises(LocalProtocolError):
        TABLE.attribute_name(3, ENERGY_LN, 4)


def test_overlapping_objects_and_unknown_layouts_are_refused() -> None:
    with pytest.raises(LocalProtocolError, match="overlaps"):
        ShortNameTable(
            [
                ShortNameEntry(base_name=0x2000, class_id=3, logical_name=ENERGY_LN),
                ShortNameEntry(base_name=0x2020, class_id=1, logical_name=NAME_LN),
            ]
        )
    with pytest.raises(LocalProtocolError, match="layout"):
        ShortNameTable([ShortNameEntry(base_name=0x3000, class_id=9999, logical_name=NAME_LN)])
    own = ShortNameLayout(attribute_count=3, first_method_offset=0x20, method_count=1)
    table = ShortNameTable(
        [ShortNameEntry(base_name=0x3000, class_id=9999, logical_name=NAME_LN, layout=own)]
    )
    assert table.method_name(9999, NAME_LN, 1) == 0x3020
    with pytest.raises(LocalProtocolError):
        ShortNameLayout(attribute_count=5, first_method_offset=0x10, method_count=1)


def test_object_list_from_a_meter_is_checked() -> None:
    def element(base: int, class_id: int, name: bytes = bytes(6)) -> Structure:
        return Structure((Long(base), LongUnsigned(class_id), Unsigned(0), OctetString(name)))

    listed = Array([element(0x2000, 3), element(0x3000, 9999), element(-1536, 12)])
    table = ShortNameTable.from_object_list(listed)
    assert [e.base_name for e in table.entries] == [0x2000, 0xFA00]  # class 9999 left out
    own = ShortNameLayout(attribute_count=2)
    with_own = ShortNameTable.from_object_list(listed, {9999: own})
    assert [e.base_name for e in with_own.entries] == [0x2000, 0x3000, 0xFA00]
    again = ShortNameTable.from_object_list(with_own.object_list(), {9999: own})
    assert again.entries == with_own.entries
    for bad in (
        Unsigned(1),
        Array([Structure((Long(0),))]),
        Array([element(0x2000, 3, b"short")]),
        Array([element(0x2004, 3)]),  # not a multiple of 8
        Array([element(0x2000, 3), element(0x2008, 1)]),  # overlapping objects
    ):
        with pytest.raises(RemoteProtocolError):
            ShortNameTable.from_object_list(bad)


# -- Read, Write, UnconfirmedWrite -----------------------------------------------------------


def test_read_of_one_attribute_has_the_reference_bytes() -> None:
    pair = _pair()
    event = _read(pair, ENERGY)
    assert event.result == DoubleLongUnsigned(42)
    requests = [apdu for direction, apdu in pair.wire if direction == "c2s"]
    responses = [apdu for direction, apdu in pair.wire if direction == "s2c"]
    # ReadRequest, one variable-name 0x2008; ReadResponse, one data double-long-unsigned.
    assert requests[-1] == bytes.fromhex("0501022008")
    assert responses[-1] == bytes.fromhex("0C0100060000002A")


def test_read_of_several_variables_mixes_data_and_errors() -> None:
    pair = _pair()
    event = _read(pair, ENERGY, NAME, 0x7000, 0x2018)
    assert event.results == (
        DoubleLongUnsigned(42),
        OctetString(b"DLMSKIT"),
        DataAccessResult.OBJECT_UNDEFINED,
        DataAccessResult.OBJECT_UNDEFINED,
    )


def test_parameterized_access_is_selective_access_on_attributes() -> None:
    pair = _pair()
    by_entry = Structure((DoubleLongUnsigned(3), DoubleLongUnsigned(5), Unsigned(1), Unsigned(0)))
    event = _read(pair, ParameterizedAccess(variable_name=PROFILE, selector=2, parameter=by_entry))
    assert isinstance(event.result, Array)
    assert [row[0] for row in event.result] == [  # type: ignore[index]
        DoubleLongUnsigned(3),
        DoubleLongUnsigned(4),
        DoubleLongUnsigned(5),
    ]


def test_read_and_write_of_a_method_name_invoke_the_method() -> None:
    pair = _pair()
    pair.client.write([(ENERGY, DoubleLongUnsigned(7))])
    pair.pump()
    assert pair.one_event() == WriteCompleted(results=(DataAccessResult.SUCCESS,))
    assert _read(pair, ENERGY).result == DoubleLongUnsigned(7)
    # Write of the reset method's name: reset with parameter integer 0.
    pair.client.write([(RESET, Integer(0))])
    pair.pump()
    assert pair.one_event() == WriteCompleted(results=(DataAccessResult.SUCCESS,))
    assert _read(pair, ENERGY).result == DoubleLongUnsigned(0)
    pair.objects.values[(3, ENERGY_LN, 2)] = DoubleLongUnsigned(9)
    # Read with parameterized-access of the method's name: reset, null-data back.
    event = _read(pair, ParameterizedAccess(variable_name=RESET, selector=0, parameter=Integer(0)))
    assert event.result is None
    assert _read(pair, ENERGY).result == DoubleLongUnsigned(0)
    # a method the tree does not implement
    assert _read(pair, REMOTE_DISCONNECT).result == DataAccessResult.OBJECT_UNDEFINED


def test_write_results_follow_access_rights() -> None:
    pair = _pair()
    pair.client.write(
        [
            (SCALER, Structure((Integer(1), Unsigned(30)))),
            (NAME, OctetString(b"X")),
            (0x7000, Unsigned(1)),
        ]
    )
    pair.pump()
    assert pair.one_event() == WriteCompleted(
        results=(
            DataAccessResult.READ_WRITE_DENIED,
            DataAccessResult.SUCCESS,
            DataAccessResult.OBJECT_UNDEFINED,
        )
    )
    wire = [apdu for direction, apdu in pair.wire if direction == "s2c"][-1]
    assert wire == bytes.fromhex("0D030103000104")  # success [0] has no value


def test_unconfirmed_write_gets_no_answer_and_writes() -> None:
    pair = _pair()
    pair.client.unconfirmed_write([(NAME, OctetString(b"QUIET"))])
    pair.pump()
    assert pair.client_events() == []
    assert [d for d, _ in pair.wire][-1] == "c2s"
    assert pair.wire[-1][1] == bytes.fromhex("160102210801090551554945 54".replace(" ", ""))
    assert pair.objects.values[(1, NAME_LN, 2)] == OctetString(b"QUIET")


def test_a_server_without_a_short_name_map_knows_no_object() -> None:
    pair = _pair()
    pair.server.short_names = None
    assert _read(pair, ENERGY).result == DataAccessResult.OBJECT_UNDEFINED


# -- block transfer --------------------------------------------------------------------------


@pytest.mark.parametrize("client_pdu", [64, 500])
def test_50_kb_read_comes_back_in_data_blocks(client_pdu: int) -> None:
    pair = _pair(client_pdu=client_pdu)
    assert _read(pair, BIG_NAME).result == BIG
    responses = [apdu for direction, apdu in pair.wire if direction == "s2c"]
    assert len(responses) > 100
    assert all(len(apdu) <= client_pdu for apdu in responses)
    block = ReadResponse.from_bytes(responses[-2])
    assert block.results[0].last_block is False  # type: ignore[union-attr]
    requests = [apdu for direction, apdu in pair.wire if direction == "c2s"]
    assert ReadRequest.from_bytes(requests[3]).variables == (BlockNumberAccess(block_number=2),)


def test_50_kb_write_goes_out_in_write_data_blocks() -> None:
    pair = _pair(server_pdu=64)
    pair.client.write([(BIG_NAME, BIG)])
    pair.pump()
    assert pair.one_event() == WriteCompleted(results=(DataAccessResult.SUCCESS,))
    requests = [apdu for direction, apdu in pair.wire if direction == "c2s"][1:]
    assert len(requests) > 100 and all(len(apdu) <= 64 for apdu in requests)
    assert pair.objects.values[(1, BIG_LN, 2)] == BIG
    responses = [apdu for direction, apdu in pair.wire if direction == "s2c"][1:]
    assert responses[0] == bytes.fromhex("0D01020001")  # block-number 1 acknowledged


def test_a_long_read_request_goes_out_in_read_data_blocks() -> None:
    pair = _pair(server_pdu=32)
    names = [ENERGY, NAME, SCALER] * 6
    event = _read(pair, *names)
    assert (
        event.results
        == (
            DoubleLongUnsigned(42),
            OctetString(b"DLMSKIT"),
            Structure((Integer(0), Unsigned(30))),
        )
        * 6
    )
    requests = [apdu for direction, apdu in pair.wire if direction == "c2s"][1:]
    assert len(requests) > 2 and all(len(apdu) <= 32 for apdu in requests)
    assert requests[0][2] == 6  # read-data-block-access


def test_block_transfer_needs_its_conformance_bit() -> None:
    no_blocks = Conformance(ALL_SN & ~Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE)
    pair = _pair(conformance=no_blocks, server_pdu=64)
    with pytest.raises(LocalProtocolError, match="BLOCK_TRANSFER_WITH_SET_OR_WRITE"):
        pair.client.write([(BIG_NAME, BIG)])
    no_read_blocks = Conformance(ALL_SN & ~Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ)
    pair = _pair(conformance=no_read_blocks, client_pdu=64)
    pair.client.read([BIG_NAME])
    pair.pump()
    event = pair.one_event()
    assert isinstance(event, ConfirmedServiceErrorReceived)
    assert event.error == ConfirmedServiceError(
        service=ConfirmedServiceErrorChoice.READ, error=ServiceHandlingError.PDU_SIZE
    )


@pytest.mark.parametrize("window", [1, 4])
@pytest.mark.parametrize("lose", [None, 3])
def test_general_block_transfer_carries_sn_reads_and_writes(window: int, lose: int | None) -> None:
    pair = _pair(
        conformance=WITH_GBT, client_pdu=64, server_pdu=64, use_gbt=True, gbt_window=window
    )
    dropped: list[bytes] = []

    def loss(direction: str, apdu: bytes) -> bool:
        # lose the first transmission of server block number ``lose``
        if lose is None or direction != "s2c" or dropped or apdu[0] != 0xE0:
            return False
        if int.from_bytes(apdu[2:4], "big") == lose:
            dropped.append(apdu)
            return True
        return False

    pair.client.read([BIG_NAME])
    pair.pump(loss)
    if lose is not None and window == 1:
        # the window-end block itself was lost: only the caller's timer can notice
        assert pair.client_events() == []
        assert pair.client.awaiting == "Read-Response"
        assert pair.client.request_retransmission()
        pair.pump(loss)
    assert pair.one_event() == ReadCompleted(results=(BIG,))
    assert all(apdu[0] == 0xE0 and len(apdu) <= 64 for _, apdu in pair.wire[2:])
    assert len(dropped) == (0 if lose is None else 1)
    pair.client.write([(NAME, BIG)])
    pair.pump()
    assert pair.one_event() == WriteCompleted(results=(DataAccessResult.SUCCESS,))
    assert pair.objects.values[(1, NAME_LN, 2)] == BIG


def test_out_of_sequence_block_number_access_is_refused() -> None:
    pair = _pair(client_pdu=64)
    server = pair.server
    server.receive_apdu(ReadRequest(variables=(VariableName(name=BIG_NAME),)).to_bytes())
    first = server.data_to_send()
    assert ReadResponse.from_bytes(first[0]).results[0].block_number == 1  # type: ignore[union-attr]
    server.receive_apdu(ReadRequest(variables=(BlockNumberAccess(block_number=5),)).to_bytes())
    assert server.data_to_send() == [
        ReadResponse(results=(DataAccessResult.DATA_BLOCK_NUMBER_INVALID,)).to_bytes()
    ]
    server.receive_apdu(ReadRequest(variables=(BlockNumberAccess(block_number=1),)).to_bytes())
    assert server.data_to_send() == [
        ReadResponse(results=(DataAccessResult.NO_LONG_GET_IN_PROGRESS,)).to_bytes()
    ]


# -- information report, errors, context rules ---------------------------------------------


def test_information_report_reaches_the_client_as_an_event() -> None:
    pair = _pair()
    pair.server.information_report([(ENERGY, DoubleLongUnsigned(43)), (NAME, OctetString(b"A"))])
    pair.pump()
    event = pair.one_event()
    assert isinstance(event, InformationReportReceived)
    assert event.report == InformationReportRequest(
        variables=(VariableName(name=ENERGY), VariableName(name=NAME)),
        values=(DoubleLongUnsigned(43), OctetString(b"A")),
    )
    assert pair.wire[-1][1] == bytes.fromhex("18000202200802210802060000002B090141")


def test_information_report_needs_its_conformance_bit() -> None:
    pair = _pair(conformance=Conformance(ALL_SN & ~Conformance.INFORMATION_REPORT))
    with pytest.raises(LocalProtocolError, match="INFORMATION_REPORT"):
        pair.server.information_report([(ENERGY, DoubleLongUnsigned(1))])


def test_sn_and_ln_services_stay_in_their_contexts() -> None:
    pair = _pair()
    with pytest.raises(LocalProtocolError, match="logical-name"):
        pair.client.get(CosemAttributeDescriptor(class_id=3, instance_id=ENERGY_LN, attribute_id=2))
    ln = Pair()
    ln.associate()
    with pytest.raises(LocalProtocolError, match="short name"):
        ln.client.read([ENERGY])
    # an LN request sent to an SN server
    pair.server.receive_apdu(
        GetRequestNormal(
            attribute_descriptor=CosemAttributeDescriptor(
                class_id=3, instance_id=ENERGY_LN, attribute_id=2
            )
        ).to_bytes()
    )
    assert isinstance(decode_apdu(pair.server.data_to_send()[0]), ExceptionResponse)


def test_client_refuses_what_was_not_negotiated() -> None:
    pair = _pair(conformance=Conformance(Conformance.READ | Conformance.WRITE))
    with pytest.raises(LocalProtocolError, match="MULTIPLE_REFERENCES"):
        pair.client.read([ENERGY, NAME])
    with pytest.raises(LocalProtocolError, match="PARAMETERIZED_ACCESS"):
        pair.client.read([ParameterizedAccess(variable_name=PROFILE, selector=1, parameter=None)])
    with pytest.raises(LocalProtocolError, match="UNCONFIRMED_WRITE"):
        pair.client.unconfirmed_write([(NAME, OctetString(b""))])
    with pytest.raises(LocalProtocolError, match="at least one"):
        pair.client.read([])
    pair.client.read([ENERGY])
    with pytest.raises(LocalProtocolError, match="awaited"):
        pair.client.write([(NAME, OctetString(b""))])


def test_server_answers_what_was_not_negotiated() -> None:
    pair = _pair(conformance=Conformance(Conformance.READ))
    server = pair.server
    server.receive_apdu(
        WriteRequest(variables=(VariableName(name=NAME),), values=(None,)).to_bytes()
    )
    assert server.data_to_send() == [
        ConfirmedServiceError(
            service=ConfirmedServiceErrorChoice.WRITE,
            error=ServiceHandlingError.SERVICE_UNSUPPORTED,
        ).to_bytes()
    ]
    server.receive_apdu(
        ReadRequest(
            variables=(ParameterizedAccess(variable_name=PROFILE, selector=2, parameter=None),)
        ).to_bytes()
    )
    assert server.data_to_send() == [
        ReadResponse(results=(DataAccessResult.SCOPE_OF_ACCESS_VIOLATED,)).to_bytes()
    ]
    # an unconfirmed write the association does not allow is dropped without an answer
    server.receive_apdu(bytes.fromhex("1601022108010900"))
    assert server.data_to_send() == []
    assert pair.objects.values[(1, NAME_LN, 2)] == OctetString(b"DLMSKIT")


def test_client_rejects_responses_that_do_not_match() -> None:
    pair = _pair()
    pair.client.read([ENERGY, NAME])
    pair.client.data_to_send()
    with pytest.raises(RemoteProtocolError, match="1 results for 2"):
        pair.client.receive_apdu(ReadResponse(results=(Unsigned(1),)).to_bytes())
    assert pair.client.state is AssociationState.ERROR
    pair = _pair()
    with pytest.raises(RemoteProtocolError, match="no request"):
        pair.client.receive_apdu(WriteResponse(results=(DataAccessResult.SUCCESS,)).to_bytes())


# -- HLS and ciphering in SN -----------------------------------------------------------------

EK = bytes(range(16))
AK = bytes(range(0xD0, 0xE0))
CLIENT_ST = bytes.fromhex("4D4D4D0000000001")
SERVER_ST = bytes.fromhex("4D4D4D0000BC614E")


def _ctx(title: bytes) -> SecurityContext:
    return SecurityContext(
        system_title=title,
        global_unicast_key=EK,
        authentication_key=AK,
        counter_store=MemoryCounterStore({(title, KeyId.GLOBAL_UNICAST_ENCRYPTION): 0}),
    )


def _secure_pair(context: ApplicationContextName, *, secret: bytes = EK) -> Pair:
    pair = Pair(
        ClientSettings(
            application_context=context,
            mechanism=MechanismName.HIGH,
            hls=HlsSecret(secret=secret),
            security=_ctx(CLIENT_ST),
            conformance=ALL_SN,
            max_receive_pdu_size=128,
        ),
        AssociationPolicy(
            application_context=context,
            mechanism=MechanismName.HIGH,
            hls=HlsSecret(secret=EK),
            security=_ctx(SERVER_ST),
            conformance=ALL_SN,
        ),
        _objects(),
        short_names=TABLE,
    )
    return pair


@pytest.mark.parametrize("context", [ApplicationContextName.SN, ApplicationContextName.SN_CIPHERED])
def test_hls_pass_3_goes_through_association_sn_method_8(context: ApplicationContextName) -> None:
    pair = _secure_pair(context)
    assert isinstance(pair.associate(), AssociationAccepted)
    assert pair.server.state is AssociationState.ASSOCIATED
    pass_3 = pair.wire[2][1]
    if context is ApplicationContextName.SN:
        request = ReadRequest.from_bytes(pass_3)
        assert request.variables[0].variable_name == 0xFA58  # type: ignore[union-attr]
        assert pass_3[:6] == bytes.fromhex("050104FA5800")
    else:
        assert pass_3[0] == 0x25  # glo-read-request
    assert _read(pair, BIG_NAME).result == BIG  # ciphered data blocks in a 128-byte PDU
    pair.client.write([(NAME, OctetString(b"SECURE"))])
    pair.pump()
    assert pair.one_event() == WriteCompleted(results=(DataAccessResult.SUCCESS,))


def test_hls_with_the_wrong_secret_fails_in_sn() -> None:
    pair = _secure_pair(ApplicationContextName.SN, secret=bytes(16))
    assert isinstance(pair.associate(), AuthenticationFailed)
    assert pair.server.state is AssociationState.IDLE
    assert pair.client.state is AssociationState.IDLE


def test_hls_gmac_in_sn_ciphered() -> None:
    pair = Pair(
        ClientSettings(
            application_context=ApplicationContextName.SN_CIPHERED,
            mechanism=MechanismName.HIGH_GMAC,
            hls=HlsGmac(),
            security=_ctx(CLIENT_ST),
            conformance=ALL_SN,
        ),
        AssociationPolicy(
            application_context=ApplicationContextName.SN_CIPHERED,
            mechanism=MechanismName.HIGH_GMAC,
            hls=HlsGmac(),
            security=_ctx(SERVER_ST),
            conformance=ALL_SN,
        ),
        _objects(),
        short_names=TABLE,
    )
    assert isinstance(pair.associate(), AssociationAccepted)
    assert _read(pair, ENERGY).result == DoubleLongUnsigned(42)


def test_a_refusal_in_a_ciphered_sn_association_is_ciphered_too() -> None:
    no_read_blocks = Conformance(ALL_SN & ~Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ)
    pair = Pair(
        ClientSettings(
            application_context=ApplicationContextName.SN_CIPHERED,
            security=_ctx(CLIENT_ST),
            conformance=no_read_blocks,
            max_receive_pdu_size=64,
        ),
        AssociationPolicy(
            application_context=ApplicationContextName.SN_CIPHERED,
            security=_ctx(SERVER_ST),
            conformance=no_read_blocks,
        ),
        _objects(),
        short_names=TABLE,
    )
    assert isinstance(pair.associate(), AssociationAccepted)
    pair.client.read([BIG_NAME])
    pair.pump()
    event = pair.one_event()
    assert isinstance(event, ConfirmedServiceErrorReceived)
    assert event.error.service == ConfirmedServiceErrorChoice.READ
    assert pair.wire[-1][1][0] == 0x2E  # glo-confirmed-service-error


def test_stray_request_blocks_are_answered_with_an_error() -> None:
    pair = _pair()
    server = pair.server
    server.receive_apdu(
        ReadRequest(
            variables=(ReadDataBlockAccess(last_block=False, block_number=2, raw_data=b"x"),)
        ).to_bytes()
    )
    assert server.data_to_send() == [
        ReadResponse(results=(DataAccessResult.NO_LONG_GET_IN_PROGRESS,)).to_bytes()
    ]
    block = WriteRequest(
        variables=(WriteDataBlockAccess(last_block=False, block_number=2),),
        values=(OctetString(b"x"),),
    )
    server.receive_apdu(block.to_bytes())
    assert server.data_to_send() == [
        WriteResponse(results=(DataAccessResult.NO_LONG_SET_IN_PROGRESS,)).to_bytes()
    ]
    # block 1 opens a transfer, block 3 breaks its sequence
    for number in (1, 3):
        server.receive_apdu(
            WriteRequest(
                variables=(WriteDataBlockAccess(last_block=False, block_number=number),),
                values=(OctetString(b"x"),),
            ).to_bytes()
        )
    assert server.data_to_send() == [
        WriteResponse(results=(BlockNumberResult(block_number=1),)).to_bytes(),
        WriteResponse(results=(DataAccessResult.DATA_BLOCK_NUMBER_INVALID,)).to_bytes(),
    ]
    assert pair.client.awaiting is None
    pair.client.read([ENERGY])
    assert pair.client.awaiting == "Read-Response"


def test_a_reassembled_request_that_does_not_parse_is_refused() -> None:
    pair = _pair()
    pair.server.receive_apdu(
        WriteRequest(
            variables=(WriteDataBlockAccess(last_block=True, block_number=1),),
            values=(OctetString(b"\x01\x02"),),
        ).to_bytes()
    )
    assert pair.server.data_to_send() == [
        ConfirmedServiceError(
            service=ConfirmedServiceErrorChoice.WRITE, error=ServiceHandlingError.OTHER
        ).to_bytes()
    ]
    pair.server.receive_apdu(
        ReadRequest(
            variables=(ReadDataBlockAccess(last_block=True, block_number=1, raw_data=b"\x01"),)
        ).to_bytes()
    )
    assert decode_apdu(pair.server.data_to_send()[0]) == ConfirmedServiceError(
        service=ConfirmedServiceErrorChoice.READ, error=ServiceHandlingError.OTHER
    )
