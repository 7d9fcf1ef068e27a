"""Interface class definitions as data (Blue Book 4.1-4.4) and their registry.

An :class:`InterfaceClass` lists each attribute with its A-XDR type (``None`` where the
standard allows a CHOICE, e.g. a register's value), whether it is static, and the access a
meter usually grants; and each method with its parameter type. Attribute 1 is always
``logical_name`` (octet-string of 6). Codecs use the types to decode straight to typed
values; clients and simulators use the indices and names.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator

import attrs

from dlmskit.axdr import DataType, data_type_of
from dlmskit.errors import LocalProtocolError

__all__ = [
    "AttributeAccess",
    "AttributeDef",
    "InterfaceClass",
    "MethodDef",
    "generic_interface_class",
]


class AttributeAccess(enum.IntEnum):
    """Default attribute access; values as Blue Book ``attribute_access_mode`` 0..3."""

    NO_ACCESS = 0
    READ_ONLY = 1
    WRITE_ONLY = 2
    READ_AND_WRITE = 3


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 127:
        raise ValueError(f"{attribute.name} must be 1..127, got {value!r}")


@attrs.frozen(kw_only=True)
class AttributeDef:
    """One attribute: index, standard name, A-XDR type (``None`` = any), static or dynamic."""

    index: int = attrs.field(validator=_positive)
    name: str
    type: DataType | None
    static: bool
    access: AttributeAccess = AttributeAccess.READ_ONLY
    date_time: bool = False
    """An octet-string holding a 12-octet date-time (meters also send tag 25 date-time)."""

    def accepts(self, value: object) -> bool:
        """Whether a decoded value has this attribute's type (``type`` ``None``: any)."""
        if self.type is None:
            return True
        try:
            tag = data_type_of(value)
        except LocalProtocolError:
            return False
        return tag is self.type or (self.date_time and tag is DataType.DATE_TIME)


@attrs.frozen(kw_only=True)
class MethodDef:
    """One method: index, standard name and the A-XDR type of its parameter."""

    index: int = attrs.field(validator=_positive)
    name: str
    parameter: DataType | None


def _check_members(
    instance: InterfaceClass, attribute: attrs.Attribute[object], value: object
) -> None:
    attributes = instance.attributes
    if not attributes or attributes[0].name != "logical_name" or attributes[0].index != 1:
        raise ValueError("attribute 1 of every interface class is logical_name")
    for members in (instance.attributes, instance.methods):
        indices = [m.index for m in members]
        if indices != list(range(1, len(indices) + 1)):
            raise ValueError(f"{instance.name}: indices must run 1..n, got {indices}")


def _attributes(items: Iterable[AttributeDef]) -> tuple[AttributeDef, ...]:
    return tuple(items)


def _methods(items: Iterable[MethodDef]) -> tuple[MethodDef, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class InterfaceClass:
    """An interface class (class_id, version) with its attributes and methods."""

    class_id: int
    name: str
    version: int
    attributes: tuple[AttributeDef, ...] = attrs.field(converter=_attributes)
    methods: tuple[MethodDef, ...] = attrs.field(converter=_methods, validator=_check_members)
    known: bool = True
    """``False`` for the generic definition of a class this package does not describe."""

    def attribute(self, key: int | str) -> AttributeDef | None:
        """The attribute with this index or standard name, or ``None``."""
        if isinstance(key, str):
            return next((a for a in self.attributes if a.name == key), None)
        if 1 <= key <= len(self.attributes):
            return self.attributes[key - 1]
        return None

    def method(self, key: int | str) -> MethodDef | None:
        """The method with this index or standard name, or ``None``."""
        if isinstance(key, str):
            return next((m for m in self.methods if m.name == key), None)
        if 1 <= key <= len(self.methods):
            return self.methods[key - 1]
        return None

    def attribute_type(self, index: int) -> DataType | None:
        """The A-XDR type of attribute ``index``; ``None`` if any type (or unknown)."""
        found = self.attribute(index)
        return None if found is None else found.type

    def __iter__(self) -> Iterator[AttributeDef]:
        return iter(self.attributes)


LOGICAL_NAME = AttributeDef(index=1, name="logical_name", type=DataType.OCTET_STRING, static=True)


def generic_interface_class(class_id: int, version: int = 0) -> InterfaceClass:
    """The definition used for a class id (or version) this package does not describe:
    attribute 1 logical_name, every other attribute of any type."""
    if not 0 <= class_id <= 0xFFFF:
        raise ValueError(f"class_id must be 0..65535, got {class_id}")
    if not 0 <= version <= 255:
        raise ValueError(f"version must be 0..255, got {version}")
    return InterfaceClass(
        class_id=class_id,
        name=f"class {class_id}",
        version=version,
        attributes=(LOGICAL_NAME,),
        methods=(),
        known=False,
    )
