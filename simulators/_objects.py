"""The COSEM object tree of a simulated IS 15959-2 meter (an ``ObjectTree``).

Values are computed when read from the meter's :class:`~simulators.MeterState` (its
measurements, clock and the little state it keeps: relay, ESWF, load limit, clock
adjustment). Profiles honour selective access by range (selector 1) and by entry
(selector 2). Access rights follow the IS 15959-2 associations: the public client reads
the clock and the name plate, the meter reader reads everything, utility settings also
writes the clock, ESWF and load limit and switches the relay.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Final, TypeAlias

from dlmskit.apdu import (
    ActionResult,
    CosemAttributeDescriptor,
    CosemMethodDescriptor,
    DataAccessResult,
    SelectiveAccess,
)
from dlmskit.association import (
    AttributeAccessMode,
    MethodAccessMode,
    RequestContext,
)
from dlmskit.axdr import (
    Array,
    BitString,
    Data,
    DateTime,
    DoubleLongUnsigned,
    Enum,
    Integer,
    Long,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
)
from dlmskit.cosem import (
    IS15959_ESW,
    IS15959_ESWF,
    CaptureObject,
    CompanionProfile,
    ProfileDefinition,
    ProfileKind,
    PushSetupDefinition,
    esw_from_bits,
    filter_rows,
)
from dlmskit.errors import DlmsError
from obis import ObisCode
from simulators._association_ln import (
    ASSOCIATION_ATTRIBUTES,
    CURRENT_ASSOCIATION,
    association_attribute,
)
from simulators._attributes import (
    BLOCK_LOAD_DAYS,
    association_placeholder,
    data_getter,
    date_time,
    demand_time,
    disconnect,
    last_billing,
    last_event_code,
    received_counter,
    reconnect,
    register_value,
    set_clock,
    set_eswf,
    set_load_limit,
    set_push_destination,
    tamper_count,
)
from simulators._billing import (
    BILLING_DATE,
    billing_points,
    billing_values,
)
from simulators._block_load import block_load_rows
from simulators._esw import active_bits
from simulators._image import IMAGE_TRANSFER, image_attributes, image_methods
from simulators._load import INTERVAL, interval_index
from simulators._registers import (
    REGISTERS,
    daily_values,
    instantaneous_values,
)
from simulators._state import MeterState

__all__ = ["BLOCK_LOAD_PUSH", "MeterObjects", "block_load_push_setup"]

_Key: TypeAlias = tuple[int, ObisCode]
_Getter: TypeAlias = Callable[[MeterState, "SelectiveAccess | None"], "Data | DataAccessResult"]
_Cell: TypeAlias = Callable[[MeterState, _dt.datetime, int], Data]

PUBLIC, READER, SETTINGS, PUSH, FIRMWARE = 0x10, 0x20, 0x30, 0x40, 0x50
_LN = ObisCode.parse
CLOCK: Final = _LN("0.0.1.0.0.255")
_LDN = _LN("0.0.42.0.0.255")
_DISCONNECT = _LN("0.0.96.3.10.255")
_LIMITER = _LN("0.0.17.0.0.255")
TAMPER_COUNT: Final = _LN("0.0.94.91.0.255")
#: Invocation counter objects of the ciphered associations (IS 15959-2), by client SAP.
_COUNTERS: Final = {0x10 * e: _LN(f"0.0.43.1.{e}.255") for e in (2, 3, 4, 5)}
_PUBLIC_OBJECTS: Final = frozenset(
    {CLOCK, _LDN, *(_LN(f"0.0.96.1.{e}.255") for e in (0, 1, 2, 4)), _LN("1.0.0.2.0.255")}
    | {_LN(f"0.0.40.0.{e}.255") for e in range(6)}
    | set(_COUNTERS.values())
)
#: Simulator push setup pushing the last block load row (not in the IS 15959-2 lists).
BLOCK_LOAD_PUSH: Final = ObisCode(0, 5, 25, 9, 0)
_BLOCK_LOAD: Final = ObisCode(1, 0, 99, 1, 0)


def block_load_push_setup(profile: CompanionProfile) -> PushSetupDefinition:
    """The block load push: device ID, push setup LN, then the block load row's columns."""
    block_load = profile.profile(_BLOCK_LOAD)
    columns = () if block_load is None else block_load.capture_objects
    return PushSetupDefinition(
        logical_name=BLOCK_LOAD_PUSH,
        name="Block load push (simulator)",
        push_object_list=(
            CaptureObject.of(1, "0.0.96.1.2.255", 2),
            CaptureObject.of(40, BLOCK_LOAD_PUSH, 1),
            *columns,
        ),
        trigger=None,
    )


