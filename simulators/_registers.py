"""The registers a simulated meter exposes: OBIS, type, scaler and unit, and their values.

One table serves the COSEM tree and the ground truth, so a value read over DLMS and the
value in ``dlmskit-sim truth`` come from the same function. Raw values are integers;
the physical value is ``raw * 10**scaler`` in ``unit``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from typing import Final

import attrs

from dlmskit.axdr import Data, DoubleLong, DoubleLongUnsigned, Long, LongUnsigned
from dlmskit.cosem import ScalerUnit, Unit
from obis import ObisCode
from simulators._billing import running_period
from simulators._load import INTERVAL, interval_index, mix
from simulators._measure import MeteringPoint, ReportedInterval

__all__ = [
    "BLOCK_REGISTERS",
    "DAILY_REGISTERS",
    "REGISTERS",
    "RegisterDef",
    "block_row",
    "block_rows",
    "block_values",
    "daily_values",
    "instantaneous_values",
    "maximum_demand",
]


@attrs.frozen(kw_only=True)
class RegisterDef:
    """A register (class 3) or extended register (class 4) of the simulated meter."""

    logical_name: ObisCode
    name: str
    scaler: int
    unit: Unit
    wrap: Callable[[int], Data]
    class_id: int = 3

    @property
    def scaler_unit(self) -> ScalerUnit:
        return ScalerUnit(scaler=self.scaler, unit=self.unit)

    def scaled(self, raw: int) -> float | int:
        return self.scaler_unit.scale(raw)


def _r(
    text: str, name: str, scaler: int, unit: Unit, wrap: Callable[[int], Data], class_id: int = 3
) -> RegisterDef:
    return RegisterDef(
        logical_name=ObisCode.parse(text),
        name=name,
        scaler=scaler,
        unit=unit,
        wrap=wrap,
        class_id=class_id,
    )


_U = Unit
_DLU = DoubleLongUnsigned
_LU = LongUnsigned

_ALL: Final = (
    _r("1.0.12.7.0.255", "Voltage", -2, _U.VOLT, _LU),
    _r("1.0.11.7.0.255", "Phase current", -3, _U.AMPERE, _DLU),
    _r("1.0.91.7.0.255", "Neutral current", -3, _U.AMPERE, _DLU),
    _r("1.0.13.7.0.255", "Signed power factor", -3, _U.COUNT, Long),
    _r("1.0.14.7.0.255", "Frequency", -2, _U.HERTZ, _LU),
    _r("1.0.9.7.0.255", "Apparent power", 0, _U.VOLT_AMPERE, _DLU),
    _r("1.0.1.7.0.255", "Signed active power", 0, _U.WATT, DoubleLong),
    _r("1.0.1.8.0.255", "Cumulative energy kWh import", 0, _U.WATT_HOUR, _DLU),
    _r("1.0.9.8.0.255", "Cumulative energy kVAh import", 0, _U.VOLT_AMPERE_HOUR, _DLU),
    _r("1.0.2.8.0.255", "Cumulative energy kWh export", 0, _U.WATT_HOUR, _DLU),
    _r("1.0.10.8.0.255", "Cumulative energy kVAh export", 0, _U.VOLT_AMPERE_HOUR, _DLU),
    _r("0.0.94.91.14.255", "Cumulative power-on duration", 0, _U.MINUTE, _DLU),
    _r("1.0.1.6.0.255", "Maximum demand kW", 0, _U.WATT, _DLU, 4),
    _r("1.0.9.6.0.255", "Maximum demand kVA", 0, _U.VOLT_AMPERE, _DLU, 4),
    *(
        _r(f"1.0.{c}.7.0.255", f"L{n} current", -3, _U.AMPERE, _DLU)
        for n, c in enumerate((31, 51, 71), 1)
    ),
    *(
        _r(f"1.0.{c}.7.0.255", f"L{n} voltage", -2, _U.VOLT, _LU)
        for n, c in enumerate((32, 52, 72), 1)
    ),
    *(
        _r(f"1.0.{c}.7.0.255", f"L{n} power factor", -3, _U.COUNT, Long)
        for n, c in enumerate((33, 53, 73), 1)
    ),
    _r("1.0.12.27.0.255", "Block average voltage", -2, _U.VOLT, _LU),
    _r("1.0.11.27.0.255", "Block average current", -3, _U.AMPERE, _DLU),
    *(
        _r(f"1.0.{c}.27.0.255", f"Block L{n} average voltage", -2, _U.VOLT, _LU)
        for n, c in enumerate((32, 52, 72), 1)
    ),
    *(
        _r(f"1.0.{c}.27.0.255", f"Block L{n} average current", -3, _U.AMPERE, _DLU)
        for n, c in enumerate((31, 51, 71), 1)
    ),
    *(
        _r(f"1.0.1.8.{z}.255", f"Cumulative energy kWh import TZ{z}", 0, _U.WATT_HOUR, _DLU)
        for z in range(1, 7)
    ),
    *(
        _r(f"1.0.9.8.{z}.255", f"Cumulative energy kVAh import TZ{z}", 0, _U.VOLT_AMPERE_HOUR, _DLU)
        for z in range(1, 7)
    ),
    _r("1.0.13.0.0.255", "Average power factor of the billing period", -3, _U.COUNT, Long),
    _r("0.0.94.91.13.255", "Power-on duration of the billing period", 0, _U.MINUTE, _DLU),
    _r("1.0.1.29.0.255", "Block energy kWh import", 0, _U.WATT_HOUR, _DLU),
    _r("1.0.9.29.0.255", "Block energy kVAh import", 0, _U.VOLT_AMPERE_HOUR, _DLU),
    _r("1.0.2.29.0.255", "Block energy kWh export", 0, _U.WATT_HOUR, _DLU),
    _r("1.0.10.29.0.255", "Block energy kVAh export", 0, _U.VOLT_AMPERE_HOUR, _DLU),
)

#: Every register by logical name.
REGISTERS: Final[Mapping[ObisCode, RegisterDef]] = {r.logical_name: r for r in _ALL}
_BLOCK_ENERGY: Final = tuple(ObisCode.parse(f"1.0.{c}.29.0.255") for c in (1, 9, 2, 10))
#: Columns of a block load row after the clock, single-phase and three-phase.
BLOCK_REGISTERS: Final = {
    1: (ObisCode.parse("1.0.12.27.0.255"), *_BLOCK_ENERGY, ObisCode.parse("1.0.11.27.0.255")),
    3: (
        *(ObisCode.parse(f"1.0.{c}.27.0.255") for c in (32, 52, 72)),
        *_BLOCK_ENERGY,
        *(ObisCode.parse(f"1.0.{c}.27.0.255") for c in (31, 51, 71)),
    ),
}
#: Columns of a daily load row after the clock.
DAILY_REGISTERS: Final = tuple(
    ObisCode.parse(t) for t in ("1.0.2.8.0.255", "1.0.10.8.0.255", "1.0.1.8.0.255", "1.0.9.8.0.255")
)


def _phase(value: int, seed: int, index: int, phase: int, spread: int) -> int:
    return max(0, value + int(mix(seed, 0x9A5E, index, phase) % (2 * spread + 1)) - spread)


def block_row(point: MeteringPoint, row: ReportedInterval) -> tuple[int, ...]:
    """Raw values of a block load row (as reported; the measured values when missing),
    in the order of ``BLOCK_REGISTERS`` for the meter's phases."""
    part = row.reported if row.reported is not None else row.measured
    energies = (part.import_wh, part.import_vah, part.export_wh, part.export_vah)
    if point.model.phases == 1:
        return (part.voltage, *energies, part.current)
    seed, index = point.seed, part.index
    spread = part.current // 20
    return (
        *(_phase(part.voltage, seed, index, n, 150) for n in range(3)),
        *energies,
        *(_phase(part.current, seed, index, n + 3, spread) for n in range(3)),
    )


