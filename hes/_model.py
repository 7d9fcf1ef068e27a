"""The head-end's values: readings, meter events, sessions, gaps and work items.

Times are aware UTC ``datetime`` values. A reading is keyed by (meter, channel,
interval start); ``captured`` is the time stamp the meter wrote (its own clock) and
``received`` the head-end's clock when the bytes arrived, so clock deviation can be told
apart from late delivery.
"""

from __future__ import annotations

import datetime as _dt
import enum

import attrs

from hes._quality import Quality

__all__ = [
    "GapState",
    "MeterEventRecord",
    "Outcome",
    "Reading",
    "ReadingSource",
    "SessionRecord",
    "WorkItem",
    "WorkKind",
    "utc",
]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def utc(when: _dt.datetime) -> _dt.datetime:
    """``when`` as aware UTC (naive values are taken as UTC)."""
    zone = when.tzinfo
    if zone is _dt.UTC:
        return when
    if zone is None:
        return when.replace(tzinfo=_dt.UTC)
    return when.astimezone(_dt.UTC)


def epoch_seconds(when: _dt.datetime) -> int:
    """Whole seconds since 1970 UTC (the store's key)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return int(when.timestamp())


def from_epoch(seconds: float) -> _dt.datetime:
    return _EPOCH + _dt.timedelta(seconds=seconds)


class ReadingSource(enum.IntEnum):
    """How a reading reached the head-end."""

    PULL = 1
    PUSH = 2
    BACK_READ = 3
    ESTIMATE = 4


def _flags(value: object) -> frozenset[Quality]:
    if isinstance(value, frozenset):
        if not value:
            return value
        if all(type(v) is Quality for v in value):
            return value
        return frozenset(Quality(v) for v in value)
    if isinstance(value, (set, tuple, list)):
        return frozenset(Quality(v) for v in value)
    raise TypeError(f"quality flags must be a collection, got {value!r}")


@attrs.frozen(kw_only=True)
class Reading:
    """One channel of one interval (or one daily value) of one meter."""

    meter: str
    channel: str
    """OBIS code text, e.g. ``1.0.1.29.0.255``."""
    start: _dt.datetime = attrs.field(converter=utc)
    value: float | None
    unit: str = ""
    quality: frozenset[Quality] = attrs.field(factory=frozenset, converter=_flags)
    captured: _dt.datetime | None = None
    received: _dt.datetime | None = None
    source: ReadingSource = ReadingSource.PULL

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.meter, self.channel, epoch_seconds(self.start))


@attrs.frozen(kw_only=True)
class MeterEventRecord:
    """An event from a meter's event log or an event push (IS 15959-2 event codes)."""

    meter: str
    when: _dt.datetime = attrs.field(converter=utc)
    log: int
    code: int
    received: _dt.datetime | None = None


class Outcome(enum.StrEnum):
    """How one session with a meter ended (the KPI buckets)."""

    OK = "ok"
    TIMEOUT = "timeout"
    REFUSED = "refused"
    SECURITY = "security"
    GARBAGE = "garbage"
    SERVICE_ERROR = "service_error"
    TRANSPORT = "transport"
    REPLAY = "replay"


class WorkKind(enum.StrEnum):
    """What a session is for."""

    BLOCK_LOAD = "block_load"
    DAILY = "daily"
    BILLING = "billing"
    EVENTS = "events"
    BACK_READ = "back_read"
    PUSH = "push"


@attrs.frozen(kw_only=True)
class SessionRecord:
    """One attempt to talk to a meter (or one push received), for KPIs and audit."""

    meter: str
    kind: WorkKind
    started: _dt.datetime = attrs.field(converter=utc)
    ended: _dt.datetime = attrs.field(converter=utc)
    outcome: Outcome
    rows: int = 0
    clock_deviation: float | None = None
    """Meter clock minus head-end clock, seconds (``None``: not read)."""
    time_synced: bool = False
    detail: str = ""

    @property
    def latency(self) -> float:
        return (self.ended - self.started).total_seconds()


class GapState(enum.StrEnum):
    """Life of a gap in the ledger."""

    OPEN = "open"
    FILLED = "filled"
    EXPIRED = "expired"
    """Beyond the meter's memory window: can no longer be back-read."""
    ABSENT = "absent"
    """The meter answered the range without these intervals (it has no row)."""
    ESTIMATED = "estimated"


@attrs.frozen(kw_only=True)
class WorkItem:
    """One session to run: a meter, what to read and the range (UTC, [start, end))."""

    meter: str
    kind: WorkKind
    start: _dt.datetime = attrs.field(converter=utc)
    end: _dt.datetime = attrs.field(converter=utc)
    attempt: int = 0
