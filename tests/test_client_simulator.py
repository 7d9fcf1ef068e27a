"""The client against the simulated IS 15959-2 fleet over every transport the simulator
offers (wrapper on TCP, HDLC on TCP, wrapper on UDP, HDLC on a serial line and through
an optical probe with the mode E hand-over, both on pseudo-terminals; Wi-SUN border
router; RF mesh data concentrator), checked against its ground truth; object lists per
association; and the push listener against the simulator's ciphered pushes."""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from dlmskit.apdu import DataNotification, MechanismName
from dlmskit.axdr import Structure
from dlmskit.client import Association, LinkSettings, connect, listen
from dlmskit.client import MeterKeys as PushKeys
from dlmskit.cosem import Quantity, Unit
from dlmskit.errors import DlmsError, ServiceError
from obis import ObisCode
from simulators import (
    DEFAULT_AK,
    DEFAULT_EK,
    Fleet,
    FleetLayout,
    MeterKeys,
    meter_truth,
    open_meter_pty,
    serve_fleet_hdlc,
    serve_fleet_udp,
    serve_fleet_wrapper,
)
from simulators._mesh import eui64, serve_fleet_mesh, serve_fleet_wisun
from simulators._push import PushConfig, run_pushes
from transports import ChannelModel, open_gateway_multiplexer, open_tcp_wrapper

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


#: Meter 1 on a pseudo-terminal: HDLC on the line, or the optical port (mode E first;
#: a pseudo-terminal signs on at 300 Bd 8N1)
LINES = {"serial": "serial://{}", "optical": "optical://{}?line=8N1&handover=0.01"}


@asynccontextmanager
async def serving(scheme: str, fleet: Fleet) -> AsyncIterator[str]:
    if scheme in LINES:
        async with open_meter_pty(fleet, 1, optical=scheme == "optical") as device:
            yield LINES[scheme].format(device)
        return
    async with trio.open_nursery() as nursery:
        yield await SERVERS[scheme](fleet, nursery)
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("scheme", sorted(SERVERS) + sorted(LINES))
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


async def test_object_lists_of_the_simulator_associations() -> None:
    fleet = _fleet()
    current = ObisCode(0, 0, 40, 0, 0)
    seen: dict[str, set[ObisCode]] = {}
    async with serving("tcp", fleet) as target:
        for association in (Association.public(), Association.meter_reader()):
            async with connect(target, association=association, link=FAST) as meter:
                entries = await meter.object_list()
            seen[association.name] = {entry.logical_name for entry in entries}
            assert current in seen[association.name]
            assert len(entries) == len(seen[association.name])  # each object once
    assert BLOCK_LOAD in seen["meter reader"] - seen["public client"]
    assert seen["public client"] < seen["meter reader"]


async def test_cli_objects_and_read_against_the_simulator() -> None:
    fleet = _fleet()
    dlmskit = str(Path(sys.executable).with_name("dlmskit"))
    async with serving("tcp", fleet) as target:
        objects = await trio.run_process(
            [dlmskit, "objects", target, "-a", "reader"],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            env={**os.environ, "COLUMNS": "200"},
        )
        read = await trio.run_process(
            [dlmskit, "read", target, "1/0.0.96.1.0.255/2", "--json"],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert objects.returncode == 0, objects.stderr
    text = objects.stdout.decode()
    assert "0.0.40.0.0.255" in text and "1.0.99.1.0.255" in text
    assert read.returncode == 0, read.stderr
    assert str(fleet.identity(1).serial) in read.stdout.decode()


async def test_simulator_pushes_arrive_through_listen() -> None:
    fleet = _fleet(meters=3)
    keys = {
        fleet.identity(n).system_title: PushKeys(
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


QUIET = ChannelModel(name="test", base_latency=0.005, hop_latency=0.002, hop_weights=(1.0, 1.0))
MESH = LinkSettings(connect_timeout=10.0, response_timeout=10.0, retries=0)


async def test_meter_behind_an_rf_mesh_data_concentrator() -> None:
    """The client over a transport the caller opened: one meter through the DCU."""
    fleet = _fleet(meters=3)
    async with trio.open_nursery() as nursery:
        dcu = await nursery.start(functools.partial(serve_fleet_mesh, fleet, channel=QUIET))
        host, port = dcu.address
        upstream = await open_tcp_wrapper(host, port, client_wport=0x20)  # the SAP is ours
        async with open_gateway_multiplexer(upstream) as mux:
            link = mux.meter(0, eui64(fleet.identity(2).system_title))
            async with connect(link, association=Association.meter_reader(), link=MESH) as meter:
                serial = await meter.get(1, "0.0.96.1.0.255", 2)
        nursery.cancel_scope.cancel()
    assert serial == str(fleet.identity(2).serial).encode()


async def test_meter_behind_a_wisun_border_router() -> None:
    fleet = _fleet(meters=3)
    async with trio.open_nursery() as nursery:
        router = await nursery.start(
            functools.partial(serve_fleet_wisun, fleet, channel=QUIET, port=0, host="127.0.0.1")
        )
        host, port = router.address_of(fleet.identity(1).name)
        async with connect(f"udp://{host}:{port}", link=MESH) as meter:
            assert await meter.read_clock() == NOW
        nursery.cancel_scope.cancel()


async def test_lossy_wisun_reads_through_resent_requests() -> None:
    """15 % loss on every hop, both ways: lost requests and lost answers are re-sent
    protected afresh, which the simulated meter's replay check accepts."""
    fleet = _fleet(meters=3)
    lossy = attrs.evolve(QUIET, name="lossy", seed=0, hop_loss=0.15, hop_weights=(1.0,))
    link = LinkSettings(connect_timeout=0.3, response_timeout=0.3, release_timeout=0.3, retries=4)
    async with trio.open_nursery() as nursery:
        router = await nursery.start(
            functools.partial(serve_fleet_wisun, fleet, channel=lossy, port=0, host="127.0.0.1")
        )
        host, port = router.address_of(fleet.identity(1).name)
        us = Association.utility_settings()
        async with connect(f"udp://{host}:{port}", association=us, link=link) as meter:
            for _ in range(15):
                assert await meter.read_clock() == NOW
            assert meter.resent > 0
        nursery.cancel_scope.cancel()


async def test_hls_gmac_utility_settings() -> None:
    fleet = Fleet(
        FleetLayout(seed=5, meters=2),
        keys=MeterKeys(hls_mechanism=MechanismName.HIGH_GMAC),
        clock=lambda: NOW,
    )
    gmac = Association.utility_settings(mechanism=MechanismName.HIGH_GMAC)
    async with serving("tcp", fleet) as target, connect(target, association=gmac) as meter:
        assert await meter.read_clock() == NOW
    wrong = Association.utility_settings(
        mechanism=MechanismName.HIGH_GMAC, authentication_key=bytes(16)
    )
    async with serving("tcp", fleet) as target:
        with pytest.raises(DlmsError):
            async with connect(target, association=wrong, link=FAST):
                pass
