"""Client-side profile reading: columns, selective access and typed rows (Blue Book 4.3.6).

:class:`ProfileColumns` describes a profile's buffer from its capture_objects
(attribute 3); :func:`by_time_range` and :func:`by_entries` build the selective access
of a buffer read; :meth:`ProfileColumns.rows` turns the buffer read into
:class:`ProfileRow` values: the capture time as a ``datetime`` and every register column
as a :class:`Quantity`, scaled by a scaler profile such as IS 15959's 1.0.94.91.4.255 for
the block load profile.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence

import attrs

import obis
from dlmskit.apdu import CosemAttributeDescriptor, SelectiveAccess
from dlmskit.axdr import Array, ClockStatus, Data, DateTime, DeviationSign, Structure
from dlmskit.cosem._capture import CaptureObject, ScalerUnit, scalers_from_row
from dlmskit.cosem._classdefs import interface_class
from dlmskit.cosem._client import Quantity, clock_datetime, register_quantity
from dlmskit.errors import DecodeError
from obis import ObisCode

__all__ = [
    "ProfileColumn",
    "ProfileColumns",
    "ProfileRow",
    "by_entries",
    "by_time_range",
    "range_bound",
]

#: The attribute holding the measured value, per class (register, extended, demand).
_VALUE_ATTRIBUTE = {3: 2, 4: 2, 5: 2}


@attrs.frozen(kw_only=True)
class ProfileColumn:
    """One column of a profile buffer."""

    index: int
    """0-based position in the buffer rows as read."""
    capture: CaptureObject
    name: str

    @property
    def class_id(self) -> int:
        return self.capture.class_id

    @property
    def logical_name(self) -> ObisCode:
        return self.capture.logical_name

    @property
    def attribute_index(self) -> int:
        return self.capture.attribute_index

    @property
    def data_index(self) -> int:
        return self.capture.data_index

    @property
    def is_clock(self) -> bool:
        """Clock time (class 8 attribute 2): the capture time column."""
        return self.class_id == 8 and self.attribute_index == 2

    @property
    def is_date_time(self) -> bool:
        """A date-time attribute (clock time, capture_time, ...) by the class definition."""
        return _is_date_time(self.class_id, self.attribute_index, self.data_index)

    @property
    def is_register_value(self) -> bool:
        """A register's measured value, which a scaler_unit scales."""
        return _VALUE_ATTRIBUTE.get(self.class_id) == self.attribute_index


@functools.lru_cache(maxsize=4096)
def _is_date_time(class_id: int, attribute_index: int, data_index: int) -> bool:
    if class_id == 8 and attribute_index == 2:
        return True
    found = interface_class(class_id).attribute(attribute_index)
    return found is not None and found.date_time and data_index == 0


def _column_name(capture: CaptureObject) -> str:
    name = obis.describe(capture.logical_name)
    if not name:
        name = str(capture.logical_name)
    if capture.attribute_index != 2:
        name = f"{name} (attribute {capture.attribute_index})"
    return name


@attrs.frozen(kw_only=True)
class ProfileRow:
    """One buffer entry: capture time (``None`` without a clock column) and values.

    ``values`` has one item per column: a :class:`Quantity` for a register value with a
    known scaler, a ``datetime`` for date-time columns, else the A-XDR value as read.
    """

    time: _dt.datetime | None
    values: tuple[Quantity | _dt.datetime | Data, ...]
    columns: ProfileColumns = attrs.field(repr=False, eq=False)

    def __getitem__(self, key: int | str | ObisCode) -> Quantity | _dt.datetime | Data:
        """A value by column position, or by logical name (first column capturing it)."""
        if isinstance(key, int):
            return self.values[key]
        code = obis.as_obis(key)
        for column in self.columns:
            if column.logical_name == code:
                return self.values[column.index]
        raise KeyError(str(code))


#: Per column: the scaler of a register value, whether a date-time, whether the clock.
_Plan = tuple[tuple[ScalerUnit | None, bool, bool], ...]
#: Plans kept per columns object (one per distinct scalers mapping seen).
_MAX_PLANS = 64


def _columns(value: Iterable[ProfileColumn]) -> tuple[ProfileColumn, ...]:
    return tuple(value)


