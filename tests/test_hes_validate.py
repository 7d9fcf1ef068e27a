"""Validation flags: every check on hand-built profile rows, and timestamping."""

from __future__ import annotations

import datetime as dt

import pytest

from hes import MeterEventRecord, Quality, Reading
from hes._timing import ClockReading, TimeSyncPolicy
from hes._validate import (
    IntervalColumns,
    IntervalRow,
    ValidationPolicy,
    check_cumulative,
    register_of,
    validate_block_load,
)

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
Q = dt.timedelta(minutes=15)
IMP, EXP, VOLT = "1.0.1.29.0.255", "1.0.2.29.0.255", "1.0.12.27.0.255"


def row(
    n: int, imp: float = 100.0, exp: float = 0.0, *, skew: float = 0.0, status: int | None = 0
) -> IntervalRow:
    return IntervalRow(
        captured=T0 + n * Q + dt.timedelta(seconds=skew),
        clock_status=status,
        values={IMP: (imp, "Wh"), EXP: (exp, "Wh"), VOLT: (230.0, "V")},
    )


def run(rows: list[IntervalRow], n: int = 8, **kw: object) -> dict[tuple[str, int], Reading]:
    result = validate_block_load(
        "M1",
        rows,
        start=T0,
        end=T0 + n * Q,
        received=T0 + dt.timedelta(days=1),
        **kw,  # type: ignore[arg-type]
    )
    return {(r.channel, int((r.start - T0) / Q)): r for r in result.readings}


def test_clean_rows_are_valid_and_keyed_by_interval() -> None:
    got = run([row(n) for n in range(8)])
    assert len(got) == 24
    assert all(r.quality == frozenset() for r in got.values())
    assert got[(IMP, 3)].start == T0 + 3 * Q and got[(IMP, 3)].value == 100.0
    assert got[(IMP, 3)].captured == T0 + 3 * Q


def test_missing_rows_are_reported_as_runs() -> None:
    rows = [row(n) for n in (0, 1, 4, 7)]
    result = validate_block_load("M1", rows, start=T0, end=T0 + 8 * Q, received=T0)
    assert result.missing == [(T0 + 2 * Q, T0 + 4 * Q), (T0 + 5 * Q, T0 + 7 * Q)]
    assert result.flags[Quality.SKIPPED] == 4


def test_missing_tail_is_reported() -> None:
    result = validate_block_load("M1", [row(0)], start=T0, end=T0 + 3 * Q, received=T0)
    assert result.missing == [(T0 + Q, T0 + 3 * Q)]


def test_misaligned_and_drifted_stamps() -> None:
    got = run([row(0, skew=40.0), row(1, skew=0.5), row(2, skew=-200.0)], n=3)
    assert got[(IMP, 0)].quality == {Quality.MISALIGNED}
    assert got[(IMP, 1)].quality == frozenset()
    assert got[(IMP, 2)].quality == {Quality.MISALIGNED}
    assert got[(IMP, 2)].start == T0 + 2 * Q  # rounded to the nominal interval


def test_clock_deviation_flags_the_session() -> None:
    got = run([row(0)], n=1, clock_deviation=dt.timedelta(seconds=45))
    assert got[(IMP, 0)].quality == {Quality.CLOCK_DEVIATION}
    got = run([row(0)], n=1, clock_deviation=dt.timedelta(seconds=-10))
    assert got[(IMP, 0)].quality == frozenset()


@pytest.mark.parametrize("bits", [0x01, 0x02, 0x04, 0x08, 0x0F])
def test_clock_status_bits(bits: int) -> None:
    got = run([row(0, status=bits), row(1, status=0x80), row(2, status=None)], n=3)
    assert got[(VOLT, 0)].quality == {Quality.CLOCK_STATUS}
    assert got[(VOLT, 1)].quality == frozenset()  # daylight saving is not an error
    assert got[(VOLT, 2)].quality == frozenset()


