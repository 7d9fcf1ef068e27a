"""The client against the simulated IS 15959-2 fleet over every transport the simulator
offers (wrapper on TCP, HDLC on TCP, wrapper on UDP), checked against its ground truth;
and the push listener against the simulator's ciphered pushes."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio

from dlmskit.apdu import DataNotification
from dlmskit.axdr import Structure
from dlmskit.client import Association, LinkSettings, MeterKeys, connect, listen
from dlmskit.cosem import Quantity, Unit
from dlmskit.errors import ServiceError
from obis import ObisCode
from simulators import (
    DEFAULT_AK,
    DEFAULT_EK,
    Fleet,
    FleetLayout,
    meter_truth,
    serve_fleet_hdlc,
    serve_fleet_udp,
    serve_fleet_wrapper,
)
from simulators._push import PushConfig, run_pushes

NOW = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
BLOCK_LOAD = ObisCode(1, 0, 99, 1, 0)
FAST = LinkSettings(connect_timeout=5.0, response_timeout=5.0, retries=0)


def _fleet(meters: int = 2) -> Fleet:
    return Fleet(FleetLayout(seed=5, meters=meters), clock=lambda: NOW)


async def _wrapper(fleet: Fleet, nursery: trio.Nursery) -> str:
    serve = functools.partial(serve_fleet_wrapper, fleet, 0, host="0.0.0.0")
    listeners = await nursery.start(serve)
    return f"tcp://{fleet.identity(1).host}:{listeners[0].socket.getsockname()[1]}"


async def _hdlc(fleet: Fleet, nursery: trio.Nursery) -> str:
    serve = functools.partial(serve_fleet_hdlc, fleet, 0, host="0.0.0.0")
    listeners = await nursery.start(serve)
    return f"hdlc+tcp://{fleet.identity(1).host}:{listeners[0].socket.getsockname()[1]}"


async def _udp(fleet: Fleet, nursery: trio.Nursery) -> str:
    bound = await nursery.start(functools.partial(serve_fleet_udp, fleet, 0))
    return f"udp://{fleet.identity(1).host}:{bound[0][1]}"


SERVERS: dict[str, Callable[[Fleet, trio.Nursery], Any]] = {
    "tcp": _wrapper,
    "hdlc+tcp": _hdlc,
    "udp": _udp,
}


@asynccontextmanager
async def serving(scheme: str, fleet: Fleet) -> AsyncIterator[str]:
    async with trio.open_nursery() as nursery:
        yield await SERVERS[scheme](fleet, nursery)
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("scheme", sorted(SERVERS))
async def test_block_load_over_every_transport_equals_the_truth(scheme: str) -> None:
    fleet = _fleet()
    start = NOW - dt.timedelta(hours=2)
    us = Association.utility_settings()
    async with serving(scheme, fleet) as target, connect(target, association=us, link=FAST) as m:
        assert await m.read_clock() == NOW
        rows = await m.read_profile(BLOCK_LOAD, start, NOW)
    truth = {
        (row.obis, row.start): row
        for row in meter_truth(fleet.identity(1), fleet.plan, start, NOW, daily=False)
    }
    # intervals starting 04:00 .. 05:45 UTC; the one starting at 06:00 is not over yet
    assert [r.time for r in rows] == [start + dt.timedelta(minutes=15 * n) for n in range(8)]
    columns = fleet.meter(1).profile.profile(BLOCK_LOAD)
    assert columns is not None
    checked = 0
    for row in rows:
        assert row.time is not None
        when = row.time.astimezone(dt.UTC)
        for capture in columns.capture_objects[1:]:
            expected = truth.get((capture.logical_name, when))
            value = row[capture.logical_name]
            if expected is None or expected.value is None:
                continue
            assert isinstance(value, Quantity)
            assert float(value) == pytest.approx(float(expected.value))
            checked += 1
    assert checked >= 8 * (len(columns.capture_objects) - 1)


async def test_every_association_of_the_simulator() -> None:
    fleet = _fleet()
    async with serving("tcp", fleet) as target:
        async with connect(target, link=FAST) as public:
            assert await public.read_clock() == NOW
            with pytest.raises(ServiceError, match="read-write-denied"):
                await public.get(7, BLOCK_LOAD, 2)
        async with connect(target, association=Association.meter_reader(), link=FAST) as reader:
            voltage = await reader.read_register("1.0.12.7.0.255")
            assert voltage.unit == Unit.VOLT and float(voltage) > 100
            columns = await reader.profile_columns(BLOCK_LOAD)
            assert columns.clock is not None and len(columns) > 3


async def test_simulator_pushes_arrive_through_listen() -> None:
    fleet = _fleet(meters=3)
    keys = {
        fleet.identity(n).system_title: MeterKeys(
            name=fleet.identity(n).name, encryption_key=DEFAULT_EK, authentication_key=DEFAULT_AK
        )
        for n in range(3)
    }
    seen: list[tuple[str, str]] = []
    async with listen(keys, host="127.0.0.1", tcp_port=0, udp_port=0) as pushes:
        for kind, port in (("tcp", pushes.tcp_port), ("udp", pushes.udp_port)):
            assert port is not None
            config = PushConfig(
                host="127.0.0.1",
                port=port,
                transport=kind,
                period=0.2,
                randomisation=0.05,
                alerts=False,
            )
            with trio.fail_after(10):
                await run_pushes(fleet, config, rounds=1)
                for _ in range(6):  # 3 meters, 2 push setups each
                    push = await pushes.receive()
                    assert isinstance(push.notification, DataNotification)
                    body = push.notification.notification_body
                    assert isinstance(body, Structure) and isinstance(body[0], bytes)
                    assert bytes(body[0]).decode() == push.meter  # the meter it claims
                    seen.append((push.transport, push.meter))
    assert pushes.rejected == []
    assert {meter for _, meter in seen} == {fleet.identity(n).name for n in range(3)}
    assert {kind for kind, _ in seen} == {"tcp", "udp"}
