"""Profile generic (class 7, version 1; Blue Book 4.3.6) on the server side.

The buffer is either stored (:class:`StoredBuffer`, FIFO roll-over at
``profile_entries``) or computed (:class:`ComputedBuffer`: each row is a function of its
capture time, so 45 days of 15-minute history cost no memory). GET of the buffer honours
selective access exactly as the Blue Book describes it:

* selector 1, range_descriptor: rows whose restricting object's value lies in
  ``[from_value, to_value]`` (both ends included; date-times compared as instants), then
  the ``selected_values`` columns (empty: all);
* selector 2, entry_descriptor: entries ``from_entry..to_entry`` (1-based, ``to_entry`` 0
  = the last one) and columns ``from_selected_value..to_selected_value`` (1-based, 0 =
  the last column).

Entry 1 is the oldest entry with sort_method FIFO and the newest with LIFO; with the
sorting methods (largest, smallest, nearest to / farthest from zero) entry 1 is the best
by the sort_object's value, and a full buffer drops its worst entry (ties keep the older).
"""

from __future__ import annotations

import collections
import datetime as _dt
import enum
from collections.abc import Callable, Iterable, Sequence
from typing import Final, Protocol, TypeAlias, overload

from dlmskit.apdu import ActionResult, DataAccessResult, SelectiveAccess
from dlmskit.association import RequestContext
from dlmskit.axdr import (
    Array,
    Data,
    DateTime,
    DeviationSign,
    DoubleLongUnsigned,
    Enum,
    Float32,
    Float64,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
)
from dlmskit.cosem._capture import CaptureObject
from dlmskit.cosem._model_base import CosemObject, capture_objects_value, method_failed
from dlmskit.errors import DlmsError
from obis import ObisCode, ObisLike

__all__ = [
    "ComputedBuffer",
    "ProfileBuffer",
    "ProfileGeneric",
    "Row",
    "SortMethod",
    "StoredBuffer",
    "filter_rows",
]

Row: TypeAlias = tuple[Data, ...]


class SortMethod(enum.IntEnum):
    """Profile generic attribute 5 sort_method."""

    FIFO = 1
    LIFO = 2
    LARGEST = 3
    SMALLEST = 4
    NEAREST_TO_ZERO = 5
    FARTHEST_FROM_ZERO = 6


class ProfileBuffer(Protocol):
    """Where a profile's rows come from, oldest first."""

    def entries_in_use(self) -> int: ...

    def rows(self) -> Iterable[Row]: ...

    def rows_between(self, low: _dt.datetime, high: _dt.datetime) -> Iterable[Row] | None:
        """Rows captured at ``low..high`` (aware, inclusive), or ``None`` to scan."""
        ...


class StoredBuffer:
    """Rows kept in memory; the oldest is dropped beyond ``depth`` (0: unlimited)."""

    def __init__(self, depth: int = 0, rows: Iterable[Row] = ()) -> None:
        self._rows: collections.deque[Row] = collections.deque(rows, maxlen=depth or None)

    def append(self, row: Row) -> None:
        self._rows.append(row)

    def clear(self) -> None:
        self._rows.clear()

    def replace(self, rows: Iterable[Row]) -> None:
        """Hold exactly ``rows`` (the oldest dropped beyond the depth)."""
        self._rows.clear()
        self._rows.extend(rows)

    @property
    def depth(self) -> int:
        return self._rows.maxlen or 0

    def entries_in_use(self) -> int:
        return len(self._rows)

    def rows(self) -> Iterable[Row]:
        return tuple(self._rows)

    def rows_between(self, low: _dt.datetime, high: _dt.datetime) -> Iterable[Row] | None:
        return None


