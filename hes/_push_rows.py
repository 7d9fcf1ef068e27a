"""Store rows straight from pushed profile rows: the columnar path of push ingest.

:func:`~hes.push_readings` types a pushed block load row column by column, builds an
:class:`~hes.IntervalRow`, validates it and gives :class:`~hes.Reading` values. For one
row pushed on its own most of that work is the same for every push of a meter model:
which body positions are register values, their scalers, units and channel names. A
:class:`PushRows` works that out once per (layout, validation policy) and goes from the
decoded body to :data:`~hes.ReadingRow` tuples: the flags of the row (misaligned,
clock status bits, clock deviation, reverse energy) are found once for the row and the
quality text is shared by its channels. The clock column's time and flags are kept per
distinct 12-octet value, since every meter pushing an interval sends the same one.

The rows are exactly those :func:`~hes.push_readings` leads the store to keep; anything
off the common shape (a value that is not an integer, a clock that is not an
octet-string(12) with a deviation, a layout with other date-time columns) goes through
:func:`~hes.push_readings` itself.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from decimal import Decimal
from typing import cast

import attrs

from dlmskit.apdu import DataNotification
from dlmskit.axdr import DateTime, DeviationSign, OctetString, Structure
from dlmskit.client import Push
from dlmskit.cosem import Quantity, clock_datetime
from dlmskit.errors import DecodeError, DlmsError
from hes._inventory import MeterInfo
from hes._model import Reading, ReadingSource, epoch_seconds, utc
from hes._quality import Quality, quality_text
from hes._session import LayoutCache, ProfileLayout, _number, _unit
from hes._store import ReadingRow, reading_row
from hes._validate import (
    IntervalRow,
    ValidationPolicy,
    is_export_energy,
    validate_block_load,
)

__all__ = ["PushRows", "clock_deviation", "push_readings"]

#: Interface classes whose value attribute is a measured quantity (register, extended
#: register, demand register).
_REGISTERS = frozenset({3, 4, 5})

_PUSH = int(ReadingSource.PUSH)
#: Clock status bits that flag a row (as validation has them, Blue Book 4.1.6.1).
_BAD_CLOCK = 0x01 | 0x02 | 0x04 | 0x08
_MISALIGNED = 1
_CLOCK_STATUS = 2
_CLOCK_DEVIATION = 4
_REVERSE_ENERGY = 8
_FLAGS = (
    (_MISALIGNED, Quality.MISALIGNED),
    (_CLOCK_STATUS, Quality.CLOCK_STATUS),
    (_CLOCK_DEVIATION, Quality.CLOCK_DEVIATION),
    (_REVERSE_ENERGY, Quality.REVERSE_ENERGY),
)
#: Quality text per combination of the four row flags.
_QUALITY = tuple(
    quality_text(frozenset(flag for bit, flag in _FLAGS if mask & bit)) for mask in range(16)
)
#: Clock values kept per plan before the cache starts over.
_MAX_CLOCKS = 4096


@attrs.frozen(kw_only=True)
class _Channel:
    """One reading of the row: its channel, body position, scale and unit."""

    channel: str
    index: int
    #: ``None``: no scaler known, the raw number is the value (unit "").
    scaler: int | None
    unit: str
    export: bool

    @property
    def scale(self) -> tuple[int, int]:
        """(how, factor): 0 the raw number, 1 times ``factor``, 2 divided by it; the
        result is the float nearest the exact decimal, as register_quantity's."""
        if self.scaler is None:
            return 0, 1
        if self.scaler >= 0:
            return 1, 10**self.scaler
        return 2, 10 ** (-self.scaler)


@attrs.frozen(kw_only=True)
class _Clock:
    """What a clock column value gives, once per distinct value."""

    captured: _dt.datetime
    captured_seconds: int
    #: Misaligned and clock status flags.
    flags: int
    #: The interval start (epoch seconds) when no clock deviation shifts it.
    start: int


