"""Wi-SUN border-router model: real UDP datagrams on loopback, virtual time (MockClock)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import pytest
import trio
import trio.testing

from dlmskit.errors import LocalProtocolError
from transports import (
    WISUN_DEFAULT,
    ApduTransport,
    ChannelModel,
    Direction,
    LossCause,
    OutageWindow,
    decode_wpdu,
    encode_wpdu,
    loopback_host,
    open_border_router,
    open_udp_endpoint,
)
from transports.testing import check_apdu_transport

HOST = loopback_host()
FAMILY = socket.AF_INET6 if ":" in HOST else socket.AF_INET
QUIET = attrs.evolve(WISUN_DEFAULT, hop_jitter=0.0, hop_loss=0.0, outage_probability=0.0)


@pytest.fixture
def net_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 2 ms of real idleness, so a datagram still in
    the kernel's loopback path is not overtaken by a jump."""
    return trio.testing.MockClock(autojump_threshold=0.002)


async def _udp() -> trio.socket.SocketType:
    sock = trio.socket.socket(FAMILY, socket.SOCK_DGRAM)
    await sock.bind((HOST, 0))
    return sock


def _response_to(request: bytes) -> bytes:
    """What the test meter answers: wPorts swapped, first APDU byte + 4, body echoed."""
    wpdu = decode_wpdu(request)
    return encode_wpdu(wpdu.destination, wpdu.source, bytes([wpdu.apdu[0] + 4]) + wpdu.apdu[1:])


@asynccontextmanager
async def _meters(count: int) -> AsyncIterator[dict[str, tuple[str, int]]]:
    """``count`` UDP meters on loopback that answer every WPDU."""

    async def serve(sock: trio.socket.SocketType) -> None:
        with sock:
            while True:
                data, sender = await sock.recvfrom(65535)
                await sock.sendto(_response_to(data), sender)

    async with trio.open_nursery() as nursery:
        addresses = {}
        for i in range(count):
            sock = await _udp()
            addresses[f"meter-{i}"] = sock.getsockname()[:2]
            nursery.start_soon(serve, sock)
        yield addresses
        nursery.cancel_scope.cancel()


def _request(tag: int, size: int = 13) -> bytes:
    body = bytes([0xC0, 0x01]) + tag.to_bytes(4, "big") + bytes(max(0, size - 6))
    return encode_wpdu(0x10, 0x01, body)


async def _exchange(
    head_end: trio.socket.SocketType, address: tuple[str, int], wpdu: bytes, timeout: float
) -> tuple[bytes, float] | None:
    start = trio.current_time()
    await head_end.sendto(wpdu, address)
    with trio.move_on_after(timeout):
        data, sender = await head_end.recvfrom(65535)
        assert sender[:2] == address
        return data, trio.current_time() - start
    return None


async def test_round_trip_time_follows_hop_count(net_clock: trio.testing.MockClock) -> None:
    async with _meters(6) as meters, open_border_router(channel=QUIET, meters=meters) as router:
        head_end = await _udp()
        with head_end:
            for meter_id in meters:
                address = router.address_of(meter_id)
                assert address[0] == HOST
                result = await _exchange(head_end, address, _request(1), timeout=5.0)
                assert result is not None
                data, rtt = result
                assert data == _response_to(_request(1))
                hops = router.hops_of(meter_id)
                assert rtt == pytest.approx(2 * (0.121 + 0.066 * hops), abs=1e-6)
        assert router.stats.delivered == {Direction.DOWNLINK: 6, Direction.UPLINK: 6}


