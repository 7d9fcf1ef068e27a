"""HDLC frames from an independent implementation (gurux-dlms, test-only oracle):
parsed and rebuilt byte for byte, and a full exchange between a gurux client and the
dlmskit server link machine, segmentation both ways."""

from __future__ import annotations

import pytest
from gurux_dlms import GXByteBuffer, GXDLMSClient, GXDLMSSettings, GXReplyData
from gurux_dlms.enums import Authentication, InterfaceType, RequestTypes
from gurux_dlms.GXDLMS import GXDLMS
from gurux_dlms.objects import GXDLMSClock, GXDLMSData

from transports import (
    NEED_DATA,
    ApduReceived,
    Connected,
    HdlcAddress,
    HdlcConnection,
    HdlcFrameReader,
    HdlcFrameType,
    HdlcParameters,
    HdlcRole,
    decode_frame,
)

SERVER = HdlcAddress.server(1, 0x11)


def gurux_client(
    *, server: int | None = None, max_tx: int = 128, max_rx: int = 128, window: int = 1
) -> GXDLMSClient:
    address = GXDLMSClient.getServerAddress(1, 0x11) if server is None else server
    client = GXDLMSClient(True, 0x10, address, Authentication.NONE, None, InterfaceType.HDLC)
    client.hdlcSettings.maxInfoTX = max_tx
    client.hdlcSettings.maxInfoRX = max_rx
    client.hdlcSettings.windowSizeTX = window
    client.hdlcSettings.windowSizeRX = window
    return client


def _frames(value: object) -> list[bytes]:
    if isinstance(value, list):
        return [bytes(v) for v in value]
    return [bytes(value)]  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("max_tx", "max_rx", "window"), [(128, 128, 1), (512, 512, 1), (64, 1024, 7)]
)
def test_gurux_client_frames_round_trip(max_tx: int, max_rx: int, window: int) -> None:
    client = gurux_client(max_tx=max_tx, max_rx=max_rx, window=window)
    frames = _frames(client.snrmRequest())
    snrm = decode_frame(frames[0])
    assert snrm.frame_type is HdlcFrameType.SNRM
    assert snrm.destination == SERVER
    assert snrm.source == HdlcAddress.client(0x10)
    params = HdlcParameters.decode(snrm.info)
    assert params.tx_info == max_tx and params.rx_info == max_rx and params.tx_window == window
    frames += _frames(client.aarqRequest())
    frames += _frames(client.read(GXDLMSClock(), 2))
    frames += _frames(client.receiverReady(RequestTypes.FRAME))
    frames += _frames(client.disconnectRequest(True))
    for wire in frames:
        assert decode_frame(wire).encode() == wire
    reader = HdlcFrameReader()
    reader.feed(b"".join(frames))
    parsed = []
    while (frame := reader.next_frame()) is not None:
        parsed.append(frame.encode())
    assert parsed == frames


@pytest.mark.parametrize(
    ("logical", "physical", "size"),
    [(1, None, 1), (1, 0x11, 2), (1, 0x1234, 4), (0x3FF, 0x3FFF, 4)],
)
def test_gurux_server_address_encodings(logical: int, physical: int | None, size: int) -> None:
    address = (
        logical if physical is None else GXDLMSClient.getServerAddress(logical, physical, size)
    )
    client = gurux_client(server=address)
    client.settings.serverAddressSize = size
    frame = decode_frame(bytes(client.snrmRequest()))
    assert frame.destination == HdlcAddress(upper=logical, lower=physical, length=size)


@pytest.mark.parametrize(
    ("control", "info"),
    [
        (0x73, bytes.fromhex("818012050180060180070400000001080400000001")),  # UA
        (0x30, bytes.fromhex("E6E700C401C100090C07E6010101000000FF800000")),  # I reply
        (0x13, bytes.fromhex("E6E7000F00000001000C07E6010101000000FF800000")),  # UI push
        (0x1F, b""),  # DM
        (0x31, b""),  # RR
    ],
)
def test_gurux_server_frames_round_trip(control: int, info: bytes) -> None:
    settings = GXDLMSSettings(True, None)
    settings.clientAddress = 0x10
    settings.serverAddress = GXDLMSClient.getServerAddress(1, 0x11)
    settings.serverAddressSize = 2
    wire = bytes(GXDLMS.getHdlcFrame(settings, control, GXByteBuffer(info) if info else None))
    frame = decode_frame(wire)
    assert frame.control == control
    assert frame.destination == HdlcAddress.client(0x10)
    assert frame.source == SERVER
    assert frame.info == info
    assert frame.encode() == wire


