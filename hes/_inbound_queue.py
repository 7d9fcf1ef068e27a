"""Reads waiting for a meter to call: the :class:`~hes.InboundQueue` port's two
implementations.

A meter behind carrier-grade NAT cannot be dialled; what the head-end wants of it waits
until the meter opens a link. :class:`MemoryInboundQueue` keeps that in a process;
:class:`SqliteInboundQueue` keeps it in its own table (``inbound_queue``) of an SQLite
file in WAL mode, through its own connection, so it can share the store's file and a
restarted head-end still runs every read queued before it stopped. An item leaves the
queue only when :meth:`remove` is called after its session was committed: a crash in
between runs it again (the store's upserts make that harmless), never loses it.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
import threading
from pathlib import Path
from typing import Literal

from hes._model import WorkItem, WorkKind, utc
from hes._store_sql import wal_mode

__all__ = ["MemoryInboundQueue", "SqliteInboundQueue"]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_MICROSECOND = _dt.timedelta(microseconds=1)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbound_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meter TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_us INTEGER NOT NULL,
    end_us INTEGER NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    UNIQUE (meter, kind, start_us, end_us)
);
CREATE INDEX IF NOT EXISTS inbound_queue_meter ON inbound_queue (meter, id);
"""


def _key(item: WorkItem) -> tuple[str, WorkKind, _dt.datetime, _dt.datetime]:
    return (item.meter, item.kind, item.start, item.end)


class MemoryInboundQueue:
    """:class:`~hes.InboundQueue` in memory: lost when the process ends."""

    def __init__(self) -> None:
        self._items: dict[str, dict[tuple[str, WorkKind, _dt.datetime, _dt.datetime], WorkItem]]
        self._items = {}
        self._lock = threading.Lock()

    def put(self, item: WorkItem) -> None:
        with self._lock:
            self._items.setdefault(item.meter, {}).setdefault(_key(item), item)

    def items(self, meter: str) -> list[WorkItem]:
        with self._lock:
            return list(self._items.get(meter, {}).values())

    def remove(self, item: WorkItem) -> None:
        with self._lock:
            queued = self._items.get(item.meter)
            if queued is not None:
                queued.pop(_key(item), None)
                if not queued:
                    del self._items[item.meter]

    def count(self, meter: str | None = None) -> int:
        with self._lock:
            if meter is not None:
                return len(self._items.get(meter, {}))
            return sum(len(v) for v in self._items.values())

    def meters(self) -> list[str]:
        with self._lock:
            return sorted(self._items)


def _us(when: _dt.datetime) -> int:
    return (utc(when) - _EPOCH) // _MICROSECOND


def _when(us: int) -> _dt.datetime:
    return _EPOCH + us * _MICROSECOND


class SqliteInboundQueue:
    """:class:`~hes.InboundQueue` in the ``inbound_queue`` table of an SQLite file (WAL
    mode, its own connection; the file may be the :class:`~hes.Store`'s). Each write is
    one committed transaction: acknowledged when the call returns."""

    def __init__(
        self, path: str | Path, *, synchronous: Literal["FULL", "NORMAL"] = "FULL"
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous is FULL or NORMAL")
        self.path = Path(path)
        self._db = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        try:
            wal_mode(self._db, self.path)
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.executescript(_SCHEMA)
        except BaseException:
            self._db.close()
            raise
        self._lock = threading.Lock()

    def put(self, item: WorkItem) -> None:
        """Queue ``item`` (a second put of the same meter, kind and range is ignored)."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO inbound_queue (meter, kind, start_us, end_us, attempt) "
                "VALUES (?, ?, ?, ?, ?)",
                (item.meter, item.kind.value, _us(item.start), _us(item.end), item.attempt),
            )

    def items(self, meter: str) -> list[WorkItem]:
        """The items queued for ``meter``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, start_us, end_us, attempt FROM inbound_queue "
                "WHERE meter = ? ORDER BY id",
                (meter,),
            ).fetchall()
        return [
            WorkItem(
                meter=meter,
                kind=WorkKind(kind),
                start=_when(start),
                end=_when(end),
                attempt=attempt,
            )
            for kind, start, end, attempt in rows
        ]

    def remove(self, item: WorkItem) -> None:
        """Take ``item`` off the queue (after its session was committed)."""
        with self._lock:
            self._db.execute(
                "DELETE FROM inbound_queue WHERE meter = ? AND kind = ? AND start_us = ? "
                "AND end_us = ?",
                (item.meter, item.kind.value, _us(item.start), _us(item.end)),
            )

    def count(self, meter: str | None = None) -> int:
        with self._lock:
            if meter is None:
                row = self._db.execute("SELECT COUNT(*) FROM inbound_queue").fetchone()
            else:
                row = self._db.execute(
                    "SELECT COUNT(*) FROM inbound_queue WHERE meter = ?", (meter,)
                ).fetchone()
        return int(row[0])

    def meters(self) -> list[str]:
        """Meters with at least one queued item."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT meter FROM inbound_queue ORDER BY meter"
            ).fetchall()
        return [str(r[0]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteInboundQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
