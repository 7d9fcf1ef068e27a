"""What a collection session leaves for the store: readings or store rows, the session
record, gap ledger changes (:class:`SessionResult`), made from what the session read.

A block load read goes to the store as rows (:func:`~hes.block_load_rows`); with the
interpolation policy on, as validated readings with the estimates for short runs it
lacked. A failed profile session opens a gap over its range; a back-read replaces the gap
it read with what is still missing.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import attrs

from hes._gapledger import Gap, estimate_missing
from hes._inventory import MeterInfo
from hes._metrics import Metrics
from hes._model import (
    MeterEventRecord,
    Outcome,
    Reading,
    ReadingSource,
    SessionRecord,
    WorkItem,
    WorkKind,
)
from hes._pull_rows import BlockLoadRows, block_load_rows
from hes._quality import Quality
from hes._schedule import Schedule
from hes._session import SessionData
from hes._store import ReadingRow
from hes._validate import ValidationResult, check_cumulative, validate_block_load

if TYPE_CHECKING:  # the engine module imports this one
    from hes._engine import CollectionConfig

__all__ = ["LAG_CHANNEL", "PROFILE_KINDS", "SessionResult", "session_result"]

#: The channel whose newest interval gives the lag behind real time (block import energy).
LAG_CHANNEL = "1.0.1.29.0.255"
#: Work kinds that read the block load profile (and whose failures are gaps in it).
PROFILE_KINDS = frozenset({WorkKind.BLOCK_LOAD, WorkKind.DAILY, WorkKind.BACK_READ})

#: What a block load check gives: store rows or validated readings.
_Checked = TypeVar("_Checked", BlockLoadRows, ValidationResult)


@attrs.frozen(kw_only=True)
class SessionResult:
    """What one session produced, ready for :meth:`HeadEnd.commit`."""

    readings: Sequence[Reading] = ()
    rows: Sequence[ReadingRow] = ()
    """Readings given as store rows (:func:`~hes.reading_row`), stored after
    ``readings``: a block load read's validated readings go this way."""
    events: Sequence[MeterEventRecord] = ()
    session: SessionRecord | None = None
    gaps_open: Sequence[Gap] = ()
    gap_replace: tuple[Gap, Sequence[Gap]] | None = None
    newest: int | None = None
    """The newest interval start (epoch seconds) of block import energy among ``rows``,
    found when they were made; ``None``: the commit looks for it in ``rows``."""


def session_result(
    config: CollectionConfig,
    metrics: Metrics,
    item: WorkItem,
    info: MeterInfo,
    started: _dt.datetime,
    ended: _dt.datetime,
    outcome: Outcome,
    detail: str,
    data: object,
    synced: bool,
    schedule: Schedule | None,
) -> SessionResult:
    """The result of one session (``data``: the :class:`SessionData` it read, if any);
    counts its flags and the session in ``metrics``."""
    back_read = item.kind is WorkKind.BACK_READ
    gap = schedule.gap_of(item) if schedule is not None and back_read else None
    deviation = None
    readings: list[Reading] = []
    stored: Sequence[ReadingRow] = ()
    events: Sequence[MeterEventRecord] = ()
    opened: list[Gap] = []
    replace: tuple[Gap, Sequence[Gap]] | None = None
    newest: int | None = None
    rows = 0
    if isinstance(data, SessionData) and item.kind not in PROFILE_KINDS:
        # billing and events-only sessions: their values as read, no block load gaps
        if data.clock is not None:
            deviation = data.clock.deviation
        readings = list(data.billing)
        events = data.events
        rows = len(data.billing) + len(data.events)
    elif isinstance(data, SessionData):
        if data.clock is not None:
            deviation = data.clock.deviation
        source = ReadingSource.BACK_READ if back_read else ReadingSource.PULL
        if config.interpolation.enabled:
            readings, checked = _readings(
                config, metrics, info, item, data, ended, deviation, source
            )
            missing, counted = checked.missing, checked.flags
        else:
            # the same rows, straight from the interval columns (no Reading per value)
            pulled = _checked(block_load_rows, config, info, item, data, ended, deviation, source)
            stored, missing, counted = pulled.rows, pulled.missing, pulled.flags
            newest = pulled.newest.get(LAG_CHANNEL)
        events = data.events
        rows = len(data.block_load)
        flags = metrics.flags
        for flag, count in counted.items():
            flags[flag.value] += count
        if gap is not None:
            replace = (gap, _after(config, gap, item, ended, True, missing, ""))
        elif missing:
            retry_at = ended + config.back_reads.delay(1)
            opened = [
                Gap(
                    meter=info.name,
                    profile="block_load",
                    start=a,
                    end=b,
                    next_try=retry_at,
                    detail="not in read",
                )
                for a, b in missing
            ]
    elif gap is not None:
        replace = (gap, _after(config, gap, item, ended, False, (), detail))
    elif item.kind in PROFILE_KINDS:
        opened = [
            Gap(
                meter=info.name,
                profile="block_load",
                start=item.start,
                end=item.end,
                next_try=ended + config.back_reads.delay(1),
                detail=outcome.value,
            )
        ]
    session = SessionRecord(
        meter=info.name,
        kind=item.kind,
        started=started,
        ended=ended,
        outcome=outcome,
        rows=rows,
        clock_deviation=None if deviation is None else deviation.total_seconds(),
        time_synced=synced,
        detail=detail,
    )
    metrics.session(item.kind.value, outcome.value, (ended - started).total_seconds())
    return SessionResult(
        readings=readings,
        rows=stored,
        events=events,
        session=session,
        gaps_open=opened,
        gap_replace=replace,
        newest=newest,
    )


