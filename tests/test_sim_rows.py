"""Block load rows computed from value tuples equal the rows of the per-interval model.

A profile read computes a day of rows from :meth:`LoadModel.interval_values`,
:meth:`MeteringPoint.reported_values` and :func:`block_rows`, builds each column's A-XDR
values at once and looks the time stamps up by interval. Each of those is checked here
against the plain definition: the load formula written out with ``mix`` for one interval,
``block_row`` of each ``MeteringPoint.intervals`` row, and rows stamped one by one.
"""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.axdr import (
    Array,
    Data,
    DoubleLong,
    DoubleLongUnsigned,
    Long,
    LongUnsigned,
    Structure,
    Unsigned,
    encode,
)
from dlmskit.errors import LocalProtocolError
from simulators import (
    ConsumerKind,
    FaultPlan,
    Fleet,
    FleetLayout,
    LoadModel,
    MeteringPoint,
    MeterState,
)
from simulators import _state as state_module
from simulators._block_load import block_wraps
from simulators._load import mix, mix_round
from simulators._objects import _catalogue
from simulators._registers import block_row, block_rows

NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
PLAN = FaultPlan.from_mapping(
    {
        "seed": 9,
        "interval": [
            {"kind": "missing", "meters": 1.0, "per_day": 0.5, "length": 6},
            {"kind": "reverse", "meters": 1.0, "per_day": 0.4, "length": 8},
            {"kind": "spike", "meters": 1.0, "per_day": 0.5, "factor": 30},
            {"kind": "over_current", "meters": 1.0, "per_day": 0.3, "length": 3},
            {"kind": "low_voltage", "meters": 1.0, "per_day": 0.3, "length": 4},
            {"kind": "magnet", "meters": 1.0, "per_day": 0.3, "length": 2},
        ],
    }
)
DRIFT = FaultPlan.from_mapping(
    {"seed": 3, "meter": [{"kind": "clock_drift", "meters": 1.0, "value": 40}]}
)
# the shape tables of the model, as the module docstring describes them
_SHAPE_HOURS = {
    kind: tuple(map(int, hours.split()))
    for kind, hours in (
        (ConsumerKind.RESIDENTIAL, "3 2 2 2 2 3 6 8 7 5 4 4 4 4 4 4 5 7 10 12 12 10 7 4"),
        (ConsumerKind.COMMERCIAL, "1 1 1 1 1 1 2 3 6 10 12 12 12 12 12 12 12 11 9 6 3 2 1 1"),
        (ConsumerKind.AGRICULTURAL, "12 12 12 12 12 12 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 12 12 12"),
    )
}


def _reference(model: LoadModel, index: int) -> tuple[int, ...]:
    """One interval from the formula: load minus solar, telescoping base, noisy voltage."""
    day, q = divmod(index + 22, 96)
    shape = _SHAPE_HOURS[model.kind][q // 4]
    sun = max(0, 24 - abs(q - 49)) if 26 <= q <= 73 else 0
    level, solar = model.day_level(day), model.day_solar(day)
    load, generation = level * shape, solar * sun

    def g(i: int) -> int:
        return mix(model.seed, 0xBA5E, i) % model.base

    import_wh = max(load - generation, 0) + model.base + g(index + 1) - g(index)
    export_wh = max(generation - load, 0)
    import_vah = import_wh + level * (shape // 3)
    noise = mix(model.seed, 0x7011, index)
    voltage = 23000 + noise % 1500 - 750 - min(import_wh, 1500) // 3
    current = (import_wh + export_wh) * 4 * 100_000 // voltage // model.phases
    return index, import_wh, import_vah, export_wh, export_wh, voltage, current


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**64 - 1),
    kind=st.sampled_from(list(ConsumerKind)),
    solar=st.booleans(),
    phases=st.sampled_from([1, 3]),
    offset=st.integers(0, 400 * 96),
    length=st.integers(0, 200),
)
def test_interval_values_follow_the_formula(
    seed: int, kind: ConsumerKind, solar: bool, phases: int, offset: int, length: int
) -> None:
    model = LoadModel.from_seed(seed, kind=kind, net_metered=solar, phases=phases)
    first = model.first_index + offset
    values = model.interval_values(first, first + length)
    assert values == [_reference(model, i) for i in range(first, first + length)]
    assert [e.values for e in model.intervals(first, first + length)] == values
    if length:
        assert model.interval(first).values == values[0]


@given(seed=st.integers(0, 2**64 - 1), values=st.lists(st.integers(-(2**70), 2**70), max_size=4))
def test_mix_round_continues_a_mix(seed: int, values: list[int]) -> None:
    state = mix(seed)
    for value in values:
        state = mix_round(state, value)
    assert state == mix(seed, *values)


