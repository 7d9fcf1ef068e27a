"""Push reception: DATA-NOTIFICATIONs received by :func:`dlmskit.listen` (deciphered,
tag-verified, replay-checked per meter), matched to the inventory by system title,
recorded durably in batches; refused pushes (replays, unknown senders, bad tags) are
counted by reason for the KPIs, never raised into the receiving loop.

A push whose body is a profile row (a push setup carrying the block load columns) is
typed through the push setup's push_object_list, learnt per meter model in a
:class:`~hes.LayoutCache`, validated like a pulled row and stored as readings of source
``PUSH``; the store's upserts keep a later pull of the same interval from duplicating it.
:func:`push_readings` does that for one push as :class:`~hes.Reading` values; a batch
of pushes goes the columnar way (:class:`~hes.PushRows`) to the same store rows.

Storing a batch is two steps: :meth:`PushIngest.prepare` (receipts and reading rows,
CPU work on the caller's thread) and :meth:`PushIngest.commit` (one SQLite transaction,
which releases the GIL while it steps, so it can run on a worker thread while the next
batch is prepared).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence

import attrs
import trio

from dlmskit.axdr import DeviationSign
from dlmskit.client import MeterKeys, Push, PushListener
from hes._inventory import Inventory, MeterInfo
from hes._metrics import Metrics
from hes._model import Outcome, Reading, SessionRecord, WorkKind, utc
from hes._push_rows import PushRows, push_readings
from hes._session import LayoutCache
from hes._store import ReadingRow, SessionRow, Store
from hes._validate import ValidationPolicy

__all__ = ["PushBatch", "PushIngest", "push_keys"]

_PUSH = WorkKind.PUSH.value
_OK = Outcome.OK.value


@attrs.frozen(kw_only=True)
class PushBatch:
    """Accepted pushes ready to store: a receipt each (the row of
    :meth:`PushIngest.record`) and the readings their rows carry."""

    receipts: list[SessionRow]
    rows: list[ReadingRow]


def push_keys(
    inventory: Inventory, keys: Callable[[MeterInfo], tuple[bytes, bytes]]
) -> Callable[[bytes], MeterKeys | None]:
    """The listener's key lookup: system title -> the meter's name and push keys
    (``keys(meter)`` gives (encryption key, authentication key) from the key store)."""

    # the last answer per title, reused while the meter and its keys stay the same
    known: dict[bytes, tuple[MeterInfo, bytes, bytes, MeterKeys]] = {}

    def lookup(title: bytes) -> MeterKeys | None:
        meter = inventory.by_system_title(title)
        if meter is None:
            known.pop(title, None)
            return None
        ek, ak = keys(meter)
        last = known.get(title)
        if last is not None and last[0] is meter and last[1] == ek and last[2] == ak:
            return last[3]
        found = MeterKeys(name=meter.name, encryption_key=ek, authentication_key=ak)
        known[title] = (meter, ek, ak, found)
        return found

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
        inventory: Inventory | None = None,
        layouts: LayoutCache | None = None,
        sign: DeviationSign = DeviationSign.BLUE_BOOK,
        policy: ValidationPolicy | None = None,
    ) -> None:
        self.store = store
        self.inventory = inventory
        self.layouts = layouts
        self.sign = sign
        self.policy = policy
        self.readings = 0
        """Readings stored from pushes."""
        self.metrics = metrics or Metrics()
        self.batch = batch
        self.interval = interval
        self.accepted = 0
        self.rejected: dict[str, int] = {}
        self._seen_rejected = 0
        self._builder: PushRows | None = None
        self._builder_policy: ValidationPolicy | None = None

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

    @staticmethod
    def receipt(push: Push) -> SessionRow:
        """``session_row(record(push))``, without the record."""
        when = push.received_at
        if when.tzinfo is not _dt.UTC:
            when = utc(when)
        stamp = when.timestamp()
        return (
            push.meter or (push.system_title or b"").hex().upper(),
            _PUSH,
            stamp,
            stamp,
            _OK,
            0,
            None,
            0,
            f"{push.transport} {type(push.notification).__name__} ic={push.invocation_counter}",
        )

    def readings_of(self, push: Push) -> list[Reading]:
        """The readings a push carries for a meter of the inventory, if any."""
        if self.inventory is None or self.layouts is None or not push.meter:
            return []
        try:
            info = self.inventory[push.meter]
        except KeyError:
            return []
        return push_readings(push, info, self.layouts, sign=self.sign, policy=self.policy)

    def _rows(self) -> PushRows | None:
        """The columnar row builder for the current layouts, sign and policy."""
        if self.inventory is None or self.layouts is None:
            return None
        builder = self._builder
        if (
            builder is None
            or builder.layouts is not self.layouts
            or builder.sign is not self.sign
            or self._builder_policy is not self.policy
        ):
            builder = PushRows(self.layouts, sign=self.sign, policy=self.policy)
            self._builder, self._builder_policy = builder, self.policy
        return builder

    def prepare(self, pushes: Sequence[Push]) -> PushBatch:
        """Receipts and reading rows of accepted pushes (what :meth:`commit` stores): the
        same rows :func:`push_readings` gives for each push, built column-wise."""
        receipts = [self.receipt(push) for push in pushes]
        rows: list[ReadingRow] = []
        builder = self._rows()
        inventory = self.inventory
        if builder is not None and inventory is not None:
            for push in pushes:
                if not push.meter:
                    continue
                try:
                    info = inventory[push.meter]
                except KeyError:
                    continue
                rows.extend(builder.rows(push, info))
        return PushBatch(receipts=receipts, rows=rows)

    def commit(self, batch: PushBatch) -> int:
        """Store a prepared batch in one transaction and count it; gives the number of
        readings stored. Blocking (SQLite): run it on a worker thread, one at a time."""
        self.store.put_reading_rows(batch.rows, sessions=batch.receipts)
        self._accepted(len(batch.receipts), len(batch.rows))
        return len(batch.rows)

    def store_pushes(self, pushes: Sequence[Push]) -> int:
        """Store accepted pushes durably (a receipt each, and the readings a profile row
        carries); counts them; gives the number of readings stored. Blocking: call it
        from a worker thread, or use :meth:`ingest`."""
        return self.commit(self.prepare(pushes))

    async def ingest(self, pushes: Sequence[Push]) -> int:
        """:meth:`store_pushes` off the trio thread."""
        return await trio.to_thread.run_sync(self.store_pushes, pushes)

    def _accepted(self, pushes: int, readings: int) -> None:
        self.readings += readings
        self.accepted += pushes
        self.metrics.pushes["accepted"] += pushes

    async def run(self, listener: PushListener) -> None:
        """Receive until the listener closes (or the task is cancelled): ``batch``
        pushes (or what came in ``interval`` seconds) are prepared on the trio thread
        and committed on a worker thread."""
        pending: list[Push] = []
        closed = False
        while not closed:
            with trio.move_on_after(self.interval):
                while len(pending) < self.batch:
                    try:
                        pending.append(await listener.receive())
                    except (trio.EndOfChannel, trio.ClosedResourceError):
                        closed = True
                        break
            self._count_rejected(listener)
            if pending:
                batch = self.prepare(pending)
                pending = []
                await trio.to_thread.run_sync(self.commit, batch)