def block_rows(point: MeteringPoint, first: int, end: int) -> list[tuple[int, ...]]:
    """``(index, *block_row(point, row))`` for every reported interval ``row`` among
    ``first..end-1``, computed from value tuples (a profile read's fast path)."""
    values = point.reported_values(first, end)
    if point.model.phases == 1:
        return [(i, v, a, b, c, d, amps) for i, a, b, c, d, v, amps in values]
    state = mix(point.seed, 0x9A5E)
    rows: list[tuple[int, ...]] = []
    append = rows.append
    m64 = (1 << 64) - 1
    phase = [0] * 6
    for index, a, b, c, d, volts, amps in values:
        # x = mix(seed, 0x9A5E, index), then phase n's hash mix(seed, 0x9A5E, index, n) =
        # mix_round(x, n): mix_round written out, it is the hot loop of a three-phase read
        x = ((state ^ (index & m64)) * 0xBF58476D1CE4E5B9) & m64
        x ^= x >> 31
        x = (x * 0x94D049BB133111EB) & m64
        x ^= x >> 29
        for n in range(6):
            y = ((x ^ n) * 0xBF58476D1CE4E5B9) & m64
            y ^= y >> 31
            y = (y * 0x94D049BB133111EB) & m64
            phase[n] = y ^ (y >> 29)
        spread = amps // 20
        width = 2 * spread + 1
        v1 = volts + phase[0] % 301 - 150
        v2 = volts + phase[1] % 301 - 150
        v3 = volts + phase[2] % 301 - 150
        i1 = amps + phase[3] % width - spread
        i2 = amps + phase[4] % width - spread
        i3 = amps + phase[5] % width - spread
        append(
            (
                index,
                v1 if v1 > 0 else 0,
                v2 if v2 > 0 else 0,
                v3 if v3 > 0 else 0,
                a,
                b,
                c,
                d,
                i1 if i1 > 0 else 0,
                i2 if i2 > 0 else 0,
                i3 if i3 > 0 else 0,
            )
        )
    return rows


