"""HDLC frames that share one flag between them (7E frame 7E frame 7E, IEC 62056-46 6.3):
the stream reader splits them whatever the chunking, and the translator decodes a
capture of them and encodes it back to the same bytes. Frames come from gurux-dlms."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.client._translate import build, describe
from transports import HdlcFrameReader, decode_frame

gurux_dlms = pytest.importorskip("gurux_dlms")

from gurux_dlms import GXDLMSClient  # noqa: E402
from gurux_dlms.enums import Authentication, InterfaceType  # noqa: E402
from gurux_dlms.objects import GXDLMSClock, GXDLMSRegister  # noqa: E402


def _frames(value: Any) -> list[bytes]:
    if isinstance(value, list | tuple):
        return [frame for item in value for frame in _frames(item)]
    return [] if value is None else [bytes(value)]


def gurux_frames() -> list[bytes]:
    """SNRM, a segmented AARQ, GETs and DISC as gurux builds them, each with both flags."""
    address = GXDLMSClient.getServerAddress(1, 0x11)
    client = GXDLMSClient(True, 0x10, address, Authentication.NONE, None, InterfaceType.HDLC)
    client.hdlcSettings.maxInfoTX = 32
    frames = _frames(client.snrmRequest())
    frames += _frames(client.aarqRequest())
    frames += _frames(client.read(GXDLMSClock("0.0.1.0.0.255"), 2))
    frames += _frames(client.read(GXDLMSRegister("1.0.1.8.0.255"), 3))
    frames += _frames(client.disconnectRequest(True))
    assert all(f[0] == f[-1] == 0x7E for f in frames)
    return frames


FRAMES = gurux_frames()


def shared(frames: list[bytes]) -> bytes:
    """The frames with one flag between neighbours."""
    return frames[0] + b"".join(frame[1:] for frame in frames[1:])


def test_the_corpus_has_segmented_frames() -> None:
    assert len(FRAMES) >= 5
    assert any(decode_frame(f).segmented for f in FRAMES)


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=12))
def test_the_reader_splits_frames_sharing_flags_in_any_chunking(cuts: list[int]) -> None:
    stream = shared(FRAMES)
    reader = HdlcFrameReader()
    got = []
    position = 0
    for cut in [*sorted(set(cuts)), len(stream)]:
        reader.feed(stream[position:cut])
        position = max(position, cut)
        while (frame := reader.next_frame()) is not None:
            got.append(frame)
    assert got == [decode_frame(f) for f in FRAMES]
    assert reader.garbage_bytes == 0 and reader.bad_fcs == 0


def test_mixed_shared_and_separate_flags() -> None:
    stream = FRAMES[0] + FRAMES[1][1:] + FRAMES[2] + FRAMES[3][1:]
    reader = HdlcFrameReader()
    reader.feed(stream)
    got = []
    while (frame := reader.next_frame()) is not None:
        got.append(frame)
    assert got == [decode_frame(f) for f in FRAMES[:4]]


def test_the_translator_splits_a_shared_flag_capture_and_rebuilds_it() -> None:
    capture = shared(FRAMES)
    description = describe(capture)
    assert description["kind"] == "frames"
    frames = description["frames"]
    assert len(frames) == len(FRAMES)
    assert [bool(f.get("shared_flag")) for f in frames] == [False] + [True] * (len(FRAMES) - 1)
    for frame, wire in zip(frames, FRAMES, strict=True):
        assert build({k: v for k, v in frame.items() if k != "shared_flag"}) == wire
    assert build(json.loads(json.dumps(description))) == capture
    # the segmented AARQ is shown reassembled
    assert any(r["apdu"]["$"] == "AARQ" for r in description["_reassembled"])


def test_mixed_capture_round_trips() -> None:
    capture = FRAMES[0] + FRAMES[1] + FRAMES[2][1:]
    description = describe(capture)
    assert [bool(f.get("shared_flag")) for f in description["frames"]] == [False, False, True]
    assert build(description) == capture


def test_cli_decode_and_encode_of_shared_flags() -> None:
    capture = shared(FRAMES[:3])
    env = {**os.environ, "COLUMNS": "200"}
    dlmskit = str(Path(sys.executable).with_name("dlmskit"))
    decoded = subprocess.run(
        [dlmskit, "decode", "--json", capture.hex()],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    encoded = subprocess.run(
        [dlmskit, "encode"],
        input=decoded.stdout,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert bytes.fromhex(encoded.stdout.strip()) == capture


def test_cli_tree_says_which_frames_share_a_flag() -> None:
    dlmskit = str(Path(sys.executable).with_name("dlmskit"))
    result = subprocess.run(
        [dlmskit, "decode", shared(FRAMES[:2]).hex()],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=True,
    )
    assert result.stdout.count("opening flag: the closing flag of the frame before") == 1
