"""Read a day of block load from a simulated IS 15959-2 meter, in a few lines.

Starts a fleet of three simulated meters on loopback (one wildcard socket, meter n on
127.1.0.0 + n), connects to meter 1 as the meter reader (LLS, AES-GCM suite 0 with the
Green Book test keys), reads yesterday's block load profile by date range with its
scalers applied, and checks every reading against the simulator's ground truth.

    .venv/bin/python examples/read_profile.py
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

import trio

import dlmskit
from dlmskit.client import Association
from dlmskit.cosem import ProfileRow, Quantity
from obis import ObisCode
from simulators import FaultPlan, Fleet, FleetLayout, meter_truth, serve_fleet_wrapper

BLOCK_LOAD = ObisCode.parse("1.0.99.1.0.255")
AVG_VOLTAGE = ObisCode.parse("1.0.12.27.0.255")
BLOCK_KWH = ObisCode.parse("1.0.1.29.0.255")
AVG_CURRENT = ObisCode.parse("1.0.11.27.0.255")
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
NOW = dt.datetime(2026, 3, 2, 6, 0, tzinfo=IST)


def _quantity(row: ProfileRow, code: ObisCode) -> Decimal:
    value = row[code]
    if not isinstance(value, Quantity):
        raise TypeError(f"{code} is not a scaled register column: {value!r}")
    return value.value


async def main() -> int:
    fleet = Fleet(FleetLayout(seed=7, meters=3), clock=lambda: NOW)
    start = dt.datetime(2026, 3, 1, tzinfo=IST)
    end = start + dt.timedelta(days=1)
    async with trio.open_nursery() as nursery:
        serve = functools.partial(serve_fleet_wrapper, fleet, 0, host="0.0.0.0")
        listeners = await nursery.start(serve)
        port = listeners[0].socket.getsockname()[1]
        meter_host = fleet.identity(1).host
        target = f"tcp://{meter_host}:{port}"

        async with dlmskit.connect(target, association=Association.meter_reader()) as meter:
            rows = await meter.read_profile(BLOCK_LOAD, start, end)

        print(f"{len(rows)} block load rows from {target} (meter reader, ciphered)")
        print(f"{'interval start (IST)':26} {'avg V':>8} {'Wh imp':>8} {'avg A':>7}")
        for row in rows[:6]:
            assert row.time is not None
            volts, energy, amps = (_quantity(row, c) for c in (AVG_VOLTAGE, BLOCK_KWH, AVG_CURRENT))
            print(f"{row.time.isoformat():26} {volts:>8} {energy:>8} {amps:>7}")
        print("...")

        truth = {
            (t.obis, t.start): Decimal(str(t.value))
            for t in meter_truth(fleet.identity(1), FaultPlan(), start, end, daily=False)
        }
        checked = mismatched = 0
        for row in rows:
            assert row.time is not None
            for code in (AVG_VOLTAGE, BLOCK_KWH, AVG_CURRENT):
                expected = truth.get((code, row.time.astimezone(dt.UTC)))
                if expected is None:
                    continue
                checked += 1
                mismatched += _quantity(row, code) != expected
        print(f"{checked} readings compared with the simulator's ground truth: {mismatched} differ")
        nursery.cancel_scope.cancel()
    return 0 if checked and not mismatched else 1


if __name__ == "__main__":
    raise SystemExit(trio.run(main))
