"""The load model, the fault plan and the ground truth of the simulator, without sockets."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import (
    ApplicationContextName,
    Conformance,
    CosemAttributeDescriptor,
    DataAccessResult,
    MechanismName,
    SelectiveAccess,
)
from dlmskit.association import ClientAssociation, ClientSettings, RequestContext
from dlmskit.axdr import (
    Array,
    Data,
    DoubleLongUnsigned,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
)
from dlmskit.security import HlsSecret, SecurityContext
from obis import ObisCode
from simulators import (
    CSV_COLUMNS,
    DEFAULT_AK,
    DEFAULT_EK,
    DEFAULT_HLS_SECRET,
    ConsumerKind,
    FaultKind,
    FaultPlan,
    Fleet,
    FleetLayout,
    LoadModel,
    MeteringPoint,
    injected_faults,
    meter_truth,
    write_truth_csv,
)
from simulators._load import interval_index, interval_start
from simulators._registers import BLOCK_REGISTERS, block_row, block_values

JUNE = dt.datetime(2026, 6, 10, tzinfo=dt.UTC)
PLAN = FaultPlan.from_mapping(
    {
        "seed": 9,
        "interval": [
            {"kind": "missing", "meters": 1.0, "per_day": 0.5, "length": 6},
            {"kind": "reverse", "meters": 1.0, "per_day": 0.4, "length": 8},
            {"kind": "spike", "meters": 1.0, "per_day": 0.5, "factor": 30},
        ],
    }
)


def _sums(point: MeteringPoint, first: int, end: int) -> list[int]:
    out = [0, 0, 0, 0]
    for row in point.intervals(first, end):
        m = row.measured
        for n, v in enumerate((m.import_wh, m.import_vah, m.export_wh, m.export_vah)):
            out[n] += v
    return out


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**40),
    kind=st.sampled_from(list(ConsumerKind)),
    solar=st.booleans(),
    faults=st.booleans(),
    offset=st.integers(0, 60 * 96),
    length=st.integers(0, 3 * 96),
)
def test_cumulative_registers_are_the_sum_of_block_energies(
    seed: int, kind: ConsumerKind, solar: bool, faults: bool, offset: int, length: int
) -> None:
    model = LoadModel.from_seed(seed, kind=kind, net_metered=solar)
    point = MeteringPoint(model=model, plan=PLAN if faults else FaultPlan())
    first = model.first_index + offset
    before, after = point.cumulative(first), point.cumulative(first + length)
    assert [b - a for a, b in zip(before, after, strict=True)] == _sums(
        point, first, first + length
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**40),
    phases=st.sampled_from([1, 3]),
    faults=st.booleans(),
    offset=st.integers(0, 60 * 96),
    length=st.integers(0, 2 * 96 + 5),
)
def test_a_run_of_intervals_is_each_interval_on_its_own(
    seed: int, phases: int, faults: bool, offset: int, length: int
) -> None:
    model = LoadModel.from_seed(seed, phases=phases)
    point = MeteringPoint(model=model, plan=PLAN if faults else FaultPlan())
    first = model.first_index + offset
    span = range(first, first + length)
    assert list(model.intervals(first, first + length)) == [model.interval(i) for i in span]
    rows = list(point.intervals(first, first + length))
    assert rows == [point.interval(i) for i in span]
    order = BLOCK_REGISTERS[phases]
    for row in rows:
        values = block_row(point, row)
        part = row.reported if row.reported is not None else row.measured
        energies = (part.import_wh, part.import_vah, part.export_wh, part.export_vah)
        assert values[phases : phases + 4] == energies
        if phases == 1:
            assert (values[0], values[-1]) == (part.voltage, part.current)
        else:  # per phase: around the interval's voltage and current
            assert all(abs(v - part.voltage) <= 150 for v in values[:3])
            assert all(abs(a - part.current) <= part.current // 20 for a in values[-3:])
        assert dict(zip(order, values, strict=True)) == block_values(point, row)


def test_model_is_a_pure_function_of_seed_and_time() -> None:
    a, b = LoadModel.from_seed(42), LoadModel.from_seed(42)
    index = interval_index(JUNE)
    assert a == b
    assert [a.interval(i) for i in range(index, index + 96)] == [
        b.interval(i) for i in range(index, index + 96)
    ]
    assert a.cumulative(index) == b.cumulative(index)
    assert LoadModel.from_seed(43).interval(index) != a.interval(index)


def _hourly(model: LoadModel, day: dt.datetime, days: int = 7) -> list[float]:
    """Mean import per local hour over ``days`` days starting at local midnight ``day``."""
    first = model.first_interval(model.day_of(interval_index(day)))
    totals = [0] * 24
    for n in range(days * 96):
        totals[(n % 96) // 4] += model.interval(first + n).import_wh
    return [t / days for t in totals]


def test_day_shapes_weekdays_and_seasons() -> None:
    home = LoadModel.from_seed(1, kind=ConsumerKind.RESIDENTIAL, net_metered=False)
    hours = _hourly(home, JUNE)
    assert hours[20] > 2 * hours[3]  # evening peak over the night
    farm = LoadModel.from_seed(2, kind=ConsumerKind.AGRICULTURAL)
    hours = _hourly(farm, JUNE)
    assert hours[2] > 5 * hours[13]  # pumping on the night supply
    shop = LoadModel.from_seed(3, kind=ConsumerKind.COMMERCIAL, net_metered=False)
    day = shop.day_of(interval_index(JUNE))  # 2026-06-10 is a Wednesday
    sunday = day + 4
    assert shop.day_totals(day)[0] > 1.5 * shop.day_totals(sunday)[0]
    january = home.day_of(interval_index(dt.datetime(2026, 1, 14, tzinfo=dt.UTC)))
    assert sum(home.day_totals(d)[0] for d in range(day, day + 7)) > sum(
        home.day_totals(d)[0] for d in range(january, january + 7)
    )


def test_net_metered_meter_exports_around_noon() -> None:
    solar = LoadModel.from_seed(7, kind=ConsumerKind.RESIDENTIAL, net_metered=True)
    assert solar.solar > 0
    first = solar.first_interval(solar.day_of(interval_index(JUNE)))
    noon = [solar.interval(first + q) for q in range(44, 56)]  # 11:00-14:00 IST
    night = [solar.interval(first + q) for q in range(0, 12)]
    assert sum(p.export_wh for p in noon) > 0
    assert sum(p.export_wh for p in night) == 0
    plain = LoadModel.from_seed(7, kind=ConsumerKind.RESIDENTIAL, net_metered=False)
    assert all(plain.interval(first + q).export_wh == 0 for q in range(96))


def test_history_of_45_days_is_computed_not_stored() -> None:
    model = LoadModel.from_seed(5)
    now = interval_index(JUNE)
    rows = list(MeteringPoint(model=model).intervals(now - 45 * 96, now))
    assert len(rows) == 45 * 96
    assert all(r.quality == "valid" for r in rows)


def test_interval_faults_as_reported_and_in_the_truth() -> None:
    fleet = Fleet(FleetLayout(seed=3, meters=2), plan=PLAN)
    ident = fleet.identity(0)
    start, end = JUNE, JUNE + dt.timedelta(days=4)
    rows = list(meter_truth(ident, PLAN, start, end, daily=False))
    by_quality: dict[str, list[object]] = defaultdict(list)
    for row in rows:
        by_quality[row.quality].append(row)
    assert {"valid", "missing", "spike", "reverse"} <= set(by_quality)
    for row in rows:
        if row.quality == "missing":
            assert row.value is None
        elif row.quality == "spike" and str(row.obis) == "1.0.1.29.0.255":
            assert row.value == 30 * row.measured
        elif row.quality == "valid":
            assert row.value == row.measured
    faults = injected_faults(ident, PLAN, start, end)
    kinds = {f.kind for f in faults}
    assert kinds == {FaultKind.MISSING, FaultKind.REVERSE, FaultKind.SPIKE}
    missing_starts = {r.start for r in rows if r.quality == "missing"}
    for fault in faults:
        if fault.kind is FaultKind.MISSING and fault.start is not None and fault.start >= start:
            assert fault.start in missing_starts


def test_reverse_energy_books_import_as_export() -> None:
    point = MeteringPoint(model=LoadModel.from_seed(11, net_metered=False), plan=PLAN)
    first = interval_index(JUNE)
    reversed_rows = [r for r in point.intervals(first, first + 10 * 96) if r.quality == "reverse"]
    assert reversed_rows
    for row in reversed_rows:
        clean = point.model.interval(row.measured.index)
        assert row.measured.export_wh == clean.import_wh
        assert row.measured.import_wh == clean.export_wh == 0


def test_silence_is_clustered() -> None:
    plan = FaultPlan.from_mapping({"seed": 4, "silence": [{"by": "feeder", "fraction": 0.3}]})
    layout = FleetLayout(seed=8, meters=3000, cells=10, feeders_per_cell=4)
    by_feeder: dict[int, set[bool]] = defaultdict(set)
    silent = 0
    for number in range(layout.meters):
        ident = layout.identity(number)
        mute = plan.silent_clusters(ident.clusters, JUNE)
        by_feeder[ident.feeder].add(mute)
        silent += mute
    assert all(len(fates) == 1 for fates in by_feeder.values())  # whole feeders fail
    assert 0.1 < silent / layout.meters < 0.5


def test_silence_window(tmp_path: Path) -> None:
    text = """
