"""Push reception: DATA-NOTIFICATIONs received by :func:`dlmskit.listen` (deciphered,
tag-verified, replay-checked per meter), matched to the inventory by system title,
recorded durably in batches; refused pushes (replays, unknown senders, bad tags) are
counted by reason for the KPIs, never raised into the receiving loop.

A push whose body is a profile row (a push setup carrying the block load columns) is
typed through the push setup's push_object_list, learnt per meter model in a
:class:`~hes.LayoutCache`, validated like a pulled row and stored as readings of source
``PUSH``; the store's upserts keep a later pull of the same interval from duplicating it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence

import trio

from dlmskit.apdu import DataNotification
from dlmskit.axdr import DateTime, DeviationSign, OctetString, Structure
from dlmskit.client import MeterKeys, Push, PushListener
from dlmskit.errors import DecodeError
from hes._inventory import Inventory, MeterInfo
from hes._metrics import Metrics
from hes._model import Outcome, Reading, ReadingSource, SessionRecord, WorkKind
from hes._session import LayoutCache, ProfileLayout, _number, _unit
from hes._store import Store
from hes._validate import IntervalRow, ValidationPolicy, validate_block_load

__all__ = ["PushIngest", "push_keys", "push_readings"]

#: Interface classes whose value attribute is a measured quantity (register, extended
#: register, demand register).
_REGISTERS = frozenset({3, 4, 5})


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


def _setup_of(layout: ProfileLayout, body: Structure) -> bytes | None:
    """The push setup logical name a body carries (its class 40 attribute 1 column)."""
    if len(body) != len(layout.columns):
        return None
    for column in layout.columns:
        if column.class_id == 40 and column.attribute_index == 1:
            value = body[column.index]
            return bytes(value) if isinstance(value, OctetString) else None
    return None


def push_readings(
    push: Push,
    info: MeterInfo,
    layouts: LayoutCache,
    *,
    sign: DeviationSign,
    policy: ValidationPolicy | None = None,
) -> list[Reading]:
    """Readings (source ``PUSH``) from a data-notification whose body is a profile row
    of a push setup known for the meter's model; ``[]`` for any other push. The row is
    validated like a pulled one (alignment, clock status, reverse energy, clock
    deviation from the notification's own date-time). A row with values out of range
    (dates that do not exist, numbers no float holds) gives ``[]`` too: the push stays a
    receipt."""
    try:
        return _push_readings(push, info, layouts, sign=sign, policy=policy)
    except (DecodeError, ValueError, OverflowError):
        return []


def _push_readings(
    push: Push,
    info: MeterInfo,
    layouts: LayoutCache,
    *,
    sign: DeviationSign,
    policy: ValidationPolicy | None,
) -> list[Reading]:
    note = push.notification
    if not isinstance(note, DataNotification) or not isinstance(note.notification_body, Structure):
        return []
    body = note.notification_body
    layout = None
    for setup, candidate in layouts.known(info.model or "default"):
        if _setup_of(candidate, body) == setup.to_bytes():
            layout = candidate
            break
    if layout is None or layout.columns.clock is None:
        return []
    try:
        row = layout.columns.row(body, sign=sign, scalers=layout.scalers)
    except DecodeError:
        return []
    if row.time is None:
        return []
    clock = layout.columns.clock
    values: dict[str, tuple[float | None, str]] = {}
    for column, value in zip(layout.columns, row.values, strict=True):
        if column.class_id in _REGISTERS and column.is_register_value:
            values[str(column.logical_name)] = (_number(value), _unit(value))
    if not values:
        return []
    status = None
    raw_clock = body[clock.index]
    if isinstance(raw_clock, OctetString) and len(raw_clock) == 12:
        try:
            found = DateTime.from_bytes(bytes(raw_clock)).clock_status
            status = None if found is None else int(found)
        except DecodeError:
            status = None
    policy = policy or ValidationPolicy()
    deviation: _dt.timedelta | None = None
    if note.date_time is not None:
        try:
            deviation = note.date_time.to_datetime(sign=sign) - push.received_at
        except (DecodeError, ValueError):
            deviation = None
    captured = row.time
    # the interval the row belongs to, as validation will key it (a meter clock off by
    # more than the threshold is put back by the deviation the notification shows)
    shift = deviation if deviation is not None and abs(deviation) > policy.clock_threshold else None
    step = policy.period.total_seconds()
    moment = (captured - shift if shift is not None else captured).timestamp()
    start = _dt.datetime.fromtimestamp(round(moment / step) * step, _dt.UTC)
    result = validate_block_load(
        info.name,
        [IntervalRow(captured=captured, clock_status=status, values=values)],
        start=start,
        end=start + policy.period,
        received=push.received_at,
        net_metered=info.net_metered,
        clock_deviation=deviation,
        source=ReadingSource.PUSH,
        policy=policy,
    )
    return result.readings


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

    def readings_of(self, push: Push) -> list[Reading]:
        """The readings a push carries for a meter of the inventory, if any."""
        if self.inventory is None or self.layouts is None or not push.meter:
            return []
        try:
            info = self.inventory[push.meter]
        except KeyError:
            return []
        return push_readings(push, info, self.layouts, sign=self.sign, policy=self.policy)

    def store_pushes(self, pushes: Sequence[Push]) -> int:
        """Store accepted pushes durably (a receipt each, and the readings a profile row
        carries); counts them; gives the number of readings stored. Blocking: call it
        from a worker thread, or use :meth:`ingest`."""
        records = [self.record(push) for push in pushes]
        readings = [r for push in pushes for r in self.readings_of(push)]
        self._write(records, readings)
        self._accepted(len(records), len(readings))
        return len(readings)

    async def ingest(self, pushes: Sequence[Push]) -> int:
        """:meth:`store_pushes` off the trio thread."""
        return await trio.to_thread.run_sync(self.store_pushes, pushes)

    def _accepted(self, pushes: int, readings: int) -> None:
        self.readings += readings
        self.accepted += pushes
        self.metrics.pushes["accepted"] += pushes

    def _write(self, sessions: list[SessionRecord], readings: list[Reading]) -> None:
        if readings:
            self.store.put_readings(readings)
        self.store.put_sessions(sessions)

    async def run(self, listener: PushListener) -> None:
        """Receive until the listener closes (or the task is cancelled)."""
        pending: list[SessionRecord] = []
        values: list[Reading] = []
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
                    values.extend(self.readings_of(push))
            self._count_rejected(listener)
            if pending:
                batch, pending = pending, []
                found, values = values, []
                await trio.to_thread.run_sync(self._write, batch, found)
                self._accepted(len(batch), len(found))
