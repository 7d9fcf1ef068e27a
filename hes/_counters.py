"""Invocation counters several head-end processes share: blocks reserved in SQLite.

Every ciphered APDU a head-end sends carries its invocation counter for the key in use,
and a meter refuses one that is not above the last it accepted. A head-end running one
process per shard (:func:`~hes.run_processes`) has several senders drawing on the same
counters: each process reserves a block of ``reserve`` values in one short transaction
(the file keeps the first value nobody has reserved), then hands the block out from
memory. Values are never handed out twice, in one process or across processes and
restarts; a process that stops leaves the rest of its block unused (at most ``reserve``
values per process and run, out of 2**32). A meter belongs to one shard, so it sees the
values of one process, rising.
"""

from __future__ import annotations

import os
import sqlite3
import threading

from dlmskit.security import MAX_INVOCATION_COUNTER, InvocationCounterExhausted
from hes._store_sql import wal_mode

__all__ = ["SqliteCounterStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS invocation_counters (
    system_title BLOB NOT NULL,
    key_id INTEGER NOT NULL,
    next INTEGER NOT NULL,
    PRIMARY KEY (system_title, key_id)
) WITHOUT ROWID
"""


class SqliteCounterStore:
    """Implements :class:`~dlmskit.security.InvocationCounterStore` in a SQLite file
    (a table ``invocation_counters``; it may be the head-end store's own file) that any
    number of processes use at once."""

    def __init__(self, path: str | os.PathLike[str], *, reserve: int = 10_000) -> None:
        if reserve < 1:
            raise ValueError("reserve must be at least 1")
        self.path = os.fspath(path)
        self._reserve = reserve
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        try:
            wal_mode(self._db, self.path)
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
        except BaseException:
            self._db.close()
            raise
        self._lock = threading.Lock()
        self._next: dict[tuple[bytes, int], int] = {}
        self._limit: dict[tuple[bytes, int], int] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteCounterStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stored(self, pair: tuple[bytes, int]) -> int:
        row = self._db.execute(
            "SELECT next FROM invocation_counters WHERE system_title = ? AND key_id = ?", pair
        ).fetchone()
        return 0 if row is None else int(row[0])

    def _write(self, pair: tuple[bytes, int], value: int) -> None:
        self._db.execute(
            "INSERT INTO invocation_counters (system_title, key_id, next) VALUES (?, ?, ?)"
            " ON CONFLICT (system_title, key_id) DO UPDATE SET next = excluded.next",
            (*pair, value),
        )

    def _reserve_block(self, pair: tuple[bytes, int]) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            first = self._stored(pair)
            if first > MAX_INVOCATION_COUNTER:
                raise InvocationCounterExhausted(system_title=pair[0], key_id=pair[1])
            limit = min(first + self._reserve, MAX_INVOCATION_COUNTER + 1)
            self._write(pair, limit)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        self._next[pair] = first
        self._limit[pair] = limit

    def next(self, system_title: bytes, key_id: int) -> int:
        pair = (bytes(system_title), int(key_id))
        with self._lock:
            value = self._next.get(pair)
            if value is None or value >= self._limit[pair]:
                self._reserve_block(pair)
                value = self._next[pair]
            self._next[pair] = value + 1
            return value

    def peek(self, system_title: bytes, key_id: int) -> int:
        """The value the next call to :meth:`next` returns (without advancing)."""
        pair = (bytes(system_title), int(key_id))
        with self._lock:
            value = self._next.get(pair)
            if value is not None and value < self._limit[pair]:
                return value
            return self._stored(pair)

    def reset(self, system_title: bytes, key_id: int, value: int = 0) -> None:
        """Restart the pair's counter at ``value`` (after its key was changed). Other
        processes keep the blocks they hold: change keys while one process runs."""
        if not 0 <= value <= MAX_INVOCATION_COUNTER + 1:
            raise ValueError(f"invocation counter {value} out of range 0..2**32")
        pair = (bytes(system_title), int(key_id))
        with self._lock:
            self._write(pair, value)
            self._next[pair] = value
            self._limit[pair] = value

    def persist(self) -> None:
        """Nothing to do: every reservation is committed when it is made."""
        return None