seed = 2
[[silence]]
by = "network"
fraction = 1.0
start = "2026-06-10T00:00:00Z"
end = "2026-06-10T06:00:00Z"

[[meter]]
kind = "clock_drift"
meters = 1.0
value = 86.0
start = "2026-06-01T00:00:00Z"
"""
    toml_path = tmp_path / "plan.toml"
    toml_path.write_text(text)
    plan = FaultPlan.load(toml_path)
    json_path = tmp_path / "plan.json"
    json_path.write_text(json.dumps(plan.to_mapping()))
    assert FaultPlan.load(json_path) == plan
    ident = FleetLayout(meters=1).identity(0)
    assert plan.silent_clusters(ident.clusters, JUNE + dt.timedelta(hours=1))
    assert not plan.silent_clusters(ident.clusters, JUNE + dt.timedelta(hours=7))
    point = MeteringPoint(model=ident.load_model(), plan=plan)
    assert point.clock_offset(JUNE) == dt.timedelta(seconds=9 * 86)


@pytest.mark.parametrize(
    "data",
    [
        {"interval": [{"kind": "silence", "meters": 0.1}]},
        {"meter": [{"kind": "spike", "meters": 0.1}]},
        {"silence": [{"by": "planet", "fraction": 0.1}]},
        {"silence": [{"by": "cell", "fraction": 1.5}]},
        {"bogus": 1},
        {"interval": "missing"},
    ],
)
def test_bad_plans_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FaultPlan.from_mapping(data)


def test_truth_csv_columns_and_values() -> None:
    ident = FleetLayout(seed=1, meters=1).identity(0)
    out = io.StringIO()
    start = dt.datetime(2026, 6, 9, 18, 30, tzinfo=dt.UTC)  # local midnight
    count = write_truth_csv(
        meter_truth(ident, FaultPlan(), start, start + dt.timedelta(hours=1)), out
    )
    lines = out.getvalue().splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert count == len(lines) - 1 == 4 * 6 + 4  # 4 intervals x 6 channels + daily registers
    first = lines[1].split(",")
    assert first[0] == ident.name
    assert first[2] == "2026-06-09T18:30:00Z"
    assert first[4] == "V" and 180 < float(first[3]) < 260
    assert {line.split(",")[5] for line in lines[1:]} == {"valid", "daily"}
    assert interval_start(interval_index(start)) == start


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_to_an_associated_meter_get_an_answer(data: bytes) -> None:
    fleet = Fleet(FleetLayout(seed=1, meters=1), clock=lambda: JUNE)
    session = fleet.meter(0).open_session(0x30)
    assert session is not None
    context = SecurityContext(
        system_title=bytes.fromhex("4D4D4D0000000003"),
        global_unicast_key=DEFAULT_EK,
        authentication_key=DEFAULT_AK,
    )
    client = ClientAssociation(
        ClientSettings(
            application_context=ApplicationContextName.LN_CIPHERED,
            mechanism=MechanismName.HIGH,
            hls=HlsSecret(secret=DEFAULT_HLS_SECRET),
            security=context,
        )
    )
    client.associate()
    for _ in range(4):
        for apdu in client.data_to_send():
            for answer in session.handle(apdu):
                client.receive_apdu(answer)
    assert session.associated
    answers = session.handle(data)
    assert all(isinstance(a, bytes) and a for a in answers)


_DATA = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(0, 2**32 - 1).map(DoubleLongUnsigned)
    | st.integers(-128, 127).map(Integer)
    | st.integers(0, 0xFFFF).map(LongUnsigned)
    | st.binary(max_size=14).map(OctetString),
    lambda inner: (
        st.lists(inner, max_size=5).map(Structure) | st.lists(inner, max_size=5).map(Array)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    selector=st.integers(0, 4),
    parameters=_DATA,
    profile=st.sampled_from(
        ["1.0.99.1.0.255", "1.0.99.2.0.255", "0.0.99.98.2.255", "1.0.98.1.0.255"]
    ),
)
def test_any_selective_access_gives_rows_or_a_data_access_result(
    selector: int, parameters: Data, profile: str
) -> None:
    fleet = Fleet(FleetLayout(seed=1, meters=1), clock=lambda: JUNE)
    objects = fleet.meter(0).objects
    ctx = RequestContext(
        client_sap=0x20,
        application_context=ApplicationContextName.LN_CIPHERED,
        mechanism=MechanismName.LOW,
        conformance=Conformance.GET | Conformance.SELECTIVE_ACCESS,
    )
    descriptor = CosemAttributeDescriptor(
        class_id=7, instance_id=ObisCode.parse(profile), attribute_id=2
    )
    result = objects.get(ctx, descriptor, SelectiveAccess(selector=selector, parameters=parameters))
    assert isinstance(result, DataAccessResult | Array)


def _day_by_quarters(model: LoadModel, day: int) -> tuple[int, int, int, int]:
    """A day's register increments summed from its 96 intervals (the block load rows'
    own values): the reference for the model's day sums."""
    first = model.first_interval(day)
    totals = [0, 0, 0, 0]
    for _i, import_wh, import_vah, export_wh, export_vah, _v, _c in model.interval_values(
        first, first + 96
    ):
        totals[0] += import_wh
        totals[1] += import_vah
        totals[2] += export_wh
        totals[3] += export_vah
    return totals[0], totals[1], totals[2], totals[3]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), day=st.integers(19000, 21000), span=st.integers(1, 40))
def test_day_sums_equal_the_quarter_by_quarter_sums(seed: int, day: int, span: int) -> None:
    identity = Fleet(FleetLayout(seed=seed, meters=8)).identity(seed % 8)
    model = identity.load_model()
    assert model.day_totals(day) == _day_by_quarters(model, day)
    days = [_day_by_quarters(model, d) for d in range(day, day + span)]
    expected = tuple(sum(d[i] for d in days) for i in range(4))
    from simulators._load import _days_totals

    assert _days_totals(model, day, day + span) == expected
