"""Dedicated keys (Green Book 9.2.7.2.4.2): the client proposes one in its glo-ciphered
InitiateRequest, the server installs it, and after the AARE both sides protect service
APDUs with the ded- forms; the AARQ, AARE, RLRQ and RLRE stay glo-ciphered."""

from __future__ import annotations

import random

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from gurux_dlms.AesGcmParameter import AesGcmParameter
from gurux_dlms.GXByteBuffer import GXByteBuffer
from gurux_dlms.GXDLMSChippering import GXDLMSChippering
from gurux_dlms.GXDLMSSettings import GXDLMSSettings
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import (
    AARE,
    AARQ,
    ActionResult,
    ApplicationContextName,
    AssociationResult,
    ConfirmedServiceError,
    Conformance,
    CosemAttributeDescriptor,
    CosemMethodDescriptor,
    DataAccessResult,
    GeneralBlockTransfer,
    GetRequestNormal,
    GetResponseNormal,
    InitiateError,
    InitiateRequest,
    InvokeIdAndPriority,
    MechanismName,
    ServiceErrorKind,
    decode_apdu,
)
from dlmskit.association import (
    DEFAULT_SN_CONFORMANCE,
    ActionCompleted,
    AssociationAccepted,
    AssociationPolicy,
    AssociationRejected,
    AssociationState,
    AuthenticationFailed,
    ClientAssociation,
    ClientSettings,
    Event,
    ExceptionReceived,
    GetCompleted,
    MemoryObjectTree,
    NeedData,
    NotificationReceived,
    ReadCompleted,
    Released,
    RequestContext,
    ServerAssociation,
    SetCompleted,
    ShortNameEntry,
    ShortNameTable,
)
from dlmskit.axdr import Data, DoubleLongUnsigned, Unsigned
from dlmskit.errors import DlmsError, LocalProtocolError, SecurityError
from dlmskit.security import (
    CipheringForm,
    HlsEcdsa,
    HlsGmac,
    HlsMd5,
    HlsSecret,
    HlsSha1,
    HlsSha256,
    KeyId,
    SecurityContext,
    SecuritySuite,
)
from obis import ObisCode

CLIENT_ST = bytes.fromhex("4D4D4D0000000001")
SERVER_ST = bytes.fromhex("4D4D4D0000BC614E")
EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
DK = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
ENERGY = CosemAttributeDescriptor(
    class_id=3, instance_id=ObisCode(1, 0, 1, 8, 0, 255), attribute_id=2
)
LIMIT = CosemAttributeDescriptor(
    class_id=1, instance_id=ObisCode(0, 0, 96, 1, 0, 255), attribute_id=2
)
SCRIPT = CosemMethodDescriptor(class_id=9, instance_id=ObisCode(0, 0, 10, 0, 0, 255), method_id=1)

_CLIENT_ECDSA = ec.derive_private_key(0xC1, ec.SECP256R1())
_SERVER_ECDSA = ec.derive_private_key(0x5E, ec.SECP256R1())
_SUITE_0 = SecuritySuite.AES_GCM_128
_SUITE_1 = SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256

# (mechanism, what both sides hold, suite)
MECHANISMS: list[tuple[MechanismName, dict[str, object], SecuritySuite]] = [
    (MechanismName.LOWEST, {}, _SUITE_0),
    (MechanismName.LOW, {"password": b"12345678"}, _SUITE_0),
    (MechanismName.HIGH, {"hls": HlsSecret(secret=EK)}, _SUITE_0),
    (MechanismName.HIGH_MD5, {"hls": HlsMd5(secret=b"s")}, _SUITE_0),
    (MechanismName.HIGH_SHA1, {"hls": HlsSha1(secret=b"s")}, _SUITE_0),
    (MechanismName.HIGH_GMAC, {"hls": HlsGmac()}, _SUITE_0),
    (MechanismName.HIGH_SHA256, {"hls": HlsSha256(secret=b"s")}, _SUITE_0),
    (MechanismName.HIGH_ECDSA, {"hls": HlsEcdsa()}, _SUITE_1),
]