#: Profiles whose rows are computed only within a clock range.
_WINDOWED: Final = frozenset(
    {ProfileKind.BLOCK_LOAD, ProfileKind.DAILY_LOAD, ProfileKind.EVENT, ProfileKind.BILLING}
)
#: Rolling block load memory (IS 15959-2 / tender practice: 45 days at 15 minutes).
DAILY_LOAD_DAYS: Final = 60
BILLING_ENTRIES: Final = 12


class MeterObjects:
    """The :class:`~dlmskit.association.ObjectTree` of one meter over its state.

    The tables of getters, setters and methods are built once per companion profile and
    shared by every meter of that model; a meter adds only its state.
    """

    def __init__(self, state: MeterState, profile: CompanionProfile) -> None:
        self.state = state
        self.profile = profile
        self.catalogue = _catalogue(profile)

    def attribute_access(
        self, ctx: RequestContext, descriptor: CosemAttributeDescriptor
    ) -> AttributeAccessMode | None:
        cat = self.catalogue
        key = (descriptor.class_id, descriptor.instance_id)
        getters = cat.attributes.get(key)
        if getters is None or descriptor.attribute_id not in getters:
            return None
        sap = ctx.client_sap
        if sap == PUBLIC and descriptor.instance_id not in _PUBLIC_OBJECTS:
            if descriptor.attribute_id == 1:
                return AttributeAccessMode.READ_ONLY
            return AttributeAccessMode.NO_ACCESS
        if sap == SETTINGS and descriptor.attribute_id in cat.writable.get(key, {}):
            return AttributeAccessMode.READ_AND_WRITE
        return AttributeAccessMode.READ_ONLY

    def method_access(
        self, ctx: RequestContext, descriptor: CosemMethodDescriptor
    ) -> MethodAccessMode | None:
        methods = self.catalogue.methods.get((descriptor.class_id, descriptor.instance_id))
        if methods is None or descriptor.method_id not in methods:
            return None
        if ctx.client_sap in (SETTINGS, FIRMWARE):
            return MethodAccessMode.ACCESS
        return MethodAccessMode.NO_ACCESS

    def get(
        self,
        ctx: RequestContext,
        descriptor: CosemAttributeDescriptor,
        selective_access: SelectiveAccess | None,
    ) -> Data | DataAccessResult:
        key = (descriptor.class_id, descriptor.instance_id)
        getter = self.catalogue.attributes.get(key, {}).get(descriptor.attribute_id)
        if getter is None:
            return DataAccessResult.OBJECT_UNDEFINED
        if descriptor.class_id == 15 and descriptor.attribute_id > 1:
            value = association_attribute(
                self, ctx, descriptor.instance_id, descriptor.attribute_id
            )
            return DataAccessResult.OBJECT_UNAVAILABLE if value is None else value
        return getter(self.state, selective_access)

    def set(
        self,
        ctx: RequestContext,
        descriptor: CosemAttributeDescriptor,
        selective_access: SelectiveAccess | None,
        value: Data,
    ) -> DataAccessResult:
        key = (descriptor.class_id, descriptor.instance_id)
        setter = self.catalogue.writable.get(key, {}).get(descriptor.attribute_id)
        if setter is None or selective_access is not None:
            return DataAccessResult.READ_WRITE_DENIED
        return setter(self.state, value)

    def action(
        self, ctx: RequestContext, descriptor: CosemMethodDescriptor, parameters: Data | None
    ) -> tuple[ActionResult, Data | None]:
        key = (descriptor.class_id, descriptor.instance_id)
        method = self.catalogue.methods.get(key, {}).get(descriptor.method_id)
        if method is None:
            return ActionResult.OBJECT_UNDEFINED, None
        return method(self.state, parameters), None

    def rows(
        self, definition: ProfileDefinition, access: SelectiveAccess | None = None
    ) -> list[Structure]:
        """The buffer of a profile of this meter, filtered by selective access."""
        return self.catalogue.rows(definition, self.state, access)


_CATALOGUES: dict[str, _Catalogue] = {}


def _catalogue(profile: CompanionProfile) -> _Catalogue:
    found = _CATALOGUES.get(profile.name)
    if found is None:
        found = _CATALOGUES[profile.name] = _Catalogue(profile)
    return found


