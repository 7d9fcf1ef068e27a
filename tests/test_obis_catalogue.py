"""The OBIS catalogue: IS 15959-2 objects, Blue Book codes, families, generic names.

Interface classes of IS 15959-2 objects are checked against dlms-facts.md sections 6 and 7;
Blue Book codes and generic electricity names against the Gurux OBIS table (test-only
oracle).
"""

from __future__ import annotations

import pytest
from gurux_dlms.enums import ObjectType
from gurux_dlms.GXDLMSConverter import GXDLMSConverter
from hypothesis import given, settings
from hypothesis import strategies as st

import obis
from obis import CatalogueEntry, ObisCode, Source, describe, entries, lookup, search
from obis._bluebook import BLUE_BOOK
from obis._describe import describe_electricity
from obis._india import IS15959

# Every object of dlms-facts.md 6.2-6.4 and 7.1 with its interface class.
FACTS: dict[str, int] = {
    # Profiles (class 7), 6.3
    "1.0.94.91.0.255": 7,
    "1.0.94.91.3.255": 7,
    "1.0.99.1.0.255": 7,
    "1.0.94.91.4.255": 7,
    "1.0.99.2.0.255": 7,
    "1.0.94.91.5.255": 7,
    "1.0.98.1.0.255": 7,
    "1.0.94.91.6.255": 7,
    **{f"0.0.99.98.{e}.255": 7 for e in range(7)},
    "1.0.94.91.7.255": 7,
    "0.0.94.91.10.255": 7,
    # Class 1
    "0.0.0.1.0.255": 1,
    "0.0.0.1.1.255": 1,
    "0.0.42.0.0.255": 1,
    "0.0.96.1.0.255": 1,
    "0.0.96.1.1.255": 1,
    "0.0.96.1.2.255": 1,
    "0.0.96.1.4.255": 1,
    "1.0.0.2.0.255": 1,
    "0.0.94.91.9.255": 1,
    "0.0.94.91.11.255": 1,
    "0.0.94.91.12.255": 1,
    "0.0.94.91.0.255": 1,
    "0.0.96.2.0.255": 1,
    **{f"0.0.96.11.{e}.255": 1 for e in range(7)},
    "0.0.94.91.18.255": 1,
    "0.0.94.91.26.255": 1,
    "1.0.0.8.0.255": 1,
    "1.0.0.8.4.255": 1,
    "1.0.0.8.5.255": 1,
    **{f"0.0.94.96.{e}.255": 1 for e in range(19, 26)},
    "0.0.96.13.0.255": 1,
    "0.0.96.13.1.255": 1,
    "0.0.96.13.2.255": 1,
    **{f"0.0.43.1.{e}.255": 1 for e in range(2, 6)},
    "1.0.96.128.25.255": 1,
    "1.0.96.128.30.255": 1,
    "0.0.96.10.1.255": 1,
    # Class 3
    "1.0.12.7.0.255": 3,
    "1.0.11.7.0.255": 3,
    "1.0.91.7.0.255": 3,
    "1.0.13.7.0.255": 3,
    "1.0.14.7.0.255": 3,
    "1.0.9.7.0.255": 3,
    "1.0.1.7.0.255": 3,
    "1.0.3.7.0.255": 3,
    "0.0.94.91.14.255": 3,
    "1.0.94.91.14.255": 3,
    "0.0.94.91.13.255": 3,
    "0.0.94.91.8.255": 3,
    "0.0.0.1.2.255": 3,
    "1.0.13.0.0.255": 3,
    "0.0.96.9.0.255": 3,
    **{f"1.0.{c}.8.{e}.255": 3 for c in (1, 2, 9, 10) for e in range(9)},
    **{f"1.0.{c}.8.0.255": 3 for c in (5, 6, 7, 8)},
    **{f"1.0.{c}.29.0.255": 3 for c in (1, 2, 9, 10)},
    "1.0.11.27.0.255": 3,
    "1.0.12.27.0.255": 3,
    **{f"1.0.{c}.7.0.255": 3 for c in (31, 32, 33, 51, 52, 53, 71, 72, 73)},
    # Class 4
    **{f"1.0.{c}.6.{e}.255": 4 for c in (1, 2, 9, 10) for e in range(9)},
    # Other classes
    "0.0.1.0.0.255": 8,
    "0.0.10.0.1.255": 9,
    "0.0.10.0.100.255": 9,
    "0.0.10.0.107.255": 9,
    "0.0.10.0.108.255": 9,
    **{f"0.0.40.0.{e}.255": 15 for e in range(7)},
    "0.0.41.0.0.255": 17,
    "0.0.44.0.0.255": 18,
    "0.0.13.0.0.255": 20,
    "0.0.15.0.0.255": 22,
    "0.0.15.0.2.255": 22,
    "0.0.15.0.4.255": 22,
    "0.3.15.0.4.255": 22,
    "0.0.22.0.0.255": 23,
    **{f"0.{b}.25.9.0.255": 40 for b in range(5)},
    "0.0.25.0.0.255": 41,
    "0.0.25.1.0.255": 42,
    "0.0.25.4.0.255": 45,
    "0.0.25.6.0.255": 47,
    "0.0.25.7.0.255": 48,
    **{f"0.0.43.0.{e}.255": 64 for e in range(2, 6)},
    "0.0.96.3.10.255": 70,
    "0.0.17.0.0.255": 71,
}


