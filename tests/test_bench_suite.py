"""Every benchmark module runs in quick mode, and the README section is generated.

No timing is asserted: the figures depend on the machine. What is checked is that each
module's measurement code runs on its smallest size and returns well-formed
measurements, and that the README rewrite touches only the marked section.
"""

from __future__ import annotations

import importlib
import json
import math
import pathlib
import sys
from collections.abc import Iterator
from typing import Any

import pytest

BENCH = pathlib.Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))
harness: Any = importlib.import_module("_harness")
readme: Any = importlib.import_module("readme")
runner: Any = importlib.import_module("run")

#: The loopback and scaling benchmarks start processes; they have their own tests.
OWN_TESTS = {"loopback", "scaling"}


@pytest.fixture
def quick() -> Iterator[None]:
    harness.set_quick(True)
    try:
        yield
    finally:
        harness.set_quick(False)


@pytest.mark.parametrize("short", [s for s in runner.modules() if s not in OWN_TESTS])
def test_module_runs_quick_and_returns_measurements(short: str, quick: None) -> None:
    module = importlib.import_module(f"bench_{short}")
    results = module.run()
    assert results
    for m in results:
        assert isinstance(m, harness.Measurement)
        assert m.name and m.unit and m.peer_name
        assert math.isfinite(m.ours) and m.ours >= 0
        assert math.isfinite(m.peer) and m.peer >= 0
        row = m.as_dict()
        assert row["ratio"] == m.ratio
        assert row["meets_target"] is (None if m.target is None else m.ratio >= m.target)


def test_quick_mode_shortens_rate() -> None:
    calls = 0

    def once() -> None:
        nonlocal calls
        calls += 1

    harness.set_quick(True)
    try:
        harness.rate(once, min_time=5.0, repeats=50)
    finally:
        harness.set_quick(False)
    assert not harness.is_quick()
    assert calls > 0  # returned well before 50 rounds of 5 s


def _report(**figures: float) -> dict[str, Any]:
    rows = []
    for name, ratio in figures.items():
        m = harness.Measurement(
            name=name, unit="x/s", ours=ratio * 10, peer_name="peer", peer=10.0, target=2.0
        )
        rows.append({"module": "demo", **m.as_dict()})
    return {
        "date": "2026-01-01 00:00 UTC",
        "python": "3.11",
        "machine": "x",
        "cpus": 2,
        "results": rows,
    }


def test_section_lists_every_measurement_with_ratio_and_target() -> None:
    text = readme.section(_report(fast=3.0, slow=1.5), plot="bench/cost_curve.png")
    assert text.startswith(readme.START) and text.rstrip().endswith(readme.END)
    assert "| fast | x/s | 30 | peer | 10 | 3.00× ✓ | ≥ 2× |" in text
    assert "| slow | x/s | 15 | peer | 10 | 1.50× ✗ | ≥ 2× |" in text
    assert "1 of 2 targets met" in " ".join(text.split())
    assert "![head-end cost curve](bench/cost_curve.png)" in text


def test_rewrite_replaces_only_the_marked_section() -> None:
    before = f"# title\n\nintro\n\n{readme.START}\nold\n{readme.END}\n\n## Licence\n\nkept\n"
    new = readme.section(_report(fast=3.0))
    after = readme.rewrite(before, new)
    assert after.startswith("# title\n\nintro\n\n")
    assert after.endswith(f"{readme.END}\n\n## Licence\n\nkept\n")
    assert "old" not in after and "| fast |" in after
    assert readme.rewrite(after, new) == after  # idempotent


@pytest.mark.parametrize(
    "text", ["no markers", f"{readme.END}\n{readme.START}\n", f"{readme.START} only"]
)
def test_rewrite_refuses_a_readme_without_a_section(text: str) -> None:
    with pytest.raises(ValueError, match="section"):
        readme.rewrite(text, readme.section(_report(fast=3.0)))


def test_the_project_readme_has_a_generated_section() -> None:
    text = (BENCH.parent / "README.md").read_text()
    start, end = text.find(readme.START), text.find(readme.END)
    assert 0 <= start < end
    assert "| benchmark | unit |" in text[start:end]


def test_runner_quick_subset_writes_quick_results(quick: None) -> None:
    assert runner.main(["--quick", "obis"]) == 0
    report = json.loads((BENCH / "results-quick.json").read_text())
    assert report["quick"] is True
    assert {row["module"] for row in report["results"]} == {"obis"}


def test_runner_refuses_unknown_benchmarks() -> None:
    assert runner.main(["--quick", "no-such-bench"]) == 2


def test_a_failing_benchmark_is_reported_and_the_others_still_run(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, quick: None
) -> None:
    broken = tmp_path / "bench_broken.py"
    broken.write_text("def run():\n    raise RuntimeError('no meter answered')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(runner, "modules", lambda: ["broken", "obis"])
    assert runner.main(["--quick"]) == 1
    report = json.loads((BENCH / "results-quick.json").read_text())
    assert report["failed"] == ["broken"]
    assert {row["module"] for row in report["results"]} == {"obis"}


def _rows(module: str, *names: str) -> list[dict[str, Any]]:
    return [
        {
            "module": module,
            **harness.Measurement(name=n, unit="x/s", ours=2.0, peer_name="p", peer=1.0).as_dict(),
        }
        for n in names
    ]


def test_merge_replaces_the_rerun_modules_rows_and_keeps_the_others() -> None:
    old = {"date": "D1", "results": _rows("axdr", "a1", "a2") + _rows("obis", "o1")}
    new = {"date": "D2", "failed": [], "results": _rows("axdr", "a3")}
    merged = runner.merge(old, new, ["axdr"])
    assert [row["name"] for row in merged["results"]] == ["a3", "o1"]
    assert merged["date"] == "D1"
    assert merged["dates"] == {"axdr": "D2", "obis": "D1"}
    text = readme.section(merged)
    assert "Re-run since: bench_axdr.py on D2." in " ".join(text.split())
