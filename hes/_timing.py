"""Timestamps: meter capture time, head-end receive time, clock deviation, time sync.

A clock read costs a round trip; the meter sampled its clock somewhere between sending
the request and receiving the answer, so the deviation is taken against the midpoint and
its uncertainty is half the round trip. A time sync is decided only when the deviation
is beyond the threshold *and* beyond the uncertainty, so a slow link never triggers one.
"""

from __future__ import annotations

import datetime as _dt

import attrs

from hes._model import utc

__all__ = ["ClockReading", "TimeSyncPolicy"]


@attrs.frozen(kw_only=True)
class ClockReading:
    """One read of the meter clock: head-end clock when the request left and when the
    answer arrived, and the meter's time in the answer."""

    sent: _dt.datetime = attrs.field(converter=utc)
    received: _dt.datetime = attrs.field(converter=utc)
    meter_time: _dt.datetime = attrs.field(converter=utc)

    def __attrs_post_init__(self) -> None:
        if self.received < self.sent:
            raise ValueError("an answer cannot arrive before its request left")

    @property
    def deviation(self) -> _dt.timedelta:
        """Meter clock minus head-end clock (positive: the meter is ahead)."""
        midpoint = self.sent + (self.received - self.sent) / 2
        return self.meter_time - midpoint

    @property
    def uncertainty(self) -> _dt.timedelta:
        return (self.received - self.sent) / 2


@attrs.frozen(kw_only=True)
class TimeSyncPolicy:
    """Synchronise the meter clock when it is more than ``threshold`` off (IS 15959
    meters accept a clock set in the utility settings association); never for more than
    ``max_step`` at once (a larger error is reported, not silently corrected)."""

    threshold: _dt.timedelta = _dt.timedelta(seconds=30)
    max_step: _dt.timedelta = _dt.timedelta(hours=1)

    def needs_sync(self, reading: ClockReading) -> bool:
        off = abs(reading.deviation)
        return off > self.threshold and off > reading.uncertainty and off <= self.max_step

    def out_of_range(self, reading: ClockReading) -> bool:
        """Too far off to correct automatically."""
        return abs(reading.deviation) > self.max_step