async def test_large_datagram_is_fragmented_and_reassembled(
    net_clock: trio.testing.MockClock,
) -> None:
    channel = attrs.evolve(QUIET, frame_payload=127, hop_weights=(0.0, 1.0))
    async with _meters(1) as meters, open_border_router(channel=channel, meters=meters) as router:
        head_end = await _udp()
        with head_end:
            wpdu = _request(7, size=1200)
            result = await _exchange(head_end, router.address_of("meter-0"), wpdu, 5.0)
            assert result is not None
            assert result[0] == _response_to(wpdu)
    frames_each_way = len(channel.frame_sizes(len(wpdu)))
    assert frames_each_way == 1 + -(-(len(wpdu) - 120) // 120) == 11
    assert router.stats.fragments == 2 * frames_each_way
    assert router.stats.fragments_lost == 0


def _lossy_channel(seed: int) -> ChannelModel:
    return ChannelModel(
        name="wisun-lossy",
        seed=seed,
        base_latency=0.1,
        hop_latency=0.066,
        hop_jitter=0.03,
        hop_loss=0.03,
        hop_weights=(0.0, 0.0, 1.0),
        frame_payload=127,
    )


async def _lossy_run(seed: int) -> list[int]:
    answered = []
    channel = _lossy_channel(seed)
    async with _meters(1) as meters, open_border_router(channel=channel, meters=meters) as router:
        head_end = await _udp()
        with head_end:
            for n in range(40):
                if await _exchange(head_end, router.address_of("meter-0"), _request(n, 300), 3.0):
                    answered.append(n)
    return answered


def _predicted(seed: int) -> list[int]:
    """Which exchanges the channel model says complete within the 3 s timeout."""
    channel = _lossy_channel(seed)
    size = len(_request(0, 300))
    answered = []
    uplink_seq = 0
    for n in range(40):
        down = channel.transmit(link="meter-0", seq=n, at=0.0, size=size)
        if down.latency is None:
            continue
        up = channel.transmit(
            link="meter-0", seq=uplink_seq, at=0.0, size=size, direction=Direction.UPLINK
        )
        uplink_seq += 1
        if up.latency is not None and down.latency + up.latency < 3.0:
            answered.append(n)
    return answered


async def test_loss_is_deterministic_and_matches_the_model(
    net_clock: trio.testing.MockClock,
) -> None:
    first = await _lossy_run(seed=5)
    assert first == await _lossy_run(seed=5) == _predicted(5)
    assert await _lossy_run(seed=6) == _predicted(6) != first
    # 3 hops x 3 frames x 3 % per direction: about 24 % lost per leg, 42 % per exchange.
    assert 10 <= len(first) <= 38


async def test_scheduled_outage_drops_then_recovers(net_clock: trio.testing.MockClock) -> None:
    channel = attrs.evolve(QUIET, outages=(OutageWindow(start=10.0, end=70.0, link="meter-0"),))
    async with _meters(2) as meters, open_border_router(channel=channel, meters=meters) as router:
        head_end = await _udp()
        with head_end:
            up = router.address_of("meter-0")
            other = router.address_of("meter-1")
            assert await _exchange(head_end, up, _request(1), 5.0) is not None
            await trio.sleep(20.0 - router.now())
            assert await _exchange(head_end, up, _request(2), 5.0) is None
            assert await _exchange(head_end, other, _request(3), 5.0) is not None
            await trio.sleep(70.0 - router.now())
            assert await _exchange(head_end, up, _request(4), 5.0) is not None
    assert router.stats.lost[LossCause.OUTAGE] == 1


async def test_meter_push_goes_to_push_destination(net_clock: trio.testing.MockClock) -> None:
    collector = await _udp()
    meter = await _udp()
    with collector, meter:
        async with open_border_router(
            channel=QUIET,
            meters={"m": meter.getsockname()[:2]},
            push_destination=collector.getsockname()[:2],
        ) as router:
            push = encode_wpdu(
                0x01, 0x40, bytes.fromhex("0F0000000100") + bytes([0x12, 0x00, 0x07])
            )
            await meter.sendto(push, router.meter_side_address)
            with trio.fail_after(5):
                data, sender = await collector.recvfrom(65535)
            assert data == push
            assert sender[:2] == router.address_of("m")


async def test_unknown_sender_and_oversized_datagram_are_counted(
    net_clock: trio.testing.MockClock,
) -> None:
    async with _meters(1) as meters, open_border_router(channel=QUIET, meters=meters) as router:
        stranger = await _udp()
        head_end = await _udp()
        with stranger, head_end:
            await stranger.sendto(_request(1), router.meter_side_address)
            assert (
                await _exchange(head_end, router.address_of("meter-0"), _request(2, 1300), 3)
                is None
            )
            await trio.sleep(1)
    assert router.stats.strangers == 1
    assert router.stats.lost[LossCause.TOO_BIG] == 1


@asynccontextmanager
async def _adapter_pair() -> AsyncIterator[tuple[ApduTransport, ApduTransport]]:
    """(head-end UDP transport to the meter's routed address, the meter's UDP transport)."""
    channel = attrs.evolve(QUIET, frame_payload=127)
    async with (
        open_udp_endpoint(HOST, 0) as meter_end,
        open_border_router(channel=channel, meters={"m": meter_end.sockname}) as router,
        open_udp_endpoint(HOST, 0) as head_end,
    ):
        a = head_end.peer(*router.address_of("m"), local_wport=0x10, remote_wport=0x01)
        b = meter_end.peer(*router.meter_side_address, local_wport=0x01, remote_wport=0x10)
        yield a, b


async def test_udp_adapters_through_the_router_pass_the_conformance_checks(
    net_clock: trio.testing.MockClock,
) -> None:
    # 1224 bytes + 8 of wrapper + 48 of UDP/IPv6 header fill the 1280-byte IPv6 MTU.
    await check_apdu_transport(_adapter_pair, large_size=1224, count=20, detects_peer_close=False)


async def test_datagrams_keep_their_order_despite_jitter(
    net_clock: trio.testing.MockClock,
) -> None:
    channel = attrs.evolve(WISUN_DEFAULT, hop_loss=0.0, outage_probability=0.0, seed=8)
    async with _meters(1) as meters, open_border_router(channel=channel, meters=meters) as router:
        head_end = await _udp()
        with head_end:
            sizes = [13 + (n * 97) % 1200 for n in range(30)]
            for n, size in enumerate(sizes):
                await head_end.sendto(_request(n, size), router.address_of("meter-0"))
            got = []
            with trio.fail_after(30):
                for _ in sizes:
                    data, _sender = await head_end.recvfrom(65535)
                    got.append(int.from_bytes(decode_wpdu(data).apdu[2:6], "big"))
    assert got == list(range(30))
    # Without the ordering the jitter and the fragment counts would have reordered them.
    arrivals = []
    for n, size in enumerate(sizes):
        tx = channel.transmit(link="meter-0", seq=n, at=0.0, size=len(_request(n, size)))
        assert tx.arrival is not None
        arrivals.append(tx.arrival)
    assert arrivals != sorted(arrivals)


async def test_each_meter_on_its_own_ipv4_loopback_address(
    net_clock: trio.testing.MockClock,
) -> None:
    meter_socks = []
    for _ in range(3):
        sock = trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        await sock.bind(("127.0.0.1", 0))
        meter_socks.append(sock)

    async def answer(sock: trio.socket.SocketType) -> None:
        data, sender = await sock.recvfrom(65535)
        await sock.sendto(_response_to(data), sender)

    async with (
        open_border_router(channel=QUIET, host="127.0.0.1") as router,
        trio.open_nursery() as nursery,
    ):
        for n, sock in enumerate(meter_socks):
            routed = await router.add_meter(
                f"m{n}", sock.getsockname(), routed_address=(f"127.0.7.{n + 1}", 0)
            )
            assert routed[0] == f"127.0.7.{n + 1}"
            nursery.start_soon(answer, sock)
        head_end = trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        await head_end.bind(("127.0.0.1", 0))
        with head_end:
            for n in range(3):
                result = await _exchange(head_end, router.address_of(f"m{n}"), _request(n), 5.0)
                assert result is not None and result[0] == _response_to(_request(n))
    for sock in meter_socks:
        sock.close()


@asynccontextmanager
async def _in_process_pair() -> AsyncIterator[tuple[ApduTransport, ApduTransport]]:
    channel = attrs.evolve(QUIET, frame_payload=127)
    async with (
        open_border_router(channel=channel, meters={"m": None}) as router,
        open_udp_endpoint(HOST, 0) as head_end,
    ):
        a = head_end.peer(*router.address_of("m"), local_wport=0x10, remote_wport=0x01)
        b = router.meter_link("m")
        # The in-process meter learns its wPorts from the first WPDU.
        await a.send_apdu(b"\xc0\x01")
        assert await b.receive_apdu() == b"\xc0\x01"
        yield a, b


async def test_in_process_meter_passes_the_conformance_checks(
    net_clock: trio.testing.MockClock,
) -> None:
    await check_apdu_transport(
        _in_process_pair, large_size=1224, count=20, detects_peer_close=False, timeout=600.0
    )


async def test_fleet_of_in_process_meters(net_clock: trio.testing.MockClock) -> None:
    ids = [f"meter-{n}" for n in range(100)]
    async with (
        open_border_router(channel=QUIET, meters=dict.fromkeys(ids)) as router,
        trio.open_nursery() as nursery,
    ):

        async def answer(meter_id: str) -> None:
            link = router.meter_link(meter_id)
            wpdu = await link.receive_wpdu()
            await link.send_apdu(b"\xc4" + wpdu.apdu[1:])

        for meter_id in ids:
            nursery.start_soon(answer, meter_id)
        head_end = await _udp()
        with head_end:
            for n, meter_id in enumerate(ids):
                await head_end.sendto(_request(n), router.address_of(meter_id))
            replies = {}
            with trio.fail_after(30):
                for _ in ids:
                    data, sender = await head_end.recvfrom(65535)
                    replies[sender[:2]] = decode_wpdu(data).apdu
        with pytest.raises(LocalProtocolError):
            await router.add_meter("meter-0")
    assert replies == {
        router.address_of(m): b"\xc4" + decode_wpdu(_request(n)).apdu[1:] for n, m in enumerate(ids)
    }
    assert router.stats.delivered == {Direction.DOWNLINK: 100, Direction.UPLINK: 100}


async def test_a_datagram_that_cannot_be_reassembled_holds_nothing_up(
    net_clock: trio.testing.MockClock,
) -> None:
    # Fragments spread by jitter over more than the reassembly timeout never make a
    # datagram; the small datagram sent after it must still be handed over.
    channel = attrs.evolve(QUIET, hop_jitter=0.06, frame_payload=127, hop_weights=(0, 0, 1.0))
    async with (
        _meters(1) as meters,
        open_border_router(channel=channel, meters=meters, reassembly_timeout=0.001) as router,
    ):
        head_end = await _udp()
        with head_end:
            address = router.address_of("meter-0")
            await head_end.sendto(_request(1, 1000), address)
            await head_end.sendto(_request(2), address)
            with trio.fail_after(10):
                data, _sender = await head_end.recvfrom(65535)
            assert data == _response_to(_request(2))
    assert router.stats.reassembly_failed == 1