@pytest.mark.parametrize(("text", "class_id"), sorted(FACTS.items()))
def test_every_facts_object_is_catalogued_with_its_class(text: str, class_id: int) -> None:
    entry = lookup(text)
    assert entry is not None
    assert entry.source in (Source.IS15959, Source.BLUE_BOOK)
    assert entry.interface_class == class_id
    assert entry.name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("1.0.99.1.0.255", "Block load profile"),
        ("1.0.99.2.0.255", "Daily load profile"),
        ("1.0.98.1.0.255", "Billing profile"),
        ("1.0.94.91.0.255", "Instantaneous profile"),
        ("1.0.94.91.4.255", "Block load scaler profile"),
        ("0.0.1.0.0.255", "Clock"),
        ("0.0.42.0.0.255", "COSEM logical device name"),
        ("0.0.94.91.18.255", "Event status word (ESW)"),
        ("0.4.25.9.0.255", "Push setup, alert (SM to HES)"),
        ("1.0.1.8.0.255", "Active energy import (+A)"),
        ("1.0.1.8.3.255", "Active energy import (+A), rate 3"),
        ("1.0.9.6.2.255", "Maximum demand kVA import, rate 2"),
        ("0.0.99.98.5.255", "Non-roll-over events"),
    ],
)
def test_names(text: str, name: str) -> None:
    assert describe(text) == name
    assert describe(ObisCode.parse(text)) == name
    assert describe(ObisCode.parse(text).to_bytes()) == name


def test_tz_registers_1_to_8() -> None:
    for c in (1, 9):
        for e in range(1, 9):
            entry = lookup(f"1.0.{c}.8.{e}.255")
            assert entry is not None
            assert entry.interface_class == 3
            assert entry.source is Source.IS15959
            assert f"TZ{e}" in entry.description


def test_no_duplicate_rows_within_a_source() -> None:
    for rows in (BLUE_BOOK, IS15959):
        codes = [ObisCode.parse(row[0]) for row in rows]
        assert len(codes) == len(set(codes))


def test_is15959_name_wins_over_blue_book() -> None:
    entry = lookup("0.0.25.9.0.255")
    assert entry is not None
    assert entry.source is Source.IS15959
    assert entry.name == "Push setup, instantaneous (SM to HES)"


def test_entries_are_sorted_and_complete() -> None:
    all_entries = list(entries())
    codes = [e.code for e in all_entries]
    assert codes == sorted(codes)
    assert len(codes) == len(set(codes))
    assert {ObisCode.parse(t) for t in FACTS} <= set(codes)
    assert all(isinstance(e, CatalogueEntry) for e in all_entries)
    assert all(e.source in (Source.BLUE_BOOK, Source.IS15959) for e in all_entries)


def test_search() -> None:
    found = search("block load")
    codes = {str(e.code) for e in found}
    assert {"1.0.99.1.0.255", "1.0.94.91.4.255"} <= codes
    assert all("block load" in f"{e.name} {e.description}".lower() for e in found)
    assert {str(e.code) for e in search("INVOCATION counter")} == {
        f"0.0.43.1.{e}.255" for e in range(1, 7)
    }
    assert search("") == ()
    assert search("no such object anywhere") == ()


