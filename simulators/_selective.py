"""Selective access to profile buffers (Blue Book 4.3.6): range and entry descriptors.

Selector 1 (range_descriptor): rows whose time stamp lies in [from, to], optionally only
some columns; selector 2 (entry_descriptor): rows from_entry..to_entry (1-based, 0 = to
the last) and columns from_selected_value..to_selected_value. Malformed parameters raise
``ValueError``; the object tree turns that into a data-access-result.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from dlmskit.apdu import SelectiveAccess
from dlmskit.axdr import Array, Data, DateTime, Structure
from dlmskit.cosem import CaptureObject
from simulators._state import MeterState

__all__ = ["entry_slice", "range_window", "selected_columns"]


def range_window(
    state: MeterState, access: SelectiveAccess | None
) -> tuple[_dt.datetime, _dt.datetime] | None:
    """The [from, to] meter-time window of a range descriptor (selector 1), else None."""
    if access is None or access.selector != 1:
        return None
    params = access.parameters
    if not isinstance(params, Structure) or len(params) < 3:
        raise ValueError("range descriptor is not a structure")
    return _when(state, params[1]), _when(state, params[2])


def _when(state: MeterState, value: Data) -> _dt.datetime:
    if isinstance(value, DateTime):
        stamp = value
    elif isinstance(value, bytes) and len(value) == 12:
        stamp = DateTime.from_bytes(bytes(value))
    else:
        raise ValueError("range bound is not a date-time")
    if stamp.deviation is None:
        stamp = DateTime(
            year=stamp.year,
            month=stamp.month,
            day=stamp.day,
            hour=stamp.hour,
            minute=stamp.minute,
            second=stamp.second,
            hundredths=stamp.hundredths,
            deviation=state.deviation,
            clock_status=stamp.clock_status,
        )
    return stamp.to_datetime(sign=state.sign).astimezone(_dt.UTC)


def selected_columns(
    columns: Sequence[CaptureObject], access: SelectiveAccess | None
) -> list[int] | None:
    if access is None:
        return None
    params = access.parameters
    if access.selector == 1 and isinstance(params, Structure) and len(params) >= 4:
        chosen = params[3]
        if isinstance(chosen, Array) and chosen:
            wanted = [CaptureObject.from_data(item) for item in chosen]
            keys = [(c.class_id, c.logical_name, c.attribute_index) for c in columns]
            return [keys.index((w.class_id, w.logical_name, w.attribute_index)) for w in wanted]
    if access.selector == 2 and isinstance(params, Structure) and len(params) == 4:
        low, high = params[2], params[3]
        if isinstance(low, int) and isinstance(high, int) and low >= 1:
            stop = len(columns) if high == 0 else min(int(high), len(columns))
            return list(range(int(low) - 1, stop))
    return None


def entry_slice(access: SelectiveAccess | None) -> slice:
    """The rows an access selects by entry (selector 2: from_entry..to_entry, 1-based,
    to_entry 0 = the last); every row otherwise. Raises ``ValueError`` for selectors other
    than 1 and 2 and for malformed entry descriptors, before any row is computed."""
    if access is None or access.selector == 1:
        return slice(None)
    if access.selector != 2:
        raise ValueError(f"access selector {access.selector}")
    params = access.parameters
    if not isinstance(params, Structure) or len(params) != 4:
        raise ValueError("entry descriptor is not a 4-element structure")
    first, last = params[0], params[1]
    if (
        not isinstance(first, int)
        or not isinstance(last, int)
        or isinstance(first, bool)
        or isinstance(last, bool)
    ):
        raise ValueError("entry descriptor bounds are not integers")
    return slice(max(int(first), 1) - 1, None if last == 0 else int(last))