@attrs.frozen(kw_only=True)
class _Plan:
    """A layout's row worked out for one validation policy."""

    layout: ProfileLayout
    width: int
    #: Position of the push setup's logical name in the body, and the name.
    setup_index: int
    setup: bytes
    clock_index: int
    channels: tuple[_Channel, ...]
    #: False: the layout has other date-time columns; its pushes take the general path.
    columnar: bool
    #: Positions of every register value column (each must hold an integer).
    numbers: tuple[int, ...]
    #: Positions of the columns that are neither register values nor the clock.
    others: tuple[int, ...]
    #: Per channel: body position, how to scale and the factor.
    scales: tuple[tuple[int, int, int], ...]
    #: Positions in ``channels`` of export energy channels.
    exports: tuple[int, ...]
    clocks: dict[bytes, _Clock | None] = attrs.field(factory=dict, eq=False)


def _setup_of(layout: ProfileLayout, body: Structure) -> bytes | None:
    """The push setup logical name a body carries (its class 40 attribute 1 column)."""
    if len(body) != len(layout.columns):
        return None
    for column in layout.columns:
        if column.class_id == 40 and column.attribute_index == 1:
            value = body[column.index]
            return bytes(value) if isinstance(value, OctetString) else None
    return None


def push_readings(
    push: Push,
    info: MeterInfo,
    layouts: LayoutCache,
    *,
    sign: DeviationSign,
    policy: ValidationPolicy | None = None,
) -> list[Reading]:
    """Readings (source ``PUSH``) from a data-notification whose body is a profile row
    of a push setup known for the meter's model; ``[]`` for any other push. The row is
    validated like a pulled one (alignment, clock status, reverse energy, clock
    deviation from the notification's own date-time). A row with values out of range
    (dates that do not exist, numbers no float holds) gives ``[]`` too: the push stays a
    receipt."""
    try:
        return _push_readings(push, info, layouts, sign=sign, policy=policy)
    except (DecodeError, ValueError, OverflowError):
        return []


def _push_readings(
    push: Push,
    info: MeterInfo,
    layouts: LayoutCache,
    *,
    sign: DeviationSign,
    policy: ValidationPolicy | None,
) -> list[Reading]:
    note = push.notification
    if not isinstance(note, DataNotification) or not isinstance(note.notification_body, Structure):
        return []
    body = note.notification_body
    layout = None
    for setup, candidate in layouts.known(info.model or "default"):
        if _setup_of(candidate, body) == setup.to_bytes():
            layout = candidate
            break
    if layout is None or layout.columns.clock is None:
        return []
    try:
        row = layout.columns.row(body, sign=sign, scalers=layout.scalers)
    except DecodeError:
        return []
    if row.time is None:
        return []
    clock = layout.columns.clock
    values: dict[str, tuple[float | None, str]] = {}
    for column, value in zip(layout.columns, row.values, strict=True):
        if column.class_id in _REGISTERS and column.is_register_value:
            values[str(column.logical_name)] = (_number(value), _unit(value))
    if not values:
        return []
    status = None
    raw_clock = body[clock.index]
    if isinstance(raw_clock, OctetString) and len(raw_clock) == 12:
        try:
            found = DateTime.from_bytes(bytes(raw_clock)).clock_status
            status = None if found is None else int(found)
        except DecodeError:
            status = None
    policy = policy or ValidationPolicy()
    deviation = clock_deviation(note, push.received_at, sign)
    captured = utc(row.time)
    # the interval the row belongs to, as validation will key it (a meter clock off by
    # more than the threshold is put back by the deviation the notification shows)
    shift = deviation if deviation is not None and abs(deviation) > policy.clock_threshold else None
    step = policy.period.total_seconds()
    moment = (captured - shift if shift is not None else captured).timestamp()
    start = _dt.datetime.fromtimestamp(round(moment / step) * step, _dt.UTC)
    result = validate_block_load(
        info.name,
        [IntervalRow(captured=captured, clock_status=status, values=values)],
        start=start,
        end=start + policy.period,
        received=push.received_at,
        net_metered=info.net_metered,
        clock_deviation=deviation,
        source=ReadingSource.PUSH,
        policy=policy,
    )
    return result.readings


def clock_deviation(
    note: DataNotification, received: _dt.datetime, sign: DeviationSign
) -> _dt.timedelta | None:
    """The meter's clock (the notification's date-time) minus the head-end's at receipt;
    ``None`` when the notification has no date-time, or one that cannot be placed in
    time (unspecified fields, no deviation)."""
    if note.date_time is None:
        return None
    try:
        sent = note.date_time.to_datetime(sign=sign)
        if sent.tzinfo is None or received.tzinfo is None:
            return None
        return sent - received
    except (DlmsError, ValueError, OverflowError):
        return None