@pytest.mark.parametrize(
    ("text", "name", "class_id"),
    [
        ("0.0.40.0.9.255", "Association LN (E = 9)", 15),
        ("0.0.43.0.7.255", "Security setup (E = 7)", 64),
        ("0.0.43.1.9.255", "Invocation counter (E = 9)", 1),
        ("0.0.99.98.9.255", "Event log (E = 9)", 7),
        ("0.7.25.9.0.255", "Push setup (B = 7)", 40),
        ("0.0.96.11.9.255", "Event code object (E = 9)", 1),
        ("0.0.15.0.1.255", "Single action schedule, disconnect control", 22),
        ("0.0.15.0.7.255", "Single action schedule, function control", 22),
        ("0.0.1.0.3.255", "Clock (E = 3)", 8),
        ("0.0.96.1.5.255", "Device ID (E = 5)", 1),
        ("0.0.96.15.42.255", "Event counter (E = 42)", 1),
        ("0.0.97.98.3.255", "Alarm register (E = 3)", 1),
        ("0.0.97.98.12.255", "Alarm filter (E = 12)", 1),
        ("0.0.44.0.2.255", "Image transfer (E = 2)", 18),
    ],
)
def test_families(text: str, name: str, class_id: int) -> None:
    entry = lookup(text)
    assert entry is not None
    assert entry.source is Source.FAMILY
    assert (entry.name, entry.interface_class) == (name, class_id)
    # The Blue Book table (Gurux's copy) knows the code as an instance of that class.
    assert _GURUX.getDescription(text, ObjectType(class_id)) != ["Invalid"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("1.0.1.8.3.0", "Active energy import (+A), rate 3, billing period 0"),
        ("1.0.2.8.0.12", "Active energy export (-A), billing period 12"),
        ("1.0.21.7.0.255", "L1 active power import (+P), instantaneous value"),
        ("1.0.3.6.1.255", "Reactive power import (+Q), maximum 1, rate 1"),
        ("1.0.15.8.0.255", "Active energy |+A| + |-A|"),
        ("1.0.52.27.0.255", "L2 average voltage"),
        ("1.0.1.29.0.255", "Block energy kWh import"),
        ("1.0.12.8.0.255", "Voltage, time integral 1"),
        ("1.0.1.9.2.255", "Active energy import (+A), time integral 2, rate 2"),
        ("1.3.1.7.0.255", "Active power import (+P), instantaneous value, channel 3"),
        ("1.0.81.7.45.255", "Angle of I(L2) - I(L1)"),
        ("1.0.92.7.0.255", "Neutral voltage, instantaneous value"),
    ],
)
def test_generic_names(text: str, name: str) -> None:
    assert describe(text) == name


@pytest.mark.parametrize(
    "text",
    [
        "1.0.11.7.3.255",  # E of an instantaneous value is a harmonic, not a rate
        "1.0.1.7.0.5",  # instantaneous values keep no billing history
        "1.0.1.8.64.255",  # rates stop at 63
        "1.0.1.8.0.101",  # "n-th last" forms are not named
        "1.0.1.29.1.255",  # time integral 5 is not rated
        "1.0.1.99.0.255",
        "1.0.94.91.99.255",
        "1.65.1.8.0.255",
        "1.0.81.7.3.255",
        "1.0.81.7.12.1",
        "1.0.200.8.0.255",
        "7.0.1.8.0.255",
        "0.0.96.99.0.255",
        "0.0.1.0.0.7",
        "0.0.15.0.8.255",  # single action schedules stop at E = 7
        "0.65.25.9.0.255",
        "0.0.96.11.100.255",
        "0.0.40.0.128.255",
    ],
)
def test_unknown_is_none(text: str) -> None:
    assert lookup(text) is None
    assert describe(text) is None


def test_public_names() -> None:
    for name in obis.__all__:
        assert hasattr(obis, name)


_GURUX = GXDLMSConverter()

_GURUX_QUANTITY: dict[int, str] = {
    1: "Active power+ (QI+QIV)",
    2: "Active power- (QII+QIII)",
    3: "Reactive power+ (QI+QII)",
    4: "Reactive power- (QIII+QIV)",
    5: "Reactive power QI",
    6: "Reactive power QII",
    7: "Reactive power QIII",
    8: "Reactive power QIV",
    9: "Apparent power+ (QI+QIV)",
    10: "Apparent power- (QII+QIII)",
    11: "Current",
    12: "Voltage",
    13: "Power factor",
    14: "Supply frequency",
    15: "Active power (abs(QI+QIV)+abs(QII+QIII))",
    16: "Active power (abs(QI+QIV)-abs(QII+QIII))",
    17: "Active power QI",
    18: "Active power QII",
    19: "Active power QIII",
    20: "Active power QIV",
}

_GURUX_PROCESSING: dict[int, str] = {
    0: "Billing period avg. (since last reset)",
    1: "Cum. min. 1",
    2: "Cum. max. 1",
    3: "Min. 1",
    4: "Current avg. 1",
    5: "Last avg. 1",
    6: "Max. 1",
    7: "Inst. value",
    8: "Time integral 1",
    9: "Time integral 2",
    10: "Time integral 3",
    11: "Cum. min. 2",
    12: "Cum. max. 2",
    13: "Min. 2",
    14: "Current avg. 2",
    15: "Last avg. 2",
    16: "Max. 2",
    17: "Time integral 7",
    18: "Time integral 8",
    19: "Time integral 9",
    20: "Time integral 10",
    21: "Cum. min. 3",
    22: "Cum. max. 3",
    23: "Min. 3",
    24: "Current avg. 3",
    25: "Last avg. 3",
    26: "Max. 3",
    27: "Current avg. 5",
    28: "Current avg. 6",
    29: "Time integral 5",
    30: "Time integral 6",
    55: "Test avg.",
    58: "Time integral 4",
}

