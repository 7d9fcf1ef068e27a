"""The single-node work source: block load collection rounds and due back-reads.

A round hands out one item per meter for the same range, in a seeded random order (the
randomised window: meters of one cell are not all dialled at once); back-reads come from
the gap ledger through the :class:`~hes.BackReadPolicy`. A distributed engine replaces
this with a shared queue that leases items; the collection code only sees
:class:`~hes.WorkSource`.

Billing and events-only sessions leave no gap behind when they fail, so the schedule
retries them itself: the n-th retry ``base_delay * 2**(n-1)`` later (capped), at most
``max_attempts`` sessions in all, and only while the round's window is open; the items
it gives up on are kept in :attr:`Schedule.given_up` (and the store's sessions show
them to the KPIs). Meters only they can open a link to (behind NAT) have their work
diverted to another queue (:meth:`Schedule.divert`: the inbound sessions' queue).
"""

from __future__ import annotations

import datetime as _dt
import heapq
import itertools
import random
import threading
from collections import deque
from collections.abc import Callable, Iterable

import attrs

from hes._gapledger import BackReadPolicy, Gap
from hes._inventory import Inventory
from hes._model import GapState, WorkItem, WorkKind, utc
from hes._ports import GapLedger

__all__ = ["RetryPolicy", "Schedule"]

#: Work kinds the schedule retries itself (block load failures are gaps, back-read).
RETRIED_KINDS = frozenset({WorkKind.BILLING, WorkKind.EVENTS})


def _utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """Retries of failed billing and events sessions: ``max_attempts`` sessions in all,
    the n-th retry ``base_delay * 2**(n-1)`` after the failure, at most ``max_delay``."""

    max_attempts: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    base_delay: _dt.timedelta = _dt.timedelta(minutes=5)
    max_delay: _dt.timedelta = _dt.timedelta(hours=1)

    def delay(self, retry: int) -> _dt.timedelta:
        return min(self.base_delay * (1 << max(retry - 1, 0)), self.max_delay)


