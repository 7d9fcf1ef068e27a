"""``dlmskit-hes`` export and report on a store written by the head-end's own types."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from click.testing import CliRunner

from hes import Outcome, Quality, Reading, SessionRecord, Store, WorkKind
from hes._cli import main

T0 = dt.datetime(2026, 12, 1, 18, 30, tzinfo=dt.UTC)  # IST midnight of 2 December
Q = dt.timedelta(minutes=15)


def _store(path: Path) -> None:
    with Store(path) as store:
        store.put_readings(
            [
                Reading(
                    meter="A",
                    channel="1.0.1.29.0.255",
                    start=T0 + n * Q,
                    value=float(n),
                    unit="Wh",
                    quality={Quality.SPIKE} if n == 3 else frozenset(),
                )
                for n in range(96)
            ]
        )
        store.put_sessions(
            [
                SessionRecord(
                    meter="A",
                    kind=WorkKind.BLOCK_LOAD,
                    started=T0,
                    ended=T0 + Q,
                    outcome=Outcome.OK,
                    rows=96,
                )
            ]
        )


def test_export_formats(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    _store(db)
    runner = CliRunner()
    result = runner.invoke(main, ["export", "--db", str(db)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 96 and rows[3]["quality"] == "2.5.3"
    result = runner.invoke(
        main,
        [
            "export",
            "--db",
            str(db),
            "--format",
            "json",
            "--start",
            "2026-12-01T19:00:00Z",
            "--end",
            "2026-12-01T20:00:00Z",
        ],
    )
    doc = json.loads(result.output)
    points = doc["MeterReadings"]["MeterReading"][0]["IntervalBlocks"][0]["IntervalReadings"]
    assert len(points) == 4
    result = runner.invoke(main, ["export", "--db", str(db), "--format", "xml"])
    assert "MeterReadings" in result.output
    out = tmp_path / "r.parquet"
    result = runner.invoke(
        main, ["export", "--db", str(db), "--format", "parquet", "--output", str(out)]
    )
    assert result.exit_code == 0 and out.stat().st_size > 0
    result = runner.invoke(main, ["export", "--db", str(db), "--format", "parquet"])
    assert result.exit_code != 0


def test_report_table_and_html(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    _store(db)
    inventory = tmp_path / "inv.csv"
    inventory.write_text("name,host,cell\nA,127.0.0.1,4\nB,127.0.0.2,4\n")
    page = tmp_path / "r.html"
    result = CliRunner().invoke(
        main,
        [
            "report",
            "--db",
            str(db),
            "--inventory",
            str(inventory),
            "--day",
            "2026-12-02",
            "--html",
            str(page),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "completeness block_load 2026-12-02   50.00 %" in result.output
    assert "meters read (overall)       50.00 %" in result.output
    assert page.read_text().count("<svg") >= 3


def test_demo_prints_pushes_and_inbound_sessions(tmp_path: Path) -> None:
    """A tiny demo: the printed report and the HTML page show the pushes accepted and
    refused and the sessions run over links meters behind NAT opened."""
    result = CliRunner().invoke(
        main,
        [
            "demo",
            "--meters",
            "10",
            "--seed",
            "5",  # cellular meters and one Wi-SUN meter: quick to read
            "--workdir",
            str(tmp_path),
            "--deadline",
            "8",
            "--nat-every",
            "3",
            "--push-spread",
            "2",
            "--dial-period",
            "2",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "ground truth of pushes: " in out and "sessions by outcome" in out
    pushed = next(line for line in out.splitlines() if line.startswith("pushes accepted"))
    assert int(pushed.split()[2]) > 0
    nat = next(line for line in out.splitlines() if line.startswith("meters behind NAT"))
    assert nat.startswith("meters behind NAT 3: 3 called in"), out
    assert "reads still waiting 0" in nat
    page = (tmp_path / "report.html").read_text()
    assert "pushes accepted" in page and "meters behind NAT" in page
