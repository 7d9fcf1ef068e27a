"""The loopback benchmark runs: simulator process, both clients, one short round each."""

from __future__ import annotations

import importlib
import pathlib
import sys
from typing import Any

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "bench"))
bench_loopback: Any = importlib.import_module("bench_loopback")


def test_both_clients_read_96_rows_and_a_ratio_comes_out() -> None:
    results = bench_loopback.measure(min_time=0.0, rounds=1)
    assert [m.unit for m in results] == ["ms CPU/session", "sessions/s"]
    cpu, wall = results
    assert cpu.higher_is_better is False and cpu.target == 10.0
    assert cpu.ours > 0 and cpu.peer > 0 and wall.ours > 0 and wall.peer > 0
    assert "96-row" in cpu.note


def test_a_session_that_reads_the_wrong_number_of_rows_is_refused() -> None:
    with pytest.raises(RuntimeError, match="95 rows"):
        bench_loopback._check(95)
