"""Gap ledger planning: back-read ranges inside the memory window, backoff, outcomes,
and interpolation only where the policy allows it."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from hes import (
    BackReadPolicy,
    Gap,
    GapState,
    InterpolationPolicy,
    Quality,
    Reading,
    ReadingSource,
    WorkItem,
    WorkKind,
    find_gaps,
    interpolate,
)

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
Q = dt.timedelta(minutes=15)
H = dt.timedelta(hours=1)


def gap(a: int, b: int, **kw: object) -> Gap:
    return Gap(meter="M1", profile="block_load", start=T0 + a * Q, end=T0 + b * Q, **kw)  # type: ignore[arg-type]


def test_plan_reads_the_gap_range() -> None:
    item = BackReadPolicy().plan(gap(4, 8), T0 + 3 * H)
    assert item == WorkItem(
        meter="M1", kind=WorkKind.BACK_READ, start=T0 + 4 * Q, end=T0 + 8 * Q, attempt=1
    )


def test_plan_caps_span_and_clips_to_memory() -> None:
    policy = BackReadPolicy(memory=dt.timedelta(days=2), max_span=dt.timedelta(hours=6))
    now = T0 + dt.timedelta(days=3)
    item = policy.plan(gap(0, 96 * 2), now)
    assert isinstance(item, WorkItem)
    assert item.start == now - dt.timedelta(days=2)
    assert item.end == item.start + dt.timedelta(hours=6)
    expired = policy.plan(gap(0, 96), now)
    assert isinstance(expired, Gap) and expired.state is GapState.EXPIRED


def test_backoff_doubles_and_stops() -> None:
    policy = BackReadPolicy(max_attempts=3, base_delay=dt.timedelta(minutes=10))
    g = gap(0, 4)
    now = T0 + H
    delays = []
    for _ in range(3):
        (g,) = policy.after_attempt(g, now, answered=False, detail="timeout")
        if g.next_try is not None:
            delays.append(g.next_try - now)
            assert policy.plan(g, now) == g  # not due yet
            now = g.next_try
    assert delays == [dt.timedelta(minutes=10), dt.timedelta(minutes=20)]
    assert g.attempts == 3 and g.next_try is None and g.state is GapState.OPEN
    assert policy.plan(g, now + dt.timedelta(days=1)) == g  # reported open, not retried


def test_answered_attempt_fills_or_marks_absent() -> None:
    policy = BackReadPolicy()
    (filled,) = policy.after_attempt(gap(0, 4), T0, answered=True)
    assert filled.state is GapState.FILLED
    parts = policy.after_attempt(
        gap(0, 8), T0, answered=True, still_missing=[(T0 + Q, T0 + 2 * Q), (T0 + 5 * Q, T0 + 8 * Q)]
    )
    assert [(p.start, p.end, p.state) for p in parts] == [
        (T0 + Q, T0 + 2 * Q, GapState.ABSENT),
        (T0 + 5 * Q, T0 + 8 * Q, GapState.ABSENT),
    ]


@settings(max_examples=150, deadline=None)
@given(st.sets(st.integers(0, 40)), st.integers(0, 40), st.integers(0, 41))
def test_find_gaps_is_the_complement(present: set[int], a: int, b: int) -> None:
    runs = find_gaps([T0 + n * Q for n in present], T0 + a * Q, T0 + b * Q)
    missing: set[int] = set()
    for start, end in runs:
        assert start < end
        first, last = int((start - T0) / Q), int((end - T0) / Q)
        missing.update(range(first, last))
    assert missing == set(range(a, b)) - present
    # runs are maximal: they never touch each other
    for (_s1, e1), (s2, _e2) in itertools.pairwise(runs):
        assert e1 < s2


def test_find_gaps_aligns_an_unaligned_start() -> None:
    runs = find_gaps([], T0 + dt.timedelta(minutes=5), T0 + 2 * Q)
    assert runs == [(T0 + Q, T0 + 2 * Q)]


def _r(n: int, value: float) -> Reading:
    return Reading(meter="M1", channel="1.0.1.29.0.255", start=T0 + n * Q, value=value, unit="Wh")


def test_interpolation_only_when_allowed_and_bounded() -> None:
    on = InterpolationPolicy(enabled=True, max_intervals=3)
    est = interpolate(gap(1, 3), _r(0, 10.0), _r(3, 40.0), on)
    assert [(r.start, r.value) for r in est] == [(T0 + Q, 20.0), (T0 + 2 * Q, 30.0)]
    assert all(r.quality == {Quality.ESTIMATED} for r in est)
    assert all(r.source is ReadingSource.ESTIMATE for r in est)
    assert interpolate(gap(1, 3), _r(0, 10.0), _r(3, 40.0), InterpolationPolicy()) == []
    assert interpolate(gap(1, 5), _r(0, 10.0), _r(5, 40.0), on) == []  # too long
    assert interpolate(gap(1, 3), _r(0, 10.0), _r(4, 40.0), on) == []  # not adjacent
    only = InterpolationPolicy(enabled=True, channels=frozenset({"1.0.9.29.0.255"}))
    assert interpolate(gap(1, 3), _r(0, 10.0), _r(3, 40.0), only) == []
