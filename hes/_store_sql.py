"""The store's SQL: the schema (version 3), the reading upsert, multi-row inserts,
the row forms readings and sessions take on their way in, the version check and the
dictionaries of names, units and quality texts. :class:`~hes.Store` runs them."""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from hes._model import (
    Reading,
    ReadingSource,
    SessionRecord,
    epoch_seconds,
)
from hes._quality import Quality, quality_text

__all__ = [
    "SCHEMA_VERSION",
    "ReadingRow",
    "ReadingRun",
    "SessionRow",
    "StoreVersionError",
    "reading_row",
    "session_row",
]

#: ``PRAGMA user_version`` of the schema below. Version 1 (no version set) kept the meter
#: and channel names in every reading row, version 2 the unit and quality texts; both
#: are refused, not read.
SCHEMA_VERSION = 3

# Readings are kept by meter, channel, unit and quality id (``meters``, ``channels``,
# ``units`` and ``qualities`` give the texts): a row is about half the size it is with
# the texts in it, an integer binds in a third of the time a text takes, and the B-tree
# work per row is that much less. The ``readings`` view shows them with their texts, in
# the (meter, channel, start) order of the key, for reports and :meth:`Store.query`.
# ``qualities.duplicate`` is the id of the text the upsert gives a row of that quality
# read again with another value, so the upsert needs no text operations.
_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS meters (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS channels (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS units (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS qualities (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE,
    duplicate INTEGER
);
CREATE TABLE IF NOT EXISTS reading_values (
    meter INTEGER NOT NULL,
    channel INTEGER NOT NULL,
    start INTEGER NOT NULL,
    value REAL,
    unit INTEGER NOT NULL,
    quality INTEGER NOT NULL,
    captured INTEGER,
    received INTEGER,
    source INTEGER NOT NULL,
    PRIMARY KEY (meter, channel, start)
) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS readings AS
SELECT m.name AS meter, c.name AS channel, r.start AS start, r.value AS value,
    u.name AS unit, q.text AS quality, r.captured AS captured, r.received AS received,
    r.source AS source
FROM meters AS m CROSS JOIN channels AS c CROSS JOIN reading_values AS r
    ON r.meter = m.id AND r.channel = c.id
LEFT JOIN units AS u ON u.id = r.unit
LEFT JOIN qualities AS q ON q.id = r.quality;
CREATE TABLE IF NOT EXISTS events (
    meter TEXT NOT NULL,
    at INTEGER NOT NULL,
    log INTEGER NOT NULL,
    code INTEGER NOT NULL,
    received INTEGER,
    PRIMARY KEY (meter, at, log, code)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    meter TEXT NOT NULL,
    kind TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL NOT NULL,
    outcome TEXT NOT NULL,
    rows INTEGER NOT NULL,
    clock_deviation REAL,
    time_synced INTEGER NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_meter ON sessions (meter, started);
CREATE TABLE IF NOT EXISTS gaps (
    meter TEXT NOT NULL,
    profile TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_try INTEGER,
    detail TEXT NOT NULL,
    PRIMARY KEY (meter, profile, start)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gaps_due ON gaps (state, next_try);
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
"""

_DUP = Quality.DUPLICATE.value
_VALID = Quality.VALID.value
_EST = int(ReadingSource.ESTIMATE)


def flagged_duplicate(quality: str) -> str:
    """The quality text of a row of ``quality`` read again with another value: the
    duplicate flag added, once."""
    if _DUP in quality:
        return quality
    return _DUP if quality == _VALID else f"{quality} {_DUP}"


# On a key already stored: an estimate gives way to a real read (or a newer estimate);
# an estimate never touches a real read; the same value changes nothing; another value
# keeps the first one and flags the row duplicate (flagged_duplicate of its quality).
_READINGS = (
    "INSERT INTO reading_values (meter, channel, start, value, unit, quality, captured, received,"
    " source) VALUES "
)
_UPSERT_CLAUSE = f"""
ON CONFLICT (meter, channel, start) DO UPDATE SET
    value = CASE WHEN source = {_EST} THEN excluded.value ELSE value END,
    unit = CASE WHEN source = {_EST} THEN excluded.unit ELSE unit END,
    captured = CASE WHEN source = {_EST} THEN excluded.captured ELSE captured END,
    received = CASE WHEN source = {_EST} THEN excluded.received ELSE received END,
    quality = CASE
        WHEN source = {_EST} THEN excluded.quality
        WHEN value IS excluded.value THEN quality
        ELSE (SELECT q.duplicate FROM qualities AS q WHERE q.id = reading_values.quality)
        END,
    source = CASE WHEN source = {_EST} THEN excluded.source ELSE source END
WHERE (source = {_EST} OR value IS NOT excluded.value)
    AND (excluded.source != {_EST} OR source = {_EST})
"""
_UPSERT = _READINGS + "(?, ?, ?, ?, ?, ?, ?, ?, ?)" + _UPSERT_CLAUSE
_PAGE_SIZES = frozenset(1 << n for n in range(9, 17))
#: Rows per multi-row INSERT at most (fewer where SQLite allows fewer parameters). The
#: GIL is held while a statement's ids are mapped and its parameters bound, about 0.4 ms
#: for 1024 rows, stalling the other threads; larger statements cost no less CPU a row.
_MAX_ROWS = 1024


@functools.lru_cache(maxsize=64)
def _values_sql(head: str, tail: str, width: int, rows: int) -> str:
    """``head`` with ``rows`` parameter tuples of ``width`` in its VALUES, then ``tail``."""
    one = "(" + ", ".join("?" * width) + ")"
    return head + ", ".join([one] * rows) + tail


#: One reading as the store keeps it: (meter, channel, interval start in epoch seconds,
#: value, unit, quality text, captured and received in epoch seconds, source).
ReadingRow = tuple[str, str, int, float | None, str, str, int | None, int | None, int]


#: One meter's readings of one channel as columns (a run), the fields of
#: :data:`ReadingRow` in the same order: meter, channel, interval starts, values, the unit
#: (one for every reading, or one each), the quality text (likewise), captured times,
#: then received and source for every reading. Stored as the rows it stands for, in order,
#: without a tuple a reading on the way.
ReadingRun = tuple[
    str,
    str,
    Sequence[int],
    Sequence[float | None],
    str | Sequence[str],
    str | Sequence[str],
    Sequence[int | None],
    int | None,
    int,
]


def _run_length(run: ReadingRun) -> int:
    """Readings in ``run``, its columns checked to have one value a reading."""
    if len(run) != 9:
        raise ValueError("every run must have 9 fields")
    count = len(run[2])
    shared = (run[4], run[5])
    columns = [run[3], run[6], *(c for c in shared if not isinstance(c, str))]
    if any(len(column) != count for column in columns):
        raise ValueError("every column of a run must have one value an interval start")
    return count


def reading_row(reading: Reading) -> ReadingRow:
    """The row :meth:`Store.put_readings` stores for ``reading``."""
    return (
        reading.meter,
        reading.channel,
        epoch_seconds(reading.start),
        reading.value,
        reading.unit,
        quality_text(reading.quality),
        _stamp(reading.captured),
        _stamp(reading.received),
        int(reading.source),
    )


def _stamp(when: _dt.datetime | None) -> int | None:
    return None if when is None else epoch_seconds(when)


def _reading_rows(readings: Sequence[Reading]) -> Iterator[ReadingRow]:
    """Rows for _UPSERT. Readings of one interval share their time stamps and quality
    flags, so the last conversion of each is kept and reused when the next reading holds
    the same object."""
    last_start: _dt.datetime | None = None
    start_seconds = 0
    last_captured: _dt.datetime | None = None
    captured_seconds: int | None = None
    last_received: _dt.datetime | None = None
    received_seconds: int | None = None
    last_quality: frozenset[Quality] | None = None
    quality = ""
    for r in readings:
        if r.quality is not last_quality:
            last_quality = r.quality
            quality = quality_text(last_quality)
        if r.start is not last_start:
            last_start = r.start
            start_seconds = epoch_seconds(last_start)
        if r.captured is not last_captured:
            last_captured = r.captured
            captured_seconds = _stamp(last_captured)
        if r.received is not last_received:
            last_received = r.received
            received_seconds = _stamp(last_received)
        yield (
            r.meter,
            r.channel,
            start_seconds,
            r.value,
            r.unit,
            quality,
            captured_seconds,
            received_seconds,
            int(r.source),
        )


_SESSIONS = (
    "INSERT INTO sessions (meter, kind, started, ended, outcome, rows, clock_deviation,"
    " time_synced, detail) VALUES "
)
#: Per multi-row table: the INSERT up to VALUES, what follows the rows, the row width.
_Insert = tuple[str, str, int]
_READING_INSERT: _Insert = (_READINGS, _UPSERT_CLAUSE, 9)
_SESSION_INSERT: _Insert = (_SESSIONS, "", 9)


#: One session as the store keeps it: (meter, kind, started and ended in epoch seconds,
#: outcome, rows, clock deviation, time synced as 0/1, detail).
SessionRow = tuple[str, str, float, float, str, int, float | None, int, str]


def session_row(s: SessionRecord) -> SessionRow:
    """The row :meth:`Store.put_sessions` stores for ``s``."""
    started = s.started.timestamp()
    return (
        s.meter,
        s.kind.value,
        started,
        started if s.ended is s.started else s.ended.timestamp(),
        s.outcome.value,
        s.rows,
        s.clock_deviation,
        int(s.time_synced),
        s.detail,
    )


def _flat(rows: Sequence[tuple[object, ...]]) -> list[object]:
    return list(itertools.chain.from_iterable(rows))


class StoreVersionError(sqlite3.DatabaseError):
    """The file holds a store of another schema version (``PRAGMA user_version``)."""


def wal_mode(db: sqlite3.Connection, path: object, timeout: float = 30.0) -> None:
    """Put ``db``'s file in WAL mode. Processes creating the same file at once take a
    lock SQLite's busy timeout does not wait for on this switch, so it is tried again
    (for up to ``timeout`` seconds) while the file is locked."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            break
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(2 * delay, 0.05)
    if str(mode).lower() != "wal":
        raise OSError(f"{path}: WAL mode refused ({mode})")


def _check_version(db: sqlite3.Connection, path: Path) -> None:
    """Refuse a file of another schema version rather than misread it."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version == 0:
        old = db.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'readings'"
        ).fetchone()[0]
        version = 1 if old else SCHEMA_VERSION
    if version != SCHEMA_VERSION:
        raise StoreVersionError(
            f"{path}: store schema version {version}; this head-end reads version"
            f" {SCHEMA_VERSION} only (export the readings with the version that wrote them)"
        )


class _Names(dict[object, int]):
    """Ids of the names in a dictionary table (``meters``, ``channels``, ``units``).
    Looking up a name not added yet raises :class:`KeyError`; :meth:`add` adds names."""

    def __init__(self, db: sqlite3.Connection, table: str) -> None:
        super().__init__()
        self._db = db
        self._head = f"INSERT INTO {table} (name) VALUES "
        self._tail = " ON CONFLICT (name) DO NOTHING RETURNING name, id"
        self._find = f"SELECT id FROM {table} WHERE name = ?"

    def add(self, names: Iterable[object]) -> None:
        """Add the names not known yet, in the caller's transaction: one statement for
        all of them (its size a power of two, the last name repeated, so a few sizes
        are prepared), then a look-up of each one another connection added first."""
        new = [name for name in dict.fromkeys(names) if name not in self]
        if not new:
            return
        size = 1 << (len(new) - 1).bit_length()
        padded = new + new[-1:] * (size - len(new))
        sql = _values_sql(self._head, self._tail, 1, size)
        added = dict(self._db.execute(sql, padded).fetchall())
        for name in new:
            found = added.get(name)
            if found is None:
                found = self._db.execute(self._find, (name,)).fetchall()[0][0]
            self[name] = int(found)


class _Qualities(_Names):
    """Ids of quality texts; a text is added with the one the upsert gives it when it
    flags a duplicate (:func:`flagged_duplicate`), in the caller's transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        super().__init__(db, "qualities")
        self._find = "SELECT id, duplicate FROM qualities WHERE text = ?"

    def add(self, names: Iterable[object]) -> None:
        for text in dict.fromkeys(names):
            if text not in self:
                self._add_one(text)

    def _add_one(self, text: object) -> int:
        flagged = flagged_duplicate(str(text))
        duplicate = None
        if flagged != text:
            duplicate = self[flagged] if flagged in self else self._add_one(flagged)
        self._db.execute(
            "INSERT INTO qualities (text) VALUES (?) ON CONFLICT (text) DO NOTHING", (text,)
        )
        found, stored = self._db.execute(self._find, (text,)).fetchone()
        if stored is None:
            self._db.execute(
                "UPDATE qualities SET duplicate = ? WHERE id = ?",
                (found if duplicate is None else duplicate, found),
            )
        self[text] = int(found)
        return int(found)