def _context(title: bytes, suite: SecuritySuite = _SUITE_0) -> SecurityContext:
    own, peer = (
        (_CLIENT_ECDSA, _SERVER_ECDSA) if title == CLIENT_ST else (_SERVER_ECDSA, _CLIENT_ECDSA)
    )
    return SecurityContext(
        system_title=title,
        suite=suite,
        global_unicast_key=EK,
        authentication_key=AK,
        signing_key=own,
        peer_signing_key=peer.public_key(),
    )


def _echo(ctx: RequestContext, parameters: Data | None) -> tuple[ActionResult, Data | None]:
    return ActionResult.SUCCESS, parameters


def _objects() -> MemoryObjectTree:
    return MemoryObjectTree(
        {
            (3, ENERGY.instance_id, 2): DoubleLongUnsigned(42),
            (1, LIMIT.instance_id, 2): Unsigned(1),
        },
        methods={(9, SCRIPT.instance_id, 1): _echo},
    )


class Link:
    """A client and a server machine back to back, with the APDUs each way recorded."""

    def __init__(self, settings: ClientSettings, policy: AssociationPolicy) -> None:
        self.client = ClientAssociation(settings)
        self.server = ServerAssociation(policy, _objects())
        self.c2s: list[bytes] = []
        self.s2c: list[bytes] = []

    def pump(self) -> tuple[list[bytes], list[bytes]]:
        """Move APDUs until both sides are quiet; what went each way in this call."""
        c2s_all: list[bytes] = []
        s2c_all: list[bytes] = []
        for _ in range(16):
            c2s = self.client.data_to_send()
            for apdu in c2s:
                self.server.receive_apdu(apdu)
            s2c = self.server.data_to_send()
            for apdu in s2c:
                self.client.receive_apdu(apdu)
            c2s_all += c2s
            s2c_all += s2c
            if not c2s and not s2c:
                break
        self.c2s += c2s_all
        self.s2c += s2c_all
        return c2s_all, s2c_all

    def events(self) -> list[Event]:
        out: list[Event] = []
        while True:
            event = self.client.next_event()
            if isinstance(event, NeedData):
                return out
            out.append(event)


def _link(
    mechanism: MechanismName = MechanismName.LOWEST,
    holds: dict[str, object] | None = None,
    suite: SecuritySuite = _SUITE_0,
    **client: object,
) -> tuple[Link, SecurityContext, SecurityContext]:
    client_ctx, server_ctx = _context(CLIENT_ST, suite), _context(SERVER_ST, suite)
    holds = holds or {}
    settings = ClientSettings(
        application_context=ApplicationContextName.LN_CIPHERED,
        mechanism=mechanism,
        security=client_ctx,
        **holds,  # type: ignore[arg-type]
        **client,  # type: ignore[arg-type]
    )
    policy = AssociationPolicy(
        application_context=ApplicationContextName.LN_CIPHERED,
        mechanism=mechanism,
        security=server_ctx,
        **holds,  # type: ignore[arg-type]
    )
    return Link(settings, policy), client_ctx, server_ctx


def _proposed_initiate(aarq: bytes, suite: SecuritySuite = _SUITE_0) -> InitiateRequest:
    """The InitiateRequest of an AARQ, deciphered by an independent server context."""
    user = AARQ.from_bytes(aarq).user_information
    assert user is not None and user[0] == 0x21  # glo-initiate-request
    reader = _context(SERVER_ST, suite)
    reader.peer_system_title = CLIENT_ST
    return InitiateRequest.from_bytes(reader.unprotect(user))


