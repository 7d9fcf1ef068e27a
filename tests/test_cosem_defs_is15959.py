"""The IS 15959-2 companion profile data, checked against dlms-facts.md sections 6.2-6.5."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import obis
from dlmskit.apdu import ApplicationContextName, Conformance, MechanismName
from dlmskit.axdr import Array, BitString, Structure, decode, encode
from dlmskit.cosem import (
    IS15959_ALERT_PUSH,
    IS15959_ASSOCIATIONS,
    IS15959_BLOCK_LOAD_CAPTURE_PERIOD,
    IS15959_DAILY_LOAD_CAPTURE_PERIOD,
    IS15959_DEFAULT_ESWF_SINGLE_PHASE,
    IS15959_ESW,
    IS15959_ESW_BITS_SINGLE_PHASE,
    IS15959_ESW_BITS_THREE_PHASE,
    IS15959_ESWF,
    IS15959_EVENT_CODES,
    IS15959_SINGLE_PHASE,
    IS15959_THREE_PHASE,
    CaptureObject,
    CompanionProfile,
    ProfileKind,
    ScalerUnit,
    Unit,
    esw_bits,
    esw_from_bits,
    interface_class,
    scalers_from_row,
)
from dlmskit.errors import DecodeError
from dlmskit.security import SecurityControl, SecuritySuite
from obis import ObisCode

Column = tuple[int, str, int]


def _columns(profile: CompanionProfile, ln: str) -> list[Column]:
    found = profile.profile(ObisCode.parse(ln))
    assert found is not None, ln
    return [(c.class_id, str(c.logical_name), c.attribute_index) for c in found.capture_objects]


CLOCK = (8, "0.0.1.0.0.255", 2)


def reg(ln: str, attribute: int = 2) -> Column:
    return (3, f"{ln}.255" if ln.count(".") == 4 else ln, attribute)


def data(ln: str) -> Column:
    return (1, f"{ln}.255", 2)


# dlms-facts.md 6.3, single-phase, in order.
INSTANTANEOUS = [
    CLOCK,
    reg("1.0.12.7.0"),
    reg("1.0.11.7.0"),
    reg("1.0.91.7.0"),
    reg("1.0.13.7.0"),
    reg("1.0.14.7.0"),
    reg("1.0.9.7.0"),
    reg("1.0.1.7.0"),
    reg("1.0.1.8.0"),
    reg("1.0.9.8.0"),
    (4, "1.0.1.6.0.255", 2),
    (4, "1.0.1.6.0.255", 5),
    (4, "1.0.9.6.0.255", 2),
    (4, "1.0.9.6.0.255", 5),
    reg("0.0.94.91.14"),
    data("0.0.94.91.0"),
    data("0.0.0.1.0"),
    data("0.0.96.2.0"),
    reg("1.0.2.8.0"),
    reg("1.0.10.8.0"),
    (70, "0.0.96.3.10.255", 2),
    (71, "0.0.17.0.0.255", 3),
]
BLOCK_LOAD = [
    CLOCK,
    reg("1.0.12.27.0"),
    reg("1.0.1.29.0"),
    reg("1.0.9.29.0"),
    reg("1.0.2.29.0"),
    reg("1.0.10.29.0"),
    reg("1.0.11.27.0"),
]
DAILY = [CLOCK, reg("1.0.2.8.0"), reg("1.0.10.8.0"), reg("1.0.1.8.0"), reg("1.0.9.8.0")]
BILLING = [
    reg("0.0.0.1.2"),
    reg("1.0.13.0.0"),
    *(reg(f"1.0.1.8.{e}") for e in range(7)),
    *(reg(f"1.0.9.8.{e}") for e in range(7)),
    (4, "1.0.1.6.0.255", 2),
    (4, "1.0.1.6.0.255", 5),
    (4, "1.0.9.6.0.255", 2),
    (4, "1.0.9.6.0.255", 5),
    reg("0.0.94.91.13"),
    reg("1.0.2.8.0"),
    reg("1.0.10.8.0"),
]
NAME_PLATE = [
    data("0.0.96.1.0"),
    data("0.0.96.1.2"),
    data("0.0.96.1.1"),
    data("1.0.0.2.0"),
    data("0.0.94.91.9"),
    data("0.0.94.91.11"),
    data("0.0.94.91.12"),
    data("0.0.96.1.4"),
]
EVENT_ANALOG = [reg("1.0.94.91.14"), reg("1.0.12.7.0"), reg("1.0.13.7.0"), reg("1.0.1.8.0")]


def _events(e: int) -> list[Column]:
    code = data(f"0.0.96.11.{e}")
    if e in (0, 1, 4):
        return [CLOCK, code, *EVENT_ANALOG, data("0.0.94.91.0")]
    return [CLOCK, code]


@pytest.mark.parametrize(
    ("ln", "expected"),
    [
        ("1.0.94.91.0.255", INSTANTANEOUS),
        ("1.0.99.1.0.255", BLOCK_LOAD),
        ("1.0.99.2.0.255", DAILY),
        ("1.0.98.1.0.255", BILLING),
        ("0.0.94.91.10.255", NAME_PLATE),
        *((f"0.0.99.98.{e}.255", _events(e)) for e in range(7)),
    ],
)
def test_single_phase_capture_objects(ln: str, expected: list[Column]) -> None:
    assert _columns(IS15959_SINGLE_PHASE, ln) == expected


@pytest.mark.parametrize(
    ("profile", "scaler", "registers"),
    [
        ("1.0.94.91.0.255", "1.0.94.91.3.255", INSTANTANEOUS),
        ("1.0.99.1.0.255", "1.0.94.91.4.255", BLOCK_LOAD),
        ("1.0.99.2.0.255", "1.0.94.91.5.255", DAILY),
        ("1.0.98.1.0.255", "1.0.94.91.6.255", BILLING),
        ("0.0.99.98.0.255", "1.0.94.91.7.255", EVENT_ANALOG),
    ],
)
def test_scaler_profiles(profile: str, scaler: str, registers: list[Column]) -> None:
    found = IS15959_SINGLE_PHASE.scaler_profile_of(ObisCode.parse(profile))
    assert found is not None
    assert str(found.logical_name) == scaler
    assert found.kind is ProfileKind.SCALER
    expected: list[Column] = []
    for class_id, ln, _ in registers:
        if class_id in (3, 4) and (class_id, ln, 3) not in expected:
            expected.append((class_id, ln, 3))
    assert _columns(IS15959_SINGLE_PHASE, scaler) == expected


def test_event_scaler_profile_is_facts_list() -> None:
    assert _columns(IS15959_SINGLE_PHASE, "1.0.94.91.7.255") == [
        (3, "1.0.94.91.14.255", 3),
        (3, "1.0.12.7.0.255", 3),
        (3, "1.0.13.7.0.255", 3),
        (3, "1.0.1.8.0.255", 3),
    ]


def test_code_only_event_logs_have_no_scaler_profile() -> None:
    for e in (2, 3, 5, 6):
        found = IS15959_SINGLE_PHASE.profile(ObisCode(0, 0, 99, 98, e, 255))
        assert found is not None
        assert found.scaler_profile is None


def test_capture_periods() -> None:
    profile = IS15959_SINGLE_PHASE.profile(ObisCode.parse("1.0.99.2.0.255"))
    assert profile is not None and profile.capture_period == 86400
    block = IS15959_SINGLE_PHASE.profile(ObisCode.parse("1.0.99.1.0.255"))
    assert block is not None and block.capture_period is None
    assert IS15959_BLOCK_LOAD_CAPTURE_PERIOD == 900
    assert IS15959_DAILY_LOAD_CAPTURE_PERIOD == 86400


def test_profile_kinds_and_lookup() -> None:
    events = IS15959_SINGLE_PHASE.profiles_of(ProfileKind.EVENT)
    assert [str(p.logical_name) for p in events] == [f"0.0.99.98.{e}.255" for e in range(7)]
    assert IS15959_SINGLE_PHASE.profile(ObisCode.parse("1.0.99.9.0.255")) is None
    assert IS15959_SINGLE_PHASE.scaler_profile_of(ObisCode.parse("1.0.99.9.0.255")) is None
    assert IS15959_SINGLE_PHASE.scaler_profile_of(ObisCode.parse("1.0.94.91.4.255")) is None


@pytest.mark.parametrize("variant", [IS15959_SINGLE_PHASE, IS15959_THREE_PHASE], ids=str)
def test_every_column_agrees_with_catalogue_and_class_definition(
    variant: CompanionProfile,
) -> None:
    columns = [c for p in variant.profiles for c in p.capture_objects]
    columns += [c for p in variant.push_setups for c in p.push_object_list]
    for column in columns:
        entry = obis.lookup(column.logical_name)
        assert entry is not None, column
        assert entry.interface_class == column.class_id, (column, entry)
        definition = interface_class(column.class_id)
        assert definition.known
        assert definition.attribute(column.attribute_index) is not None, column
    for profile in variant.profiles:
        entry = obis.lookup(profile.logical_name)
        assert entry is not None and entry.interface_class == 7, profile.logical_name


def test_associations() -> None:
    table = {a.client_sap: a for a in IS15959_ASSOCIATIONS}
    assert sorted(table) == [0x10, 0x20, 0x30, 0x40, 0x50]
    public = table[0x10]
    assert str(public.logical_name) == "0.0.40.0.1.255"
    assert public.application_context is ApplicationContextName.LN
    assert public.mechanism is MechanismName.LOWEST
    assert public.protection is SecurityControl.NONE
    assert public.security_suite is None
    assert public.conformance == Conformance.GET
    reader = table[0x20]
    assert reader.mechanism is MechanismName.LOW
    assert Conformance.SELECTIVE_ACCESS in reader.conformance
    assert Conformance.SET not in reader.conformance
    settings_ = table[0x30]
    assert settings_.mechanism is MechanismName.HIGH
    for flag in (Conformance.SET, Conformance.ACTION, Conformance.GENERAL_BLOCK_TRANSFER):
        assert flag in settings_.conformance
    push = table[0x40]
    assert push.pre_established
    assert Conformance.DATA_NOTIFICATION in push.conformance
    firmware = table[0x50]
    assert firmware.mechanism is MechanismName.HIGH
    for e, sap in ((2, 0x20), (3, 0x30), (4, 0x40), (5, 0x50)):
        association = table[sap]
        assert str(association.logical_name) == f"0.0.40.0.{e}.255"
        assert association.application_context is ApplicationContextName.LN_CIPHERED
        assert association.protection is SecurityControl.AUTHENTICATED_ENCRYPTED
        assert association.security_suite is SecuritySuite.AES_GCM_128
        assert str(association.security_setup) == f"0.0.43.0.{e}.255"
        assert str(association.invocation_counter) == f"0.0.43.1.{e}.255"
    assert IS15959_SINGLE_PHASE.association(0x30) is settings_
    assert IS15959_SINGLE_PHASE.association(0x66) is None


# dlms-facts.md 6.3 event codes per log.
FACTS_EVENT_CODES = {
    0: {7, 8, 9, 10},
    1: {51, 52, 67, 68, 69, 70},
    2: {101, 102},
    3: {151, 152, 153, 154, 155, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 182},
    4: {*range(201, 217)},
    5: {251},
    6: {301, 302},
}
FACTS_DEPTHS = {0: 50, 1: 50, 2: 20, 3: 50, 4: 50, 5: 1, 6: 50}


@pytest.mark.parametrize("e", range(7))
def test_event_codes(e: int) -> None:
    log = IS15959_SINGLE_PHASE.event_log(ObisCode(0, 0, 99, 98, e, 255))
    assert log is not None
    assert {c.code for c in log.codes} == FACTS_EVENT_CODES[e]
    assert all(c.verified for c in log.codes)
    assert log.entries == FACTS_DEPTHS[e]
    profile = IS15959_SINGLE_PHASE.profile(log.logical_name)
    assert profile is not None and profile.profile_entries == FACTS_DEPTHS[e]
    assert str(log.event_code_object) == f"0.0.96.11.{e}.255"
    assert IS15959_SINGLE_PHASE.event_log(log.event_code_object) is log
    assert IS15959_EVENT_CODES[log.logical_name] == log.codes


def test_event_code_details() -> None:
    voltage = IS15959_SINGLE_PHASE.event_log(ObisCode(0, 0, 99, 98, 0, 255))
    assert voltage is not None
    over = voltage.code(7)
    restored = voltage.code(8)
    assert over is not None and over.occurrence and "Over voltage" in over.name
    assert restored is not None and not restored.occurrence
    assert voltage.code(151) is None
    transactions = IS15959_SINGLE_PHASE.event_log(ObisCode(0, 0, 99, 98, 3, 255))
    assert transactions is not None
    md_reset = transactions.code(166)
    assert md_reset is not None and md_reset.name == "MD reset"
    cover = IS15959_SINGLE_PHASE.event_log(ObisCode(0, 0, 99, 98, 5, 255))
    assert cover is not None and cover.codes[0].name == "Meter cover opening"


def test_three_phase_event_codes_extend_single_phase() -> None:
    for one, three in zip(
        IS15959_SINGLE_PHASE.event_logs, IS15959_THREE_PHASE.event_logs, strict=True
    ):
        assert {c.code for c in one.codes} <= {c.code for c in three.codes}
        assert all(c.verified for c in three.codes if c.code in {x.code for x in one.codes})
    voltage = IS15959_THREE_PHASE.event_logs[0]
    assert {c.code for c in voltage.codes if not c.verified} == {1, 2, 3, 4, 5, 6, 11, 12}


def test_eswf_default_is_exactly_the_single_phase_bits() -> None:
    assert bytes.fromhex("181000000000100000007f0000000000") == IS15959_DEFAULT_ESWF_SINGLE_PHASE
    assert len(IS15959_DEFAULT_ESWF_SINGLE_PHASE) == 16
    assert esw_bits(IS15959_DEFAULT_ESWF_SINGLE_PHASE) == set(IS15959_ESW_BITS_SINGLE_PHASE)
    assert esw_from_bits(IS15959_ESW_BITS_SINGLE_PHASE) == IS15959_DEFAULT_ESWF_SINGLE_PHASE
    assert str(IS15959_ESW) == "0.0.94.91.18.255"
    assert str(IS15959_ESWF) == "0.0.94.91.26.255"
    assert IS15959_ESW_BITS_THREE_PHASE[85] == IS15959_ESW_BITS_SINGLE_PHASE[85] == "Last gasp"
    assert all(0 <= bit < 128 for bit in IS15959_ESW_BITS_THREE_PHASE)


def test_esw_bit_zero_is_msb() -> None:
    assert esw_from_bits([0]) == b"\x80" + bytes(15)
    assert esw_from_bits([127]) == bytes(15) + b"\x01"
    assert esw_bits(b"\x00\x01") == {15}
    with pytest.raises(ValueError):
        esw_from_bits([128])
    with pytest.raises(ValueError):
        esw_from_bits([-1])


@settings(max_examples=200)
@given(st.sets(st.integers(0, 127)))
def test_esw_round_trip(bits: set[int]) -> None:
    raw = esw_from_bits(bits)
    assert len(raw) == 16
    assert esw_bits(raw) == bits


# dlms-facts.md 6.4.
DEVICE_ID = data("0.0.96.1.2")


def push_ln(b: int) -> Column:
    return (40, f"0.{b}.25.9.0.255", 1)


PUSH_LISTS = {
    "0.0.25.9.0.255": [
        DEVICE_ID,
        push_ln(0),
        CLOCK,
        *(reg(f"1.0.{c}.7.0") for c in (12, 11, 91, 13, 14, 9, 1)),
        reg("1.0.1.8.0"),
        reg("1.0.9.8.0"),
        (4, "1.0.1.6.0.255", 2),
    ],
    "0.1.25.9.0.255": [CLOCK, push_ln(1), data("0.0.96.13.1")],
    "0.2.25.9.0.255": [DEVICE_ID, push_ln(2), CLOCK, data("0.0.96.13.2")],
    "0.3.25.9.0.255": [
        CLOCK,
        push_ln(3),
        reg("1.0.1.9.0"),
        *(reg(f"1.0.{c}.7.0") for c in (12, 11, 91, 13)),
    ],
    "0.4.25.9.0.255": [DEVICE_ID, push_ln(4), CLOCK, data("0.0.94.91.18")],
}


@pytest.mark.parametrize(("ln", "expected"), sorted(PUSH_LISTS.items()))
def test_push_setups(ln: str, expected: list[Column]) -> None:
    push = IS15959_SINGLE_PHASE.push_setup(ObisCode.parse(ln))
    assert push is not None
    columns = [(c.class_id, str(c.logical_name), c.attribute_index) for c in push.push_object_list]
    assert columns == expected


def test_push_triggers() -> None:
    periodic = IS15959_SINGLE_PHASE.push_setup(ObisCode.parse("0.0.25.9.0.255"))
    assert periodic is not None and str(periodic.trigger) == "0.0.15.0.4.255"
    ihd = IS15959_SINGLE_PHASE.push_setup(ObisCode.parse("0.3.25.9.0.255"))
    assert ihd is not None and str(ihd.trigger) == "0.3.15.0.4.255"
    assert IS15959_ALERT_PUSH.trigger is None
    assert IS15959_SINGLE_PHASE.push_setup(ObisCode.parse("0.9.25.9.0.255")) is None


def test_three_phase_variant() -> None:
    three = IS15959_THREE_PHASE
    instantaneous = _columns(three, "1.0.94.91.0.255")
    for c in (31, 51, 71, 32, 52, 72, 33, 53, 73):
        assert reg(f"1.0.{c}.7.0") in instantaneous
    assert reg("1.0.12.7.0") not in instantaneous
    assert reg("1.0.11.7.0") not in instantaneous
    assert instantaneous[0] == CLOCK
    block = _columns(three, "1.0.99.1.0.255")
    assert block == [
        CLOCK,
        *(reg(f"1.0.{c}.27.0") for c in (32, 52, 72)),
        reg("1.0.1.29.0"),
        reg("1.0.9.29.0"),
        reg("1.0.2.29.0"),
        reg("1.0.10.29.0"),
        *(reg(f"1.0.{c}.27.0") for c in (31, 51, 71)),
    ]
    assert _columns(three, "1.0.99.2.0.255") == DAILY
    assert _columns(three, "1.0.98.1.0.255") == BILLING
    scaler = _columns(three, "1.0.94.91.4.255")
    assert scaler == [(3, ln, 3) for _, ln, _ in block[1:]]


def test_block_load_capture_objects_encode() -> None:
    block = IS15959_SINGLE_PHASE.profile(ObisCode.parse("1.0.99.1.0.255"))
    assert block is not None
    raw = encode(Array(c.to_data() for c in block.capture_objects))
    assert raw[:2] == b"\x01\x07"
    assert raw[2:20] == bytes.fromhex("0204 120008 09060000010000FF 0F02 120000")
    decoded = decode(raw)
    assert isinstance(decoded, Array)
    assert tuple(CaptureObject.from_data(item) for item in decoded) == block.capture_objects


def test_scalers_from_a_block_load_scaler_row() -> None:
    scaler_profile = IS15959_SINGLE_PHASE.scaler_profile_of(ObisCode.parse("1.0.99.1.0.255"))
    assert scaler_profile is not None
    # A meter's one-row scaler buffer: V -1 V, four block energies 0 Wh / VAh, I -2 A.
    units = [(-1, Unit.VOLT), (0, Unit.WATT_HOUR), (0, Unit.VOLT_AMPERE_HOUR)]
    units += [(0, Unit.WATT_HOUR), (0, Unit.VOLT_AMPERE_HOUR), (-2, Unit.AMPERE)]
    row = Structure(ScalerUnit(scaler=s, unit=u).to_data() for s, u in units)
    buffer = decode(encode(Array([row])))
    assert isinstance(buffer, Array)
    scalers = scalers_from_row(scaler_profile.capture_objects, buffer[0])
    assert scalers[ObisCode.parse("1.0.12.27.0.255")] == ScalerUnit(scaler=-1, unit=Unit.VOLT)
    assert scalers[ObisCode.parse("1.0.11.27.0.255")].scale(523) == 5.23
    assert scalers[ObisCode.parse("1.0.1.29.0.255")].symbol == "Wh"
    assert len(scalers) == 6
    with pytest.raises(DecodeError):
        scalers_from_row(scaler_profile.capture_objects, Structure(list(row)[:5]))
    with pytest.raises(DecodeError):
        scalers_from_row(scaler_profile.capture_objects, Array(row))


@pytest.mark.parametrize("variant", [IS15959_SINGLE_PHASE, IS15959_THREE_PHASE], ids=str)
def test_object_list(variant: CompanionProfile) -> None:
    objects = variant.objects()
    assert len(objects) == len(set(objects))
    assert list(objects) == sorted(objects, key=lambda item: (item[1], item[0]))
    names = [ln for _, ln in objects]
    assert len(names) == len(set(names)), "one class per logical name"
    for class_id, ln in objects:
        entry = obis.lookup(ln)
        assert entry is not None and entry.interface_class == class_id, (class_id, ln)
        assert interface_class(class_id).known
    listed = {(c, str(ln)) for c, ln in objects}
    # Objects of dlms-facts.md 6.2-6.4 every variant carries.
    for class_id, text in [
        (8, "0.0.1.0.0.255"),
        (1, "0.0.42.0.0.255"),
        (15, "0.0.40.0.0.255"),
        *((15, f"0.0.40.0.{e}.255") for e in range(1, 6)),
        *((64, f"0.0.43.0.{e}.255") for e in range(2, 6)),
        *((1, f"0.0.43.1.{e}.255") for e in range(2, 6)),
        (18, "0.0.44.0.0.255"),
        (20, "0.0.13.0.0.255"),
        (9, "0.0.10.0.1.255"),
        (22, "0.0.15.0.0.255"),
        (22, "0.0.15.0.2.255"),
        (22, "0.0.15.0.4.255"),
        (22, "0.3.15.0.4.255"),
        (23, "0.0.22.0.0.255"),
        (41, "0.0.25.0.0.255"),
        (42, "0.0.25.1.0.255"),
        (45, "0.0.25.4.0.255"),
        (47, "0.0.25.6.0.255"),
        (48, "0.0.25.7.0.255"),
        *((40, f"0.{b}.25.9.0.255") for b in range(5)),
        (70, "0.0.96.3.10.255"),
        (71, "0.0.17.0.0.255"),
        (1, "0.0.94.91.18.255"),
        (1, "0.0.94.91.26.255"),
        *((1, f"0.0.94.96.{e}.255") for e in range(19, 26)),
        *((3, f"1.0.1.8.{e}.255") for e in range(9)),
        *((4, f"1.0.{c}.6.0.255") for c in (1, 2, 9, 10)),
        *((7, f"1.0.94.91.{e}.255") for e in (0, 3, 4, 5, 6, 7)),
        (7, "0.0.94.91.10.255"),
        *((7, f"0.0.99.98.{e}.255") for e in range(7)),
        *((1, f"0.0.96.11.{e}.255") for e in range(7)),
    ]:
        assert (class_id, text) in listed, (class_id, text)


def test_three_phase_object_list_adds_per_phase_registers() -> None:
    one = {(c, str(ln)) for c, ln in IS15959_SINGLE_PHASE.objects()}
    three = {(c, str(ln)) for c, ln in IS15959_THREE_PHASE.objects()}
    added = {ln for _, ln in three - one}
    assert {f"1.0.{c}.7.0.255" for c in (31, 51, 71, 32, 52, 72, 33, 53, 73)} <= added
    assert {f"1.0.{c}.27.0.255" for c in (31, 51, 71, 32, 52, 72)} <= added
    # Any-phase voltage/current and the event current give way to per-phase registers.
    assert {ln for _, ln in one - three} == {
        "1.0.12.7.0.255",
        "1.0.11.7.0.255",
        "1.0.12.27.0.255",
        "1.0.11.27.0.255",
        "1.0.94.91.14.255",
    }


def test_names_are_plain_text() -> None:
    names = [
        c.name
        for v in (IS15959_SINGLE_PHASE, IS15959_THREE_PHASE)
        for log in v.event_logs
        for c in log.codes
    ]
    names += list(IS15959_ESW_BITS_SINGLE_PHASE.values())
    names += list(IS15959_ESW_BITS_THREE_PHASE.values())
    names += [p.name for p in IS15959_SINGLE_PHASE.profiles]
    names += [p.name for p in IS15959_SINGLE_PHASE.push_setups]
    assert all(name and "_" not in name and name == name.strip() for name in names)
    other = IS15959_SINGLE_PHASE.event_log(ObisCode(0, 0, 99, 98, 4, 255))
    assert other is not None
    very_low_pf = other.code(205)
    assert very_low_pf is not None and very_low_pf.name == "Very low PF - occurrence"


def test_esw_bits_of_a_decoded_bit_string() -> None:
    # bit-string (04) of 128 bits (81 80) as a meter sends the ESWF.
    value = decode(bytes([4, 0x81, 0x80]) + IS15959_DEFAULT_ESWF_SINGLE_PHASE)
    assert isinstance(value, BitString)
    assert esw_bits(value) == esw_bits(IS15959_DEFAULT_ESWF_SINGLE_PHASE)
    assert esw_bits(BitString.from_text("0001")) == {3}