def _point(seed: int, phases: int, faults: bool, control: int) -> MeteringPoint:
    model = LoadModel.from_seed(seed, phases=phases)
    point = MeteringPoint(model=model, plan=PLAN if faults else FaultPlan())
    if control:
        c = point.control.disconnected(NOW - dt.timedelta(days=2, hours=3))
        c = c.reconnected(NOW - dt.timedelta(days=1, hours=20))
        if control == 2:
            c = c.limited(NOW - dt.timedelta(days=1, hours=10), 300)
        point = attrs.evolve(point, control=c)
    return point


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**40),
    phases=st.sampled_from([1, 3]),
    faults=st.booleans(),
    control=st.sampled_from([0, 1, 2]),
    back=st.integers(0, 10 * 96),
    length=st.integers(0, 3 * 96),
)
def test_block_rows_are_block_row_of_each_reported_interval(
    seed: int, phases: int, faults: bool, control: int, back: int, length: int
) -> None:
    point = _point(seed, phases, faults, control)
    first = max(point.model.first_index, (int(NOW.timestamp()) // 900) - back)
    expected = [
        (row.measured.index, *block_row(point, row))
        for row in point.intervals(first, first + length)
        if row.reported is not None
    ]
    assert block_rows(point, first, first + length) == expected
    assert point.reported_values(first, first + length) == [
        row.reported.values for row in point.intervals(first, first + length) if row.reported
    ]


def _rows_one_by_one(state: MeterState, window: tuple[dt.datetime, dt.datetime]) -> list[Structure]:
    """The block load rows of a window built row by row: each interval stamped with
    ``state.stamp``, kept when its stamp is inside the window, each value wrapped alone."""
    point = state.point
    wraps = block_wraps(point.model.phases)
    end = int(state.now().timestamp()) // 900
    rows = []
    for row in point.intervals(max(point.model.first_index, end - 45 * 96), end):
        if row.reported is None:
            continue
        stamp = state.stamp(row.measured.index)
        if window[0] <= stamp <= window[1]:
            cells: list[Data] = [state.date_time_octets(stamp)]
            cells += [w(v) for w, v in zip(wraps, block_row(point, row), strict=True)]
            rows.append(Structure(cells))
    return rows


@settings(max_examples=40, deadline=None)
@given(
    number=st.integers(0, 199),
    faults=st.booleans(),
    clock=st.sampled_from(["true", "drift", "set"]),
    day=st.integers(1, 6),
    start=st.integers(-3, 3),
    span=st.integers(0, 30 * 3600),
    micro=st.sampled_from([0, 1, 999_999]),
)
def test_profile_rows_of_a_window_match_rows_built_one_by_one(
    number: int, faults: bool, clock: str, day: int, start: int, span: int, micro: int
) -> None:
    plan = DRIFT if clock == "drift" else PLAN if faults else FaultPlan()
    fleet = Fleet(FleetLayout(seed=9, meters=200), plan=plan, clock=lambda: NOW)
    meter = fleet.meter(number)
    state = meter.state
    if clock == "set":
        state.set_clock(NOW + dt.timedelta(minutes=7, seconds=13))
    assert state.true_clock is (clock == "true")
    # window edges on, just after and just before interval starts
    low = dt.datetime(2026, 6, 10 - day, tzinfo=IST) + dt.timedelta(
        minutes=15 * start, microseconds=micro
    )
    window = (low.astimezone(dt.UTC), (low + dt.timedelta(seconds=span)).astimezone(dt.UTC))
    rows = _catalogue(meter.profile)._block_rows(state, window)
    assert rows == _rows_one_by_one(state, window)
    assert encode(Array(rows)) == encode(Array(_rows_one_by_one(state, window)))


COLUMN_TYPES = [Unsigned, LongUnsigned, Long, DoubleLong, DoubleLongUnsigned]


@settings(max_examples=100, deadline=None)
@given(
    kind=st.sampled_from(COLUMN_TYPES),
    values=st.lists(
        st.one_of(
            st.integers(-(2**33), 2**33),
            st.integers(0, 255),
            st.booleans(),
            st.floats(allow_nan=False),
            st.text(max_size=2),
        ),
        max_size=20,
    ),
)
def test_column_is_the_constructor_on_each_value(kind: type[Long], values: list[object]) -> None:
    try:
        expected = [kind(v) for v in values]  # type: ignore[arg-type]
    except LocalProtocolError as exc:
        with pytest.raises(LocalProtocolError) as raised:
            kind.column(values)  # type: ignore[arg-type]
        assert str(raised.value) == str(exc)
        return
    got = kind.column(values)  # type: ignore[arg-type]
    assert got == expected
    assert [type(v) for v in got] == [kind] * len(values)


def test_stamp_octets_tables_stay_bounded() -> None:
    fleet = Fleet(FleetLayout(seed=9, meters=1), clock=lambda: NOW)
    state = fleet.meter(0).state
    limit = state_module._OCTETS_LIMIT
    first = 1_900_000
    for chunk in range(0, 2 * limit + 500, 1000):
        indexes = list(range(first + chunk, first + chunk + 1000))
        octets = state.interval_octets(indexes)
        assert octets[7] == state.date_time_octets(state.stamp(indexes[7]))
        table = state_module._OCTETS[state.local_zone, state.sign]
        assert len(table) <= limit + 1000
