"""ObisCode: notations, byte form, ordering, hashing, bad input."""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obis import ObisCode, ObisError, as_obis

fields = st.integers(min_value=0, max_value=255)
codes = st.builds(ObisCode, fields, fields, fields, fields, fields, fields)


@pytest.mark.parametrize(
    "text",
    [
        "1.0.1.8.0.255",
        "1-0:1.8.0*255",
        "1-0:1.8.0",
        "1.0.1.8.0",
        "1-0:1.8.0.255",
        "1-0:1.8.0&255",
        "  1.0.1.8.0.255\n",
    ],
)
def test_parse_every_notation(text: str) -> None:
    code = ObisCode.parse(text)
    assert code == ObisCode(1, 0, 1, 8, 0, 255)
    assert code.to_bytes() == b"\x01\x00\x01\x08\x00\xff"


def test_fields_and_text_forms() -> None:
    code = ObisCode(1, 2, 3, 4, 5, 6)
    assert (code.a, code.b, code.c, code.d, code.e, code.f) == (1, 2, 3, 4, 5, 6)
    assert code.to_tuple() == (1, 2, 3, 4, 5, 6)
    assert str(code) == "1.2.3.4.5.6"
    assert code.to_iec() == "1-2:3.4.5*6"
    assert repr(code) == "ObisCode(1, 2, 3, 4, 5, 6)"
    assert bytes(code) == b"\x01\x02\x03\x04\x05\x06"
    assert ObisCode(0, 0, 1, 0, 0) == ObisCode(0, 0, 1, 0, 0, 255)


def test_clock_logical_name_bytes() -> None:
    # Green Book example: the clock's logical name in a GET request is 00 00 01 00 00 FF.
    clock = ObisCode.from_bytes(bytes.fromhex("0000010000FF"))
    assert str(clock) == "0.0.1.0.0.255"
    assert clock == ObisCode.parse("0-0:1.0.0*255")


def test_from_bytes_accepts_bytes_like() -> None:
    raw = bytes.fromhex("0100630100FF")
    assert ObisCode.from_bytes(bytearray(raw)) == ObisCode.from_bytes(memoryview(raw))
    assert str(ObisCode.from_bytes(raw)) == "1.0.99.1.0.255"


@pytest.mark.parametrize("n", [0, 1, 5, 7, 12])
def test_from_bytes_wrong_length(n: int) -> None:
    with pytest.raises(ObisError, match="6 bytes"):
        ObisCode.from_bytes(bytes(n))


def test_obis_error_is_value_error() -> None:
    assert issubclass(ObisError, ValueError)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1.0.1.8",
        "1.0.1.8.0.255.1",
        "1.0.1.8.0.256",
        "1.0.1.8.0.-1",
        "1.0.1.8.0.0255",
        "1-0:1.8",
        "1-0:1.8.0*",
        "1-0:1.8.0*256",
        "1:0-1.8.0*255",
        "a.b.c.d.e.f",
        "1..1.8.0.255",
        "1.0.1.8.0.2 55",
        "1.0.1.8.0.²",
        "0100010800FF",
        "1.0.1.8.0.255.",
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ObisError):
        ObisCode.parse(text)


@pytest.mark.parametrize(
    "args",
    [(256, 0, 0, 0, 0, 0), (0, -1, 0, 0, 0, 0), (0, 0, 0, 0, 0, 1000)],
)
def test_constructor_range(args: tuple[int, ...]) -> None:
    with pytest.raises(ObisError, match=r"0\.\.255"):
        ObisCode(*args)


def test_constructor_rejects_non_int() -> None:
    with pytest.raises(ObisError):
        ObisCode(1, 0, 1, 8, 0, True)
    with pytest.raises(ObisError):
        ObisCode(1, 0, 1, 8.0, 0, 255)  # type: ignore[arg-type]


def test_immutable() -> None:
    code = ObisCode(1, 0, 1, 8, 0, 255)
    for name in ("a", "_bytes", "extra"):
        with pytest.raises(AttributeError):
            setattr(code, name, 2)
    with pytest.raises(AttributeError):
        delattr(code, "_bytes")


def test_replace() -> None:
    code = ObisCode.parse("1.0.1.8.0.255")
    assert code.replace(e=3) == ObisCode.parse("1.0.1.8.3.255")
    assert code.replace(a=0, f=1) == ObisCode(0, 0, 1, 8, 0, 1)
    with pytest.raises(ObisError):
        code.replace(c=300)


