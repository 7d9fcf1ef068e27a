"""xDLMS InitiateRequest / InitiateResponse and the conformance block."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import Conformance, InitiateRequest, InitiateResponse
from dlmskit.errors import DecodeError, LocalProtocolError

# Green Book ciphered AARQ, decrypted user-information (dlms-facts 1.5).
GREEN_BOOK_INITIATE = bytes.fromhex(
    "01011000112233445566778899AABBCCDDEEFF0000065F1F0400007E1F04B0"
)
LN_INITIATE = bytes.fromhex("01000000065F1F0400001E1DFFFF")
LN_RESPONSE = bytes.fromhex("0800065F1F0400001E1D04C80007")


def test_conformance_bit_numbering() -> None:
    assert Conformance.RESERVED_ZERO == 0x800000
    assert Conformance.ACTION == 0x000001
    assert len(Conformance.__members__) == 24
    for bit, member in enumerate(Conformance):
        assert member == 0x800000 >> bit
        assert member.bit_numbers() == {bit}
    assert Conformance.from_bit_numbers({3, 4, 5, 15, 18}) == (
        Conformance.READ
        | Conformance.WRITE
        | Conformance.UNCONFIRMED_WRITE
        | Conformance.INFORMATION_REPORT
        | Conformance.PARAMETERIZED_ACCESS
    )
    block = Conformance(0x001E1D)
    assert block.encode() == bytes.fromhex("5F1F0400001E1D")
    assert block == (
        Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ
        | Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE
        | Conformance.BLOCK_TRANSFER_WITH_ACTION
        | Conformance.MULTIPLE_REFERENCES
        | Conformance.GET
        | Conformance.SET
        | Conformance.SELECTIVE_ACCESS
        | Conformance.ACTION
    )
    with pytest.raises(LocalProtocolError):
        Conformance.from_bit_numbers({24})


def test_green_book_initiate_request_with_dedicated_key() -> None:
    request = InitiateRequest.from_bytes(GREEN_BOOK_INITIATE)
    assert request.dedicated_key == bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    assert request.response_allowed is True
    assert request.proposed_quality_of_service is None
    assert request.proposed_dlms_version_number == 6
    assert request.proposed_conformance == Conformance(0x007E1F)
    assert Conformance.EVENT_NOTIFICATION in request.proposed_conformance
    assert Conformance.PRIORITY_MGMT_SUPPORTED in request.proposed_conformance
    assert request.client_max_receive_pdu_size == 0x04B0
    assert request.to_bytes() == GREEN_BOOK_INITIATE


def test_dedicated_key_never_in_repr() -> None:
    request = InitiateRequest.from_bytes(GREEN_BOOK_INITIATE)
    text = repr(request)
    assert "00112233" not in text
    assert "\\x00\\x11" not in text
    assert "16 octets hidden" in text


def test_ln_initiate_request_and_response() -> None:
    request = InitiateRequest.from_bytes(LN_INITIATE)
    assert request.dedicated_key is None
    assert request.client_max_receive_pdu_size == 0xFFFF
    assert request.to_bytes() == LN_INITIATE
    response = InitiateResponse.from_bytes(LN_RESPONSE)
    assert response == InitiateResponse(
        negotiated_conformance=Conformance(0x1E1D), server_max_receive_pdu_size=0x04C8
    )
    assert response.to_bytes() == LN_RESPONSE


def test_optional_fields_encoding() -> None:
    request = InitiateRequest(
        response_allowed=False,
        proposed_quality_of_service=-1,
        proposed_conformance=Conformance.GET,
        client_max_receive_pdu_size=512,
    )
    assert request.to_bytes() == bytes.fromhex(
        "01000100 01FF 06 5F1F0400000010 0200".replace(" ", "")
    )
    sn_response = InitiateResponse(
        negotiated_quality_of_service=3,
        negotiated_conformance=Conformance.READ | Conformance.WRITE,
        server_max_receive_pdu_size=500,
        vaa_name=0xFA00,
    )
    wire = sn_response.to_bytes()
    assert wire == bytes.fromhex("08 0103 06 5F1F0400180000 01F4 FA00".replace(" ", ""))
    assert InitiateResponse.from_bytes(wire) == sn_response


def test_gurux_initiate_request_bytes() -> None:
    from gurux_dlms._GXAPDU import _GXAPDU
    from gurux_dlms.GXByteBuffer import GXByteBuffer
    from gurux_dlms.GXDLMSSettings import GXDLMSSettings

    client = GXDLMSSettings(False, None)
    client.maxPduSize = 0x0400
    buffer = GXByteBuffer()
    _GXAPDU.getInitiateRequest(client, buffer)
    wire = bytes(buffer.array())
    request = InitiateRequest.from_bytes(wire)
    gurux_bits = int(client.proposedConformance)
    assert request.proposed_conformance.bit_numbers() == {
        n for n in range(24) if gurux_bits >> n & 1
    }
    assert request.client_max_receive_pdu_size == 0x0400
    assert request.to_bytes() == wire


@pytest.mark.parametrize(
    "hexstring",
    [
        "",
        "08",
        "01",
        "0102",  # bad presence flag
        "010100",  # zero-length dedicated key
        "0181",  # dedicated key length form not allowed
        "0100000006 5F1F0300001E1D FFFF",  # conformance header
        "01000000065F1F0400001E1DFFFF00",  # trailing
        "0800065F1F0400001E1D04C8000700",
    ],
)
def test_malformed_initiate_is_a_decode_error(hexstring: str) -> None:
    data = bytes.fromhex(hexstring.replace(" ", ""))
    cls = InitiateResponse if data[:1] == b"\x08" else InitiateRequest
    with pytest.raises(DecodeError):
        cls.from_bytes(data)


def test_construction_is_validated() -> None:
    with pytest.raises(LocalProtocolError):
        InitiateRequest(proposed_conformance=Conformance.GET, client_max_receive_pdu_size=70000)
    with pytest.raises(LocalProtocolError):
        InitiateRequest(proposed_conformance=0x1000000)
    with pytest.raises(LocalProtocolError):
        InitiateRequest(proposed_conformance=Conformance.GET, proposed_quality_of_service=200)
    with pytest.raises(LocalProtocolError):
        InitiateRequest(proposed_conformance=Conformance.GET, dedicated_key=b"")


_conformance = st.integers(0, 0xFFFFFF).map(Conformance)
requests = st.builds(
    InitiateRequest,
    dedicated_key=st.none() | st.binary(min_size=1, max_size=127),
    response_allowed=st.booleans(),
    proposed_quality_of_service=st.none() | st.integers(-128, 127),
    proposed_dlms_version_number=st.integers(0, 255),
    proposed_conformance=_conformance,
    client_max_receive_pdu_size=st.integers(0, 0xFFFF),
)
responses = st.builds(
    InitiateResponse,
    negotiated_quality_of_service=st.none() | st.integers(-128, 127),
    negotiated_dlms_version_number=st.integers(0, 255),
    negotiated_conformance=_conformance,
    server_max_receive_pdu_size=st.integers(0, 0xFFFF),
    vaa_name=st.integers(0, 0xFFFF),
)


@settings(max_examples=150)
@given(st.one_of(requests, responses))
def test_round_trip(apdu: InitiateRequest | InitiateResponse) -> None:
    wire = apdu.to_bytes()
    decoded = type(apdu).from_bytes(wire)
    assert decoded == apdu
    assert decoded.to_bytes() == wire


@pytest.mark.parametrize("wire", [GREEN_BOOK_INITIATE, LN_INITIATE, LN_RESPONSE])
def test_every_truncation_is_a_decode_error(wire: bytes) -> None:
    cls = InitiateResponse if wire[0] == 0x08 else InitiateRequest
    for cut in range(len(wire)):
        with pytest.raises(DecodeError):
            cls.from_bytes(wire[:cut])


@settings(max_examples=200)
@given(st.binary(max_size=40), st.sampled_from([InitiateRequest, InitiateResponse]))
def test_garbage_gives_value_or_decode_error(
    body: bytes, cls: type[InitiateRequest] | type[InitiateResponse]
) -> None:
    for data in (body, bytes((cls.TAG,)) + body):
        try:
            value = cls.from_bytes(data)
        except DecodeError:
            continue
        assert value.to_bytes()[0] == cls.TAG


def test_green_book_ciphered_aarq_decrypts_to_the_initiate_request() -> None:
    """Envelope from the AARQ, opened with AES-GCM (Green Book keys), gives the vector."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from dlmskit.apdu import AARQ, CipheredApdu

    aarq = AARQ.from_bytes(
        bytes.fromhex(
            "6066A109060760857405080103A60A04084D4D4D0000BC614E8A0207808B0760857405080201"
            "AC0A80083132333435363738BE34043221303001234567801302FF8A7874133D414CED25B4"
            "2534D28DB0047720606B175BD52211BE6841DB204D39EE6FDB8E356855"
        )
    )
    assert aarq.user_information is not None and aarq.calling_ap_title is not None
    envelope = CipheredApdu.from_bytes(aarq.user_information)
    assert (envelope.tag, envelope.security_control) == (0x21, 0x30)
    assert envelope.invocation_counter == 0x01234567
    encryption_key = bytes(range(16))
    authentication_key = bytes(range(0xD0, 0xE0))
    iv = aarq.calling_ap_title + envelope.invocation_counter.to_bytes(4, "big")
    ciphertext, tag = envelope.payload[:-12], envelope.payload[-12:]
    decryptor = Cipher(
        algorithms.AES(encryption_key), modes.GCM(iv, tag, min_tag_length=12)
    ).decryptor()
    decryptor.authenticate_additional_data(bytes((0x30,)) + authentication_key)
    plaintext = decryptor.update(ciphertext) + decryptor.finalize()
    assert plaintext == GREEN_BOOK_INITIATE
    request = InitiateRequest.from_bytes(plaintext)
    assert request.dedicated_key == bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    assert Conformance.ATTRIBUTE0_SUPPORTED_WITH_SET not in request.proposed_conformance
    assert Conformance.ATTRIBUTE0_SUPPORTED_WITH_GET in request.proposed_conformance
