"""Physical units of COSEM scaler_unit (Blue Book 4.3.2, "enumerated values for units").

The unit is the ``enum`` half of a register's ``scaler_unit`` structure. The values and
symbols below are the Blue Book table for 1..72 and 253..255; the numbering was checked
against an independent implementation's unit enumeration (values only). The imperial units
(128..174) of recent Blue Book editions are not listed.
"""

from __future__ import annotations

import enum

__all__ = ["Unit", "unit_symbol"]


class Unit(enum.IntEnum):
    """A COSEM unit; ``.symbol`` is its Blue Book symbol, ``.quantity`` what it measures."""

    YEAR = 1
    MONTH = 2
    WEEK = 3
    DAY = 4
    HOUR = 5
    MINUTE = 6
    SECOND = 7
    DEGREE = 8
    DEGREE_CELSIUS = 9
    CURRENCY = 10
    METRE = 11
    METRE_PER_SECOND = 12
    CUBIC_METRE = 13
    CORRECTED_CUBIC_METRE = 14
    CUBIC_METRE_PER_HOUR = 15
    CORRECTED_CUBIC_METRE_PER_HOUR = 16
    CUBIC_METRE_PER_DAY = 17
    CORRECTED_CUBIC_METRE_PER_DAY = 18
    LITRE = 19
    KILOGRAM = 20
    NEWTON = 21
    NEWTON_METRE = 22
    PASCAL = 23
    BAR = 24
    JOULE = 25
    JOULE_PER_HOUR = 26
    WATT = 27
    VOLT_AMPERE = 28
    VAR = 29
    WATT_HOUR = 30
    VOLT_AMPERE_HOUR = 31
    VAR_HOUR = 32
    AMPERE = 33
    COULOMB = 34
    VOLT = 35
    VOLT_PER_METRE = 36
    FARAD = 37
    OHM = 38
    OHM_SQUARE_METRE_PER_METRE = 39
    WEBER = 40
    TESLA = 41
    AMPERE_PER_METRE = 42
    HENRY = 43
    HERTZ = 44
    PER_WATT_HOUR = 45
    PER_VAR_HOUR = 46
    PER_VOLT_AMPERE_HOUR = 47
    VOLT_SQUARED_HOUR = 48
    AMPERE_SQUARED_HOUR = 49
    KILOGRAM_PER_SECOND = 50
    SIEMENS = 51
    KELVIN = 52
    PER_VOLT_SQUARED_HOUR = 53
    PER_AMPERE_SQUARED_HOUR = 54
    PER_CUBIC_METRE = 55
    PERCENT = 56
    AMPERE_HOUR = 57
    # 58 and 59 are not assigned in the editions this table follows (nor in the
    # independent enumeration it was checked against).
    WATT_HOUR_PER_CUBIC_METRE = 60
    JOULE_PER_CUBIC_METRE = 61
    MOLE_PERCENT = 62
    GRAM_PER_CUBIC_METRE = 63
    PASCAL_SECOND = 64
    JOULE_PER_KILOGRAM = 65
    GRAM_PER_SQUARE_CENTIMETRE = 66
    ATMOSPHERE = 67
    # 68 and 69: not assigned, as 58 and 59.
    DBM = 70
    DB_MICROVOLT = 71
    DB = 72
    # 73..252: not assigned here (128..174 are imperial units in recent editions).
    RESERVED = 253
    OTHER = 254
    COUNT = 255

    @property
    def symbol(self) -> str:
        """The Blue Book symbol ("Wh", "°C", "min."); empty for other / count."""
        return _TABLE[self][0]

    @property
    def quantity(self) -> str:
        """The quantity the unit measures ("active energy", "time", ...)."""
        return _TABLE[self][1]


