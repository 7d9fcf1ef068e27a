"""Ports: what the collection logic needs from storage and work distribution.

The single-node :class:`~hes.Store` implements all of them on SQLite; a distributed
engine (a log for readings, a work queue with leases, a shared gap ledger) implements
the same protocols and the scheduler, sessions and push reception do not change.
Every write method is *acknowledging*: when it returns, the data is durable.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol, runtime_checkable

from hes._gapledger import Gap
from hes._model import (
    GapState,
    MeterEventRecord,
    Reading,
    SessionRecord,
    WorkItem,
)
from hes._shards import MeterScope

__all__ = [
    "EventSink",
    "Gap",
    "GapLedger",
    "InboundQueue",
    "ReadingsSink",
    "ReadingsSource",
    "SessionLog",
    "WorkSource",
]


@runtime_checkable
class ReadingsSink(Protocol):
    """Where readings go; idempotent by (meter, channel, interval start)."""

    def put_readings(self, readings: Sequence[Reading]) -> None:
        """Store durably; a second put of the same key never duplicates it."""
        ...


@runtime_checkable
class ReadingsSource(Protocol):
    """Readings for export and checks."""

    def readings(
        self,
        *,
        meter: str | None = None,
        start: _dt.datetime | None = None,
        end: _dt.datetime | None = None,
    ) -> Iterator[Reading]: ...


@runtime_checkable
class EventSink(Protocol):
    def put_events(self, events: Sequence[MeterEventRecord]) -> None: ...


@runtime_checkable
class SessionLog(Protocol):
    def put_sessions(self, sessions: Sequence[SessionRecord]) -> None: ...


@runtime_checkable
class GapLedger(Protocol):
    """Missing intervals per (meter, profile) and their back-read attempts."""

    def open_gaps(self, gaps: Iterable[Gap]) -> None:
        """Record gaps (idempotent by meter, profile and start)."""
        ...

    def due_gaps(
        self, now: _dt.datetime, limit: int, *, scope: MeterScope | None = None
    ) -> list[Gap]:
        """Open gaps whose next attempt is due, oldest first (of the meters of
        ``scope`` only, when given)."""
        ...

    def update_gap(self, gap: Gap) -> None:
        """Replace the ledger row of ``gap`` (same key), e.g. after an attempt."""
        ...

    def gaps(
        self, *, state: GapState | None = None, scope: MeterScope | None = None
    ) -> list[Gap]: ...


@runtime_checkable
class WorkSource(Protocol):
    """Sessions to run. A single node computes them from its schedule; a cluster hands
    them out with leases."""

    def due(self, now: _dt.datetime, limit: int) -> list[WorkItem]: ...

    def done(self, item: WorkItem, *, ok: bool) -> None:
        """The session ran; a failed item may come back later."""
        ...


@runtime_checkable
class InboundQueue(Protocol):
    """Reads waiting for meters that only they can open a link to (behind NAT), by
    meter; durable like every port: what was put before a restart is still there."""

    def put(self, item: WorkItem) -> None:
        """Queue ``item`` (idempotent by meter, kind and range)."""
        ...

    def items(self, meter: str) -> list[WorkItem]:
        """What waits for ``meter``, oldest first."""
        ...

    def remove(self, item: WorkItem) -> None:
        """Take ``item`` off the queue; called once its session is committed."""
        ...

    def count(self, meter: str | None = None) -> int: ...

    def meters(self) -> list[str]:
        """Meters with something queued."""
        ...