class Schedule:
    """Implements :class:`~hes.WorkSource` for one node."""

    def __init__(
        self,
        inventory: Inventory,
        ledger: GapLedger,
        *,
        policy: BackReadPolicy | None = None,
        retry: RetryPolicy | None = None,
        seed: int = 0,
        clock: Callable[[], _dt.datetime] = _utc_now,
    ) -> None:
        self.inventory = inventory
        self.ledger = ledger
        self.policy = policy or BackReadPolicy()
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        """The head-end asks :meth:`due` off the trio thread while sessions report
        :meth:`done` on it."""
        self._pending: deque[WorkItem] = deque()
        self._leased: dict[tuple[str, WorkKind, _dt.datetime], Gap] = {}
        self._retries: list[tuple[_dt.datetime, int, WorkItem]] = []
        self._order = itertools.count()
        self._windows: dict[tuple[WorkKind, _dt.datetime, _dt.datetime], _dt.datetime] = {}
        self._diverted: frozenset[str] = frozenset()
        self._divert_to: Callable[[WorkItem], None] | None = None
        self.expired: list[Gap] = []
        self.given_up: list[WorkItem] = []
        """Billing and events items that failed ``max_attempts`` times or whose next try
        fell after the round's window closed."""
        self.retried = 0
        """Retries handed out."""

    def divert(self, meters: Iterable[str], to: Callable[[WorkItem], None]) -> None:
        """Hand every item of ``meters`` (rounds added later, back-reads, retries) to
        ``to`` instead of :meth:`due`; e.g. :meth:`InboundSessions.queue` for meters
        behind NAT, which the head-end cannot dial. ``to`` may be called from a worker
        thread (the head-end asks :meth:`due` off the trio thread)."""
        self._diverted = frozenset(meters)
        self._divert_to = to

    def _hand_out(self, item: WorkItem, out: list[WorkItem]) -> None:
        if self._divert_to is not None and item.meter in self._diverted:
            self._divert_to(item)
        else:
            out.append(item)

    def add_round(
        self,
        start: _dt.datetime,
        end: _dt.datetime,
        kind: WorkKind = WorkKind.BLOCK_LOAD,
        *,
        window: _dt.timedelta | None = None,
        meters: Iterable[str] | None = None,
    ) -> int:
        """Queue one item per meter (of the inventory, or ``meters``) for ``[start,
        end)``, shuffled; returns the count.

        ``kind`` picks the session: block load (with daily profile and events), billing
        (the billing profile entries whose billing date is in the range) or events only.
        ``window`` (from now) bounds the retries of failed billing and events items.
        """
        with self._lock:
            names = [m.name for m in self.inventory] if meters is None else list(meters)
            self._rng.shuffle(names)
            if window is not None:
                self._windows[(kind, utc(start), utc(end))] = self.clock() + window
            kept: list[WorkItem] = []
            for name in names:
                self._hand_out(WorkItem(meter=name, kind=kind, start=start, end=end), kept)
            self._pending.extend(kept)
            return len(names)

    @property
    def pending(self) -> int:
        """Items of the rounds not handed out yet (retries waiting excluded)."""
        return len(self._pending)

    @property
    def waiting_retries(self) -> int:
        return len(self._retries)

    def next_retry(self) -> _dt.datetime | None:
        """When the earliest waiting retry falls due (``None``: none waits)."""
        with self._lock:
            return self._retries[0][0] if self._retries else None

    def due(self, now: _dt.datetime, limit: int) -> list[WorkItem]:
        with self._lock:
            out: list[WorkItem] = []
            now = utc(now)
            while self._retries and self._retries[0][0] <= now and len(out) < limit:
                self.retried += 1
                self._hand_out(heapq.heappop(self._retries)[2], out)
            while self._pending and len(out) < limit:
                out.append(self._pending.popleft())
            if len(out) < limit:
                scope = self.inventory.scope
                for gap in self.ledger.due_gaps(now, limit - len(out), scope=scope):
                    key = (gap.meter, WorkKind.BACK_READ, gap.start)
                    if key in self._leased:
                        continue
                    if gap.meter not in self.inventory:
                        if scope.whole:  # a meter gone from the fleet: nobody reads it back
                            gone = attrs.evolve(
                                gap,
                                state=GapState.EXPIRED,
                                next_try=None,
                                detail="meter no longer in the inventory",
                            )
                            self.ledger.update_gap(gone)
                            self.expired.append(gone)
                        continue
                    planned = self.policy.plan(gap, now)
                    if isinstance(planned, WorkItem):
                        self._leased[(gap.meter, WorkKind.BACK_READ, planned.start)] = gap
                        self._hand_out(planned, out)
                    elif planned != gap:
                        self.ledger.update_gap(planned)
                        self.expired.append(planned)
            return out

    def gap_of(self, item: WorkItem) -> Gap | None:
        """The ledger gap a back-read item was planned from (while it is leased)."""
        return self._leased.get((item.meter, item.kind, item.start))

    def done(self, item: WorkItem, *, ok: bool) -> None:
        """A session ran: a failed billing or events item is retried with backoff (see
        the module) or given up on."""
        with self._lock:
            self._leased.pop((item.meter, item.kind, item.start), None)
            if ok or item.kind not in RETRIED_KINDS:
                return
            retry = item.attempt + 1
            if retry >= self.retry.max_attempts:
                self.given_up.append(item)
                return
            at = self.clock() + self.retry.delay(retry)
            closes = self._windows.get((item.kind, item.start, item.end))
            if closes is not None and at >= closes:
                self.given_up.append(item)
                return
            again = attrs.evolve(item, attempt=retry)
            heapq.heappush(self._retries, (at, next(self._order), again))

    def give_up_waiting(self) -> list[WorkItem]:
        """The collection stops: retries still waiting are given up on (and returned)."""
        with self._lock:
            left = [item for _at, _n, item in sorted(self._retries)]
            self._retries.clear()
            self.given_up.extend(left)
            return left