@attrs.frozen
class ProfileColumns:
    """The columns of a profile buffer, in order."""

    columns: tuple[ProfileColumn, ...] = attrs.field(converter=_columns)
    # Column plans by the scalers mapping's id, with its items then (see _plan).
    _plans: dict[int, tuple[tuple[tuple[ObisCode, ScalerUnit], ...], _Plan]] = attrs.field(
        factory=dict, init=False, repr=False, eq=False, hash=False
    )

    @classmethod
    def of(cls, capture_objects: Iterable[CaptureObject]) -> ProfileColumns:
        return cls(
            ProfileColumn(index=i, capture=c, name=_column_name(c))
            for i, c in enumerate(capture_objects)
        )

    @classmethod
    def from_data(cls, value: Data) -> ProfileColumns:
        """From a capture_objects read (array of capture_object_definition)."""
        if not isinstance(value, Array):
            raise DecodeError("capture_objects is not an array", expected="array")
        return cls.of(CaptureObject.from_data(item) for item in value)

    def __iter__(self) -> Iterator[ProfileColumn]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def __getitem__(self, index: int) -> ProfileColumn:
        return self.columns[index]

    @property
    def capture_objects(self) -> tuple[CaptureObject, ...]:
        return tuple(c.capture for c in self.columns)

    @property
    def clock(self) -> ProfileColumn | None:
        """The first clock column, or ``None``."""
        return next((c for c in self.columns if c.is_clock), None)

    def select(self, captures: Sequence[CaptureObject]) -> ProfileColumns:
        """The columns a range read with these ``selected_values`` returns (empty: all)."""
        if not captures:
            return self
        known = {c.capture: c for c in self.columns}
        missing = [c for c in captures if c not in known]
        if missing:
            raise KeyError(f"not captured by this profile: {missing}")
        return ProfileColumns.of(captures)

    def slice(self, from_value: int = 1, to_value: int = 0) -> ProfileColumns:
        """The columns an entry read with from/to_selected_value returns (1-based, 0 = last)."""
        last = len(self.columns) if to_value == 0 else min(to_value, len(self.columns))
        return ProfileColumns.of(self.capture_objects[max(from_value, 1) - 1 : last])

    def scalers(
        self, scaler_columns: ProfileColumns, scaler_buffer: Data
    ) -> dict[ObisCode, ScalerUnit]:
        """scaler_units by register from a scaler profile read (its columns and buffer):
        attribute 3 of registers and extended registers, attribute 4 of demand registers."""
        if not isinstance(scaler_buffer, Array) or not scaler_buffer:
            raise DecodeError("scaler profile buffer has no entry", expected="one entry")
        row = scaler_buffer[-1]
        scalers = scalers_from_row(scaler_columns.capture_objects, row)
        assert isinstance(row, Structure)  # scalers_from_row checked the shape
        for column, value in zip(scaler_columns, row, strict=True):
            if column.class_id == 5 and column.attribute_index == 4:
                scalers[column.logical_name] = ScalerUnit.from_data(value)
        return scalers

    def row(
        self,
        entry: Data,
        *,
        sign: DeviationSign,
        scalers: Mapping[ObisCode, ScalerUnit] | None = None,
        tz: _dt.tzinfo | None = None,
    ) -> ProfileRow:
        """One structure typed by these columns: a profile entry, or the body of a push
        (data-notification) whose push_object_list these columns were made from."""
        return self._typed(self._plan(scalers), entry, sign, tz)

    def rows(
        self,
        buffer: Data,
        *,
        sign: DeviationSign,
        scalers: Mapping[ObisCode, ScalerUnit] | None = None,
        tz: _dt.tzinfo | None = None,
    ) -> tuple[ProfileRow, ...]:
        """Typed rows from a buffer read with these columns.

        Register values with a scaler in ``scalers`` become :class:`Quantity`; date-time
        columns become ``datetime`` (``tz`` for those sent without deviation; those with
        unspecified fields stay as read, and a clock column like that gives ``time``
        ``None``). Raises
        :class:`DecodeError` when a row does not have one value per column.
        """
        if not isinstance(buffer, Array):
            raise DecodeError("profile buffer is not an array", expected="array")
        plan = self._plan(scalers)
        return tuple(self._typed(plan, entry, sign, tz) for entry in buffer)

    def _plan(self, scalers: Mapping[ObisCode, ScalerUnit] | None) -> _Plan:
        """What to do with each column (scaler, date-time, clock), worked out once per
        scalers mapping rather than for every row or cell."""
        items = tuple(scalers.items()) if scalers else ()
        # By the mapping's identity, confirmed by its items: no hashing of the items.
        key = id(scalers) if scalers else 0
        cached = self._plans.get(key)
        if cached is not None and cached[0] == items:
            return cached[1]
        found = scalers or {}
        plan = tuple(
            (
                found.get(column.logical_name) if column.is_register_value else None,
                column.is_date_time,
                column.is_clock,
            )
            for column in self.columns
        )
        if len(self._plans) >= _MAX_PLANS:
            self._plans.clear()
        self._plans[key] = (items, plan)
        return plan

    def _typed(
        self, plan: _Plan, entry: Data, sign: DeviationSign, tz: _dt.tzinfo | None
    ) -> ProfileRow:
        width = len(plan)
        if not isinstance(entry, Structure) or len(entry) != width:
            raise DecodeError(
                "profile entry does not match the columns",
                expected=f"structure of {width}",
            )
        values: list[Quantity | _dt.datetime | Data] = []
        time: _dt.datetime | None = None
        for (scaler, date_time, clock), value in zip(plan, entry, strict=True):
            typed: Quantity | _dt.datetime | Data = value
            if scaler is not None:
                typed = register_quantity(value, scaler)
            elif date_time or isinstance(value, DateTime):
                try:
                    typed = clock_datetime(value, sign=sign, tz=tz)
                except DecodeError:
                    typed = value  # not specified (or not a date-time): as read
            if clock and time is None and isinstance(typed, _dt.datetime):
                time = typed
            values.append(typed)
        return ProfileRow(time=time, values=tuple(values), columns=self)


