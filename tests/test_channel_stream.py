"""Channel-shaped trio streams (cellular TCP links) in virtual time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio
import trio.testing

from transports import (
    GPRS_2G,
    NB_IOT,
    ApduTransport,
    ChannelModel,
    Direction,
    OutageWindow,
    WrapperStreamTransport,
    open_channel_stream,
)
from transports.testing import check_apdu_transport


@asynccontextmanager
async def _wrapper_pair(
    channel: ChannelModel,
) -> AsyncIterator[tuple[ApduTransport, ApduTransport]]:
    left, right = trio.testing.memory_stream_pair()
    async with (
        open_channel_stream(left, channel=channel, link="m", direction=Direction.DOWNLINK) as a,
        open_channel_stream(right, channel=channel, link="m", direction=Direction.UPLINK) as b,
    ):
        yield (
            WrapperStreamTransport(a, local_wport=0x10, remote_wport=0x01),
            WrapperStreamTransport(b, local_wport=0x01, remote_wport=0x10),
        )


@pytest.mark.parametrize("channel", [GPRS_2G, NB_IOT], ids=["gprs", "nb-iot"])
async def test_wrapper_over_cellular_passes_the_conformance_checks(
    channel: ChannelModel, autojump_clock: trio.testing.MockClock
) -> None:
    await check_apdu_transport(lambda: _wrapper_pair(channel), timeout=3600.0)


async def test_latency_and_serialisation_follow_the_model(
    autojump_clock: trio.testing.MockClock,
) -> None:
    channel = ChannelModel(name="fixed", hop_latency=0.4, bandwidth=5000.0)
    left, right = trio.testing.memory_stream_pair()
    async with open_channel_stream(left, channel=channel, link="m") as stream:
        start = trio.current_time()
        await stream.send_all(bytes(960))
        assert await right.receive_some(100_000) == bytes(960)
        # 0.4 s one way plus (960 + 40) bytes at 5000 B/s.
        assert trio.current_time() - start == pytest.approx(0.6)
        start = trio.current_time()
        await stream.send_all(bytes(3000))  # three segments of at most 1460 bytes
        got = b""
        while len(got) < 3000:
            got += await right.receive_some(100_000)
        assert stream.segments == 4
        # Segments queue behind each other: 1500 + 1500 + 120 bytes on the air.
        assert trio.current_time() - start == pytest.approx(0.4 + 3120 / 5000)


async def test_loss_becomes_delay_and_order_is_kept(autojump_clock: trio.testing.MockClock) -> None:
    channel = ChannelModel(name="lossy", seed=4, hop_latency=0.3, hop_jitter=0.2, hop_loss=0.3)
    left, right = trio.testing.memory_stream_pair()
    message = bytes(i & 0xFF for i in range(50 * 200))
    async with open_channel_stream(left, channel=channel, link="m", mss=200) as stream:
        start = trio.current_time()
        await stream.send_all(message)
        got = b""
        while len(got) < len(message):
            got += await right.receive_some(100_000)
        elapsed = trio.current_time() - start
    assert got == message
    assert stream.segments == 50
    assert stream.retransmissions >= 5
    expected = max(
        channel.transmit_reliably(link="m", seq=s, at=0.0, size=240).arrival or 0.0
        for s in range(50)
    )
    assert elapsed == pytest.approx(expected)


async def test_a_segment_lost_for_good_breaks_the_stream(
    autojump_clock: trio.testing.MockClock,
) -> None:
    channel = ChannelModel(
        name="down", hop_latency=0.1, outages=(OutageWindow(start=5.0, end=10_000.0),)
    )
    left, right = trio.testing.memory_stream_pair()
    async with open_channel_stream(left, channel=channel, link="m", max_attempts=4) as stream:
        await stream.send_all(b"before")
        await trio.sleep(5.0)
        with pytest.raises(trio.BrokenResourceError):
            await stream.send_all(b"during")
        with pytest.raises(trio.BrokenResourceError):
            await stream.send_all(b"again")
        assert await right.receive_some(100) == b"before"
        assert await right.receive_some(100) == b""


async def test_close_delivers_what_is_on_its_way(autojump_clock: trio.testing.MockClock) -> None:
    channel = ChannelModel(name="slow", hop_latency=2.0)
    left, right = trio.testing.memory_stream_pair()
    async with open_channel_stream(left, channel=channel, link="m") as stream:
        await stream.send_all(b"last words")
        await stream.aclose()
        assert await right.receive_some(100) == b"last words"
        assert await right.receive_some(100) == b""
        with pytest.raises(trio.ClosedResourceError):
            await stream.send_all(b"more")


async def test_nat_idle_timeout_breaks_a_quiet_session(
    autojump_clock: trio.testing.MockClock,
) -> None:
    left, right = trio.testing.memory_stream_pair()
    async with open_channel_stream(left, channel=GPRS_2G, link="meter-9") as stream:
        timeout = stream.idle_timeout
        assert timeout is not None and 120.0 <= timeout <= 300.0
        assert timeout == GPRS_2G.idle_timeout_for("meter-9")
        # Traffic at intervals below the timeout keeps the mapping alive.
        for n in range(3):
            await trio.sleep(timeout - 1.0)
            await stream.send_all(bytes([n]))
            assert await right.receive_some(10) == bytes([n])
        # Replies count as traffic too.
        await trio.sleep(timeout - 1.0)
        await right.send_all(b"reply")
        assert await stream.receive_some(10) == b"reply"
        await trio.sleep(timeout - 1.0)
        await stream.send_all(b"still alive")
        assert await right.receive_some(20) == b"still alive"
        await trio.sleep(timeout + 1.0)
        with pytest.raises(trio.BrokenResourceError, match="NAT"):
            await stream.send_all(b"too late")
        with trio.fail_after(10):
            assert await right.receive_some(10) == b""
