"""RF mesh DCU model: head-end over TCP (wrapper + gateway APDUs), meters over UDP, all on
loopback sockets, in virtual time (MockClock)."""

from __future__ import annotations

import random
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import attrs
import pytest
import trio
import trio.testing

from dlmskit.errors import LocalProtocolError
from transports import (
    RF_MESH_DEFAULT,
    ChannelModel,
    Direction,
    GatewayRequest,
    GatewayResponse,
    LossCause,
    MeshMeter,
    OutageWindow,
    Wpdu,
    WrapperFramer,
    decode_gateway_apdu,
    decode_wpdu,
    encode_gateway_apdu,
    encode_wpdu,
    loopback_host,
    open_data_concentrator,
)

HOST = loopback_host()
FAMILY = socket.AF_INET6 if ":" in HOST else socket.AF_INET
QUIET = attrs.evolve(RF_MESH_DEFAULT, hop_jitter=0.0, hop_loss=0.0, outage_probability=0.0)
CLIENT_SAP = 0x10
METER_LD = 0x01


@pytest.fixture
def net_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 2 ms of real idleness, so a datagram still in
    the kernel's loopback path is not overtaken by a jump."""
    return trio.testing.MockClock(autojump_threshold=0.002)


def _eui(n: int) -> bytes:
    return bytes.fromhex("70B3D5FFFE000000")[:7] + bytes([n])


def _answer(apdu: bytes) -> bytes:
    """The test meter's answer: the request with its first byte + 4 (get-request -> response)."""
    return bytes([apdu[0] + 4]) + apdu[1:]


@asynccontextmanager
async def _meters(count: int, network_id: int = 0) -> AsyncIterator[list[MeshMeter]]:
    async def serve(sock: trio.socket.SocketType) -> None:
        with sock:
            while True:
                data, sender = await sock.recvfrom(65535)
                wpdu = decode_wpdu(data)
                reply = encode_wpdu(wpdu.destination, wpdu.source, _answer(wpdu.apdu))
                await sock.sendto(reply, sender)

    async with trio.open_nursery() as nursery:
        meters = []
        for i in range(count):
            sock = trio.socket.socket(FAMILY, socket.SOCK_DGRAM)
            await sock.bind((HOST, 0))
            meters.append(
                MeshMeter(
                    network_id=network_id,
                    physical_device_address=_eui(i),
                    address=sock.getsockname()[:2],
                )
            )
            nursery.start_soon(serve, sock)
        yield meters
        nursery.cancel_scope.cancel()


