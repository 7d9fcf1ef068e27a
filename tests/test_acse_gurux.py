"""ACSE against gurux-dlms in the other direction: gurux releases, gurux server parses ours."""

from __future__ import annotations

import pytest

from dlmskit.apdu import (
    AARE,
    AARQ,
    RLRQ,
    AcseServiceUserDiagnostic,
    ApplicationContextName,
    AuthenticationValue,
    BerBitString,
    Conformance,
    InitiateRequest,
    MechanismName,
    ReleaseRequestReason,
)
from dlmskit.errors import DecodeError


def _released(protected: bool, ciphered: bool) -> bytes:
    from gurux_dlms.ConnectionState import ConnectionState
    from gurux_dlms.enums import Authentication, InterfaceType, Security
    from gurux_dlms.secure import GXDLMSSecureClient

    client = GXDLMSSecureClient(True, 16, 1, Authentication.LOW, "12345678", InterfaceType.WRAPPER)
    if ciphered:
        client.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
    client.settings.connected |= ConnectionState.DLMS
    client.useProtectedRelease = protected
    (frame,) = client.releaseRequest()
    return bytes(frame)[8:]


def test_gurux_plain_release_request() -> None:
    wire = _released(protected=False, ciphered=False)
    assert RLRQ.from_bytes(wire) == RLRQ(reason=ReleaseRequestReason.NORMAL)
    assert RLRQ(reason=ReleaseRequestReason.NORMAL).to_bytes() == wire


@pytest.mark.parametrize("ciphered", [False, True])
def test_gurux_protected_release_request(ciphered: bool) -> None:
    wire = _released(protected=True, ciphered=ciphered)
    release = RLRQ.from_bytes(wire)
    assert release.reason is ReleaseRequestReason.NORMAL
    assert release.user_information is not None
    if ciphered:
        assert release.user_information[0] == 0x21  # glo-initiateRequest, kept raw
    else:
        initiate = InitiateRequest.from_bytes(release.user_information)
        assert initiate.proposed_dlms_version_number == 6
    assert release.to_bytes() == wire


@pytest.mark.parametrize(
    "mechanism", [MechanismName.LOW, MechanismName.HIGH, MechanismName.HIGH_GMAC]
)
def test_gurux_server_parses_our_aarq(mechanism: MechanismName) -> None:
    from gurux_dlms._GXAPDU import _GXAPDU
    from gurux_dlms.GXByteBuffer import GXByteBuffer
    from gurux_dlms.GXCiphering import GXCiphering
    from gurux_dlms.GXDLMSSettings import GXDLMSSettings

    client_title = bytes.fromhex("4D4D4D0000000001")
    secret = b"12345678" if mechanism is MechanismName.LOW else b"K56iVagYK56iVagY"
    aarq = AARQ(
        application_context_name=ApplicationContextName.LN,
        calling_ap_title=client_title,
        calling_ae_invocation_id=3,
        sender_acse_requirements=BerBitString.from_bits([True]),
        mechanism_name=mechanism,
        calling_authentication_value=AuthenticationValue(value=secret),
        user_information=InitiateRequest(
            proposed_conformance=Conformance.GET | Conformance.SET | Conformance.ACTION,
            client_max_receive_pdu_size=0x0200,
        ).to_bytes(),
    )
    server = GXDLMSSettings(True, None)
    diagnostic = _GXAPDU.parsePDU(
        server, GXCiphering(b"ABCDEFGH"), GXByteBuffer(aarq.to_bytes()), None
    )
    assert diagnostic == 0
    assert int(server.authentication) == mechanism
    received = server.password if mechanism is MechanismName.LOW else server.ctoSChallenge
    assert bytes(received) == secret
    assert bytes(server.sourceSystemTitle) == client_title
    assert server.userId == 3
    assert server.maxPduSize == 0x0200
    assert server.dlmsVersion == 6
    gurux_bits = int(server.negotiatedConformance)  # ours AND the server's own block
    assert {n for n in range(24) if gurux_bits >> n & 1} == {19, 20, 23}


@pytest.mark.parametrize("mechanism", [MechanismName.HIGH, MechanismName.HIGH_SHA256])
def test_gurux_python_hls_aare_length_fault(mechanism: MechanismName) -> None:
    """gurux-dlms 1.0.203 (Python) writes the AA length without the inner 80 header.

    That AARE is malformed BER and is rejected; with the length corrected (as the
    GuruxDLMS.c server writes it) every field decodes and re-encodes byte for byte.
    """
    from gurux_dlms._GXAPDU import _GXAPDU
    from gurux_dlms.enums import Authentication
    from gurux_dlms.GXByteBuffer import GXByteBuffer
    from gurux_dlms.GXDLMSSettings import GXDLMSSettings

    stoc = bytes(range(1, 17))
    server = GXDLMSSettings(True, None)
    server.authentication = Authentication(int(mechanism))
    server.stoCChallenge = stoc
    server.negotiatedConformance = server.proposedConformance
    buffer = GXByteBuffer()
    _GXAPDU.generateAARE(server, buffer, 0, 14, None, None, None)
    faulty = bytes(buffer.array())
    at = faulty.index(b"\xaa\x10\x80\x10")
    with pytest.raises(DecodeError):
        AARE.from_bytes(faulty)
    fixed = bytearray(faulty)
    fixed[at + 1] = 0x12
    aare = AARE.from_bytes(bytes(fixed))
    assert aare.result_source_diagnostic is AcseServiceUserDiagnostic.AUTHENTICATION_REQUIRED
    assert aare.mechanism_name is mechanism
    assert aare.responding_authentication_value == AuthenticationValue(value=stoc)
    assert aare.to_bytes() == bytes(fixed)


@pytest.mark.parametrize("bits", ["1", "100001", "01"])
def test_gurux_protocol_version(bits: str) -> None:
    from gurux_dlms import GXDLMSClient
    from gurux_dlms.enums import InterfaceType

    client = GXDLMSClient(True, 16, 1, interfaceType=InterfaceType.WRAPPER)
    client.settings.protocolVersion = bits
    (frame,) = client.aarqRequest()
    wire = bytes(frame)[8:]
    aarq = AARQ.from_bytes(wire)
    assert aarq.protocol_version == BerBitString.from_bits(c == "1" for c in bits)
    assert aarq.to_bytes() == wire
