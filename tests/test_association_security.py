"""HLS passes 3 and 4 and ciphered contexts through dlmskit.security, client and server."""

from __future__ import annotations

import pytest
from test_association_pair import Pair

from dlmskit.apdu import (
    AARQ,
    AcseServiceUserDiagnostic,
    ActionResponseNormal,
    ActionResult,
    ApplicationContextName,
    ApplicationReferenceError,
    AssociationResult,
    Conformance,
    CosemAttributeDescriptor,
    DataAccessResult,
    GetRequestNormal,
    GetResponseNormal,
    InitiateRequest,
    InvokeIdAndPriority,
    MechanismName,
)
from dlmskit.association import (
    AssociationAccepted,
    AssociationPolicy,
    AssociationRejected,
    AssociationState,
    AuthenticationFailed,
    Ciphering,
    ClientAssociation,
    ClientSettings,
    GetCompleted,
    HlsMechanism,
    MemoryObjectTree,
    Released,
    SetCompleted,
)
from dlmskit.axdr import DoubleLongUnsigned, OctetString
from dlmskit.errors import RemoteProtocolError, SecurityError
from dlmskit.security import (
    HlsGmac,
    HlsMd5,
    HlsSecret,
    HlsSha256,
    KeyId,
    MemoryCounterStore,
    SecurityContext,
)
from obis import ObisCode

EK = bytes(range(16))
AK = bytes(range(0xD0, 0xE0))
CLIENT_ST = bytes.fromhex("4D4D4D0000000001")
SERVER_ST = bytes.fromhex("4D4D4D0000BC614E")
STOC = bytes.fromhex("503677524A323146")
CTOS = bytes.fromhex("4B35366956616759")
ENERGY = CosemAttributeDescriptor(
    class_id=3, instance_id=ObisCode(1, 0, 1, 8, 0, 255), attribute_id=2
)
BIG = OctetString(bytes(range(256)) * 40)

# dlms-facts 1.5: AARE HLS-GMAC pass 2 (diag 14 authentication-required, StoC above).
AARE_GMAC_PASS_2 = bytes.fromhex(
    "6142A109060760857405080101A203020100A305A10302010E88020780890760857405080205"
    "AA0A8008503677524A323146BE10040E0800065F1F040000501F01F40007"
)
# dlms-facts 1.8 (Green Book Table 43).
PASS_3 = bytes.fromhex("C301C1000F0000280000FF0101091110000000011A52FE7DD3E72748973C1E28")
F_CTOS = bytes.fromhex("1001234567FE1466AFB3DBCD4F9389E2B7")


def _ctx(title: bytes, peer: bytes | None = None, first_ic: int = 0) -> SecurityContext:
    store = MemoryCounterStore({(title, KeyId.GLOBAL_UNICAST_ENCRYPTION): first_ic})
    return SecurityContext(
        system_title=title,
        peer_system_title=peer,
        global_unicast_key=EK,
        authentication_key=AK,
        counter_store=store,
    )


def _objects() -> MemoryObjectTree:
    return MemoryObjectTree({(3, ENERGY.instance_id, 2): DoubleLongUnsigned(42)})


def test_security_context_and_mechanisms_satisfy_the_seam() -> None:
    ctx: Ciphering = _ctx(CLIENT_ST)
    mechanisms: list[HlsMechanism] = [HlsGmac(), HlsSecret(secret=EK), HlsSha256(secret=b"s")]
    assert ctx.system_title == CLIENT_ST
    assert [m.MECHANISM_ID for m in mechanisms] == [5, 2, 6]


