"""Gaps in a meter's profile and the back-read plan (retry with backoff, memory window).

A gap is a run of missing intervals ``[start, end)`` of one profile of one meter. The
head-end asks the meter again by range, with exponential backoff between attempts, as
long as the range is still inside the meter's memory (IS 15959 meters keep about 45 days
of 15-minute block load). A range the meter answers without the interval is *absent*:
the meter has no row (e.g. a power failure) and asking again would not help. Nothing is
ever invented here; see :func:`interpolate` for the policy-bound estimate.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence

import attrs

from hes._model import GapState, Reading, ReadingSource, WorkItem, WorkKind, utc
from hes._quality import Quality

__all__ = [
    "BackReadPolicy",
    "Gap",
    "InterpolationPolicy",
    "estimate_missing",
    "find_gaps",
    "interpolate",
]

_INTERVAL = _dt.timedelta(minutes=15)


@attrs.frozen(kw_only=True)
class Gap:
    """Missing intervals ``[start, end)`` of ``profile`` of ``meter``."""

    meter: str
    profile: str
    start: _dt.datetime = attrs.field(converter=utc)
    end: _dt.datetime = attrs.field(converter=utc)
    state: GapState = GapState.OPEN
    attempts: int = 0
    next_try: _dt.datetime | None = None
    detail: str = ""

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a gap ends after it starts")

    def intervals(self, period: _dt.timedelta = _INTERVAL) -> int:
        return int((self.end - self.start) / period)


@attrs.frozen(kw_only=True)
class BackReadPolicy:
    """When to ask again: ``max_attempts`` tries, the n-th after ``base_delay * 2**n``
    (capped at ``max_delay``), only inside ``memory`` (the meter's profile depth), at
    most ``max_span`` per request."""

    max_attempts: int = 5
    base_delay: _dt.timedelta = _dt.timedelta(minutes=15)
    max_delay: _dt.timedelta = _dt.timedelta(days=1)
    memory: _dt.timedelta = _dt.timedelta(days=45)
    max_span: _dt.timedelta = _dt.timedelta(days=1)

    def delay(self, attempts: int) -> _dt.timedelta:
        return min(self.base_delay * (1 << max(attempts - 1, 0)), self.max_delay)

    def plan(self, gap: Gap, now: _dt.datetime) -> WorkItem | Gap:
        """The back-read to run for ``gap`` now, or the gap with its new state when none
        is due (expired, out of attempts, or waiting for its next try)."""
        now = utc(now)
        if gap.state is not GapState.OPEN:
            return gap
        oldest = now - self.memory
        if gap.end <= oldest:
            return attrs.evolve(gap, state=GapState.EXPIRED, next_try=None)
        if gap.attempts >= self.max_attempts:
            return attrs.evolve(gap, next_try=None)
        if gap.next_try is not None and gap.next_try > now:
            return gap
        start = max(gap.start, _ceil(oldest))
        end = min(gap.end, start + self.max_span)
        return WorkItem(
            meter=gap.meter,
            kind=WorkKind.BACK_READ,
            start=start,
            end=end,
            attempt=gap.attempts + 1,
        )

    def after_attempt(
        self,
        gap: Gap,
        now: _dt.datetime,
        *,
        answered: bool,
        still_missing: Sequence[tuple[_dt.datetime, _dt.datetime]] = (),
        detail: str = "",
    ) -> list[Gap]:
        """The ledger rows replacing ``gap`` after a back-read attempt.

        ``answered``: the meter returned the range (``still_missing`` lists the runs it
        had no row for: those become *absent*); otherwise the whole gap waits for its
        next try with backoff.
        """
        attempts = gap.attempts + 1
        if not answered:
            retry = attempts < self.max_attempts
            return [
                attrs.evolve(
                    gap,
                    attempts=attempts,
                    next_try=utc(now) + self.delay(attempts) if retry else None,
                    detail=detail,
                )
            ]
        out: list[Gap] = []
        for start, end in still_missing:
            out.append(
                attrs.evolve(
                    gap,
                    start=start,
                    end=end,
                    state=GapState.ABSENT,
                    attempts=attempts,
                    next_try=None,
                    detail=detail or "meter has no row",
                )
            )
        if not out:
            out.append(attrs.evolve(gap, state=GapState.FILLED, attempts=attempts, next_try=None))
        return out


def _ceil(when: _dt.datetime, period: _dt.timedelta = _INTERVAL) -> _dt.datetime:
    seconds = int(period.total_seconds())
    stamp = int(when.timestamp())
    return _dt.datetime.fromtimestamp(-(-stamp // seconds) * seconds, _dt.UTC)


def find_gaps(
    present: Iterable[_dt.datetime],
    start: _dt.datetime,
    end: _dt.datetime,
    period: _dt.timedelta = _INTERVAL,
) -> list[tuple[_dt.datetime, _dt.datetime]]:
    """Runs of interval starts in ``[start, end)`` (aligned to ``period``) not in
    ``present``, as ``[first, end)`` pairs."""
    return _gap_runs({int(utc(p).timestamp()) for p in present}, start, end, period)


def _gap_runs(
    have: set[int], start: _dt.datetime, end: _dt.datetime, period: _dt.timedelta = _INTERVAL
) -> list[tuple[_dt.datetime, _dt.datetime]]:
    """:func:`find_gaps` with the interval starts present given as epoch seconds."""
    step = int(period.total_seconds())
    first = int(_ceil(utc(start), period).timestamp())
    stop = int(utc(end).timestamp())
    runs: list[tuple[_dt.datetime, _dt.datetime]] = []
    run_start: int | None = None
    for stamp in range(first, stop, step):
        if stamp in have:
            if run_start is not None:
                runs.append((_at(run_start), _at(stamp)))
                run_start = None
        elif run_start is None:
            run_start = stamp
    if run_start is not None:
        runs.append((_at(run_start), _at(max(run_start + step, _last(first, stop, step)))))
    return runs


def _last(first: int, stop: int, step: int) -> int:
    if stop <= first:
        return first
    return first + -(-(stop - first) // step) * step


def _at(stamp: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(stamp, _dt.UTC)


@attrs.frozen(kw_only=True)
class InterpolationPolicy:
    """Linear interpolation of interval (block) values across a gap, only when allowed:
    for listed channels, gaps of at most ``max_intervals``, with a known value on both
    sides. Estimates are flagged :attr:`Quality.ESTIMATED` and never replace a read."""

    enabled: bool = False
    max_intervals: int = 4
    channels: frozenset[str] = frozenset()


def interpolate(
    gap: Gap,
    before: Reading,
    after: Reading,
    policy: InterpolationPolicy,
    period: _dt.timedelta = _INTERVAL,
) -> list[Reading]:
    """Estimated readings for ``gap`` between ``before`` and ``after`` (same meter and
    channel), or nothing when the policy does not allow it."""
    if not policy.enabled or before.channel != after.channel or before.meter != after.meter:
        return []
    if policy.channels and before.channel not in policy.channels:
        return []
    count = gap.intervals(period)
    if count < 1 or count > policy.max_intervals:
        return []
    if before.value is None or after.value is None:
        return []
    if before.start + period != gap.start or after.start != gap.end:
        return []
    out = []
    steps = count + 1
    for n in range(1, steps):
        value = before.value + (after.value - before.value) * n / steps
        out.append(
            Reading(
                meter=gap.meter,
                channel=before.channel,
                start=gap.start + period * (n - 1),
                value=value,
                unit=before.unit,
                quality=frozenset({Quality.ESTIMATED}),
                source=ReadingSource.ESTIMATE,
            )
        )
    return out


def estimate_missing(
    readings: Sequence[Reading],
    missing: Sequence[tuple[_dt.datetime, _dt.datetime]],
    policy: InterpolationPolicy,
    period: _dt.timedelta = _INTERVAL,
) -> list[Reading]:
    """Estimates for the runs ``[start, end)`` one read of one meter lacked, each
    channel interpolated between the readings of that read on both sides of the run
    (see :func:`interpolate`); runs without both neighbours stay unestimated."""
    if not policy.enabled or not missing:
        return []
    index = {(r.channel, r.start): r for r in readings}
    out: list[Reading] = []
    for a, b in missing:
        for (channel, when), before in index.items():
            if when != a - period:
                continue
            after = index.get((channel, utc(b)))
            if after is None:
                continue
            gap = Gap(meter=before.meter, profile="block_load", start=a, end=b)
            out.extend(interpolate(gap, before, after, policy, period))
    return out