class ComputedBuffer:
    """Rows computed from their capture time; nothing is stored.

    Captures happen at every multiple of ``period`` seconds from local midnight of
    ``now()`` (the meter's local, aware time), the newest at or before ``now()``; the
    buffer holds the last ``depth`` of them not before ``first``. ``row_at(t)`` gives the
    row captured at ``t`` (its clock column should say ``t``) or ``None`` for an interval
    the meter missed. Entry reads and entries_in_use must otherwise compute every row;
    two hints avoid that: ``complete`` promises no interval is ever missed (counting is
    arithmetic), ``present(t)`` says cheaply whether the interval at ``t`` was captured
    (``row_at`` is then only called where it says yes). Either way an entry read
    computes only the entries it returns.
    """

    def __init__(
        self,
        *,
        row_at: Callable[[_dt.datetime], Row | None],
        period: int,
        depth: int,
        now: Callable[[], _dt.datetime],
        first: _dt.datetime | None = None,
        complete: bool = False,
        present: Callable[[_dt.datetime], bool] | None = None,
    ) -> None:
        if period <= 0 or depth <= 0:
            raise ValueError("period and depth must be positive")
        self.row_at = row_at
        self.period = _dt.timedelta(seconds=period)
        self.depth = depth
        self.now = now
        self.first = first
        self.complete = complete
        self.present = present

    def _window(self) -> tuple[_dt.datetime, _dt.datetime, int]:
        """(oldest, newest, count) capture times in the buffer."""
        now = self.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        newest = midnight + self.period * ((now - midnight) // self.period)
        count = self.depth
        if self.first is not None:
            if self.first > newest:
                return newest, newest, 0
            count = min(count, (newest - self.first) // self.period + 1)
        return newest - self.period * (count - 1), newest, count

    def _times(self, start: _dt.datetime, count: int) -> Iterable[Row]:
        present = self.present
        for k in range(count):
            moment = start + self.period * k
            if present is not None and not present(moment):
                continue
            row = self.row_at(moment)
            if row is not None:
                yield row

    def entries_in_use(self) -> int:
        return len(self.rows())

    def rows(self) -> Sequence[Row]:
        oldest, _, count = self._window()
        times: Sequence[_dt.datetime] = _TimeRange(oldest, self.period, count)
        if self.present is not None:
            times = [t for t in times if self.present(t)]
        elif not self.complete:
            return tuple(self._times(oldest, count))
        return _LazyRows(self.row_at, times)

    def rows_between(self, low: _dt.datetime, high: _dt.datetime) -> Iterable[Row] | None:
        oldest, newest, count = self._window()
        if count == 0 or high < oldest or low > newest or low > high:
            return ()
        skip = max(0, -((oldest - low) // self.period))
        last = min(count - 1, (high - oldest) // self.period)
        return tuple(self._times(oldest + self.period * skip, last - skip + 1))


class _TimeRange(Sequence[_dt.datetime]):
    """``count`` capture times ``period`` apart from ``start``, computed when indexed."""

    def __init__(self, start: _dt.datetime, period: _dt.timedelta, count: int) -> None:
        self._start = start
        self._period = period
        self._count = count

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> _dt.datetime: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[_dt.datetime]: ...

    def __getitem__(self, index: int | slice) -> _dt.datetime | Sequence[_dt.datetime]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("capture time out of range")
        return self._start + self._period * index


class _LazyRows(Sequence[Row]):
    """Rows of a computed buffer at known capture times, computed only when indexed."""

    def __init__(
        self, row_at: Callable[[_dt.datetime], Row | None], times: Sequence[_dt.datetime]
    ) -> None:
        self._row_at = row_at
        self._times = times
        self._count = len(times)

    def __len__(self) -> int:
        return self._count

    def _row(self, index: int) -> Row:
        row = self._row_at(self._times[index])
        if row is None:
            raise ValueError("a computed buffer missed an interval it said was captured")
        return row

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | Sequence[Row]:
        if isinstance(index, slice):
            return tuple(self._row(i) for i in range(*index.indices(self._count)))
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("entry out of range")
        return self._row(index)


# --------------------------------------------------------------------------- filtering

_Key: TypeAlias = "_dt.datetime | int | float"


class _BadSelection(Exception):
    """The access parameters cannot be used (answered with other-reason)."""


def _date_time(value: Data) -> DateTime | None:
    if isinstance(value, DateTime):
        return value
    if isinstance(value, OctetString) and len(value) == 12:
        try:
            return DateTime.from_bytes(value)
        except DlmsError:
            return None
    return None


def _key(value: Data, sign: DeviationSign, tz: _dt.tzinfo) -> _Key | None:
    """A comparable key: an aware datetime for date-times, the number for numbers."""
    stamp = _date_time(value)
    if stamp is not None:
        try:
            moment = stamp.to_datetime(sign=sign)
        except DlmsError:
            return None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Float32 | Float64):
        return value
    return None


def _column(columns: Sequence[CaptureObject], value: Data) -> int:
    try:
        wanted = CaptureObject.from_data(value)
    except DlmsError:
        raise _BadSelection("not a capture object definition") from None
    for index, column in enumerate(columns):
        if column == wanted:
            return index
    raise _BadSelection(f"{wanted} is not captured")


def _int(value: Data) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadSelection("entry_descriptor fields are integers")
    return int(value)


def _project(rows: Iterable[Row], columns: Sequence[int] | None) -> Array:
    if columns is None:
        if type(rows) is list and set(map(type, rows)) <= _STRUCTURE:
            return Array(rows)  # already the entries: a computed buffer's rows
        return Array(map(Structure, rows))
    return Array(Structure(row[i] for i in columns if i < len(row)) for row in rows)


_STRUCTURE: Final = {Structure}


def filter_rows(
    rows: Sequence[Row] | Callable[[], Sequence[Row]],
    columns: Sequence[CaptureObject],
    selective_access: SelectiveAccess | None,
    *,
    sign: DeviationSign,
    tz: _dt.tzinfo,
    window: Callable[[_dt.datetime, _dt.datetime], Iterable[Row] | None] | None = None,
) -> Array | DataAccessResult:
    """The buffer value for ``rows`` (in entry order) under a selective access.

    ``rows`` may be a function giving them, called only when needed; ``window``, when
    given, may answer a clock range directly (a computed buffer).
    """
    get_rows = rows if callable(rows) else (lambda: rows)
    try:
        if selective_access is None:
            return _project(get_rows(), None)
        params = selective_access.parameters
        if selective_access.selector == 1:
            return _by_range(get_rows, columns, params, sign=sign, tz=tz, window=window)
        if selective_access.selector == 2:
            return _by_entry(get_rows(), len(columns), params)
    except _BadSelection:
        return DataAccessResult.OTHER_REASON
    return DataAccessResult.SCOPE_OF_ACCESS_VIOLATED


def _by_range(
    rows: Callable[[], Sequence[Row]],
    columns: Sequence[CaptureObject],
    params: Data,
    *,
    sign: DeviationSign,
    tz: _dt.tzinfo,
    window: Callable[[_dt.datetime, _dt.datetime], Iterable[Row] | None] | None,
) -> Array:
    if not isinstance(params, Structure) or len(params) != 4:
        raise _BadSelection("range_descriptor is a structure of four")
    restricting, low_value, high_value, selected = params
    index = _column(columns, restricting)
    low, high = _key(low_value, sign, tz), _key(high_value, sign, tz)
    if (
        low is None
        or high is None
        or isinstance(low, _dt.datetime) != isinstance(high, _dt.datetime)
    ):
        raise _BadSelection("range bounds are not comparable")
    if not isinstance(selected, Array):
        raise _BadSelection("selected_values is an array")
    picked = [_column(columns, value) for value in selected] or None
    found: Iterable[Row] | None = None
    if (
        window is not None
        and columns[index].class_id == 8
        and isinstance(low, _dt.datetime)
        and isinstance(high, _dt.datetime)
    ):
        found = window(low, high)
    if found is None:
        found = [row for row in rows() if _in_range(row, index, low, high, sign, tz)]
    return _project(found, picked)


def _in_range(
    row: Row, index: int, low: _Key, high: _Key, sign: DeviationSign, tz: _dt.tzinfo
) -> bool:
    if index >= len(row):
        return False
    value = _key(row[index], sign, tz)
    if value is None or isinstance(value, _dt.datetime) != isinstance(low, _dt.datetime):
        return False
    return low <= value <= high  # type: ignore[operator]


def _by_entry(rows: Sequence[Row], width: int, params: Data) -> Array:
    if not isinstance(params, Structure) or len(params) != 4:
        raise _BadSelection("entry_descriptor is a structure of four")
    from_entry, to_entry, from_value, to_value = (_int(v) for v in params)
    first = max(from_entry, 1) - 1
    last = len(rows) if to_entry == 0 else min(to_entry, len(rows))
    first_column = max(from_value, 1) - 1
    last_column = width if to_value == 0 else min(to_value, width)
    return _project(rows[first:last], range(first_column, last_column))


# --------------------------------------------------------------------------- the object

_NO_SORT_OBJECT = Structure((LongUnsigned(0), OctetString(bytes(6)), Integer(0), LongUnsigned(0)))


class ProfileGeneric(CosemObject):
    """Profile generic (class 7, version 1): captured rows of other objects' attributes.

    ``capture()`` (method 2) appends one row read from the tree; with
    ``capture_on_read`` a GET of the buffer captures first (instantaneous and scaler
    profiles). Date-time comparisons for range reads use ``sign`` and, for date-times
    without deviation, the time zone ``tz``; ``sign`` must be the one the clock column's
    stamps are written with (a computed buffer answers clock ranges by instant).
    """

    def __init__(
        self,
        logical_name: ObisLike,
        *,
        capture_objects: Sequence[CaptureObject],
        capture_period: int = 0,
        profile_entries: int = 0,
        sort_method: SortMethod = SortMethod.FIFO,
        sort_object: CaptureObject | None = None,
        buffer: ProfileBuffer | None = None,
        capture_on_read: bool = False,
        sign: DeviationSign = DeviationSign.BLUE_BOOK,
        tz: _dt.tzinfo = _dt.UTC,
    ) -> None:
        super().__init__(logical_name, class_id=7, version=1)
        self.columns: tuple[CaptureObject, ...] = tuple(capture_objects)
        self.sort_column: int | None = None
        if sort_method not in (SortMethod.FIFO, SortMethod.LIFO):
            if sort_object is None or sort_object not in self.columns:
                raise ValueError(f"sort method {sort_method.name} needs a captured sort_object")
            if buffer is not None and not isinstance(buffer, StoredBuffer):
                raise ValueError("only a stored buffer can be kept sorted")
            self.sort_column = self.columns.index(sort_object)
        self.buffer: ProfileBuffer = buffer if buffer is not None else StoredBuffer(profile_entries)
        self.sort_method = sort_method
        self.capture_on_read = capture_on_read
        self.sign = sign
        self.tz = tz
        self.bind(2, self._get_buffer)
        self[3] = capture_objects_value(self.columns)
        self[4] = DoubleLongUnsigned(capture_period)
        self[5] = Enum(sort_method)
        self[6] = _NO_SORT_OBJECT if sort_object is None else sort_object.to_data()
        self.bind(7, lambda ctx, sa: DoubleLongUnsigned(self.buffer.entries_in_use()))
        self[8] = DoubleLongUnsigned(profile_entries)
        self.implement(1, self._reset)
        self.implement(2, self._capture)

    def selective_access_selectors(self, index: int) -> tuple[int, ...]:
        return (1, 2) if index == 2 else ()

    def column_index(self, logical_name: ObisCode, attribute_index: int = 2) -> int | None:
        """The 0-based column capturing this attribute, or ``None``."""
        for i, column in enumerate(self.columns):
            if column.logical_name == logical_name and column.attribute_index == attribute_index:
                return i
        return None

    def entries(self) -> Sequence[Row]:
        """The rows in entry order (entry 1 first)."""
        rows = self.buffer.rows()
        if self.sort_method is SortMethod.LIFO:
            return tuple(rows)[::-1]
        return rows if isinstance(rows, Sequence) else tuple(rows)

    def capture(self) -> Row:
        """Read every capture object now and append the row (stored buffers only)."""
        if not isinstance(self.buffer, StoredBuffer):
            raise method_failed(ActionResult.OTHER_REASON, "the buffer is computed")
        row = tuple(self.resolve(column) for column in self.columns)
        if self.sort_column is None:
            self.buffer.append(row)
        else:
            self.buffer.replace(self._ranked([*self.buffer.rows(), row], self.buffer.depth))
        return row

    def _ranked(self, rows: list[Row], depth: int) -> list[Row]:
        """Rows in the order of the sort method, best first, the worst beyond ``depth`` cut."""
        index = self.sort_column
        assert index is not None
        method = self.sort_method
        keyed: list[tuple[object, Row]] = []
        rest: list[Row] = []
        for row in rows:
            value = _key(row[index], self.sign, self.tz) if index < len(row) else None
            if value is None or (
                isinstance(value, _dt.datetime)
                and method in (SortMethod.NEAREST_TO_ZERO, SortMethod.FARTHEST_FROM_ZERO)
            ):
                rest.append(row)
            elif method in (SortMethod.NEAREST_TO_ZERO, SortMethod.FARTHEST_FROM_ZERO):
                keyed.append((abs(value), row))  # type: ignore[arg-type]
            else:
                keyed.append((value, row))
        descending = method in (SortMethod.LARGEST, SortMethod.FARTHEST_FROM_ZERO)
        keyed.sort(key=lambda item: item[0], reverse=descending)  # type: ignore[arg-type, return-value]
        ranked = [row for _, row in keyed] + rest
        return ranked[:depth] if depth else ranked

    def reset(self) -> None:
        """Empty a stored buffer (method 1)."""
        if not isinstance(self.buffer, StoredBuffer):
            raise method_failed(ActionResult.OTHER_REASON, "the buffer is computed")
        self.buffer.clear()

    def _get_buffer(
        self, ctx: RequestContext, selective_access: SelectiveAccess | None
    ) -> Data | DataAccessResult:
        if self.capture_on_read and isinstance(self.buffer, StoredBuffer):
            self.capture()
        window = None
        if self.sort_method is SortMethod.FIFO:
            window = self.buffer.rows_between
        return filter_rows(
            self.entries,
            self.columns,
            selective_access,
            sign=self.sign,
            tz=self.tz,
            window=window,
        )

    def _reset(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        self.reset()
        return None

    def _capture(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        self.capture()
        return None
