"""The little state a materialised simulated meter keeps, and its view of time.

Measurements are computed (:class:`~simulators.MeteringPoint`); what a meter must
remember between sessions is only what clients changed: the clock adjustment, the relay,
the ESWF, the load limit and the programming counter.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Sequence
from typing import Final, cast

import attrs

from dlmskit.axdr import ClockStatus, DateTime, DeviationSign, OctetString
from dlmskit.cosem import IS15959_DEFAULT_ESWF_SINGLE_PHASE
from simulators._faults import FaultKind, MeterFaultRule
from simulators._identity import MeterIdentity
from simulators._image import ImageTransfer
from simulators._load import IST, interval_start
from simulators._measure import MeteringPoint
from simulators._supply import SupplyControl

__all__ = ["MeterState", "utc_now"]


@functools.lru_cache(maxsize=8192)
def _date_time(meter_utc: _dt.datetime, zone: _dt.tzinfo, sign: DeviationSign) -> DateTime:
    local = meter_utc.astimezone(zone).replace(microsecond=0)
    return DateTime.from_datetime(local, sign=sign, clock_status=ClockStatus.OK)


@functools.lru_cache(maxsize=8192)
def _date_time_octets(
    meter_utc: _dt.datetime, zone: _dt.tzinfo, sign: DeviationSign
) -> OctetString:
    return OctetString(_date_time(meter_utc, zone, sign).to_bytes())


#: Encoded time stamps by (zone, sign), then by instant (UTC datetime) or by interval
#: index (its start): the meters of a fleet stamp the same intervals. Bounded: a table
#: outgrowing its limit is cleared.
_OCTETS: dict[tuple[_dt.tzinfo, DeviationSign], dict[_dt.datetime | int, OctetString]] = {}
_OCTETS_LIMIT: Final = 16384
_OCTETS_ZONES: Final = 16


def _octets_of(
    stamps: Sequence[_dt.datetime | int], zone: _dt.timezone, sign: DeviationSign
) -> list[OctetString]:
    table = _OCTETS.get((zone, sign))
    if table is None:
        if len(_OCTETS) >= _OCTETS_ZONES:
            _OCTETS.clear()
        table = _OCTETS[zone, sign] = {}
    found = list(map(table.get, stamps))
    if None not in found:
        return cast(list[OctetString], found)
    if len(table) >= _OCTETS_LIMIT:
        table.clear()
    out = []
    for stamp, octets in zip(stamps, found, strict=True):
        if octets is None:
            when = interval_start(stamp) if isinstance(stamp, int) else stamp
            octets = table[stamp] = _date_time_octets(when, zone, sign)
        out.append(octets)
    return out


def utc_now() -> _dt.datetime:
    """The wall clock, UTC (the default time source of meters and fleets)."""
    return _dt.datetime.now(_dt.UTC)


@attrs.define(kw_only=True)
class MeterState:
    """One materialised meter's time source, measurements and client-set values."""

    identity: MeterIdentity
    point: MeteringPoint
    clock: Callable[[], _dt.datetime] = utc_now
    sign: DeviationSign = DeviationSign.UTC_TO_LOCAL
    local_zone: _dt.timezone = IST
    firmware_version: str = "SIM-1.0.0"
    relay_connected: bool = True
    load_limit: int = 10_000
    eswf: bytes = IS15959_DEFAULT_ESWF_SINGLE_PHASE
    programming_count: int = 0
    #: Push setup send_destination_and_method: transport (0 TCP, 1 UDP) and "host:port".
    push_transport: int = 0
    push_destination: bytes = b""
    #: Firmware image transfer, once a client initiated one.
    image: ImageTransfer | None = None
    #: Events caused by clients (firmware activation...): (meter time, log, code).
    logged: list[tuple[_dt.datetime, int, int]] = attrs.Factory(list)
    #: The last invocation counter accepted from the client of an association (by
    #: client SAP); the meter sets it, it reads its security contexts.
    last_received: Callable[[int], int] = attrs.field(default=lambda sap: 0, repr=False)
    #: Clock set by a client: (true time of the set, correction then applied).
    adjustment: tuple[_dt.datetime, _dt.timedelta] | None = None
    #: Told of every change clients make to the supply (relay, load limit).
    on_control: Callable[[MeterState], None] | None = attrs.field(default=None, repr=False)

    def apply_control(self, control: SupplyControl) -> None:
        """A client switched the relay or wrote a load limit: measure accordingly."""
        self.point = attrs.evolve(self.point, control=control)
        if self.on_control is not None:
            self.on_control(self)

    @property
    def deviation(self) -> int:
        """The deviation field the meter writes for its local time zone."""
        offset = self.local_zone.utcoffset(None)
        return self.sign.deviation(offset)

    def now(self) -> _dt.datetime:
        """True time (UTC)."""
        return self.clock().astimezone(_dt.UTC)

    def clock_offset(self, when: _dt.datetime | None = None) -> _dt.timedelta:
        """How far the meter clock is ahead of true time at ``when`` (default now)."""
        when = self.now() if when is None else when
        offset = self.point.clock_offset(when)
        if self.adjustment is not None and when >= self.adjustment[0]:
            offset += self.adjustment[1]
        return offset

    def meter_time(self, when: _dt.datetime | None = None) -> _dt.datetime:
        when = self.now() if when is None else when
        return when + self.clock_offset(when)

    def set_clock(self, meter_time: _dt.datetime) -> None:
        """A client set the clock: from now on the meter reads ``meter_time`` now."""
        now = self.now()
        drift = self.point.clock_offset(now)
        self.adjustment = (now, meter_time.astimezone(_dt.UTC) - now - drift)
        self.programming_count += 1

    def stamp(self, index: int) -> _dt.datetime:
        """The meter-clock time stamp of the capture at the start of interval ``index``."""
        return self.meter_time(interval_start(index))

    @property
    def true_clock(self) -> bool:
        """Whether the meter clock reads true time: no drift planned, never set."""
        return self.adjustment is None and not self.point.plan.meter

    def stamps(self, indexes: list[int]) -> list[_dt.datetime]:
        """:meth:`stamp` of each interval."""
        if self.true_clock:
            return list(map(interval_start, indexes))
        return list(map(self.stamp, indexes))

    def date_time(self, meter_utc: _dt.datetime) -> DateTime:
        """A meter-clock instant as a COSEM date-time in local time."""
        return _date_time(meter_utc, self.local_zone, self.sign)

    def date_time_octets(self, meter_utc: _dt.datetime) -> OctetString:
        """:meth:`date_time` as its 12 octets (each distinct instant encoded once: the
        meters of a fleet stamp the same intervals)."""
        return _date_time_octets(meter_utc, self.local_zone, self.sign)

    def date_time_octets_of(self, stamps: list[_dt.datetime]) -> list[OctetString]:
        """:meth:`date_time_octets` of each instant (a profile's column of time stamps)."""
        return _octets_of(stamps, self.local_zone, self.sign)

    def interval_octets(self, indexes: Sequence[int]) -> list[OctetString]:
        """The time stamps of intervals ``indexes`` as :meth:`date_time_octets`, for a
        meter with a :attr:`true_clock` (its stamps are the interval starts)."""
        return _octets_of(indexes, self.local_zone, self.sign)

    def log_event(self, *, log: int, code: int) -> None:
        """Record an event caused by a client (kept bounded: the last 50)."""
        self.logged.append((self.meter_time(), log, code))
        del self.logged[:-50]

    def billing_count(self) -> int:
        """Billing resets since the origin (one at each month start)."""
        start = interval_start(self.point.model.first_index)
        now = self.now()
        return max(0, (now.year - start.year) * 12 + now.month - start.month)

    def rules(self, kind: FaultKind) -> tuple[MeterFaultRule, ...]:
        """The meter fault rules of ``kind`` that apply to this meter now."""
        if not self.point.plan.meter:
            return ()
        now = self.now()
        return tuple(
            rule
            for rule in self.point.plan.meter_rules(self.point.seed)
            if rule.kind is kind and (rule.start is None or now >= rule.start)
        )

    def silent(self) -> bool:
        """Whether the fault plan silences this meter now (its cluster is down)."""
        plan = self.point.plan
        return bool(plan.silence) and plan.silent_clusters(self.identity.clusters, self.now())
