"""Getters, setters and methods of the simulated meter's COSEM attributes.

Each getter takes the meter state (and the selective access, unused by most) and
computes the value; setters and methods change the little state a meter keeps. The
object tree (``MeterObjects``) maps (class, logical name, index) to these.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import TypeAlias

from dlmskit.apdu import ActionResult, DataAccessResult, SelectiveAccess
from dlmskit.axdr import (
    BitString,
    Data,
    DateTime,
    DoubleLongUnsigned,
    LongUnsigned,
    OctetString,
    Structure,
)
from dlmskit.errors import DlmsError
from obis import ObisCode
from simulators._billing import BILLING_PERIOD_REGISTERS, billing_points, current_period
from simulators._load import interval_index
from simulators._registers import REGISTERS, block_values, instantaneous_values, maximum_demand
from simulators._state import MeterState

Getter: TypeAlias = Callable[[MeterState, "SelectiveAccess | None"], "Data | DataAccessResult"]
#: Days of block load history a meter keeps (IS 15959-2 / tender practice at 15 minutes).
BLOCK_LOAD_DAYS = 45
#: Event logs 0.0.99.98.3 (transactions) and .6 (control), IS 15959-2 event codes.
TRANSACTION_LOG, CONTROL_LOG = 3, 6


def date_time(state: MeterState, when: _dt.datetime) -> OctetString:
    """A meter-clock date-time (local time and deviation) as octet-string(12)."""
    return state.date_time_octets(when)


def data_getter(make: Callable[[MeterState], Data]) -> Getter:
    return lambda s, a: make(s)


def register_value(ln: ObisCode) -> Getter:
    register = REGISTERS[ln]
    block = ln.d in (27, 29)
    demand = register.class_id == 4
    billing = ln in BILLING_PERIOD_REGISTERS

    def get(state: MeterState, access: SelectiveAccess | None) -> Data | DataAccessResult:
        now = state.now()
        if demand:
            w, _, va, _ = maximum_demand(state.point, now)
            return register.wrap(w if ln.c == 1 else va)
        if billing:
            return register.wrap(current_period(state.point, now)[ln])
        if block:
            index = interval_index(now) - 1
            return register.wrap(block_values(state.point, state.point.interval(index))[ln])
        return register.wrap(instantaneous_values(state.point, now)[ln])

    return get


def association_placeholder(
    state: MeterState, access: SelectiveAccess | None
) -> Data | DataAccessResult:
    """Association LN attributes depend on the association asking: MeterObjects.get
    answers them; this entry only marks them as present."""
    return DataAccessResult.OBJECT_UNAVAILABLE


def received_counter(sap: int) -> Getter:
    return lambda s, a: DoubleLongUnsigned(s.last_received(sap))


def last_billing(state: MeterState) -> Data:
    points = billing_points(state.point, state.now())
    return date_time(state, state.stamp(points[-1])) if points else None


def demand_time(ln: ObisCode) -> Getter:
    def get(state: MeterState, access: SelectiveAccess | None) -> Data | DataAccessResult:
        _, at_w, _, at_va = maximum_demand(state.point, state.now())
        return date_time(state, state.stamp(at_w if ln.c == 1 else at_va))

    return get


def last_event_code(log: int) -> Getter:
    def get(state: MeterState, access: SelectiveAccess | None) -> Data | DataAccessResult:
        end = interval_index(state.now())
        codes = [
            e.code for e in state.point.events(end - 96 * BLOCK_LOAD_DAYS, end) if e.log == log
        ]
        return LongUnsigned(codes[-1] if codes else 0)

    return get


def set_clock(state: MeterState, value: Data) -> DataAccessResult:
    if not isinstance(value, bytes) or len(value) != 12:
        return DataAccessResult.TYPE_UNMATCHED
    try:
        when = DateTime.from_bytes(bytes(value)).to_datetime(sign=state.sign)
    except DlmsError:
        return DataAccessResult.OTHER_REASON
    if when.tzinfo is None:
        when = when.replace(tzinfo=state.local_zone)
    state.set_clock(when)
    state.log_event(log=TRANSACTION_LOG, code=151)  # real time clock set
    return DataAccessResult.SUCCESS


def set_push_destination(state: MeterState, value: Data) -> DataAccessResult:
    if not isinstance(value, Structure) or len(value) != 3:
        return DataAccessResult.TYPE_UNMATCHED
    transport, destination, _message = value
    if not isinstance(transport, int) or not isinstance(destination, bytes):
        return DataAccessResult.TYPE_UNMATCHED
    state.push_transport = int(transport)
    state.push_destination = bytes(destination)
    state.programming_count += 1
    return DataAccessResult.SUCCESS


def set_eswf(state: MeterState, value: Data) -> DataAccessResult:
    if not isinstance(value, BitString) or value.length != 128:
        return DataAccessResult.TYPE_UNMATCHED
    state.eswf = bytes(value.value)
    state.programming_count += 1
    state.log_event(log=TRANSACTION_LOG, code=165)  # ESWF change
    return DataAccessResult.SUCCESS


def set_load_limit(state: MeterState, value: Data) -> DataAccessResult:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << 32:
        return DataAccessResult.TYPE_UNMATCHED
    state.load_limit = int(value)
    state.apply_control(state.point.control.limited(state.now(), int(value)))
    state.programming_count += 1
    state.log_event(log=TRANSACTION_LOG, code=158)  # load limit set
    return DataAccessResult.SUCCESS


def disconnect(state: MeterState, parameters: Data | None) -> ActionResult:
    if state.relay_connected:
        state.relay_connected = False
        state.apply_control(state.point.control.disconnected(state.now()))
        state.log_event(log=CONTROL_LOG, code=301)  # load switch disconnected
    return ActionResult.SUCCESS


def reconnect(state: MeterState, parameters: Data | None) -> ActionResult:
    if not state.relay_connected:
        state.relay_connected = True
        state.apply_control(state.point.control.reconnected(state.now()))
        state.log_event(log=CONTROL_LOG, code=302)  # load switch connected
    return ActionResult.SUCCESS


def tamper_count(state: MeterState, when: _dt.datetime) -> LongUnsigned:
    """The cumulative tamper count at true time ``when`` (an occurrence counts from the
    start of its interval, when the meter logs it)."""
    return LongUnsigned(min(state.point.tamper_count(interval_index(when) + 1), 0xFFFF))
