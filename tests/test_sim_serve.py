"""The dlmskit client against the simulator over real loopback sockets; link faults; abuse.

A client that sends garbage, stalls, or drops the link affects only its own session;
faults from the plan (silence, slow, dropped or corrupted responses, wrong keys, counter
reset) show on the wire as a head-end would see them.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio

from dlmskit.apdu import ApplicationContextName, CosemAttributeDescriptor, MechanismName
from dlmskit.association import (
    NEED_DATA,
    AssociationAccepted,
    AssociationRejected,
    ClientAssociation,
    ClientSettings,
    Event,
    GetCompleted,
)
from dlmskit.axdr import DateTime, DeviationSign, OctetString, Structure
from dlmskit.errors import DlmsError, TransportError
from dlmskit.security import HlsSecret, SecurityContext
from obis import ObisCode
from simulators import (
    DEFAULT_AK,
    DEFAULT_EK,
    DEFAULT_HLS_SECRET,
    REGISTERS,
    FaultPlan,
    Fleet,
    FleetLayout,
    LinkStats,
    meter_truth,
    serve_fleet_wrapper,
)
from simulators._udp import serve_fleet_udp
from transports import (
    encode_wpdu,
    open_tcp_wrapper,
    open_udp_endpoint,
)

NOW = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
CLOCK = CosemAttributeDescriptor(class_id=8, instance_id=ObisCode(0, 0, 1, 0, 0), attribute_id=2)
BLOCK_LOAD = CosemAttributeDescriptor(
    class_id=7, instance_id=ObisCode(1, 0, 99, 1, 0), attribute_id=2
)


def _settings(sap: int) -> ClientSettings:
    if sap == 0x10:
        return ClientSettings()
    context = SecurityContext(
        system_title=bytes.fromhex("4D4D4D0000000002"),
        global_unicast_key=DEFAULT_EK,
        authentication_key=DEFAULT_AK,
    )
    return ClientSettings(
        application_context=ApplicationContextName.LN_CIPHERED,
        mechanism=MechanismName.HIGH,
        hls=HlsSecret(secret=DEFAULT_HLS_SECRET),
        security=context,
    )


async def _exchange(transport: Any, client: ClientAssociation) -> Event:
    for apdu in client.data_to_send():
        await transport.send_apdu(apdu)
    while True:
        event = client.next_event()
        if event is not NEED_DATA:
            assert not isinstance(event, type(NEED_DATA))
            return event
        client.receive_apdu(await transport.receive_apdu())
        for apdu in client.data_to_send():
            await transport.send_apdu(apdu)


@asynccontextmanager
async def _serving(fleet: Fleet, stats: LinkStats, idle: float = 30.0) -> AsyncIterator[int]:
    async with trio.open_nursery() as nursery:
        serve = functools.partial(
            serve_fleet_wrapper, fleet, 0, host="0.0.0.0", stats=stats, idle_timeout=idle
        )
        listeners = await nursery.start(serve)
        yield listeners[0].socket.getsockname()[1]
        nursery.cancel_scope.cancel()


def _fleet(plan: FaultPlan | None = None, meters: int = 3) -> Fleet:
    return Fleet(
        FleetLayout(seed=5, meters=meters),
        plan=plan,
        clock=lambda: NOW,
        sign=DeviationSign.BLUE_BOOK,
    )


async def _session(host: str, port: int, sap: int = 0x30) -> tuple[Any, ClientAssociation]:
    transport = await open_tcp_wrapper(host, port, client_wport=sap)
    client = ClientAssociation(_settings(sap))
    client.associate()
    event = await _exchange(transport, client)
    assert isinstance(event, AssociationAccepted), event
    return transport, client


async def test_dlmskit_client_reads_block_load_equal_to_truth() -> None:
    fleet = _fleet()
    start = NOW - dt.timedelta(hours=6)
    async with _serving(fleet, LinkStats()) as port:
        transport, client = await _session("127.1.0.1", port)
        client.get(BLOCK_LOAD)
        event = await _exchange(transport, client)
        await transport.aclose()
    assert isinstance(event, GetCompleted)
    (rows,) = event.results
    assert isinstance(rows, tuple)
    assert len(rows) == 45 * 96  # the whole 45-day buffer, through block transfer
    truth = {
        (row.obis, row.start): row
        for row in meter_truth(fleet.identity(1), fleet.plan, start, NOW, daily=False)
    }
    columns = [c.logical_name for c in fleet.meter(1).profile.profiles[2].capture_objects][1:]
    checked = 0
    for row in rows[-24:]:
        assert isinstance(row, Structure) and isinstance(row[0], OctetString)
        when = DateTime.from_bytes(bytes(row[0])).to_datetime(sign=DeviationSign.BLUE_BOOK)
        for obis, raw in zip(columns, row[1:], strict=True):
            assert isinstance(raw, int)
            expected = truth[(obis, when.astimezone(dt.UTC))]
            assert REGISTERS[obis].scaled(int(raw)) == expected.value
            checked += 1
    assert checked == 24 * len(columns)


async def test_garbage_stall_and_drop_affect_only_their_own_session() -> None:
    fleet = _fleet()
    stats = LinkStats()
    async with _serving(fleet, stats, idle=0.5) as port:
        garbage = await trio.open_tcp_stream("127.1.0.0", port)
        await garbage.send_all(b"\x00\x07" + bytes(range(40)))  # wrong wrapper version
        stalled = await trio.open_tcp_stream("127.1.0.0", port)
        await stalled.send_all(encode_wpdu(0x30, 1, b"\x60\x1d")[:5])  # half a header
        dropped = await trio.open_tcp_stream("127.1.0.0", port)
        await dropped.send_all(encode_wpdu(0x10, 1, bytes(30))[:12])
        await dropped.aclose()
        junk = await open_tcp_wrapper("127.1.0.0", port, client_wport=0x10)
        await junk.send_apdu(b"\xc0\x01\xc1\x00\x08\x00")  # a GET before any association
        answer = await junk.receive_apdu()
        assert answer[0] == 0xD8  # exception-response

        transport, client = await _session("127.1.0.0", port)
        client.get(CLOCK)
        event = await _exchange(transport, client)
        assert isinstance(event, GetCompleted)
        await transport.aclose()

        assert await garbage.receive_some(10) == b""  # the broken stream was dropped
        with trio.fail_after(3):
            assert await stalled.receive_some(10) == b""  # and the stalled one timed out
        await junk.aclose()
    assert stats.timeouts >= 1
    assert stats.sessions >= 2


async def test_flood_of_requests_is_answered_in_order() -> None:
    fleet = _fleet()
    async with _serving(fleet, LinkStats()) as port:
        transport, client = await _session("127.1.0.2", port, sap=0x10)
        for _ in range(50):
            client.get(CLOCK)
            event = await _exchange(transport, client)
            assert isinstance(event, GetCompleted)
        await transport.aclose()


async def test_the_idle_timeout_bounds_the_silences_not_the_session() -> None:
    """Requests every 0.2 s keep a session alive well past the 0.5 s idle timeout; a
    silence of 1 s after them ends it."""
    stats = LinkStats()
    async with _serving(_fleet(), stats, idle=0.5) as port:
        transport, client = await _session("127.1.0.2", port, sap=0x10)
        began = trio.current_time()
        while trio.current_time() - began < 1.5:
            await trio.sleep(0.2)
            client.get(CLOCK)
            assert isinstance(await _exchange(transport, client), GetCompleted)
        await trio.sleep(1.0)
        client.get(CLOCK)
        with trio.fail_after(3), pytest.raises(TransportError):
            await _exchange(transport, client)
        await transport.aclose()
    assert stats.timeouts == 1


def _plan(kind: str, value: float = 1.0, **extra: Any) -> FaultPlan:
    return FaultPlan.from_mapping(
        {"seed": 1, "meter": [{"kind": kind, "meters": 1.0, "value": value, **extra}]}
    )


async def _no_answer(port: int) -> bool:
    transport = await open_tcp_wrapper("127.1.0.0", port, client_wport=0x10)
    client = ClientAssociation(ClientSettings())
    client.associate()
    with trio.move_on_after(0.4) as scope:
        await _exchange(transport, client)
    await transport.aclose()
    return scope.cancelled_caught


async def test_silent_cluster_never_answers() -> None:
    plan = FaultPlan.from_mapping({"seed": 1, "silence": [{"by": "cell", "fraction": 1.0}]})
    stats = LinkStats()
    async with _serving(_fleet(plan), stats) as port:
        assert await _no_answer(port)
    assert stats.silenced >= 1


async def test_dropped_responses_never_arrive() -> None:
    stats = LinkStats()
    async with _serving(_fleet(_plan("dropped_frame", 1.0)), stats) as port:
        assert await _no_answer(port)
    assert stats.dropped >= 1


async def test_slow_meter_answers_late() -> None:
    async with _serving(_fleet(_plan("slow_response", 0.3)), LinkStats()) as port:
        transport = await open_tcp_wrapper("127.1.0.0", port, client_wport=0x10)
        client = ClientAssociation(ClientSettings())
        client.associate()
        began = time.monotonic()
        event = await _exchange(transport, client)
        await transport.aclose()
    assert isinstance(event, AssociationAccepted)
    assert time.monotonic() - began >= 0.3


async def test_corrupted_responses_fail_to_decode() -> None:
    stats = LinkStats()
    async with _serving(_fleet(_plan("corrupted_frame", 1.0)), stats) as port:
        transport = await open_tcp_wrapper("127.1.0.0", port, client_wport=0x30)
        client = ClientAssociation(_settings(0x30))
        client.associate()
        with pytest.raises(DlmsError):
            event = await _exchange(transport, client)
            assert not isinstance(event, AssociationAccepted)
            raise DlmsError(f"corrupted exchange ended in {event!r}")
        await transport.aclose()
    assert stats.corrupted >= 1


async def test_wrong_keys_refuse_the_ciphered_association() -> None:
    async with _serving(_fleet(_plan("wrong_keys")), LinkStats()) as port:
        transport = await open_tcp_wrapper("127.1.0.0", port, client_wport=0x30)
        client = ClientAssociation(_settings(0x30))
        client.associate()
        event = await _exchange(transport, client)
        await transport.aclose()
    assert isinstance(event, AssociationRejected)


async def test_counter_reset_makes_the_meter_replay_its_counters() -> None:
    fleet = _fleet(_plan("counter_reset", start="2026-03-02T05:00:00Z"))
    meter = fleet.meter(0)
    title = meter.identity.system_title
    meter.counters.reset(title, 0, 500)
    async with _serving(fleet, LinkStats()) as port:
        transport, _ = await _session("127.1.0.0", port)
        await transport.aclose()
    assert meter.counters.peek(title, 0) < 10  # restarted from 0, not 500


async def test_udp_wrapper_serves_a_meter() -> None:
    fleet = _fleet(meters=1)
    async with trio.open_nursery() as nursery:
        bound = await nursery.start(functools.partial(serve_fleet_udp, fleet, 0, host="127.0.0.1"))
        host, port = bound[0]
        async with open_udp_endpoint("127.0.0.1", 0) as endpoint:
            peer = endpoint.peer(host, port, local_wport=0x10, remote_wport=1)
            client = ClientAssociation(ClientSettings())
            client.associate()
            with trio.fail_after(5):
                assert isinstance(await _exchange(peer, client), AssociationAccepted)
                client.get(CLOCK)
                event = await _exchange(peer, client)
        nursery.cancel_scope.cancel()
    assert isinstance(event, GetCompleted)
    value = event.results[0]
    assert isinstance(value, OctetString)
    stamp = DateTime.from_bytes(bytes(value))
    assert stamp.to_datetime(sign=DeviationSign.BLUE_BOOK) == NOW


def test_meters_are_told_apart_by_the_local_address() -> None:
    fleet = _fleet(meters=300)
    assert fleet.meter_at("127.1.1.43") is fleet.meter(299)
    assert fleet.meter_at("::ffff:127.1.0.7") is fleet.meter(7)
    assert fleet.meter_at("127.1.1.44") is None  # one past the last meter
    assert fleet.meter_at("127.0.0.1") is None
    assert fleet.meter(299).identity.host == "127.1.1.43"


def test_idle_fleet_is_small_and_eviction_keeps_counters() -> None:
    import tracemalloc

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    fleet = Fleet(FleetLayout(seed=2, meters=100_000), max_active=2)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before < 100_000  # an idle meter costs (far) less than a byte
    meter = fleet.meter(99_999)
    title = meter.identity.system_title
    meter.counters.reset(title, 0, 1234)
    fleet.meter(1)
    fleet.meter(2)
    assert fleet.active == 2
    assert fleet.meter(99_999).counters.peek(title, 0) == 1234


async def test_unknown_address_is_refused() -> None:
    stats = LinkStats()
    async with _serving(_fleet(), stats) as port:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        with trio.fail_after(3):
            assert await stream.receive_some(10) == b""
    assert stats.refused == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="IP_PKTINFO is Linux")
async def test_one_wildcard_udp_socket_serves_every_meter() -> None:
    fleet = _fleet(meters=5)
    stats = LinkStats()
    async with trio.open_nursery() as nursery:
        bound = await nursery.start(functools.partial(serve_fleet_udp, fleet, 0, stats=stats))
        assert len(bound) == 1  # one socket for the whole fleet
        _, port = bound[0]
        async with open_udp_endpoint("127.0.0.1", 0) as endpoint:
            for number in (4, 1):
                peer = endpoint.peer(f"127.1.0.{number}", port, local_wport=0x10, remote_wport=1)
                client = ClientAssociation(ClientSettings())
                client.associate()
                with trio.fail_after(5):
                    assert isinstance(await _exchange(peer, client), AssociationAccepted)
                    client.get(_attribute_serial())
                    event = await _exchange(peer, client)
                assert isinstance(event, GetCompleted)
                assert event.results[0] == str(fleet.identity(number).serial).encode()
            await endpoint.send_to(b"\x00\x01garbage", ("127.1.0.2", port))
        nursery.cancel_scope.cancel()
    assert stats.sessions == 2


def _attribute_serial() -> CosemAttributeDescriptor:
    return CosemAttributeDescriptor(
        class_id=1, instance_id=ObisCode(0, 0, 96, 1, 0), attribute_id=2
    )
