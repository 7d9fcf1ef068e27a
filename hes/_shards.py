"""Meters split into shards, and collection run in one process per shard.

A head-end process is bound by one core: its trio thread runs every session's protocol
work and the rows' validation. :func:`run_processes` runs a callable in one process per
shard (a fresh interpreter each, ``spawn``), so collection uses every core; each process
owns the meters :func:`shard_of` gives its shard, runs its own :class:`~hes.HeadEnd` over
:meth:`Inventory.sharded` and writes to the same SQLite store (WAL: one writer at a
time, the others wait on its lock). A meter always falls in the same shard for a given
count (CRC-32 of its name), so its sessions never overlap and its invocation counters
arrive in order; counters shared across processes come from a store every process
reserves blocks of, :class:`~hes.SqliteCounterStore`.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import traceback
import zlib
from collections.abc import Callable
from typing import Generic, TypeVar, cast

import attrs
import trio

__all__ = ["MeterScope", "Shard", "ShardFailed", "run_processes", "shard_of"]

_T = TypeVar("_T")


def shard_of(meter: str, count: int) -> int:
    """The shard of ``meter`` among ``count``: CRC-32 of its UTF-8 name, modulo ``count``
    (the same in every process and every run)."""
    if count < 1:
        raise ValueError("a shard count is at least 1")
    return zlib.crc32(meter.encode("utf-8")) % count


@attrs.frozen
class Shard:
    """Shard ``index`` of ``count``."""

    index: int
    count: int

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count}: index out of range")

    def owns(self, meter: str) -> bool:
        return shard_of(meter, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index + 1}/{self.count}"


@attrs.frozen
class MeterScope:
    """Which of the fleet's meters a process looks after: those of ``shard`` (all without
    one), only those listed in ``only`` (when given), less those in ``without``. A store
    picks the gaps of a scope in SQL (:meth:`Store.due_gaps`), so a process is never
    handed, nor kept waiting by, another process's back-reads."""

    shard: Shard | None = None
    only: frozenset[str] | None = None
    without: frozenset[str] = frozenset()

    @property
    def whole(self) -> bool:
        """Whether the scope is the whole fleet."""
        return self.shard is None and self.only is None and not self.without

    def owns(self, meter: str) -> bool:
        return (
            (self.shard is None or self.shard.owns(meter))
            and (self.only is None or meter in self.only)
            and meter not in self.without
        )


class ShardFailed(RuntimeError):
    """The process of a shard raised or died; its traceback text is in the message."""

    def __init__(self, shard: Shard, detail: str) -> None:
        self.shard = shard
        self.detail = detail
        super().__init__(f"shard {shard}: {detail}")


@attrs.frozen
class _Outcome(Generic[_T]):
    value: _T | None
    error: str | None


def _child(
    target: Callable[[Shard], object], shard: Shard, out: multiprocessing.connection.Connection
) -> None:
    try:
        result: _Outcome[object] = _Outcome(target(shard), None)
    except BaseException as exc:  # reported to the parent, which raises ShardFailed
        text = "".join(traceback.format_exception(exc)).rstrip()
        result = _Outcome(None, text)
    try:
        out.send(result)
    finally:
        out.close()


async def run_processes(target: Callable[[Shard], _T], count: int) -> list[_T]:
    """``target(Shard(i, count))`` for each ``i``, each in a process of its own; their
    results in shard order.

    ``target`` and what it returns must pickle (a module-level function, or a
    :func:`functools.partial` of one). A shard that raises or dies fails the call with
    :class:`ShardFailed` once every process has ended; a cancelled call terminates the
    processes it started.
    """
    if count < 1:
        raise ValueError("a shard count is at least 1")
    context = multiprocessing.get_context("spawn")
    started: list[tuple[multiprocessing.process.BaseProcess, multiprocessing.connection.Connection]]
    started = []
    results: list[_Outcome[_T] | None] = [None] * count
    try:
        for index in range(count):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_child,
                args=(target, Shard(index, count), send),
                name=f"shard-{index + 1}-of-{count}",
                daemon=True,
            )
            process.start()
            send.close()
            started.append((process, receive))

        async def wait(index: int) -> None:
            process, receive = started[index]
            await trio.lowlevel.wait_readable(receive.fileno())
            try:
                results[index] = receive.recv()
            except EOFError:
                results[index] = None
            await trio.to_thread.run_sync(process.join)

        async with trio.open_nursery() as nursery:
            for index in range(count):
                nursery.start_soon(wait, index)
    finally:
        for child, pipe in started:
            if child.is_alive():
                child.terminate()
                child.join()
            pipe.close()
    out: list[_T] = []
    for index, (outcome, (ended, _pipe)) in enumerate(zip(results, started, strict=True)):
        shard = Shard(index, count)
        if outcome is None:
            raise ShardFailed(shard, f"process ended with exit code {ended.exitcode}")
        if outcome.error is not None:
            raise ShardFailed(shard, outcome.error)
        out.append(cast(_T, outcome.value))
    return out