@pytest.mark.parametrize("dedicated", ["none", "fixed", "fresh"])
@pytest.mark.parametrize(
    ("mechanism", "holds", "suite"),
    MECHANISMS,
    ids=[f"{int(m)}-{m.name}" for m, _, _ in MECHANISMS],
)
def test_every_mechanism_associates_with_and_without_a_dedicated_key(
    mechanism: MechanismName, holds: dict[str, object], suite: SecuritySuite, dedicated: str
) -> None:
    length = 16
    made: list[int] = []
    rnd = random.Random(int(mechanism))
    expected_fresh = random.Random(int(mechanism)).randbytes(length)

    def source(n: int) -> bytes:
        made.append(n)
        return rnd.randbytes(n)

    extra: dict[str, object] = {}
    if dedicated == "fixed":
        extra["dedicated_key"] = DK
    elif dedicated == "fresh":
        extra["dedicated_key_source"] = source
    link, client_ctx, server_ctx = _link(mechanism, holds, suite, **extra)
    link.client.associate()
    c2s, s2c = link.pump()
    accepted = link.events()
    assert len(accepted) == 1 and isinstance(accepted[0], AssociationAccepted)
    assert accepted[0].mechanism is mechanism
    assert link.server.state is AssociationState.ASSOCIATED

    # the AARQ and AARE stay glo-ciphered; the key travels inside the InitiateRequest
    proposed = _proposed_initiate(c2s[0], suite).dedicated_key
    aare_user = AARE.from_bytes(s2c[0]).user_information
    assert aare_user is not None and aare_user[0] == 0x28  # glo-initiate-response
    if dedicated == "none":
        assert proposed is None
        assert not server_ctx.has_key(KeyId.DEDICATED)
    else:
        assert proposed == (DK if dedicated == "fixed" else expected_fresh)
        assert made == ([length] if dedicated == "fresh" else [])
        assert server_ctx.has_key(KeyId.DEDICATED) and client_ctx.has_key(KeyId.DEDICATED)

    # HLS pass 3 and 4 come after the AARE: ded- forms already
    action_tag, response_tag = (0xD3, 0xD7) if dedicated != "none" else (0xCB, 0xCF)
    if mechanism >= MechanismName.HIGH:
        assert [a[0] for a in c2s[1:]] == [action_tag]
        assert [a[0] for a in s2c[1:]] == [response_tag]
    else:
        assert len(c2s) == 1 and len(s2c) == 1

    link.client.get(ENERGY)
    c2s, s2c = link.pump()
    get_tag, get_response_tag = (0xD0, 0xD4) if dedicated != "none" else (0xC8, 0xCC)
    assert [a[0] for a in c2s] == [get_tag] and [a[0] for a in s2c] == [get_response_tag]
    (completed,) = link.events()
    assert isinstance(completed, GetCompleted) and completed.results == (DoubleLongUnsigned(42),)

    # a protected release is glo-ciphered, and the dedicated key ends with the association
    link.client.release(protected=True)
    c2s, s2c = link.pump()
    assert isinstance(link.events()[0], Released)
    assert not client_ctx.has_key(KeyId.DEDICATED)
    assert not server_ctx.has_key(KeyId.DEDICATED)