def block_values(point: MeteringPoint, row: ReportedInterval) -> dict[ObisCode, int]:
    """Raw values of a block load row (as reported; the measured values when missing)."""
    order = BLOCK_REGISTERS[1 if point.model.phases == 1 else 3]
    return dict(zip(order, block_row(point, row), strict=True))


def daily_values(point: MeteringPoint, day_start: int) -> dict[ObisCode, int]:
    """Raw values of a daily load row captured at interval ``day_start`` (local midnight)."""
    imp, imp_va, exp, exp_va = point.cumulative(day_start)
    return dict(zip(DAILY_REGISTERS, (exp, exp_va, imp, imp_va), strict=True))


def maximum_demand(point: MeteringPoint, now: _dt.datetime) -> tuple[int, int, int, int]:
    """(kW MD in W, its interval, kVA MD in VA, its interval) over the completed
    15-minute blocks of the running billing period (since the last local month start)."""
    summary = running_period(point, now)
    return summary.md_w, summary.md_w_index, summary.md_va, summary.md_va_index


def instantaneous_values(point: MeteringPoint, now: _dt.datetime) -> dict[ObisCode, int]:
    """Raw instantaneous register values at true time ``now``; cumulative registers count
    the running interval pro rata, so they meet the block sums at each boundary."""
    index = interval_index(now)
    part = point.with_supply(index).measured
    running = point.running(now)
    if not point.supplied(now):
        part = attrs.evolve(part, import_wh=0, import_vah=0, export_wh=0, export_vah=0)
    tick = int(now.timestamp()) // 10
    seed = point.seed
    volts = _phase(part.voltage, seed, tick, 7, 40)
    watts = (part.import_wh - part.export_wh) * 4
    va = part.import_vah * 4 + part.export_vah * 4
    pf = 1000 if va == 0 else abs(watts) * 1000 // va
    amps = (part.import_wh + part.export_wh) * 4 * 100_000 // max(volts, 1) // point.model.phases
    values = {
        "1.0.12.7.0.255": volts,
        "1.0.11.7.0.255": amps,
        "1.0.91.7.0.255": _phase(amps, seed, tick, 8, amps // 50),
        "1.0.13.7.0.255": pf if watts >= 0 else -pf,
        "1.0.14.7.0.255": _phase(5000, seed, tick, 9, 8),
        "1.0.9.7.0.255": va,
        "1.0.1.7.0.255": watts,
        "1.0.1.8.0.255": running[0],
        "1.0.9.8.0.255": running[1],
        "1.0.2.8.0.255": running[2],
        "1.0.10.8.0.255": running[3],
        "0.0.94.91.14.255": (index - point.model.first_index) * INTERVAL // 60,
    }
    out = {ObisCode.parse(k): v for k, v in values.items()}
    for n, c in enumerate((31, 51, 71)):
        out[ObisCode(1, 0, c, 7, 0)] = _phase(amps, seed, tick, 10 + n, amps // 20)
    for n, c in enumerate((32, 52, 72)):
        out[ObisCode(1, 0, c, 7, 0)] = _phase(volts, seed, tick, 13 + n, 150)
    for c in (33, 53, 73):
        out[ObisCode(1, 0, c, 7, 0)] = out[ObisCode.parse("1.0.13.7.0.255")]
    return out
