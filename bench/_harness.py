"""Shared pieces of the benchmarks: timing and the result record.

Every benchmark measures dlmskit and a peer (or a physical floor) in the same run and
reports the ratio; absolute numbers alone depend on the machine.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import attrs

__all__ = ["Measurement", "is_quick", "rate", "set_quick"]

_QUICK = False


def set_quick(quick: bool) -> None:
    """Quick mode: every :func:`rate` takes one short round (a smoke run, not a figure)."""
    global _QUICK
    _QUICK = quick


def is_quick() -> bool:
    """Whether benchmarks should use their smallest sizes."""
    return _QUICK


@attrs.frozen(kw_only=True)
class Measurement:
    """One comparison: our figure against a peer's or a floor's, same run, same unit."""

    name: str
    unit: str
    ours: float
    peer_name: str
    peer: float
    higher_is_better: bool = True
    target: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        """How many times better dlmskit is than the peer (above 1 is better)."""
        if self.higher_is_better:
            return self.ours / self.peer if self.peer else float("inf")
        return self.peer / self.ours if self.ours else float("inf")

    @property
    def meets_target(self) -> bool | None:
        return None if self.target is None else self.ratio >= self.target

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "unit": self.unit,
            "ours": self.ours,
            "peer_name": self.peer_name,
            "peer": self.peer,
            "higher_is_better": self.higher_is_better,
            "ratio": self.ratio,
            "target": self.target,
            "meets_target": self.meets_target,
            "note": self.note,
        }


def rate(fn: Callable[[], object], *, min_time: float = 0.3, repeats: int = 5) -> float:
    """Calls of ``fn`` per second: the best of ``repeats`` rounds of at least ``min_time``."""
    if _QUICK:
        min_time, repeats = min(min_time, 0.01), 1
    fn()  # warm up caches and lazily built tables
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time / 10:
            break
        n *= 2
    per_round = max(1, int(n * (min_time / max(elapsed, 1e-9))))
    best = 0.0
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(per_round):
                fn()
            elapsed = time.perf_counter() - start
            best = max(best, per_round / elapsed)
    finally:
        if gc_was_enabled:
            gc.enable()
    return best
