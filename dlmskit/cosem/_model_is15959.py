"""An object tree for an IS 15959-2 smart meter, built from the companion profile data.

Every object the profile names (clock, registers behind each capture object, profiles
and their scaler profiles, event logs, push setups, associations, security setups,
disconnect control, limiter, image transfer, schedules, communication setups) is
created with neutral values; a simulator then rebinds the attributes it models.
Access rights follow the IS 15959-2 associations: the public client reads a handful
of identification objects; the meter reader reads everything; utility settings reads,
writes and invokes; the push association sees the push setups; the firmware
association sees what a download needs.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Final

from dlmskit.axdr import (
    Array,
    BitString,
    Data,
    DeviationSign,
    DoubleLong,
    DoubleLongUnsigned,
    Long,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
)
from dlmskit.cosem._capture import CaptureObject, ScalerUnit
from dlmskit.cosem._is15959 import (
    DEFAULT_ESWF_SINGLE_PHASE,
    ESW,
    ESWF,
    SINGLE_PHASE,
    CompanionProfile,
    ProfileKind,
)
from dlmskit.cosem._model_association import AssociationLN
from dlmskit.cosem._model_base import CosemObject
from dlmskit.cosem._model_clock import Clock
from dlmskit.cosem._model_control import (
    ActivityCalendar,
    DisconnectControl,
    Limiter,
    ScriptTable,
    SingleActionSchedule,
)
from dlmskit.cosem._model_image import ImageTransfer
from dlmskit.cosem._model_profile import ComputedBuffer, ProfileGeneric, Row, StoredBuffer
from dlmskit.cosem._model_push import PushSetup, SecuritySetup
from dlmskit.cosem._model_registers import DataObject, DemandRegister, ExtendedRegister, Register
from dlmskit.cosem._model_setup import (
    GprsModemSetup,
    IecHdlcSetup,
    Ipv4Setup,
    SapAssignment,
    TcpUdpSetup,
)
from dlmskit.cosem._model_tree import AssociationRights, CosemObjectTree
from dlmskit.cosem._units import Unit
from obis import ObisCode

__all__ = ["is15959_object_tree", "register_scaler_unit"]

_LN = ObisCode.parse

#: What the public client (SAP 16) may read: identification, clock, invocation counters.
PUBLIC_OBJECTS: Final = frozenset(
    _LN(text)
    for text in (
        "0.0.1.0.0.255",
        "0.0.42.0.0.255",
        "0.0.96.1.0.255",
        "0.0.96.1.1.255",
        "1.0.0.2.0.255",
        "0.0.43.1.2.255",
        "0.0.43.1.3.255",
        "0.0.43.1.5.255",
    )
)
#: What the firmware association (SAP 80) sees.
FIRMWARE_OBJECTS: Final = frozenset(
    _LN(text)
    for text in (
        "0.0.1.0.0.255",
        "0.0.42.0.0.255",
        "1.0.0.2.0.255",
        "0.0.44.0.0.255",
        "0.0.15.0.2.255",
        "0.0.10.0.107.255",
    )
)


def register_scaler_unit(logical_name: ObisCode) -> tuple[ScalerUnit, Data]:
    """A typical scaler_unit and a zero value of the usual type for an IS 15959 register.

    Energies in Wh/VAh (scaler 0, double-long-unsigned), voltages in V (-2), currents in
    A (-3), power in W/VA (0, double-long), power factor (-3, long), frequency in Hz (-2),
    durations in minutes. A meter make may differ: read the scaler profiles.
    """
    a, _, c, d, _, _ = logical_name.to_tuple()
    if logical_name in (_LN("0.0.94.91.14.255"), _LN("0.0.94.91.13.255")):
        return ScalerUnit(scaler=0, unit=Unit.MINUTE), DoubleLongUnsigned(0)
    if logical_name == _LN("0.0.94.91.8.255"):
        return ScalerUnit(scaler=0, unit=Unit.MINUTE), DoubleLongUnsigned(0)
    if logical_name == _LN("0.0.0.1.2.255"):
        return ScalerUnit(scaler=0, unit=Unit.COUNT), OctetString(
            bytes.fromhex("FF" * 9 + "8000FF")
        )
    if a == 1 and d in (8, 29):
        unit = {1: Unit.WATT_HOUR, 2: Unit.WATT_HOUR, 9: Unit.VOLT_AMPERE_HOUR}.get(
            c, Unit.VOLT_AMPERE_HOUR if c == 10 else Unit.VAR_HOUR
        )
        return ScalerUnit(scaler=0, unit=unit), DoubleLongUnsigned(0)
    if a == 1 and c in (12, 32, 52, 72):
        return ScalerUnit(scaler=-2, unit=Unit.VOLT), LongUnsigned(0)
    if a == 1 and c in (11, 31, 51, 71, 91, 94):
        return ScalerUnit(scaler=-3, unit=Unit.AMPERE), DoubleLong(0)
    if a == 1 and c in (13, 33, 53, 73):
        return ScalerUnit(scaler=-3, unit=Unit.COUNT), Long(0)
    if a == 1 and c == 14:
        return ScalerUnit(scaler=-2, unit=Unit.HERTZ), LongUnsigned(0)
    if a == 1 and c in (1, 2):
        return ScalerUnit(scaler=0, unit=Unit.WATT), DoubleLong(0)
    if a == 1 and c in (9, 10):
        return ScalerUnit(scaler=0, unit=Unit.VOLT_AMPERE), DoubleLong(0)
    return ScalerUnit(scaler=0, unit=Unit.COUNT), DoubleLongUnsigned(0)


def _data_value(logical_name: ObisCode, serial: bytes) -> Data:
    text = str(logical_name)
    if text == "0.0.96.1.0.255":
        return OctetString(serial)
    if text in ("0.0.96.1.1.255", "0.0.96.1.2.255", "1.0.0.2.0.255", "0.0.94.91.9.255"):
        return OctetString(b"")
    if text == "0.0.42.0.0.255":
        return OctetString(b"DLM" + serial[-13:].rjust(13, b"0"))
    if logical_name in (ESW, ESWF):
        bits = DEFAULT_ESWF_SINGLE_PHASE if logical_name == ESWF else bytes(16)
        return BitString(value=bits, length=128)
    if logical_name.c == 96 and logical_name.d == 11:
        return LongUnsigned(0)
    return DoubleLongUnsigned(0)


def is15959_object_tree(
    profile: CompanionProfile = SINGLE_PHASE,
    *,
    now: Callable[[], _dt.datetime],
    sign: DeviationSign = DeviationSign.UTC_TO_LOCAL,
    time_zone: int = 330,
    serial_number: bytes = b"00000001",
    server_sap: int = 1,
    block_load_period: int = 900,
    block_load_depth: int = 45 * 96,
    block_load_rows: Callable[[_dt.datetime], Row | None] | None = None,
    block_load_complete: bool = False,
    block_load_present: Callable[[_dt.datetime], bool] | None = None,
) -> CosemObjectTree:
    """A tree holding every object of ``profile``, with the IS 15959-2 access rights.

    ``now`` drives the clock (0.0.1.0.0.255); ``sign``/``time_zone`` say how the meter
    writes its deviation (default: +330 for IST, as many Indian meters send).
    ``block_load_rows(t)``, when given, computes the block load row captured at ``t``
    (a :class:`ComputedBuffer` of ``block_load_depth`` entries); otherwise the block load
    buffer is stored and filled by ``capture()``. ``block_load_complete`` and
    ``block_load_present`` are the :class:`ComputedBuffer` hints that spare computing
    every row for entry reads.
    """
    tree = CosemObjectTree()
    clock = Clock(now=now, time_zone=time_zone, sign=sign, measuring_period=block_load_period)
    tree.add(clock)
    local_tz = clock.tzinfo

    def add(obj: CosemObject) -> None:
        if obj.logical_name not in tree:
            tree.add(obj)

    columns: list[CaptureObject] = [
        c for p in profile.profiles for c in p.capture_objects if p.kind is not ProfileKind.SCALER
    ]
    columns += [c for push in profile.push_setups for c in push.push_object_list]
    for column in columns:
        name = column.logical_name
        if name in tree:
            continue
        if column.class_id == 3:
            scaler_unit, zero = register_scaler_unit(name)
            add(Register(name, zero, scaler_unit))
        elif column.class_id == 4:
            scaler_unit, zero = register_scaler_unit(name)
            add(ExtendedRegister(name, zero, scaler_unit, now=clock.date_time))
        elif column.class_id == 5:
            scaler_unit, zero = register_scaler_unit(name)
            add(DemandRegister(name, scaler_unit, current_average_value=zero, now=clock.date_time))
        elif column.class_id == 1:
            add(DataObject(name, _data_value(name, serial_number)))
    for text in (
        "0.0.42.0.0.255",
        "0.0.96.1.0.255",
        "0.0.96.1.1.255",
        "0.0.0.1.1.255",
        "0.0.94.91.26.255",
        "0.0.94.91.18.255",
        "1.0.0.8.0.255",
        "1.0.0.8.5.255",
        *(f"0.0.43.1.{e}.255" for e in (2, 3, 4, 5)),
    ):
        add(DataObject(_LN(text), _data_value(_LN(text), serial_number)))
    add(DataObject(_LN("1.0.0.8.4.255"), DoubleLongUnsigned(block_load_period)))

    add(
        DisconnectControl(
            "0.0.96.3.10.255",
        )
    )
    add(
        Limiter(
            "0.0.17.0.0.255",
            monitored_value=Structure(
                (LongUnsigned(3), OctetString(_LN("1.0.1.7.0.255").to_bytes()), Unsigned(2))
            ),
            threshold_active=DoubleLong(0),
            threshold_normal=DoubleLong(0),
            threshold_emergency=DoubleLong(0),
        )
    )
    add(ImageTransfer())
    add(ActivityCalendar())
    for script in ("0.0.10.0.1.255", "0.0.10.0.100.255", "0.0.10.0.107.255", "0.0.10.0.108.255"):
        add(
            ScriptTable(
                script,
                scripts=Array((Structure((LongUnsigned(1), Array())),)),
            )
        )
    for schedule, script in (
        ("0.0.15.0.0.255", "0.0.10.0.1.255"),
        ("0.0.15.0.2.255", "0.0.10.0.107.255"),
        ("0.0.15.0.4.255", "0.0.10.0.108.255"),
    ):
        add(SingleActionSchedule(schedule, script=script))
    for setup in (TcpUdpSetup(), Ipv4Setup(), GprsModemSetup(), IecHdlcSetup(), SapAssignment()):
        add(setup)

    for definition in profile.profiles:
        scaler = definition.kind is ProfileKind.SCALER
        on_read = scaler or definition.kind in (ProfileKind.INSTANTANEOUS, ProfileKind.NAME_PLATE)
        if definition.kind is ProfileKind.BLOCK_LOAD:
            period = block_load_period
            buffer = (
                ComputedBuffer(
                    row_at=block_load_rows,
                    period=block_load_period,
                    depth=block_load_depth,
                    now=clock.local_now,
                    complete=block_load_complete,
                    present=block_load_present,
                )
                if block_load_rows is not None
                else StoredBuffer(block_load_depth)
            )
            entries = block_load_depth
        else:
            period = definition.capture_period or 0
            entries = 1 if on_read else (definition.profile_entries or 100)
            buffer = StoredBuffer(entries)
        add(
            ProfileGeneric(
                definition.logical_name,
                capture_objects=definition.capture_objects,
                capture_period=period,
                profile_entries=entries,
                buffer=buffer,
                capture_on_read=on_read,
                sign=sign,
                tz=local_tz,
            )
        )

    for push in profile.push_setups:
        add(PushSetup(push.logical_name, push_object_list=push.push_object_list))

    for association in profile.associations:
        add(
            AssociationLN(
                association.logical_name,
                client_sap=association.client_sap,
                server_sap=server_sap,
                application_context=association.application_context,
                mechanism=association.mechanism,
                conformance=association.conformance,
                security_setup=association.security_setup,
            )
        )
        if association.security_setup is not None:
            add(
                SecuritySetup(
                    association.security_setup,
                    security_policy=3,
                    security_suite=0,
                    version=1,
                )
            )
        tree.grant(_rights(association.client_sap, association.logical_name, profile))
    return tree


def _rights(client_sap: int, association: ObisCode, profile: CompanionProfile) -> AssociationRights:
    if client_sap == 0x10:
        return AssociationRights(
            client_sap=client_sap,
            association=association,
            visible=PUBLIC_OBJECTS,
            write=False,
            methods=False,
        )
    if client_sap == 0x20:
        return AssociationRights(
            client_sap=client_sap, association=association, write=False, methods=False
        )
    if client_sap == 0x40:
        return AssociationRights(
            client_sap=client_sap,
            association=association,
            visible=frozenset(p.logical_name for p in profile.push_setups),
            write=False,
            methods=False,
        )
    if client_sap == 0x50:
        return AssociationRights(
            client_sap=client_sap, association=association, visible=FIRMWARE_OBJECTS
        )
    return AssociationRights(client_sap=client_sap, association=association)
