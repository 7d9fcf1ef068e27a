"""AARQ / AARE / RLRQ / RLRE: golden vectors, gurux-dlms as an oracle, round trips, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import (
    AARE,
    AARQ,
    RLRE,
    RLRQ,
    AcseServiceProviderDiagnostic,
    AcseServiceUserDiagnostic,
    ApplicationContextName,
    AssociationResult,
    AuthenticationValue,
    AuthenticationValueForm,
    BerBitString,
    ConfirmedServiceError,
    ConfirmedServiceErrorChoice,
    Conformance,
    InitiateError,
    InitiateRequest,
    InitiateResponse,
    MechanismName,
    ReleaseRequestReason,
    ReleaseResponseReason,
)
from dlmskit.errors import DecodeError, LocalProtocolError

AARQ_LN_NO_AUTH = bytes.fromhex("601DA109060760857405080101BE10040E01000000065F1F0400001E1DFFFF")
AARE_ACCEPTED = bytes.fromhex(
    "6129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F0400001E1D04C80007"
)
AARE_REJECTED = bytes.fromhex("611FA109060760857405080101A203020101A305A103020101BE0604040E010601")
AARE_HLS_GMAC = bytes.fromhex(
    "6142A109060760857405080101A203020100A305A10302010E88020780890760857405080205"
    "AA0A8008503677524A323146BE10040E0800065F1F040000501F01F40007"
)
AARQ_GREEN_BOOK_CIPHERED = bytes.fromhex(
    "6066A109060760857405080103A60A04084D4D4D0000BC614E8A0207808B0760857405080201"
    "AC0A80083132333435363738BE34043221303001234567801302FF8A7874133D414CED25B4"
    "2534D28DB0047720606B175BD52211BE6841DB204D39EE6FDB8E356855"
)
AUTH_BIT = BerBitString.from_bits([True])


# -- golden vectors (dlms-facts 1.5) ---------------------------------------------------------


def test_aarq_ln_no_authentication() -> None:
    aarq = AARQ.from_bytes(AARQ_LN_NO_AUTH)
    assert aarq.application_context_name is ApplicationContextName.LN
    assert aarq.mechanism_name is None
    assert aarq.calling_authentication_value is None
    assert aarq.calling_ap_title is None
    initiate = aarq.initiate_request()
    assert initiate == InitiateRequest(
        proposed_conformance=Conformance(0x001E1D), client_max_receive_pdu_size=0xFFFF
    )
    assert aarq.to_bytes() == AARQ_LN_NO_AUTH
    rebuilt = AARQ(
        application_context_name=ApplicationContextName.LN,
        user_information=InitiateRequest(
            proposed_conformance=Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ
            | Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE
            | Conformance.BLOCK_TRANSFER_WITH_ACTION
            | Conformance.MULTIPLE_REFERENCES
            | Conformance.GET
            | Conformance.SET
            | Conformance.SELECTIVE_ACCESS
            | Conformance.ACTION,
            client_max_receive_pdu_size=0xFFFF,
        ).to_bytes(),
    )
    assert rebuilt.to_bytes() == AARQ_LN_NO_AUTH


def test_aare_accepted() -> None:
    aare = AARE.from_bytes(AARE_ACCEPTED)
    assert aare.result is AssociationResult.ACCEPTED
    assert aare.result_source_diagnostic is AcseServiceUserDiagnostic.NULL
    assert aare.initiate_response() == InitiateResponse(
        negotiated_conformance=Conformance(0x001E1D),
        server_max_receive_pdu_size=0x04C8,
        vaa_name=0x0007,
    )
    assert aare.to_bytes() == AARE_ACCEPTED


def test_aare_rejected_with_initiate_error() -> None:
    aare = AARE.from_bytes(AARE_REJECTED)
    assert aare.result is AssociationResult.REJECTED_PERMANENT
    assert aare.result_source_diagnostic is AcseServiceUserDiagnostic.NO_REASON_GIVEN
    assert aare.initiate_response() == ConfirmedServiceError(
        service=ConfirmedServiceErrorChoice.INITIATE_ERROR,
        error=InitiateError.DLMS_VERSION_TOO_LOW,
    )
    assert aare.to_bytes() == AARE_REJECTED


def test_aare_hls_gmac_pass_2() -> None:
    aare = AARE.from_bytes(AARE_HLS_GMAC)
    assert aare.result is AssociationResult.ACCEPTED
    assert aare.result_source_diagnostic is AcseServiceUserDiagnostic.AUTHENTICATION_REQUIRED
    assert aare.responder_acse_requirements == AUTH_BIT
    assert aare.mechanism_name is MechanismName.HIGH_GMAC
    assert aare.responding_authentication_value == AuthenticationValue(
        form=AuthenticationValueForm.CHARSTRING, value=bytes.fromhex("503677524A323146")
    )
    response = aare.initiate_response()
    assert isinstance(response, InitiateResponse)
    assert response.server_max_receive_pdu_size == 500
    assert response.negotiated_conformance == Conformance(0x00501F)
    assert aare.to_bytes() == AARE_HLS_GMAC


def test_green_book_ciphered_aarq_keeps_user_information_raw() -> None:
    aarq = AARQ.from_bytes(AARQ_GREEN_BOOK_CIPHERED)
    assert aarq.application_context_name is ApplicationContextName.LN_CIPHERED
    assert aarq.calling_ap_title == bytes.fromhex("4D4D4D0000BC614E")
    assert aarq.sender_acse_requirements == AUTH_BIT
    assert aarq.mechanism_name is MechanismName.LOW
    assert aarq.calling_authentication_value == AuthenticationValue(value=b"12345678")
    assert aarq.user_information is not None
    assert aarq.user_information[0] == 0x21  # glo-initiateRequest
    assert len(aarq.user_information) == 0x32
    assert aarq.user_information[1] == 0x30  # glo-initiateRequest length: SC, IC, C, T
    assert aarq.initiate_request() is None
    assert aarq.to_bytes() == AARQ_GREEN_BOOK_CIPHERED


def test_password_is_not_in_repr() -> None:
    aarq = AARQ.from_bytes(AARQ_GREEN_BOOK_CIPHERED)
    assert "12345678" not in repr(aarq)
    assert "3132333435363738" not in repr(aarq)
    assert "8 octets hidden" in repr(aarq)


def test_release_vectors() -> None:
    assert RLRQ(reason=ReleaseRequestReason.NORMAL).to_bytes() == bytes.fromhex("6203800100")
    assert RLRQ.from_bytes(bytes.fromhex("6203800100")) == RLRQ(reason=ReleaseRequestReason.NORMAL)
    assert RLRE.from_bytes(bytes.fromhex("6303800100")) == RLRE(reason=ReleaseResponseReason.NORMAL)
    assert RLRQ.from_bytes(b"\x62\x00") == RLRQ()
    assert RLRE(reason=ReleaseResponseReason.USER_DEFINED).to_bytes() == bytes.fromhex("630380011E")
    protected = RLRQ(reason=ReleaseRequestReason.NORMAL, user_information=b"\x21\x03\x30\x01\x02")
    assert protected.to_bytes() == bytes.fromhex("620C800100BE07040521033001 02".replace(" ", ""))
    assert RLRQ.from_bytes(protected.to_bytes()) == protected


def test_diagnostic_choice_is_selected_by_enum_type() -> None:
    aare = AARE(
        application_context_name=ApplicationContextName.SN,
        result=AssociationResult.REJECTED_TRANSIENT,
        result_source_diagnostic=AcseServiceProviderDiagnostic.NO_COMMON_ACSE_VERSION,
    )
    wire = aare.to_bytes()
    assert wire == bytes.fromhex("6117A109060760857405080102A203020102A305A203020102")
    assert AARE.from_bytes(wire) == aare


def test_all_optional_fields_round_trip() -> None:
    aarq = AARQ(
        protocol_version=BerBitString.from_bits([True]),
        application_context_name=ApplicationContextName.SN_CIPHERED,
        called_ap_title=b"\x01" * 8,
        called_ae_qualifier=b"\x02\x03",
        called_ap_invocation_id=300,
        called_ae_invocation_id=-5,
        calling_ap_title=b"MMM\x00\x00\x00\x00\x01",
        calling_ae_qualifier=b"\x30" * 200,
        calling_ap_invocation_id=0,
        calling_ae_invocation_id=0x7F,
        sender_acse_requirements=AUTH_BIT,
        mechanism_name=MechanismName.HIGH_ECDSA,
        calling_authentication_value=AuthenticationValue(
            form=AuthenticationValueForm.BITSTRING, value=b"\x00\xaa"
        ),
        implementation_information=b"dlmskit",
        user_information=b"\x01\x00\x00\x00\x06\x5f\x1f\x04\x00\x00\x1e\x1d\x04\x00",
    )
    wire = aarq.to_bytes()
    assert wire[:3] == b"\x60\x82\x01"  # long-form length: the certificate is 200 octets
    assert AARQ.from_bytes(wire) == aarq
    assert AARQ.from_bytes(wire).to_bytes() == wire


def test_user_id_written_in_one_octet_re_encodes_identically() -> None:
    wire = bytes.fromhex("6010A109060760857405080101A903020180")
    aarq = AARQ.from_bytes(wire)
    assert aarq.calling_ae_invocation_id == -128
    assert aarq.to_bytes() == wire


def test_unknown_context_field_is_skipped() -> None:
    # application-context-name-list [13] is not modelled: skipped, not re-encoded.
    wire = bytes.fromhex("6010A109060760857405080101AD03060100")
    aarq = AARQ.from_bytes(wire)
    assert aarq == AARQ(application_context_name=ApplicationContextName.LN)


@pytest.mark.parametrize(
    ("hexstring", "reason"),
    [
        ("600BA10906076085740508010180", "octet after the declared length"),
        ("600BA109060760857405080105", "application context 5 is not a DLMS context"),
        ("6009A1070605608574050801", "OID too short"),
        ("600BA10906072A857405080101", "OID of another arc"),
        ("6000", "missing application-context-name"),
        ("6080", "indefinite length"),
        ("600DA109060760857405080101BE00", "user-information without OCTET STRING"),
        ("6010A109060760857405080101A103020100", "application-context-name repeated"),
        ("600EA109060760857405080101020100", "universal element in sequence"),
        ("600B8109060760857405080101", "context name in primitive form"),
        ("610BA109060760857405080101", "AARE without result"),
        ("601DA109060760857405080101BE10040E01000000065F1F0400001E1DFFFF00", "trailing octet"),
        ("6185FFFFFFFFFF", "length of five octets"),
        ("6184FFFFFFFF", "length beyond the input"),
    ],
)
def test_malformed_acse_is_a_decode_error(hexstring: str, reason: str) -> None:
    data = bytes.fromhex(hexstring)
    cls = {0x60: AARQ, 0x61: AARE}[data[0]]
    with pytest.raises(DecodeError):
        cls.from_bytes(data)


def test_fields_out_of_order_are_rejected() -> None:
    # calling-AP-title [6] before application-context-name [1].
    wire = bytes.fromhex("6017A60A04084D4D4D0000BC614EA109060760857405080101")
    with pytest.raises(DecodeError, match="out of order"):
        AARQ.from_bytes(wire)


def test_construction_is_validated() -> None:
    with pytest.raises(LocalProtocolError):
        AARQ(application_context_name=9)
    with pytest.raises(LocalProtocolError):
        AARQ(application_context_name=ApplicationContextName.LN, mechanism_name=8)
    with pytest.raises(LocalProtocolError):
        RLRQ(reason=2)
    with pytest.raises(LocalProtocolError):
        AuthenticationValue(form=4, value=b"")
    assert AARQ(application_context_name=1, mechanism_name=5).mechanism_name is (
        MechanismName.HIGH_GMAC
    )
    with pytest.raises(LocalProtocolError):
        AARE(
            application_context_name=ApplicationContextName.LN,
            result=AssociationResult.ACCEPTED,
            result_source_diagnostic=0,  # type: ignore[arg-type]
        )
    with pytest.raises(LocalProtocolError):
        AARQ(application_context_name=ApplicationContextName.LN, calling_ap_invocation_id=2**70)


# -- gurux-dlms as an oracle -----------------------------------------------------------------


def _from_gurux_conformance(value: object) -> Conformance:
    """gurux-dlms keeps ASN.1 conformance bit n at 1 << n; dlmskit keeps the wire order."""
    bits = int(value)  # type: ignore[call-overload]
    return Conformance.from_bit_numbers({n for n in range(24) if bits >> n & 1})


def _strip_wrapper(frames: list[bytes]) -> bytes:
    assert len(frames) == 1
    frame = bytes(frames[0])
    assert int.from_bytes(frame[6:8], "big") == len(frame) - 8
    return frame[8:]


@pytest.mark.parametrize("mechanism", list(MechanismName))
def test_gurux_aarq_for_every_mechanism(mechanism: MechanismName) -> None:
    from gurux_dlms.enums import Authentication, InterfaceType
    from gurux_dlms.secure import GXDLMSSecureClient

    client = GXDLMSSecureClient(
        True, 16, 1, Authentication(int(mechanism)), "12345678", InterfaceType.WRAPPER
    )
    system_title = bytes.fromhex("4D4D4D0000000001")
    client.ciphering.systemTitle = system_title
    client.settings.userId = 0x21
    wire = _strip_wrapper(client.aarqRequest())
    aarq = AARQ.from_bytes(wire)
    assert aarq.application_context_name is ApplicationContextName.LN
    assert aarq.calling_ae_invocation_id == 0x21
    if mechanism is MechanismName.LOWEST:
        assert aarq.mechanism_name is None
        assert aarq.sender_acse_requirements is None
        assert aarq.calling_authentication_value is None
    else:
        assert aarq.mechanism_name is mechanism
        assert aarq.sender_acse_requirements == AUTH_BIT
        assert aarq.calling_authentication_value is not None
        expected = b"12345678" if mechanism is MechanismName.LOW else client.settings.ctoSChallenge
        assert aarq.calling_authentication_value.value == bytes(expected)
    if mechanism >= MechanismName.HIGH_GMAC:
        assert aarq.calling_ap_title == system_title
    else:
        assert aarq.calling_ap_title is None
    initiate = aarq.initiate_request()
    assert initiate is not None
    assert initiate.proposed_conformance == _from_gurux_conformance(
        client.settings.proposedConformance
    )
    assert initiate.client_max_receive_pdu_size == client.settings.maxPduSize
    assert aarq.to_bytes() == wire


def test_gurux_ciphered_aarq() -> None:
    from gurux_dlms.enums import Authentication, InterfaceType, Security
    from gurux_dlms.secure import GXDLMSSecureClient

    client = GXDLMSSecureClient(True, 16, 1, Authentication.LOW, "12345678", InterfaceType.WRAPPER)
    client.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
    client.ciphering.systemTitle = bytes.fromhex("4D4D4D0000000001")
    wire = _strip_wrapper(client.aarqRequest())
    aarq = AARQ.from_bytes(wire)
    assert aarq.application_context_name is ApplicationContextName.LN_CIPHERED
    assert aarq.user_information is not None and aarq.user_information[0] == 0x21
    assert aarq.initiate_request() is None
    assert aarq.to_bytes() == wire


@pytest.mark.parametrize("mechanism", [MechanismName.LOWEST, MechanismName.LOW])
def test_gurux_server_aare(mechanism: MechanismName) -> None:
    from gurux_dlms._GXAPDU import _GXAPDU
    from gurux_dlms.enums import Authentication
    from gurux_dlms.GXByteBuffer import GXByteBuffer
    from gurux_dlms.GXDLMSSettings import GXDLMSSettings

    server = GXDLMSSettings(True, None)
    server.authentication = Authentication(int(mechanism))
    server.negotiatedConformance = server.proposedConformance
    buffer = GXByteBuffer()
    _GXAPDU.generateAARE(server, buffer, 0, 0, None, None, None)
    wire = bytes(buffer.array())
    aare = AARE.from_bytes(wire)
    assert aare.result is AssociationResult.ACCEPTED
    assert aare.result_source_diagnostic is AcseServiceUserDiagnostic.NULL
    response = aare.initiate_response()
    assert isinstance(response, InitiateResponse)
    assert response.negotiated_conformance == _from_gurux_conformance(server.negotiatedConformance)
    assert response.server_max_receive_pdu_size == server.maxPduSize
    assert response.vaa_name == 0x0007
    assert aare.to_bytes() == wire


@pytest.mark.parametrize("mechanism", [m for m in MechanismName if m >= MechanismName.HIGH])
def test_gurux_client_accepts_our_hls_aare(mechanism: MechanismName) -> None:
    from gurux_dlms.enums import Authentication, InterfaceType
    from gurux_dlms.GXByteBuffer import GXByteBuffer
    from gurux_dlms.secure import GXDLMSSecureClient

    client = GXDLMSSecureClient(
        True, 16, 1, Authentication(int(mechanism)), "12345678", InterfaceType.WRAPPER
    )
    client.ciphering.systemTitle = bytes.fromhex("4D4D4D0000000001")
    client.aarqRequest()
    stoc = bytes.fromhex("503677524A3231464B35366956616759")
    server_title = bytes.fromhex("4D4D4D0000BC614E")
    aare = AARE(
        application_context_name=ApplicationContextName.LN,
        result=AssociationResult.ACCEPTED,
        result_source_diagnostic=AcseServiceUserDiagnostic.AUTHENTICATION_REQUIRED,
        responding_ap_title=server_title,
        responder_acse_requirements=AUTH_BIT,
        mechanism_name=mechanism,
        responding_authentication_value=AuthenticationValue(value=stoc),
        user_information=InitiateResponse(
            negotiated_conformance=Conformance(0x00501F), server_max_receive_pdu_size=500
        ).to_bytes(),
    )
    client.parseAareResponse(GXByteBuffer(aare.to_bytes()))
    assert client.isAuthenticationRequired
    assert bytes(client.settings.stoCChallenge) == stoc
    assert bytes(client.settings.sourceSystemTitle) == server_title
    assert client.settings.maxPduSize == 500
    assert _from_gurux_conformance(client.settings.negotiatedConformance) == 0x00501F


# -- properties ------------------------------------------------------------------------------

_octets = st.binary(max_size=140)
_opt_octets = st.none() | _octets
_opt_int = st.none() | st.integers(-(2**63), 2**63 - 1)
_bits = st.none() | st.lists(st.booleans(), max_size=20).map(BerBitString.from_bits)
_auth = st.none() | st.builds(
    AuthenticationValue, form=st.sampled_from(AuthenticationValueForm), value=_octets
)

aarqs = st.builds(
    AARQ,
    protocol_version=_bits,
    application_context_name=st.sampled_from(ApplicationContextName),
    called_ap_title=_opt_octets,
    called_ae_qualifier=_opt_octets,
    called_ap_invocation_id=_opt_int,
    called_ae_invocation_id=_opt_int,
    calling_ap_title=_opt_octets,
    calling_ae_qualifier=_opt_octets,
    calling_ap_invocation_id=_opt_int,
    calling_ae_invocation_id=_opt_int,
    sender_acse_requirements=_bits,
    mechanism_name=st.none() | st.sampled_from(MechanismName),
    calling_authentication_value=_auth,
    implementation_information=_opt_octets,
    user_information=_opt_octets,
)
aares = st.builds(
    AARE,
    protocol_version=_bits,
    application_context_name=st.sampled_from(ApplicationContextName),
    result=st.sampled_from(AssociationResult),
    result_source_diagnostic=st.sampled_from(list(AcseServiceUserDiagnostic))
    | st.sampled_from(list(AcseServiceProviderDiagnostic)),
    responding_ap_title=_opt_octets,
    responding_ae_qualifier=_opt_octets,
    responding_ap_invocation_id=_opt_int,
    responding_ae_invocation_id=_opt_int,
    responder_acse_requirements=_bits,
    mechanism_name=st.none() | st.sampled_from(MechanismName),
    responding_authentication_value=_auth,
    implementation_information=_opt_octets,
    user_information=_opt_octets,
)
rlrqs = st.builds(
    RLRQ, reason=st.none() | st.sampled_from(ReleaseRequestReason), user_information=_opt_octets
)
rlres = st.builds(
    RLRE, reason=st.none() | st.sampled_from(ReleaseResponseReason), user_information=_opt_octets
)


@settings(max_examples=150)
@given(st.one_of(aarqs, aares, rlrqs, rlres))
def test_round_trip(apdu: AARQ | AARE | RLRQ | RLRE) -> None:
    wire = apdu.to_bytes()
    assert wire[0] == apdu.TAG
    decoded = type(apdu).from_bytes(wire)
    assert decoded == apdu
    assert decoded.to_bytes() == wire
    for cut in range(0, len(wire), max(1, len(wire) // 16)):
        with pytest.raises(DecodeError):
            type(apdu).from_bytes(wire[:cut])


ALL = (AARQ, AARE, RLRQ, RLRE)
VECTORS = (AARQ_LN_NO_AUTH, AARE_ACCEPTED, AARE_REJECTED, AARE_HLS_GMAC, AARQ_GREEN_BOOK_CIPHERED)


@pytest.mark.parametrize("wire", VECTORS)
def test_every_truncation_is_a_decode_error(wire: bytes) -> None:
    cls = {0x60: AARQ, 0x61: AARE}[wire[0]]
    for cut in range(len(wire)):
        with pytest.raises(DecodeError):
            cls.from_bytes(wire[:cut])


def _decode_or_error(cls: type[AARQ | AARE | RLRQ | RLRE], data: bytes) -> None:
    try:
        value = cls.from_bytes(data)
    except DecodeError:
        return
    assert value.to_bytes()[0] == cls.TAG


@settings(max_examples=200)
@given(st.binary(max_size=80), st.sampled_from(ALL))
def test_garbage_gives_value_or_decode_error(body: bytes, cls: type[AARQ]) -> None:
    _decode_or_error(cls, bytes((cls.TAG, len(body))) + body if len(body) < 128 else body)
    _decode_or_error(cls, body)


@settings(max_examples=200)
@given(st.sampled_from(VECTORS), st.integers(0, 200), st.integers(0, 255))
def test_mutated_vectors_give_value_or_decode_error(wire: bytes, index: int, value: int) -> None:
    mutated = bytearray(wire)
    mutated[index % len(wire)] = value
    for cls in ALL:
        _decode_or_error(cls, bytes(mutated))
