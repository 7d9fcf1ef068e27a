"""The head-end cost curve runs on a small fleet, fits, plots and reports ratios."""

from __future__ import annotations

import importlib
import pathlib
import sys
from typing import Any

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "bench"))
scaling: Any = importlib.import_module("bench_scaling")


def _point(meters: int, cpu: float, rss: float = 50.0) -> Any:
    return scaling.CostPoint(
        meters=meters,
        sessions_ok=meters,
        readings=meters * 26,
        cpu_seconds=cpu,
        peak_rss_mb=rss,
        wall_seconds=meters / 400,
    )


def test_a_small_fleet_is_collected_by_a_head_end_process() -> None:
    point = scaling.cost_point(12)
    assert point.sessions_ok == 12
    # every meter gives SPAN_INTERVALS rows of its register channels (4 single phase
    # block-load energies/currents/voltages at least)
    assert point.readings >= 12 * scaling.SPAN_INTERVALS * 4
    assert point.cpu_seconds > 0 and point.peak_rss_mb > 10 and point.wall_seconds > 0


def test_linear_fit_recovers_slope_and_intercept() -> None:
    points = [_point(n, 0.5 + 0.002 * n) for n in (1_000, 10_000, 100_000)]
    a, b = scaling.linear_fit(points)
    assert a == pytest.approx(0.5)
    assert b == pytest.approx(0.002)


def test_measurements_compare_per_meter_cost_with_the_smallest_fleet() -> None:
    points = [_point(1_000, 2.0, 40.0), _point(10_000, 20.0, 44.0), _point(100_000, 250.0, 60.0)]
    cpu_10k, cpu_100k, capacity, mem_10k, mem_100k = scaling.measurements(points)
    assert cpu_10k.ours == pytest.approx(2.0) and cpu_10k.peer == pytest.approx(2.0)
    assert cpu_10k.ratio == pytest.approx(1.0) and cpu_10k.target is None
    # 2.5 ms per meter at 100k against 2.0 at 1k: growth faster than linear
    assert cpu_100k.ratio == pytest.approx(0.8) and cpu_100k.target == 0.8
    assert mem_100k.unit == "MB" and mem_100k.ratio == pytest.approx(40 / 60)
    # 2.5 ms of CPU per meter: 400 meters per CPU second against the 500 target
    assert capacity.ours == pytest.approx(400.0) and capacity.ratio == pytest.approx(0.8)
    assert capacity.target == 1.0
    assert "10,000" in mem_10k.name


def test_plot_writes_a_png(tmp_path: pathlib.Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "curve.png"
    points = [_point(n, 0.1 + 0.0015 * n, 48 + n / 1e4) for n in (1_000, 10_000, 100_000)]
    assert scaling.plot(points, out) is True
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
