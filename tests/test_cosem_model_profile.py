"""Profile generic on the server side: captures, roll-over, sort order and selective
access, checked against naive reference filters and between stored and computed buffers."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import ActionResult, DataAccessResult, SelectiveAccess
from dlmskit.axdr import (
    Array,
    Data,
    DateTime,
    DeviationSign,
    DoubleLong,
    DoubleLongUnsigned,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
)
from dlmskit.cosem import (
    CaptureObject,
    Clock,
    ComputedBuffer,
    CosemObjectTree,
    DataObject,
    ProfileGeneric,
    SortMethod,
    StoredBuffer,
    by_entries,
    by_time_range,
    filter_rows,
    local_context,
)

SIGN = DeviationSign.UTC_TO_LOCAL
IST = dt.timezone(dt.timedelta(minutes=330))
CLOCK = CaptureObject.of(8, "0.0.1.0.0.255", 2)
ENERGY = CaptureObject.of(3, "1.0.1.29.0.255", 2)
VOLTAGE = CaptureObject.of(3, "1.0.12.27.0.255", 2)
COLUMNS = (CLOCK, ENERGY, VOLTAGE)
BASE = dt.datetime(2024, 3, 1, tzinfo=IST)


def stamp(moment: dt.datetime, sign: DeviationSign = SIGN) -> OctetString:
    return OctetString(DateTime.from_datetime(moment, sign=sign).to_bytes())


def row_at(moment: dt.datetime) -> tuple[Data, ...]:
    minutes = int((moment - BASE).total_seconds()) // 60
    return (stamp(moment), DoubleLongUnsigned(minutes % 1000), LongUnsigned(23000 + minutes % 97))


def get(profile: ProfileGeneric, access: SelectiveAccess | None = None) -> Data | DataAccessResult:
    return profile.get_attribute(local_context(), 2, access)


def as_array(rows: list[tuple[Data, ...]], columns: list[int] | None = None) -> Array:
    if columns is None:
        return Array(Structure(r) for r in rows)
    return Array(Structure(r[i] for i in columns) for r in rows)


# -- range and entry descriptors against naive references ------------------------------------

_offsets = st.lists(st.integers(0, 500), max_size=25)
_column_sets = st.lists(st.sampled_from(range(3)), max_size=3, unique=True)


@settings(max_examples=150)
@given(_offsets, st.integers(-10, 510), st.integers(-10, 510), _column_sets, st.booleans())
def test_range_descriptor_equals_a_naive_filter(
    offsets: list[int], low: int, high: int, selected: list[int], utc_bounds: bool
) -> None:
    times = [BASE + dt.timedelta(minutes=15 * o) for o in offsets]
    rows = [row_at(t) for t in times]
    profile = ProfileGeneric("1.0.99.1.0.255", capture_objects=COLUMNS, sign=SIGN, tz=IST)
    assert isinstance(profile.buffer, StoredBuffer)
    for r in rows:
        profile.buffer.append(r)
    start = BASE + dt.timedelta(minutes=15 * low)
    end = BASE + dt.timedelta(minutes=15 * high)
    if utc_bounds:  # bounds in another zone name the same instants
        start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    access = by_time_range(start, end, sign=SIGN, columns=[COLUMNS[i] for i in selected])
    expected = [r for t, r in zip(times, rows, strict=True) if start <= t <= end]
    assert get(profile, access) == as_array(expected, selected or None)


@settings(max_examples=150)
@given(
    st.integers(0, 12),
    st.integers(0, 15),
    st.integers(0, 15),
    st.integers(0, 4),
    st.integers(0, 4),
    st.sampled_from([SortMethod.FIFO, SortMethod.LIFO]),
)
def test_entry_descriptor_equals_a_naive_slice(
    count: int, first: int, last: int, first_col: int, last_col: int, sort: SortMethod
) -> None:
    rows = [row_at(BASE + dt.timedelta(minutes=15 * i)) for i in range(count)]
    profile = ProfileGeneric(
        "1.0.99.1.0.255",
        capture_objects=COLUMNS,
        sort_method=sort,
        buffer=StoredBuffer(0, rows),
    )
    in_order = rows if sort is SortMethod.FIFO else rows[::-1]
    # Blue Book: 1-based entries and columns, 0 in to_* means "up to the last"
    stop = count if last == 0 else min(last, count)
    col_stop = 3 if last_col == 0 else min(last_col, 3)
    expected = [
        tuple(r[c] for c in range(max(first_col, 1) - 1, col_stop))
        for r in in_order[max(first, 1) - 1 : stop]
    ]
    access = by_entries(first, last, from_column=first_col, to_column=last_col)
    assert get(profile, access) == Array(Structure(r) for r in expected)


@settings(max_examples=100)
@given(_offsets, st.integers(0, 1000), st.integers(0, 1000))
def test_range_on_a_numeric_column(offsets: list[int], low: int, high: int) -> None:
    rows = [row_at(BASE + dt.timedelta(minutes=15 * o)) for o in offsets]
    profile = ProfileGeneric(
        "1.0.99.1.0.255", capture_objects=COLUMNS, buffer=StoredBuffer(0, rows)
    )
    access = SelectiveAccess(
        selector=1,
        parameters=Structure(
            (ENERGY.to_data(), DoubleLongUnsigned(low), DoubleLongUnsigned(high), Array())
        ),
    )
    expected = [r for r in rows if low <= r[1] <= high]  # type: ignore[operator]
    assert get(profile, access) == as_array(expected)


# -- computed buffers ---------------------------------------------------------------------------


def _computed(now: dt.datetime, depth: int, gaps: frozenset[int]) -> ComputedBuffer:
    def rows(moment: dt.datetime) -> tuple[Data, ...] | None:
        slot = int((moment - BASE).total_seconds()) // 900
        return None if slot % 7 in gaps else row_at(moment)

    return ComputedBuffer(row_at=rows, period=900, depth=depth, now=lambda: now)


@settings(max_examples=100)
@given(
    st.integers(0, 3000),
    st.integers(1, 200),
    st.frozensets(st.integers(0, 6), max_size=3),
    st.integers(-50, 300),
    st.integers(-50, 300),
)
def test_computed_buffer_reads_like_the_same_rows_stored(
    minutes: int, depth: int, gaps: frozenset[int], low: int, span: int
) -> None:
    now = BASE + dt.timedelta(days=2, minutes=minutes)
    computed = _computed(now, depth, gaps)
    stored = StoredBuffer(0, computed.rows())
    a = ProfileGeneric(
        "1.0.99.1.0.255", capture_objects=COLUMNS, buffer=computed, sign=SIGN, tz=IST
    )
    b = ProfileGeneric("1.0.99.1.0.255", capture_objects=COLUMNS, buffer=stored, sign=SIGN, tz=IST)
    newest = BASE + dt.timedelta(days=2, minutes=minutes - minutes % 15)
    start = newest - dt.timedelta(minutes=15 * low)
    end = start + dt.timedelta(minutes=7 * span)
    assert stored.entries_in_use() == computed.entries_in_use()
    for access in (
        None,
        by_time_range(start, end, sign=SIGN),
        by_time_range(start, end, sign=SIGN, columns=[VOLTAGE]),
        by_entries(3, 10, from_column=2),
    ):
        assert get(a, access) == get(b, access)


def test_computed_buffer_window_and_first_capture() -> None:
    now = dt.datetime(2024, 3, 1, 10, 7, tzinfo=IST)
    buffer = ComputedBuffer(row_at=row_at, period=900, depth=4, now=lambda: now)
    times = [r[0] for r in buffer.rows()]
    assert times == [
        stamp(now.replace(minute=m) - dt.timedelta(hours=h))
        for h, m in ((1, 15), (1, 30), (1, 45), (0, 0))
    ]
    late = ComputedBuffer(
        row_at=row_at, period=900, depth=96, now=lambda: now, first=now.replace(minute=0)
    )
    assert late.entries_in_use() == 1
    never = ComputedBuffer(
        row_at=row_at, period=900, depth=96, now=lambda: now, first=now + dt.timedelta(hours=1)
    )
    assert never.entries_in_use() == 0 and never.rows_between(BASE, now) == ()
    with pytest.raises(ValueError, match="positive"):
        ComputedBuffer(row_at=row_at, period=0, depth=1, now=lambda: now)


def test_forty_five_days_of_history_cost_only_what_is_read() -> None:
    calls: list[dt.datetime] = []

    def rows(moment: dt.datetime) -> tuple[Data, ...]:
        calls.append(moment)
        return row_at(moment)

    now = BASE + dt.timedelta(days=45)
    profile = ProfileGeneric(
        "1.0.99.1.0.255",
        capture_objects=COLUMNS,
        buffer=ComputedBuffer(row_at=rows, period=900, depth=45 * 96, now=lambda: now),
        sign=SIGN,
        tz=IST,
    )
    day = BASE + dt.timedelta(days=10)
    result = get(profile, by_time_range(day, day + dt.timedelta(days=1), sign=SIGN))
    assert isinstance(result, Array) and len(result) == 97
    assert len(calls) == 97


# -- captures, roll-over, sort order, methods ------------------------------------------------------


def _tree_with_profile(**kw: object) -> tuple[CosemObjectTree, ProfileGeneric, DataObject]:
    moment = [dt.datetime(2024, 3, 1, 0, 0, tzinfo=dt.UTC)]
    counter = DataObject("0.0.96.2.0.255", Unsigned(0))
    profile = ProfileGeneric(
        "0.0.99.98.3.255",
        capture_objects=(CLOCK, CaptureObject.of(1, "0.0.96.2.0.255", 2)),
        **kw,  # type: ignore[arg-type]
    )
    tree = CosemObjectTree([Clock(now=lambda: moment[0]), counter, profile])
    return tree, profile, counter


def test_capture_reads_the_tree_and_rolls_over_fifo() -> None:
    tree, profile, counter = _tree_with_profile(profile_entries=3)
    for i in range(5):
        counter[2] = Unsigned(i)
        assert profile.invoke(local_context(), 2, Integer(0)) == (ActionResult.SUCCESS, None)
    buffer = get(profile)
    assert isinstance(buffer, Array)
    assert [row[1] for row in buffer] == [2, 3, 4]  # type: ignore[index]
    assert buffer[0][0] == tree["0.0.1.0.0.255"][2]  # type: ignore[index]
    assert profile.get_attribute(local_context(), 7, None) == DoubleLongUnsigned(3)
    assert profile.invoke(local_context(), 1, Integer(0)) == (ActionResult.SUCCESS, None)
    assert get(profile) == Array()


def test_lifo_puts_the_newest_entry_first() -> None:
    _, profile, counter = _tree_with_profile(sort_method=SortMethod.LIFO)
    for i in range(3):
        counter[2] = Unsigned(i)
        profile.capture()
    assert [row[1] for row in get(profile)] == [2, 1, 0]  # type: ignore[union-attr, index]
    assert [row[0] for row in get(profile, by_entries(1, 1, from_column=2))] == [2]  # type: ignore[union-attr, index]


def test_capture_on_read_and_data_index() -> None:
    clock = Clock(now=lambda: dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    table = DataObject("0.0.96.1.9.255", Structure((Unsigned(7), Unsigned(8))))
    profile = ProfileGeneric(
        "1.0.94.91.0.255",
        capture_objects=(
            CaptureObject.of(1, "0.0.96.1.9.255", 2, 2),
            CaptureObject.of(1, "0.0.96.1.9.255", 2, 9),
            CaptureObject.of(3, "0.0.96.1.9.255", 2),
        ),
        profile_entries=1,
        capture_on_read=True,
    )
    CosemObjectTree([clock, table, profile])
    assert get(profile) == Array((Structure((Unsigned(8), None, None)),))
    assert get(profile) == Array((Structure((Unsigned(8), None, None)),))


def test_bad_selections_are_refused_not_raised() -> None:
    rows = [row_at(BASE)]
    profile = ProfileGeneric(
        "1.0.99.1.0.255", capture_objects=COLUMNS, buffer=StoredBuffer(0, rows)
    )
    unknown = CaptureObject.of(3, "1.0.99.99.0.255", 2)
    for params in (
        Structure(),
        Structure((unknown.to_data(), stamp(BASE), stamp(BASE), Array())),
        Structure((CLOCK.to_data(), stamp(BASE), DoubleLongUnsigned(3), Array())),
        Structure((CLOCK.to_data(), stamp(BASE), stamp(BASE), Array((unknown.to_data(),)))),
        Structure((CLOCK.to_data(), OctetString(bytes(12)), stamp(BASE), Array())),
        Structure((CLOCK.to_data(), stamp(BASE), stamp(BASE), Structure())),
        Structure((Unsigned(1), stamp(BASE), stamp(BASE), Array())),
    ):
        access = SelectiveAccess(selector=1, parameters=params)
        assert get(profile, access) is DataAccessResult.OTHER_REASON
    bad_entries = SelectiveAccess(selector=2, parameters=Structure((True, None, None, None)))
    assert get(profile, bad_entries) is DataAccessResult.OTHER_REASON
    assert get(profile, SelectiveAccess(selector=3, parameters=None)) is (
        DataAccessResult.SCOPE_OF_ACCESS_VIOLATED
    )
    assert profile.get_attribute(local_context(), 3, by_entries()) is (
        DataAccessResult.SCOPE_OF_ACCESS_VIOLATED
    )
    assert filter_rows(
        rows, COLUMNS, SelectiveAccess(selector=9, parameters=None), sign=SIGN, tz=IST
    ) is (DataAccessResult.SCOPE_OF_ACCESS_VIOLATED)


def test_computed_buffer_cannot_be_captured_or_reset() -> None:
    profile = ProfileGeneric(
        "1.0.99.1.0.255", capture_objects=COLUMNS, buffer=_computed(BASE, 4, frozenset())
    )
    assert profile.invoke(local_context(), 2, Integer(0)) == (ActionResult.OTHER_REASON, None)
    assert profile.invoke(local_context(), 1, Integer(0)) == (ActionResult.OTHER_REASON, None)


def test_range_bounds_without_deviation_are_meter_local_time() -> None:
    rows = [row_at(BASE + dt.timedelta(minutes=15 * i)) for i in range(8)]
    profile = ProfileGeneric(
        "1.0.99.1.0.255", capture_objects=COLUMNS, buffer=StoredBuffer(0, rows), sign=SIGN, tz=IST
    )
    naive_start = (BASE + dt.timedelta(minutes=30)).replace(tzinfo=None)
    naive_end = naive_start + dt.timedelta(minutes=30)
    result = get(profile, by_time_range(naive_start, naive_end, sign=SIGN))
    assert result == as_array(rows[2:5])


@settings(max_examples=60)
@given(st.integers(0, 3000), st.integers(1, 300), st.integers(0, 320), st.integers(0, 320))
def test_complete_computed_buffer_computes_only_the_entries_read(
    minutes: int, depth: int, first: int, last: int
) -> None:
    calls: list[dt.datetime] = []

    def rows(moment: dt.datetime) -> tuple[Data, ...]:
        calls.append(moment)
        return row_at(moment)

    now = BASE + dt.timedelta(days=2, minutes=minutes)
    complete = ComputedBuffer(row_at=rows, period=900, depth=depth, now=lambda: now, complete=True)
    stored = StoredBuffer(0, _computed(now, depth, frozenset()).rows())
    a = ProfileGeneric("1.0.99.1.0.255", capture_objects=COLUMNS, buffer=complete, sign=SIGN)
    b = ProfileGeneric("1.0.99.1.0.255", capture_objects=COLUMNS, buffer=stored, sign=SIGN)
    assert a.get_attribute(local_context(), 7, None) == DoubleLongUnsigned(depth)
    assert calls == []
    access = by_entries(first, last, from_column=2)
    assert get(a, access) == get(b, access)
    stop = depth if last == 0 else min(last, depth)
    assert len(calls) == max(0, stop - max(first, 1) + 1)


def test_a_complete_buffer_that_misses_an_interval_is_a_failure_not_a_crash() -> None:
    buffer = ComputedBuffer(
        row_at=lambda t: None, period=900, depth=4, now=lambda: BASE, complete=True
    )
    profile = ProfileGeneric("1.0.99.1.0.255", capture_objects=COLUMNS, buffer=buffer)
    assert get(profile) is DataAccessResult.OTHER_REASON
    assert len(buffer.rows()) == 4
    with pytest.raises(IndexError):
        buffer.rows()[4]


@settings(max_examples=60)
@given(
    st.integers(0, 3000),
    st.integers(1, 300),
    st.frozensets(st.integers(0, 6), max_size=3),
    st.integers(0, 320),
    st.integers(0, 320),
)
def test_present_hint_reads_like_the_gappy_buffer_and_computes_only_what_is_read(
    minutes: int, depth: int, gaps: frozenset[int], first: int, last: int
) -> None:
    calls: list[dt.datetime] = []

    def present(moment: dt.datetime) -> bool:
        return int((moment - BASE).total_seconds()) // 900 % 7 not in gaps

    def rows(moment: dt.datetime) -> tuple[Data, ...]:
        calls.append(moment)
        return row_at(moment)

    now = BASE + dt.timedelta(days=2, minutes=minutes)
    hinted = ComputedBuffer(row_at=rows, period=900, depth=depth, now=lambda: now, present=present)
    gappy = _computed(now, depth, gaps)
    a = ProfileGeneric("1.0.99.1.0.255", capture_objects=COLUMNS, buffer=hinted, sign=SIGN)
    b = ProfileGeneric("1.0.99.1.0.255", capture_objects=COLUMNS, buffer=gappy, sign=SIGN)
    count = gappy.entries_in_use()
    assert a.get_attribute(local_context(), 7, None) == DoubleLongUnsigned(count)
    assert calls == []
    access = by_entries(first, last)
    result = get(a, access)
    assert result == get(b, access)
    assert isinstance(result, Array) and len(calls) == len(result)
    start = now - dt.timedelta(minutes=15 * (first % 50))
    window = by_time_range(start, start + dt.timedelta(hours=3), sign=SIGN)
    assert get(a, window) == get(b, window)


@settings(max_examples=100)
@given(
    st.lists(st.integers(-50, 50), max_size=12),
    st.integers(0, 5),
    st.sampled_from(
        [
            SortMethod.LARGEST,
            SortMethod.SMALLEST,
            SortMethod.NEAREST_TO_ZERO,
            SortMethod.FARTHEST_FROM_ZERO,
        ]
    ),
)
def test_sorted_profiles_keep_the_best_entries_first(
    values: list[int], depth: int, method: SortMethod
) -> None:
    demand = CaptureObject.of(1, "1.0.1.6.0.255", 2)
    value = DataObject("1.0.1.6.0.255", DoubleLong(0))
    profile = ProfileGeneric(
        "1.0.98.1.0.255",
        capture_objects=(CaptureObject.of(1, "0.0.96.2.0.255", 2), demand),
        sort_method=method,
        sort_object=demand,
        profile_entries=depth,
    )
    sequence = DataObject("0.0.96.2.0.255", Unsigned(0))
    CosemObjectTree([value, sequence, profile])
    for n, v in enumerate(values):
        value[2] = DoubleLong(v)
        sequence[2] = Unsigned(n)
        profile.capture()

    def rank(v: int) -> int:
        return {
            SortMethod.LARGEST: -v,
            SortMethod.SMALLEST: v,
            SortMethod.NEAREST_TO_ZERO: abs(v),
            SortMethod.FARTHEST_FROM_ZERO: -abs(v),
        }[method]

    # all captures ranked (ties: the older first), then the buffer's depth
    expected = sorted(enumerate(values), key=lambda item: (rank(item[1]), item[0]))
    if depth:
        expected = expected[:depth]
    assert get(profile) == Array(Structure((Unsigned(n), DoubleLong(v))) for n, v in expected)
    assert profile[6] == demand.to_data()


def test_sorting_needs_a_captured_sort_object_and_a_stored_buffer() -> None:
    with pytest.raises(ValueError, match="sort_object"):
        ProfileGeneric("1.0.98.1.0.255", capture_objects=COLUMNS, sort_method=SortMethod.LARGEST)
    with pytest.raises(ValueError, match="stored"):
        ProfileGeneric(
            "1.0.98.1.0.255",
            capture_objects=COLUMNS,
            sort_method=SortMethod.LARGEST,
            sort_object=ENERGY,
            buffer=_computed(BASE, 4, frozenset()),
        )
