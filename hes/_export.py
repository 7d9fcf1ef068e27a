"""Export: IEC 61968-9 MeterReadings (XML and JSON), CSV and Parquet.

The CSV has the columns of ``dlmskit-sim truth`` (``meter,obis,start,value,unit,
quality``), so an export and the simulator's ground truth can be compared row by row;
``quality`` holds the reading's quality codes (:mod:`hes._quality`).

MeterReadings follow the IEC 61968-9 message layout (namespace
``http://iec.ch/TC57/2011/MeterReadings#``): one ``MeterReading`` per meter, one
``IntervalBlocks`` per channel with its ``ReadingType`` reference and the
``IntervalReadings`` (interval *end* as ``timeStamp``, per CIM convention), each with its
``ReadingQualities``. Interval data and register reads of the IS 15959 channels get CIM
ReadingType codes (the 18-field dotted form); other channels are referenced as
``obis:<code>``.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
from collections.abc import Iterable, Iterator
from itertools import groupby
from pathlib import Path
from typing import Any, TextIO
from xml.etree import ElementTree as ET

from hes._model import Reading
from hes._quality import Quality, quality_text

__all__ = [
    "CSV_COLUMNS",
    "MESSAGE_NAMESPACE",
    "meter_readings",
    "reading_type",
    "write_csv",
    "write_json",
    "write_parquet",
    "write_xml",
]

CSV_COLUMNS = ("meter", "obis", "start", "value", "unit", "quality")
MESSAGE_NAMESPACE = "http://iec.ch/TC57/2011/MeterReadings#"
_PERIOD = _dt.timedelta(minutes=15)

# CIM ReadingType fields: macroPeriod.aggregate.measuringPeriod.accumulation.flowDirection.
# commodity.measurementKind.interharmonic(2).argument(2).TOU.cpp.consumptionTier.phases.
# multiplier.unit.currency. measuringPeriod 2 = 15 min; accumulation 4 = deltaData,
# 1 = bulkQuantity, 6 = indicating (average); flowDirection 1 forward, 19 reverse;
# commodity 1 = electricity secondary metered; kind 12 energy, 54 voltage, 4 current;
# unit 72 Wh, 71 VAh, 29 V, 5 A.
_READING_TYPES = {
    "1.0.1.29.0.255": "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.0.72.0",
    "1.0.2.29.0.255": "0.0.2.4.19.1.12.0.0.0.0.0.0.0.0.0.72.0",
    "1.0.9.29.0.255": "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.0.71.0",
    "1.0.10.29.0.255": "0.0.2.4.19.1.12.0.0.0.0.0.0.0.0.0.71.0",
    "1.0.12.27.0.255": "0.0.2.6.0.1.54.0.0.0.0.0.0.0.0.0.29.0",
    "1.0.11.27.0.255": "0.0.2.6.0.1.4.0.0.0.0.0.0.0.0.0.5.0",
    "1.0.1.8.0.255": "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.0.72.0",
    "1.0.2.8.0.255": "0.0.0.1.19.1.12.0.0.0.0.0.0.0.0.0.72.0",
    "1.0.9.8.0.255": "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.0.71.0",
    "1.0.10.8.0.255": "0.0.0.1.19.1.12.0.0.0.0.0.0.0.0.0.71.0",
}


def reading_type(channel: str) -> str:
    """The CIM ReadingType reference of a channel (``obis:<code>`` when unmapped)."""
    return _READING_TYPES.get(channel, f"obis:{channel}")


def _iso(when: _dt.datetime) -> str:
    return when.astimezone(_dt.UTC).isoformat().replace("+00:00", "Z")


def _value_text(value: float | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def _is_interval(channel: str) -> bool:
    parts = channel.split(".")
    return len(parts) == 6 and parts[3] in ("27", "29")


def _time_stamp(reading: Reading) -> _dt.datetime:
    return reading.start + _PERIOD if _is_interval(reading.channel) else reading.start


def write_csv(readings: Iterable[Reading], out: TextIO) -> int:
    """CSV with a header; returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for r in readings:
        writer.writerow(
            (
                r.meter,
                r.channel,
                _iso(r.start),
                _value_text(r.value),
                r.unit,
                quality_text(r.quality),
            )
        )
        count += 1
    return count


