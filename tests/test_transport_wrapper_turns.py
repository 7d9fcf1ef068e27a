"""The wrapper stream transport takes its send and receive turns without a scheduling
round trip when they are free, and still serialises concurrent callers, still lets other
tasks run while it drains WPDUs already buffered, and gives its turn back when cancelled."""

from __future__ import annotations

import trio
import trio.testing

from transports import WrapperFramer, WrapperStreamTransport, encode_wpdu


def _pair(
    stream: trio.abc.Stream,
) -> WrapperStreamTransport:
    return WrapperStreamTransport(stream, local_wport=0x10, remote_wport=0x01)


async def test_concurrent_senders_take_turns_whole_wpdus() -> None:
    # lockstep: each send_all waits for the reader, so the second sender finds the turn
    # taken and must queue for it
    ours, theirs = trio.testing.lockstep_stream_pair()
    transport = _pair(ours)
    apdus = [bytes([n]) * (200 + n) for n in range(6)]
    framer = WrapperFramer()
    received: list[bytes] = []

    async def reader() -> None:
        while len(received) < len(apdus):
            framer.feed(await theirs.receive_some(7))  # small reads: sends interleave
            while (wpdu := framer.next_wpdu()) is not None:
                assert (wpdu.source, wpdu.destination) == (0x10, 0x01)
                received.append(wpdu.apdu)

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(reader)
            for apdu in apdus:
                nursery.start_soon(transport.send_apdu, apdu)
    assert sorted(received) == sorted(apdus)


async def test_draining_buffered_wpdus_lets_other_tasks_run() -> None:
    ours, theirs = trio.testing.memory_stream_pair()
    transport = _pair(ours)
    flood = b"".join(encode_wpdu(0x01, 0x10, bytes([n, n])) for n in range(50))
    await theirs.send_all(flood)
    ticks: list[int] = []
    got: list[bytes] = []

    async def ticker() -> None:
        while len(got) < 50:
            ticks.append(len(got))
            await trio.lowlevel.checkpoint()

    async def drain() -> None:
        for _ in range(50):
            got.append(await transport.receive_apdu())

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(drain)
            nursery.start_soon(ticker)
    assert got == [bytes([n, n]) for n in range(50)]
    # the ticker ran between the WPDUs, not only before and after them all
    assert len({t for t in ticks if 0 < t < 50}) > 25


async def test_cancelled_receive_gives_the_turn_back() -> None:
    ours, theirs = trio.testing.memory_stream_pair()
    transport = _pair(ours)
    with trio.move_on_after(0.05) as scope:
        await transport.receive_apdu()
    assert scope.cancelled_caught
    await theirs.send_all(encode_wpdu(0x01, 0x10, b"late"))
    with trio.fail_after(5):
        assert await transport.receive_apdu() == b"late"
    await transport.send_apdu(b"answer")
    data = await theirs.receive_some(100)
    assert data == encode_wpdu(0x10, 0x01, b"answer")


async def test_concurrent_receivers_each_get_one_wpdu() -> None:
    ours, theirs = trio.testing.memory_stream_pair()
    transport = _pair(ours)
    got: list[bytes] = []

    async def receive() -> None:
        got.append(await transport.receive_apdu())

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            for _ in range(3):
                nursery.start_soon(receive)
            await trio.testing.wait_all_tasks_blocked()
            for n in range(3):
                await theirs.send_all(encode_wpdu(0x01, 0x10, bytes([n])))
    assert sorted(got) == [b"\x00", b"\x01", b"\x02"]


async def test_cancelled_while_a_wpdu_is_buffered_loses_nothing() -> None:
    ours, theirs = trio.testing.memory_stream_pair()
    transport = _pair(ours)
    await theirs.send_all(encode_wpdu(0x01, 0x10, b"one") + encode_wpdu(0x01, 0x10, b"two"))
    with trio.fail_after(5):
        assert await transport.receive_apdu() == b"one"
        with trio.CancelScope() as scope:
            scope.cancel()
            await transport.receive_apdu()
        assert scope.cancelled_caught
        assert await transport.receive_apdu() == b"two"
