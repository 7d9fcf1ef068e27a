"""The IEC 62056-4-7 wrapper: golden vectors (dlms-facts 4.3), gurux-dlms frames, stream
reassembly across split and merged segments, errors and garbage."""

from __future__ import annotations

import pytest
from gurux_dlms import GXByteBuffer, GXDLMSClient, GXDLMSSettings, GXReplyData
from gurux_dlms.enums import Authentication, InterfaceType
from gurux_dlms.GXDLMS import GXDLMS
from gurux_dlms.objects import GXDLMSClock, GXDLMSData
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.errors import DecodeError
from transports import Wpdu, WrapperFramer, decode_wpdu, encode_wpdu

GET_CLOCK = bytes.fromhex("C001C100080000010000FF0200")
GOLDEN = bytes.fromhex("0001001000010" + "00D" + "C001C100080000010000FF0200")


def test_golden_wpdu() -> None:
    wpdu = decode_wpdu(GOLDEN)
    assert wpdu == Wpdu(source=0x10, destination=0x01, apdu=GET_CLOCK)
    assert wpdu.encode() == GOLDEN
    assert encode_wpdu(0x10, 0x01, GET_CLOCK) == GOLDEN


def _gurux_client(wport: int = 0x10, server: int = 1) -> GXDLMSClient:
    return GXDLMSClient(True, wport, server, Authentication.NONE, None, InterfaceType.WRAPPER)


def _gurux_frames() -> list[bytes]:
    client = _gurux_client(0x20, 0x01)
    frames = [bytes(f) for f in client.aarqRequest()]
    frames += [bytes(f) for f in client.read(GXDLMSClock(), 2)]
    frames += [bytes(f) for f in client.read(GXDLMSData("0.0.96.1.0.255"), 2)]
    return frames


def test_gurux_client_wpdus_parse_and_rebuild() -> None:
    frames = _gurux_frames()
    assert len(frames) == 3
    for wire in frames:
        wpdu = decode_wpdu(wire)
        assert (wpdu.source, wpdu.destination) == (0x20, 0x01)
        assert wpdu.encode() == wire
    assert decode_wpdu(frames[1]).apdu == GET_CLOCK


def test_gurux_server_wpdu_parses() -> None:
    settings_ = GXDLMSSettings(True, None)
    settings_.clientAddress = 0x10
    settings_.serverAddress = 0x01
    reply = bytes.fromhex("C401C100090C07E6010101000000FF800000")
    wire = bytes(GXDLMS.getWrapperFrame(settings_, 0, GXByteBuffer(reply)))
    assert decode_wpdu(wire) == Wpdu(source=0x01, destination=0x10, apdu=reply)


def test_gurux_reads_dlmskit_wpdu() -> None:
    client = _gurux_client()
    reply = bytes.fromhex("C401C100090453494D31")
    data = GXReplyData()
    assert client.getData(GXByteBuffer(encode_wpdu(0x01, 0x10, reply)), data)
    assert bytes(data.value) == b"SIM1"


def test_framer_split_at_every_position_and_merged() -> None:
    frames = [*_gurux_frames(), GOLDEN, encode_wpdu(1, 0x10, b"")]
    stream = b"".join(frames)
    expected = [decode_wpdu(f) for f in frames]
    for cut in range(len(stream) + 1):
        framer = WrapperFramer()
        got = []
        for part in (stream[:cut], stream[cut:]):
            framer.feed(part)
            while (wpdu := framer.next_wpdu()) is not None:
                got.append(wpdu)
        assert got == expected, f"cut at {cut}"
        assert framer.buffered == 0
    framer = WrapperFramer()
    for byte in stream:  # one byte per segment
        framer.feed(bytes((byte,)))
        while (wpdu := framer.next_wpdu()) is not None:
            assert wpdu == expected.pop(0)
    assert expected == []


def test_framer_reports_a_partial_wpdu() -> None:
    framer = WrapperFramer()
    framer.feed(GOLDEN[:12])
    assert framer.next_wpdu() is None
    assert framer.buffered == 12


@pytest.mark.parametrize(
    ("stream", "offset", "expected"),
    [
        (GOLDEN + bytes.fromhex("0002001000010000"), len(GOLDEN), "0x0001"),
        (bytes.fromhex("00010010000107D1"), 6, "length <= 2000"),
    ],
)
def test_framer_breaks_on_wrong_version_or_oversized_length(
    stream: bytes, offset: int, expected: str
) -> None:
    framer = WrapperFramer(max_apdu=2000)
    framer.feed(stream)
    got = []
    with pytest.raises(DecodeError) as info:
        while (wpdu := framer.next_wpdu()) is not None:
            got.append(wpdu)
    assert info.value.offset == offset
    assert info.value.expected == expected
    assert framer.broken
    # The stream cannot be resynchronised: the framer stays broken.
    with pytest.raises(DecodeError):
        framer.next_wpdu()
    with pytest.raises(DecodeError):
        framer.feed(GOLDEN)


def test_oversized_length_is_refused_before_waiting_for_the_body() -> None:
    framer = WrapperFramer(max_apdu=1024)
    framer.feed(bytes.fromhex("000100100001FFFF"))  # says 65535 bytes follow
    with pytest.raises(DecodeError):
        framer.next_wpdu()


@pytest.mark.parametrize(
    "datagram",
    [
        b"",
        GOLDEN[:7],
        GOLDEN[:-1],  # shorter than the length says
        GOLDEN + b"\x00",  # longer than the length says
        b"\x00\x02" + GOLDEN[2:],  # version 2
    ],
)
def test_udp_datagram_must_be_exactly_one_wpdu(datagram: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_wpdu(datagram)


def test_encode_validates() -> None:
    with pytest.raises(ValueError):
        encode_wpdu(0x10000, 1, b"")
    with pytest.raises(ValueError):
        encode_wpdu(1, 1, bytes(0x10000))
    with pytest.raises(ValueError):
        Wpdu(source=1, destination=-1, apdu=b"")
    with pytest.raises(ValueError):
        WrapperFramer(max_apdu=0x10000)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_decode_wpdu_garbage(data: bytes) -> None:
    try:
        wpdu = decode_wpdu(data, max_apdu=64)
    except DecodeError:
        return
    assert wpdu.encode() == data


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=10))
def test_framer_garbage_value_or_decode_error(chunks: list[bytes]) -> None:
    framer = WrapperFramer(max_apdu=100)
    try:
        for chunk in chunks:
            framer.feed(chunk)
            while (wpdu := framer.next_wpdu()) is not None:
                assert len(wpdu.apdu) <= 100
    except DecodeError:
        assert framer.broken


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(max_size=300)),
        max_size=6,
    ),
    st.lists(st.integers(1, 50), max_size=30),
)
def test_framer_reassembles_any_segmentation(
    wpdus: list[tuple[int, int, bytes]], cuts: list[int]
) -> None:
    expected = [Wpdu(source=s, destination=d, apdu=a) for s, d, a in wpdus]
    stream = b"".join(w.encode() for w in expected)
    framer = WrapperFramer()
    got = []
    pos = 0
    for size in [*cuts, len(stream)]:
        framer.feed(stream[pos : pos + size])
        pos += size
        while (wpdu := framer.next_wpdu()) is not None:
            got.append(wpdu)
    assert got == expected
