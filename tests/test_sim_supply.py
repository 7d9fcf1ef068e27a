"""Relay switching and load limiting change what a simulated meter measures, from the
moment of the action, in its registers, its profiles and its ground truth."""

from __future__ import annotations

import datetime as dt

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st
from test_sim_meter import Client, _attribute, _ciphered, _method

from dlmskit.apdu import ActionResult, DataAccessResult, MechanismName, SelectiveAccess
from dlmskit.association import AssociationAccepted
from dlmskit.axdr import DeviationSign, DoubleLongUnsigned, Integer, LongUnsigned, Structure
from dlmskit.security import HlsSecret
from obis import ObisCode
from simulators import (
    DEFAULT_HLS_SECRET,
    REGISTERS,
    Fleet,
    FleetLayout,
    SupplyControl,
    meter_truth,
)
from simulators._load import interval_index

START = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)  # 17:30 IST, evening load
IMPORT_WH = "1.0.1.8.0.255"
BLOCK_IMPORT = ObisCode.parse("1.0.1.29.0.255")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


def _setup(max_active: int = 10) -> tuple[Fleet, Clock]:
    clock = Clock()
    fleet = Fleet(
        FleetLayout(seed=21, meters=2, three_phase_share=0.0),
        clock=clock,
        sign=DeviationSign.BLUE_BOOK,
        max_active=max_active,
    )
    return fleet, clock


def _client(fleet: Fleet) -> Client:
    client = Client(
        fleet.meter(0).open_session(0x30),
        _ciphered(MechanismName.HIGH, hls=HlsSecret(secret=DEFAULT_HLS_SECRET)),
    )
    assert isinstance(client.associate(), AssociationAccepted)
    return client


def _register(client: Client, ln: str) -> int:
    value = client.get(_attribute(3, ln, 2))
    assert isinstance(value, int), value
    return value


def _energies(rows: list[Structure]) -> list[int]:
    """The import Wh column of block load rows (clock, voltage, import Wh, ...)."""
    out: list[int] = []
    for row in rows:
        value = row[2]
        assert isinstance(value, int) and not isinstance(value, bool)
        out.append(int(value))
    return out


def _last_rows(client: Client, count: int) -> list[Structure]:
    """The newest ``count`` block load rows (entry selection, 45 days of 96 rows)."""
    total = 45 * 96
    access = SelectiveAccess(
        selector=2,
        parameters=Structure(
            (
                DoubleLongUnsigned(total - count + 1),
                DoubleLongUnsigned(total),
                LongUnsigned(1),
                LongUnsigned(0),
            )
        ),
    )
    rows = client.get(_attribute(7, "1.0.99.1.0.255", 2), access)
    assert isinstance(rows, tuple) and len(rows) == count
    return [row for row in rows if isinstance(row, Structure)]


def test_disconnection_stops_consumption_from_the_moment_of_the_action() -> None:
    fleet, clock = _setup()
    point = fleet.meter(0).state.point
    first = interval_index(START)
    unswitched = [point.with_supply(first + n).measured.import_wh for n in range(8)]
    assert all(wh > 0 for wh in unswitched)  # the evening load is on

    clock.now = START + dt.timedelta(minutes=5)
    client = _client(fleet)
    before = _register(client, IMPORT_WH)
    assert client.action(_method(70, "0.0.96.3.10.255", 1), Integer(0)) is ActionResult.SUCCESS
    clock.now = START + dt.timedelta(minutes=40)
    assert _register(client, IMPORT_WH) == before
    assert _register(client, "1.0.1.7.0.255") == 0  # no active power
    assert _register(client, "1.0.11.7.0.255") == 0  # no current
    clock.now = START + dt.timedelta(minutes=67)
    assert _register(client, IMPORT_WH) == before
    assert client.action(_method(70, "0.0.96.3.10.255", 2), Integer(0)) is ActionResult.SUCCESS
    clock.now = START + dt.timedelta(hours=2)
    after = _register(client, IMPORT_WH)

    served = _energies(_last_rows(client, 8))  # 12:00 .. 13:45
    assert served[0] == unswitched[0] * 300 // 900  # 5 of 15 minutes supplied
    assert served[1:4] == [0, 0, 0]
    assert served[4] == unswitched[4] * 480 // 900  # reconnected at 13:07
    assert served[5:] == unswitched[5:]
    assert after - before == sum(served[1:])  # the cumulative register meets the blocks

    scale = REGISTERS[BLOCK_IMPORT].scaled
    window = (START, START + dt.timedelta(hours=2))
    truth = [r.value for r in fleet.truth(0, *window, daily=False) if r.obis == BLOCK_IMPORT]
    assert truth == [scale(v) for v in served]
    assert fleet.control(0).relay_open == (
        (START + dt.timedelta(minutes=5), START + dt.timedelta(minutes=67)),
    )
    blind = meter_truth(fleet.identity(0), fleet.plan, *window, daily=False)
    assert [r.value for r in blind if r.obis == BLOCK_IMPORT] == [scale(v) for v in unswitched]