def test_get_set_action_travel_in_ded_forms_and_gurux_opens_them_with_the_dedicated_key() -> None:
    link, _, _ = _link(dedicated_key=DK)
    link.client.associate()
    link.pump()
    link.events()
    link.client.get(ENERGY)
    get_wire = link.pump()
    link.client.set(LIMIT, Unsigned(7))
    set_wire = link.pump()
    link.client.action(SCRIPT, Unsigned(9))
    action_wire = link.pump()
    # ded-get/set/action-request and their ded- responses (dlms-facts 1.1)
    assert [get_wire[0][0][0], get_wire[1][0][0]] == [0xD0, 0xD4]
    assert [set_wire[0][0][0], set_wire[1][0][0]] == [0xD1, 0xD5]
    assert [action_wire[0][0][0], action_wire[1][0][0]] == [0xD3, 0xD7]
    events = link.events()
    assert isinstance(events[0], GetCompleted) and events[0].results == (DoubleLongUnsigned(42),)
    assert isinstance(events[1], SetCompleted) and events[1].results == (DataAccessResult.SUCCESS,)
    assert isinstance(events[2], ActionCompleted) and events[2].return_data == Unsigned(9)
    assert link.server.objects.values[(1, LIMIT.instance_id, 2)] == Unsigned(7)  # type: ignore[attr-defined]

    # an independent implementation opens them with the dedicated key, not the global one
    for wire, sender in (
        (get_wire[0][0], CLIENT_ST),
        (get_wire[1][0], SERVER_ST),
        (set_wire[0][0], CLIENT_ST),
        (action_wire[1][0], SERVER_ST),
    ):
        settings = GXDLMSSettings(False, None)
        p = AesGcmParameter(0, sender, DK, AK)
        p.settings = settings
        plain = bytes(GXDLMSChippering.decryptAesGcm(settings, p, GXByteBuffer(wire)))
        assert plain[0] == {0xD0: 0xC0, 0xD4: 0xC4, 0xD1: 0xC1, 0xD7: 0xC7}[wire[0]]
        opened = decode_apdu(plain)
        if isinstance(opened, GetRequestNormal):
            assert opened.attribute_descriptor == ENERGY
        # gurux does not verify the tag here: with the global key it yields other bytes
        p = AesGcmParameter(0, sender, EK, AK)
        p.settings = settings
        assert bytes(GXDLMSChippering.decryptAesGcm(settings, p, GXByteBuffer(wire))) != plain


def test_server_answers_a_glo_request_in_glo_form_inside_a_dedicated_association() -> None:
    link, client_ctx, _ = _link(dedicated_key=DK)
    link.client.associate()
    link.pump()
    link.events()
    request = bytes.fromhex("C001C100030100010800FF0200")
    link.server.receive_apdu(client_ctx.protect(request))
    (answer,) = link.server.data_to_send()
    assert answer[0] == 0xCC
    assert GetResponseNormal.from_bytes(client_ctx.unprotect(answer)).result == DoubleLongUnsigned(
        42
    )


def test_server_with_another_dedicated_key_refuses_the_request_cleanly() -> None:
    link, _, server_ctx = _link(dedicated_key=DK)
    link.client.associate()
    link.pump()
    link.events()
    server_ctx.set_dedicated_key(bytes(16))  # the server holds some other dedicated key
    link.client.get(ENERGY)
    c2s, s2c = link.pump()
    assert c2s[0][0] == 0xD0
    assert s2c == [bytes.fromhex("D80105")]  # service-not-allowed, deciphering-error
    (event,) = link.events()
    assert isinstance(event, ExceptionReceived)
    assert event.exception.service_error is ServiceErrorKind.DECIPHERING_ERROR
    assert link.server.state is AssociationState.ASSOCIATED


def test_client_refuses_a_response_under_another_dedicated_key() -> None:
    link, _, _ = _link(dedicated_key=DK)
    link.client.associate()
    link.pump()
    link.events()
    link.client.get(ENERGY)
    link.client.data_to_send()
    forger = _context(SERVER_ST)
    forger.set_dedicated_key(bytes(range(16)))
    response = GetResponseNormal(
        invoke_id_and_priority=InvokeIdAndPriority(invoke_id=2), result=DoubleLongUnsigned(1)
    ).to_bytes()
    forged = forger.protect(response, form=CipheringForm.DED)
    assert forged[0] == 0xD4
    with pytest.raises(SecurityError):
        link.client.receive_apdu(forged)
    assert link.client.state is AssociationState.ERROR


def _aarq_with_key(key: bytes, *, ciphered: bool = True) -> bytes:
    initiate = InitiateRequest(
        dedicated_key=key,
        proposed_conformance=ClientSettings().conformance,
        client_max_receive_pdu_size=0xFFFF,
    ).to_bytes()
    ctx = _context(CLIENT_ST)
    return AARQ(
        application_context_name=(
            ApplicationContextName.LN_CIPHERED if ciphered else ApplicationContextName.LN
        ),
        calling_ap_title=CLIENT_ST if ciphered else None,
        user_information=ctx.protect(initiate) if ciphered else initiate,
    ).to_bytes()


