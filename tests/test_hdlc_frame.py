"""HDLC frame format type 3: golden vectors (dlms-facts 4.1), CRC, addresses, parameters,
stream resynchronisation and garbage resistance."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.errors import DecodeError
from transports import (
    HdlcAddress,
    HdlcFrame,
    HdlcFrameReader,
    HdlcFrameType,
    HdlcParameters,
    crc16,
    crc16_bytes,
    decode_address,
    decode_frame,
)
from transports._hdlc_crc import crc16_table

CLIENT = HdlcAddress.client(0x10)
SERVER = HdlcAddress.server(1, 0x11)

# dlms-facts 4.1 "Built frames" (client 0x10 → server upper 1, lower 0x11).
SNRM = bytes.fromhex("7EA00802232193BD647E")
SNRM_512 = bytes.fromhex("7EA02102232193485581801405020200060202000704000000010804000000016FEF7E")
DISC = bytes.fromhex("7EA00802232153B1A27E")
RR_1 = bytes.fromhex("7EA00802232131A5E27E")
I_GET_CLOCK = bytes.fromhex("7EA01A02232132F672E6E600C001C100080000010000FF0200601A7E")
UA_PARAMS = bytes.fromhex("818012050 19A06019A070400000001080400000001".replace(" ", ""))


def test_crc_check_value() -> None:
    assert crc16(b"123456789") == 0x906E
    assert crc16_bytes(b"123456789") == b"\x6e\x90"  # least significant byte first
    assert crc16(b"xx123456789yy", 2, 11) == 0x906E


@pytest.mark.parametrize(
    ("frame", "kind", "poll", "info"),
    [
        (SNRM, HdlcFrameType.SNRM, True, b""),
        (DISC, HdlcFrameType.DISC, True, b""),
        (RR_1, HdlcFrameType.RR, True, b""),
        (I_GET_CLOCK, HdlcFrameType.I, True, bytes.fromhex("E6E600C001C100080000010000FF0200")),
    ],
)
def test_golden_frames_decode_and_rebuild(
    frame: bytes, kind: HdlcFrameType, poll: bool, info: bytes
) -> None:
    decoded = decode_frame(frame)
    assert decoded.frame_type is kind
    assert decoded.destination == SERVER
    assert decoded.source == CLIENT
    assert decoded.poll_final is poll
    assert decoded.info == info
    assert decoded.encode() == frame


def test_golden_frames_built_from_fields() -> None:
    snrm = HdlcFrame.u_frame(HdlcFrameType.SNRM, destination=SERVER, source=CLIENT)
    assert snrm.encode() == SNRM
    params = HdlcParameters(
        max_info_transmit=512, max_info_receive=512, window_transmit=1, window_receive=1
    )
    snrm_512 = HdlcFrame.u_frame(
        HdlcFrameType.SNRM, destination=SERVER, source=CLIENT, info=params.encode()
    )
    assert snrm_512.encode() == SNRM_512
    assert HdlcFrame.u_frame(HdlcFrameType.DISC, destination=SERVER, source=CLIENT).encode() == DISC
    rr = HdlcFrame.s_frame(HdlcFrameType.RR, destination=SERVER, source=CLIENT, receive_sequence=1)
    assert rr.encode() == RR_1
    i_frame = HdlcFrame.i_frame(
        destination=SERVER,
        source=CLIENT,
        send_sequence=1,
        receive_sequence=1,
        poll=True,
        info=bytes.fromhex("E6E600C001C100080000010000FF0200"),
    )
    assert i_frame.control == 0x32
    assert i_frame.encode() == I_GET_CLOCK


@pytest.mark.parametrize(
    ("control", "kind", "ns", "nr", "poll"),
    [
        (0x10, HdlcFrameType.I, 0, 0, True),
        (0x30, HdlcFrameType.I, 0, 1, True),
        (0x32, HdlcFrameType.I, 1, 1, True),
        (0xFE, HdlcFrameType.I, 7, 7, True),
        (0x11, HdlcFrameType.RR, None, 0, True),
        (0x51, HdlcFrameType.RR, None, 2, True),
        (0x15, HdlcFrameType.RNR, None, 0, True),
        (0x93, HdlcFrameType.SNRM, None, None, True),
        (0x53, HdlcFrameType.DISC, None, None, True),
        (0x73, HdlcFrameType.UA, None, None, True),
        (0x1F, HdlcFrameType.DM, None, None, True),
        (0x97, HdlcFrameType.FRMR, None, None, True),
        (0x13, HdlcFrameType.UI, None, None, True),
        (0x03, HdlcFrameType.UI, None, None, False),
        (0xFF, HdlcFrameType.UNKNOWN, None, None, True),
    ],
)
def test_control_field_table(
    control: int, kind: HdlcFrameType, ns: int | None, nr: int | None, poll: bool
) -> None:
    frame = HdlcFrame(destination=SERVER, source=CLIENT, control=control)
    assert frame.frame_type is kind
    assert frame.poll_final is poll
    if ns is not None:
        assert frame.send_sequence == ns
    if nr is not None:
        assert frame.receive_sequence == nr


@pytest.mark.parametrize(
    ("address", "wire"),
    [
        (HdlcAddress.client(0x10), "21"),
        (HdlcAddress.client(0x20), "41"),
        (HdlcAddress.client(0x30), "61"),
        (HdlcAddress.server(1), "03"),
        (HdlcAddress.server(1, 0x11), "0223"),
        (HdlcAddress.server(1, 0x1234), "00024869"),
        (HdlcAddress.server(0x3FFF, 0x3FFF, length=4), "FEFEFEFF"),
    ],
)
def test_address_encoding(address: HdlcAddress, wire: str) -> None:
    raw = bytes.fromhex(wire)
    assert address.encode() == raw
    decoded, end = decode_address(raw, 0, len(raw))
    assert decoded == address
    assert end == len(raw)


def test_address_errors() -> None:
    with pytest.raises(DecodeError):
        decode_address(bytes.fromhex("020406"), 0, 3)  # 3 bytes, no end bit
    with pytest.raises(DecodeError):
        decode_address(bytes.fromhex("020405"), 0, 3)  # 3-byte address
    with pytest.raises(DecodeError):
        decode_address(bytes.fromhex("0204060809"), 0, 5)  # longer than 4
    with pytest.raises(ValueError):
        HdlcAddress(upper=0x80, length=1)
    with pytest.raises(ValueError):
        HdlcAddress(upper=1, lower=None, length=2)
    with pytest.raises(ValueError):
        HdlcAddress(upper=1, length=3)
    assert HdlcAddress.server(0x7F).is_all_station


def test_parameters_golden_ua() -> None:
    params = HdlcParameters.decode(UA_PARAMS)
    assert params == HdlcParameters(
        max_info_transmit=154, max_info_receive=154, window_transmit=1, window_receive=1
    )
    assert params.encode() == UA_PARAMS
    assert HdlcParameters().encode() == b""
    assert HdlcParameters.decode(b"") == HdlcParameters()
    assert HdlcParameters().tx_info == 128 and HdlcParameters().rx_window == 1
    # Only the parameters that differ from the default are sent, each in its minimal size.
    assert HdlcParameters(max_info_receive=1024).encode() == bytes.fromhex(
        "8180040602 0400".replace(" ", "")
    )


@pytest.mark.parametrize(
    "raw",
    [
        "81",  # too short
        "828004",  # wrong format id
        "818005050180",  # group length larger than content
        "8180020501",  # value runs past the end
        "818003050080",  # zero-length value? length 0 → error
        "8180060505 0000000001".replace(" ", ""),  # 5-byte value
        "818006070400000009",  # window 9 > 7
    ],
)
def test_parameters_errors(raw: str) -> None:
    with pytest.raises(DecodeError):
        HdlcParameters.decode(bytes.fromhex(raw))


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        (SNRM[:-1], "short"),
        (b"\x00" + SNRM[1:], "no opening flag"),
        (SNRM[:-1] + b"\x00", "no closing flag"),
        (SNRM[:1] + b"\xb0" + SNRM[2:], "not type 3"),
        (SNRM[:2] + b"\x09" + SNRM[3:], "length mismatch"),
        (SNRM[:-2] + b"\x00\x7e", "bad FCS"),
        (I_GET_CLOCK[:7] + b"\x00\x00" + I_GET_CLOCK[9:], "bad HCS"),
        (I_GET_CLOCK[:-4] + b"\x55" + I_GET_CLOCK[-3:], "bad FCS with info"),
    ],
)
def test_decode_frame_rejects(raw: bytes, what: str) -> None:
    with pytest.raises(DecodeError):
        decode_frame(raw)


def test_encode_rejects_oversized_frame() -> None:
    with pytest.raises(ValueError):
        HdlcFrame(destination=SERVER, source=CLIENT, control=0x10, info=bytes(2040)).encode()


def test_flag_inside_frame_is_not_a_delimiter() -> None:
    info = b"\xe6\xe6\x00" + b"\x7e" * 20 + b"\x7e\xa0\x07"
    frame = HdlcFrame.i_frame(
        destination=SERVER, source=CLIENT, send_sequence=0, receive_sequence=0, poll=True, info=info
    )
    reader = HdlcFrameReader()
    reader.feed(frame.encode())
    got = reader.next_frame()
    assert got == frame
    assert reader.next_frame() is None


def test_reader_split_merged_and_shared_flags() -> None:
    frames = [SNRM, I_GET_CLOCK, RR_1, DISC]
    stream = b"".join(frames)
    for size in (1, 2, 3, 7, 64):
        reader = HdlcFrameReader()
        got = []
        for i in range(0, len(stream), size):
            reader.feed(stream[i : i + size])
            while (frame := reader.next_frame()) is not None:
                got.append(frame.encode())
        assert got == frames
        assert reader.garbage_bytes == 0
    # One flag shared between consecutive frames (ISO/IEC 13239 allows it).
    shared = SNRM + I_GET_CLOCK[1:] + RR_1[1:]
    reader = HdlcFrameReader()
    reader.feed(shared)
    assert [reader.next_frame(), reader.next_frame(), reader.next_frame()] == [
        decode_frame(SNRM),
        decode_frame(I_GET_CLOCK),
        decode_frame(RR_1),
    ]


def test_reader_skips_garbage_bad_hcs_and_bad_fcs() -> None:
    bad_fcs = I_GET_CLOCK[:-3] + b"\x00\x00\x7e"
    bad_hcs = I_GET_CLOCK[:7] + b"\x12\x34" + I_GET_CLOCK[9:]
    fake_flag = b"\x7e\xa0\x50\x02"  # a flag with a plausible header that is not a frame
    stream = b"\x01\x02garbage" + fake_flag + SNRM + bad_fcs + b"\x7e\x7e" + bad_hcs + RR_1
    reader = HdlcFrameReader()
    reader.feed(stream)
    got = []
    while (frame := reader.next_frame()) is not None:
        got.append(frame.encode())
    assert got == [SNRM, RR_1]
    assert reader.bad_fcs == 1
    assert reader.bad_hcs >= 1
    assert reader.garbage_bytes > 0


def test_reader_waits_for_a_partial_frame_and_reports_it() -> None:
    reader = HdlcFrameReader()
    reader.feed(I_GET_CLOCK[:10])
    assert reader.next_frame() is None
    assert reader.in_frame
    reader.feed(I_GET_CLOCK[10:])
    assert reader.next_frame() == decode_frame(I_GET_CLOCK)


def test_reader_truncated_frames_at_every_position() -> None:
    for cut in range(1, len(I_GET_CLOCK)):
        reader = HdlcFrameReader()
        # A truncated frame, then good ones; the peer goes on sending (retransmissions),
        # so bytes enough to cover the length the truncated header claimed arrive.
        reader.feed(I_GET_CLOCK[:cut] + SNRM + RR_1 + DISC + RR_1 + DISC)
        got = []
        for _ in range(8):
            frame = reader.next_frame()
            if frame is not None:
                got.append(frame.encode())
        assert SNRM in got, f"lost the frame after a cut at {cut}"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_decode_frame_garbage_value_or_decode_error(data: bytes) -> None:
    try:
        frame = decode_frame(data)
    except DecodeError:
        return
    assert frame.encode() == data


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=60), max_size=8), st.binary(max_size=40))
def test_reader_garbage_never_crashes_and_recovers(chunks: list[bytes], tail: bytes) -> None:
    reader = HdlcFrameReader()
    for chunk in chunks:
        reader.feed(chunk)
        while reader.next_frame() is not None:
            pass
    # After any garbage, a flag-delimited good frame is found again.
    reader.feed(b"\x7e" + I_GET_CLOCK + SNRM)
    frames = []
    while (frame := reader.next_frame()) is not None:
        frames.append(frame.encode())
    assert SNRM in frames


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([1, 2, 4]),
    st.integers(0, 0x3FFF),
    st.integers(0, 0x3FFF),
    st.integers(0, 0xFF),
    st.binary(max_size=300),
    st.booleans(),
)
def test_frame_round_trip(
    length: int, upper: int, lower: int, control: int, info: bytes, segmented: bool
) -> None:
    if length == 1:
        server = HdlcAddress(upper=upper & 0x7F, length=1)
    elif length == 2:
        server = HdlcAddress(upper=upper & 0x7F, lower=lower & 0x7F, length=2)
    else:
        server = HdlcAddress(upper=upper, lower=lower, length=4)
    frame = HdlcFrame(
        destination=server, source=CLIENT, control=control, info=info, segmented=segmented
    )
    wire = frame.encode()
    assert decode_frame(wire) == frame
    reader = HdlcFrameReader()
    reader.feed(b"\x00\x7e" + wire)
    assert reader.next_frame() == frame


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_parameters_garbage_value_or_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        HdlcParameters.decode(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.integers(0, 20), st.integers(0, 20))
def test_fast_crc_equals_the_table_driven_reference(data: bytes, lead: int, tail: int) -> None:
    assert crc16(data) == crc16_table(data)
    end = max(lead, len(data) - tail)
    assert crc16(bytearray(data), lead, end) == crc16_table(data[lead:end])
    assert crc16(memoryview(data)) == crc16_table(data)