def test_duplicate_row_with_other_values() -> None:
    rows = [row(0), row(1), row(1, imp=5.0), row(2), row(2)]
    got = run(rows, n=3)
    assert got[(IMP, 1)].value == 100.0  # first kept
    assert Quality.DUPLICATE in got[(IMP, 1)].quality
    assert got[(IMP, 2)].quality == frozenset()  # identical repeat is harmless


def test_reverse_energy_only_without_net_metering() -> None:
    rows = [row(0), row(1, imp=0.0, exp=80.0), row(2)]
    got = run(rows, n=3)
    assert Quality.REVERSE_ENERGY in got[(IMP, 1)].quality
    assert Quality.REVERSE_ENERGY in got[(EXP, 1)].quality
    assert Quality.REVERSE_ENERGY not in got[(IMP, 0)].quality
    got = run(rows, n=3, net_metered=True)
    assert all(Quality.REVERSE_ENERGY not in r.quality for r in got.values())


def test_spike_against_the_median() -> None:
    rows = [row(n, imp=100.0 + n) for n in range(8)]
    rows[5] = row(5, imp=2000.0)
    got = run(rows)
    assert got[(IMP, 5)].quality == {Quality.SPIKE}
    assert all(got[(IMP, n)].quality == frozenset() for n in range(8) if n != 5)
    assert got[(VOLT, 5)].quality == frozenset()  # only the energy channel


def test_sum_check_against_register_delta() -> None:
    rows = [row(n, imp=100.0) for n in range(8)]
    regs = {T0: {register_of(IMP): 1000.0}, T0 + 8 * Q: {register_of(IMP): 1800.0}}
    got = run(rows, registers=regs)
    assert all(r.quality == frozenset() for r in got.values())
    rows[3] = row(3, imp=300.0)  # +200 Wh the register never saw
    got = run(rows, registers=regs)
    assert all(Quality.SUM_CHECK in got[(IMP, n)].quality for n in range(8))
    assert all(Quality.SUM_CHECK not in got[(EXP, n)].quality for n in range(8))


def test_sum_check_tolerates_rounding_and_missing_rows() -> None:
    rows = [row(n, imp=100.0) for n in range(8) if n != 4]  # power failure: no energy
    regs = {T0: {register_of(IMP): 0.0}, T0 + 8 * Q: {register_of(IMP): 703.0}}
    got = run(rows, registers=regs)
    assert all(Quality.SUM_CHECK not in r.quality for r in got.values())


def test_events_flag_tamper_and_power_failure_windows() -> None:
    events = [
        MeterEventRecord(meter="M1", when=T0 + 2 * Q, log=1, code=51),
        MeterEventRecord(meter="M1", when=T0 + 4 * Q, log=1, code=52),
        MeterEventRecord(meter="M1", when=T0 + 6 * Q, log=2, code=101),
    ]
    got = run([row(n) for n in range(8)], events=events)
    tampered = [n for n in range(8) if Quality.TAMPER in got[(IMP, n)].quality]
    assert tampered == [2, 3]
    failed = [n for n in range(8) if Quality.POWER_FAILURE in got[(IMP, n)].quality]
    assert failed == [6, 7]  # never restored within the range


def test_rows_outside_the_range_are_dropped() -> None:
    got = run([row(n) for n in range(-2, 10)])
    assert sorted({n for _c, n in got}) == list(range(8))


def test_non_monotonic_cumulative_register() -> None:
    def cum(n: int, value: float, channel: str = "1.0.1.8.0.255") -> Reading:
        return Reading(meter="M1", channel=channel, start=T0 + n * Q, value=value, unit="Wh")

    out = check_cumulative(
        [cum(0, 10.0), cum(2, 9.0), cum(1, 12.0), cum(3, 12.0), cum(4, 13.0), cum(0, 1.0, IMP)]
    )
    flagged = {
        (r.channel, int((r.start - T0) / Q)) for r in out if Quality.NON_MONOTONIC in r.quality
    }
    assert flagged == {("1.0.1.8.0.255", 2)}
    assert len(out) == 6


