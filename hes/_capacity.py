"""The level-2 capacity assessment: does the head-end keep up at 100 %, 200 %, 500 % of a
fleet?

Each scale point runs the demo's collection (a simulated field, no faults) with the
fleet grown by the factor and a collection window; the verdict of a point is *keeps up*
when the stored block load is complete (at least ``min_completeness`` of the expected
intervals) and the collection ended within the window, give or take ``tolerance`` of
it (the lag: seconds past the window). The maximum work queue depth and the session
latency are reported beside it; the queue is bounded by design (backpressure), so it
shows how much work was waiting, not memory at risk.
"""

from __future__ import annotations

import functools
import html
import json
import time
from collections.abc import Sequence
from pathlib import Path

import attrs
import trio

from hes._demo import DemoResult, run_demo
from hes._report import line_chart
from simulators import FaultPlan

__all__ = ["CapacityPoint", "assess", "capacity_page", "plot_capacity", "run_capacity", "verdict"]


@attrs.frozen(kw_only=True)
class CapacityPoint:
    """One scale point of the assessment."""

    scale: float
    meters: int
    window_s: float
    collection_s: float
    completeness: float
    lag_s: float
    """Seconds the collection ran past the window (0 within it)."""
    max_queue_depth: int
    session_p95_s: float
    keeps_up: bool
    reason: str
    """Why not, when it does not keep up (``""`` when it does)."""
    wall_s: float = 0.0

    @property
    def meters_per_s(self) -> float:
        return self.meters / max(self.collection_s, 1e-9)

    def to_mapping(self) -> dict[str, object]:
        return {
            "scale": self.scale,
            "meters": self.meters,
            "window_s": self.window_s,
            "collection_s": round(self.collection_s, 1),
            "meters_per_s": round(self.meters_per_s, 1),
            "completeness": round(self.completeness, 4),
            "lag_s": round(self.lag_s, 1),
            "max_queue_depth": self.max_queue_depth,
            "session_p95_s": round(self.session_p95_s, 2),
            "keeps_up": self.keeps_up,
            "reason": self.reason,
            "wall_s": round(self.wall_s, 1),
        }


def verdict(
    *,
    completeness: float,
    collection_s: float,
    window_s: float,
    min_completeness: float = 0.99,
    tolerance: float = 0.5,
) -> tuple[bool, float, str]:
    """(keeps up, lag in s, reason when not) of one scale point (see the module)."""
    lag = max(0.0, collection_s - window_s)
    reasons = []
    if completeness < min_completeness:
        reasons.append(f"completeness {100 * completeness:.2f} % < {100 * min_completeness:g} %")
    if lag > tolerance * window_s:
        reasons.append(f"lag {lag:.1f} s > {tolerance * window_s:.1f} s")
    return not reasons, lag, "; ".join(reasons)


def assess(
    result: DemoResult,
    *,
    scale: float,
    window_s: float,
    min_completeness: float = 0.99,
    tolerance: float = 0.5,
    wall_s: float = 0.0,
) -> CapacityPoint:
    """The capacity point of one collection run."""
    completeness = next(iter(result.kpis.completeness.get("block_load", {}).values()), 0.0)
    keeps_up, lag, reason = verdict(
        completeness=completeness,
        collection_s=result.collection_seconds,
        window_s=window_s,
        min_completeness=min_completeness,
        tolerance=tolerance,
    )
    return CapacityPoint(
        scale=scale,
        meters=result.meters,
        window_s=window_s,
        collection_s=result.collection_seconds,
        completeness=completeness,
        lag_s=lag,
        max_queue_depth=result.max_queue_depth,
        session_p95_s=result.kpis.latency.get("p95", 0.0),
        keeps_up=keeps_up,
        reason=reason,
        wall_s=wall_s,
    )


def run_capacity(
    meters: int,
    scales: Sequence[float],
    *,
    window_s: float,
    workdir: Path,
    callers: bool = False,
    min_completeness: float = 0.99,
    tolerance: float = 0.5,
    seed: int = 1,
) -> list[CapacityPoint]:
    """Collect at each scale of ``meters`` (a fresh field and store each) and assess."""
    points = []
    for factor in scales:
        count = max(1, round(meters * factor))
        began = time.perf_counter()
        result = trio.run(
            functools.partial(
                run_demo,
                meters=count,
                workdir=workdir / f"x{factor:g}",
                deadline=window_s,
                plan=FaultPlan(),
                callers=callers,
                seed=seed,
            )
        )
        points.append(
            assess(
                result,
                scale=factor,
                window_s=window_s,
                min_completeness=min_completeness,
                tolerance=tolerance,
                wall_s=time.perf_counter() - began,
            )
        )
    return points


def plot_capacity(points: Sequence[CapacityPoint], path: Path) -> bool:
    """Collection time (against the window) and completeness by fleet size, as a PNG;
    ``False`` (nothing written) without matplotlib (the ``bench`` extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    meters = [p.meters for p in points]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(meters, [p.collection_s for p in points], marker="o", label="collection")
    left.plot(meters, [p.window_s for p in points], linestyle="--", label="window")
    for p in points:
        left.annotate(
            "keeps up" if p.keeps_up else "falls behind",
            (p.meters, p.collection_s),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            fontsize=8,
        )
    left.set_xlabel("meters")
    left.set_ylabel("seconds")
    left.set_title("collection time")
    left.legend()
    right.plot(meters, [100 * p.completeness for p in points], marker="o")
    right.set_xlabel("meters")
    right.set_ylabel("% of intervals stored")
    right.set_title("completeness")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def capacity_page(points: Sequence[CapacityPoint]) -> str:
    """The assessment as an HTML page with an inline SVG chart."""
    chart = line_chart(
        "Capacity: collection time and completeness by fleet size",
        {
            "collection time (s)": [(float(p.meters), p.collection_s) for p in points],
            "window (s)": [(float(p.meters), p.window_s) for p in points],
            "completeness (%)": [(float(p.meters), 100 * p.completeness) for p in points],
        },
        x_label="meters",
        y_label="value",
    )
    rows = html.escape(json.dumps([p.to_mapping() for p in points], indent=1))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>capacity</title></head>"
        f"<body><h1>Head-end capacity</h1><pre>{rows}</pre>{chart}</body></html>\n"
    )
