"""Pushed block load rows become readings: the head-end learns the push setup's
push_object_list from one meter of the model, types every meter's push through it,
validates and stores the row as readings of source PUSH; a pull of the same interval
afterwards finds the same values and adds nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import DataNotification
from dlmskit.axdr import Data, DateTime, DeviationSign, Long, OctetString, Structure, decode
from dlmskit.client import Association, Push, connect, listen
from dlmskit.cosem import CaptureObject, ProfileColumns, ScalerUnit
from dlmskit.errors import DecodeError
from dlmskit.security import MemoryCounterStore
from hes import LayoutCache, Quality, ReadingSource, Store, WorkKind
from hes._engine import CollectionConfig, HeadEnd
from hes._inventory import Inventory, MeterInfo
from hes._push import PushIngest, push_keys
from hes._push_rows import push_readings
from hes._schedule import Schedule
from hes._session import ProfileLayout, TcpConnector
from obis import ObisCode
from simulators import (
    BLOCK_LOAD_PUSH,
    DEFAULT_AK,
    DEFAULT_EK,
    INSTANTANEOUS_PUSH,
    Fleet,
    FleetLayout,
    notification,
    serve_fleet_wrapper,
)
from transports import LinkAddress, open_tcp_wrapper

_BLOCK_LOAD = "1.0.99.1.0.255"
_ENERGY = "1.0.1.29.0.255"


async def _until(predicate: object, timeout: float = 10.0) -> None:
    with trio.fail_after(timeout):
        while not predicate():  # type: ignore[operator]
            await trio.sleep(0.01)


async def test_block_load_pushes_become_readings_and_a_pull_adds_nothing(
    tmp_path: Path,
) -> None:
    fleet = Fleet(FleetLayout(seed=4, meters=3))
    counters = MemoryCounterStore()  # one monotonic invocation counter per meter
    reader = attrs.evolve(Association.meter_reader(), counter_store=counters)
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
        port = int(listeners[0].socket.getsockname()[1])
        inventory = Inventory.from_address_plan(fleet.address_plan(port))
        first = next(iter(inventory))
        layouts = LayoutCache()
        async with connect(f"tcp://{first.host}:{first.port}", association=reader) as meter:
            layout = await layouts.push_layout(first.model or "default", meter, BLOCK_LOAD_PUSH)
        assert layout.columns.clock is not None and layout.scalers
        with Store(tmp_path / "p.db") as store:
            keys = push_keys(inventory, lambda meter: (DEFAULT_EK, DEFAULT_AK))
            async with listen(keys, host="127.0.0.1", tcp_port=0, udp_port=None) as listener:
                ingest = PushIngest(
                    store,
                    interval=0.05,
                    inventory=inventory,
                    layouts=layouts,
                    sign=reader.sign,
                )
                nursery.start_soon(ingest.run, listener)
                assert listener.tcp_port is not None
                link = await open_tcp_wrapper(
                    "127.0.0.1", listener.tcp_port, client_wport=0x01, server_wport=0x40
                )
                for number in range(3):
                    meter_ = fleet.meter(number)
                    await link.send_apdu(notification(meter_, BLOCK_LOAD_PUSH))
                    # an instantaneous push carries no profile row: a receipt, no readings
                    await link.send_apdu(notification(meter_, INSTANTANEOUS_PUSH))
                await _until(lambda: ingest.accepted == 6)
                await link.aclose()
            pushed = [r for r in store.readings() if r.source is ReadingSource.PUSH]
            assert {r.meter for r in pushed} == {m.name for m in inventory}
            assert all(r.received is not None and r.captured is not None for r in pushed)
            assert all(r.start.minute % 15 == 0 and r.start.second == 0 for r in pushed)
            # one interval per meter, one reading per register column of the row
            registers = sum(1 for c in layout.columns if c.class_id == 3)
            assert len(pushed) == 3 * registers == ingest.readings
            assert not any(Quality.MISALIGNED in r.quality for r in pushed)
            assert len({r.start for r in pushed if r.meter == first.name}) == 1

            # pull the same interval: values agree, nothing is duplicated or flagged
            begin = min(r.start for r in pushed)
            finish = max(r.start for r in pushed) + dt.timedelta(minutes=15)
            config = CollectionConfig(read_daily=False, read_events=False, time_sync=False)
            head_end = HeadEnd(
                inventory, store, connector=TcpConnector(), counters=counters, config=config
            )
            schedule = Schedule(inventory, store, seed=1)
            schedule.add_round(begin, finish)
            await head_end.run(schedule, deadline=20.0)
            pulls = [s for s in store.sessions() if s.kind is WorkKind.BLOCK_LOAD]
            assert len(pulls) == 3 and all(s.rows >= 1 for s in pulls)
            after = {r.key: r for r in store.readings(start=begin, end=finish)}
            for reading in pushed:
                stored = after[reading.key]
                assert stored.source is ReadingSource.PUSH
                assert Quality.DUPLICATE not in stored.quality
                assert stored.value == reading.value
            pulled_only = [r for r in after.values() if r.source is ReadingSource.PULL]
            assert all(r.channel != _BLOCK_LOAD for r in pulled_only)
        nursery.cancel_scope.cancel()


_COLUMNS = ProfileColumns.of(
    (
        CaptureObject.of(1, "0.0.96.1.2.255", 2),
        CaptureObject.of(40, BLOCK_LOAD_PUSH, 1),
        CaptureObject.of(8, "0.0.1.0.0.255", 2),
        CaptureObject.of(3, _ENERGY, 2),
    )
)
_SETUP = OctetString(BLOCK_LOAD_PUSH.to_bytes())
_INFO = MeterInfo(name="M", host="127.0.0.1")
_T = dt.datetime(2026, 12, 1, 6, 30, tzinfo=dt.UTC)


def _cell(raw: bytes) -> Data:
    try:
        return decode(raw)
    except DecodeError:
        return OctetString(raw)


def _push(body: Data, date_time: DateTime | None = None) -> Push:
    return Push(
        notification=DataNotification(date_time=date_time, notification_body=body),
        system_title=None,
        meter="M",
        peer=LinkAddress(),
        transport="tcp",
        invocation_counter=None,
        received_at=_T + dt.timedelta(seconds=3),
        raw=b"",
    )


def _layouts() -> LayoutCache:
    cache = LayoutCache()
    scalers = {ObisCode.parse(_ENERGY): ScalerUnit(scaler=0, unit=30)}
    cache.add("default", BLOCK_LOAD_PUSH, ProfileLayout(columns=_COLUMNS, scalers=scalers))
    return cache


def test_a_row_push_is_typed_and_keyed_by_its_interval() -> None:
    stamp = DateTime.from_datetime(_T, sign=DeviationSign.BLUE_BOOK)
    body = Structure((OctetString(b"M"), _SETUP, OctetString(stamp.to_bytes()), Long(42)))
    (reading,) = push_readings(_push(body), _INFO, _layouts(), sign=DeviationSign.BLUE_BOOK)
    assert (reading.channel, reading.start, reading.value, reading.unit) == (
        _ENERGY,
        _T,
        42.0,
        "Wh",
    )
    assert reading.source is ReadingSource.PUSH and reading.quality == frozenset()
    # another push setup's body, or a body of another shape: a receipt only
    other = Structure((OctetString(b"M"), OctetString(bytes(6)), body[2], Long(42)))
    assert push_readings(_push(other), _INFO, _layouts(), sign=DeviationSign.BLUE_BOOK) == []
    assert (
        push_readings(_push(Structure(body[:3])), _INFO, _layouts(), sign=DeviationSign.BLUE_BOOK)
        == []
    )


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=14),
    st.binary(max_size=14),
    st.binary(max_size=14),
    st.booleans(),
)
def test_garbage_in_a_row_push_never_raises(
    device: bytes, clock: bytes, value: bytes, twelve: bool
) -> None:
    stamp = OctetString((clock * 12)[:12]) if twelve and clock else _cell(clock)
    body = Structure((_cell(device), _SETUP, stamp, _cell(value)))
    found = push_readings(_push(body), _INFO, _layouts(), sign=DeviationSign.UTC_TO_LOCAL)
    assert all(r.source is ReadingSource.PUSH and r.meter == "M" for r in found)
