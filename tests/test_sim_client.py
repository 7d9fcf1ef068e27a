"""The project's trio client (``dlmskit.client.connect``) against the simulator over
loopback TCP: registers, clock, profiles, the frame-counter pattern, a firmware upgrade."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import pytest
import trio

from dlmskit.client import Association, AssociationRefused, connect, with_frame_counter
from dlmskit.cosem import Quantity
from dlmskit.errors import DlmsError
from simulators import Fleet, FleetLayout, meter_truth, serve_fleet_wrapper
from simulators._image import build_image

NOW = dt.datetime(2026, 7, 3, 9, 30, tzinfo=dt.UTC)


@asynccontextmanager
async def _serving(fleet: Fleet) -> AsyncIterator[int]:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(serve_fleet_wrapper, fleet, 0, host="0.0.0.0")
        )
        yield listeners[0].socket.getsockname()[1]
        nursery.cancel_scope.cancel()


def _fleet() -> Fleet:
    return Fleet(FleetLayout(seed=31, meters=3), clock=lambda: NOW)


async def test_reader_reads_registers_clock_and_block_load_equal_to_truth() -> None:
    fleet = _fleet()
    start, end = NOW - dt.timedelta(hours=3), NOW - dt.timedelta(minutes=15)
    async with _serving(fleet) as port:
        with trio.fail_after(20):
            async with connect(
                f"tcp://127.1.0.2:{port}", association=Association.meter_reader()
            ) as meter:
                clock = await meter.read_clock()
                voltage = await meter.read_register("1.0.12.7.0.255")
                rows = await meter.read_profile("1.0.99.1.0.255", start, end)
    assert clock == NOW
    assert isinstance(voltage, Quantity) and 200 < float(voltage) < 260
    truth = {
        (str(row.obis), row.start): row.value
        for row in meter_truth(fleet.identity(2), fleet.plan, start, NOW, daily=False)
    }
    assert len(rows) == 12
    for row in rows:
        assert row.time is not None
        when = row.time.astimezone(dt.UTC)
        for column in row.columns.columns[1:]:
            value = row[column.logical_name]
            assert isinstance(value, Quantity)
            expected = truth[(str(column.logical_name), when)]
            assert value.value == Decimal(str(expected))


async def test_frame_counter_pattern_lets_a_new_client_in() -> None:
    fleet = _fleet()
    target_of = "tcp://127.1.0.0:{}"
    async with _serving(fleet) as port:
        target = target_of.format(port)
        with trio.fail_after(20):
            async with connect(target, association=Association.meter_reader()):
                pass
            # a client starting its counters again is refused as a replay...
            with pytest.raises((AssociationRefused, DlmsError)):
                async with connect(target, association=Association.meter_reader()):
                    pass
            # ...until it reads the meter's invocation counter object first
            fresh = await with_frame_counter(target, Association.meter_reader())
            async with connect(target, association=fresh) as meter:
                assert await meter.read_clock() == NOW


async def test_firmware_upgrade_through_the_client() -> None:
    fleet = _fleet()
    image = build_image(b"firmware " * 300)
    async with _serving(fleet) as port:
        with trio.fail_after(30):
            async with connect(
                f"tcp://127.1.0.1:{port}", association=Association.firmware()
            ) as meter:
                await meter.upgrade_firmware(b"SIM-3.1.4", image)
                version = await meter.read(1, "1.0.0.2.0.255", 2)
    assert version == b"SIM-3.1.4"
    assert fleet.meter(1).state.firmware_version == "SIM-3.1.4"


async def test_tasks_sharing_one_meter_take_turns() -> None:
    """Requests from several tasks on one ``Meter`` go one at a time (the association
    allows one outstanding request); each task gets its own answer."""
    fleet = _fleet()
    names = ["1.0.12.7.0.255", "1.0.11.7.0.255", "1.0.1.8.0.255", "1.0.9.8.0.255"]
    got: dict[str, object] = {}
    async with _serving(fleet) as port:
        with trio.fail_after(20):
            async with connect(
                f"tcp://127.1.0.2:{port}", association=Association.meter_reader()
            ) as meter:
                alone = {name: await meter.read_register(name) for name in names}

                async def read(name: str) -> None:
                    got[name] = await meter.read_register(name)

                async with trio.open_nursery() as nursery:
                    for name in names * 3:
                        nursery.start_soon(read, name)
                    nursery.start_soon(meter.read_clock)
    assert got == alone