def range_bound(moment: _dt.datetime, *, sign: DeviationSign) -> DateTime:
    """A range_descriptor bound: the date and time of ``moment``, day of week not
    specified, hundredths 0, clock status 0; its deviation when ``moment`` is aware."""
    offset = moment.utcoffset()
    return DateTime(
        year=moment.year,
        month=moment.month,
        day=moment.day,
        day_of_week=None,
        hour=moment.hour,
        minute=moment.minute,
        second=moment.second,
        hundredths=0,
        deviation=None if offset is None else sign.deviation(offset),
        clock_status=ClockStatus.OK,
    )


def by_time_range(
    start: _dt.datetime,
    end: _dt.datetime,
    *,
    sign: DeviationSign,
    columns: Sequence[CaptureObject] = (),
    clock: CaptureObject | None = None,
) -> SelectiveAccess:
    """Selector 1: entries captured from ``start`` to ``end`` (both included), restricted
    by the clock column (``clock``, default 0.0.1.0.0.255 attribute 2), optionally only
    the ``columns`` given (empty: all)."""
    clock = clock or CaptureObject.of(8, "0.0.1.0.0.255", 2)
    return SelectiveAccess.range_descriptor(
        restricting_object=_descriptor(clock),
        from_value=range_bound(start, sign=sign),
        to_value=range_bound(end, sign=sign),
        selected_values=tuple(_descriptor(c) for c in columns),
        data_index=clock.data_index,
    )


def by_entries(
    from_entry: int = 1, to_entry: int = 0, *, from_column: int = 1, to_column: int = 0
) -> SelectiveAccess:
    """Selector 2: entries ``from_entry..to_entry`` (1-based; 0 = the last) and columns
    ``from_column..to_column`` (1-based; 0 = the last)."""
    return SelectiveAccess.entry_descriptor(
        from_entry=from_entry,
        to_entry=to_entry,
        from_selected_value=from_column,
        to_selected_value=to_column,
    )


def _descriptor(capture: CaptureObject) -> CosemAttributeDescriptor:
    if capture.data_index:
        raise ValueError("selected columns with a data_index cannot be expressed here")
    return CosemAttributeDescriptor(
        class_id=capture.class_id,
        instance_id=capture.logical_name,
        attribute_id=capture.attribute_index,
    )
