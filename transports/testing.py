"""Conformance checks every :class:`~transports.ApduTransport` adapter must pass, and an
in-memory transport pair for tests (in the spirit of ``trio.testing``).

``await check_apdu_transport(make_pair)`` where ``make_pair()`` is an async context
manager yielding a connected ``(a, b)`` pair; for HDLC, ``a`` is the client. Each check
gets a fresh pair. A failing check raises ``AssertionError``.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import trio

from dlmskit.errors import TransportError
from transports._interface import ApduTransport, LinkAddress

__all__ = [
    "MemoryApduTransport",
    "check_apdu_transport",
    "memory_apdu_transport_pair",
    "open_memory_apdu_pair",
]

PairFactory = Callable[[], AbstractAsyncContextManager[tuple[ApduTransport, ApduTransport]]]


class MemoryApduTransport:
    """One end of an in-memory APDU link (trio memory channels)."""

    def __init__(
        self,
        send: trio.MemorySendChannel[bytes],
        receive: trio.MemoryReceiveChannel[bytes],
        *,
        local: LinkAddress,
        peer: LinkAddress,
    ) -> None:
        self._send = send
        self._receive = receive
        self._local = local
        self._peer = peer
        self._closed = False

    @property
    def local_address(self) -> LinkAddress:
        return self._local

    @property
    def peer_address(self) -> LinkAddress:
        return self._peer

    async def send_apdu(self, apdu: bytes) -> None:
        if self._closed:
            raise TransportError("transport is closed")
        try:
            await self._send.send(bytes(apdu))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise TransportError("peer closed the link") from None

    async def receive_apdu(self) -> bytes:
        if self._closed:
            raise TransportError("transport is closed")
        try:
            return await self._receive.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise TransportError("link closed") from None

    async def aclose(self) -> None:
        self._closed = True
        self._send.close()
        self._receive.close()
        await trio.lowlevel.checkpoint()


def memory_apdu_transport_pair(
    *, buffer: float = math.inf
) -> tuple[MemoryApduTransport, MemoryApduTransport]:
    """Two connected in-memory transports: what one sends, the other receives."""
    a_to_b_send, a_to_b_receive = trio.open_memory_channel[bytes](buffer)
    b_to_a_send, b_to_a_receive = trio.open_memory_channel[bytes](buffer)
    a_addr = LinkAddress(host="memory", sap=0x10)
    b_addr = LinkAddress(host="memory", sap=0x01)
    a = MemoryApduTransport(a_to_b_send, b_to_a_receive, local=a_addr, peer=b_addr)
    b = MemoryApduTransport(b_to_a_send, a_to_b_receive, local=b_addr, peer=a_addr)
    return a, b


@asynccontextmanager
async def open_memory_apdu_pair() -> AsyncIterator[tuple[ApduTransport, ApduTransport]]:
    """``memory_apdu_transport_pair`` as a ``make_pair`` factory for the checks."""
    a, b = memory_apdu_transport_pair()
    try:
        yield a, b
    finally:
        await a.aclose()
        await b.aclose()


def _pattern(size: int, seed: int) -> bytes:
    """Deterministic bytes full of framing look-alikes (0x7E flags, 0x00 0x01 versions)."""
    unit = bytes((0x7E, 0x00, 0x01, seed & 0xFF, 0xA0, 0xE6, 0xE7, 0x7D))
    body = bytes((i * 31 + seed) & 0xFF for i in range(251))
    data = (unit + body) * (size // (len(unit) + len(body)) + 1)
    return data[:size]


async def _expect_transport_error(call: Callable[[], Awaitable[object]], what: str) -> None:
    try:
        await call()
    except TransportError:
        return
    raise AssertionError(f"{what}: expected TransportError")


async def _basic(a: ApduTransport, b: ApduTransport) -> None:
    for end in (a, b):
        assert isinstance(end, ApduTransport), f"{end!r} lacks the ApduTransport interface"
        assert isinstance(end.local_address, LinkAddress)
        assert isinstance(end.peer_address, LinkAddress)
    request = bytes.fromhex("C001C100080000010000FF0200")
    await a.send_apdu(request)
    got = await b.receive_apdu()
    assert got == request, f"a→b delivered {got.hex()} instead of {request.hex()}"
    response = bytes.fromhex("C401C100090C07E6010101000000FF800000")
    await b.send_apdu(response)
    got = await a.receive_apdu()
    assert got == response, f"b→a delivered {got.hex()} instead of {response.hex()}"


async def _large(a: ApduTransport, b: ApduTransport, size: int) -> None:
    for sender, receiver, seed in ((a, b, 1), (b, a, 2)):
        data = _pattern(size, seed)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sender.send_apdu, data)
            got = await receiver.receive_apdu()
        assert len(got) == size, f"large APDU arrived with {len(got)} of {size} bytes"
        assert got == data, "large APDU arrived corrupted"


async def _many(a: ApduTransport, b: ApduTransport, count: int) -> None:
    for sender, receiver in ((a, b), (b, a)):
        messages = [bytes((i & 0xFF,)) * (1 + i % 9) for i in range(count)]
        received: list[bytes] = []

        async def send_all(
            sender: ApduTransport = sender, messages: list[bytes] = messages
        ) -> None:
            for message in messages:
                await sender.send_apdu(message)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(send_all)
            for _ in messages:
                received.append(await receiver.receive_apdu())
        assert received == messages, "small APDUs lost, duplicated or reordered"


async def _ping_pong(a: ApduTransport, b: ApduTransport, count: int) -> None:
    for i in range(count):
        request = bytes((0xC0, 0x01, i & 0xFF)) + bytes(i % 40)
        await a.send_apdu(request)
        assert await b.receive_apdu() == request
        response = bytes((0xC4, 0x01, i & 0xFF)) + bytes(range(i % 50))
        await b.send_apdu(response)
        assert await a.receive_apdu() == response


async def _simultaneous(a: ApduTransport, b: ApduTransport) -> None:
    """Both ends send at the same moment (a push crossing a request), then both receive."""
    got: dict[str, bytes] = {}

    async def exchange(me: ApduTransport, name: str, message: bytes) -> None:
        await me.send_apdu(message)
        got[name] = await me.receive_apdu()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(exchange, a, "a", b"\xc0\x01\xc1from-a")
        nursery.start_soon(exchange, b, "b", b"\x0f\x00\x00\x00\x01from-b")
    assert got == {"a": b"\x0f\x00\x00\x00\x01from-b", "b": b"\xc0\x01\xc1from-a"}, got


async def _cancellation(a: ApduTransport, b: ApduTransport) -> None:
    for sender, receiver in ((a, b), (b, a)):
        with trio.move_on_after(0.05) as scope:
            await receiver.receive_apdu()
            raise AssertionError("receive_apdu returned with nothing sent")
        assert scope.cancelled_caught, "receive_apdu did not honour the cancel scope"
        message = b"\xc0\x01\xc1after-cancel"
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sender.send_apdu, message)
            got = await receiver.receive_apdu()
        assert got == message, "transport unusable after a cancelled receive"


async def _close(closer: ApduTransport, other: ApduTransport, detects_peer_close: bool) -> None:
    """The peer is blocked in ``receive_apdu`` when ``closer`` closes (the usual case: a
    reader task); it must see ``TransportError``, and so must a later receive."""
    async with trio.open_nursery() as nursery:
        if detects_peer_close:
            nursery.start_soon(
                _expect_transport_error, other.receive_apdu, "receive while the peer closes"
            )
            await trio.sleep(0.01)
        await closer.aclose()
    await _expect_transport_error(closer.receive_apdu, "receive after local aclose")
    await _expect_transport_error(lambda: closer.send_apdu(b"\x01"), "send after local aclose")
    if detects_peer_close:
        await _expect_transport_error(other.receive_apdu, "receive after the peer closed")


async def check_apdu_transport(
    make_pair: PairFactory,
    *,
    large_size: int = 16_000,
    count: int = 40,
    detects_peer_close: bool = True,
    timeout: float = 30.0,
) -> None:
    """Run every check on fresh pairs from ``make_pair``; each is bounded by ``timeout``.

    ``detects_peer_close=False`` for connectionless media (UDP), where only a local close
    can be observed.
    """
    checks: list[tuple[str, Callable[[ApduTransport, ApduTransport], Awaitable[None]]]] = [
        ("send and receive both ways", _basic),
        ("large APDUs", lambda a, b: _large(a, b, large_size)),
        ("many small APDUs in a row", lambda a, b: _many(a, b, count)),
        ("request/response", lambda a, b: _ping_pong(a, b, count)),
        ("both ends send at once", _simultaneous),
        ("cancelled receive", _cancellation),
        ("close by a", lambda a, b: _close(a, b, detects_peer_close)),
        ("close by b", lambda a, b: _close(b, a, detects_peer_close)),
    ]
    for name, check in checks:
        try:
            with trio.fail_after(timeout):
                async with make_pair() as (a, b):
                    await check(a, b)
        except trio.TooSlowError:
            raise AssertionError(f"check {name!r} did not finish in {timeout} s") from None
        except AssertionError as exc:
            raise AssertionError(f"check {name!r}: {exc}") from exc
