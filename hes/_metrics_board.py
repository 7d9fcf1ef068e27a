"""Metrics of a head-end running in several processes, served as one.

Each collection process (:func:`~hes.run_processes`) keeps its own :class:`Metrics`;
:func:`publish_metrics` writes a snapshot of them to a small SQLite table every few
seconds (and once more when it stops), and the process serving ``/metrics`` shows its
own metrics plus every snapshot, :func:`merge_metrics` (counters and the latency histogram
summed, queue depth and sessions in progress summed, lag the largest).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable

import trio

from hes._metrics import Metrics
from hes._store_sql import wal_mode

__all__ = ["MetricsBoard", "merge_metrics", "publish_metrics"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS metric_snapshots (
    process TEXT PRIMARY KEY,
    at REAL NOT NULL,
    body TEXT NOT NULL
)
"""


def _encode(metrics: Metrics) -> str:
    return json.dumps(
        {
            "sessions": [[k, o, n] for (k, o), n in metrics.sessions.items()],
            "readings": metrics.readings,
            "pushes": dict(metrics.pushes),
            "flags": dict(metrics.flags),
            "queue_depth": metrics.queue_depth,
            "active": metrics.active,
            "max_queue_depth": metrics.max_queue_depth,
            "lag_seconds": metrics.lag_seconds,
            "latency_buckets": metrics.latency_buckets,
            "latency_sum": metrics.latency_sum,
            "latency_count": metrics.latency_count,
        }
    )


def _decode(text: str) -> Metrics:
    data = json.loads(text)
    return Metrics(
        sessions=Counter({(str(k), str(o)): int(n) for k, o, n in data["sessions"]}),
        readings=int(data["readings"]),
        pushes=Counter({str(k): int(v) for k, v in data["pushes"].items()}),
        flags=Counter({str(k): int(v) for k, v in data["flags"].items()}),
        queue_depth=int(data["queue_depth"]),
        active=int(data["active"]),
        max_queue_depth=int(data["max_queue_depth"]),
        lag_seconds=float(data["lag_seconds"]),
        latency_buckets=[int(n) for n in data["latency_buckets"]],
        latency_sum=float(data["latency_sum"]),
        latency_count=int(data["latency_count"]),
    )


def merge_metrics(parts: Iterable[Metrics]) -> Metrics:
    """One :class:`Metrics` for several processes: counters, histogram and the gauges of
    work in hand summed, the largest lag and queue depth peak."""
    out = Metrics()
    for part in parts:
        out.sessions.update(part.sessions)
        out.readings += part.readings
        out.pushes.update(part.pushes)
        out.flags.update(part.flags)
        out.queue_depth += part.queue_depth
        out.active += part.active
        out.max_queue_depth = max(out.max_queue_depth, part.max_queue_depth)
        out.lag_seconds = max(out.lag_seconds, part.lag_seconds)
        out.latency_buckets = [
            a + b for a, b in zip(out.latency_buckets, part.latency_buckets, strict=True)
        ]
        out.latency_sum += part.latency_sum
        out.latency_count += part.latency_count
    return out


class MetricsBoard:
    """Snapshots of processes' metrics in a SQLite file (a table ``metric_snapshots``;
    it may be the store's own file), one row per process."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        try:
            wal_mode(self._db, self.path)
            self._db.execute(_SCHEMA)
        except BaseException:
            self._db.close()
            raise
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> MetricsBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def publish(self, process: str, metrics: Metrics) -> None:
        """Replace ``process``'s snapshot with ``metrics`` as they are now."""
        self._write(process, _encode(metrics))

    def _write(self, process: str, body: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO metric_snapshots (process, at, body) VALUES (?, ?, ?)"
                " ON CONFLICT (process) DO UPDATE SET at = excluded.at, body = excluded.body",
                (process, time.time(), body),
            )

    def snapshots(self) -> dict[str, Metrics]:
        with self._lock:
            rows = self._db.execute("SELECT process, body FROM metric_snapshots").fetchall()
        return {str(process): _decode(str(body)) for process, body in rows}

    def clear(self) -> None:
        """Forget every snapshot (a new run starts)."""
        with self._lock:
            self._db.execute("DELETE FROM metric_snapshots")

    def merged_with(self, own: Metrics) -> Metrics:
        """``own`` and every snapshot, as one."""
        return merge_metrics([own, *self.snapshots().values()])


async def publish_metrics(
    board: MetricsBoard, process: str, metrics: Metrics, *, every: float = 2.0
) -> None:
    """Publish ``metrics`` as ``process`` every ``every`` seconds until cancelled, and
    once more then (the final counts)."""
    try:
        while True:
            # taken on the trio thread, which updates the metrics; written off it
            await trio.to_thread.run_sync(board._write, process, _encode(metrics))
            await trio.sleep(every)
    finally:
        board.publish(process, metrics)