class _HeadEnd:
    """A head-end speaking wrapper + gateway APDUs over one TCP connection."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.framer = WrapperFramer()

    async def send(self, meter: MeshMeter, apdu: bytes) -> None:
        request = GatewayRequest(
            network_id=meter.network_id,
            physical_device_address=meter.physical_device_address,
            apdu=apdu,
        )
        await self.stream.send_all(encode_wpdu(CLIENT_SAP, METER_LD, encode_gateway_apdu(request)))

    async def receive(self) -> Wpdu:
        while (wpdu := self.framer.next_wpdu()) is None:
            data = await self.stream.receive_some(65536)
            assert data, "DCU closed the connection"
            self.framer.feed(data)
        return wpdu

    async def receive_response(self) -> GatewayResponse:
        wpdu = await self.receive()
        assert (wpdu.source, wpdu.destination) == (METER_LD, CLIENT_SAP)
        response = decode_gateway_apdu(wpdu.apdu)
        assert isinstance(response, GatewayResponse)
        return response


def _get(n: int) -> bytes:
    return bytes.fromhex("C001C1") + n.to_bytes(2, "big") + bytes.fromhex("0000010000FF0200")


async def test_relays_to_each_meter_by_its_address(net_clock: trio.testing.MockClock) -> None:
    async with (
        _meters(4) as meters,
        open_data_concentrator(channel=QUIET, meters=meters) as dcu,
    ):
        head_end = _HeadEnd(await trio.open_tcp_stream(*dcu.address))
        for i, meter in enumerate(meters):
            start = trio.current_time()
            await head_end.send(meter, _get(i))
            response = await head_end.receive_response()
            elapsed = trio.current_time() - start
            assert response.network_id == 0
            assert response.physical_device_address == meter.physical_device_address
            assert response.apdu == _answer(_get(i))
            size = len(_get(i)) + 8
            down = QUIET.transmit(link=meter.link, seq=0, at=0.0, size=size)
            up = QUIET.transmit(
                link=meter.link, seq=0, at=0.0, size=size, direction=Direction.UPLINK
            )
            assert down.latency is not None and up.latency is not None
            assert elapsed == pytest.approx(down.latency + up.latency, abs=1e-6)
            # 2 x (50 ms + 115 ms per hop) plus 21 bytes at 2500 B/s per hop each way.
            hops = QUIET.hops_for(meter.link)
            assert elapsed == pytest.approx(2 * (0.05 + hops * (0.115 + size / 2500)))
        await head_end.stream.aclose()
    assert dcu.stats.delivered == {Direction.DOWNLINK: 4, Direction.UPLINK: 4}


async def test_many_meters_in_flight_over_one_connection(
    net_clock: trio.testing.MockClock,
) -> None:
    async with (
        _meters(10) as meters,
        open_data_concentrator(channel=QUIET, meters=meters) as dcu,
    ):
        head_end = _HeadEnd(await trio.open_tcp_stream(*dcu.address))
        for i, meter in enumerate(meters):
            await head_end.send(meter, _get(i))
        answers = {}
        for _ in meters:
            response = await head_end.receive_response()
            answers[response.physical_device_address] = response.apdu
        assert answers == {
            m.physical_device_address: _answer(_get(i)) for i, m in enumerate(meters)
        }


async def test_unknown_meter_and_non_gateway_apdu_are_refused(
    net_clock: trio.testing.MockClock,
) -> None:
    async with _meters(1) as meters, open_data_concentrator(channel=QUIET, meters=meters) as dcu:
        head_end = _HeadEnd(await trio.open_tcp_stream(*dcu.address))
        stranger = MeshMeter(physical_device_address=_eui(99), address=("127.0.0.1", 9))
        await head_end.send(stranger, _get(1))
        response = await head_end.receive_response()
        assert response.physical_device_address == _eui(99)
        assert response.apdu == bytes.fromhex("D80101")
        await head_end.stream.send_all(encode_wpdu(CLIENT_SAP, METER_LD, _get(2)))
        wpdu = await head_end.receive()
        assert (wpdu.source, wpdu.destination, wpdu.apdu) == (METER_LD, CLIENT_SAP, b"\xd8\x01\x02")
        other_network = attrs.evolve(meters[0], network_id=1)
        await head_end.send(other_network, _get(3))
        assert (await head_end.receive_response()).apdu == bytes.fromhex("D80101")
    assert (dcu.stats.unknown_meter, dcu.stats.not_gateway) == (2, 1)


async def test_queue_limit_backpressure_during_outage(
    net_clock: trio.testing.MockClock,
) -> None:
    channel = attrs.evolve(QUIET, outages=(OutageWindow(start=0.0, end=40.0),))
    async with (
        _meters(1) as meters,
        open_data_concentrator(
            channel=channel, meters=meters, queue_limit=2, request_timeout=60.0
        ) as dcu,
    ):
        meter = meters[0]
        head_end = _HeadEnd(await trio.open_tcp_stream(*dcu.address))
        for n in range(3):
            await head_end.send(meter, _get(n))
        refused = await head_end.receive_response()
        assert refused.apdu == bytes.fromhex("D80101")
        assert dcu.now() < 1.0
        assert dcu.queue_depth(meter) == 2
        first = await head_end.receive_response()
        second = await head_end.receive_response()
        assert dcu.now() >= 40.0
        assert {first.apdu, second.apdu} == {_answer(_get(0)), _answer(_get(1))}
        assert dcu.queue_depth(meter) == 0
    assert dcu.stats.refused_queue_full == 1


async def test_requests_time_out_when_the_route_stays_down(
    net_clock: trio.testing.MockClock,
) -> None:
    channel = attrs.evolve(QUIET, outages=(OutageWindow(start=0.0, end=100.0),))
    async with (
        _meters(1) as meters,
        open_data_concentrator(channel=channel, meters=meters, request_timeout=30.0) as dcu,
    ):
        head_end = _HeadEnd(await trio.open_tcp_stream(*dcu.address))
        await head_end.send(meters[0], _get(1))
        with trio.move_on_after(99.0):
            await head_end.receive()
            pytest.fail("no answer expected during the outage")
        assert dcu.stats.timed_out == 1
        assert dcu.queue_depth(meters[0]) == 0
        await head_end.send(meters[0], _get(2))
        assert (await head_end.receive_response()).apdu == _answer(_get(2))


def _lossy(seed: int) -> ChannelModel:
    return attrs.evolve(RF_MESH_DEFAULT, seed=seed, hop_loss=0.05, outage_probability=0.0)


async def _lossy_run(seed: int) -> list[int]:
    answered = []
    async with (
        _meters(1) as meters,
        open_data_concentrator(channel=_lossy(seed), meters=meters) as dcu,
    ):
        head_end = _HeadEnd(await trio.open_tcp_stream(*dcu.address))
        for n in range(60):
            await head_end.send(meters[0], _get(n))
            with trio.move_on_after(5.0):
                response = await head_end.receive_response()
                assert response.apdu == _answer(_get(n))
                answered.append(n)
    return answered


def _predicted(seed: int) -> list[int]:
    channel = _lossy(seed)
    meter = MeshMeter(physical_device_address=_eui(0), address=("::1", 1))
    size = len(_get(0)) + 8
    answered, uplink_seq = [], 0
    for n in range(60):
        down = channel.transmit(link=meter.link, seq=n, at=0.0, size=size)
        if down.latency is None:
            continue
        up = channel.transmit(
            link=meter.link, seq=uplink_seq, at=0.0, size=size, direction=Direction.UPLINK
        )
        uplink_seq += 1
        if up.latency is not None and down.latency + up.latency < 5.0:
            answered.append(n)
    return answered


async def test_loss_is_deterministic_and_follows_the_model(
    net_clock: trio.testing.MockClock,
) -> None:
    first = await _lossy_run(3)
    assert first == await _lossy_run(3) == _predicted(3)
    assert await _lossy_run(4) == _predicted(4) != first
    assert 20 < len(first) < 60


async def test_meter_push_reaches_the_head_end(net_clock: trio.testing.MockClock) -> None:
    meter_sock = trio.socket.socket(FAMILY, socket.SOCK_DGRAM)
    await meter_sock.bind((HOST, 0))
    meter = MeshMeter(
        network_id=2, physical_device_address=_eui(5), address=meter_sock.getsockname()[:2]
    )
    notification = bytes.fromhex("0F000000010009") + bytes(9)
    with meter_sock:
        async with open_data_concentrator(channel=QUIET, meters=[meter]) as dcu:
            await meter_sock.sendto(
                encode_wpdu(METER_LD, 0x40, notification), dcu.meter_side_address
            )
            await trio.sleep(5)
            assert dcu.stats.no_head_end == 1
            head_end = _HeadEnd(await trio.open_tcp_stream(*dcu.address))
            await trio.sleep(0.1)
            await meter_sock.sendto(
                encode_wpdu(METER_LD, 0x40, notification), dcu.meter_side_address
            )
            wpdu = await head_end.receive()
            assert (wpdu.source, wpdu.destination) == (METER_LD, 0x40)
            assert decode_gateway_apdu(wpdu.apdu) == GatewayResponse(
                network_id=2, physical_device_address=_eui(5), apdu=notification
            )


async def test_broken_wrapper_stream_closes_the_connection(
    net_clock: trio.testing.MockClock,
) -> None:
    async with _meters(1) as meters, open_data_concentrator(channel=QUIET, meters=meters) as dcu:
        stream = await trio.open_tcp_stream(*dcu.address)
        await stream.send_all(bytes.fromhex("0002001000010003C00101"))
        with trio.fail_after(5):
            assert await stream.receive_some(100) == b""
        assert dcu.stats.malformed == 1
        # The DCU keeps serving other connections.
        head_end = _HeadEnd(await trio.open_tcp_stream(*dcu.address))
        await head_end.send(meters[0], _get(1))
        assert (await head_end.receive_response()).apdu == _answer(_get(1))


async def test_oversized_datagram_is_lost_on_the_mesh(
    net_clock: trio.testing.MockClock,
) -> None:
    async with _meters(1) as meters, open_data_concentrator(channel=QUIET, meters=meters) as dcu:
        head_end = _HeadEnd(await trio.open_tcp_stream(*dcu.address))
        await head_end.send(meters[0], _get(1) + bytes(3000))
        with trio.move_on_after(30):
            await head_end.receive()
            pytest.fail("a datagram above the mesh MTU cannot arrive")
    assert dcu.stats.lost[LossCause.TOO_BIG] == 1


async def test_invalid_configuration() -> None:
    with pytest.raises(LocalProtocolError):
        async with open_data_concentrator(queue_limit=0):
            pass
    with pytest.raises(LocalProtocolError):
        MeshMeter(physical_device_address=b"", address=("::1", 1))


async def test_garbage_and_strangers_on_the_meter_side_are_counted(
    net_clock: trio.testing.MockClock,
) -> None:
    meter_sock = trio.socket.socket(FAMILY, socket.SOCK_DGRAM)
    stranger = trio.socket.socket(FAMILY, socket.SOCK_DGRAM)
    await meter_sock.bind((HOST, 0))
    await stranger.bind((HOST, 0))
    meter = MeshMeter(physical_device_address=_eui(1), address=meter_sock.getsockname()[:2])
    with meter_sock, stranger:
        async with open_data_concentrator(channel=QUIET, meters=[meter]) as dcu:
            for garbage in (b"", b"\x00\x01", bytes.fromhex("0001000100100005C4")):
                await meter_sock.sendto(garbage, dcu.meter_side_address)
            await stranger.sendto(encode_wpdu(1, 0x10, b"\xc4\x01"), dcu.meter_side_address)
            await trio.sleep(1)
    assert (dcu.stats.malformed, dcu.stats.strangers) == (3, 1)
    assert dcu.stats.relayed[Direction.UPLINK] == 0


async def test_uplink_flood_is_bounded(net_clock: trio.testing.MockClock) -> None:
    meter_sock = trio.socket.socket(FAMILY, socket.SOCK_DGRAM)
    await meter_sock.bind((HOST, 0))
    meter = MeshMeter(physical_device_address=_eui(1), address=meter_sock.getsockname()[:2])
    with meter_sock:
        async with open_data_concentrator(channel=QUIET, meters=[meter], uplink_limit=5) as dcu:
            head_end = _HeadEnd(await trio.open_tcp_stream(*dcu.address))
            await trio.sleep(0.1)
            for n in range(12):
                await meter_sock.sendto(encode_wpdu(1, 0x10, _get(n)), dcu.meter_side_address)
            received = [await head_end.receive_response() for _ in range(5)]
            with trio.move_on_after(10):
                await head_end.receive()
                pytest.fail("only uplink_limit datagrams may have been queued")
    assert [r.apdu for r in received] == [_get(n) for n in range(5)]
    assert dcu.stats.uplink_overflow == 7


async def test_garbage_from_head_ends_never_stops_the_dcu(
    net_clock: trio.testing.MockClock,
) -> None:
    rng = random.Random(1)
    async with _meters(1) as meters, open_data_concentrator(channel=QUIET, meters=meters) as dcu:
        for n in range(40):
            stream = await trio.open_tcp_stream(*dcu.address)
            if n % 2:
                # A well-formed wrapper header around random gateway-ish bytes.
                body = bytes([0xE6]) + rng.randbytes(rng.randrange(0, 40))
                await stream.send_all(encode_wpdu(CLIENT_SAP, METER_LD, body))
            else:
                await stream.send_all(rng.randbytes(rng.randrange(1, 200)))
            await trio.sleep(1)
            await stream.aclose()
        await trio.sleep(1)
        head_end = _HeadEnd(await trio.open_tcp_stream(*dcu.address))
        await head_end.send(meters[0], _get(7))
        assert (await head_end.receive_response()).apdu == _answer(_get(7))
    assert dcu.stats.malformed + dcu.stats.not_gateway + dcu.stats.unknown_meter > 20


async def test_unsendable_meter_address_is_counted_not_fatal(
    net_clock: trio.testing.MockClock,
) -> None:
    # An address of the other family cannot be reached from the DCU's meter-side socket.
    wrong = MeshMeter(
        physical_device_address=_eui(9), address=("127.0.0.1" if ":" in HOST else "::1", 9)
    )
    async with _meters(1) as meters, open_data_concentrator(channel=QUIET) as dcu:
        dcu.add_meter(wrong)
        dcu.add_meter(meters[0])
        head_end = _HeadEnd(await trio.open_tcp_stream(*dcu.address))
        await head_end.send(wrong, _get(1))
        await trio.sleep(10)
        assert dcu.stats.send_errors == 1
        assert dcu.stats.delivered[Direction.DOWNLINK] == 0
        await head_end.send(meters[0], _get(2))
        assert (await head_end.receive_response()).apdu == _answer(_get(2))
