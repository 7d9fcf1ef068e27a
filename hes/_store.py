"""The embedded store: SQLite in WAL mode, idempotent upserts, acknowledged = committed.

One writer connection. Every ``put_*`` is one transaction; when it returns the rows are
committed, and with ``synchronous="FULL"`` (the default) also on disk before the call
returns, so a ``kill -9`` or a power cut loses nothing that was acknowledged.
``synchronous="NORMAL"`` keeps WAL commits durable against a process crash (the WAL is
in the OS page cache) but a power cut may roll back the last commits; it saves an
fsync per commit, which counts where commits are small and fsync is slow (many small
transactions), and suits caches that can be rebuilt. Large batched commits, such as
push ingest's, cost about the same either way.

Readings are keyed by (meter, channel, interval start) in a ``WITHOUT ROWID`` table,
``reading_values``, with the meter, the channel, the unit and the quality text as ids
into ``meters``, ``channels``, ``units`` and ``qualities``; the ``readings`` view joins
the texts back for reports and :meth:`Store.query`. A second write of a key with the
same value changes nothing; with a different value the first value stays and the row is
flagged duplicate, except that an estimate is always replaced by a real read.
:meth:`Store.put_reading_rows` takes readings already in the row form
(:data:`ReadingRow`, see :func:`reading_row`) with the same upsert, for writers that
never build :class:`~hes.Reading` values (push ingest, and the collection engine for
block load reads: about 0.9 µs of CPU a row into a new store, in commits of 21 sessions
of 626 readings each, against 1.0 with the unit and quality texts in every row).
:meth:`Store.put_reading_runs` takes one meter's readings of one channel as columns
(:data:`ReadingRun`), the same upsert again, for about 0.1 µs a row less in the store
and no row tuple for the writer to build. Rows in key order, each meter's channel by
channel, cost about a fifth less than interval by interval: each channel's rows then go
into the same B-tree pages one after the other.

The schema version is ``PRAGMA user_version`` (:data:`SCHEMA_VERSION`); a file of
another version is refused with :class:`StoreVersionError`: version 1, which had no
version set and the names in every row, and version 2, which had the unit and quality
texts in every row.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal

from hes._gapledger import Gap
from hes._model import (
    GapState,
    MeterEventRecord,
    Outcome,
    Reading,
    ReadingSource,
    SessionRecord,
    WorkKind,
    epoch_seconds,
    from_epoch,
)
from hes._quality import parse_quality
from hes._shards import MeterScope, shard_of
from hes._store_sql import (
    _EST,
    _MAX_ROWS,
    _PAGE_SIZES,
    _READING_INSERT,
    _SCHEMA,
    _SESSION_INSERT,
    SCHEMA_VERSION,
    ReadingRow,
    ReadingRun,
    SessionRow,
    StoreVersionError,
    _check_version,
    _flat,
    _Insert,
    _Names,
    _Qualities,
    _run_length,
    _stamp,
    _values_sql,
    reading_row,
    session_row,
    wal_mode,
)
from hes._store_sql import (
    _reading_rows as _reading_rows,  # the engine's readings path
)

__all__ = [
    "SCHEMA_VERSION",
    "ReadingRow",
    "ReadingRun",
    "SessionRow",
    "Store",
    "StoreVersionError",
    "reading_row",
    "session_row",
]


def _time(stamp: int | None) -> _dt.datetime | None:
    return None if stamp is None else from_epoch(stamp)


def _column(texts: str | Sequence[str]) -> Sequence[str]:
    """A run's unit or quality field as texts: one shared, or one a reading."""
    return (texts,) if isinstance(texts, str) else texts


def _ids(names: _Names, texts: str | Sequence[str]) -> Iterator[int]:
    """Ids of a run's unit or quality field, one a reading (a shared text looked up once)."""
    if isinstance(texts, str):
        return repeat(names[texts])
    return map(names.__getitem__, texts)


