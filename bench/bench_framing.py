"""Framing throughput against gurux-dlms parsing the same frames in the same run.

* HDLC: a stream of server → client I-frames (128-byte information fields, the default
  maximum) cut into frames with header and frame check sequences verified, by
  ``HdlcFrameReader`` and by gurux-dlms' HDLC layer (``GXDLMS.getHdlcData`` plus
  ``getDataFromFrame``, its framing step without APDU parsing).
* Wrapper: a TCP byte stream of WPDUs reassembled by ``WrapperFramer``, against gurux-dlms'
  wrapper layer (``getTcpData`` plus ``getDataFromFrame``) given one WPDU per buffer.
"""

from __future__ import annotations

from typing import Any

from _harness import Measurement, rate
from gurux_dlms import GXByteBuffer, GXDLMSClient, GXReplyData
from gurux_dlms.enums import Authentication, InterfaceType
from gurux_dlms.GXDLMS import GXDLMS
from gurux_dlms.objects import GXDLMSClock

from transports import (
    NEED_DATA,
    HdlcAddress,
    HdlcConnection,
    HdlcFrameReader,
    HdlcRole,
    WrapperFramer,
    decode_frame,
    encode_wpdu,
)

FRAMES = 100
# A GET-Response-Normal carrying an octet-string: LLC + APDU fill one 128-byte field.
REPLY = bytes.fromhex("C401C10009") + bytes([0x77]) + bytes(range(0x77))


def _hdlc_setup() -> tuple[bytes, Any]:
    """Our server's reply frame and a gurux client positioned to receive it."""
    server_address = GXDLMSClient.getServerAddress(1, 0x11)
    client: Any = GXDLMSClient(
        True, 0x10, server_address, Authentication.NONE, None, InterfaceType.HDLC
    )
    server = HdlcConnection(
        HdlcRole.SERVER, server_address=HdlcAddress.server(1, 0x11), client_address=None
    )
    server.receive_data(bytes(client.snrmRequest()))
    while server.next_event() is not NEED_DATA:
        pass
    client.parseUAResponse(GXByteBuffer(decode_frame(server.data_to_send()).info))
    server.receive_data(bytes(client.read(GXDLMSClock(), 2)[0]))
    while server.next_event() is not NEED_DATA:
        pass
    frame = server.send_apdu(REPLY)
    assert len(decode_frame(frame).info) == 128
    return frame, client


def run() -> list[Measurement]:
    frame, client = _hdlc_setup()
    stream = frame * FRAMES
    settings = client.settings
    sender, receiver = settings.senderFrame, settings.receiverFrame

    def ours_hdlc() -> int:
        reader = HdlcFrameReader()
        reader.feed(stream)
        count = 0
        while reader.next_frame() is not None:
            count += 1
        return count

    def gurux_hdlc() -> int:
        reply = GXByteBuffer(stream)
        count = 0
        for _ in range(FRAMES):
            # the same frame again: put gurux's sequence state back each time
            settings.senderFrame, settings.receiverFrame = sender, receiver
            data = GXReplyData()
            GXDLMS.getHdlcData(False, settings, reply, data, None)
            GXDLMS.getDataFromFrame(reply, data, True)
            count += data.complete
        return count

    assert ours_hdlc() == FRAMES
    assert gurux_hdlc() == FRAMES

    wpdu = encode_wpdu(0x01, 0x10, REPLY)
    wstream = wpdu * FRAMES
    wclient: Any = GXDLMSClient(True, 0x10, 0x01, Authentication.NONE, None, InterfaceType.WRAPPER)
    get_tcp_data = GXDLMS._GXDLMS__getTcpData

    def ours_wrapper() -> int:
        framer = WrapperFramer()
        framer.feed(wstream)
        count = 0
        while framer.next_wpdu() is not None:
            count += 1
        return count

    def gurux_wrapper() -> int:
        # One WPDU per buffer: gurux prints a warning for every WPDU of a merged buffer.
        count = 0
        for _ in range(FRAMES):
            reply = GXByteBuffer(wpdu)
            data = GXReplyData()
            get_tcp_data(wclient.settings, reply, data, None)
            GXDLMS.getDataFromFrame(reply, data, False)
            count += data.complete
        return count

    assert ours_wrapper() == FRAMES
    assert gurux_wrapper() == FRAMES

    # Alternate ours and the peer so load from other processes hits both alike.
    best = {"oh": 0.0, "gh": 0.0, "ow": 0.0, "gw": 0.0}
    for _ in range(5):
        best["oh"] = max(best["oh"], rate(ours_hdlc, repeats=1) * FRAMES)
        best["gh"] = max(best["gh"], rate(gurux_hdlc, repeats=1) * FRAMES)
        best["ow"] = max(best["ow"], rate(ours_wrapper, repeats=1) * FRAMES)
        best["gw"] = max(best["gw"], rate(gurux_wrapper, repeats=1) * FRAMES)
    return [
        Measurement(
            name="HDLC frames parsed (128-byte info, HCS+FCS checked)",
            unit="frames/s",
            ours=best["oh"],
            peer_name="gurux-dlms getHdlcData",
            peer=best["gh"],
        ),
        Measurement(
            name="wrapper WPDUs reassembled from a TCP stream",
            unit="WPDUs/s",
            ours=best["ow"],
            peer_name="gurux-dlms getTcpData",
            peer=best["gw"],
        ),
    ]