@pytest.mark.parametrize("length", [15, 17, 32])
def test_server_rejects_a_dedicated_key_of_the_wrong_length(length: int) -> None:
    server_ctx = _context(SERVER_ST)
    server = ServerAssociation(
        AssociationPolicy(
            application_context=ApplicationContextName.LN_CIPHERED, security=server_ctx
        ),
        _objects(),
    )
    server.receive_apdu(_aarq_with_key(bytes(range(length))))
    (wire,) = server.data_to_send()
    aare = AARE.from_bytes(wire)
    assert aare.result is AssociationResult.REJECTED_PERMANENT
    assert aare.user_information is not None
    error = ConfirmedServiceError.from_bytes(aare.user_information)
    assert error.error is InitiateError.OTHER
    assert isinstance(server.next_event(), AssociationRejected)
    assert server.state is AssociationState.IDLE and not server_ctx.has_key(KeyId.DEDICATED)


def test_server_rejects_a_dedicated_key_sent_in_clear() -> None:
    server = ServerAssociation(AssociationPolicy(), _objects())
    server.receive_apdu(_aarq_with_key(DK, ciphered=False))
    aare = AARE.from_bytes(server.data_to_send()[0])
    assert aare.result is AssociationResult.REJECTED_PERMANENT
    assert server.state is AssociationState.IDLE


def test_a_fresh_key_for_every_association_and_none_after_a_plain_reassociation() -> None:
    keys = iter([bytes([1]) * 16, bytes([2]) * 16])
    link, client_ctx, server_ctx = _link(dedicated_key_source=lambda n: next(keys))
    proposals = []
    for _ in range(2):
        link.client.associate()
        c2s, _ = link.pump()
        proposals.append(_proposed_initiate(c2s[0]).dedicated_key)
        link.client.get(ENERGY)
        assert link.pump()[0][0][0] == 0xD0
        link.client.release()
        link.pump()
        link.events()
    assert proposals == [bytes([1]) * 16, bytes([2]) * 16]
    # the same server connection, a client that proposes no dedicated key: glo- again
    plain = ClientAssociation(
        ClientSettings(application_context=ApplicationContextName.LN_CIPHERED, security=client_ctx)
    )
    link.client = plain
    plain.associate()
    link.pump()
    assert not server_ctx.has_key(KeyId.DEDICATED)
    plain.get(ENERGY)
    c2s, s2c = link.pump()
    assert c2s[0][0] == 0xC8 and s2c[0][0] == 0xCC


def test_a_rejected_association_drops_the_proposed_key() -> None:
    link, client_ctx, server_ctx = _link(dedicated_key=DK)
    link.server.policy = AssociationPolicy(
        application_context=ApplicationContextName.LN_CIPHERED,
        mechanism=MechanismName.LOW,
        password=b"other",
        security=server_ctx,
    )
    link.client.associate()
    link.pump()
    (event,) = link.events()
    assert isinstance(event, AssociationRejected)
    assert not client_ctx.has_key(KeyId.DEDICATED) and not server_ctx.has_key(KeyId.DEDICATED)