class _Catalogue:
    """Getters, setters and methods of every object of one companion profile."""

    def __init__(self, profile: CompanionProfile) -> None:
        self.profile = profile
        self.attributes: dict[_Key, dict[int, _Getter]] = {}
        self.writable: dict[_Key, dict[int, Callable[[MeterState, Data], DataAccessResult]]] = {}
        self.methods: dict[_Key, dict[int, Callable[[MeterState, Data | None], ActionResult]]]
        self.methods = {}
        self._build()

    # -- building ------------------------------------------------------------------------

    def _add(self, class_id: int, ln: ObisCode, attributes: dict[int, _Getter]) -> None:
        ln_value = OctetString(ln.to_bytes())
        self.attributes[(class_id, ln)] = {1: lambda s, a: ln_value, **attributes}

    def _build(self) -> None:
        self._build_clock()
        self._build_data()
        for register in REGISTERS.values():
            self._build_register(register.logical_name)
        for definition in self.profile.profiles:
            self._build_profile(definition)
        served: dict[int, _Getter] = {n: association_placeholder for n in ASSOCIATION_ATTRIBUTES}
        for association in self.profile.associations:
            self._add(15, association.logical_name, dict(served))
        self._add(15, CURRENT_ASSOCIATION, dict(served))
        self._add(
            70,
            _DISCONNECT,
            {
                2: lambda s, a: s.relay_connected,
                3: lambda s, a: Enum(1 if s.relay_connected else 0),
                4: lambda s, a: Enum(4),
            },
        )
        self.methods[(70, _DISCONNECT)] = {1: disconnect, 2: reconnect}
        self._add(71, _LIMITER, {3: lambda s, a: DoubleLongUnsigned(s.load_limit)})
        self.writable[(71, _LIMITER)] = {3: set_load_limit}
        for setup in (*self.profile.push_setups, block_load_push_setup(self.profile)):
            self._build_push_setup(setup)
        self._add(
            3,
            BILLING_DATE[0],
            {
                2: lambda s, a: last_billing(s),
                3: lambda s, a: Structure((Integer(0), Enum(255))),
            },
        )
        self._add(18, IMAGE_TRANSFER, image_attributes())
        self.methods[(18, IMAGE_TRANSFER)] = image_methods()

    def _build_push_setup(self, setup: PushSetupDefinition) -> None:
        objects = Array(c.to_data() for c in setup.push_object_list)
        self._add(
            40,
            setup.logical_name,
            {
                2: lambda s, a: objects,
                3: lambda s, a: Structure(
                    (Enum(s.push_transport), OctetString(s.push_destination), Enum(0))
                ),
                4: lambda s, a: Array(()),
                5: lambda s, a: LongUnsigned(60),
                6: lambda s, a: Unsigned(3),
                7: lambda s, a: LongUnsigned(5),
            },
        )
        self.writable[(40, setup.logical_name)] = {3: set_push_destination}

    def _build_clock(self) -> None:
        self._add(
            8,
            CLOCK,
            {
                2: lambda s, a: date_time(s, s.meter_time()),
                3: lambda s, a: Long(s.deviation),
                4: lambda s, a: Unsigned(0),
                5: lambda s, a: OctetString(DateTime().to_bytes()),
                6: lambda s, a: OctetString(DateTime().to_bytes()),
                7: lambda s, a: Integer(0),
                8: lambda s, a: False,
                9: lambda s, a: Enum(1),
            },
        )
        self.writable[(8, CLOCK)] = {2: set_clock}

    def _build_data(self) -> None:
        texts: dict[str, Callable[[MeterState], Data]] = {
            "0.0.42.0.0.255": lambda s: OctetString(f"SIM{s.identity.serial:013d}".encode()),
            "0.0.96.1.0.255": lambda s: OctetString(str(s.identity.serial).encode()),
            "0.0.96.1.1.255": lambda s: OctetString(b"dlmskit simulator"),
            "0.0.96.1.2.255": lambda s: OctetString(s.identity.name.encode()),
            "0.0.96.1.4.255": lambda s: LongUnsigned(2025),
            "1.0.0.2.0.255": lambda s: OctetString(s.firmware_version.encode()),
            "0.0.94.91.9.255": lambda s: Unsigned(6 if int(s.identity.model) == 1 else 1),
            "0.0.94.91.11.255": lambda s: OctetString(
                b"D1" if int(s.identity.model) == 1 else b"C1"
            ),
            "0.0.94.91.12.255": lambda s: OctetString(b"5-60A"),
            "0.0.94.91.0.255": lambda s: tamper_count(s, s.now()),
            "0.0.0.1.0.255": lambda s: DoubleLongUnsigned(s.billing_count()),
            "0.0.96.2.0.255": lambda s: LongUnsigned(s.programming_count),
            "1.0.0.8.4.255": lambda s: DoubleLongUnsigned(INTERVAL),
            "1.0.0.8.5.255": lambda s: DoubleLongUnsigned(86400),
        }
        for text, make in texts.items():
            self._add(1, _LN(text), {2: data_getter(make)})
        profile = self.profile

        def esw(s: MeterState, a: SelectiveAccess | None) -> Data:
            kinds = s.point.active(interval_index(s.now()))
            return BitString(length=128, value=esw_from_bits(active_bits(profile, kinds)))

        self._add(1, IS15959_ESW, {2: esw})
        self._add(1, IS15959_ESWF, {2: lambda s, a: BitString(length=128, value=s.eswf)})
        for sap, counter in _COUNTERS.items():
            self._add(1, counter, {2: received_counter(sap)})
        self.writable[(1, IS15959_ESWF)] = {2: set_eswf}
        for log in self.profile.event_logs:
            self._add(1, log.event_code_object, {2: last_event_code(log.logical_name.e)})

    def _build_register(self, ln: ObisCode) -> None:
        register = REGISTERS[ln]
        scaler_unit = register.scaler_unit.to_data()
        attributes: dict[int, _Getter] = {
            2: register_value(ln),
            3: lambda s, a: scaler_unit,
        }
        if register.class_id == 4:
            attributes[4] = lambda s, a: None
            attributes[5] = demand_time(ln)
        self._add(register.class_id, ln, attributes)

    def _build_profile(self, definition: ProfileDefinition) -> None:
        columns = definition.capture_objects
        capture = Array(c.to_data() for c in columns)
        period = definition.capture_period
        if definition.kind is ProfileKind.BLOCK_LOAD:
            period = INTERVAL
        depth = _depth(definition)
        self._add(
            7,
            definition.logical_name,
            {
                2: _buffer(self, definition),
                3: lambda s, a: capture,
                4: lambda s, a: DoubleLongUnsigned(period or 0),
                5: lambda s, a: Enum(1),
                6: lambda s, a: Structure(
                    (LongUnsigned(0), OctetString(bytes(6)), Integer(0), LongUnsigned(0))
                ),
                7: lambda s, a: DoubleLongUnsigned(len(self.rows(definition, s, None))),
                8: lambda s, a: DoubleLongUnsigned(depth),
            },
        )

    # -- profile rows ---------------------------------------------------------------------

    def cell(self, column: CaptureObject) -> _Cell:
        """How to compute one column of a profile row: (state, time, interval) -> value."""
        ln, attribute = column.logical_name, column.attribute_index
        if ln == CLOCK:
            return lambda s, when, index: date_time(s, when)
        register = REGISTERS.get(ln)
        if register is not None and attribute == 3:
            scaler_unit = register.scaler_unit.to_data()
            return lambda s, when, index: scaler_unit
        getters = self.attributes.get((column.class_id, ln))
        if getters is not None and attribute in getters:
            getter = getters[attribute]

            def read(s: MeterState, when: _dt.datetime, index: int) -> Data:
                value = getter(s, None)
                return None if isinstance(value, DataAccessResult) else value

            return read
        return lambda s, when, index: None

    def buffer(
        self, definition: ProfileDefinition, state: MeterState, access: SelectiveAccess | None
    ) -> Array | DataAccessResult:
        """The buffer of a profile under a selective access (``dlmskit.cosem.filter_rows``
        over the computed rows; a clock range computes only the rows inside it)."""

        def window(low: _dt.datetime, high: _dt.datetime) -> list[Structure] | None:
            if definition.kind not in _WINDOWED:
                return None
            return self._computed(definition, state, (low, high))

        return filter_rows(
            lambda: self._computed(definition, state, None),
            definition.capture_objects,
            access,
            sign=state.sign,
            tz=state.local_zone,
            window=window,
        )

    def rows(
        self, definition: ProfileDefinition, state: MeterState, access: SelectiveAccess | None
    ) -> list[Structure]:
        """The buffer of a profile as rows; ``ValueError`` for an access it refuses."""
        result = self.buffer(definition, state, access)
        if isinstance(result, DataAccessResult):
            raise ValueError(f"selective access refused: {result.name}")
        return [row for row in result if isinstance(row, Structure)]

    def _computed(
        self,
        definition: ProfileDefinition,
        state: MeterState,
        window: tuple[_dt.datetime, _dt.datetime] | None,
    ) -> list[Structure]:
        """Every row of a profile (all columns), or those stamped within ``window``."""
        columns = definition.capture_objects
        kind = definition.kind
        rows: list[Structure] = []
        if kind is ProfileKind.BLOCK_LOAD:
            rows = self._block_rows(state, window)
        elif kind is ProfileKind.DAILY_LOAD:
            rows = self._daily_rows(state, window)
        elif kind in (ProfileKind.INSTANTANEOUS, ProfileKind.SCALER, ProfileKind.NAME_PLATE):
            now = state.now()
            index = interval_index(now)
            clock = state.meter_time(now)
            rows = [Structure(self.cell(c)(state, clock, index) for c in columns)]
        elif kind is ProfileKind.EVENT:
            rows = self._event_rows(state, definition, window)
        elif kind is ProfileKind.BILLING:
            rows = self._billing_rows(state, definition, window)
        return rows

    def _block_rows(
        self, state: MeterState, window: tuple[_dt.datetime, _dt.datetime] | None
    ) -> list[Structure]:
        return block_load_rows(state, window)

    def _daily_rows(
        self, state: MeterState, window: tuple[_dt.datetime, _dt.datetime] | None
    ) -> list[Structure]:
        model = state.point.model
        today = model.day_of(interval_index(state.now()))
        rows = []
        for day in range(max(model.origin_day + 1, today - DAILY_LOAD_DAYS + 1), today + 1):
            index = model.first_interval(day)
            stamp = state.stamp(index)
            if window is not None and not window[0] <= stamp <= window[1]:
                continue
            values = daily_values(state.point, index)
            cells: list[Data] = [date_time(state, stamp)]
            cells += [DoubleLongUnsigned(v) for v in values.values()]
            rows.append(Structure(cells))
        return rows

    def _billing_rows(
        self,
        state: MeterState,
        definition: ProfileDefinition,
        window: tuple[_dt.datetime, _dt.datetime] | None,
    ) -> list[Structure]:
        point = state.point
        rows = []
        for billing in billing_points(point, state.now())[-_depth(definition) :]:
            stamp = state.stamp(billing)
            if window is not None and not window[0] <= stamp <= window[1]:
                continue
            values = billing_values(point, billing)
            cells: list[Data] = []
            for column in definition.capture_objects:
                key = (column.logical_name, column.attribute_index)
                raw = values.get(key)
                if raw is None:
                    cells.append(None)
                elif key == BILLING_DATE or column.attribute_index == 5:
                    cells.append(date_time(state, state.stamp(raw)))
                else:
                    cells.append(REGISTERS[column.logical_name].wrap(raw))
            rows.append(Structure(cells))
        return rows

    def _event_rows(
        self,
        state: MeterState,
        definition: ProfileDefinition,
        window: tuple[_dt.datetime, _dt.datetime] | None,
    ) -> list[Structure]:
        log = definition.logical_name.e
        end = interval_index(state.now())
        first = max(state.point.model.first_index, end - BLOCK_LOAD_DAYS * 96)
        events = [(e.when, e.code) for e in state.point.events(first, end) if e.log == log]
        events += [(when, code) for when, number, code in state.logged if number == log]
        events = sorted(events)[-_depth(definition) :]
        rows = []
        for when, code in events:
            if window is not None and not window[0] <= when <= window[1]:
                continue
            cells: list[Data] = [date_time(state, when), LongUnsigned(code)]
            true_time = when - state.clock_offset(when)
            analog = instantaneous_values(state.point, true_time)
            for column in definition.capture_objects[2:]:
                ln = column.logical_name
                if ln in analog and column.attribute_index == 2:
                    cells.append(REGISTERS[ln].wrap(analog[ln]))
                elif ln == TAMPER_COUNT:
                    cells.append(tamper_count(state, true_time))
                else:
                    cells.append(self.cell(column)(state, when, 0))
            rows.append(Structure(cells))
        return rows


def _buffer(objects: _Catalogue, definition: ProfileDefinition) -> _Getter:
    def get(state: MeterState, access: SelectiveAccess | None) -> Data | DataAccessResult:
        try:
            return objects.buffer(definition, state, access)
        except (DlmsError, ValueError, TypeError, OverflowError):
            return DataAccessResult.OTHER_REASON

    return get


# -- selective access --------------------------------------------------------------------------


def _depth(definition: ProfileDefinition) -> int:
    if definition.profile_entries is not None:
        return definition.profile_entries
    if definition.kind is ProfileKind.BLOCK_LOAD:
        return BLOCK_LOAD_DAYS * 96
    if definition.kind is ProfileKind.DAILY_LOAD:
        return DAILY_LOAD_DAYS
    if definition.kind is ProfileKind.BILLING:
        return BILLING_ENTRIES
    return 1