class Store:
    """Readings, events, sessions and the gap ledger in one SQLite file (WAL mode).

    Implements :class:`~hes.ReadingsSink`, :class:`~hes.ReadingsSource`,
    :class:`~hes.EventSink`, :class:`~hes.SessionLog` and :class:`~hes.GapLedger`.
    Safe to share between threads (the head-end's writer, push ingest, inbound
    sessions): every call holds the store's lock, so transactions never interleave on
    the one connection.

    ``page_size`` applies to a new file: readings arrive time-major (every meter's
    latest interval) but are kept meter-major, so each commit rewrites a page per meter
    it touches; large pages make those rewrites fewer (32 KiB writes a push batch about
    1.5 times faster than SQLite's default 4 KiB).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        page_size: int = 32_768,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous is FULL or NORMAL")
        if page_size not in _PAGE_SIZES:
            raise ValueError("page_size is a power of two from 512 to 65536")
        self.path = Path(path)
        self._db = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        # takes effect on a new file only (before WAL mode and the schema)
        self._db.execute(f"PRAGMA page_size={page_size}")
        try:
            wal_mode(self._db, self.path)
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            _check_version(self._db, self.path)
            self._db.executescript(_SCHEMA)
        except BaseException:
            self._db.close()
            raise
        # gaps of one shard (Inventory.sharded) are picked in SQL
        self._db.create_function("shard_of", 2, shard_of, deterministic=True)
        self._lock = threading.RLock()
        self._meters = _Names(self._db, "meters")
        self._channels = _Names(self._db, "channels")
        self._units = _Names(self._db, "units")
        self._qualities = _Qualities(self._db)
        # the texts of a reading row kept as ids, with their positions in the row
        self._columns: tuple[tuple[_Names, int], ...] = (
            (self._meters, 0),
            (self._channels, 1),
            (self._units, 4),
            (self._qualities, 5),
        )
        limit = self._db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        # a power of two, so a batch goes in at most a dozen statements of cached sizes
        self._max_rows = 1 << (max(1, min(_MAX_ROWS, limit // 9)).bit_length() - 1)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _transaction(self, sql: str, rows: Iterable[tuple[object, ...]]) -> None:
        db = self._db
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(sql, rows)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _insert(self, work: Sequence[tuple[_Insert, Sequence[tuple[object, ...]]]]) -> None:
        """Rows into their tables in one transaction, many rows per statement: one
        SQLite step (GIL released) per statement rather than per row, and the rows go
        in the order given, each seeing those before it, as with one INSERT per row.
        Reading rows have their meter, channel, unit and quality texts replaced by ids on
        the way, a statement's parameters built just before it is bound."""
        for (_head, _tail, width), rows in work:
            if rows and set(map(len, rows)) != {width}:
                raise ValueError(f"every row must have {width} values")

        def statements() -> Iterator[tuple[str, list[object]]]:
            for insert, rows in work:
                head, tail, width = insert
                done, total = 0, len(rows)
                while done < total:
                    size = min(self._max_rows, 1 << ((total - done).bit_length() - 1))
                    params = _flat(rows[done : done + size])
                    if insert is _READING_INSERT:
                        self._to_ids(params, rows, done)
                    yield _values_sql(head, tail, width, size), params
                    done += size

        self._transaction_of(statements)

    def _transaction_of(self, statements: Callable[[], Iterable[tuple[str, list[object]]]]) -> None:
        """One write transaction running ``statements()`` (which may add names: they go
        with a rollback)."""
        db = self._db
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements():
                    db.execute(sql, params)
            except BaseException:
                db.execute("ROLLBACK")
                # names added in the transaction are gone with it
                for names, _column in self._columns:
                    names.clear()
                raise
            db.execute("COMMIT")

    def _to_ids(self, params: list[object], rows: Sequence[tuple[object, ...]], done: int) -> None:
        """A statement's reading parameters (nine a row, from ``rows[done:]``) with the
        meter, channel, unit and quality texts replaced by their ids, a column at a time
        (no Python loop per row). Names not stored yet are added, those of every row
        still to go in one statement a table (one GIL round trip in the transaction)."""
        for names, column in self._columns:
            try:
                params[column::9] = map(names.__getitem__, params[column::9])
            except KeyError:
                names.add(map(itemgetter(column), itertools.islice(rows, done, None)))
                params[column::9] = map(names.__getitem__, params[column::9])

    def _select(self, sql: str, args: Sequence[object] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- readings --------------------------------------------------------------------

    def put_readings(self, readings: Sequence[Reading]) -> None:
        self._insert(((_READING_INSERT, list(_reading_rows(readings))),))

    def put_reading_rows(
        self, rows: Iterable[ReadingRow], *, sessions: Iterable[SessionRow] = ()
    ) -> None:
        """Store readings given as rows (:func:`reading_row` of each, or built the same
        way), and sessions as rows (:func:`session_row`) with them, in one transaction:
        the same upsert, so the same idempotence and duplicate flags, as
        :meth:`put_readings`."""
        readings = rows if isinstance(rows, list | tuple) else list(rows)
        receipts = sessions if isinstance(sessions, list | tuple) else list(sessions)
        self._insert(((_READING_INSERT, readings), (_SESSION_INSERT, receipts)))

    def put_reading_runs(
        self, runs: Iterable[ReadingRun], *, sessions: Iterable[SessionRow] = ()
    ) -> None:
        """Store readings given as runs (:data:`ReadingRun`: one meter's readings of one
        channel as columns), and sessions as rows (:func:`session_row`), in one
        transaction: what :meth:`put_reading_rows` stores for the runs' rows, in the
        order given, for about a third of the Python work a reading (no tuple a
        reading, the parameters filled a column at a time, one id look-up a run for the
        meter, the channel and a shared unit or quality)."""
        given = runs if isinstance(runs, list | tuple) else list(runs)
        receipts = sessions if isinstance(sessions, list | tuple) else list(sessions)
        if receipts and set(map(len, receipts)) != {9}:
            raise ValueError("every row must have 9 values")
        for run in given:
            _run_length(run)

        def statements() -> Iterator[tuple[str, list[object]]]:
            yield from self._run_statements(given)
            yield from self._chunks(_SESSION_INSERT, _flat(receipts), len(receipts))

        self._transaction_of(statements)

    def _run_statements(self, runs: Sequence[ReadingRun]) -> Iterator[tuple[str, list[object]]]:
        """The runs' rows as statements, each one's parameters (nine a row, the texts
        as their ids) filled from the runs' columns just before it is bound, a run's
        rows zipped from its columns (no tuple kept a row) and a text it shares looked
        up once. New meters and channels are added first, new units and quality texts
        when one is met (one statement a table)."""
        self._meters.add(run[0] for run in runs)
        self._channels.add(run[1] for run in runs)
        head, tail, width = _READING_INSERT
        full = self._max_rows * width
        flat: list[object] = []
        for n, run in enumerate(runs):
            mark = len(flat)
            try:
                flat.extend(self._run_params(run))
            except KeyError:
                del flat[mark:]
                rest = runs[n:]
                self._units.add(itertools.chain.from_iterable(_column(r[4]) for r in rest))
                self._qualities.add(itertools.chain.from_iterable(_column(r[5]) for r in rest))
                flat.extend(self._run_params(run))
            while len(flat) >= full:
                yield _values_sql(head, tail, width, self._max_rows), flat[:full]
                del flat[:full]
        yield from self._chunks(_READING_INSERT, flat, len(flat) // width)

    def _run_params(self, run: ReadingRun) -> Iterator[object]:
        """A run's rows' parameters, zipped from its columns."""
        meter, channel, starts, values, unit, quality, captured, received, source = run
        return itertools.chain.from_iterable(
            zip(
                repeat(self._meters[meter]),
                repeat(self._channels[channel]),
                starts,
                values,
                _ids(self._units, unit),
                _ids(self._qualities, quality),
                captured,
                repeat(received),
                repeat(source),
            )
        )

    def _chunks(
        self, insert: _Insert, flat: list[object], count: int
    ) -> list[tuple[str, list[object]]]:
        """``count`` rows of ``flat`` as statements of at most ``_max_rows`` rows."""
        head, tail, width = insert
        out: list[tuple[str, list[object]]] = []
        done = 0
        while done < count:
            size = min(self._max_rows, 1 << ((count - done).bit_length() - 1))
            params = flat[done * width : (done + size) * width]
            out.append((_values_sql(head, tail, width, size), params))
            done += size
        return out

    def readings(
        self,
        *,
        meter: str | None = None,
        start: _dt.datetime | None = None,
        end: _dt.datetime | None = None,
        channel: str | None = None,
    ) -> Iterator[Reading]:
        """Stored readings in (meter, channel, start) order, optionally filtered."""
        where, args = self._filter(meter=meter, start=start, end=end, channel=channel)
        with self._lock:
            cursor = self._db.execute(
                "SELECT meter, channel, start, value, unit, quality, captured, received, source"
                f" FROM readings{where} ORDER BY meter, channel, start",
                args,
            )
        while True:
            with self._lock:
                chunk = cursor.fetchmany(2048)
            if not chunk:
                return
            for row in chunk:
                yield self._reading(row)

    @staticmethod
    def _reading(row: Any) -> Reading:
        return Reading(
            meter=row[0],
            channel=row[1],
            start=from_epoch(row[2]),
            value=row[3],
            unit=row[4],
            quality=parse_quality(row[5]),
            captured=_time(row[6]),
            received=_time(row[7]),
            source=ReadingSource(row[8]),
        )

    @staticmethod
    def _filter(
        *,
        meter: str | None,
        start: _dt.datetime | None,
        end: _dt.datetime | None,
        channel: str | None = None,
    ) -> tuple[str, list[object]]:
        clauses: list[str] = []
        args: list[object] = []
        if meter is not None:
            clauses.append("meter = ?")
            args.append(meter)
        if channel is not None:
            clauses.append("channel = ?")
            args.append(channel)
        if start is not None:
            clauses.append("start >= ?")
            args.append(epoch_seconds(start))
        if end is not None:
            clauses.append("start < ?")
            args.append(epoch_seconds(end))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args

    def count_readings(self, *, meter: str | None = None) -> int:
        if meter is None:
            return int(self._select("SELECT count(*) FROM reading_values")[0][0])
        where, args = self._filter(meter=meter, start=None, end=None)
        return int(self._select(f"SELECT count(*) FROM readings{where}", args)[0][0])

    def interval_starts(
        self, meter: str, channel: str, start: _dt.datetime, end: _dt.datetime
    ) -> list[_dt.datetime]:
        """Interval starts stored (not estimated) for one channel in ``[start, end)``."""
        cursor = self._select(
            "SELECT start FROM readings WHERE meter = ? AND channel = ? AND start >= ?"
            f" AND start < ? AND source != {_EST} ORDER BY start",
            (meter, channel, epoch_seconds(start), epoch_seconds(end)),
        )
        return [from_epoch(row[0]) for row in cursor]

    # -- events and sessions -----------------------------------------------------------

    def put_events(self, events: Sequence[MeterEventRecord]) -> None:
        self._transaction(
            "INSERT OR IGNORE INTO events (meter, at, log, code, received) VALUES (?, ?, ?, ?, ?)",
            ((e.meter, epoch_seconds(e.when), e.log, e.code, _stamp(e.received)) for e in events),
        )

    def events(self, *, meter: str | None = None) -> list[MeterEventRecord]:
        where, args = ("", []) if meter is None else (" WHERE meter = ?", [meter])
        cursor = self._select(
            f"SELECT meter, at, log, code, received FROM events{where} ORDER BY meter, at", args
        )
        return [
            MeterEventRecord(
                meter=m, when=from_epoch(at), log=log, code=code, received=_time(received)
            )
            for m, at, log, code, received in cursor
        ]

    def put_sessions(self, sessions: Sequence[SessionRecord]) -> None:
        self._insert(((_SESSION_INSERT, [session_row(s) for s in sessions]),))

    def sessions(self, *, meter: str | None = None) -> list[SessionRecord]:
        where, args = ("", []) if meter is None else (" WHERE meter = ?", [meter])
        cursor = self._select(
            "SELECT meter, kind, started, ended, outcome, rows, clock_deviation, time_synced,"
            f" detail FROM sessions{where} ORDER BY id",
            args,
        )
        return [
            SessionRecord(
                meter=row[0],
                kind=WorkKind(row[1]),
                started=_dt.datetime.fromtimestamp(row[2], _dt.UTC),
                ended=_dt.datetime.fromtimestamp(row[3], _dt.UTC),
                outcome=Outcome(row[4]),
                rows=row[5],
                clock_deviation=row[6],
                time_synced=bool(row[7]),
                detail=row[8],
            )
            for row in cursor
        ]

    # -- gap ledger --------------------------------------------------------------------

    def open_gaps(self, gaps: Iterable[Gap]) -> None:
        self._transaction(
            "INSERT INTO gaps (meter, profile, start, end, state, attempts, next_try, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (meter, profile, start) DO UPDATE SET"
            " end = max(end, excluded.end) WHERE state = 'open'",
            (self._gap_row(g) for g in gaps),
        )

    @staticmethod
    def _gap_row(g: Gap) -> tuple[object, ...]:
        return (
            g.meter,
            g.profile,
            epoch_seconds(g.start),
            epoch_seconds(g.end),
            g.state.value,
            g.attempts,
            _stamp(g.next_try),
            g.detail,
        )

    def replace_gap(self, old: Gap, new: Sequence[Gap]) -> None:
        """Swap one ledger row for its successors, atomically."""
        db = self._db
        rows = [self._gap_row(g) for g in new]
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "DELETE FROM gaps WHERE meter = ? AND profile = ? AND start = ?",
                    (old.meter, old.profile, epoch_seconds(old.start)),
                )
                db.executemany(
                    "INSERT OR REPLACE INTO gaps (meter, profile, start, end, state, attempts,"
                    " next_try, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def update_gap(self, gap: Gap) -> None:
        self.replace_gap(gap, [gap])

    def due_gaps(
        self, now: _dt.datetime, limit: int, *, scope: MeterScope | None = None
    ) -> list[Gap]:
        mine, args = self._scope_clause(scope)
        cursor = self._select(
            "SELECT meter, profile, start, end, state, attempts, next_try, detail FROM gaps"
            " WHERE state = 'open' AND (next_try IS NULL OR next_try <= ?)"
            f" AND NOT (next_try IS NULL AND attempts > 0){mine} ORDER BY start LIMIT ?",
            (epoch_seconds(now), *args, limit),
        )
        return [self._gap(row) for row in cursor]

    @staticmethod
    def _scope_clause(scope: MeterScope | None) -> tuple[str, tuple[object, ...]]:
        """`` AND ...`` conditions on ``meter`` for the gaps of ``scope``, and their
        arguments (listed names as one JSON array each)."""
        if scope is None:
            return "", ()
        clauses: list[str] = []
        args: list[object] = []
        if scope.shard is not None:
            clauses.append("shard_of(meter, ?) = ?")
            args.extend((scope.shard.count, scope.shard.index))
        if scope.only is not None:
            clauses.append("meter IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(sorted(scope.only)))
        if scope.without:
            clauses.append("meter NOT IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(sorted(scope.without)))
        return "".join(f" AND {c}" for c in clauses), tuple(args)

    def gaps(
        self,
        *,
        state: GapState | None = None,
        meter: str | None = None,
        scope: MeterScope | None = None,
    ) -> list[Gap]:
        """Gaps in (meter, profile, start) order; of one state, meter or scope of meters."""
        mine, scoped = self._scope_clause(scope)
        clauses: list[str] = [mine[len(" AND ") :]] if mine else []
        args: list[object] = list(scoped)
        if state is not None:
            clauses.append("state = ?")
            args.append(state.value)
        if meter is not None:
            clauses.append("meter = ?")
            args.append(meter)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        cursor = self._select(
            "SELECT meter, profile, start, end, state, attempts, next_try, detail FROM gaps"
            f"{where} ORDER BY meter, profile, start",
            args,
        )
        return [self._gap(row) for row in cursor]

    @staticmethod
    def _gap(row: tuple[object, ...]) -> Gap:
        meter, profile, start, end, state, attempts, next_try, detail = row
        assert isinstance(start, int) and isinstance(end, int)
        assert isinstance(attempts, int)
        assert next_try is None or isinstance(next_try, int)
        return Gap(
            meter=str(meter),
            profile=str(profile),
            start=from_epoch(start),
            end=from_epoch(end),
            state=GapState(str(state)),
            attempts=attempts,
            next_try=_time(next_try),
            detail=str(detail),
        )

    # -- maintenance -------------------------------------------------------------------

    def integrity_check(self) -> str:
        return str(self._select("PRAGMA integrity_check")[0][0])

    def query(self, sql: str, args: Sequence[object] = ()) -> list[tuple[object, ...]]:
        """A read-only query for reports (``SELECT`` only)."""
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            raise ValueError("query() runs SELECT statements only")
        return [tuple(row) for row in self._select(sql, list(args))]