def test_hls_gmac_pass_3_matches_green_book_table_43_and_pass_4_verifies() -> None:
    ctx = _ctx(CLIENT_ST, first_ic=1)
    client = ClientAssociation(
        ClientSettings(
            mechanism=MechanismName.HIGH_GMAC,
            hls=HlsGmac(),
            security=ctx,
            challenge_source=lambda: CTOS,
        )
    )
    client.associate()
    aarq = client.data_to_send()[0]
    assert bytes.fromhex("A60A04084D4D4D0000000001") in aarq  # calling-AP-title
    assert bytes.fromhex("8B0760857405080205AC0A80084B35366956616759") in aarq
    client.receive_apdu(AARE_GMAC_PASS_2)
    between = client.state
    assert between is AssociationState.AUTHENTICATING
    assert client.data_to_send() == [PASS_3]
    assert client.awaiting is not None and "HLS pass 4" in client.awaiting
    ctx.peer_system_title = SERVER_ST  # this AARE carries no responding-AP-title
    pass_4 = ActionResponseNormal(
        invoke_id_and_priority=InvokeIdAndPriority(invoke_id=1),
        result=ActionResult.SUCCESS,
        return_parameters=OctetString(F_CTOS),
    )
    client.receive_apdu(pass_4.to_bytes())
    event = client.next_event()
    assert isinstance(event, AssociationAccepted)
    assert event.conformance == Conformance(0x00101D)
    assert event.server_max_receive_pdu_size == 0x01F4
    assert client.state is AssociationState.ASSOCIATED


def test_hls_gmac_wrong_pass_4_fails_the_association() -> None:
    ctx = _ctx(CLIENT_ST, SERVER_ST, first_ic=1)
    client = ClientAssociation(
        ClientSettings(
            mechanism=MechanismName.HIGH_GMAC,
            hls=HlsGmac(),
            security=ctx,
            challenge_source=lambda: CTOS,
        )
    )
    client.associate()
    client.receive_apdu(AARE_GMAC_PASS_2)
    client.data_to_send()
    forged = F_CTOS[:-1] + bytes([F_CTOS[-1] ^ 1])
    client.receive_apdu(
        ActionResponseNormal(
            invoke_id_and_priority=InvokeIdAndPriority(invoke_id=1),
            result=ActionResult.SUCCESS,
            return_parameters=OctetString(forged),
        ).to_bytes()
    )
    assert isinstance(client.next_event(), AuthenticationFailed)
    assert client.state is AssociationState.IDLE


def _hls_pair(mechanism: MechanismName, client_hls: HlsMechanism, server_hls: HlsMechanism) -> Pair:
    return Pair(
        ClientSettings(mechanism=mechanism, hls=client_hls, security=_ctx(CLIENT_ST)),
        AssociationPolicy(mechanism=mechanism, hls=server_hls, security=_ctx(SERVER_ST)),
        _objects(),
    )


@pytest.mark.parametrize(
    ("mechanism", "make"),
    [
        (MechanismName.HIGH, lambda: HlsSecret(secret=EK)),
        (MechanismName.HIGH_MD5, lambda: HlsMd5(secret=b"secret")),
        (MechanismName.HIGH_GMAC, HlsGmac),
        (MechanismName.HIGH_SHA256, lambda: HlsSha256(secret=b"secret")),
    ],
)
def test_hls_pair_associates_and_serves(mechanism: MechanismName, make: object) -> None:
    p = _hls_pair(mechanism, make(), make())  # type: ignore[operator]
    event = p.associate()
    assert isinstance(event, AssociationAccepted)
    assert event.mechanism is mechanism
    assert [type(e) for e in p.server_events()] == [AssociationAccepted]
    # pass 3 is an ACTION on the current association, invoke-id 1
    assert p.wire[2][1][:12] == bytes.fromhex("C301C1000F0000280000FF01")
    p.client.get(ENERGY)
    p.pump()
    assert p.one_event() == GetCompleted(invoke_id=2, results=(DoubleLongUnsigned(42),))


@pytest.mark.parametrize(
    ("mechanism", "client_hls", "server_hls"),
    [
        (MechanismName.HIGH, HlsSecret(secret=EK), HlsSecret(secret=bytes(16))),
        (MechanismName.HIGH_SHA256, HlsSha256(secret=b"a"), HlsSha256(secret=b"b")),
    ],
)
def test_hls_wrong_secret_fails_on_both_sides(
    mechanism: MechanismName, client_hls: HlsMechanism, server_hls: HlsMechanism
) -> None:
    p = _hls_pair(mechanism, client_hls, server_hls)
    p.client.associate()
    p.pump()
    assert [type(e) for e in p.client_events()] == [AuthenticationFailed]
    assert [type(e) for e in p.server_events()] == [AuthenticationFailed]
    assert p.client.state is p.server.state is AssociationState.IDLE
    # the server refused pass 3 with read-write-denied
    assert p.wire[-1][1] == bytes.fromhex("C701C10300")