def test_settings_refuse_a_dedicated_key_that_cannot_be_used() -> None:
    ctx = _context(CLIENT_ST)
    ciphered = ApplicationContextName.LN_CIPHERED
    with pytest.raises(LocalProtocolError):
        ClientSettings(security=ctx, dedicated_key=DK)  # plain context
    with pytest.raises(LocalProtocolError):
        ClientSettings(application_context=ciphered, security=ctx, dedicated_key=DK[:15])
    with pytest.raises(LocalProtocolError):
        ClientSettings(
            application_context=ciphered,
            security=ctx,
            dedicated_key=DK,
            dedicated_key_source=lambda n: bytes(n),
        )
    settings = ClientSettings(
        application_context=ciphered, security=ctx, dedicated_key_source=lambda n: bytes(n - 1)
    )
    with pytest.raises(LocalProtocolError):
        ClientAssociation(settings).associate()
    fixed = ClientSettings(application_context=ciphered, security=ctx, dedicated_key=DK)
    assert DK.hex() not in repr(fixed) and DK.hex().upper() not in repr(fixed)
    with pytest.raises(LocalProtocolError):
        ClientAssociation(fixed).assume_established(server_system_title=SERVER_ST)


NOTIFY = Conformance(0x001E1D | Conformance.DATA_NOTIFICATION | Conformance.EVENT_NOTIFICATION)


def test_notifications_inside_a_dedicated_association_use_the_dedicated_key() -> None:
    link, _, _ = _link(dedicated_key=DK, conformance=NOTIFY)
    link.server.policy = attrs.evolve(link.server.policy, conformance=NOTIFY)
    link.client.associate()
    link.pump()
    link.events()
    link.server.data_notification(Unsigned(5))
    link.server.event_notification(ENERGY, DoubleLongUnsigned(7))
    wire = link.server.data_to_send()
    # general-ded-ciphering and ded-event-notification-request
    assert [apdu[0] for apdu in wire] == [0xDC, 0xD2]
    for apdu in wire:
        link.client.receive_apdu(apdu)
    events = link.events()
    assert [type(e) for e in events] == [NotificationReceived, NotificationReceived]
    first, second = events
    assert isinstance(first, NotificationReceived) and isinstance(second, NotificationReceived)
    assert first.notification.to_bytes()[-2:] == b"\x11\x05"  # unsigned 5
    assert second.notification.to_bytes()[-5:] == b"\x06\x00\x00\x00\x07"


def test_general_block_transfer_carries_ded_apdus() -> None:
    gbt = Conformance(0x001E1D | Conformance.GENERAL_BLOCK_TRANSFER)
    link, _, _ = _link(dedicated_key=DK, conformance=gbt, use_general_block_transfer=True)
    link.server.policy = attrs.evolve(link.server.policy, conformance=gbt)
    link.client.associate()
    link.pump()
    link.events()
    link.client.get(ENERGY)
    c2s, s2c = link.pump()
    assert c2s[0][0] == 0xE0 and GeneralBlockTransfer.from_bytes(c2s[0]).block_data[0] == 0xD0
    assert s2c[0][0] == 0xE0 and GeneralBlockTransfer.from_bytes(s2c[0]).block_data[0] == 0xD4
    (completed,) = link.events()
    assert isinstance(completed, GetCompleted) and completed.results == (DoubleLongUnsigned(42),)


def test_a_repeated_request_is_protected_afresh_with_the_dedicated_key() -> None:
    link, _, _ = _link(dedicated_key=DK)
    link.client.associate()
    link.pump()
    link.events()
    link.client.get(ENERGY)
    (lost,) = link.client.data_to_send()
    assert link.client.repeat_request()
    (again,) = link.client.data_to_send()
    assert lost[0] == again[0] == 0xD0 and lost != again  # a new invocation counter
    link.server.receive_apdu(again)
    for apdu in link.server.data_to_send():
        assert apdu[0] == 0xD4
        link.client.receive_apdu(apdu)
    (completed,) = link.events()
    assert isinstance(completed, GetCompleted)


SN_TABLE = ShortNameTable(
    [ShortNameEntry(base_name=0x2000, class_id=3, logical_name=ENERGY.instance_id)]
)


