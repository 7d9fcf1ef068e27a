"""The head-end store: idempotent upserts, duplicate flags, gap ledger, and crash safety
(a writer killed with SIGKILL mid-write loses nothing it acknowledged)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hes import (
    Gap,
    GapState,
    MeterEventRecord,
    Outcome,
    Quality,
    Reading,
    ReadingSource,
    SessionRecord,
    Store,
    WorkKind,
    reading_row,
    session_row,
)

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
Q = dt.timedelta(minutes=15)


def reading(n: int, value: float | None = 1.5, **kw: object) -> Reading:
    args: dict[str, object] = {
        "meter": "M1",
        "channel": "1.0.1.29.0.255",
        "start": T0 + n * Q,
        "value": value,
        "unit": "Wh",
    }
    args.update(kw)
    return Reading(**args)  # type: ignore[arg-type]


def test_wal_mode_and_round_trip(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        mode = store.query("SELECT * FROM pragma_journal_mode")
        assert mode == [("wal",)]
        rows = [
            reading(n, float(n), captured=T0 + n * Q, received=T0 + n * Q + Q) for n in range(4)
        ]
        store.put_readings(rows)
        back = list(store.readings())
        assert back == rows
        assert back[0].quality == frozenset()


def test_same_value_twice_is_one_row(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.put_readings([reading(0), reading(1)])
        store.put_readings([reading(0), reading(1)])
        assert store.count_readings() == 2
        assert all(r.quality == frozenset() for r in store.readings())


def test_other_value_keeps_first_and_flags_duplicate(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.put_readings([reading(0, 10.0, quality={Quality.SPIKE})])
        store.put_readings([reading(0, 11.0)])
        store.put_readings([reading(0, 12.0)])
        (row,) = store.readings()
        assert row.value == 10.0
        assert row.quality == {Quality.SPIKE, Quality.DUPLICATE}


def test_estimate_gives_way_to_a_read(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.put_readings(
            [reading(0, 5.0, source=ReadingSource.ESTIMATE, quality={Quality.ESTIMATED})]
        )
        store.put_readings([reading(0, 7.0, source=ReadingSource.BACK_READ)])
        (row,) = store.readings()
        assert (row.value, row.source, row.quality) == (7.0, ReadingSource.BACK_READ, frozenset())
        # and a later estimate never replaces the read, nor flags it: an estimate is ours,
        # not a second reading from the meter
        store.put_readings([reading(0, 5.0, source=ReadingSource.ESTIMATE)])
        (row,) = store.readings()
        assert (row.value, row.source, row.quality) == (7.0, ReadingSource.BACK_READ, frozenset())


def test_filters_and_interval_starts(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.put_readings([reading(n) for n in range(8)] + [reading(0, meter="M2")])
        assert store.count_readings(meter="M2") == 1
        got = list(store.readings(meter="M1", start=T0 + 2 * Q, end=T0 + 5 * Q))
        assert [r.start for r in got] == [T0 + 2 * Q, T0 + 3 * Q, T0 + 4 * Q]
        starts = store.interval_starts("M1", "1.0.1.29.0.255", T0, T0 + 3 * Q)
        assert starts == [T0, T0 + Q, T0 + 2 * Q]


def test_events_are_idempotent_and_sessions_logged(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        event = MeterEventRecord(meter="M1", when=T0, log=2, code=101, received=T0 + Q)
        store.put_events([event, event])
        store.put_events([event])
        assert store.events() == [event]
        session = SessionRecord(
            meter="M1",
            kind=WorkKind.BLOCK_LOAD,
            started=T0,
            ended=T0 + dt.timedelta(seconds=2.5),
            outcome=Outcome.TIMEOUT,
            rows=0,
            clock_deviation=-3.0,
            detail="no answer",
        )
        store.put_sessions([session])
        assert store.sessions() == [session]
        assert store.sessions()[0].latency == 2.5


def test_gap_ledger(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        gap = Gap(meter="M1", profile="block_load", start=T0, end=T0 + 4 * Q)
        store.open_gaps([gap, gap])
        assert store.gaps() == [gap]
        assert store.due_gaps(T0, 10) == [gap]
        later = Gap(
            meter="M1",
            profile="block_load",
            start=T0,
            end=T0 + 4 * Q,
            attempts=1,
            next_try=T0 + dt.timedelta(hours=1),
        )
        store.update_gap(later)
        assert store.due_gaps(T0, 10) == []
        assert store.due_gaps(T0 + dt.timedelta(hours=1), 10) == [later]
        parts = [
            Gap(
                meter="M1",
                profile="block_load",
                start=T0,
                end=T0 + Q,
                state=GapState.ABSENT,
                attempts=2,
            ),
            Gap(
                meter="M1",
                profile="block_load",
                start=T0 + 2 * Q,
                end=T0 + 3 * Q,
                state=GapState.FILLED,
                attempts=2,
            ),
        ]
        store.replace_gap(later, parts)
        assert store.gaps() == parts
        assert store.gaps(state=GapState.FILLED) == parts[1:]
        assert store.due_gaps(T0 + dt.timedelta(days=9), 10) == []


def test_synchronous_argument_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Store(tmp_path / "s.db", synchronous="OFF")  # type: ignore[arg-type]
    with Store(tmp_path / "n.db", synchronous="NORMAL") as store:
        assert store.query("SELECT * FROM pragma_synchronous") == [(1,)]


def test_query_is_read_only(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store, pytest.raises(ValueError):
        store.query("DELETE FROM readings")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 20),
            st.sampled_from(["M1", "M2"]),
            st.one_of(st.none(), st.integers(-5, 5).map(float)),
        ),
        max_size=40,
    )
)
def test_upserts_in_any_order_keep_one_row_per_key(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[int, str, float | None]]
) -> None:
    path = tmp_path_factory.mktemp("h") / "s.db"
    with Store(path) as store:
        for n, meter, value in ops:
            store.put_readings([reading(n, value, meter=meter)])
        first: dict[tuple[int, str], float | None] = {}
        changed: set[tuple[int, str]] = set()
        for n, meter, value in ops:
            if (n, meter) in first and first[(n, meter)] != value:
                changed.add((n, meter))
            first.setdefault((n, meter), value)
        rows = {(int((r.start - T0) / Q), r.meter): r for r in store.readings()}
        assert rows.keys() == first.keys()
        for key, row in rows.items():
            assert row.value == first[key]
            assert (Quality.DUPLICATE in row.quality) == (key in changed)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 6),
            st.sampled_from(["M1", "M2"]),
            st.one_of(st.none(), st.integers(-3, 3).map(float)),
            st.sampled_from(list(ReadingSource)),
            st.sampled_from([frozenset(), frozenset({Quality.MISALIGNED})]),
        ),
        max_size=60,
    ),
    st.integers(1, 7),
)
def test_rows_in_one_transaction_store_what_one_by_one_stores(
    tmp_path_factory: pytest.TempPathFactory,
    ops: list[tuple[int, str, float | None, ReadingSource, frozenset[Quality]]],
    cut: int,
) -> None:
    """Many rows per statement (and several statements per call) keep the upsert's
    order: each row sees the rows before it, as with one write per reading."""
    readings = [
        reading(n, value, meter=meter, source=source, quality=flags)
        for n, meter, value, source, flags in ops
    ]
    folder = tmp_path_factory.mktemp("rows")
    with Store(folder / "one.db") as one, Store(folder / "batched.db") as batched:
        for r in readings:
            one.put_readings([r])
        batched._max_rows = 4  # several statements of every size in one transaction
        for first in range(0, len(readings), cut):
            batched.put_reading_rows([reading_row(r) for r in readings[first : first + cut]])
        assert list(batched.readings()) == list(one.readings())


def test_reading_and_session_rows(tmp_path: Path) -> None:
    r = reading(3, 2.5, captured=T0, received=T0 + Q, quality={Quality.SPIKE})
    assert reading_row(r) == (
        "M1",
        "1.0.1.29.0.255",
        int((T0 + 3 * Q).timestamp()),
        2.5,
        "Wh",
        "2.5.3",
        int(T0.timestamp()),
        int((T0 + Q).timestamp()),
        1,
    )
    s = SessionRecord(
        meter="M1", kind=WorkKind.PUSH, started=T0, ended=T0 + Q, outcome=Outcome.OK, detail="d"
    )
    with Store(tmp_path / "s.db") as store:
        store.put_reading_rows([reading_row(r)], sessions=[session_row(s)])
        assert list(store.readings()) == [r]
        assert store.sessions() == [s]
        with pytest.raises(ValueError, match="9 values"):
            store.put_reading_rows([reading_row(r)[:8]])  # type: ignore[list-item]
        assert store.count_readings() == 1


WRITER = textwrap.dedent(
    """
    import datetime as dt, sys
    from hes import Reading, Store
    T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    store = Store(sys.argv[1])
    batch = int(sys.argv[2])
    for b in range(int(sys.argv[3])):
        rows = [
            Reading(meter=f"M{(b * batch + i) % 97}", channel="1.0.1.29.0.255",
                    start=T0 + dt.timedelta(minutes=15 * ((b * batch + i) // 97)),
                    value=float(b * batch + i), unit="Wh")
            for i in range(batch)
        ]
        store.put_readings(rows)
        sys.stdout.write(f"ACK {b}\\n")
        sys.stdout.flush()
    """
)


def _expected(batch: int, upto: int) -> dict[tuple[str, int], float]:
    out = {}
    for n in range(batch * upto):
        start = T0 + dt.timedelta(minutes=15 * (n // 97))
        out[(f"M{n % 97}", int(start.timestamp()))] = float(n)
    return out


@pytest.mark.parametrize("delay", [0.15, 0.4, 0.8])
def test_sigkill_mid_write_loses_nothing_acknowledged(tmp_path: Path, delay: float) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    db = tmp_path / "crash.db"
    batch, batches = 50, 100_000
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db), str(batch), str(batches)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    acked = -1
    first = proc.stdout.readline()  # wait until writing has started
    assert first.startswith("ACK")
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("ACK"):
            acked = int(line.split()[1])
    os.kill(proc.pid, signal.SIGKILL)
    for line in proc.stdout:  # acknowledgements already in the pipe still count
        if line.startswith("ACK"):
            acked = int(line.split()[1])
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert acked >= 0
    with Store(db) as store:
        assert store.integrity_check() == "ok"
        stored = {(r.meter, int(r.start.timestamp())): r.value for r in store.readings()}
        want = _expected(batch, acked + 1)
        for key, value in want.items():
            assert stored[key] == value
        # at most the one batch being written when killed may also be there, whole
        extra = set(stored) - set(want)
        assert len(extra) in (0, batch)
        assert len(stored) == len(set(stored))
        # replaying every acknowledged write after the restart duplicates nothing
        rows = [
            Reading(
                meter=m,
                channel="1.0.1.29.0.255",
                start=dt.datetime.fromtimestamp(s, dt.UTC),
                value=v,
                unit="Wh",
            )
            for (m, s), v in want.items()
        ]
        store.put_readings(rows)
        assert store.count_readings() == len(stored)
        assert not any(Quality.DUPLICATE in r.quality for r in store.readings())


def test_threads_share_one_store(tmp_path: Path) -> None:
    """Collection, push ingest and inbound sessions write from their own worker
    threads into one store: transactions never interleave, nothing is lost."""
    import threading

    errors: list[BaseException] = []

    with Store(tmp_path / "s.db", synchronous="NORMAL") as store:

        def write(meter: str) -> None:
            try:
                for n in range(60):
                    store.put_readings([reading(n, float(n), meter=meter)])
                    store.put_sessions(
                        [
                            SessionRecord(
                                meter=meter,
                                kind=WorkKind.PUSH,
                                started=T0,
                                ended=T0,
                                outcome=Outcome.OK,
                            )
                        ]
                    )
                    assert store.count_readings(meter=meter) == n + 1
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(f"M{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        seen = sum(1 for _ in store.readings())
        for t in threads:
            t.join()
        assert errors == []
        assert 0 <= seen <= 240
        assert store.count_readings() == 240
        assert len(store.sessions()) == 240
        assert store.integrity_check() == "ok"
