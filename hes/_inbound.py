"""Meter-initiated connections (GPRS meters behind carrier-grade NAT, wake-up calls).

The meter dials the head-end and pushes; the head-end cannot dial it back, so the reads
it has queued for that meter run over the same connection, each as its own association
with :func:`dlmskit.client.connect` on the open transport. The meter is identified by
the first push's system title (deciphered and replay-checked by the push listener; a
refused push still names its sender in the clear, and the reads that follow authenticate
on their own, so a meter with a replayed or mis-keyed push is still tried, and its
failure recorded), or, for a link that opens without a ciphered push, by the address it
dialled from when that address belongs to exactly one meter of the inventory.

The reads wait in an :class:`~hes.InboundQueue` (in memory by default; give it a
:class:`~hes.SqliteInboundQueue` to keep them across restarts). A read leaves the queue
once its session is committed; when the link breaks, the reads not yet run stay queued
for the meter's next call. With a ``source`` (the :class:`~hes.Schedule` that diverted
the meter's work here), each read is reported done to it, so back-reads update the gap
ledger and failed billing or events reads are retried.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import trio

from dlmskit.client import PushListener
from dlmskit.client import Target as ClientTarget
from dlmskit.errors import DlmsError
from hes._engine import HeadEnd
from hes._inbound_queue import MemoryInboundQueue
from hes._inventory import MeterInfo
from hes._model import Outcome, WorkItem
from hes._ports import InboundQueue, WorkSource
from hes._push import PushIngest
from hes._schedule import Schedule
from transports import WrapperStreamTransport, serve_tcp_wrapper

__all__ = ["InboundSessions"]


class _OpenLink:
    """A connector over one open link: every session of the meter uses it."""

    def __init__(self, transport: WrapperStreamTransport) -> None:
        self.transport = transport

    def open(self, meter: MeterInfo, sap: int = 0x20) -> AbstractAsyncContextManager[ClientTarget]:
        return self._open()

    @contextlib.asynccontextmanager
    async def _open(self) -> AsyncIterator[ClientTarget]:
        yield self.transport


class InboundSessions:
    """Accepts meter-initiated wrapper connections and runs each meter's queued reads
    over them; pushes that arrive first are stored like any other (receipts and, for
    profile rows, readings)."""

    def __init__(
        self,
        head_end: HeadEnd,
        listener: PushListener,
        ingest: PushIngest,
        *,
        first_timeout: float = 10.0,
        concurrency: int = 64,
        queue: InboundQueue | None = None,
        source: WorkSource | None = None,
    ) -> None:
        self.head_end = head_end
        self.listener = listener
        self.ingest = ingest
        self.first_timeout = first_timeout
        self.waiting: InboundQueue = queue if queue is not None else MemoryInboundQueue()
        self.source = source
        self.connections = 0
        self.unidentified = 0
        """Links closed because neither a push nor the address named a meter."""
        self.sessions_run = 0
        self.sessions_failed = 0
        self._limiter = trio.CapacityLimiter(concurrency)
        self.active = 0
        self.max_active = 0
        """Most sessions run at once over inbound links (at most ``concurrency``: a
        burst of calls waits on its links instead of overloading the head-end)."""
        self.identified: set[str] = set()
        """Meters that called and were identified."""

    def queue(self, item: WorkItem) -> None:
        """Read ``item`` the next time its meter connects (blocking for a durable queue:
        call it off the trio thread, as :class:`~hes.Schedule` does)."""
        self.waiting.put(item)

    def queued(self, meter: str | None = None) -> int:
        """Reads waiting for ``meter`` (or for every meter)."""
        return self.waiting.count(meter)

    def _by_address(self, host: str | None) -> MeterInfo | None:
        found = [m for m in self.head_end.inventory if host and m.host == host]
        return found[0] if len(found) == 1 else None

    async def handle(self, transport: WrapperStreamTransport) -> None:
        """One inbound link: identify the meter, store its push, run its queued reads."""
        self.connections += 1
        push = None
        try:
            with trio.fail_after(self.first_timeout):
                first = await transport.receive_apdu()
        except (trio.TooSlowError, DlmsError):
            self.unidentified += 1
            return
        refused = self.listener.rejected_count
        push = self.listener.check(first, transport.peer_address, "tcp")
        name = push.meter if push is not None else ""
        if not name and self.listener.rejected_count > refused and self.listener.rejected:
            # refused (replayed, bad tag) but naming a meter of the inventory in the clear:
            # the association that follows authenticates on its own
            title = self.listener.rejected[-1].system_title
            found = self.head_end.inventory.by_system_title(title) if title else None
            name = found.name if found is not None else ""
        if not name:
            info = self._by_address(transport.peer_address.host)
            if info is None:
                self.unidentified += 1
                return
            name = info.name
        if push is not None:
            await self.ingest.ingest([push])
        self.identified.add(name)
        await self._run_queued(name, _OpenLink(transport))

    async def _run_queued(self, name: str, connector: _OpenLink) -> None:
        """Run what waits for ``name`` over its link, each read committed before it
        leaves the queue; a read that loses the link leaves the rest queued."""
        schedule = self.source if isinstance(self.source, Schedule) else None
        tried: set[WorkItem] = set()
        while True:
            waiting = await trio.to_thread.run_sync(self.waiting.items, name)
            fresh = [item for item in waiting if item not in tried]
            if not fresh:
                return
            item = fresh[0]
            tried.add(item)
            async with self._limiter:
                self.active += 1
                self.max_active = max(self.max_active, self.active)
                try:
                    result = await self.head_end.session(item, schedule, connector=connector)
                finally:
                    self.active -= 1
            await self.head_end.commit([result])
            await trio.to_thread.run_sync(self.waiting.remove, item)
            outcome = result.session.outcome if result.session is not None else Outcome.TRANSPORT
            self.sessions_run += 1
            if self.source is not None:
                self.source.done(item, ok=outcome is Outcome.OK)
            if outcome is not Outcome.OK:
                self.sessions_failed += 1
                if outcome in (Outcome.TRANSPORT, Outcome.TIMEOUT):
                    return  # the link is gone: the rest waits for the next call

    async def serve(
        self,
        port: int,
        host: str | None = None,
        *,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen for meters on ``port`` (use with ``nursery.start``: gives the listeners)."""
        await serve_tcp_wrapper(self.handle, host, port, task_status=task_status)