def _drain(conn: HdlcConnection) -> list[object]:
    events: list[object] = []
    while (event := conn.next_event()) is not NEED_DATA:
        events.append(event)
    return events


def test_gurux_client_against_dlmskit_server_with_segmentation() -> None:
    """SNRM/UA negotiation, a segmented AARQ in, a segmented reply out (pulled with RR)."""
    client = gurux_client(max_tx=32, max_rx=40)
    server = HdlcConnection(
        HdlcRole.SERVER,
        server_address=SERVER,
        client_address=None,
        parameters=HdlcParameters(max_info_transmit=256, max_info_receive=256),
    )
    server.receive_data(bytes(client.snrmRequest()))
    (connected,) = _drain(server)
    assert isinstance(connected, Connected)
    assert connected.parameters.tx_info == 40  # limited by the client's receive size
    assert connected.parameters.rx_info == 32
    client.parseUAResponse(GXByteBuffer(decode_frame(server.data_to_send()).info))
    assert client.hdlcSettings.maxInfoTX == 32 and client.hdlcSettings.maxInfoRX == 40

    aarq_frames = _frames(client.aarqRequest())
    assert len(aarq_frames) > 1  # the AARQ does not fit 32 bytes
    events: list[object] = []
    for wire in aarq_frames:
        server.receive_data(wire)
        events += _drain(server)
        ack = server.data_to_send()
        if wire is not aarq_frames[-1]:
            assert decode_frame(ack).frame_type is HdlcFrameType.RR
            client.getData(GXByteBuffer(ack), GXReplyData())  # gurux takes the acknowledgement
    (apdu_event,) = events
    assert isinstance(apdu_event, ApduReceived)
    wrapper_client = GXDLMSClient(True, 0x10, 1, Authentication.NONE, None, InterfaceType.WRAPPER)
    (wrapped,) = _frames(wrapper_client.aarqRequest())
    assert apdu_event.apdu == wrapped[8:]  # the same AARQ without HDLC

    reply = bytes.fromhex("C401C10009") + bytes([0x82, 0x00, 0x64]) + bytes(range(100))
    wire = server.send_apdu(reply)
    data = GXReplyData()
    rounds = 0
    while True:
        rounds += 1
        assert rounds < 20
        assert client.getData(GXByteBuffer(wire), data)
        if not data.isMoreData():
            break
        server.receive_data(bytes(client.receiverReady(data.moreData)))
        assert _drain(server) == []
        wire = server.data_to_send()
        assert wire
    assert rounds == 3  # 3 + 3 + 108 bytes in 40-byte segments
    assert bytes(data.value) == bytes(range(100))


def test_gurux_reads_dlmskit_server_reply_value() -> None:
    client = gurux_client()
    server = HdlcConnection(HdlcRole.SERVER, server_address=SERVER, client_address=None)
    server.receive_data(bytes(client.snrmRequest()))
    _drain(server)
    client.parseUAResponse(GXByteBuffer(decode_frame(server.data_to_send()).info))
    item = GXDLMSData("0.0.96.1.0.255")
    server.receive_data(bytes(client.read(item, 2)[0]))
    (request,) = _drain(server)
    assert isinstance(request, ApduReceived)
    assert request.apdu == bytes.fromhex("C001C100010000600100FF0200")
    wire = server.send_apdu(bytes.fromhex("C401C100090453494D31"))
    data = GXReplyData()
    assert client.getData(GXByteBuffer(wire), data)
    assert data.isComplete() and not data.isMoreData()
    assert bytes(data.value) == b"SIM1"


def test_real_aarq_frame_header_of_dlms_facts_matches_gurux() -> None:
    """dlms-facts 4.1 lists a captured AARQ frame by its ends: 7EA02C02232110AF9F E6E600
    601DA1 ... The header and its HCS are fixed by length, addresses and control; the
    body (proposed conformance) differs from gurux-dlms', so only the header is shared."""
    client = gurux_client()
    client.snrmRequest()
    (wire,) = _frames(client.aarqRequest())
    assert wire.hex().upper().startswith("7EA02C02232110AF9FE6E600601DA1")
    frame = decode_frame(wire)
    assert frame.control == 0x10 and frame.info[:3] == b"\xe6\xe6\x00"
    assert frame.encode() == wire