def test_server_refuses_other_services_before_pass_3() -> None:
    p = _hls_pair(MechanismName.HIGH, HlsSecret(secret=EK), HlsSecret(secret=EK))
    p.client.associate()
    p.server.receive_apdu(p.client.data_to_send()[0])
    p.server.data_to_send()
    assert p.server.state is AssociationState.AUTHENTICATING
    p.server.receive_apdu(GetRequestNormal(attribute_descriptor=ENERGY).to_bytes())
    assert p.server.data_to_send() == [bytes.fromhex("D80101")]


def test_hls_without_challenge_in_aare_is_a_remote_error() -> None:
    settings = ClientSettings(
        mechanism=MechanismName.HIGH, hls=HlsSecret(secret=EK), challenge_source=lambda: CTOS
    )
    client = ClientAssociation(settings)
    client.associate()
    accepted_without_hls = bytes.fromhex(
        "6129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F0400001E1D04C80007"
    )
    with pytest.raises(RemoteProtocolError, match="no StoC challenge"):
        client.receive_apdu(accepted_without_hls)
    assert client.state is AssociationState.ERROR


# -- ciphered context ------------------------------------------------------------------


def _ciphered_pair(**kw: object) -> Pair:
    conformance = Conformance(0x001E1D | Conformance.GENERAL_BLOCK_TRANSFER)
    return Pair(
        ClientSettings(
            application_context=ApplicationContextName.LN_CIPHERED,
            security=_ctx(CLIENT_ST),
            conformance=conformance,
            **kw,  # type: ignore[arg-type]
        ),
        AssociationPolicy(
            application_context=ApplicationContextName.LN_CIPHERED,
            security=_ctx(SERVER_ST),
            conformance=conformance,
            max_receive_pdu_size=128,
        ),
        _objects(),
    )


@pytest.mark.parametrize("gbt", [False, True])
def test_ciphered_association_services_and_protected_release(gbt: bool) -> None:
    p = _ciphered_pair(use_general_block_transfer=gbt, max_receive_pdu_size=128, gbt_window=3)
    event = p.associate()
    assert isinstance(event, AssociationAccepted)
    assert event.server_system_title == SERVER_ST
    assert event.client_system_title == CLIENT_ST
    aarq, aare = p.wire[0][1], p.wire[1][1]
    assert b"\xbe" in aarq and aarq[aarq.index(bytes.fromhex("A60A0408")) + 4 :][:8] == CLIENT_ST
    # user-information (BE len 04 len ...) holds a glo-initiateRequest / -Response
    assert aarq[aarq.index(b"\xbe") + 4] == 0x21
    assert bytes.fromhex("A40A0408") + SERVER_ST in aare
    assert aare[aare.index(b"\xbe") + 4] == 0x28
    p.wire.clear()
    p.client.set(ENERGY, BIG)
    p.pump()
    assert p.one_event() == SetCompleted(invoke_id=1, results=(DataAccessResult.SUCCESS,))
    p.client.get(ENERGY)
    p.pump()
    assert p.one_event() == GetCompleted(invoke_id=2, results=(BIG,))
    assert all(len(apdu) <= 128 for _, apdu in p.wire)
    first = {apdu[0] for _, apdu in p.wire}
    assert first == ({0xE0} if gbt else {0xC9, 0xCD, 0xC8, 0xCC})
    assert bytes(BIG[:64]) not in b"".join(apdu for _, apdu in p.wire)
    p.client.release(protected=True)
    p.pump()
    assert isinstance(p.one_event(), Released)
    assert p.wire[-1][1][:1] == b"\x63" and bytes.fromhex("BE") in p.wire[-1][1]


