"""Push reception: DATA-NOTIFICATIONs received by :func:`dlmskit.listen` (deciphered,
tag-verified, replay-checked per meter), matched to the inventory by system title,
recorded durably in batches; refused pushes (replays, unknown senders, bad tags) are
counted by reason for the KPIs, never raised into the receiving loop.
"""

from __future__ import annotations

from collections.abc import Callable

import trio

from dlmskit.client import MeterKeys, Push, PushListener
from hes._inventory import Inventory, MeterInfo
from hes._metrics import Metrics
from hes._model import Outcome, SessionRecord, WorkKind
from hes._store import Store

__all__ = ["PushIngest", "push_keys"]


def push_keys(
    inventory: Inventory, keys: Callable[[MeterInfo], tuple[bytes, bytes]]
) -> Callable[[bytes], MeterKeys | None]:
    """The listener's key lookup: system title -> the meter's name and push keys
    (``keys(meter)`` gives (encryption key, authentication key) from the key store)."""

    def lookup(title: bytes) -> MeterKeys | None:
        meter = inventory.by_system_title(title)
        if meter is None:
            return None
        ek, ak = keys(meter)
        return MeterKeys(name=meter.name, encryption_key=ek, authentication_key=ak)

    return lookup


def _reason(text: str) -> str:
    lowered = text.lower()
    if "replay" in lowered or "counter" in lowered:
        return "replay"
    if "unknown" in lowered or "no key" in lowered or "not bound" in lowered:
        return "unknown_meter"
    if "tag" in lowered or "authentic" in lowered:
        return "security"
    return "garbage"


class PushIngest:
    """Drains a :class:`~dlmskit.client.PushListener` into the store, ``batch`` pushes
    (or ``interval`` seconds) per commit."""

    def __init__(
        self,
        store: Store,
        *,
        metrics: Metrics | None = None,
        batch: int = 256,
        interval: float = 0.2,
    ) -> None:
        self.store = store
        self.metrics = metrics or Metrics()
        self.batch = batch
        self.interval = interval
        self.accepted = 0
        self.rejected: dict[str, int] = {}
        self._seen_rejected = 0

    def _count_rejected(self, listener: PushListener) -> None:
        fresh = listener.rejected_count - self._seen_rejected
        if fresh <= 0:
            return
        self._seen_rejected = listener.rejected_count
        recent = listener.rejected[-fresh:] if fresh <= len(listener.rejected) else []
        for rejected in recent:
            reason = _reason(rejected.reason)
            self.rejected[reason] = self.rejected.get(reason, 0) + 1
            self.metrics.pushes[reason] += 1
        unknown = fresh - len(recent)
        if unknown > 0:
            self.rejected["garbage"] = self.rejected.get("garbage", 0) + unknown
            self.metrics.pushes["garbage"] += unknown

    @staticmethod
    def record(push: Push) -> SessionRecord:
        when = push.received_at
        kind = type(push.notification).__name__
        return SessionRecord(
            meter=push.meter or (push.system_title or b"").hex().upper(),
            kind=WorkKind.PUSH,
            started=when,
            ended=when,
            outcome=Outcome.OK,
            detail=f"{push.transport} {kind} ic={push.invocation_counter}",
        )

    async def run(self, listener: PushListener) -> None:
        """Receive until the listener closes (or the task is cancelled)."""
        pending: list[SessionRecord] = []
        closed = False
        while not closed:
            with trio.move_on_after(self.interval):
                while len(pending) < self.batch:
                    try:
                        push = await listener.receive()
                    except (trio.EndOfChannel, trio.ClosedResourceError):
                        closed = True
                        break
                    pending.append(self.record(push))
            self._count_rejected(listener)
            if pending:
                batch, pending = pending, []
                await trio.to_thread.run_sync(self.store.put_sessions, batch)
                self.accepted += len(batch)
                self.metrics.pushes["accepted"] += len(batch)
