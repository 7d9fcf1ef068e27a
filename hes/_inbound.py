"""Meter-initiated connections (GPRS meters behind carrier-grade NAT, wake-up calls).

The meter dials the head-end and pushes; the head-end cannot dial it back, so the reads
it has queued for that meter run over the same connection, each as its own association
with :func:`dlmskit.client.connect` on the open transport. The meter is identified by
the first push's system title (deciphered and replay-checked by the push listener), or,
for a link that opens without a ciphered push, by the address it dialled from when that
address belongs to exactly one meter of the inventory.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import trio

from dlmskit.client import PushListener
from dlmskit.client import Target as ClientTarget
from dlmskit.errors import DlmsError
from hes._engine import HeadEnd
from hes._inventory import MeterInfo
from hes._model import WorkItem
from hes._push import PushIngest
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
    ) -> None:
        self.head_end = head_end
        self.listener = listener
        self.ingest = ingest
        self.first_timeout = first_timeout
        self._queued: defaultdict[str, deque[WorkItem]] = defaultdict(deque)
        self.connections = 0
        self.unidentified = 0
        """Links closed because neither a push nor the address named a meter."""
        self.sessions_run = 0

    def queue(self, item: WorkItem) -> None:
        """Read ``item`` the next time its meter connects."""
        self._queued[item.meter].append(item)

    def queued(self, meter: str) -> int:
        return len(self._queued.get(meter, ()))

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
        push = self.listener.check(first, transport.peer_address, "tcp")
        name = push.meter if push is not None else ""
        if not name:
            info = self._by_address(transport.peer_address.host)
            if info is None:
                self.unidentified += 1
                return
            name = info.name
        if push is not None:
            await self.ingest.ingest([push])
        connector = _OpenLink(transport)
        pending = self._queued.get(name)
        while pending:
            item = pending.popleft()
            result = await self.head_end.session(item, connector=connector)
            await self.head_end.commit([result])
            self.sessions_run += 1

    async def serve(
        self,
        port: int,
        host: str | None = None,
        *,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen for meters on ``port`` (use with ``nursery.start``: gives the listeners)."""
        await serve_tcp_wrapper(self.handle, host, port, task_status=task_status)
