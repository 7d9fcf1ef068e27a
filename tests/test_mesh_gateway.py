"""Gateway APDUs (0xE6 / 0xE7): golden bytes, the gurux-dlms oracle, garbage and truncation."""

from __future__ import annotations

import pytest
from gurux_dlms import GXByteBuffer, GXDLMSClient, GXDLMSGateway, GXReplyData
from gurux_dlms.enums import InterfaceType
from gurux_dlms.objects import GXDLMSClock
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.errors import DecodeError, LocalProtocolError
from transports import (
    GatewayRequest,
    GatewayResponse,
    decode_gateway_apdu,
    encode_gateway_apdu,
)

EUI64 = bytes.fromhex("0011223344556677")
GET_CLOCK_TIME = bytes.fromhex("C001C100080000010000FF0200")  # dlms-facts §4.3


def _gurux_client(network_id: int, address: bytes) -> GXDLMSClient:
    client = GXDLMSClient(True, 16, 1)
    client.interfaceType = InterfaceType.WRAPPER
    gateway = GXDLMSGateway()
    gateway.networkId = network_id
    gateway.physicalDeviceAddress = bytearray(address)
    client.gateway = gateway
    return client


def test_golden_request_bytes() -> None:
    request = GatewayRequest(network_id=3, physical_device_address=EUI64, apdu=GET_CLOCK_TIME)
    wire = encode_gateway_apdu(request)
    assert wire == bytes.fromhex("E603080011223344556677") + GET_CLOCK_TIME
    assert decode_gateway_apdu(wire) == request


@pytest.mark.parametrize("network_id", [0, 3, 255])
def test_decodes_requests_built_by_gurux(network_id: int) -> None:
    client = _gurux_client(network_id, EUI64)
    for wpdu in [*client.aarqRequest(), *client.read(GXDLMSClock("0.0.1.0.0.255"), 2)]:
        raw = bytes(wpdu)
        assert int.from_bytes(raw[6:8], "big") == len(raw) - 8
        decoded = decode_gateway_apdu(raw[8:])
        assert isinstance(decoded, GatewayRequest)
        assert decoded.network_id == network_id
        assert decoded.physical_device_address == EUI64
        assert decoded.apdu[0] in (0x60, 0xC0)
        assert encode_gateway_apdu(decoded) == raw[8:]


def test_gurux_reads_our_response() -> None:
    response = GatewayResponse(
        network_id=3,
        physical_device_address=EUI64,
        apdu=bytes.fromhex("C401C1000600000457"),  # get-response-normal, double-long-unsigned 1111
    )
    inner = encode_gateway_apdu(response)
    assert inner[:3] == bytes.fromhex("E70308")
    wpdu = bytes.fromhex("000100010010") + len(inner).to_bytes(2, "big") + inner
    reply = GXReplyData()
    assert _gurux_client(3, EUI64).getData(GXByteBuffer(wpdu), reply)
    assert reply.value == 1111


def test_long_address_uses_axdr_length() -> None:
    request = GatewayRequest(network_id=1, physical_device_address=bytes(16), apdu=b"\xc0")
    assert encode_gateway_apdu(request)[2] == 16
    two_byte = bytes.fromhex("E70181") + bytes([16]) + bytes(16) + b"\xc4"
    decoded = decode_gateway_apdu(two_byte)
    assert isinstance(decoded, GatewayResponse)
    assert decoded.physical_device_address == bytes(16)


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"", 0),
        (b"\xc0\x01\x01", 0),
        (b"\xe6", 1),
        (b"\xe6\x00", 2),
        (b"\xe6\x00\x00\xc0", 2),  # zero-length address
        (b"\xe6\x00\x80\xc0", 2),  # indefinite length
        (b"\xe6\x00\x84\xff\xff\xff\xff\xc0", 2),  # 2^32-byte address
        (b"\xe6\x00\x82\x00", 4),
        (b"\xe6\x00\x41" + bytes(65), 2),  # above the 64-byte limit
        (b"\xe6\x00\x08\x00\x11\x22", 6),
        (b"\xe6\x00\x02\x00\x11", 5),  # no inner APDU
    ],
)
def test_malformed(data: bytes, offset: int) -> None:
    with pytest.raises(DecodeError) as info:
        decode_gateway_apdu(data)
    assert info.value.offset == offset


def test_every_truncation_raises_decode_error() -> None:
    wire = encode_gateway_apdu(
        GatewayResponse(network_id=9, physical_device_address=EUI64, apdu=GET_CLOCK_TIME)
    )
    for cut in range(11):
        with pytest.raises(DecodeError):
            decode_gateway_apdu(wire[:cut])
    for cut in range(12, len(wire) + 1):
        assert decode_gateway_apdu(wire[:cut]).apdu == GET_CLOCK_TIME[: cut - 11]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_garbage_gives_value_or_decode_error(data: bytes) -> None:
    try:
        decoded = decode_gateway_apdu(data)
    except DecodeError as exc:
        assert 0 <= exc.offset <= len(data)
    else:
        assert encode_gateway_apdu(decoded) == data or data[2] >= 0x80


@settings(max_examples=100, deadline=None)
@given(
    response=st.booleans(),
    network_id=st.integers(0, 255),
    address=st.binary(min_size=1, max_size=64),
    apdu=st.binary(min_size=1, max_size=200),
)
def test_round_trip(response: bool, network_id: int, address: bytes, apdu: bytes) -> None:
    cls = GatewayResponse if response else GatewayRequest
    pdu = cls(network_id=network_id, physical_device_address=address, apdu=apdu)
    assert decode_gateway_apdu(encode_gateway_apdu(pdu)) == pdu


@pytest.mark.parametrize(
    "kwargs",
    [
        {"network_id": 256, "physical_device_address": EUI64, "apdu": b"\xc0"},
        {"network_id": 0, "physical_device_address": b"", "apdu": b"\xc0"},
        {"network_id": 0, "physical_device_address": bytes(65), "apdu": b"\xc0"},
        {"network_id": 0, "physical_device_address": EUI64, "apdu": b""},
    ],
)
def test_invalid_values_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError):
        GatewayRequest(**kwargs)  # type: ignore[arg-type]