@pytest.mark.parametrize(
    ("title", "diagnostic"),
    [
        (None, AcseServiceUserDiagnostic.CALLING_AP_TITLE_NOT_RECOGNIZED),
        (CLIENT_ST, AcseServiceUserDiagnostic.NO_REASON_GIVEN),
    ],
)
def test_ciphered_server_rejects_plain_initiate_request(
    title: bytes | None, diagnostic: AcseServiceUserDiagnostic
) -> None:
    p = _ciphered_pair()
    aarq = AARQ(
        application_context_name=ApplicationContextName.LN_CIPHERED,
        calling_ap_title=title,
        user_information=InitiateRequest(proposed_conformance=Conformance.GET).to_bytes(),
    )
    p.server.receive_apdu(aarq.to_bytes())
    events = p.server_events()
    assert len(events) == 1 and isinstance(events[0], AssociationRejected)
    assert events[0].result is AssociationResult.REJECTED_PERMANENT
    assert events[0].diagnostic is diagnostic
    p.client.associate()
    p.client.data_to_send()
    p.client.receive_apdu(p.server.data_to_send()[0])
    rejected = p.one_event()
    assert isinstance(rejected, AssociationRejected)
    if title is not None:
        assert rejected.initiate_error is not None
        assert rejected.initiate_error.error is ApplicationReferenceError.DECIPHERING_ERROR


def test_tampered_ciphered_response_is_a_security_error() -> None:
    p = _ciphered_pair()
    p.associate()
    p.client.get(ENERGY)
    p.server.receive_apdu(p.client.data_to_send()[0])
    response = bytearray(p.server.data_to_send()[0])
    response[-1] ^= 0x01
    with pytest.raises(SecurityError):
        p.client.receive_apdu(bytes(response))
    assert p.client.state is AssociationState.ERROR


def test_tampered_ciphered_request_gets_deciphering_error() -> None:
    p = _ciphered_pair()
    p.associate()
    p.client.get(ENERGY)
    request = bytearray(p.client.data_to_send()[0])
    request[-1] ^= 0x01
    p.server.receive_apdu(bytes(request))
    assert p.server.data_to_send() == [bytes.fromhex("D80105")]
    assert p.server.state is AssociationState.ASSOCIATED


def test_plain_apdus_are_refused_inside_a_ciphered_association() -> None:
    p = _ciphered_pair()
    p.associate()
    p.server.receive_apdu(GetRequestNormal(attribute_descriptor=ENERGY).to_bytes())
    assert p.server.data_to_send() == [bytes.fromhex("D80105")]
    p.client.get(ENERGY)
    p.client.data_to_send()
    forged = GetResponseNormal(result=DoubleLongUnsigned(1)).to_bytes()
    with pytest.raises(SecurityError, match="unprotected APDU 0xC4"):
        p.client.receive_apdu(forged)
    assert p.client.state is AssociationState.ERROR


def test_replayed_request_gets_invocation_counter_error_with_expected_counter() -> None:
    p = _ciphered_pair()
    p.associate()
    p.client.get(ENERGY)
    request = p.client.data_to_send()[0]
    p.server.receive_apdu(request)
    p.client.receive_apdu(p.server.data_to_send()[0])
    p.server.receive_apdu(request)  # the same APDU again: a replay
    reply = p.server.data_to_send()
    used = int.from_bytes(request[3:7], "big")  # C8 len SC IC
    assert reply == [bytes.fromhex("D80106") + (used + 1).to_bytes(4, "big")]


def test_hls_pass_3_and_4_through_general_block_transfer() -> None:
    conformance = Conformance(0x001E1D | Conformance.GENERAL_BLOCK_TRANSFER)
    p = Pair(
        ClientSettings(
            mechanism=MechanismName.HIGH_GMAC,
            hls=HlsGmac(),
            security=_ctx(CLIENT_ST),
            conformance=conformance,
            use_general_block_transfer=True,
        ),
        AssociationPolicy(
            mechanism=MechanismName.HIGH_GMAC,
            hls=HlsGmac(),
            security=_ctx(SERVER_ST),
            conformance=conformance,
        ),
        _objects(),
    )
    assert isinstance(p.associate(), AssociationAccepted)
    assert p.wire[2][1][0] == p.wire[3][1][0] == 0xE0  # pass 3 and 4 went as GBT
    p.client.get(ENERGY)
    p.pump()
    assert p.one_event() == GetCompleted(invoke_id=2, results=(DoubleLongUnsigned(42),))
