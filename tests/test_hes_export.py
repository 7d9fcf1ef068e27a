"""Inventory loading, exports (CSV like the simulator's truth, MeterReadings XML/JSON,
Parquet), KPIs, the Prometheus exposition over HTTP and the HTML report."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import trio

from hes import Outcome, Quality, Reading, SessionRecord, Store, WorkKind
from hes._export import (
    CSV_COLUMNS,
    MESSAGE_NAMESPACE,
    reading_type,
    write_csv,
    write_json,
    write_parquet,
    write_xml,
)
from hes._inventory import Inventory, MeterInfo, Network
from hes._kpi import compute_kpis, percentile
from hes._metrics import Metrics, exposition, serve_metrics
from hes._report import html_report, text_report
from simulators import CSV_COLUMNS as TRUTH_COLUMNS
from simulators import Fleet, FleetLayout

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
Q = dt.timedelta(minutes=15)
NS = {"m": MESSAGE_NAMESPACE}


def readings() -> list[Reading]:
    return [
        Reading(meter="M1", channel="1.0.1.29.0.255", start=T0, value=93.0, unit="Wh"),
        Reading(
            meter="M1",
            channel="1.0.1.29.0.255",
            start=T0 + Q,
            value=2000.0,
            unit="Wh",
            quality={Quality.SPIKE, Quality.SUM_CHECK},
        ),
        Reading(meter="M1", channel="1.0.12.27.0.255", start=T0, value=229.51, unit="V"),
        Reading(
            meter="M2",
            channel="1.0.1.8.0.255",
            start=T0,
            value=None,
            unit="Wh",
            quality={Quality.MISSING},
        ),
    ]


def test_inventory_from_toml_csv_and_address_plan(tmp_path: Path) -> None:
    toml = tmp_path / "inv.toml"
    toml.write_text(
        '[defaults]\nport = 4060\n[[meter]]\nname = "A"\nhost = "10.0.0.1"\ncell = 3\n'
        'system_title = "4D4D4D0000BC614E"\n'
        '[[meter]]\nname = "B"\nhost = "10.0.0.2"\nnetwork = "rf_mesh"\ngateway = "dcu1"\n'
    )
    inv = Inventory.load(toml)
    assert len(inv) == 2 and inv["A"].port == 4060 and inv["A"].cluster == "cell:3"
    assert inv["B"].cluster == "rf_mesh:dcu1"
    assert inv.by_system_title(bytes.fromhex("4D4D4D0000BC614E")) is inv["A"]
    text = "name,host,port,network,cell,net_metered\nC,127.0.0.5,4059,wisun,7,true\n"
    (tmp_path / "inv.csv").write_text(text)
    inv = Inventory.load(tmp_path / "inv.csv")
    assert inv["C"] == MeterInfo(
        name="C", host="127.0.0.5", network=Network.WISUN, cell="7", net_metered=True
    )
    plan = Fleet(FleetLayout(seed=3, meters=20)).address_plan(4059)
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    inv = Inventory.load(tmp_path / "plan.json")
    assert len(inv) == 20
    first = inv[plan[0]["meter"]]
    assert (
        first.host == plan[0]["host"]
        and first.system_title.hex().upper() == plan[0]["system_title"]
    )
    meshed = [m for m in inv if m.operator == "RF-mesh"]
    assert all(m.network is Network.RF_MESH for m in meshed)
    with pytest.raises(ValueError):
        Inventory([MeterInfo(name="A", host="h"), MeterInfo(name="A", host="h")])
    with pytest.raises(ValueError):
        MeterInfo.from_mapping({"name": "A", "host": "h", "colour": "red"})


def test_csv_has_the_truth_columns() -> None:
    assert CSV_COLUMNS == TRUTH_COLUMNS
    out = io.StringIO()
    assert write_csv(readings(), out) == 4
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0] == {
        "meter": "M1",
        "obis": "1.0.1.29.0.255",
        "start": "2026-12-01T00:00:00Z",
        "value": "93",
        "unit": "Wh",
        "quality": "1.0.0",
    }
    assert rows[1]["quality"] == "2.5.3 2.6.1"
    assert rows[2]["value"] == "229.51"
    assert rows[3]["value"] == "" and rows[3]["quality"] == "2.5.259"


def test_meter_readings_xml() -> None:
    out = io.StringIO()
    write_xml(readings(), out)
    root = ET.fromstring(out.getvalue().split("\n", 1)[1])
    assert root.tag == f"{{{MESSAGE_NAMESPACE}}}MeterReadings"
    meters = root.findall("m:MeterReading", NS)
    assert [m.find("m:Meter/m:Names/m:name", NS).text for m in meters] == ["M1", "M2"]  # type: ignore[union-attr]
    blocks = meters[0].findall("m:IntervalBlocks", NS)
    refs = [b.find("m:ReadingType", NS).get("ref") for b in blocks]  # type: ignore[union-attr]
    assert refs == [reading_type("1.0.1.29.0.255"), reading_type("1.0.12.27.0.255")]
    points = blocks[0].findall("m:IntervalReadings", NS)
    # interval data is stamped with the interval end
    assert [p.find("m:timeStamp", NS).text for p in points] == [  # type: ignore[union-attr]
        "2026-12-01T00:15:00Z",
        "2026-12-01T00:30:00Z",
    ]
    qualities = [
        q.get("ref") for q in points[1].findall("m:ReadingQualities/m:ReadingQualityType", NS)
    ]
    assert qualities == ["2.5.3", "2.6.1"]
    assert reading_type("0.0.96.1.0.255") == "obis:0.0.96.1.0.255"


def test_meter_readings_json() -> None:
    out = io.StringIO()
    write_json(readings(), out)
    doc = json.loads(out.getvalue())
    first = doc["MeterReadings"]["MeterReading"][0]
    assert first["Meter"]["Names"][0]["name"] == "M1"
    point = first["IntervalBlocks"][0]["IntervalReadings"][0]
    assert point == {
        "timeStamp": "2026-12-01T00:15:00Z",
        "value": 93.0,
        "unit": "Wh",
        "ReadingQualities": [{"ReadingQualityType": {"ref": "1.0.0"}}],
    }
    register = doc["MeterReadings"]["MeterReading"][1]["IntervalBlocks"][0]
    assert register["IntervalReadings"][0]["timeStamp"] == "2026-12-01T00:00:00Z"


def test_parquet_round_trip(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "r.parquet"
    assert write_parquet(readings(), path) == 4
    table = pq.read_table(str(path)).to_pylist()
    assert [row["value"] for row in table] == [93.0, 2000.0, 229.51, None]
    assert table[1]["quality"] == "2.5.3 2.6.1"
    assert table[0]["start"] == T0


def _store_with_sessions(path: Path) -> tuple[Store, Inventory]:
    inv = Inventory(
        [
            MeterInfo(name="M1", host="h1", cell="1", model="single_phase", operator="4G-A"),
            MeterInfo(name="M2", host="h2", cell="1", model="single_phase", operator="4G-A"),
            MeterInfo(name="M3", host="h3", cell="2", network=Network.RF_MESH, operator="RF-mesh"),
        ]
    )
    store = Store(path)
    rows = [
        Reading(meter="M1", channel="1.0.1.29.0.255", start=T0 + n * Q, value=1.0, unit="Wh")
        for n in range(96)
    ]
    rows += [
        Reading(
            meter="M3",
            channel="1.0.1.29.0.255",
            start=T0 + n * Q,
            value=1.0,
            unit="Wh",
            quality={Quality.SPIKE} if n == 5 else frozenset(),
        )
        for n in range(48)
    ]
    store.put_readings(rows)

    def s(meter: str, outcome: Outcome, secs: float) -> SessionRecord:
        return SessionRecord(
            meter=meter,
            kind=WorkKind.BLOCK_LOAD,
            started=T0,
            ended=T0 + dt.timedelta(seconds=secs),
            outcome=outcome,
            clock_deviation=2.0,
        )

    store.put_sessions(
        [
            s("M1", Outcome.OK, 0.2),
            s("M2", Outcome.TIMEOUT, 10.0),
            s("M2", Outcome.TIMEOUT, 10.0),
            s("M3", Outcome.OK, 1.5),
        ]
    )
    return store, inv


def test_kpis_from_the_store(tmp_path: Path) -> None:
    store, inv = _store_with_sessions(tmp_path / "k.db")
    with store:
        now = T0 + dt.timedelta(days=1, hours=1)
        report = compute_kpis(store, inv, now=now, days=[T0.date()])
    cell1 = report.clusters["cell"]["1"]
    assert (cell1.meters, cell1.meters_ok, cell1.sessions, cell1.sessions_ok) == (2, 1, 3, 1)
    assert report.clusters["transport"]["rf_mesh"].meter_success == 1.0
    assert report.overall_success() == pytest.approx(2 / 3)
    assert report.completeness["block_load"]["2026-12-01"] == pytest.approx(144 / (3 * 96))
    assert report.outcomes == {"ok": 2, "timeout": 2}
    assert report.latency["max"] == 10.0
    assert report.lag["max"] == pytest.approx((now - (T0 + 48 * Q)).total_seconds())
    assert report.flags["2.5.3"] == 1 and report.flags["1.0.0"] == 143
    text = text_report(report)
    assert "completeness block_load 2026-12-01   50.00 %" in text
    page = html_report(report)
    assert page.count("<svg") >= 5 and "</html>" in page


def test_percentile() -> None:
    assert percentile([], 0.5) == 0.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile(list(map(float, range(1, 101))), 0.95) == 95.0


def test_exposition_format() -> None:
    m = Metrics()
    m.session("block_load", "ok", 0.2)
    m.session("block_load", "timeout", 12.0)
    m.pushes["accepted"] += 3
    m.flags["2.5.3"] += 1
    m.queue(7)
    text = exposition(m)
    assert 'dlmskit_hes_sessions_total{kind="block_load",outcome="ok"} 1' in text
    assert 'dlmskit_hes_session_seconds_bucket{le="0.25"} 1' in text
    assert 'dlmskit_hes_session_seconds_bucket{le="+Inf"} 2' in text
    assert "dlmskit_hes_queue_depth 7" in text
    assert "# TYPE dlmskit_hes_session_seconds histogram" in text
    for line in text.splitlines():
        assert line.startswith("#") or len(line.rsplit(" ", 1)) == 2


async def test_metrics_endpoint_over_http() -> None:
    m = Metrics()
    m.readings = 42
    async with trio.open_nursery() as nursery:
        port = await nursery.start(serve_metrics, m)

        async def fetch(request: bytes) -> bytes:
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            await stream.send_all(request)
            data = b""
            while chunk := await stream.receive_some(65536):
                data += chunk
            return data

        answer = await fetch(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200 OK")
        assert b"dlmskit_hes_readings_total 42" in answer
        assert (await fetch(b"GET /nope HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 404")
        assert (await fetch(b"\x00\xff garbage\r\n\r\n")).startswith(b"HTTP/1.1 400")
        nursery.cancel_scope.cancel()
