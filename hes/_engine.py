"""The collection engine: sessions under concurrency limits, one writer, bounded queues.

``HeadEnd.run`` pulls work from a :class:`~hes.WorkSource`, feeds it through a small
memory channel (backpressure: the source is asked for more only when a worker is free)
to ``concurrency`` workers; each session also holds a slot of its cluster (a cell for
cellular meters, a gateway for Wi-SUN and mesh: ``trio.CapacityLimiter`` each) and is
bounded by ``session_timeout``. Results go through another small channel to a single
writer that commits them in batches off the trio thread; a session is *acknowledged*
when its batch is committed. Sessions that fail open (or keep open) gaps in the ledger;
back-reads fill them.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
from collections.abc import Callable, Sequence

import attrs
import trio

from dlmskit.client import Association, LinkSettings, connect
from dlmskit.security import InvocationCounterStore
from hes._collector import _collector_tuned
from hes._gapledger import BackReadPolicy, Gap, InterpolationPolicy
from hes._inventory import Inventory, MeterInfo, Network
from hes._metrics import Metrics
from hes._model import GapState, Outcome, WorkItem, WorkKind, from_epoch, utc
from hes._ports import WorkSource
from hes._results import LAG_CHANNEL, PROFILE_KINDS, SessionResult, session_result
from hes._schedule import Schedule
from hes._session import (
    Connector,
    LayoutCache,
    TcpConnector,
    outcome_of,
    read_meter,
    sync_meter_clock,
)
from hes._store import ReadingRow, Store, _reading_rows, session_row
from hes._timing import TimeSyncPolicy
from hes._validate import ValidationPolicy

__all__ = ["CollectionConfig", "HeadEnd", "SessionResult", "utc_now"]


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


@attrs.frozen(kw_only=True)
class CollectionConfig:
    """Limits and policies of a collection run (times in seconds)."""

    concurrency: int = 64
    cluster_limit: int = 8
    queue_size: int = 16
    session_timeout: float = 30.0
    link: LinkSettings = attrs.field(
        factory=lambda: LinkSettings(
            connect_timeout=5.0, response_timeout=5.0, release_timeout=1.0, retries=0
        )
    )
    datagram_link: LinkSettings = attrs.field(
        factory=lambda: LinkSettings(
            connect_timeout=15.0, response_timeout=15.0, release_timeout=2.0, retries=1
        )
    )
    """Link settings of Wi-SUN and RF-mesh meters (slow, lossy multi-hop paths)."""
    datagram_session_timeout: float = 60.0
    datagram_pdu_size: int = 1000
    """Largest APDU asked of Wi-SUN and RF-mesh meters (one datagram within the MTU)."""
    zone: _dt.tzinfo = _dt.timezone(_dt.timedelta(hours=5, minutes=30))
    time_sync: bool = True
    read_daily: bool = True
    read_events: bool = True
    validation: ValidationPolicy = attrs.field(factory=ValidationPolicy)
    back_reads: BackReadPolicy = attrs.field(factory=BackReadPolicy)
    interpolation: InterpolationPolicy = attrs.field(factory=InterpolationPolicy)
    """Estimates for short runs a read lacked (off unless enabled); the runs stay in the
    gap ledger, so a back-read's real rows replace the estimates."""
    sync: TimeSyncPolicy = attrs.field(factory=TimeSyncPolicy)
    batch: int = 64
    """Sessions per store commit at most."""
    start_rate: float = math.inf
    """New sessions per second at most (connection-storm control, like the new-connection
    permits of production head-ends); sessions still run ``concurrency`` at a time."""
    gc_threshold: int | None = 20_000
    """Allocations between two young-generation runs of Python's cycle collector while
    :meth:`HeadEnd.run` runs (the default 700 makes it scan a session's readings over
    and over), and what exists when the run starts (inventory, layouts) is left out of
    its scans (``gc.freeze``); both undone when the last run ends. ``None``: unchanged."""


