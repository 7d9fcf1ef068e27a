"""The IS 15959-2 companion profile (Indian smart meters) as data.

Associations, profiles with their capture objects, scaler profiles, push setups, event
logs with their event codes, ESW/ESWF bits and name plate objects of a single-phase
IS 15959-2 smart meter, plus a three-phase variant.

Sources: the IS 15959 tables themselves were not available. The single-phase object list,
capture objects, push lists, event codes and event log depths come from a reference
IS 15959 single-phase meter firmware cross-checked against a public Indian OBIS list.
The three-phase variant is an assumption built on the public three-phase register set
(see :data:`THREE_PHASE`); entries marked ``verified=False`` are background knowledge.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

import attrs

from dlmskit.apdu import ApplicationContextName, Conformance, MechanismName
from dlmskit.axdr import BitString
from dlmskit.cosem._capture import CaptureObject
from dlmskit.security import SecurityControl, SecuritySuite
from obis import ObisCode

__all__ = [
    "ALERT_PUSH",
    "ASSOCIATIONS",
    "BLOCK_LOAD_CAPTURE_PERIOD",
    "DAILY_LOAD_CAPTURE_PERIOD",
    "DEFAULT_ESWF_SINGLE_PHASE",
    "ESW",
    "ESWF",
    "ESW_BITS_SINGLE_PHASE",
    "ESW_BITS_THREE_PHASE",
    "EVENT_CODES",
    "SINGLE_PHASE",
    "THREE_PHASE",
    "AssociationProfile",
    "CompanionProfile",
    "EventCode",
    "EventLogDefinition",
    "ProfileDefinition",
    "ProfileKind",
    "PushSetupDefinition",
    "esw_bits",
    "esw_from_bits",
    "PUSH_PORT",
    "PUSH_RETRIES",
]


def _ln(text: str) -> ObisCode:
    return ObisCode.parse(text)


def _co(class_id: int, text: str, attribute: int = 2) -> CaptureObject:
    return CaptureObject(class_id=class_id, logical_name=_ln(text), attribute_index=attribute)


# --------------------------------------------------------------------------- associations


@attrs.frozen(kw_only=True)
class AssociationProfile:
    """One IS 15959-2 association: who connects, with which context and security."""

    name: str
    logical_name: ObisCode
    client_sap: int
    application_context: ApplicationContextName
    mechanism: MechanismName
    protection: SecurityControl
    security_suite: SecuritySuite | None
    pre_established: bool
    conformance: Conformance
    security_setup: ObisCode | None
    invocation_counter: ObisCode | None


_C = Conformance


def _association(
    e: int,
    name: str,
    mechanism: MechanismName,
    conformance: Conformance,
    *,
    pre_established: bool = False,
) -> AssociationProfile:
    ciphered = e != 1
    return AssociationProfile(
        name=name,
        logical_name=_ln(f"0.0.40.0.{e}.255"),
        client_sap=0x10 * e,
        application_context=(
            ApplicationContextName.LN_CIPHERED if ciphered else ApplicationContextName.LN
        ),
        mechanism=mechanism,
        protection=SecurityControl.AUTHENTICATED_ENCRYPTED if ciphered else SecurityControl.NONE,
        security_suite=SecuritySuite.AES_GCM_128 if ciphered else None,
        pre_established=pre_established,
        conformance=conformance,
        security_setup=_ln(f"0.0.43.0.{e}.255") if ciphered else None,
        invocation_counter=_ln(f"0.0.43.1.{e}.255") if ciphered else None,
    )


ASSOCIATIONS: Final[tuple[AssociationProfile, ...]] = (
    _association(1, "Public client", MechanismName.LOWEST, _C.GET),
    _association(
        2,
        "Meter reader",
        MechanismName.LOW,
        _C.GET | _C.SELECTIVE_ACCESS | _C.BLOCK_TRANSFER_WITH_GET_OR_READ,
    ),
    _association(
        3,
        "Utility settings",
        MechanismName.HIGH,
        _C.GET
        | _C.SET
        | _C.ACTION
        | _C.SELECTIVE_ACCESS
        | _C.GENERAL_BLOCK_TRANSFER
        | _C.BLOCK_TRANSFER_WITH_GET_OR_READ
        | _C.BLOCK_TRANSFER_WITH_SET_OR_WRITE
        | _C.DATA_NOTIFICATION,
    ),
    _association(
        4,
        "Push",
        MechanismName.LOWEST,
        _C.DATA_NOTIFICATION | _C.GENERAL_PROTECTION,
        pre_established=True,
    ),
    # The sources say "image transfer" only; these are the services it needs.
    _association(
        5,
        "Firmware upgrade",
        MechanismName.HIGH,
        _C.GET | _C.SET | _C.ACTION | _C.BLOCK_TRANSFER_WITH_GET_OR_READ,
    ),
)
"""Public client (SAP 16, no security), meter reader (32, LLS), utility settings (48, HLS),
push (64, pre-established) and firmware upgrade (80, HLS); the ciphered ones use
AES-GCM-128 suite 0 with authentication and encryption. The in-home display association
(0.0.40.0.6.255) is not listed: its client SAP is not in the sources."""


# --------------------------------------------------------------------------- events


@attrs.frozen(kw_only=True)
class EventCode:
    """An event code as stored in an event log's event code object (class 1)."""

    code: int
    name: str
    occurrence: bool = True
    """``False`` for the restoration code of an occurrence/restoration pair."""
    verified: bool = True


