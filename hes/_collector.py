"""Python's cycle collector during collection runs (``CollectionConfig.gc_threshold``).

A session makes many short-lived objects; with the default young-generation threshold
(700 allocations) the collector scans them, and the inventory and layouts, over and
over. A run raises the threshold and freezes what exists when it starts; both are
undone when the last of overlapping runs ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

#: Runs under way with the collector tuned, and the thresholds to put back after them.
_tuned: list[tuple[int, int, int]] = []
#: Whether the first run in froze the heap (nothing was frozen before it).
_we_froze: list[bool] = []


@contextlib.contextmanager
def _collector_tuned(threshold: int | None) -> Iterator[None]:
    """Fewer cycle-collector runs during collection (see ``CollectionConfig.gc_threshold``);
    runs may nest or overlap: the first one in tunes, the last one out restores."""
    if threshold is None:
        yield
        return
    if not _tuned:
        old = gc.get_threshold()
        # an application that froze its own objects (e.g. before forking) keeps them frozen
        _we_froze[:] = [gc.get_freeze_count() == 0]
        if _we_froze[0]:
            gc.freeze()
        gc.set_threshold(max(threshold, old[0]), old[1], old[2])
        _tuned.append(old)
    else:
        _tuned.append(_tuned[0])
    try:
        yield
    finally:
        old = _tuned.pop()
        if not _tuned:
            gc.set_threshold(*old)
            if _we_froze and _we_froze[0]:
                gc.unfreeze()
