"""Capture object definitions and scaler_unit values (Blue Book 4.3.2, 4.3.6).

``capture_object_definition`` ::= structure { class_id long-unsigned, logical_name
octet-string(6), attribute_index integer, data_index long-unsigned } is the element of a
profile's ``capture_objects`` and of a push setup's ``push_object_list``;
``scaler_unit`` ::= structure { scaler integer, unit enum } scales a register's value by
10^scaler.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from dlmskit.axdr import Data, Enum, Integer, LongUnsigned, OctetString, Structure
from dlmskit.cosem._units import Unit, unit_symbol
from dlmskit.errors import DecodeError
from obis import ObisCode, ObisLike, as_obis

__all__ = ["CaptureObject", "ScalerUnit", "scalers_from_row"]


def _check_range(lo: int, hi: int) -> Callable[[object, attrs.Attribute[int], int], None]:
    def check(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ValueError(f"{attribute.name} must be an int in {lo}..{hi}, got {value!r}")

    return check


@attrs.frozen(kw_only=True)
class CaptureObject:
    """One column of a profile or push list: an attribute (or an element of it)."""

    class_id: int = attrs.field(validator=_check_range(0, 0xFFFF))
    logical_name: ObisCode = attrs.field(converter=as_obis)
    attribute_index: int = attrs.field(validator=_check_range(-128, 127))
    data_index: int = attrs.field(default=0, validator=_check_range(0, 0xFFFF))

    @classmethod
    def of(
        cls, class_id: int, logical_name: ObisLike, attribute_index: int, data_index: int = 0
    ) -> CaptureObject:
        """Positional shorthand: ``CaptureObject.of(3, "1.0.1.8.0.255", 2)``."""
        return cls(
            class_id=class_id,
            logical_name=as_obis(logical_name),
            attribute_index=attribute_index,
            data_index=data_index,
        )

    def __str__(self) -> str:
        text = f"{self.class_id}/{self.logical_name}/{self.attribute_index}"
        return text if not self.data_index else f"{text}/{self.data_index}"

    def to_data(self) -> Structure:
        """The A-XDR ``capture_object_definition`` structure."""
        return Structure(
            (
                LongUnsigned(self.class_id),
                OctetString(self.logical_name.to_bytes()),
                Integer(self.attribute_index),
                LongUnsigned(self.data_index),
            )
        )

    @classmethod
    def from_data(cls, value: Data) -> CaptureObject:
        """Read a decoded ``capture_object_definition``; integer widths are not enforced."""
        if not isinstance(value, Structure) or len(value) != 4:
            raise DecodeError(
                "capture object is not a 4-element structure",
                expected="structure{class_id, logical_name, attribute_index, data_index}",
            )
        class_id, name, attribute_index, data_index = value
        if not isinstance(name, bytes) or len(name) != 6:
            raise DecodeError("capture object logical_name is not 6 octets", expected="LN")
        if not (
            isinstance(class_id, int)
            and isinstance(attribute_index, int)
            and isinstance(data_index, int)
        ) or any(isinstance(v, bool) for v in (class_id, attribute_index, data_index)):
            raise DecodeError("capture object indices are not integers", expected="integers")
        try:
            return cls(
                class_id=class_id,
                logical_name=ObisCode.from_bytes(name),
                attribute_index=attribute_index,
                data_index=data_index,
            )
        except ValueError as exc:
            raise DecodeError(f"capture object out of range: {exc}") from exc


@attrs.frozen(kw_only=True)
class ScalerUnit:
    """A register's ``scaler_unit``: value x 10^scaler, in ``unit``.

    ``unit`` is a :class:`Unit` when the enum value is in the Blue Book table, else the
    raw ``int`` the meter sent.
    """

    scaler: int = attrs.field(validator=_check_range(-128, 127))
    unit: Unit | int = attrs.field(validator=_check_range(0, 255))

    @classmethod
    def from_data(cls, value: Data) -> ScalerUnit:
        """Read a decoded ``scaler_unit`` structure {integer, enum}."""
        if not isinstance(value, Structure) or len(value) != 2:
            raise DecodeError("scaler_unit is not a 2-element structure", expected="{scaler, unit}")
        scaler, unit = value
        if (
            not (isinstance(scaler, int) and isinstance(unit, int))
            or isinstance(scaler, bool)
            or isinstance(unit, bool)
        ):
            raise DecodeError("scaler_unit elements are not integers", expected="integer, enum")
        if not (-128 <= scaler <= 127 and 0 <= unit <= 255):
            raise DecodeError("scaler_unit out of range", expected="integer, enum")
        try:
            known: Unit | int = Unit(int(unit))
        except ValueError:
            known = int(unit)
        return cls(scaler=int(scaler), unit=known)

    def to_data(self) -> Structure:
        """The A-XDR structure {integer scaler, enum unit}."""
        return Structure((Integer(self.scaler), Enum(int(self.unit))))

    def scale(self, raw: int | float) -> int | float:
        """The physical value of a raw register value: exact ``int`` when scaler >= 0."""
        factor = int(10 ** abs(self.scaler))
        if self.scaler < 0:
            return raw / factor
        if isinstance(raw, int):
            return int(raw) * factor
        return float(raw) * factor

    @property
    def symbol(self) -> str:
        """The unit symbol ("Wh", "V", ...; "unit <n>" outside the table)."""
        return unit_symbol(int(self.unit))

    def __str__(self) -> str:
        return f"10^{self.scaler} {self.symbol}".rstrip()


def scalers_from_row(
    capture_objects: Sequence[CaptureObject], row: Data
) -> dict[ObisCode, ScalerUnit]:
    """Map each register of a scaler profile to its ``scaler_unit``.

    ``row`` is one entry of a scaler profile's buffer (IS 15959: 1.0.94.91.3..7.255), a
    structure with one ``scaler_unit`` per capture object (attribute 3 of a register).
    """
    if not isinstance(row, Structure) or len(row) != len(capture_objects):
        raise DecodeError(
            "scaler profile row does not match its capture objects",
            expected=f"structure of {len(capture_objects)} scaler_unit values",
        )
    scalers: dict[ObisCode, ScalerUnit] = {}
    for column, value in zip(capture_objects, row, strict=True):
        if column.attribute_index == 3:
            scalers[column.logical_name] = ScalerUnit.from_data(value)
    return scalers
