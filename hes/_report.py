"""KPI report: a plain-text table for the terminal and an HTML page with inline SVG plots
(no plotting library: the charts are a few rectangles and lines)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from hes._kpi import KpiReport

__all__ = ["bar_chart", "html_report", "line_chart", "text_report"]


def _pct(value: float) -> str:
    return f"{100 * value:6.2f} %"


def text_report(report: KpiReport, *, top: int = 8) -> str:
    """The KPI table printed by ``dlmskit-hes report``."""
    out = [f"meters {report.meters}   readings {report.readings}"]
    out.append(f"meters read (overall)      {_pct(report.overall_success())}")
    for profile, days in report.completeness.items():
        for day, value in days.items():
            out.append(f"completeness {profile:<10} {day}  {_pct(value)}")
    lat = report.latency
    out.append(
        f"session latency s          p50 {lat['p50']:.3f}  p95 {lat['p95']:.3f}  "
        f"p99 {lat['p99']:.3f}  max {lat['max']:.3f}"
    )
    lag = report.lag
    out.append(
        f"lag behind real time s     p50 {lag['p50']:.0f}  p95 {lag['p95']:.0f}  "
        f"max {lag['max']:.0f}"
    )
    cd = report.clock_deviation
    out.append(
        f"clock deviation s          p95 {cd['p95_abs']:.1f}  max {cd['max_abs']:.1f}  "
        f"meters synced {int(cd['synced'])}"
    )
    out.append("sessions by outcome        " + _pairs(report.outcomes))
    if report.pushes:
        out.append(f"pushes stored              {report.pushes}")
    out.append("quality flags              " + _pairs(report.flags))
    out.append("gaps by state              " + _pairs(report.gaps))
    if report.retried or report.given_up:
        out.append("retried sessions           " + _pairs(report.retried))
        out.append("given up (none ok)         " + _pairs(report.given_up))
    for kind in ("transport", "network", "model", "cell", "feeder"):
        stats = report.clusters.get(kind)
        if not stats:
            continue
        worst = sorted(stats.items(), key=lambda kv: (kv[1].meter_success, kv[0]))[:top]
        out.append(f"success by {kind} (worst {len(worst)} of {len(stats)}):")
        out.append(
            f"  {'cluster':<14} {'meters':>7} {'read':>7} {'success':>9} {'sessions ok':>12}"
        )
        for name, s in worst:
            out.append(
                f"  {name:<14} {s.meters:>7} {s.meters_ok:>7} {_pct(s.meter_success):>9} "
                f"{_pct(s.session_success):>12}"
            )
    return "\n".join(out) + "\n"


def _pairs(counts: Mapping[str, int]) -> str:
    return "  ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "-"


def bar_chart(
    title: str, items: Sequence[tuple[str, float]], *, maximum: float | None = None, unit: str = ""
) -> str:
    """A horizontal bar chart as an SVG element."""
    width, bar_h, label_w = 640, 18, 150
    top = 28
    height = top + bar_h * len(items) + 10
    peak = maximum if maximum is not None else max((v for _k, v in items), default=1.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="4" y="18" font-size="14" font-weight="bold">{html.escape(title)}</text>',
    ]
    for n, (label, value) in enumerate(items):
        y = top + n * bar_h
        w = max(0.0, (width - label_w - 90) * min(value / peak, 1.0))
        parts.append(
            f'<text x="4" y="{y + 13}" font-size="12">{html.escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 4}" '
            f'fill="#3b7dd8"/><text x="{label_w + w + 4:.1f}" y="{y + 13}" font-size="12">'
            f"{value:.4g}{html.escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    title: str,
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    x_label: str = "",
    y_label: str = "",
) -> str:
    """Lines through (x, y) points as an SVG element, one colour per series."""
    width, height, pad = 640, 320, 50
    points = [p for s in series.values() for p in s]
    if not points:
        return f"<p>{html.escape(title)}: no data</p>"
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = 0.0, max(p[1] for p in points) or 1.0
    x1 = x1 if x1 > x0 else x0 + 1

    def sx(x: float) -> float:
        return pad + (width - 2 * pad) * (x - x0) / (x1 - x0)

    def sy(y: float) -> float:
        return height - pad - (height - 2 * pad) * (y - y0) / (y1 - y0)

    colours = ("#3b7dd8", "#d8573b", "#2e9e5b", "#8a4fd8", "#c9a227")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="4" y="18" font-size="14" font-weight="bold">{html.escape(title)}</text>',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#444"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#444"/>',
        f'<text x="{width / 2}" y="{height - 12}" font-size="12" text-anchor="middle">'
        f"{html.escape(x_label)}</text>",
        f'<text x="8" y="{pad - 10}" font-size="12">{html.escape(y_label)} (max {y1:.4g})</text>',
    ]
    for n, (name, pts) in enumerate(series.items()):
        colour = colours[n % len(colours)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in sorted(pts))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        for x, y in pts:
            parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colour}"/>')
        parts.append(
            f'<text x="{width - pad + 4}" y="{pad + 14 * n}" font-size="12" fill="{colour}">'
            f"{html.escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def html_report(
    report: KpiReport, *, title: str = "dlmskit head-end report", extra: str = ""
) -> str:
    """A self-contained HTML page: the text table and SVG plots of success, completeness
    and latency."""
    charts = []
    for kind in ("transport", "network", "model"):
        stats = report.clusters.get(kind, {})
        if stats:
            charts.append(
                bar_chart(
                    f"Meters read by {kind}",
                    [(k, 100 * s.meter_success) for k, s in stats.items()],
                    maximum=100.0,
                    unit=" %",
                )
            )
    cells = report.clusters.get("cell", {})
    if cells:
        worst = sorted(cells.items(), key=lambda kv: kv[1].meter_success)[:15]
        charts.append(
            bar_chart(
                "Worst cells: meters read",
                [(k, 100 * s.meter_success) for k, s in worst],
                maximum=100.0,
                unit=" %",
            )
        )
    for profile, days in report.completeness.items():
        if days:
            charts.append(
                bar_chart(
                    f"Completeness {profile}",
                    [(d, 100 * v) for d, v in days.items()],
                    maximum=100.0,
                    unit=" %",
                )
            )
    previous = 0
    buckets = []
    for bound, cumulative in report.latency_histogram:
        label = f"<= {bound:g} s" if bound != float("inf") else "> 30 s"
        buckets.append((label, float(cumulative - previous)))
        previous = cumulative
    charts.append(bar_chart("Session latency (sessions per bucket)", buckets))
    body = "\n".join(f"<figure>{c}</figure>" for c in charts)
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}pre{background:#f4f4f4;padding:1em}"
        "figure{margin:1em 0}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><pre>{html.escape(text_report(report))}</pre>"
        f"{extra}{body}</body></html>\n"
    )