_RATED = {0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 21, 22, 23}


# The Gurux table spells L2/L3 C = 56/76 "abs(QI+QIII)" (typo for QII+QIII): match its text.
_GURUX_TYPOS = {
    56: "L2 Active power (abs(QI+QIV)-abs(QI+QIII))",
    76: "L3 Active power (abs(QI+QIV)-abs(QI+QIII))",
}


def _gurux_quantity(c: int) -> str:
    if c in _GURUX_TYPOS:
        return _GURUX_TYPOS[c]
    if c == 91:
        return "Lo Current (neutral)"
    if c == 92:
        return "Lo Voltage (neutral)"
    phase, base = divmod(c - 1, 20)
    quantity = _GURUX_QUANTITY[base + 1]
    if phase == 0:
        if base + 1 in (11, 12):
            return f"{quantity}: any phase"
        return quantity if base + 1 == 14 else f"Sum Li {quantity}"
    return f"L{phase} {quantity}"


def _check_against_gurux(b: int, c: int, d: int, e: int, f: int) -> bool:
    name = describe_electricity(1, b, c, d, e, f)
    if name is None:
        return False
    descriptions = _GURUX.getDescription(f"1.{b}.{c}.{d}.{e}.{f}", ObjectType.NONE)
    expected = f"Ch. {b} {_gurux_quantity(c)} {_GURUX_PROCESSING[d]}"
    if d in _RATED:
        expected += f" Rate {e} (0 is total)"
    if f != 255:
        expected += f" Billing period {f}"
    assert any(text.startswith(expected) for text in descriptions), (name, descriptions)
    if e:
        assert f"rate {e}" in name
    if f != 255:
        assert f"billing period {f}" in name
    if b:
        assert name.endswith(f"channel {b}")
    return True


# The processings head-ends read (MD, instantaneous, energies, averages, block energies)
# for every quantity; the hypothesis test below samples the rest.
@pytest.mark.parametrize("d", [6, 7, 8, 27, 29])
def test_every_quantity_agrees_with_gurux_table(d: int) -> None:
    for c in [*range(1, 81), 91, 92]:
        assert _check_against_gurux(0, c, d, 0, 255)


@settings(max_examples=200, deadline=None)
@given(
    b=st.integers(0, 64),
    c=st.sampled_from([*range(1, 81), 91, 92]),
    d=st.sampled_from(sorted(_GURUX_PROCESSING)),
    e=st.sampled_from([0, 0, 1, 2, 7, 63, 64, 100]),
    f=st.sampled_from([255, 255, 0, 5, 99, 101, 126]),
)
def test_generic_names_agree_with_gurux_table(b: int, c: int, d: int, e: int, f: int) -> None:
    _check_against_gurux(b, c, d, e, f)


# IS 15959 objects the Blue Book table does not define (utility message to the display).
NOT_IN_BLUE_BOOK = {"0.0.96.13.2.255"}


@pytest.mark.parametrize(
    "entry",
    [e for e in entries() if str(e.code) not in NOT_IN_BLUE_BOOK],
    ids=str,
)
def test_classes_allowed_by_gurux_table(entry: CatalogueEntry) -> None:
    assert entry.interface_class is not None
    descriptions = _GURUX.getDescription(str(entry.code), ObjectType(entry.interface_class))
    assert descriptions != ["Invalid"], descriptions


def test_entries_by_pattern() -> None:
    tz = [str(e.code) for e in entries("1.0.1.8.1-8.255")]
    assert tz == [f"1.0.1.8.{e}.255" for e in range(1, 9)]
    logs = list(entries(obis.ObisPattern.parse("0.0.99.98.*")))
    assert [e.interface_class for e in logs] == [7] * 7
    assert list(entries("2.0.*.*.*.*")) == []


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_every_family_member_is_known_to_gurux_table(data: st.DataObject) -> None:
    from obis._catalogue import _FAMILIES

    pattern, class_id, _ = data.draw(st.sampled_from(_FAMILIES))
    code = ObisCode(*(data.draw(st.sampled_from(pattern.values(g))) for g in range(6)))
    entry = lookup(code)
    assert entry is not None and entry.interface_class is not None
    assert _GURUX.getDescription(str(code), ObjectType(entry.interface_class)) != ["Invalid"]
    if entry.source is Source.FAMILY:
        assert entry.interface_class == class_id


@settings(max_examples=200)
@given(st.binary(min_size=6, max_size=6))
def test_lookup_any_code(raw: bytes) -> None:
    entry = lookup(raw)
    name = describe(raw)
    if entry is None:
        assert name is None
    else:
        assert entry.code == ObisCode.from_bytes(raw)
        assert name == entry.name and name
