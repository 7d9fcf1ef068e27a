"""The reference head-end: a trio application on the public dlmskit API.

Collection logic talks to storage and work distribution through ports
(:class:`ReadingsSink`, :class:`WorkSource`, :class:`GapLedger`, ...); :class:`Store`
is the single-node SQLite implementation.
"""

from __future__ import annotations

from hes._gapledger import BackReadPolicy, Gap, InterpolationPolicy, find_gaps, interpolate
from hes._model import (
    GapState,
    MeterEventRecord,
    Outcome,
    Reading,
    ReadingSource,
    SessionRecord,
    WorkItem,
    WorkKind,
)
from hes._ports import (
    EventSink,
    GapLedger,
    ReadingsSink,
    ReadingsSource,
    SessionLog,
    WorkSource,
)
from hes._quality import Quality, parse_quality, quality_text
from hes._store import Store

__all__ = [
    "BackReadPolicy",
    "EventSink",
    "Gap",
    "GapLedger",
    "GapState",
    "InterpolationPolicy",
    "MeterEventRecord",
    "Outcome",
    "Quality",
    "Reading",
    "ReadingSource",
    "ReadingsSink",
    "ReadingsSource",
    "SessionLog",
    "SessionRecord",
    "Store",
    "WorkItem",
    "WorkKind",
    "WorkSource",
    "find_gaps",
    "interpolate",
    "parse_quality",
    "quality_text",
]
