"""``dlmskit-hes capacity``: the level-2 assessment on a tiny simulated fleet (a field
process per scale point, real loopback sockets): per scale, completeness, lag past the
window, queue depth and the verdict; the HTML report, and the PNG plot when matplotlib
is there."""

from __future__ import annotations

import html
import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hes._capacity import verdict
from hes._cli import main
from hes._field import network_of
from simulators import Fleet, FleetLayout

HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
#: A fleet seed whose first six meters are all cellular (quick to collect, no multi-hop
#: radio latency), so a generous window is met for certain.
GPRS_ONLY = 16


@pytest.mark.parametrize(
    ("completeness", "collection", "window", "keeps_up", "lag", "why"),
    [
        (1.0, 50.0, 60.0, True, 0.0, ""),
        (0.99, 89.0, 60.0, True, 29.0, ""),  # within the tolerance (half the window)
        (1.0, 91.0, 60.0, False, 31.0, "lag 31.0 s > 30.0 s"),
        (0.98, 10.0, 60.0, False, 0.0, "completeness 98.00 % < 99 %"),
        (0.5, 200.0, 60.0, False, 140.0, "completeness 50.00 % < 99 %; lag 140.0 s > 30.0 s"),
    ],
)
def test_verdict(
    completeness: float, collection: float, window: float, keeps_up: bool, lag: float, why: str
) -> None:
    ok, late, reason = verdict(completeness=completeness, collection_s=collection, window_s=window)
    assert (ok, reason) == (keeps_up, why) and late == pytest.approx(lag)
    strict = verdict(
        completeness=completeness, collection_s=collection, window_s=window, tolerance=0.0
    )
    assert strict[0] == (keeps_up and collection <= window)


def _points(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_capacity_keeps_up_on_a_tiny_fleet(tmp_path: Path) -> None:
    fleet = Fleet(FleetLayout(seed=GPRS_ONLY, meters=6))
    assert {network_of(i, 4) for i in fleet.identities()} == {"gprs"}
    result = CliRunner().invoke(
        main,
        [
            "capacity",
            "--meters",
            "3",
            "--scale",
            "1,2",
            "--window",
            "60",
            "--workdir",
            str(tmp_path),
            "--seed",
            str(GPRS_ONLY),
        ],
    )
    assert result.exit_code == 0, result.output
    points = _points(result.output)
    assert [(p["scale"], p["meters"]) for p in points] == [(1.0, 3), (2.0, 6)]
    for p in points:
        assert p["completeness"] == 1.0, result.output
        assert p["lag_s"] == 0.0 and p["keeps_up"] is True and p["reason"] == ""
        assert 0 < float(str(p["collection_s"])) < 60
        assert int(str(p["max_queue_depth"])) >= 1
    table = [line.split() for line in result.output.splitlines() if line.endswith("yes")]
    assert [row[:2] for row in table] == [["1", "3"], ["2", "6"]]
    page = html.unescape((tmp_path / "capacity.html").read_text())
    assert "<svg" in page and '"keeps_up": true' in page
    png = tmp_path / "capacity.png"
    if HAS_MATPLOTLIB:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"plot: {png}" in result.output
    else:
        assert not png.exists() and "matplotlib is not installed" in result.output


def test_capacity_falls_behind_a_window_it_cannot_meet(tmp_path: Path) -> None:
    # no collection of even one meter (association, a day of block load, release) ends
    # within 0.02 s give or take 0.01 s
    result = CliRunner().invoke(
        main,
        [
            "capacity",
            "--meters",
            "2",
            "--scale",
            "1",
            "--window",
            "0.02",
            "--workdir",
            str(tmp_path),
            "--seed",
            str(GPRS_ONLY),
        ],
    )
    assert result.exit_code == 0, result.output
    (point,) = _points(result.output)
    assert point["keeps_up"] is False
    assert float(str(point["lag_s"])) > 0.0
    assert "lag" in str(point["reason"])
    assert any(
        line.split()[:2] == ["1", "2"] and "NO (" in line for line in result.output.splitlines()
    )
    assert (tmp_path / "capacity.html").exists()
    assert (tmp_path / "capacity.png").exists() == HAS_MATPLOTLIB


def test_capacity_refuses_bad_scales(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["capacity", "--scale", "0,-1", "--workdir", str(tmp_path)])
    assert result.exit_code != 0 and "scale" in result.output