def _grouped(
    readings: Iterable[Reading],
) -> Iterator[tuple[str, Iterator[tuple[str, Iterator[Reading]]]]]:
    ordered = sorted(readings, key=lambda r: (r.meter, r.channel, r.start))
    for meter, of_meter in groupby(ordered, key=lambda r: r.meter):
        yield meter, groupby(of_meter, key=lambda r: r.channel)


def _qualities(reading: Reading) -> list[str]:
    flags = sorted(reading.quality, key=list(Quality).index)
    return [q.value for q in flags] or [Quality.VALID.value]


def meter_readings(readings: Iterable[Reading]) -> dict[str, Any]:
    """The MeterReadings message as JSON-ready data."""
    out = []
    for meter, channels in _grouped(readings):
        blocks = []
        for channel, items in channels:
            blocks.append(
                {
                    "ReadingType": {"ref": reading_type(channel), "obis": channel},
                    "IntervalReadings": [
                        {
                            "timeStamp": _iso(_time_stamp(r)),
                            "value": r.value,
                            "unit": r.unit,
                            "ReadingQualities": [
                                {"ReadingQualityType": {"ref": q}} for q in _qualities(r)
                            ],
                        }
                        for r in items
                    ],
                }
            )
        out.append({"Meter": {"Names": [{"name": meter}]}, "IntervalBlocks": blocks})
    return {"MeterReadings": {"MeterReading": out}}


def write_json(readings: Iterable[Reading], out: TextIO) -> None:
    json.dump(meter_readings(readings), out, indent=1)
    out.write("\n")


def write_xml(readings: Iterable[Reading], out: TextIO) -> None:
    """The MeterReadings message as XML."""
    ns = MESSAGE_NAMESPACE
    ET.register_namespace("m", ns)

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ns}}}{tag}", attrib)
        if text is not None:
            node.text = text
        return node

    root = ET.Element(f"{{{ns}}}MeterReadings")
    for meter, channels in _grouped(readings):
        reading = el(root, "MeterReading")
        names = el(el(reading, "Meter"), "Names")
        el(names, "name", meter)
        for channel, items in channels:
            block = el(reading, "IntervalBlocks")
            for r in items:
                point = el(block, "IntervalReadings")
                el(point, "timeStamp", _iso(_time_stamp(r)))
                el(point, "value", _value_text(r.value))
                for q in _qualities(r):
                    quality = el(point, "ReadingQualities")
                    el(quality, "ReadingQualityType", ref=q)
            el(block, "ReadingType", ref=reading_type(channel))
    ET.indent(root)
    out.write(ET.tostring(root, encoding="unicode", xml_declaration=True))
    out.write("\n")


def write_parquet(readings: Iterable[Reading], path: str | Path) -> int:
    """A Parquet file (zstd) with the CSV columns plus ``captured``, ``received`` and
    ``source``; needs the ``parquet`` extra (pyarrow)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("Parquet export needs pyarrow: pip install 'dlmskit[parquet]'") from exc
    rows = list(readings)
    table = pa.table(
        {
            "meter": pa.array([r.meter for r in rows], pa.string()),
            "obis": pa.array([r.channel for r in rows], pa.string()),
            "start": pa.array([r.start for r in rows], pa.timestamp("s", tz="UTC")),
            "value": pa.array([r.value for r in rows], pa.float64()),
            "unit": pa.array([r.unit for r in rows], pa.string()),
            "quality": pa.array([quality_text(r.quality) for r in rows], pa.string()),
            "captured": pa.array([r.captured for r in rows], pa.timestamp("s", tz="UTC")),
            "received": pa.array([r.received for r in rows], pa.timestamp("s", tz="UTC")),
            "source": pa.array([int(r.source) for r in rows], pa.int8()),
        }
    )
    pq.write_table(table, str(path), compression="zstd")
    return len(rows)