def test_short_name_services_use_the_ded_forms_too() -> None:
    client_ctx, server_ctx = _context(CLIENT_ST), _context(SERVER_ST)
    client = ClientAssociation(
        ClientSettings(
            application_context=ApplicationContextName.SN_CIPHERED,
            security=client_ctx,
            conformance=DEFAULT_SN_CONFORMANCE,
            dedicated_key=DK,
        )
    )
    server = ServerAssociation(
        AssociationPolicy(
            application_context=ApplicationContextName.SN_CIPHERED,
            security=server_ctx,
            conformance=DEFAULT_SN_CONFORMANCE,
        ),
        _objects(),
        short_names=SN_TABLE,
    )
    link = Link(client.settings, server.policy)
    link.client, link.server = client, server
    client.associate()
    link.pump()
    assert isinstance(link.events()[0], AssociationAccepted)
    client.read([0x2008])
    c2s, s2c = link.pump()
    # ded-read-request and ded-read-response (dlms-facts 1.1)
    assert [c2s[0][0], s2c[0][0]] == [0x45, 0x4C]
    (completed,) = link.events()
    assert isinstance(completed, ReadCompleted)
    assert completed.results == (DoubleLongUnsigned(42),)


def test_failed_hls_drops_the_dedicated_key_on_both_sides() -> None:
    link, client_ctx, server_ctx = _link(
        MechanismName.HIGH, {"hls": HlsSecret(secret=EK)}, dedicated_key=DK
    )
    link.server.policy = attrs.evolve(link.server.policy, hls=HlsSecret(secret=AK))
    link.client.associate()
    c2s, _ = link.pump()
    assert c2s[1][0] == 0xD3  # pass 3 went out ded-ciphered
    assert isinstance(link.events()[0], AuthenticationFailed)
    assert link.client.state is AssociationState.IDLE and link.server.state is AssociationState.IDLE
    assert not client_ctx.has_key(KeyId.DEDICATED) and not server_ctx.has_key(KeyId.DEDICATED)


def _associated() -> Link:
    link, _, _ = _link(dedicated_key=DK)
    link.client.associate()
    link.pump()
    link.events()
    return link


_DED_AND_GLO_TAGS = [0x45, 0x4C, 0xC8, 0xCC, 0xD0, 0xD1, 0xD3, 0xD4, 0xD5, 0xD7, 0xDB, 0xDC]


@settings(max_examples=120, deadline=None)
@given(
    garbage=st.sampled_from(_DED_AND_GLO_TAGS).flatmap(
        lambda tag: st.binary(max_size=60).map(lambda rest: bytes([tag]) + rest)
    )
)
def test_ciphered_garbage_in_a_dedicated_association(garbage: bytes) -> None:
    link = _associated()
    link.server.receive_apdu(garbage)
    assert all(link.server.data_to_send())
    assert link.server.state is AssociationState.ASSOCIATED
    link.client.get(ENERGY)
    link.client.data_to_send()
    try:
        link.client.receive_apdu(garbage)
    except DlmsError:
        assert link.client.state is AssociationState.ERROR


def test_truncated_aarq_and_ded_apdus_at_every_byte_position() -> None:
    link = _associated()
    aarq = link.c2s[0]
    link.client.get(ENERGY)
    (request,) = link.client.data_to_send()
    link.server.receive_apdu(request)
    (response,) = link.server.data_to_send()
    for cut in range(len(aarq)):
        server = ServerAssociation(
            AssociationPolicy(
                application_context=ApplicationContextName.LN_CIPHERED,
                security=_context(SERVER_ST),
            ),
            _objects(),
        )
        server.receive_apdu(aarq[:cut])
        (answer,) = server.data_to_send()
        assert answer[0] in (0x61, 0xD8)  # a rejecting AARE or an exception-response
        assert server.state is AssociationState.IDLE
    for cut in range(len(request)):
        fresh = _associated()
        fresh.server.receive_apdu(request[:cut])
        (answer,) = fresh.server.data_to_send()
        assert answer[0] == 0xD8
    for cut in range(len(response)):
        fresh = _associated()
        fresh.client.get(ENERGY)
        fresh.client.data_to_send()
        with pytest.raises(DlmsError):
            fresh.client.receive_apdu(response[:cut])
