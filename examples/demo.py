"""dlmskit demo: decode one day of a smart meter's block-load profile.

A single-phase IS 15959 meter answers GET(1.0.99.1.0.255 buffer) with a
GET-Response-Normal carrying 96 rows of 15-minute data (clock, average voltage, block
energies import/export, average current). This script builds that response the way a
meter would put it on the wire, decodes it with ``dlmskit.axdr``, prints the rows with
their timestamps as ``datetime`` and measures how fast the buffer decodes.

Run: ``make demo`` (or ``python examples/demo.py``).
"""

from __future__ import annotations

import datetime as dt
import math
import time

from dlmskit import axdr
from dlmskit.axdr import (
    Array,
    DateTime,
    DeviationSign,
    DoubleLongUnsigned,
    LongUnsigned,
    OctetString,
    Structure,
)

IST = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")
DAY = dt.datetime(2024, 3, 15, tzinfo=IST)
INTERVAL = dt.timedelta(minutes=15)
ROWS = 96

# Many Indian meters sign the date-time deviation as local = UTC + deviation (+330 for
# IST); the Blue Book says UTC = local + deviation (-330). This meter sends +330.
METER_SIGN = DeviationSign.UTC_TO_LOCAL

# Block-load capture objects and the scalers a meter reports in 1.0.94.91.4.255.
COLUMNS = (
    ("clock", "0.0.1.0.0.255", ""),
    ("avg voltage", "1.0.12.27.0.255", "V x 0.01"),
    ("kWh import", "1.0.1.29.0.255", "Wh"),
    ("kVAh import", "1.0.9.29.0.255", "VAh"),
    ("kWh export", "1.0.2.29.0.255", "Wh"),
    ("kVAh export", "1.0.10.29.0.255", "VAh"),
    ("avg current", "1.0.11.27.0.255", "A x 0.01"),
)


def meter_response() -> bytes:
    """The GET-Response-Normal octets for one day of a household's 15-minute profile."""
    rows = []
    for i in range(ROWS):
        end = DAY + (i + 1) * INTERVAL  # a block row carries the end of its interval
        hour = (i + 0.5) / 4
        # Morning and evening peaks, a rooftop-solar export around noon.
        load_w = (
            250
            + 900 * math.exp(-(((hour - 8) / 1.5) ** 2))
            + 1600 * math.exp(-(((hour - 20) / 2) ** 2))
        )
        solar_w = max(0.0, 1800 * math.sin(math.pi * (hour - 6.5) / 12)) if 6.5 < hour < 18.5 else 0
        import_wh = max(0.0, load_w - solar_w) / 4
        export_wh = max(0.0, solar_w - load_w) / 4
        volts = 231.0 + 6 * math.sin(2 * math.pi * (hour - 3) / 24) - 4 * (load_w / 2000)
        amps = max(load_w, solar_w) / volts
        stamp = DateTime.from_datetime(end, sign=METER_SIGN)
        rows.append(
            Structure(
                [
                    OctetString(stamp.to_bytes()),
                    LongUnsigned(round(volts * 100)),
                    DoubleLongUnsigned(round(import_wh)),
                    DoubleLongUnsigned(round(import_wh / 0.96)),
                    DoubleLongUnsigned(round(export_wh)),
                    DoubleLongUnsigned(round(export_wh / 0.98)),
                    LongUnsigned(round(amps * 100)),
                ]
            )
        )
    # get-response (C4), get-response-normal (01), invoke-id-and-priority (C1), data (00)
    return bytes.fromhex("C401C100") + axdr.encode(Array(rows))


def _utc_offset(offset: dt.timedelta | None) -> str:
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def check_sign(first: DateTime) -> None:
    """Show why the deviation sign matters: only one reading gives India's +05:30."""
    for sign in DeviationSign:
        offset = first.to_datetime(sign=sign).utcoffset()
        verdict = (
            "matches IST" if offset == dt.timedelta(hours=5, minutes=30) else "wrong for India"
        )
        print(
            f"  deviation {first.deviation:+d} read as {sign.name:<12} -> "
            f"{_utc_offset(offset)} ({verdict})"
        )


def main() -> None:
    apdu = meter_response()
    print(f"GET-Response for 1.0.99.1.0.255 buffer: {len(apdu)} octets")
    print(f"  {apdu[:40].hex(' ').upper()} ...")
    if apdu[:2] != b"\xc4\x01" or apdu[3] != 0:
        raise SystemExit("not a GET-Response-Normal with data")
    buffer, end = axdr.decode_from(apdu, 4)
    assert end == len(apdu) and isinstance(buffer, Array)
    print(f"decoded: array of {len(buffer)} structures\n")

    first = buffer[0]
    assert isinstance(first, Structure) and isinstance(first[0], OctetString)
    print(f"Timestamps are octet-string(12) date-times; deviation sign used: {METER_SIGN.name}")
    check_sign(first[0].as_datetime())
    print()

    heads = ("interval end (IST)", "V", "kWh imp", "kVAh imp", "kWh exp", "kVAh exp", "A")
    print(f"{heads[0]:<26}" + "".join(f"{h:>10}" for h in heads[1:]))
    totals = [0, 0, 0, 0]
    for row in buffer:
        assert isinstance(row, Structure)
        stamp, volts, kwh_i, kvah_i, kwh_e, kvah_e, amps = row
        assert isinstance(stamp, OctetString)
        assert isinstance(volts, int) and isinstance(amps, int)
        energies = [v for v in (kwh_i, kvah_i, kwh_e, kvah_e) if isinstance(v, int)]
        assert len(energies) == 4
        when = stamp.as_datetime().to_datetime(sign=METER_SIGN)
        for k, value in enumerate(energies):
            totals[k] += value
        cells = [f"{volts / 100:10.2f}"]
        cells += [f"{v / 1000:10.3f}" for v in energies]
        cells.append(f"{amps / 100:10.2f}")
        print(f"{when.isoformat():<26}" + "".join(cells))
    print(f"{'day total':<26}{'':>10}" + "".join(f"{t / 1000:10.3f}" for t in totals))
    print()

    rounds = 300
    start = time.perf_counter()
    for _ in range(rounds):
        axdr.decode_from(apdu, 4)
    elapsed = time.perf_counter() - start
    print(
        f"decode rate: {rounds * ROWS / elapsed:,.0f} rows/s "
        f"({elapsed / rounds * 1e6:.0f} µs per 96-row buffer, one core)"
    )
    print(
        "capture objects:",
        ", ".join(f"{name} {obis} {unit}".strip() for name, obis, unit in COLUMNS),
    )


if __name__ == "__main__":
    main()
