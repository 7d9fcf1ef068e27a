"""Supply control a client exercised on a meter, as it changes what the meter measures.

Disconnect control (class 70) opens the relay at the true time of the action and closes
it at the reconnection: no energy flows in between, and an interval cut part way counts
only its connected seconds. The limiter (class 71) compares each 15-minute block's
demand with the threshold a client wrote; a block above the threshold trips the relay
for that block (IS 15959-2 limiters act on the block demand), from the first block that
starts after the write. The factory threshold is not enforced, so an untouched meter
measures its load model.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Final

import attrs

from simulators._load import INTERVAL, interval_start

__all__ = ["NO_CONTROL", "SupplyControl"]

_Window = tuple[_dt.datetime, _dt.datetime | None]


@attrs.frozen(kw_only=True)
class SupplyControl:
    """Relay open windows (true time, UTC; ``None`` end while open) and load limits
    written by clients (true time, threshold in W), oldest first."""

    relay_open: tuple[_Window, ...] = ()
    limits: tuple[tuple[_dt.datetime, int], ...] = ()

    @property
    def active(self) -> bool:
        """Whether any action changes what the meter measures."""
        return bool(self.relay_open or self.limits)

    @property
    def connected(self) -> bool:
        return not self.relay_open or self.relay_open[-1][1] is not None

    def disconnected(self, when: _dt.datetime) -> SupplyControl:
        """The relay opened at ``when`` (no change if it is open)."""
        if not self.connected:
            return self
        return attrs.evolve(self, relay_open=(*self.relay_open, (when, None)))

    def reconnected(self, when: _dt.datetime) -> SupplyControl:
        """The relay closed at ``when`` (no change if it is closed)."""
        if self.connected:
            return self
        opened = self.relay_open[-1][0]
        return attrs.evolve(self, relay_open=(*self.relay_open[:-1], (opened, when)))

    def limited(self, when: _dt.datetime, watts: int) -> SupplyControl:
        """A client wrote the threshold ``watts`` at ``when``."""
        return attrs.evolve(self, limits=(*self.limits, (when, watts)))

    def open_at(self, when: _dt.datetime) -> bool:
        """Whether the relay is open at true time ``when``."""
        return any(start <= when and (end is None or when < end) for start, end in self.relay_open)

    def off_seconds(self, index: int, until: _dt.datetime | None = None) -> int:
        """Seconds of interval ``index`` (up to ``until``, if earlier) with the relay open."""
        begin = interval_start(index)
        stop = begin + _dt.timedelta(seconds=INTERVAL)
        if until is not None and until < stop:
            stop = until
        off = 0
        for start, end in self.relay_open:
            low = max(start, begin)
            high = stop if end is None else min(end, stop)
            if high > low:
                off += int((high - low).total_seconds())
        return min(off, INTERVAL)

    def limit_for(self, index: int) -> int | None:
        """The threshold (W) enforced in interval ``index``, if a client set one before."""
        begin = interval_start(index)
        found = None
        for when, watts in self.limits:
            if when <= begin:
                found = watts
        return found

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: ISO 8601 UTC instants, ``null`` for a relay still open."""
        return {
            "relay_open": [
                [start.isoformat(), None if end is None else end.isoformat()]
                for start, end in self.relay_open
            ],
            "limits": [[when.isoformat(), watts] for when, watts in self.limits],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SupplyControl:
        """The inverse of :meth:`to_json`; ``ValueError`` for anything else."""
        try:
            windows = tuple(
                (_instant(start), None if end is None else _instant(end))
                for start, end in data.get("relay_open", ())
            )
            limits = tuple((_instant(when), int(watts)) for when, watts in data.get("limits", ()))
        except (TypeError, AttributeError, OverflowError) as exc:
            raise ValueError(f"not a supply control record: {exc}") from None
        return cls(relay_open=windows, limits=limits)

    def touches(self, first: int, end: int) -> bool:
        """Whether an action changes anything in intervals ``first..end-1``."""
        begin, stop = interval_start(first), interval_start(end)
        if any(when < stop for when, _ in self.limits):
            return True
        return any(
            start < stop and (finish is None or finish > begin) for start, finish in self.relay_open
        )


def _instant(text: object) -> _dt.datetime:
    if not isinstance(text, str):
        raise ValueError(f"not an ISO 8601 instant: {text!r}")
    when = _dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError(f"no UTC offset: {text!r}")
    return when.astimezone(_dt.UTC)


#: The control of a meter no client switched (shared: it is immutable).
NO_CONTROL: Final = SupplyControl()
