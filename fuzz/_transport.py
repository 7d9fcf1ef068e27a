"""Fuzz targets for the sans-IO framing of ``transports``.

HDLC frames and the HDLC link machine (both roles), the TCP/UDP wrapper, mode E sign-on,
gateway APDUs and 6LoWPAN reassembly. Stream readers are also checked for feeding
invariance: the same bytes fed at once or in small pieces give the same frames.
Seeds: the frames of dlms-facts.md 4.1 to 4.3 and frames our own framers build.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from dlmskit.errors import DecodeError, RemoteProtocolError
from fuzz._target import Target, chunks, join_chunks
from transports import (
    NEED_DATA,
    GatewayRequest,
    GatewayResponse,
    HdlcAddress,
    HdlcConnection,
    HdlcFrame,
    HdlcFrameReader,
    HdlcParameters,
    HdlcRole,
    LowpanReassembler,
    ModeEClient,
    ModeEMeter,
    Wpdu,
    WrapperFramer,
    decode_frame,
    decode_gateway_apdu,
    decode_lowpan_frame,
    decode_wpdu,
    encode_frame,
    encode_gateway_apdu,
    encode_wpdu,
    fragment_datagram,
)

__all__ = ["GATEWAY", "HDLC_FRAME", "HDLC_LINK", "LOWPAN", "MODE_E", "WRAPPER"]

GET_CLOCK = bytes.fromhex("C0010000080000010000FF0200")
CLOCK_RESPONSE = bytes.fromhex("C401C100090C07E80101FF00000000FEB600")
SERVER = HdlcAddress.server(1)

#: dlms-facts.md 4.1.
HDLC_VECTORS: Mapping[str, str] = {
    "snrm": "7EA00802232193BD647E",
    "snrm-512": "7EA02102232193485581801405020200060202000704000000010804000000016FEF7E",
    "disc": "7EA00802232153B1A27E",
    "rr": "7EA00802232131A5E27E",
    "i-get-clock": "7EA01A02232132F672E6E600C001C100080000010000FF0200601A7E",
}


def _hex(vectors: Mapping[str, str]) -> dict[str, bytes]:
    return {name: bytes.fromhex(text) for name, text in vectors.items()}


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


# ------------------------------------------------------------------------- HDLC frames


def _read_frames(pieces: list[bytes]) -> list[HdlcFrame]:
    reader = HdlcFrameReader()
    frames: list[HdlcFrame] = []
    for piece in pieces:
        reader.feed(piece)
        while (frame := reader.next_frame()) is not None:
            frames.append(frame)
    assert reader.buffered <= len(b"".join(pieces))
    return frames


def _hdlc_frame(data: bytes) -> None:
    if not data:
        return
    mode, rest = data[0], data[1:]
    whole = _read_frames([rest])
    for frame in whole:
        assert decode_frame(encode_frame(frame)) == frame
    if mode & 0x80:
        # feeding invariance: the stream cut into pieces of 1..8 bytes reads the same
        assert _read_frames(_pieces(rest, (mode & 7) + 1)) == whole, rest.hex()
    with contextlib.suppress(DecodeError):
        frame = decode_frame(rest)
        assert decode_frame(encode_frame(frame)) == frame
    with contextlib.suppress(DecodeError):
        parameters = HdlcParameters.decode(rest)
        assert HdlcParameters.decode(parameters.encode()) == parameters


HDLC_FRAME = Target(
    name="hdlc_frame",
    description="transports.decode_frame, HdlcFrameReader (whole and piecewise), "
    "HdlcParameters.decode",
    run=_hdlc_frame,
    allowed=(),
    seeds=lambda: {
        **{f"{name}": b"\x00" + raw for name, raw in _hex(HDLC_VECTORS).items()},
        "stream-pieces-3": b"\x82" + b"".join(_hex(HDLC_VECTORS).values()),
        "stream-garbage": b"\x80\x7e\x7e\x00" + _hex(HDLC_VECTORS)["i-get-clock"] + b"\x7e\xa0",
        "parameters": b"\x00" + bytes.fromhex("8180140502020006020200070400000001080400000001"),
        "ua-parameters": b"\x00" + bytes.fromhex("81801205019A06019A070400000001080400000001"),
    },
)


# --------------------------------------------------------------------------- HDLC link


def _drain_link(link: HdlcConnection) -> None:
    for _ in range(64):
        if link.next_event() is NEED_DATA:
            return


def _hdlc_link(data: bytes) -> None:
    if not data:
        return
    mode, rest = data[0], data[1:]
    if mode & 1:
        link = HdlcConnection(HdlcRole.CLIENT, server_address=SERVER, client_address=0x10)
        link.connect(now=0.0)
    else:
        link = HdlcConnection(
            HdlcRole.SERVER,
            server_address=SERVER,
            client_address=None,
            parameters=HdlcParameters(max_info_receive=32, max_info_transmit=32),
        )
    now = 0.0
    for piece in chunks(rest):
        now += 0.5
        link.receive_data(piece, now=now)
        try:
            _drain_link(link)
        except RemoteProtocolError:
            _drain_link(link)  # the link stays usable after an unusable APDU
        link.data_to_send()
        if mode & 1:
            link.handle_timeout(now=now)
            if link.state.name == "CONNECTED" and not link.sending:
                link.send_apdu(GET_CLOCK, now=now)


def _link_seeds() -> dict[str, bytes]:
    client = HdlcConnection(HdlcRole.CLIENT, server_address=SERVER, client_address=0x10)
    server = HdlcConnection(HdlcRole.SERVER, server_address=SERVER, client_address=None)
    snrm = client.connect(now=0.0)
    server.receive_data(snrm, now=0.0)
    _drain_link(server)
    ua = server.data_to_send()
    client.receive_data(ua, now=0.0)
    _drain_link(client)
    request = client.send_apdu(GET_CLOCK, now=0.0)
    server.receive_data(request, now=0.0)
    _drain_link(server)
    response = server.send_apdu(CLOCK_RESPONSE * 12, now=0.0) + server.data_to_send()
    disc = client.disconnect(now=0.0)
    return {
        "server-snrm-get-disc": b"\x00" + join_chunks(snrm, request, disc),
        "server-dlms-facts": b"\x00"
        + join_chunks(*(bytes.fromhex(HDLC_VECTORS[k]) for k in ("snrm", "i-get-clock", "disc"))),
        "client-ua-response": b"\x01" + join_chunks(ua, response),
    }


HDLC_LINK = Target(
    name="hdlc_link",
    description="transports.HdlcConnection in both roles fed arbitrary link bytes",
    run=_hdlc_link,
    allowed=(RemoteProtocolError,),
    seeds=_link_seeds,
)


# ----------------------------------------------------------------------------- wrapper


def _frame_wpdus(pieces: list[bytes]) -> tuple[list[Wpdu], bool]:
    framer = WrapperFramer(max_apdu=512)
    out: list[Wpdu] = []
    try:
        for piece in pieces:
            framer.feed(piece)
            while (wpdu := framer.next_wpdu()) is not None:
                out.append(wpdu)
    except DecodeError:
        assert framer.broken
        return out, True
    return out, False


def _wrapper(data: bytes) -> None:
    if not data:
        return
    mode, rest = data[0], data[1:]
    whole = _frame_wpdus([rest])
    assert _frame_wpdus(_pieces(rest, (mode & 7) + 1)) == whole, rest.hex()
    assert b"".join(w.encode() for w in whole[0]) == rest[: sum(8 + len(w.apdu) for w in whole[0])]
    with contextlib.suppress(DecodeError):
        wpdu = decode_wpdu(rest)
        assert encode_wpdu(wpdu.source, wpdu.destination, wpdu.apdu) == rest


WRAPPER = Target(
    name="wrapper",
    description="transports.WrapperFramer (whole and piecewise) and decode_wpdu",
    run=_wrapper,
    allowed=(),
    seeds=lambda: {
        "dlms-facts-4-3": b"\x00" + bytes.fromhex("000100100001000DC001C100080000010000FF0200"),
        "two-in-one-segment": b"\x02"
        + encode_wpdu(0x10, 1, GET_CLOCK)
        + encode_wpdu(1, 0x10, CLOCK_RESPONSE),
        "push": b"\x00"
        + encode_wpdu(1, 0x40, bytes.fromhex("0FC00000010C07E80101FF0A000000FEB600")),
    },
)


# ------------------------------------------------------------------------------ mode E


def _events(machine: ModeEClient | ModeEMeter) -> None:
    for _ in range(16):
        try:
            if machine.next_event() is None:
                return
        except DecodeError:
            continue


def _mode_e(data: bytes) -> None:
    client = ModeEClient()
    client.request()
    meter = ModeEMeter(manufacturer="ABC", baud_char="5", device_address="12345678")
    for piece in chunks(data):
        client.receive_data(piece)
        _events(client)
        meter.receive_data(piece)
        _events(meter)
        meter.data_to_send()


MODE_E = Target(
    name="mode_e",
    description="IEC 62056-21 mode E: ModeEClient and ModeEMeter fed arbitrary lines",
    run=_mode_e,
    allowed=(DecodeError,),
    seeds=lambda: {
        "sign-on": join_chunks(b"/?!\r\n", b"/ABC5\\2IDENT\r\n", b"\x06252\r\n"),
        "addressed": join_chunks(b"/?12345678!\r\n", b"\x06252\r\n"),
        "split-identification": join_chunks(b"/LGZ", b"6\\2ZMD3104", b"\r\n"),
        "parity-bits": join_chunks(bytes(b | 0x80 for b in b"/?!\r\n"), b"/XYZ0\r\n"),
    },
)


# ----------------------------------------------------------------------------- gateway


def _gateway(data: bytes) -> None:
    pdu = decode_gateway_apdu(data)
    assert decode_gateway_apdu(encode_gateway_apdu(pdu)) == pdu


GATEWAY = Target(
    name="gateway",
    description="transports.decode_gateway_apdu (DLMS gateway request/response)",
    run=_gateway,
    allowed=(DecodeError,),
    seeds=lambda: {
        "request": encode_gateway_apdu(
            GatewayRequest(
                network_id=0,
                physical_device_address=bytes.fromhex("0011223344556677"),
                apdu=GET_CLOCK,
            )
        ),
        "response": encode_gateway_apdu(
            GatewayResponse(network_id=3, physical_device_address=b"\x01", apdu=CLOCK_RESPONSE)
        ),
        "long-length": bytes.fromhex("E6008108") + bytes(8) + GET_CLOCK,
    },
)


# ------------------------------------------------------------------------------ 6LoWPAN


def _lowpan(data: bytes) -> None:
    reassembler = LowpanReassembler(timeout=5.0, max_pending=4)
    now = 0.0
    for piece in chunks(data):
        now += 1.0
        try:
            frame = decode_lowpan_frame(piece)
        except DecodeError:
            frame = None
        try:
            datagram = reassembler.receive(piece, now=now, source=piece[:1])
        except DecodeError:
            assert frame is None
            continue
        assert frame is not None
        assert reassembler.pending <= 4
        if datagram is not None:
            assert len(datagram) == frame.datagram_size
            again = LowpanReassembler()
            parts = fragment_datagram(datagram, tag=7, frame_payload=32)
            results = [again.receive(p, now=0.0) for p in parts]
            assert results[-1] == datagram and not any(results[:-1])


def _lowpan_seeds() -> dict[str, bytes]:
    datagram = encode_wpdu(1, 0x10, CLOCK_RESPONSE * 4)
    frames = fragment_datagram(datagram, tag=0x1234, frame_payload=48)
    return {
        "fragments": join_chunks(*frames),
        "fragments-reordered": join_chunks(*frames[1:], frames[0]),
        "unfragmented": join_chunks(*fragment_datagram(GET_CLOCK, tag=1, frame_payload=64)),
    }


LOWPAN = Target(
    name="lowpan",
    description="transports.LowpanReassembler and decode_lowpan_frame over frame sequences",
    run=_lowpan,
    allowed=(),
    seeds=_lowpan_seeds,
)
