"""``make demo`` runs examples/demo.py: it must run and show the decoded day correctly."""

from __future__ import annotations

import pathlib
import runpy

import pytest

DEMO = pathlib.Path(__file__).resolve().parent.parent / "examples" / "demo.py"


def test_demo_decodes_a_day_of_block_load(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(DEMO), run_name="__main__")
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("2024-03-1")]
    assert len(rows) == 96
    assert rows[0].startswith("2024-03-15T00:15:00+05:30")
    assert rows[-1].startswith("2024-03-16T00:00:00+05:30")
    assert "UTC_TO_LOCAL -> UTC+05:30 (matches IST)" in out
    assert "decode rate:" in out
