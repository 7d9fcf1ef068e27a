"""Simulated IS 15959-2 meters and fleets built on the public dlmskit API.

A meter is the real :class:`~dlmskit.association.ServerAssociation` with suite 0
security over a COSEM object tree (:class:`MeterObjects`) whose values are computed from
a deterministic load model (:class:`LoadModel`) and a seeded fault plan
(:class:`FaultPlan`); a fleet (:class:`Fleet`) serves many of them from one process, one
loopback address each (meter n on 127.1.0.0 + n), materialised only while in use::

    fleet = Fleet(FleetLayout(seed=1, meters=10_000), plan=FaultPlan.load("faults.toml"))
    async with trio.open_nursery() as nursery:
        await nursery.start(serve_fleet_wrapper, fleet, 4059)      # or _hdlc, _udp,
        await nursery.start(run_pushes, fleet, PushConfig(host=hes))  # _mesh, _wisun

Associations (IS 15959-2): public client 16 (no security: clock, name plate), meter
reader 32 (LLS ``12345678``, ciphered), utility settings 48 and firmware 80 (HLS
mechanism 2 with secret ``ABCDEFGHIJKLMNOP``, or 5 GMAC; ciphered), push 64
(pre-established). Keys: the Green Book test keys EK 000102...0F, AK D0...DF; server
system title 4D4D4D0000BC614E (+ n). Date-times are IST; the deviation's sign is a fleet
setting (default +330, as many Indian meters).

What every meter measured, and which faults it was given, comes from
:func:`meter_truth` and :func:`injected_faults` (CSV columns
``meter,obis,start,value,unit,quality``), the same functions the meters serve from;
``Fleet.truth`` adds what clients did to the supply (relay switching and load limits,
:class:`SupplyControl`), which changes what a meter measures from the moment of the
action. Pushes go over the wrapper (TCP, UDP) or as HDLC UI frames on TCP.
"""

from __future__ import annotations

from simulators._faults import (
    ClusterKind,
    FaultKind,
    FaultPlan,
    IntervalFaultRule,
    MeterFaultRule,
    SilenceRule,
)
from simulators._fleet import Fleet
from simulators._identity import (
    DEFAULT_AK,
    DEFAULT_EK,
    DEFAULT_HLS_SECRET,
    DEFAULT_LLS_SECRET,
    DEFAULT_SYSTEM_TITLE,
    FIRST_ADDRESS,
    FleetLayout,
    MeterIdentity,
    MeterKeys,
    MeterModel,
)
from simulators._load import INTERVAL, IST, ConsumerKind, IntervalEnergy, LoadModel
from simulators._measure import MeterEvent, MeteringPoint, ReportedInterval
from simulators._mesh import eui64, serve_fleet_mesh, serve_fleet_wisun, serve_link
from simulators._meter import MeterSession, SimulatedMeter
from simulators._objects import BLOCK_LOAD_PUSH, MeterObjects
from simulators._push import (
    INSTANTANEOUS_PUSH,
    PushConfig,
    PushStats,
    as_sent,
    notification,
    run_pushes,
)
from simulators._registers import REGISTERS, RegisterDef
from simulators._serial import open_fleet_ptys, open_meter_pty, serve_serial
from simulators._serve import (
    LinkFaults,
    LinkStats,
    run_session,
    serve_fleet_hdlc,
    serve_fleet_wrapper,
)
from simulators._state import MeterState
from simulators._supply import SupplyControl
from simulators._truth import (
    CSV_COLUMNS,
    FaultRecord,
    TruthRow,
    injected_faults,
    meter_truth,
    truth_json,
    write_truth_csv,
)
from simulators._udp import serve_fleet_udp

__all__ = [
    "BLOCK_LOAD_PUSH",
    "INSTANTANEOUS_PUSH",
    "PushConfig",
    "PushStats",
    "as_sent",
    "notification",
    "run_pushes",
    "serve_fleet_udp",
    "open_fleet_ptys",
    "open_meter_pty",
    "serve_serial",
    "LinkFaults",
    "eui64",
    "serve_fleet_mesh",
    "serve_fleet_wisun",
    "serve_link",
    "CSV_COLUMNS",
    "DEFAULT_AK",
    "DEFAULT_EK",
    "DEFAULT_HLS_SECRET",
    "DEFAULT_LLS_SECRET",
    "DEFAULT_SYSTEM_TITLE",
    "FIRST_ADDRESS",
    "INTERVAL",
    "IST",
    "REGISTERS",
    "ClusterKind",
    "ConsumerKind",
    "FaultKind",
    "FaultPlan",
    "FaultRecord",
    "Fleet",
    "FleetLayout",
    "IntervalEnergy",
    "IntervalFaultRule",
    "LinkStats",
    "LoadModel",
    "MeterEvent",
    "MeterFaultRule",
    "MeterIdentity",
    "MeterKeys",
    "MeterModel",
    "MeterObjects",
    "MeterSession",
    "MeterState",
    "MeteringPoint",
    "RegisterDef",
    "ReportedInterval",
    "SilenceRule",
    "SupplyControl",
    "SimulatedMeter",
    "TruthRow",
    "injected_faults",
    "meter_truth",
    "run_session",
    "serve_fleet_hdlc",
    "serve_fleet_wrapper",
    "truth_json",
    "write_truth_csv",
]