def test_equality_with_other_types_is_false() -> None:
    code = ObisCode(1, 0, 1, 8, 0, 255)
    assert code != "1.0.1.8.0.255"
    assert code != b"\x01\x00\x01\x08\x00\xff"
    assert code != (1, 0, 1, 8, 0, 255)
    with pytest.raises(TypeError):
        _ = code < "1.0.1.8.0.255"  # type: ignore[operator]


def test_ordering_is_by_bytes() -> None:
    texts = ["1.0.2.8.0.255", "0.0.1.0.0.255", "1.0.1.8.1.255", "1.0.1.8.0.255", "0.0.96.1.0.255"]
    ordered = sorted(ObisCode.parse(t) for t in texts)
    assert [str(c) for c in ordered] == [
        "0.0.1.0.0.255",
        "0.0.96.1.0.255",
        "1.0.1.8.0.255",
        "1.0.1.8.1.255",
        "1.0.2.8.0.255",
    ]


def test_copy_and_pickle() -> None:
    code = ObisCode(0, 0, 40, 0, 3, 255)
    assert copy.copy(code) is code
    assert copy.deepcopy(code) is code
    assert pickle.loads(pickle.dumps(code)) == code


@pytest.mark.parametrize(
    "value",
    ["0.0.42.0.0.255", "0-0:42.0.0*255", b"\x00\x00\x2a\x00\x00\xff", ObisCode(0, 0, 42, 0, 0)],
)
def test_as_obis(value: ObisCode | str | bytes) -> None:
    assert as_obis(value) == ObisCode(0, 0, 42, 0, 0, 255)


def test_as_obis_rejects_other_types() -> None:
    with pytest.raises(ObisError):
        as_obis(42)  # type: ignore[arg-type]
    with pytest.raises(ObisError):
        as_obis(b"\x00\x00")


@settings(max_examples=200)
@given(codes)
def test_round_trips(code: ObisCode) -> None:
    assert ObisCode.parse(str(code)) == code
    assert ObisCode.parse(code.to_iec()) == code
    assert ObisCode.from_bytes(code.to_bytes()) == code
    assert ObisCode(*code.to_tuple()) == code
    assert hash(as_obis(str(code))) == hash(code)


@settings(max_examples=200)
@given(codes, codes)
def test_order_and_equality_agree_with_bytes(x: ObisCode, y: ObisCode) -> None:
    assert (x < y) == (bytes(x) < bytes(y))
    assert (x <= y) == (bytes(x) <= bytes(y))
    assert (x > y) == (bytes(x) > bytes(y))
    assert (x >= y) == (bytes(x) >= bytes(y))
    assert (x == y) == (bytes(x) == bytes(y))
    assert (x != y) == (bytes(x) != bytes(y))
    assert (x < y) == (x.to_tuple() < y.to_tuple())


@settings(max_examples=200)
@given(st.text(max_size=30))
def test_parse_garbage_is_value_or_obis_error(text: str) -> None:
    try:
        code = ObisCode.parse(text)
    except ObisError:
        return
    assert ObisCode.parse(str(code)) == code


@settings(max_examples=200)
@given(st.binary(max_size=10))
def test_from_bytes_garbage(data: bytes) -> None:
    if len(data) == 6:
        assert ObisCode.from_bytes(data).to_bytes() == data
    else:
        with pytest.raises(ObisError):
            ObisCode.from_bytes(data)


def test_conversions_share_instances_and_stay_bounded() -> None:
    from obis import _code

    raw = bytes.fromhex("0100011D00FF")
    first = ObisCode.from_bytes(raw)
    assert ObisCode.from_bytes(bytearray(raw)) is first
    assert ObisCode.parse("1-0:1.29.0*255") is ObisCode.parse("1-0:1.29.0*255")
    assert str(first) == "1.0.1.29.0.255"
    assert str(first) is str(first)
    for n in range(_code._INTERN_LIMIT + 10):
        ObisCode.from_bytes(n.to_bytes(6, "big"))
        ObisCode.parse(f"1.0.{n % 256}.{n // 256}.0.255")
    assert len(_code._BY_BYTES) <= _code._INTERN_LIMIT
    assert len(_code._BY_TEXT) <= _code._INTERN_LIMIT
    assert ObisCode.from_bytes(raw) == first