def _reader(info: MeterInfo) -> Association:
    return Association.meter_reader()


def _settings(info: MeterInfo) -> Association:
    return Association.utility_settings()


class HeadEnd:
    """Collects from the meters of an inventory into a store."""

    def __init__(
        self,
        inventory: Inventory,
        store: Store,
        *,
        connector: Connector | None = None,
        reader: Callable[[MeterInfo], Association] = _reader,
        settings: Callable[[MeterInfo], Association] = _settings,
        counters: InvocationCounterStore | None = None,
        config: CollectionConfig | None = None,
        clock: Callable[[], _dt.datetime] = utc_now,
        metrics: Metrics | None = None,
    ) -> None:
        self.inventory = inventory
        self.store = store
        self.connector: Connector = connector or TcpConnector()
        self.reader = reader
        self.settings = settings
        self.config = config or CollectionConfig()
        self.clock = clock
        self.metrics = metrics or Metrics()
        self.layouts = LayoutCache()
        self._limiters: dict[str, trio.CapacityLimiter] = {}
        #: One session at a time per meter (its invocation counters must arrive in order).
        self._meter_locks: dict[str, trio.Lock] = {}
        self._store_lock = trio.Lock()
        self.max_cluster_busy: dict[str, int] = {}
        self.counters = counters
        self.not_started = 0
        """Work items the collection window closed on before they started."""

    # -- store access (one connection, off the trio thread) ------------------------------

    async def _in_store(self, fn: Callable[[], object]) -> object:
        async with self._store_lock:
            return await trio.to_thread.run_sync(fn)

    def _limiter(self, cluster: str) -> trio.CapacityLimiter:
        limiter = self._limiters.get(cluster)
        if limiter is None:
            limiter = self._limiters[cluster] = trio.CapacityLimiter(self.config.cluster_limit)
        return limiter

    # -- one session -------------------------------------------------------------------

    def _association(self, info: MeterInfo, base: Association | None = None) -> Association:
        """The recipe for ``info``: the shared monotonic counter store, and APDUs that fit
        one datagram on Wi-SUN and RF mesh (the meter then answers in blocks)."""
        base = base if base is not None else self.reader(info)
        if self.counters is not None and base.counter_store is not self.counters:
            base = attrs.evolve(base, counter_store=self.counters)
        if info.network is not Network.GPRS:
            size = min(base.max_receive_pdu_size, self.config.datagram_pdu_size)
            base = attrs.evolve(base, max_receive_pdu_size=size)
        return base

    async def session(
        self,
        item: WorkItem,
        schedule: Schedule | None = None,
        *,
        connector: Connector | None = None,
    ) -> SessionResult:
        """Run one work item; never raises for a meter's misbehaviour. ``connector``
        replaces the head-end's own for this session (a link the meter opened); the
        clock is then only read, not set (setting it needs a second association)."""
        info = self.inventory[item.meter]
        via = connector if connector is not None else self.connector
        config = self.config
        started = self.clock()
        outcome, detail = Outcome.OK, ""
        data = None
        synced = False
        datagram = info.network is not Network.GPRS
        link = config.datagram_link if datagram else config.link
        timeout = config.datagram_session_timeout if datagram else config.session_timeout
        try:
            with trio.fail_after(timeout):
                async with (
                    via.open(info) as target,
                    connect(target, association=self._association(info), link=link) as m,
                ):
                    data = await read_meter(
                        m,
                        info,
                        self.layouts,
                        start=item.start,
                        end=item.end,
                        now=self.clock,
                        zone=config.zone,
                        daily=config.read_daily and item.kind in PROFILE_KINDS,
                        events=(config.read_events and item.kind in PROFILE_KINDS)
                        or item.kind is WorkKind.EVENTS,
                        block_load=item.kind in PROFILE_KINDS,
                        billing=item.kind is WorkKind.BILLING,
                    )
                if (
                    config.time_sync
                    and connector is None
                    and data.clock is not None
                    and config.sync.needs_sync(data.clock)
                ):
                    async with self.connector.open(info) as target:
                        us = (
                            attrs.evolve(self.settings(info), counter_store=self.counters)
                            if (self.counters is not None)
                            else self.settings(info)
                        )
                        await sync_meter_clock(target, us, link)
                    synced = True
        except Exception as exc:  # a meter's failure ends only its own session
            outcome = outcome_of(exc)
            detail = f"{type(exc).__name__}: {exc}"[:200]
        ended = self.clock()
        return session_result(
            config,
            self.metrics,
            item,
            info,
            started,
            ended,
            outcome,
            detail,
            data,
            synced,
            schedule,
        )

    # -- the run -------------------------------------------------------------------------

    async def _writer(self, receive: trio.MemoryReceiveChannel[SessionResult]) -> None:
        async with receive:
            while True:
                try:
                    first = await receive.receive()
                except trio.EndOfChannel:
                    return
                batch = [first]
                while len(batch) < self.config.batch:
                    try:
                        batch.append(receive.receive_nowait())
                    except (trio.WouldBlock, trio.EndOfChannel):
                        break
                await self.commit(batch)

    async def commit(self, batch: Sequence[SessionResult]) -> None:
        """Store what sessions produced (readings with the session records in one
        transaction, then events and gap ledger changes); durable when this returns."""
        store = self.store
        readings = [b for b in batch if b.readings or b.rows]
        events = [e for b in batch for e in b.events]
        sessions = [session_row(b.session) for b in batch if b.session is not None]
        opened = [g for b in batch for g in b.gaps_open]
        replaced = [b.gap_replace for b in batch if b.gap_replace is not None]
        count = sum(len(b.readings) + len(b.rows) for b in readings)

        def write() -> None:
            if readings or sessions:
                rows: list[ReadingRow] = []
                for b in readings:
                    if b.readings:
                        rows.extend(_reading_rows(b.readings))
                    rows.extend(b.rows)
                store.put_reading_rows(rows, sessions=sessions)
            if events:
                store.put_events(events)
            if opened:
                store.open_gaps(opened)
            for old, new in replaced:
                store.replace_gap(old, new)

        await self._in_store(write)
        self.metrics.readings += count
        newest = max(
            (r.start for b in readings for r in b.readings if r.channel == LAG_CHANNEL),
            default=None,
        )
        # the newest lag channel row of each result, as found when its rows were made
        newest_row = max(
            (
                found
                for b in readings
                if b.rows
                and (found := b.newest if b.newest is not None else _newest(b.rows)) is not None
            ),
            default=None,
        )
        if newest_row is not None:
            moment = from_epoch(newest_row)
            newest = moment if newest is None or moment > newest else newest
        if newest is not None:
            lag = (self.clock() - newest).total_seconds() - 900
            self.metrics.lag_seconds = max(0.0, lag)

    async def run(
        self,
        source: WorkSource,
        *,
        until_idle: bool = True,
        poll: float = 1.0,
        deadline: float = math.inf,
    ) -> None:
        """Run work from ``source`` until it has nothing due (and no gap waits for a
        retry before ``deadline`` seconds from now) or the deadline passes."""
        config = self.config
        send_work, receive_work = trio.open_memory_channel[WorkItem](config.queue_size)
        send_result, receive_result = trio.open_memory_channel[SessionResult](config.queue_size)
        schedule = source if isinstance(source, Schedule) else None
        end_at = trio.current_time() + deadline

        async def worker(
            work: trio.MemoryReceiveChannel[WorkItem], out: trio.MemorySendChannel[SessionResult]
        ) -> None:
            async with work, out:
                async for item in work:
                    info = self.inventory[item.meter]
                    limiter = self._limiter(info.cluster)
                    locks = self._meter_locks
                    lock = locks.get(item.meter) or locks.setdefault(item.meter, trio.Lock())
                    async with lock, limiter:
                        busy = limiter.borrowed_tokens
                        if busy > self.max_cluster_busy.get(info.cluster, 0):
                            self.max_cluster_busy[info.cluster] = busy
                        self.metrics.active += 1
                        try:
                            result = await self.session(item, schedule)
                        finally:
                            self.metrics.active -= 1
                    if not lock.locked():
                        del locks[item.meter]
                    source.done(
                        item, ok=result.session is not None and result.session.outcome is Outcome.OK
                    )
                    await out.send(result)

        async def feed(send: trio.MemorySendChannel[WorkItem]) -> None:
            next_start = trio.current_time()
            async with send:
                while trio.current_time() < end_at:
                    due = functools.partial(source.due, self.clock(), config.queue_size)
                    if schedule is not None and schedule.pending >= config.queue_size:
                        items: object = due()  # the round's own items need no store
                    else:
                        items = await self._in_store(due)
                    assert isinstance(items, list)
                    if items:
                        for item in items:
                            if config.start_rate != math.inf:
                                next_start = max(next_start, trio.current_time())
                                await trio.sleep_until(next_start)
                                next_start += 1.0 / config.start_rate
                            self.metrics.queue(
                                len(items) + (schedule.pending if schedule is not None else 0)
                            )
                            await send.send(item)
                        continue
                    if not until_idle:
                        await trio.sleep(poll)
                        continue
                    if self.metrics.active or receive_work.statistics().current_buffer_used:
                        await trio.sleep(poll / 10)
                        continue
                    waiting = await self._in_store(lambda: self._next_retry())
                    if waiting is None:
                        return
                    assert isinstance(waiting, _dt.datetime)
                    pause = (waiting - self.clock()).total_seconds()
                    if trio.current_time() + pause > end_at:
                        return
                    await trio.sleep(max(pause, poll / 10))
                self.metrics.queue(0)

        try:
            with _collector_tuned(config.gc_threshold):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._writer, receive_result)
                    async with send_result, receive_work:
                        for _ in range(config.concurrency):
                            nursery.start_soon(worker, receive_work.clone(), send_result.clone())
                        nursery.start_soon(feed, send_work)
        finally:
            if schedule is not None and schedule.pending:
                with trio.CancelScope(shield=True):
                    await self._window_closed(schedule)

    async def _window_closed(self, schedule: Schedule) -> None:
        """Profile items the window left unstarted become open gaps: reported, back-read
        later. Billing and event items left unstarted are counted in ``not_started`` (the
        next round reads them again), never recorded as block load gaps."""
        left = schedule.due(self.clock(), schedule.pending)
        self.not_started += sum(1 for item in left if item.kind not in PROFILE_KINDS)
        gaps = [
            Gap(
                meter=item.meter,
                profile="block_load",
                start=item.start,
                end=item.end,
                next_try=self.clock(),
                detail="not started: collection window closed",
            )
            for item in left
            if item.kind in PROFILE_KINDS and item.kind is not WorkKind.BACK_READ
        ]
        self.not_started += len(gaps)
        await self._in_store(functools.partial(self.store.open_gaps, gaps))

    def _next_retry(self) -> _dt.datetime | None:
        pending = [
            g.next_try
            for g in self.store.gaps(state=GapState.OPEN, scope=self.inventory.scope)
            if (g.next_try is not None or g.attempts == 0) and g.meter in self.inventory
        ]
        if not pending:
            return None
        return min((p for p in pending if p is not None), default=self.clock())


def _newest(rows: Sequence[ReadingRow]) -> int | None:
    """The newest interval start of the lag channel among ``rows``."""
    return max((r[2] for r in rows if r[1] == LAG_CHANNEL), default=None)


def day_range(day: _dt.date, zone: _dt.tzinfo) -> tuple[_dt.datetime, _dt.datetime]:
    """``[local midnight, next local midnight)`` of ``day`` in UTC."""
    start = _dt.datetime.combine(day, _dt.time(), zone)
    return utc(start), utc(start + _dt.timedelta(days=1))
