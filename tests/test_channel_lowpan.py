"""6LoWPAN fragmentation (RFC 4944 §5.3): header bytes, round trips, loss, timeouts, garbage."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.errors import DecodeError, LocalProtocolError
from transports import LowpanReassembler, decode_lowpan_frame, fragment_datagram
from transports._channel_lowpan import frame_sizes


def test_frag1_and_fragn_header_bytes() -> None:
    datagram = bytes(range(256)) + bytes(44)  # 300 bytes
    frames = fragment_datagram(datagram, tag=0x1234, frame_payload=127)
    # FRAG1: 11000 + size 300 (0x12C) -> C1 2C, tag 12 34; 123 // 8 * 8 = 120 payload bytes.
    assert frames[0][:4] == bytes.fromhex("C12C1234")
    assert frames[0][4:] == datagram[:120]
    # FRAGN: 11100 + size -> E1 2C, tag, offset 120 / 8 = 15; 122 // 8 * 8 = 120 bytes.
    assert frames[1][:5] == bytes.fromhex("E12C12340F")
    assert frames[1][5:] == datagram[120:240]
    assert frames[2][:5] == bytes.fromhex("E12C12341E")
    assert frames[2][5:] == datagram[240:]
    assert [len(f) for f in frames] == list(frame_sizes(300, 127)) == [124, 125, 65]
    assert all(len(f) <= 127 for f in frames)


def test_small_datagram_travels_unfragmented() -> None:
    wpdu = bytes.fromhex("0001001000010001D8")
    frames = fragment_datagram(wpdu, tag=1, frame_payload=127)
    assert frames == [b"\x41" + wpdu]
    assert frame_sizes(len(wpdu), 127) == (10,)
    assert frame_sizes(len(wpdu), None) == (9,)
    assert LowpanReassembler().receive(frames[0], now=0.0) == wpdu


@settings(max_examples=150, deadline=None)
@given(
    datagram=st.binary(min_size=1, max_size=2047),
    frame_payload=st.integers(13, 300),
    tag=st.integers(0, 0xFFFF),
    seed=st.integers(0, 1000),
)
def test_round_trip_in_any_order(datagram: bytes, frame_payload: int, tag: int, seed: int) -> None:
    frames = fragment_datagram(datagram, tag=tag, frame_payload=frame_payload)
    assert all(len(f) <= frame_payload for f in frames)
    random.Random(seed).shuffle(frames)
    frames.append(frames[0])  # a duplicate is ignored
    r = LowpanReassembler()
    out = [r.receive(f, now=1.0, source="m") for f in frames]
    assert out.count(datagram) == 1 + (len(frames) == 2)
    assert r.pending == 0 or len(frames) > 2


def test_loss_of_any_fragment_loses_the_datagram_after_timeout() -> None:
    datagram = bytes(range(200)) * 3
    frames = fragment_datagram(datagram, tag=7, frame_payload=100)
    for missing in range(len(frames)):
        r = LowpanReassembler(timeout=60.0)
        results = [
            r.receive(f, now=float(i), source="a") for i, f in enumerate(frames) if i != missing
        ]
        assert all(x is None for x in results)
        assert r.pending == 1
        assert r.expire(59.5) == 0
        assert r.expire(61.5) == 1
        assert (r.pending, r.expired) == (0, 1)
        # The late fragment alone starts a fresh buffer; it cannot complete the datagram.
        assert r.receive(frames[missing], now=62.0, source="a") is None


def test_sources_and_tags_are_kept_apart() -> None:
    a = bytes([1]) * 500
    b = bytes([2]) * 500
    fa = fragment_datagram(a, tag=5, frame_payload=127)
    fb = fragment_datagram(b, tag=5, frame_payload=127)
    r = LowpanReassembler()
    got = []
    for x, y in zip(fa, fb, strict=True):
        got.append(r.receive(x, now=0.0, source="meter-a"))
        got.append(r.receive(y, now=0.0, source="meter-b"))
    assert [g for g in got if g is not None] == [a, b]


def test_inconsistent_overlap_discards_the_buffer() -> None:
    first = fragment_datagram(bytes(400), tag=9, frame_payload=127)
    other = fragment_datagram(bytes([0xFF]) * 400, tag=9, frame_payload=127)
    r = LowpanReassembler()
    assert r.receive(first[0], now=0.0) is None
    assert r.receive(first[1], now=0.0) is None
    assert r.receive(other[1], now=0.0) is None
    assert r.discarded == 1
    assert r.receive(other[0], now=0.0) is None
    assert r.receive(other[2], now=0.0) is None
    assert r.receive(other[3], now=0.0) == bytes([0xFF]) * 400


def test_max_pending_drops_the_oldest() -> None:
    r = LowpanReassembler(max_pending=2)
    heads = [fragment_datagram(bytes(300), tag=t, frame_payload=127) for t in range(3)]
    for t, frames in enumerate(heads):
        r.receive(frames[0], now=float(t))
    assert (r.pending, r.expired) == (2, 1)
    for f in heads[0][1:]:
        assert r.receive(f, now=3.0) is None
    done = [r.receive(f, now=3.0) for f in heads[2][1:]]
    assert done[-1] == bytes(300)


@pytest.mark.parametrize(
    ("frame", "offset"),
    [
        (b"", 0),
        (b"\x41", 1),
        (b"\x00\x01", 0),
        (b"\xc1\x2c\x12", 3),
        (bytes.fromhex("C0001234") + bytes(8), 0),  # datagram_size 0
        (bytes.fromhex("E12C123400") + bytes(8), 4),  # FRAGN at offset 0
        (bytes.fromhex("C12C1234"), 4),  # no payload
        (bytes.fromhex("C0081234") + bytes(9), 4),  # past datagram_size 8
        (bytes.fromhex("C12C1234") + bytes(7), 4),  # non-final, not a multiple of 8
    ],
)
def test_malformed_frames(frame: bytes, offset: int) -> None:
    with pytest.raises(DecodeError) as info:
        decode_lowpan_frame(frame)
    assert info.value.offset == offset


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_gives_a_frame_or_decode_error(frame: bytes) -> None:
    r = LowpanReassembler()
    try:
        out = r.receive(frame, now=0.0)
    except DecodeError as exc:
        assert 0 <= exc.offset <= len(frame)
    else:
        assert out is None or len(out) == decode_lowpan_frame(frame).datagram_size


def test_every_truncation_decodes_or_raises_decode_error() -> None:
    frames = fragment_datagram(bytes(range(250)), tag=3, frame_payload=127)
    r = LowpanReassembler()
    for frame in frames:
        for cut in range(len(frame) + 1):
            try:
                decoded = decode_lowpan_frame(frame[:cut])
            except DecodeError:
                continue
            assert decoded.offset + len(decoded.payload) <= decoded.datagram_size
            r.receive(frame[:cut], now=0.0)


@pytest.mark.parametrize(
    ("size", "frame_payload", "tag"),
    [(0, 127, 0), (2048, 127, 0), (100, 12, 0), (100, 127, 0x10000), (100, 127, -1)],
)
def test_fragmenter_rejects_what_the_format_cannot_carry(
    size: int, frame_payload: int, tag: int
) -> None:
    with pytest.raises(LocalProtocolError):
        fragment_datagram(bytes(size), tag=tag, frame_payload=frame_payload)
