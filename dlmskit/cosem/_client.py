"""Client side, typed: quantities, registers and the clock (Blue Book 4.3.2, 4.5.1).

A register's value means ``value x 10^scaler`` in ``unit`` (scaler_unit, attribute 3).
:class:`Quantity` keeps that meaning exactly: its ``value`` is a :class:`decimal.Decimal`
computed without rounding (an integer raw value times a power of ten is always exact in
decimal; a floating-point raw value is taken at its shortest ``repr``). ``float()`` gives
the nearest float when exactness does not matter.

Clock values travel as octet-string(12) (or the date-time type); converting them always
names the meter's :class:`DeviationSign`, because meters disagree on it.
"""

from __future__ import annotations

import datetime as _dt
import functools
from decimal import Decimal

import attrs

from dlmskit.apdu import CosemAttributeDescriptor
from dlmskit.axdr import ClockStatus, Data, DateTime, DeviationSign, Float32, Float64, OctetString
from dlmskit.cosem._capture import ScalerUnit
from dlmskit.cosem._units import Unit, unit_symbol
from dlmskit.errors import DecodeError, DlmsError
from obis import ObisCode, ObisLike, as_obis

__all__ = [
    "CLOCK",
    "Quantity",
    "clock_datetime",
    "clock_time_descriptor",
    "clock_value",
    "register_descriptors",
    "register_quantity",
]

#: The clock object every meter has (class 8).
CLOCK = ObisCode(0, 0, 1, 0, 0, 255)


#: unit_symbol, kept per unit code (at most 256 of them).
_symbol = functools.lru_cache(maxsize=512)(unit_symbol)


def _decimal(raw: int | float) -> Decimal:
    if isinstance(raw, float):
        return Decimal(repr(float(raw)))
    return Decimal(int(raw))


@attrs.frozen(kw_only=True)
class Quantity:
    """A physical value: exact decimal ``value`` in ``unit`` (a :class:`Unit` or raw int)."""

    value: Decimal
    unit: Unit | int

    @classmethod
    def from_raw(cls, raw: int | float, scaler_unit: ScalerUnit) -> Quantity:
        """``raw x 10^scaler`` in the scaler_unit's unit, exactly."""
        return cls(value=_decimal(raw).scaleb(scaler_unit.scaler), unit=scaler_unit.unit)

    @property
    def symbol(self) -> str:
        return _symbol(int(self.unit))

    def __float__(self) -> float:
        return float(self.value)

    def __str__(self) -> str:
        return f"{self.value} {self.symbol}".rstrip()


def _raw_number(value: Data) -> int | float:
    if isinstance(value, bool) or value is None:
        raise DecodeError("register value is not a number", expected="integer or float")
    if isinstance(value, Float32 | Float64 | int):
        return value
    raise DecodeError(f"register value is a {type(value).__name__}", expected="number")


def register_quantity(value: Data, scaler_unit: Data | ScalerUnit) -> Quantity:
    """A register's value (attribute 2) scaled by its scaler_unit (attribute 3).

    Raises :class:`DecodeError` when the value is not a number or the scaler_unit is
    malformed.
    """
    if not isinstance(scaler_unit, ScalerUnit):
        scaler_unit = ScalerUnit.from_data(scaler_unit)
    if isinstance(value, int) and type(value) is not bool:
        # the common case, an integer register value, without the general dispatch
        return Quantity(value=Decimal(int(value)).scaleb(scaler_unit.scaler), unit=scaler_unit.unit)
    return Quantity.from_raw(_raw_number(value), scaler_unit)


def register_descriptors(
    logical_name: ObisLike, class_id: int = 3
) -> tuple[CosemAttributeDescriptor, CosemAttributeDescriptor]:
    """The (value, scaler_unit) descriptors of a register (class 3 or 4) or the
    (current_average_value, scaler_unit) ones of a demand register (class 5)."""
    name = as_obis(logical_name)
    scaler_index = 4 if class_id == 5 else 3
    return (
        CosemAttributeDescriptor(class_id=class_id, instance_id=name, attribute_id=2),
        CosemAttributeDescriptor(class_id=class_id, instance_id=name, attribute_id=scaler_index),
    )


def clock_time_descriptor(logical_name: ObisLike = CLOCK) -> CosemAttributeDescriptor:
    """Clock attribute 2, time."""
    return CosemAttributeDescriptor(class_id=8, instance_id=as_obis(logical_name), attribute_id=2)


def clock_datetime(
    value: Data, *, sign: DeviationSign, tz: _dt.tzinfo | None = None
) -> _dt.datetime:
    """The ``datetime`` a clock value (octet-string(12) or date-time) stands for.

    Aware when the meter sent a deviation; otherwise naive, or in ``tz`` when given.
    Raises :class:`DecodeError` for anything else or for unspecified date fields.
    """
    if isinstance(value, DateTime):
        stamp = value
    elif isinstance(value, OctetString) and len(value) == 12:
        stamp = DateTime.from_bytes(value)
    else:
        raise DecodeError("clock value is not a date-time", expected="octet-string(12)")
    try:
        moment = stamp.to_datetime(sign=sign)
    except DlmsError as error:
        raise DecodeError(f"clock value cannot be placed in time: {error}") from None
    if moment.tzinfo is None and tz is not None:
        moment = moment.replace(tzinfo=tz)
    return moment


def clock_value(
    moment: _dt.datetime,
    *,
    sign: DeviationSign,
    clock_status: ClockStatus | None = ClockStatus.OK,
) -> OctetString:
    """The octet-string(12) to write to clock.time (an aware ``moment`` sends its offset)."""
    return OctetString(
        DateTime.from_datetime(moment, sign=sign, clock_status=clock_status).to_bytes()
    )
