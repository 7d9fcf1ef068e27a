"""A fleet: N simulated meters in one process, materialised only while in use.

An idle meter is its number: identity, load and faults are derived from (fleet seed,
number) when a client connects. Materialised meters are kept up to ``max_active``; when
one is evicted the fleet keeps only what a real meter would not forget and a client
can notice: invocation counters (its own, and the last accepted from each client) and
the state clients set.
"""

from __future__ import annotations

import datetime as _dt
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from dlmskit.axdr import DeviationSign
from dlmskit.security import KeyId
from simulators._faults import FaultPlan
from simulators._identity import FleetLayout, MeterIdentity, MeterKeys
from simulators._meter import SimulatedMeter
from simulators._state import utc_now
from simulators._supply import SupplyControl
from simulators._truth import TruthRow, meter_truth

__all__ = ["Fleet"]


@attrs.frozen
class _Kept:
    """What an evicted meter remembers: its invocation counter, the clients' last
    accepted counters, and what clients set."""

    counter: int
    received: tuple[tuple[int, bytes, int], ...]  # (client SAP, client title, counter)
    relay: bool
    load_limit: int
    programming: int
    firmware: str
    eswf: bytes
    adjustment: tuple[_dt.datetime, _dt.timedelta] | None
    push: tuple[int, bytes]
    control: SupplyControl


class Fleet:
    """Meters ``0..layout.meters-1`` sharing keys, fault plan and time source.

    At most ``max_active`` meters stay materialised, least recently used evicted first;
    a meter with an open session is never evicted (so two live copies of a meter, and
    two users of one invocation counter, cannot exist).
    """

    def __init__(
        self,
        layout: FleetLayout,
        *,
        keys: MeterKeys | None = None,
        plan: FaultPlan | None = None,
        clock: Callable[[], _dt.datetime] = utc_now,
        sign: DeviationSign = DeviationSign.UTC_TO_LOCAL,
        max_active: int = 10_000,
        key_master: bytes | None = None,
        control_log: Callable[[MeterIdentity, SupplyControl], None] | None = None,
    ) -> None:
        self.layout = layout
        self.keys = keys if keys is not None else MeterKeys()
        self.plan = plan if plan is not None else FaultPlan()
        self.clock = clock
        self.sign = sign
        self.max_active = max_active
        #: With a master key every meter has its own EK/AK (``MeterKeys.derived``).
        self.key_master = key_master
        #: Told of each meter's supply control whenever a client changes it.
        self.control_log = control_log
        self._active: OrderedDict[int, SimulatedMeter] = OrderedDict()
        self._kept: dict[int, _Kept] = {}

    def __len__(self) -> int:
        return self.layout.meters

    @property
    def active(self) -> int:
        """How many meters are materialised."""
        return len(self._active)

    def identity(self, number: int) -> MeterIdentity:
        return self.layout.identity(number)

    def identities(self) -> Iterator[MeterIdentity]:
        for number in range(self.layout.meters):
            yield self.layout.identity(number)

    def meter(self, number: int) -> SimulatedMeter:
        """Meter ``number``, materialised (and marked recently used)."""
        meter = self._active.get(number)
        if meter is not None:
            self._active.move_to_end(number)
            self._trim(number)
            return meter
        meter = SimulatedMeter(
            self.layout.identity(number),
            keys=self.keys_of(number),
            plan=self.plan,
            clock=self.clock,
            sign=self.sign,
        )
        kept = self._kept.pop(number, None)
        if kept is not None:
            title = meter.identity.system_title
            meter.counters.reset(title, int(KeyId.GLOBAL_UNICAST_ENCRYPTION), kept.counter)
            meter.restore_received(kept.received)
            state = meter.state
            state.relay_connected = kept.relay
            state.load_limit = kept.load_limit
            state.programming_count = kept.programming
            state.firmware_version = kept.firmware
            state.eswf = kept.eswf
            state.adjustment = kept.adjustment
            state.push_transport, state.push_destination = kept.push
            if kept.control != state.point.control:
                state.point = attrs.evolve(state.point, control=kept.control)
        if self.control_log is not None:
            log = self.control_log
            meter.state.on_control = lambda state: log(state.identity, state.point.control)
        self._active[number] = meter
        self._trim(number)
        return meter

    def _trim(self, keep: int) -> None:
        """Evict least recently used idle meters down to ``max_active`` (if possible)."""
        excess = len(self._active) - self.max_active
        if excess <= 0:
            return
        victims: list[int] = []
        for number, meter in self._active.items():
            if len(victims) == excess:
                break
            if number != keep and not meter.open_sessions:
                victims.append(number)
        for number in victims:
            self._evict(number)

    def _evict(self, number: int) -> None:
        """Forget materialised meter ``number`` (it has no open session), keeping only
        what it must remember."""
        meter = self._active.pop(number)
        title = meter.identity.system_title
        state = meter.state
        self._kept[number] = _Kept(
            counter=meter.counters.peek(title, int(KeyId.GLOBAL_UNICAST_ENCRYPTION)),
            received=meter.received_counters(),
            relay=state.relay_connected,
            load_limit=state.load_limit,
            programming=state.programming_count,
            firmware=state.firmware_version,
            eswf=state.eswf,
            adjustment=state.adjustment,
            push=(state.push_transport, state.push_destination),
            control=state.point.control,
        )

    def control(self, number: int) -> SupplyControl:
        """The relay switching and load limits clients applied to meter ``number``."""
        meter = self._active.get(number)
        if meter is not None:
            return meter.state.point.control
        kept = self._kept.get(number)
        return SupplyControl() if kept is None else kept.control

    def truth(
        self, number: int, start: _dt.datetime, end: _dt.datetime, *, daily: bool = True
    ) -> Iterator[TruthRow]:
        """What meter ``number`` measured over [start, end), supply control included."""
        return meter_truth(
            self.identity(number),
            self.plan,
            start,
            end,
            daily=daily,
            control=self.control(number),
        )

    def meter_at(self, host: str | None) -> SimulatedMeter | None:
        """The meter listening on the local address ``host``; a one-meter fleet answers on
        any address."""
        number = None if host is None else self.layout.number_of(host)
        if number is None:
            if self.layout.meters == 1:
                return self.meter(0)
            return None
        return self.meter(number)

    def keys_of(self, number: int) -> MeterKeys:
        """The keys of meter ``number``."""
        if self.key_master is None:
            return self.keys
        return self.keys.derived(self.key_master, self.layout.identity(number).system_title)

    def address_plan(self, port: int) -> list[dict[str, Any]]:
        """Every meter with its address and clusters (JSON-ready); with per-meter keys,
        the keys too (they are test keys of a simulated fleet)."""
        return [
            {
                **self._key_columns(ident.number),
                "meter": ident.name,
                "number": ident.number,
                "host": ident.host,
                "port": port,
                "serial": ident.serial,
                "system_title": ident.system_title.hex().upper(),
                "model": ident.model.name.lower(),
                "kind": ident.kind.name.lower(),
                "net_metered": ident.net_metered,
                "cell": ident.cell,
                "feeder": ident.feeder,
                "network": ident.network_name,
            }
            for ident in self.identities()
        ]

    def _key_columns(self, number: int) -> dict[str, str]:
        if self.key_master is None:
            return {}
        keys = self.keys_of(number)
        return {"ek": keys.ek.hex().upper(), "ak": keys.ak.hex().upper()}
