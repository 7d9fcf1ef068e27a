"""Readings given to the store as runs (one meter's readings of one channel as columns):
stored exactly as the same readings given as rows, in the order given."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hes import Outcome, ReadingRow, ReadingSource, SessionRecord, Store, WorkKind, session_row
from hes._store import ReadingRun

T0 = int(dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp())
Q = 900


def rows_of(run: ReadingRun) -> list[ReadingRow]:
    meter, channel, starts, values, unit, quality, captured, received, source = run
    count = len(starts)
    units = [unit] * count if isinstance(unit, str) else list(unit)
    qualities = [quality] * count if isinstance(quality, str) else list(quality)
    return [
        (meter, channel, s, v, u, q, c, received, source)
        for s, v, u, q, c in zip(starts, values, units, qualities, captured, strict=True)
    ]


run_strategy = st.builds(
    lambda meter, channel, cells, shared_unit, shared_quality, received, source: (
        meter,
        channel,
        [T0 + n * Q for n, _v, _u, _q in cells],
        [v for _n, v, _u, _q in cells],
        "Wh" if shared_unit else [u for _n, _v, u, _q in cells],
        "1.0.0" if shared_quality else [q for _n, _v, _u, q in cells],
        [None if v is None else T0 + n * Q for n, v, _u, _q in cells],
        received,
        source,
    ),
    st.sampled_from(["M1", "M2"]),
    st.sampled_from(["1.0.1.29.0.255", "1.0.2.29.0.255"]),
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.one_of(st.none(), st.integers(-2, 2).map(float)),
            st.sampled_from(["Wh", "kWh"]),
            st.sampled_from(["1.0.0", "2.5.3", "2.4.10 2.4.11"]),
        ),
        max_size=8,
    ),
    st.booleans(),
    st.booleans(),
    st.one_of(st.none(), st.just(T0 + 86_400)),
    st.sampled_from([int(s) for s in ReadingSource]),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(run_strategy, max_size=5), max_size=4))
def test_runs_store_what_their_rows_store(
    tmp_path_factory: pytest.TempPathFactory, calls: list[list[ReadingRun]]
) -> None:
    """Same values, duplicate flags and estimate rules as the rows in the same order,
    over several calls and several statements a call."""
    folder = tmp_path_factory.mktemp("runs")
    with (
        Store(folder / "rows.db", synchronous="NORMAL") as by_rows,
        Store(folder / "runs.db", synchronous="NORMAL") as by_runs,
    ):
        by_runs._max_rows = 4  # several statements of every size in one transaction
        for runs in calls:
            by_rows.put_reading_rows([r for run in runs for r in rows_of(run)])
            by_runs.put_reading_runs(runs)
        assert list(by_runs.readings()) == list(by_rows.readings())
        raw = "SELECT * FROM readings ORDER BY meter, channel, start"
        assert by_runs.query(raw) == by_rows.query(raw)


def test_runs_with_sessions_in_one_transaction(tmp_path: Path) -> None:
    start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    s = SessionRecord(
        meter="M1", kind=WorkKind.BLOCK_LOAD, started=start, ended=start, outcome=Outcome.OK
    )
    run: ReadingRun = (
        "M1",
        "1.0.1.29.0.255",
        [T0, T0 + Q, T0 + 2 * Q],
        [1.0, None, 3.0],
        "Wh",
        ["1.0.0", "2.4.10", "1.0.0"],
        [T0, None, T0 + 2 * Q],
        T0 + 86_400,
        int(ReadingSource.PULL),
    )
    with Store(tmp_path / "s.db") as store:
        store.put_reading_runs(
            [run, ("M2", "1.0.1.29.0.255", [], [], "Wh", "1.0.0", [], None, 1)],
            sessions=[session_row(s)],
        )
        assert store.sessions() == [s]
        got = store.query("SELECT meter, start, value, unit, quality, captured FROM readings")
        assert got == [
            ("M1", T0, 1.0, "Wh", "1.0.0", T0),
            ("M1", T0 + Q, None, "Wh", "2.4.10", None),
            ("M1", T0 + 2 * Q, 3.0, "Wh", "1.0.0", T0 + 2 * Q),
        ]


def test_runs_with_columns_of_other_lengths_are_refused(tmp_path: Path) -> None:
    good: ReadingRun = (
        "M1",
        "1.0.1.29.0.255",
        [T0, T0 + Q],
        [1.0, 2.0],
        "Wh",
        "1.0.0",
        [None, None],
        None,
        1,
    )
    with Store(tmp_path / "s.db") as store:
        for bad in (
            (*good[:3], [1.0], *good[4:]),
            (*good[:4], ["Wh"], *good[5:]),
            (*good[:5], ["1.0.0"] * 3, *good[6:]),
            (*good[:6], [None], *good[7:]),
        ):
            with pytest.raises(ValueError, match="one value an interval start"):
                store.put_reading_runs([good, bad])
        with pytest.raises(ValueError, match="9 fields"):
            store.put_reading_runs([good[:8]])  # type: ignore[list-item]
        assert store.count_readings() == 0
        assert store.query("SELECT count(*) FROM meters") == [(0,)]


def test_a_failed_run_write_leaves_no_names_behind(tmp_path: Path) -> None:
    good: ReadingRun = ("M7", "1.0.1.29.0.255", [T0], [1.0], "Wh", "2.5.3", [None], None, 1)
    bad = ("M8", "1.0.2.29.0.255", [T0], [object()], "varh", "1.4.5", [None], None, 1)
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(sqlite3.ProgrammingError):
            store.put_reading_runs([good, bad])  # type: ignore[list-item]
        for table in ("meters", "channels", "units", "qualities"):
            assert store.query(f"SELECT count(*) FROM {table}") == [(0,)]
        store.put_reading_runs([good])
        assert store.query("SELECT meter, unit, quality FROM readings") == [("M7", "Wh", "2.5.3")]