def _checked(
    check: Callable[..., _Checked],
    config: CollectionConfig,
    info: MeterInfo,
    item: WorkItem,
    data: SessionData,
    ended: _dt.datetime,
    deviation: _dt.timedelta | None,
    source: ReadingSource,
) -> _Checked:
    """``check`` (:func:`block_load_rows` or :func:`validate_block_load`, which take the
    same arguments) over a block load read."""
    return check(
        info.name,
        data.block_load,
        start=item.start,
        end=item.end,
        received=ended,
        net_metered=info.net_metered,
        clock_deviation=deviation,
        registers=data.registers,
        events=data.events,
        source=source,
        policy=config.validation,
    )


def _readings(
    config: CollectionConfig,
    metrics: Metrics,
    info: MeterInfo,
    item: WorkItem,
    data: SessionData,
    ended: _dt.datetime,
    deviation: _dt.timedelta | None,
    source: ReadingSource,
) -> tuple[list[Reading], ValidationResult]:
    """A block load read's readings (validated, registers, monotonic check) with the
    estimates the interpolation policy makes for the intervals it lacked."""
    result = _checked(validate_block_load, config, info, item, data, ended, deviation, source)
    readings = result.readings
    estimates = estimate_missing(
        result.readings, result.missing, config.interpolation, config.validation.period
    )
    if estimates:
        metrics.flags[Quality.ESTIMATED.value] += len(estimates)
    for when, values in data.registers.items():
        readings.extend(
            Reading(
                meter=info.name,
                channel=channel,
                start=when,
                value=value,
                unit="",
                received=ended,
                source=ReadingSource.PULL,
            )
            for channel, value in values.items()
        )
    return check_cumulative(readings) + estimates, result


def _after(
    config: CollectionConfig,
    gap: Gap,
    item: WorkItem,
    now: _dt.datetime,
    answered: bool,
    missing: Sequence[tuple[_dt.datetime, _dt.datetime]],
    detail: str,
) -> list[Gap]:
    """Ledger rows replacing ``gap`` after a back-read of part of it."""
    read = attrs.evolve(gap, start=item.start, end=item.end)
    out = config.back_reads.after_attempt(
        read, now, answered=answered, still_missing=missing, detail=detail
    )
    if gap.start < item.start:
        out.append(attrs.evolve(gap, end=item.start))
    if item.end < gap.end:
        out.append(attrs.evolve(gap, start=item.end))
    return out