def _pair(code: int, name: str, *, verified: bool = True) -> tuple[EventCode, EventCode]:
    return (
        EventCode(code=code, name=f"{name} - occurrence", verified=verified),
        EventCode(code=code + 1, name=f"{name} - restoration", occurrence=False, verified=verified),
    )


def _one(code: int, name: str) -> tuple[EventCode]:
    return (EventCode(code=code, name=name),)


_VOLTAGE_EVENTS: Final = (*_pair(7, "Over voltage"), *_pair(9, "Low voltage"))
_THREE_PHASE_VOLTAGE_EVENTS: Final = (
    *_pair(1, "R-phase PT link missing", verified=False),
    *_pair(3, "Y-phase PT link missing", verified=False),
    *_pair(5, "B-phase PT link missing", verified=False),
    *_VOLTAGE_EVENTS,
    *_pair(11, "Voltage unbalance", verified=False),
)
_CURRENT_EVENTS: Final = (
    *_pair(51, "Current reverse"),
    *_pair(67, "Over current"),
    *_pair(69, "Earth loading"),
)
_THREE_PHASE_CURRENT_EVENTS: Final = (
    *_pair(51, "R-phase current reverse"),
    *_pair(53, "Y-phase current reverse", verified=False),
    *_pair(55, "B-phase current reverse", verified=False),
    *_pair(63, "Current unbalance", verified=False),
    *_pair(65, "Current bypass", verified=False),
    *_pair(67, "Over current"),
    *_pair(69, "Earth loading"),
)
_POWER_EVENTS: Final = _pair(101, "Power failure")
_TRANSACTION_EVENTS: Final = (
    *_one(151, "Real time clock - date and time"),
    *_one(152, "Demand integration period"),
    *_one(153, "Profile capture period"),
    *_one(154, "Single action schedule for billing dates"),
    *_one(155, "Activity calendar for time zones"),
    *_one(157, "New firmware activated"),
    *_one(158, "Load limit (kW) set"),
    *_one(159, "Load limit function enabled"),
    *_one(160, "Load limit function disabled"),
    *_one(161, "LLS secret (MR) change"),
    *_one(162, "HLS key (US) change"),
    *_one(163, "HLS key (FW) change"),
    *_one(164, "Global key change (encryption and authentication)"),
    *_one(165, "ESWF change"),
    *_one(166, "MD reset"),
    *_one(182, "Passive relay time set"),
)
_OTHER_EVENTS: Final = (
    *_pair(201, "Influence of permanent magnet or AC/DC electromagnet"),
    *_pair(203, "Neutral disturbance - HF and DC"),
    *_pair(205, "Very low PF"),
    *_pair(207, "Neutral missing"),
    *_pair(209, "Plug-in communication module removal"),
    *_one(211, "Configuration change to post-paid mode"),
    *_one(212, "Configuration change to pre-paid mode"),
    *_one(213, "Configuration change to forwarded-only mode"),
    *_one(214, "Configuration change to import and export mode"),
    *_pair(215, "Overload"),
)
_NON_ROLL_OVER_EVENTS: Final = _one(251, "Meter cover opening")
_CONTROL_EVENTS: Final = (
    *_one(301, "Load switch disconnected"),
    *_one(302, "Load switch connected"),
)