_TABLE: dict[Unit, tuple[str, str]] = {
    Unit.YEAR: ("a", "time (year)"),
    Unit.MONTH: ("mo", "time (month)"),
    Unit.WEEK: ("wk", "time (week)"),
    Unit.DAY: ("d", "time (day)"),
    Unit.HOUR: ("h", "time (hour)"),
    Unit.MINUTE: ("min.", "time (minute)"),
    Unit.SECOND: ("s", "time (second)"),
    Unit.DEGREE: ("°", "(phase) angle"),
    Unit.DEGREE_CELSIUS: ("°C", "temperature"),
    Unit.CURRENCY: ("currency", "local currency"),
    Unit.METRE: ("m", "length"),
    Unit.METRE_PER_SECOND: ("m/s", "speed"),
    Unit.CUBIC_METRE: ("m³", "volume"),
    Unit.CORRECTED_CUBIC_METRE: ("m³", "corrected volume"),
    Unit.CUBIC_METRE_PER_HOUR: ("m³/h", "volume flux"),
    Unit.CORRECTED_CUBIC_METRE_PER_HOUR: ("m³/h", "corrected volume flux"),
    Unit.CUBIC_METRE_PER_DAY: ("m³/d", "volume flux"),
    Unit.CORRECTED_CUBIC_METRE_PER_DAY: ("m³/d", "corrected volume flux"),
    Unit.LITRE: ("l", "volume"),
    Unit.KILOGRAM: ("kg", "mass"),
    Unit.NEWTON: ("N", "force"),
    Unit.NEWTON_METRE: ("Nm", "energy"),
    Unit.PASCAL: ("Pa", "pressure"),
    Unit.BAR: ("bar", "pressure"),
    Unit.JOULE: ("J", "energy"),
    Unit.JOULE_PER_HOUR: ("J/h", "thermal power"),
    Unit.WATT: ("W", "active power"),
    Unit.VOLT_AMPERE: ("VA", "apparent power"),
    Unit.VAR: ("var", "reactive power"),
    Unit.WATT_HOUR: ("Wh", "active energy"),
    Unit.VOLT_AMPERE_HOUR: ("VAh", "apparent energy"),
    Unit.VAR_HOUR: ("varh", "reactive energy"),
    Unit.AMPERE: ("A", "current"),
    Unit.COULOMB: ("C", "electrical charge"),
    Unit.VOLT: ("V", "voltage"),
    Unit.VOLT_PER_METRE: ("V/m", "electric field strength"),
    Unit.FARAD: ("F", "capacitance"),
    Unit.OHM: ("Ω", "resistance"),
    Unit.OHM_SQUARE_METRE_PER_METRE: ("Ωm²/m", "resistivity"),
    Unit.WEBER: ("Wb", "magnetic flux"),
    Unit.TESLA: ("T", "magnetic flux density"),
    Unit.AMPERE_PER_METRE: ("A/m", "magnetic field strength"),
    Unit.HENRY: ("H", "inductance"),
    Unit.HERTZ: ("Hz", "frequency"),
    Unit.PER_WATT_HOUR: ("1/(Wh)", "active energy meter constant or pulse value"),
    Unit.PER_VAR_HOUR: ("1/(varh)", "reactive energy meter constant or pulse value"),
    Unit.PER_VOLT_AMPERE_HOUR: ("1/(VAh)", "apparent energy meter constant or pulse value"),
    Unit.VOLT_SQUARED_HOUR: ("V²h", "volt-squared hours"),
    Unit.AMPERE_SQUARED_HOUR: ("A²h", "ampere-squared hours"),
    Unit.KILOGRAM_PER_SECOND: ("kg/s", "mass flux"),
    Unit.SIEMENS: ("S", "conductance"),
    Unit.KELVIN: ("K", "temperature"),
    Unit.PER_VOLT_SQUARED_HOUR: ("1/(V²h)", "volt-squared hour meter constant"),
    Unit.PER_AMPERE_SQUARED_HOUR: ("1/(A²h)", "ampere-squared hour meter constant"),
    Unit.PER_CUBIC_METRE: ("1/m³", "volume meter constant or pulse value"),
    Unit.PERCENT: ("%", "percentage"),
    Unit.AMPERE_HOUR: ("Ah", "ampere-hours"),
    Unit.WATT_HOUR_PER_CUBIC_METRE: ("Wh/m³", "energy per volume"),
    Unit.JOULE_PER_CUBIC_METRE: ("J/m³", "calorific value, wobbe"),
    Unit.MOLE_PERCENT: ("Mol %", "molar fraction"),
    Unit.GRAM_PER_CUBIC_METRE: ("g/m³", "mass density"),
    Unit.PASCAL_SECOND: ("Pa s", "dynamic viscosity"),
    Unit.JOULE_PER_KILOGRAM: ("J/kg", "specific energy"),
    Unit.GRAM_PER_SQUARE_CENTIMETRE: ("g/cm²", "pressure"),
    Unit.ATMOSPHERE: ("atm", "pressure"),
    Unit.DBM: ("dBm", "signal strength"),
    Unit.DB_MICROVOLT: ("dBµV", "signal strength"),
    Unit.DB: ("dB", "logarithmic unit"),
    Unit.RESERVED: ("", "reserved"),
    Unit.OTHER: ("", "other unit"),
    Unit.COUNT: ("", "count / no unit"),
}


def unit_symbol(value: int) -> str:
    """The symbol of a unit enum value; values outside the table give ``"unit <n>"``."""
    try:
        return Unit(value).symbol
    except ValueError:
        return f"unit {value}"