def test_register_of() -> None:
    assert register_of("1.0.9.29.0.255") == "1.0.9.8.0.255"
    with pytest.raises(ValueError):
        register_of("1.0.9.8.0.255")


def test_clock_reading_and_time_sync_decision() -> None:
    sent = T0
    reading = ClockReading(
        sent=sent,
        received=sent + dt.timedelta(seconds=4),
        meter_time=sent + dt.timedelta(seconds=47),
    )
    assert reading.deviation == dt.timedelta(seconds=45)
    assert reading.uncertainty == dt.timedelta(seconds=2)
    policy = TimeSyncPolicy(threshold=dt.timedelta(seconds=30))
    assert policy.needs_sync(reading)
    slow = ClockReading(
        sent=sent,
        received=sent + dt.timedelta(seconds=100),
        meter_time=sent + dt.timedelta(seconds=85),
    )
    assert not policy.needs_sync(slow)  # within the round-trip uncertainty
    far = ClockReading(sent=sent, received=sent, meter_time=sent + dt.timedelta(hours=3))
    assert not policy.needs_sync(far) and policy.out_of_range(far)
    with pytest.raises(ValueError):
        ClockReading(sent=sent, received=sent - dt.timedelta(seconds=1), meter_time=sent)


def test_validation_policy_thresholds_are_used() -> None:
    rows = [row(n, imp=100.0) for n in range(8)]
    rows[2] = row(2, imp=450.0)
    assert Quality.SPIKE not in run(rows)[(IMP, 2)].quality
    strict = ValidationPolicy(spike_ratio=4.0, spike_floor=10.0)
    assert Quality.SPIKE in run(rows, policy=strict)[(IMP, 2)].quality


def test_interval_columns_are_the_rows_as_columns() -> None:
    """Rows given as columns: each row's stamp, status and values, naive stamps as UTC;
    columns that do not fit the rows are refused."""
    local = dt.timezone(dt.timedelta(hours=5, minutes=30))
    columns = IntervalColumns(
        captured=[T0.astimezone(local), (T0 + Q).replace(tzinfo=None)],
        clock_status=[0, None],
        channels=[IMP, VOLT],
        units=["Wh", "V"],
        values=[[10.0, None], [230.0, 231.5]],
    )
    assert len(columns) == 2
    assert columns.rows() == [
        IntervalRow(captured=T0, clock_status=0, values={IMP: (10.0, "Wh"), VOLT: (230.0, "V")}),
        IntervalRow(
            captured=T0 + Q, clock_status=None, values={IMP: (None, "Wh"), VOLT: (231.5, "V")}
        ),
    ]
    again = validate_block_load(
        "M1", columns, start=T0, end=T0 + 2 * Q, received=T0 + dt.timedelta(days=1)
    )
    assert [(r.channel, r.start, r.value) for r in again.readings] == [
        (IMP, T0, 10.0),
        (VOLT, T0, 230.0),
        (IMP, T0 + Q, None),
        (VOLT, T0 + Q, 231.5),
    ]
    fits: dict[str, object] = {
        "captured": [T0],
        "clock_status": [0],
        "channels": [IMP],
        "units": ["Wh"],
        "values": [[1.0]],
    }
    IntervalColumns(**fits)  # type: ignore[arg-type]
    mistakes: list[dict[str, object]] = [
        {"clock_status": [0, 0]},
        {"values": [[1.0, 2.0]]},
        {"units": []},
        {"channels": [IMP, IMP], "units": ["Wh", "Wh"], "values": [[1.0], [1.0]]},
    ]
    for wrong in mistakes:
        with pytest.raises(ValueError):
            IntervalColumns(**{**fits, **wrong})  # type: ignore[arg-type]