def test_a_load_limit_trips_the_blocks_above_it_from_the_next_block() -> None:
    fleet, clock = _setup()
    point = fleet.meter(0).state.point
    first = interval_index(START)
    unswitched = [point.with_supply(first + n).measured.import_wh for n in range(8)]
    limit = sorted(wh * 4 for wh in unswitched)[4]  # W: half the blocks are above it
    clock.now = START + dt.timedelta(minutes=20)  # written during the 12:15 block
    client = _client(fleet)
    written = client.set(_attribute(71, "0.0.17.0.0.255", 3), DoubleLongUnsigned(limit))
    assert written is DataAccessResult.SUCCESS
    clock.now = START + dt.timedelta(hours=2)
    served = _energies(_last_rows(client, 8))
    expected = [wh if n < 2 or wh * 4 <= limit else 0 for n, wh in enumerate(unswitched)]
    assert served == expected
    assert 0 in served[2:] and any(served[2:])
    scale = REGISTERS[BLOCK_IMPORT].scaled
    truth = fleet.truth(0, START, START + dt.timedelta(hours=2), daily=False)
    assert [r.value for r in truth if r.obis == BLOCK_IMPORT] == [scale(v) for v in served]


def test_an_evicted_meter_remembers_its_switching() -> None:
    fleet, clock = _setup(max_active=1)
    client = _client(fleet)
    assert client.action(_method(70, "0.0.96.3.10.255", 1), Integer(0)) is ActionResult.SUCCESS
    client.session.close()
    control = fleet.control(0)
    assert isinstance(control, SupplyControl) and not control.connected
    fleet.meter(1)  # evicts meter 0
    assert fleet.active == 1
    clock.now = START + dt.timedelta(hours=1)
    client = _client(fleet)
    assert client.get(_attribute(70, "0.0.96.3.10.255", 2)) is False
    assert _register(client, "1.0.1.7.0.255") == 0
    assert fleet.control(0) == control


@settings(max_examples=20, deadline=None)
@given(
    switches=st.lists(st.integers(min_value=0, max_value=6 * 3600), max_size=6, unique=True),
    limit=st.one_of(st.none(), st.integers(min_value=0, max_value=3000)),
    limit_at=st.integers(min_value=0, max_value=6 * 3600),
)
def test_registers_meet_the_blocks_whatever_the_switching(
    switches: list[int], limit: int | None, limit_at: int
) -> None:
    """Cumulative registers equal the sum of the block energies, and never go down,
    for any sequence of disconnections, reconnections and load limits."""
    point = Fleet(FleetLayout(seed=21, meters=1)).meter(0).state.point
    control = SupplyControl()
    for n, second in enumerate(sorted(switches)):
        when = START + dt.timedelta(seconds=second)
        control = control.disconnected(when) if n % 2 == 0 else control.reconnected(when)
    if limit is not None:
        control = control.limited(START + dt.timedelta(seconds=limit_at), limit)
    switched = attrs.evolve(point, control=control)
    first = interval_index(START)
    total = switched.cumulative(first)
    assert total == point.cumulative(first)  # nothing changed before the first action
    for index in range(first, first + 28):
        part = switched.interval(index).measured
        assert part.import_wh <= point.interval(index).measured.import_wh
        total = (
            total[0] + part.import_wh,
            total[1] + part.import_vah,
            total[2] + part.export_wh,
            total[3] + part.export_vah,
        )
        assert switched.cumulative(index + 1) == total
    readings = [
        switched.running(START + dt.timedelta(minutes=minute))[0] for minute in range(0, 420, 20)
    ]
    assert readings == sorted(readings)
    assert readings[-1] <= switched.cumulative(first + 28)[0]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


@settings(max_examples=200)
@given(data=st.dictionaries(st.sampled_from(["relay_open", "limits", "meter"]), _JSON, max_size=3))
def test_a_control_record_is_read_or_refused(data: dict[str, object]) -> None:
    try:
        control = SupplyControl.from_json(data)
    except ValueError:
        return
    assert SupplyControl.from_json(control.to_json()) == control


def test_control_records_round_trip() -> None:
    control = (
        SupplyControl()
        .disconnected(START)
        .reconnected(START + dt.timedelta(minutes=9))
        .limited(START, 1500)
        .disconnected(START + dt.timedelta(hours=1))
    )
    assert SupplyControl.from_json(control.to_json()) == control
    assert not control.connected and control.open_at(START + dt.timedelta(hours=2))
