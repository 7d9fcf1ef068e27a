"""A trio byte stream that delivers what it sends as a channel model says: cellular links
(GPRS, 4G, NB-IoT) under a TCP wrapper or HDLC-over-TCP connection, in tests and
simulations.

``open_channel_stream(inner, channel=GPRS_2G, link="meter-7", direction=...)`` wraps one
end of a stream. Each ``send_all`` is cut into segments of at most ``mss`` bytes (and
40 bytes of TCP/IP header within the channel's MTU); each
segment is decided by ``ChannelModel.transmit_reliably`` (a lost segment is re-sent after
a doubling retransmission timeout, so loss and outages become delay), and reaches the
peer at its arrival time, in order, never before the segment sent ahead of it; with a
``bandwidth`` a segment leaves only once the one before it is on the air. A segment
still lost after ``max_attempts`` breaks the stream: data sent before it is delivered,
then the inner stream is closed and further sends raise ``trio.BrokenResourceError``.
Receiving is the inner stream's; wrap both ends (``Direction.DOWNLINK`` on the head-end's
end, ``Direction.UPLINK`` on the meter's) to delay both ways. Channel time 0 is when the
stream opens. At most ``window`` segments are in flight; ``send_all`` waits beyond that.

Cellular presets carry NAT idle timeouts (2-5 min, ``ChannelModel.idle_timeout_for``):
a send after that long without traffic on this end finds the mapping gone, breaks the
stream and closes it towards the peer, as a carrier NAT silently dropping the session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import trio

from dlmskit.errors import LocalProtocolError
from transports._channel import ChannelModel, Direction

__all__ = ["ChannelStream", "open_channel_stream"]

_TCP_IP_HEADER = 40
"""TCP and IPv4 header bytes each segment adds on the air."""


class ChannelStream(trio.abc.Stream):
    """One end of a stream whose sends go through a channel model; see the module doc."""

    def __init__(
        self,
        inner: trio.abc.Stream,
        *,
        channel: ChannelModel,
        link: str,
        direction: Direction,
        mss: int,
        rto: float,
        max_attempts: int,
        window: int,
    ) -> None:
        self.inner = inner
        self.channel = channel
        self.link = link
        self.direction = direction
        # Segments carry their own TCP/IP header; the MTU bounds header and payload.
        self._segment_channel = attrs.evolve(channel, ip_overhead=0)
        if channel.mtu is not None:
            mss = min(mss, channel.mtu - _TCP_IP_HEADER)
        if mss < 1:
            raise LocalProtocolError("channel MTU too small for a TCP segment")
        self.mss = mss
        self.rto = rto
        self.max_attempts = max_attempts
        self.segments = 0
        self.retransmissions = 0
        self._origin = trio.current_time()
        self._seq = 0
        self._last_arrival = 0.0
        self._link_free = 0.0
        self.idle_timeout = channel.idle_timeout_for(link)
        """After this long without traffic the NAT forgets the session (``None``: never)."""
        self._last_activity = 0.0
        self._broken = False
        self._closed = False
        self._queue_send, self._queue_receive = trio.open_memory_channel[
            tuple[float, bytes] | None
        ](window)
        self._send_conflict = trio.Lock()
        self._drained = trio.Event()

    def now(self) -> float:
        """Channel time: seconds since the stream opened."""
        return trio.current_time() - self._origin

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self._send_conflict.locked():
            raise trio.BusyResourceError("another task is sending on this stream")
        async with self._send_conflict:
            if self._closed:
                raise trio.ClosedResourceError("stream is closed")
            if self._broken:
                raise trio.BrokenResourceError("the channel gave up on a segment")
            idle = self.now() - self._last_activity
            if self.idle_timeout is not None and idle > self.idle_timeout:
                self._broken = True
                await self._queue_send.send(None)
                raise trio.BrokenResourceError(
                    f"NAT mapping expired after {idle:.0f} s idle "
                    f"(timeout {self.idle_timeout:.0f} s)"
                )
            self._last_activity = self.now()
            payload = bytes(data)
            for start in range(0, len(payload), self.mss):
                segment = payload[start : start + self.mss]
                wire = len(segment) + _TCP_IP_HEADER
                departure = max(self.now(), self._link_free)
                if self.channel.bandwidth is not None:
                    self._link_free = departure + wire / self.channel.bandwidth
                tx = self._segment_channel.transmit_reliably(
                    link=self.link,
                    seq=self._seq,
                    at=departure,
                    size=wire,
                    direction=self.direction,
                    rto=self.rto,
                    max_attempts=self.max_attempts,
                )
                self._seq += 1
                self.segments += 1
                self.retransmissions += tx.attempts - 1
                if tx.arrival is None:
                    self._broken = True
                    await self._queue_send.send(None)
                    raise trio.BrokenResourceError("the channel gave up on a segment")
                self._last_arrival = max(self._last_arrival, tx.arrival)
                await self._queue_send.send((self._last_arrival, segment))
            await trio.lowlevel.checkpoint()

    async def wait_send_all_might_not_block(self) -> None:
        await self.inner.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        data = await self.inner.receive_some(max_bytes)
        self._last_activity = self.now()
        return data

    async def pump(self) -> None:
        """Deliver queued segments at their arrival times; run by ``open_channel_stream``."""
        try:
            async for item in self._queue_receive:
                if item is None:
                    await trio.aclose_forcefully(self.inner)
                    return
                arrival, segment = item
                await trio.sleep_until(self._origin + arrival)
                try:
                    await self.inner.send_all(segment)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    self._broken = True
                    return
        finally:
            self._drained.set()

    async def aclose(self) -> None:
        """Deliver what is on its way, then close the inner stream."""
        if self._closed:
            await trio.lowlevel.checkpoint()
            return
        self._closed = True
        self._queue_send.close()
        try:
            await self._drained.wait()
        finally:
            await trio.aclose_forcefully(self.inner)


@asynccontextmanager
async def open_channel_stream(
    inner: trio.abc.Stream,
    *,
    channel: ChannelModel,
    link: str,
    direction: Direction = Direction.DOWNLINK,
    mss: int = 1460,
    rto: float = 1.0,
    max_attempts: int = 8,
    window: int = 64,
) -> AsyncIterator[ChannelStream]:
    """Wrap ``inner`` for the duration of the block; the stream is closed on exit."""
    if mss < 1 or window < 1:
        raise LocalProtocolError("mss and window must be positive")
    async with trio.open_nursery() as nursery:
        stream = ChannelStream(
            inner,
            channel=channel,
            link=link,
            direction=direction,
            mss=mss,
            rto=rto,
            max_attempts=max_attempts,
            window=window,
        )
        nursery.start_soon(stream.pump)
        try:
            yield stream
        finally:
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(stream.inner)
            stream._closed = True
            nursery.cancel_scope.cancel()