@attrs.frozen(kw_only=True)
class EventLogDefinition:
    """An event log (profile generic 0.0.99.98.x) and the codes its event object holds."""

    logical_name: ObisCode
    name: str
    event_code_object: ObisCode
    codes: tuple[EventCode, ...]
    entries: int
    """Depth of the log in the reference firmware (roll-over beyond it)."""

    def code(self, value: int) -> EventCode | None:
        """The event code ``value`` of this log, or ``None``."""
        return next((c for c in self.codes if c.code == value), None)


def _event_logs(
    voltage: tuple[EventCode, ...], current: tuple[EventCode, ...]
) -> tuple[EventLogDefinition, ...]:
    spec = (
        ("Voltage related events", voltage, 50),
        ("Current related events", current, 50),
        ("Power related events", _POWER_EVENTS, 20),
        ("Transaction events", _TRANSACTION_EVENTS, 50),
        ("Other events", _OTHER_EVENTS, 50),
        ("Non-roll-over events", _NON_ROLL_OVER_EVENTS, 1),
        ("Control events", _CONTROL_EVENTS, 50),
    )
    return tuple(
        EventLogDefinition(
            logical_name=_ln(f"0.0.99.98.{e}.255"),
            name=name,
            event_code_object=_ln(f"0.0.96.11.{e}.255"),
            codes=tuple(codes),
            entries=entries,
        )
        for e, (name, codes, entries) in enumerate(spec)
    )


# --------------------------------------------------------------------------- ESW / ESWF

ESW: Final = _ln("0.0.94.91.18.255")
ESWF: Final = _ln("0.0.94.91.26.255")

ESW_BITS_SINGLE_PHASE: Final[Mapping[int, str]] = MappingProxyType(
    {
        3: "Over voltage",
        4: "Low voltage",
        11: "Over current",
        51: "Earth loading",
        81: "Influence of permanent magnet or AC/DC electromagnet",
        82: "Neutral disturbance",
        83: "Meter cover open",
        84: "Load switch status",
        85: "Last gasp",
        86: "First breath",
        87: "Increment in billing counter",
    }
)
"""ESW bits a reference single-phase firmware raises (bit 0 = MSB of the first octet).

Unverified against the IS 15959-2 annex: a public three-phase head-end numbers the
magnet/neutral/cover bits one lower (80, 81, 82) than this firmware (81, 82, 83), and
the firmware's own label of bit 11 (over current) is tentative.
"""

ESW_BITS_THREE_PHASE: Final[Mapping[int, str]] = MappingProxyType(
    {
        0: "R-phase voltage missing",
        1: "Y-phase voltage missing",
        2: "B-phase voltage missing",
        3: "Over voltage",
        4: "Low voltage",
        5: "Voltage unbalance",
        6: "R-phase current reverse",
        7: "Y-phase current reverse",
        8: "B-phase current reverse",
        9: "Current unbalance",
        10: "Current bypass / short",
        11: "Very low PF",
        80: "Influence of permanent magnet or AC/DC electromagnet",
        81: "Neutral disturbance",
        82: "Meter cover open",
        85: "Last gasp",
        86: "First breath",
        87: "Increment in billing counter",
        89: "RTC bad",
        90: "NVM bad",
        115: "Wrong phase association",
        116: "Temperature rise",
        119: "ESD",
        120: "Phase sequence reversal",
        122: "R-phase CT open",
        123: "Y-phase CT open",
        124: "B-phase CT open",
        125: "High neutral current",
    }
)
"""ESW bits of a public three-phase head-end; unverified (see :data:`ESW_BITS_SINGLE_PHASE`)."""


