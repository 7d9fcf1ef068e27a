"""The command line's collection in one process per shard (``dlmskit-hes run
--processes N``), and the invocation counters every run of a store shares.

Each process loads the inventory, keeps its shard's meters (:meth:`Inventory.sharded`)
and runs a schedule and a head-end over them into the common store; the session limits
(concurrency, per-cluster limit, start rate) are shared out among the processes, so the
fleet sees the same load as from one process.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from pathlib import Path

import attrs
import trio

from dlmskit.client import Association
from dlmskit.security import FileCounterStore, KeyId
from hes._counters import SqliteCounterStore
from hes._engine import CollectionConfig, HeadEnd, day_range
from hes._inventory import Inventory
from hes._metrics import Metrics
from hes._metrics_board import MetricsBoard, publish_metrics
from hes._rounds import run_schedule
from hes._schedule import Schedule
from hes._session import FieldConnector
from hes._shards import Shard
from hes._store import Store

__all__ = ["ShardCollection", "open_counters"]


def open_counters(db: Path, reader: Association) -> SqliteCounterStore:
    """The invocation counters of the store ``db``: ``<db>.counters.db``, which every
    collection process of the store draws blocks from. Counters an older run kept in
    ``<db>.counters.json`` are taken over (never gone back on)."""
    counters = SqliteCounterStore(db.with_suffix(".counters.db"))
    old = db.with_suffix(".counters.json")
    if old.exists():
        kept = FileCounterStore(old)
        for key in KeyId:
            pair = (reader.system_title, int(key))
            if kept.peek(*pair) > counters.peek(*pair):
                counters.reset(*pair, kept.peek(*pair))
    return counters


def _share(limit: int, count: int) -> int:
    return max(1, limit // count)


@attrs.frozen(kw_only=True)
class ShardCollection:
    """One day's collection of one shard's meters (picklable: :func:`run_processes`
    sends it to each process). Returns (sessions run, readings stored)."""

    inventory: Path
    db: Path
    day: _dt.date
    concurrency: int
    cluster_limit: int
    start_rate: float
    deadline: float
    without: frozenset[str] = frozenset()
    """Meters another process looks after (e.g. those behind NAT, served where their links
    arrive): left out of the shard, their gaps too."""
    metrics_board: Path | None = None
    """Where the process publishes its metrics every few seconds (:class:`MetricsBoard`),
    for the process serving ``/metrics``."""

    def __call__(self, shard: Shard) -> tuple[int, int]:
        inventory = Inventory.load(self.inventory).sharded(shard).without(self.without)
        config = CollectionConfig(
            concurrency=_share(self.concurrency, shard.count),
            cluster_limit=_share(self.cluster_limit, shard.count),
            start_rate=self.start_rate / shard.count,
        )
        return trio.run(self._collect, inventory, config)

    async def _collect(self, inventory: Inventory, config: CollectionConfig) -> tuple[int, int]:
        metrics = Metrics()
        start, end = day_range(self.day, config.zone)
        reader = Association.meter_reader()
        with (
            Store(self.db) as store,
            open_counters(self.db, reader) as counters,
            contextlib.ExitStack() as stack,
        ):
            schedule = Schedule(inventory, store, policy=config.back_reads)
            async with FieldConnector() as connector, trio.open_nursery() as nursery:
                if self.metrics_board is not None:
                    board = stack.enter_context(MetricsBoard(self.metrics_board))
                    process = f"shard {inventory.shard or Shard(0, 1)}"
                    nursery.start_soon(publish_metrics, board, process, metrics)
                head_end = HeadEnd(
                    inventory,
                    store,
                    connector=connector,
                    counters=counters,
                    config=config,
                    metrics=metrics,
                )
                schedule.add_round(start, end)
                await run_schedule(head_end, schedule, deadline=self.deadline)
                nursery.cancel_scope.cancel()  # the last snapshot is published on the way out
        return sum(metrics.sessions.values()), metrics.readings