class PushRows:
    """Store rows of pushed profile rows for one set of layouts, deviation sign and
    validation policy: ``rows(push, info)`` gives what :func:`~hes.push_readings` gives,
    as :data:`~hes.ReadingRow` tuples for :meth:`~hes.Store.put_reading_rows`."""

    def __init__(
        self,
        layouts: LayoutCache,
        *,
        sign: DeviationSign,
        policy: ValidationPolicy | None = None,
    ) -> None:
        self.layouts = layouts
        self.sign = sign
        self.policy = policy or ValidationPolicy()
        # by (layout identity, push setup), with the layout to confirm the identity
        self._plans: dict[tuple[int, bytes], tuple[ProfileLayout, _Plan | None]] = {}
        period = self.policy.period.total_seconds()
        # whole-second periods only: validation and push_readings round the same way then
        self._step = int(period) if period == int(period) and period > 0 else 0
        self._threshold = self.policy.clock_threshold
        self._tolerance = self.policy.alignment_tolerance
        self.general = 0
        """Pushes whose row was off the common shape and went to :func:`push_readings`."""
        # meter times by date-time object, with the object (so the id stays its own)
        self._sent: dict[int, tuple[DateTime, _dt.datetime | None]] = {}

    def rows(self, push: Push, info: MeterInfo) -> list[ReadingRow]:
        """The rows of one push from ``info``'s meter (``[]`` when it carries none)."""
        note = push.notification
        if not isinstance(note, DataNotification):
            return []
        body = note.notification_body
        if not isinstance(body, Structure):
            return []
        plan = None
        for setup, candidate in self.layouts.known(info.model or "default"):
            found = self._plan(candidate, setup.to_bytes())
            if found is not None and len(body) == found.width:
                named = body[found.setup_index]
                if isinstance(named, OctetString) and named == found.setup:
                    plan = found
                    break
        if plan is None or plan.clock_index < 0:
            return []
        rows = (
            self._columnar(plan, push, note, info, body) if plan.columnar and self._step else None
        )
        if rows is None:
            self.general += 1
            return self._general(push, info)
        return rows

    def _general(self, push: Push, info: MeterInfo) -> list[ReadingRow]:
        found = push_readings(push, info, self.layouts, sign=self.sign, policy=self.policy)
        return [reading_row(r) for r in found]

    def _plan(self, layout: ProfileLayout, setup: bytes) -> _Plan | None:
        key = (id(layout), setup)
        cached = self._plans.get(key)
        if cached is not None and cached[0] is layout:
            return cached[1]
        plan = self._make_plan(layout, setup)
        self._plans[key] = (layout, plan)
        return plan

    @staticmethod
    def _make_plan(layout: ProfileLayout, setup: bytes) -> _Plan | None:
        columns = layout.columns
        setup_index = next(
            (c.index for c in columns if c.class_id == 40 and c.attribute_index == 1), None
        )
        if setup_index is None:
            return None  # no body matches such a layout
        clock = columns.clock
        # one reading per channel name: the first column's place, the last column's value
        last: dict[str, int] = {}
        for column in columns:
            if column.class_id in _REGISTERS and column.is_register_value:
                last[str(column.logical_name)] = column.index
        channels = []
        for channel, index in last.items():
            column = columns[index]
            scaler_unit = layout.scalers.get(column.logical_name)
            channels.append(
                _Channel(
                    channel=channel,
                    index=index,
                    scaler=None if scaler_unit is None else scaler_unit.scaler,
                    unit=""
                    if scaler_unit is None
                    else Quantity(value=Decimal(0), unit=scaler_unit.unit).symbol,
                    export=is_export_energy(channel),
                )
            )
        clock_index = -1 if clock is None else clock.index
        # the clock the only date-time column: no other column is typed as a time
        columnar = all(c.index == clock_index for c in columns if c.is_date_time)
        numbers = tuple(c.index for c in columns if c.is_register_value)
        return _Plan(
            layout=layout,
            width=len(columns),
            setup_index=setup_index,
            setup=setup,
            clock_index=clock_index,
            channels=tuple(channels),
            columnar=columnar,
            numbers=numbers,
            others=tuple(
                c.index for c in columns if c.index not in numbers and c.index != clock_index
            ),
            scales=tuple((c.index, *c.scale) for c in channels),
            exports=tuple(n for n, c in enumerate(channels) if c.export),
        )

    def _clock(self, raw: bytes) -> _Clock | None:
        """The clock column's time and flags; ``None`` for a value the general path
        must judge (not placed in time, without a deviation, out of range in UTC)."""
        try:
            captured = clock_datetime(OctetString(raw), sign=self.sign)
            status = DateTime.from_bytes(raw).clock_status
            if captured.tzinfo is None:
                return None
            captured = captured.astimezone(_dt.UTC)
            step = self._step
            stamp = captured.timestamp()
            start = round(stamp / step) * step
            nearest = _dt.datetime.fromtimestamp(start, _dt.UTC)
        except (DlmsError, ValueError, OverflowError, OSError):
            return None
        flags = 0
        if abs(captured - nearest) > self._tolerance:
            flags |= _MISALIGNED
        if status is not None and int(status) & _BAD_CLOCK:
            flags |= _CLOCK_STATUS
        return _Clock(
            captured=captured,
            captured_seconds=epoch_seconds(captured),
            flags=flags,
            start=start,
        )

    def _columnar(
        self, plan: _Plan, push: Push, note: DataNotification, info: MeterInfo, body: Structure
    ) -> list[ReadingRow] | None:
        raw_clock = body[plan.clock_index]
        if type(raw_clock) is not OctetString or len(raw_clock) != 12:
            return None
        for index in plan.others:
            # a value decoded as a date-time is typed as one: leave it to the general path
            if isinstance(body[index], DateTime):
                return None
        for index in plan.numbers:
            raw = body[index]
            if not isinstance(raw, int) or type(raw) is bool:
                return None
        clocks = plan.clocks
        if raw_clock in clocks:  # an octet string finds the bytes key equal to it
            clock = clocks[raw_clock]
        else:
            if len(clocks) >= _MAX_CLOCKS:
                clocks.clear()
            key = bytes(raw_clock)
            clock = clocks[key] = self._clock(key)
        if clock is None:
            return None
        if not plan.channels:
            return []
        numbers = cast("Sequence[int]", body)  # checked above
        values = [
            float(numbers[i]) if how == 0 else float(numbers[i] * k) if how == 1 else numbers[i] / k
            for i, how, k in plan.scales
        ]
        flags = clock.flags
        start = clock.start
        received = push.received_at
        deviation = self._deviation(note.date_time, received)
        if deviation is not None and abs(deviation) > self._threshold:
            flags |= _CLOCK_DEVIATION
            step = self._step
            try:
                start = round((clock.captured - deviation).timestamp() / step) * step
            except OverflowError:
                return None  # put back before year 1: the general path's judgement
        if not info.net_metered:
            for n in plan.exports:
                if values[n] > 0:
                    flags |= _REVERSE_ENERGY
                    break
        quality = _QUALITY[flags]
        meter = info.name
        captured = clock.captured_seconds
        seconds = epoch_seconds(received)
        return [
            (meter, c.channel, start, v, c.unit, quality, captured, seconds, _PUSH)
            for c, v in zip(plan.channels, values, strict=True)
        ]

    def _deviation(self, sent: DateTime | None, received: _dt.datetime) -> _dt.timedelta | None:
        """:func:`clock_deviation`, with the meter's time placed once per date-time
        value (decoded notifications share the value objects of repeated octets)."""
        if sent is None or received.tzinfo is None:
            return None
        known = self._sent.get(id(sent))
        if known is None or known[0] is not sent:
            try:
                moment: _dt.datetime | None = sent.to_datetime(sign=self.sign)
            except (DlmsError, ValueError, OverflowError):
                moment = None
            if moment is not None and moment.tzinfo is None:
                moment = None
            if len(self._sent) >= _MAX_CLOCKS:
                self._sent.clear()
            known = self._sent[id(sent)] = (sent, moment)
        moment = known[1]
        return None if moment is None else moment - received
