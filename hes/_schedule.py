"""The single-node work source: block load collection rounds and due back-reads.

A round hands out one item per meter for the same range, in a seeded random order (the
randomised window: meters of one cell are not all dialled at once); back-reads come from
the gap ledger through the :class:`~hes.BackReadPolicy`. A distributed engine replaces
this with a shared queue that leases items; the collection code only sees
:class:`~hes.WorkSource`.
"""

from __future__ import annotations

import datetime as _dt
import random
from collections import deque

from hes._gapledger import BackReadPolicy, Gap
from hes._inventory import Inventory
from hes._model import WorkItem, WorkKind, utc
from hes._ports import GapLedger

__all__ = ["Schedule"]


class Schedule:
    """Implements :class:`~hes.WorkSource` for one node."""

    def __init__(
        self,
        inventory: Inventory,
        ledger: GapLedger,
        *,
        policy: BackReadPolicy | None = None,
        seed: int = 0,
    ) -> None:
        self.inventory = inventory
        self.ledger = ledger
        self.policy = policy or BackReadPolicy()
        self._rng = random.Random(seed)
        self._pending: deque[WorkItem] = deque()
        self._leased: dict[tuple[str, WorkKind, _dt.datetime], Gap] = {}
        self.expired: list[Gap] = []

    def add_round(
        self, start: _dt.datetime, end: _dt.datetime, kind: WorkKind = WorkKind.BLOCK_LOAD
    ) -> int:
        """Queue one item per meter for ``[start, end)``, shuffled; returns the count.

        ``kind`` picks the session: block load (with daily profile and events), billing
        (the billing profile entries whose billing date is in the range) or events only.
        """
        names = [m.name for m in self.inventory]
        self._rng.shuffle(names)
        for name in names:
            self._pending.append(WorkItem(meter=name, kind=kind, start=start, end=end))
        return len(names)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def due(self, now: _dt.datetime, limit: int) -> list[WorkItem]:
        out: list[WorkItem] = []
        while self._pending and len(out) < limit:
            out.append(self._pending.popleft())
        if len(out) < limit:
            for gap in self.ledger.due_gaps(utc(now), limit - len(out)):
                key = (gap.meter, WorkKind.BACK_READ, gap.start)
                if key in self._leased:
                    continue
                planned = self.policy.plan(gap, now)
                if isinstance(planned, WorkItem):
                    self._leased[(gap.meter, WorkKind.BACK_READ, planned.start)] = gap
                    out.append(planned)
                elif planned != gap:
                    self.ledger.update_gap(planned)
                    self.expired.append(planned)
        return out

    def gap_of(self, item: WorkItem) -> Gap | None:
        """The ledger gap a back-read item was planned from (while it is leased)."""
        return self._leased.get((item.meter, item.kind, item.start))

    def done(self, item: WorkItem, *, ok: bool) -> None:
        self._leased.pop((item.meter, item.kind, item.start), None)