def esw_bits(value: bytes | BitString) -> frozenset[int]:
    """The set bit numbers of an ESW/ESWF value (bit 0 = MSB of the first octet).

    Takes the decoded bit-string or its octets."""
    if isinstance(value, BitString):
        return frozenset(i for i, bit in enumerate(value) if bit)
    return frozenset(
        i * 8 + j for i, octet in enumerate(value) for j in range(8) if octet & (0x80 >> j)
    )


def esw_from_bits(bits: Iterable[int], length: int = 128) -> bytes:
    """The ``length``-bit ESW/ESWF octets with ``bits`` set."""
    out = bytearray((length + 7) // 8)
    for bit in bits:
        if not 0 <= bit < length:
            raise ValueError(f"ESW bit {bit} outside 0..{length - 1}")
        out[bit // 8] |= 0x80 >> (bit % 8)
    return bytes(out)


DEFAULT_ESWF_SINGLE_PHASE: Final = bytes.fromhex("181000000000100000007f0000000000")
"""The ESWF default of the reference single-phase firmware: the bits it can raise."""


# --------------------------------------------------------------------------- profiles


class ProfileKind(enum.Enum):
    """What an IS 15959-2 profile generic object holds."""

    INSTANTANEOUS = "instantaneous"
    BLOCK_LOAD = "block load"
    DAILY_LOAD = "daily load"
    BILLING = "billing"
    EVENT = "event"
    NAME_PLATE = "name plate"
    SCALER = "scaler"


@attrs.frozen(kw_only=True)
class ProfileDefinition:
    """A profile generic object: its columns, scaler profile and capture period.

    ``capture_period`` is in seconds; 0 means captured asynchronously (on read, at the
    end of a billing period, on an event); ``None`` means configured in the meter
    (block load: 1.0.0.8.4.255, 900 or 1800 s).
    """

    logical_name: ObisCode
    name: str
    kind: ProfileKind
    capture_objects: tuple[CaptureObject, ...]
    scaler_profile: ObisCode | None
    capture_period: int | None
    profile_entries: int | None = None
    """Depth where the sources give one (event logs); ``None``: the meter's own."""


def _scaler_columns(columns: Iterable[CaptureObject]) -> tuple[CaptureObject, ...]:
    """The scaler profile's columns: attribute 3 of each register (class 3/4) captured."""
    seen: list[CaptureObject] = []
    for column in columns:
        if column.class_id in (3, 4):
            scaler = attrs.evolve(column, attribute_index=3, data_index=0)
            if scaler not in seen:
                seen.append(scaler)
    return tuple(seen)


_CLOCK: Final = _co(8, "0.0.1.0.0.255")
_V, _I, _NEUTRAL_I = _co(3, "1.0.12.7.0.255"), _co(3, "1.0.11.7.0.255"), _co(3, "1.0.91.7.0.255")
_PF, _HZ = _co(3, "1.0.13.7.0.255"), _co(3, "1.0.14.7.0.255")
_VA, _W = _co(3, "1.0.9.7.0.255"), _co(3, "1.0.1.7.0.255")
_KWH_IMP, _KVAH_IMP = _co(3, "1.0.1.8.0.255"), _co(3, "1.0.9.8.0.255")
_KWH_EXP, _KVAH_EXP = _co(3, "1.0.2.8.0.255"), _co(3, "1.0.10.8.0.255")
_MD_KW = (_co(4, "1.0.1.6.0.255"), _co(4, "1.0.1.6.0.255", 5))
_MD_KVA = (_co(4, "1.0.9.6.0.255"), _co(4, "1.0.9.6.0.255", 5))
_TAMPER_COUNT = _co(1, "0.0.94.91.0.255")
_PHASE_I = tuple(_co(3, f"1.0.{c}.7.0.255") for c in (31, 51, 71))
_PHASE_V = tuple(_co(3, f"1.0.{c}.7.0.255") for c in (32, 52, 72))
_PHASE_PF = tuple(_co(3, f"1.0.{c}.7.0.255") for c in (33, 53, 73))

_INSTANTANEOUS_TAIL: Final = (
    _PF,
    _HZ,
    _VA,
    _W,
    _KWH_IMP,
    _KVAH_IMP,
    *_MD_KW,
    *_MD_KVA,
    _co(3, "0.0.94.91.14.255"),
    _TAMPER_COUNT,
    _co(1, "0.0.0.1.0.255"),
    _co(1, "0.0.96.2.0.255"),
    _KWH_EXP,
    _KVAH_EXP,
    _co(70, "0.0.96.3.10.255"),
    _co(71, "0.0.17.0.0.255", 3),
)
_INSTANTANEOUS_SINGLE_PHASE: Final = (_CLOCK, _V, _I, _NEUTRAL_I, *_INSTANTANEOUS_TAIL)
_INSTANTANEOUS_THREE_PHASE: Final = (
    _CLOCK,
    *_PHASE_I,
    *_PHASE_V,
    *_PHASE_PF,
    _NEUTRAL_I,
    *_INSTANTANEOUS_TAIL,
)

_BLOCK_ENERGIES: Final = tuple(_co(3, f"1.0.{c}.29.0.255") for c in (1, 9, 2, 10))
_BLOCK_LOAD_SINGLE_PHASE: Final = (
    _CLOCK,
    _co(3, "1.0.12.27.0.255"),
    *_BLOCK_ENERGIES,
    _co(3, "1.0.11.27.0.255"),
)
_BLOCK_LOAD_THREE_PHASE: Final = (
    _CLOCK,
    *(_co(3, f"1.0.{c}.27.0.255") for c in (32, 52, 72)),
    *_BLOCK_ENERGIES,
    *(_co(3, f"1.0.{c}.27.0.255") for c in (31, 51, 71)),
)
_DAILY_LOAD: Final = (_CLOCK, _KWH_EXP, _KVAH_EXP, _KWH_IMP, _KVAH_IMP)
_BILLING: Final = (
    _co(3, "0.0.0.1.2.255"),
    _co(3, "1.0.13.0.0.255"),
    *(_co(3, f"1.0.1.8.{e}.255") for e in range(7)),
    *(_co(3, f"1.0.9.8.{e}.255") for e in range(7)),
    *_MD_KW,
    *_MD_KVA,
    _co(3, "0.0.94.91.13.255"),
    _KWH_EXP,
    _KVAH_EXP,
)
_EVENT_CURRENT = _co(3, "1.0.94.91.14.255")
_NAME_PLATE: Final = tuple(
    _co(1, text)
    for text in (
        "0.0.96.1.0.255",
        "0.0.96.1.2.255",
        "0.0.96.1.1.255",
        "1.0.0.2.0.255",
        "0.0.94.91.9.255",
        "0.0.94.91.11.255",
        "0.0.94.91.12.255",
        "0.0.96.1.4.255",
    )
)

BLOCK_LOAD_CAPTURE_PERIOD: Final = 900
"""RDSS practice: 15-minute block load (set through 1.0.0.8.4.255; 1800 s also allowed)."""
DAILY_LOAD_CAPTURE_PERIOD: Final = 86400


def _profiles(
    instantaneous: tuple[CaptureObject, ...],
    block_load: tuple[CaptureObject, ...],
    event_analog: tuple[CaptureObject, ...],
) -> tuple[ProfileDefinition, ...]:
    def p(
        text: str,
        name: str,
        kind: ProfileKind,
        columns: tuple[CaptureObject, ...],
        scaler: str | None,
        period: int | None,
        entries: int | None = None,
    ) -> ProfileDefinition:
        return ProfileDefinition(
            logical_name=_ln(text),
            name=name,
            kind=kind,
            capture_objects=columns,
            scaler_profile=None if scaler is None else _ln(scaler),
            capture_period=period,
            profile_entries=entries,
        )

    def events(e: int) -> tuple[CaptureObject, ...]:
        """Voltage, current and other events capture analog values; the rest only codes."""
        code = _co(1, f"0.0.96.11.{e}.255")
        if e in (0, 1, 4):
            return (_CLOCK, code, *event_analog, _TAMPER_COUNT)
        return (_CLOCK, code)

    s = ProfileKind.SCALER
    ev_scaler = _scaler_columns(event_analog)
    logs = _event_logs((), ())
    return (
        p("1.0.94.91.0.255", "Instantaneous profile", ProfileKind.INSTANTANEOUS, instantaneous,
          "1.0.94.91.3.255", 0),
        p("1.0.94.91.3.255", "Instantaneous scaler profile", s, _scaler_columns(instantaneous),
          None, 0),
        p("1.0.99.1.0.255", "Block load profile", ProfileKind.BLOCK_LOAD, block_load,
          "1.0.94.91.4.255", None),
        p("1.0.94.91.4.255", "Block load scaler profile", s, _scaler_columns(block_load),
          None, 0),
        p("1.0.99.2.0.255", "Daily load profile", ProfileKind.DAILY_LOAD, _DAILY_LOAD,
          "1.0.94.91.5.255", DAILY_LOAD_CAPTURE_PERIOD),
        p("1.0.94.91.5.255", "Daily load scaler profile", s, _scaler_columns(_DAILY_LOAD),
          None, 0),
        p("1.0.98.1.0.255", "Billing profile", ProfileKind.BILLING, _BILLING,
          "1.0.94.91.6.255", 0),
        p("1.0.94.91.6.255", "Billing scaler profile", s, _scaler_columns(_BILLING), None, 0),
        *(
            p(f"0.0.99.98.{e}.255", log.name, ProfileKind.EVENT, events(e),
              "1.0.94.91.7.255" if e in (0, 1, 4) else None, 0, log.entries)
            for e, log in enumerate(logs)
        ),
        p("1.0.94.91.7.255", "Event scaler profile", s, ev_scaler, None, 0),
        p("0.0.94.91.10.255", "Name plate details", ProfileKind.NAME_PLATE, _NAME_PLATE,
          None, 0),
    )  # fmt: skip


# --------------------------------------------------------------------------- push setups


@attrs.frozen(kw_only=True)
class PushSetupDefinition:
    """A push setup (class 40): what it pushes and what triggers it.

    Defaults of the reference firmware: TCP to an IPv4 destination on port 4059, three
    retries, communication window 00:00-20:00; pushed as a data-notification ciphered with
    the Push association's keys.
    """

    logical_name: ObisCode
    name: str
    push_object_list: tuple[CaptureObject, ...]
    trigger: ObisCode | None
    """The single action schedule that fires it, or ``None`` (event- or HES-driven)."""


PUSH_PORT: Final = 4059
PUSH_RETRIES: Final = 3

_DEVICE_ID = _co(1, "0.0.96.1.2.255")


def _push_ln(b: int) -> CaptureObject:
    return _co(40, f"0.{b}.25.9.0.255", 1)


def _push_setups(
    instantaneous: tuple[CaptureObject, ...], ihd: tuple[CaptureObject, ...]
) -> tuple[PushSetupDefinition, ...]:
    return (
        PushSetupDefinition(
            logical_name=_ln("0.0.25.9.0.255"),
            name="Instantaneous push (SM to HES)",
            push_object_list=(_DEVICE_ID, _push_ln(0), _CLOCK, *instantaneous, _MD_KW[0]),
            trigger=_ln("0.0.15.0.4.255"),
        ),
        PushSetupDefinition(
            logical_name=_ln("0.1.25.9.0.255"),
            name="Consumer message (IHD to HES)",
            push_object_list=(_CLOCK, _push_ln(1), _co(1, "0.0.96.13.1.255")),
            trigger=None,
        ),
        PushSetupDefinition(
            logical_name=_ln("0.2.25.9.0.255"),
            name="Utility message (HES to IHD)",
            push_object_list=(_DEVICE_ID, _push_ln(2), _CLOCK, _co(1, "0.0.96.13.2.255")),
            trigger=None,
        ),
        PushSetupDefinition(
            logical_name=_ln("0.3.25.9.0.255"),
            name="Periodic push (SM to IHD)",
            push_object_list=(_CLOCK, _push_ln(3), _co(3, "1.0.1.9.0.255"), *ihd),
            trigger=_ln("0.3.15.0.4.255"),
        ),
        ALERT_PUSH,
    )


ALERT_PUSH: Final = PushSetupDefinition(
    logical_name=_ln("0.4.25.9.0.255"),
    name="Alert push (SM to HES)",
    push_object_list=(_DEVICE_ID, _push_ln(4), _CLOCK, _co(1, "0.0.94.91.18.255")),
    trigger=None,
)
"""Pushed when an ESW bit whose ESWF bit is set changes."""


# --------------------------------------------------------------------------- the profile


@attrs.frozen(kw_only=True)
class CompanionProfile:
    """Everything a meter of one variant carries, by logical name."""

    name: str
    associations: tuple[AssociationProfile, ...]
    profiles: tuple[ProfileDefinition, ...]
    push_setups: tuple[PushSetupDefinition, ...]
    event_logs: tuple[EventLogDefinition, ...]
    esw_bits: Mapping[int, str]
    other_objects: tuple[tuple[int, ObisCode], ...] = ()
    """Mandated objects not referenced by a profile, push setup or association."""

    def objects(self) -> tuple[tuple[int, ObisCode], ...]:
        """Every (class_id, logical name) the meter carries, in logical-name order."""
        found: set[tuple[int, ObisCode]] = set(self.other_objects)
        for profile in self.profiles:
            found.add((7, profile.logical_name))
            found.update((c.class_id, c.logical_name) for c in profile.capture_objects)
        for push in self.push_setups:
            found.add((40, push.logical_name))
            found.update((c.class_id, c.logical_name) for c in push.push_object_list)
            if push.trigger is not None:
                found.add((22, push.trigger))
        for association in self.associations:
            found.add((15, association.logical_name))
            if association.security_setup is not None:
                found.add((64, association.security_setup))
            if association.invocation_counter is not None:
                found.add((1, association.invocation_counter))
        return tuple(sorted(found, key=lambda item: (item[1], item[0])))

    def profile(self, logical_name: ObisCode) -> ProfileDefinition | None:
        """The profile with this logical name, or ``None``."""
        return next((p for p in self.profiles if p.logical_name == logical_name), None)

    def profiles_of(self, kind: ProfileKind) -> tuple[ProfileDefinition, ...]:
        """The profiles of one kind (e.g. the seven event logs)."""
        return tuple(p for p in self.profiles if p.kind is kind)

    def scaler_profile_of(self, logical_name: ObisCode) -> ProfileDefinition | None:
        """The scaler profile whose attribute-3 columns scale this profile, or ``None``."""
        found = self.profile(logical_name)
        if found is None or found.scaler_profile is None:
            return None
        return self.profile(found.scaler_profile)

    def push_setup(self, logical_name: ObisCode) -> PushSetupDefinition | None:
        """The push setup with this logical name, or ``None``."""
        return next((p for p in self.push_setups if p.logical_name == logical_name), None)

    def event_log(self, logical_name: ObisCode) -> EventLogDefinition | None:
        """The event log with this logical name (or event code object), or ``None``."""
        return next(
            (
                log
                for log in self.event_logs
                if logical_name in (log.logical_name, log.event_code_object)
            ),
            None,
        )

    def association(self, client_sap: int) -> AssociationProfile | None:
        """The association a client SAP opens, or ``None``."""
        return next((a for a in self.associations if a.client_sap == client_sap), None)


def _objects(*groups: tuple[int, Iterable[str]]) -> tuple[tuple[int, ObisCode], ...]:
    return tuple((class_id, _ln(text)) for class_id, texts in groups for text in texts)


_OTHER_OBJECTS: Final = _objects(
    (
        1,
        (
            "0.0.0.1.1.255",
            "0.0.42.0.0.255",
            "0.0.94.91.26.255",
            "1.0.0.8.0.255",
            "1.0.0.8.4.255",
            "1.0.0.8.5.255",
            *(f"0.0.94.96.{e}.255" for e in range(19, 26)),
            "0.0.96.13.0.255",
            "1.0.96.128.25.255",
            "1.0.96.128.30.255",
            "0.0.96.10.1.255",
        ),
    ),
    (
        3,
        (
            *(f"1.0.{c}.8.{e}.255" for c in (1, 9) for e in range(1, 9)),
            "0.0.94.91.8.255",
            "0.0.96.9.0.255",
        ),
    ),
    (
        4,
        (
            *(f"1.0.{c}.6.{e}.255" for c in (1, 9) for e in range(1, 9)),
            "1.0.2.6.0.255",
            "1.0.10.6.0.255",
        ),
    ),
    (9, ("0.0.10.0.1.255", "0.0.10.0.100.255", "0.0.10.0.107.255", "0.0.10.0.108.255")),
    (15, ("0.0.40.0.0.255",)),
    (18, ("0.0.44.0.0.255",)),
    (20, ("0.0.13.0.0.255",)),
    (22, ("0.0.15.0.0.255", "0.0.15.0.2.255")),
    (23, ("0.0.22.0.0.255",)),
    (41, ("0.0.25.0.0.255",)),
    (42, ("0.0.25.1.0.255",)),
    (45, ("0.0.25.4.0.255",)),
    (47, ("0.0.25.6.0.255",)),
    (48, ("0.0.25.7.0.255",)),
)
"""The rest of the IS 15959-2 object list: counters, capture periods, prepaid
registers, TZ registers and MDs, scripts, image transfer, calendar, schedules, and the
communication setups."""


SINGLE_PHASE: Final = CompanionProfile(
    name="IS 15959-2 single-phase smart meter",
    associations=ASSOCIATIONS,
    profiles=_profiles(
        _INSTANTANEOUS_SINGLE_PHASE, _BLOCK_LOAD_SINGLE_PHASE, (_EVENT_CURRENT, _V, _PF, _KWH_IMP)
    ),
    push_setups=_push_setups(
        (_V, _I, _NEUTRAL_I, _PF, _HZ, _VA, _W, _KWH_IMP, _KVAH_IMP), (_V, _I, _NEUTRAL_I, _PF)
    ),
    event_logs=_event_logs(_VOLTAGE_EVENTS, _CURRENT_EVENTS),
    esw_bits=ESW_BITS_SINGLE_PHASE,
    other_objects=_OTHER_OBJECTS,
)

THREE_PHASE: Final = CompanionProfile(
    name="IS 15959-2 three-phase smart meter",
    associations=ASSOCIATIONS,
    profiles=_profiles(
        _INSTANTANEOUS_THREE_PHASE,
        _BLOCK_LOAD_THREE_PHASE,
        (*_PHASE_I, *_PHASE_V, *_PHASE_PF, _KWH_IMP),
    ),
    push_setups=_push_setups(
        (*_PHASE_V, *_PHASE_I, _NEUTRAL_I, *_PHASE_PF, _PF, _HZ, _VA, _W, _KWH_IMP, _KVAH_IMP),
        (*_PHASE_V, *_PHASE_I, _NEUTRAL_I, _PF),
    ),
    event_logs=_event_logs(_THREE_PHASE_VOLTAGE_EVENTS, _THREE_PHASE_CURRENT_EVENTS),
    esw_bits=ESW_BITS_THREE_PHASE,
    other_objects=_OTHER_OBJECTS,
)
"""Three-phase variant: an assumption, the standard's three-phase tables were not available.

Per-phase registers replace the single-phase ones: instantaneous profile and pushes carry
L1/L2/L3 current (1.0.31/51/71.7.0), voltage (32/52/72) and power factor (33/53/73) in
place of the any-phase voltage/current, keeping neutral current, total PF and the rest;
block load carries L1/L2/L3 average voltages then the four block energies then L1/L2/L3
average currents (the single-phase order); event logs capture per-phase I, V, PF. Daily,
billing, name plate, associations and push triggers are as single-phase.
"""

EVENT_CODES: Final[Mapping[ObisCode, tuple[EventCode, ...]]] = MappingProxyType(
    {log.logical_name: log.codes for log in SINGLE_PHASE.event_logs}
)
"""Single-phase event codes per event log logical name."""
