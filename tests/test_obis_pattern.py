"""ObisPattern: wildcards, ranges, lists, IEC form, matching."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obis import ObisCode, ObisError, ObisPattern

fields = st.integers(min_value=0, max_value=255)
codes = st.builds(ObisCode, fields, fields, fields, fields, fields, fields)


def test_wildcard_in_c() -> None:
    pattern = ObisPattern.parse("1.0.*.8.0.255")
    assert pattern.matches(ObisCode.parse("1.0.1.8.0.255"))
    assert pattern.matches("1.0.200.8.0.255")
    assert not pattern.matches("1.0.1.8.1.255")
    assert not pattern.matches("0.0.1.8.0.255")
    assert pattern.count() == 256


def test_range_of_tariff_rates() -> None:
    pattern = ObisPattern.parse("1.0.1.8.1-8.255")
    assert [str(c) for c in pattern.codes()] == [f"1.0.1.8.{e}.255" for e in range(1, 9)]
    assert not pattern.matches("1.0.1.8.0.255")
    assert not pattern.matches("1.0.1.8.9.255")
    assert pattern.values(4) == (1, 2, 3, 4, 5, 6, 7, 8)


def test_list_of_phase_currents() -> None:
    pattern = ObisPattern.parse("1.0.31,51,71.7.0.255")
    assert {str(c) for c in pattern.codes()} == {
        "1.0.31.7.0.255",
        "1.0.51.7.0.255",
        "1.0.71.7.0.255",
    }
    assert str(pattern) == "1.0.31,51,71.7.0.255"


def test_missing_f_means_255() -> None:
    assert ObisPattern.parse("1.0.*.8.0") == ObisPattern.parse("1.0.*.8.0.255")


@pytest.mark.parametrize(
    ("text", "dotted"),
    [
        ("1-0:1.8.1-8*255", "1.0.1.8.1-8.255"),
        ("1-0:1.8.*", "1.0.1.8.*.255"),
        ("*-*:1.8.0*255", "*.*.1.8.0.255"),
        ("1-0:1.8.0&101-125", "1.0.1.8.0.101-125"),
        ("1-0:1.8.0.*", "1.0.1.8.0.*"),
        ("1-0:1.8.*.*", "1.0.1.8.*.*"),
    ],
)
def test_iec_form(text: str, dotted: str) -> None:
    assert ObisPattern.parse(text) == ObisPattern.parse(dotted)


def test_text_normalises() -> None:
    pattern = ObisPattern.parse("1.0.3,1-2.8.0-255.255")
    assert str(pattern) == "1.0.1-3.8.*.255"
    assert repr(pattern) == "ObisPattern.parse('1.0.1-3.8.*.255')"
    assert ObisPattern.parse(str(pattern)) == pattern


def test_from_code_matches_only_that_code() -> None:
    pattern = ObisPattern.from_code("0.0.1.0.0.255")
    assert pattern.count() == 1
    assert list(pattern.codes()) == [ObisCode(0, 0, 1, 0, 0, 255)]
    assert str(pattern) == "0.0.1.0.0.255"


def test_contains() -> None:
    pattern = ObisPattern.parse("0.0.99.98.*.255")
    assert "0.0.99.98.4.255" in pattern
    assert ObisCode(0, 0, 99, 98, 4, 255) in pattern
    assert b"\x00\x00\x63\x62\x04\xff" in pattern
    assert "not an obis code" not in pattern
    assert 42 not in pattern


def test_hash_equality_pickle() -> None:
    a = ObisPattern.parse("1.0.1-2.8.0.255")
    b = ObisPattern.parse("1.0.1,2.8.0.255")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert pickle.loads(pickle.dumps(a)) == a
    assert a != "1.0.1-2.8.0.255"
    with pytest.raises(AttributeError):
        a._masks = (1, 1, 1, 1, 1, 1)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1.0.*.8",
        "1.0.*.8.0.255.1",
        "1.0.8-1.8.0.255",
        "1.0.1-.8.0.255",
        "1.0.256.8.0.255",
        "1.0.,.8.0.255",
        "1.0.**.8.0.255",
        "1.0.a.8.0.255",
        "1-0-1:1.8.0",
        "1-0:1.8",
        "1-0:1.8.0.255.1",
    ],
)
def test_bad_patterns(text: str) -> None:
    with pytest.raises(ObisError):
        ObisPattern.parse(text)


def test_constructor_rejects_empty_group() -> None:
    with pytest.raises(ObisError):
        ObisPattern((1, 1, 1, 0, 1, 1))


@settings(max_examples=200)
@given(codes, st.lists(st.integers(0, 5), max_size=6))
def test_wildcarding_groups_matches_code(code: ObisCode, wild: list[int]) -> None:
    groups = [str(v) for v in code.to_tuple()]
    for index in wild:
        groups[index] = "*"
    pattern = ObisPattern.parse(".".join(groups))
    assert pattern.matches(code)
    assert pattern.count() == 256 ** len(set(wild))


@settings(max_examples=200)
@given(codes, codes)
def test_range_pattern_agrees_with_comparison(x: ObisCode, y: ObisCode) -> None:
    lo = [min(p, q) for p, q in zip(x.to_tuple(), y.to_tuple(), strict=True)]
    hi = [max(p, q) for p, q in zip(x.to_tuple(), y.to_tuple(), strict=True)]
    pattern = ObisPattern.parse(".".join(f"{a}-{b}" for a, b in zip(lo, hi, strict=True)))
    assert pattern.matches(x)
    assert pattern.matches(y)
    outside = ObisCode(*(min(255, h + 1) for h in hi))
    assert pattern.matches(outside) == all(h == 255 for h in hi)


@settings(max_examples=200)
@given(st.text(alphabet="0123456789.*-,:&", max_size=24))
def test_garbage_is_pattern_or_obis_error(text: str) -> None:
    try:
        pattern = ObisPattern.parse(text)
    except ObisError:
        return
    assert ObisPattern.parse(str(pattern)) == pattern
