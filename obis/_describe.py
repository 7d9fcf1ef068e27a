"""Names for electricity OBIS codes built from their value groups (IEC 62056-6-1).

Only combinations whose meaning the value-group tables fix are named: C is a physical
quantity (total, L1, L2, L3 or neutral), D a processing method, E a tariff rate where that
D is rated, F a billing period where that D keeps history. Anything else gives ``None``:
a wrong name is worse than none.
"""

from __future__ import annotations

from typing import Final

__all__ = ["describe_electricity"]

# Base quantities C = 1..20 (sum over phases); L1/L2/L3 add 20/40/60. Each is
# (power-like name, energy name or None when a time integral is not an energy).
_QUANTITIES: Final[dict[int, tuple[str, str | None]]] = {
    1: ("active power import (+P)", "active energy import (+A)"),
    2: ("active power export (-P)", "active energy export (-A)"),
    3: ("reactive power import (+Q)", "reactive energy import (+R)"),
    4: ("reactive power export (-Q)", "reactive energy export (-R)"),
    5: ("reactive power QI", "reactive energy QI"),
    6: ("reactive power QII", "reactive energy QII"),
    7: ("reactive power QIII", "reactive energy QIII"),
    8: ("reactive power QIV", "reactive energy QIV"),
    9: ("apparent power import (+S)", "apparent energy import"),
    10: ("apparent power export (-S)", "apparent energy export"),
    11: ("current", None),
    12: ("voltage", None),
    13: ("power factor", None),
    14: ("supply frequency", None),
    15: ("active power |+P| + |-P|", "active energy |+A| + |-A|"),
    16: ("active power |+P| - |-P|", "active energy |+A| - |-A|"),
    17: ("active power QI", "active energy QI"),
    18: ("active power QII", "active energy QII"),
    19: ("active power QIII", "active energy QIII"),
    20: ("active power QIV", "active energy QIV"),
}

_PHASES: Final = ("", "L1 ", "L2 ", "L3 ")

_NEUTRAL: Final[dict[int, str]] = {91: "neutral current", 92: "neutral voltage"}

# D: processing. Time integrals of energy quantities are energies.
_PROCESSING: Final[dict[int, str]] = {
    0: "billing period average",
    1: "cumulative minimum 1",
    2: "cumulative maximum 1",
    3: "minimum 1",
    4: "current average 1",
    5: "last average 1",
    6: "maximum 1",
    7: "instantaneous value",
    11: "cumulative minimum 2",
    12: "cumulative maximum 2",
    13: "minimum 2",
    14: "current average 2",
    15: "last average 2",
    16: "maximum 2",
    21: "cumulative minimum 3",
    22: "cumulative maximum 3",
    23: "minimum 3",
    24: "current average 3",
    25: "last average 3",
    26: "maximum 3",
    27: "current average 5",
    28: "current average 6",
    55: "test average",
}

_TIME_INTEGRALS: Final[dict[int, int]] = {
    8: 1,
    9: 2,
    10: 3,
    58: 4,
    29: 5,
    30: 6,
    17: 7,
    18: 8,
    19: 9,
    20: 10,
}

# D values whose E is a tariff rate (0 = total, 1..63 = rate), and those with history (F).
_RATED: Final = frozenset({0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 21, 22, 23})
_HISTORIC: Final = frozenset({0, 1, 2, 3, 6, 8, 9, 10, 11, 12, 13, 16, 21, 22, 23})

# C = 81, D = 7: E = 10 * reference + measured, each digit one of these signals.
_ANGLE_SIGNALS: Final[dict[int, str]] = {
    0: "U(L1)",
    1: "U(L2)",
    2: "U(L3)",
    4: "I(L1)",
    5: "I(L2)",
    6: "I(L3)",
    7: "I(L0)",
}


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _quantity(c: int) -> tuple[str, str | None] | None:
    if c in _NEUTRAL:
        return _NEUTRAL[c], None
    if 1 <= c <= 80:
        phase, base = divmod(c - 1, 20)
        power, energy = _QUANTITIES[base + 1]
        prefix = _PHASES[phase]
        return prefix + power, None if energy is None else prefix + energy
    return None


def _angle(e: int) -> str | None:
    reference, measured = divmod(e, 10)
    if reference not in _ANGLE_SIGNALS or measured not in _ANGLE_SIGNALS:
        return None
    return f"Angle of {_ANGLE_SIGNALS[measured]} - {_ANGLE_SIGNALS[reference]}"


def describe_electricity(a: int, b: int, c: int, d: int, e: int, f: int) -> str | None:
    """A name for an electricity code (A = 1) from its value groups, or ``None``."""
    if a != 1 or b > 64:
        return None
    channel = f", channel {b}" if b else ""
    if c == 81 and d == 7:
        angle = _angle(e)
        return None if angle is None or f != 255 else angle + channel
    quantity = _quantity(c)
    if quantity is None:
        return None
    power, energy = quantity
    integral = _TIME_INTEGRALS.get(d)
    if integral is not None:
        base = energy if energy is not None else f"{power}, time integral 1"
        if integral != 1:
            base = f"{energy or power}, time integral {integral}"
    elif d in _PROCESSING:
        base = f"{power}, {_PROCESSING[d]}"
    else:
        return None
    if e:
        if d not in _RATED or e > 63:
            return None
        base += f", rate {e}"
    if f != 255:
        if d not in _HISTORIC or f > 99:
            return None
        base += f", billing period {f}"
    return _capitalise(base + channel)
