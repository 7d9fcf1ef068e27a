"""Association LN attribute 2, ``object_list``, both ways (Blue Book 4.4.3).

::

    object_list_element ::= structure {
        class_id long-unsigned, version unsigned, logical_name octet-string(6),
        access_rights structure {
            attribute_access array of structure {
                attribute_id integer, access_mode enum,
                access_selectors CHOICE { null-data, array of integer } },
            method_access array of structure {
                method_id integer,
                access_mode boolean (Association LN version 0) | enum (version 1 and later) } } }

:func:`encode_object_list` builds it from typed :class:`ObjectListEntry` values (or from
an object tree for one client SAP with :func:`object_list_entries`);
:func:`decode_object_list` reads it from any decoded A-XDR value, raising
:class:`DecodeError` on anything that does not have this shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import attrs

from dlmskit.association import AttributeAccessMode, MethodAccessMode
from dlmskit.axdr import Array, Data, Enum, Integer, LongUnsigned, OctetString, Structure, Unsigned
from dlmskit.cosem._classdefs import interface_class
from dlmskit.cosem._classes import InterfaceClass
from dlmskit.errors import DecodeError
from obis import ObisCode

if TYPE_CHECKING:
    from dlmskit.cosem._model_tree import CosemObjectTree

__all__ = [
    "AttributeAccessItem",
    "MethodAccessItem",
    "ObjectListEntry",
    "decode_object_list",
    "encode_object_list",
    "object_list_entries",
]


def _selectors(value: Iterable[int] | None) -> tuple[int, ...] | None:
    return None if value is None else tuple(value)


@attrs.frozen(kw_only=True)
class AttributeAccessItem:
    """One attribute_access_item: id, access mode, selective access selectors."""

    attribute_id: int
    access_mode: AttributeAccessMode
    access_selectors: tuple[int, ...] | None = attrs.field(default=None, converter=_selectors)
    """``None`` is null-data (no selective access); a tuple is the array of selectors."""


@attrs.frozen(kw_only=True)
class MethodAccessItem:
    """One method_access_item: id and access mode (a boolean in version 0 lists)."""

    method_id: int
    access_mode: MethodAccessMode


def _attributes(value: Iterable[AttributeAccessItem]) -> tuple[AttributeAccessItem, ...]:
    return tuple(value)


def _methods(value: Iterable[MethodAccessItem]) -> tuple[MethodAccessItem, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class ObjectListEntry:
    """One object an association can see, with its access rights."""

    class_id: int
    version: int
    logical_name: ObisCode
    attribute_access: tuple[AttributeAccessItem, ...] = attrs.field(
        factory=tuple, converter=_attributes
    )
    method_access: tuple[MethodAccessItem, ...] = attrs.field(factory=tuple, converter=_methods)

    @property
    def interface_class(self) -> InterfaceClass:
        """The class definition (generic when this package does not describe it)."""
        return interface_class(self.class_id, self.version)

    def attribute_mode(self, attribute_id: int) -> AttributeAccessMode:
        """The access mode of an attribute (no-access when not listed)."""
        for item in self.attribute_access:
            if item.attribute_id == attribute_id:
                return item.access_mode
        return AttributeAccessMode.NO_ACCESS

    def method_mode(self, method_id: int) -> MethodAccessMode:
        """The access mode of a method (no-access when not listed)."""
        for item in self.method_access:
            if item.method_id == method_id:
                return item.access_mode
        return MethodAccessMode.NO_ACCESS


# --------------------------------------------------------------------------- encoding


def _encode_entry(entry: ObjectListEntry, association_version: int) -> Structure:
    attributes = Array(
        Structure(
            (
                Integer(item.attribute_id),
                Enum(item.access_mode),
                None
                if item.access_selectors is None
                else Array(Integer(s) for s in item.access_selectors),
            )
        )
        for item in entry.attribute_access
    )
    methods = Array(
        Structure(
            (
                Integer(item.method_id),
                item.access_mode is not MethodAccessMode.NO_ACCESS
                if association_version == 0
                else Enum(item.access_mode),
            )
        )
        for item in entry.method_access
    )
    return Structure(
        (
            LongUnsigned(entry.class_id),
            Unsigned(entry.version),
            OctetString(entry.logical_name.to_bytes()),
            Structure((attributes, methods)),
        )
    )


def encode_object_list(
    entries: Iterable[ObjectListEntry], *, association_version: int = 1
) -> Array:
    """The object_list value; ``association_version`` 0 sends method access as booleans
    and only the version-0 attribute modes (authenticated modes become their plain ones)."""
    if association_version == 0:
        entries = [_as_version_0(entry) for entry in entries]
    return Array(_encode_entry(entry, association_version) for entry in entries)


def _as_version_0(entry: ObjectListEntry) -> ObjectListEntry:
    return attrs.evolve(
        entry,
        attribute_access=tuple(
            attrs.evolve(item, access_mode=AttributeAccessMode(_plain(item.access_mode)))
            for item in entry.attribute_access
        ),
    )


def _plain(mode: AttributeAccessMode) -> int:
    return int(mode) - 3 if mode >= AttributeAccessMode.AUTHENTICATED_READ_ONLY else int(mode)


def object_list_entries(tree: CosemObjectTree, client_sap: int) -> tuple[ObjectListEntry, ...]:
    """What the association of ``client_sap`` sees in ``tree``, with its rights.

    Every attribute and method of each object's class is listed; those the object does
    not hold or implement show as no-access.
    """
    rights = tree.rights(client_sap)
    if rights is None:
        return ()
    out: list[ObjectListEntry] = []
    for obj in tree.visible_objects(client_sap):
        definition = obj.definition
        attribute_ids = sorted({a.index for a in definition.attributes} | set(obj.attribute_ids()))
        method_ids = sorted({m.index for m in definition.methods} | set(obj.method_ids()))
        out.append(
            ObjectListEntry(
                class_id=obj.class_id,
                version=obj.version,
                logical_name=obj.logical_name,
                attribute_access=tuple(
                    AttributeAccessItem(
                        attribute_id=i,
                        access_mode=rights.attribute_mode(obj, i),
                        access_selectors=obj.selective_access_selectors(i) or None,
                    )
                    for i in attribute_ids
                ),
                method_access=tuple(
                    MethodAccessItem(method_id=i, access_mode=rights.method_mode(obj, i))
                    for i in method_ids
                ),
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- decoding


def _int(value: Data, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DecodeError(f"object_list {what} is not an integer in {low}..{high}", expected=what)
    return int(value)


def _sequence(value: Data, what: str, size: int | None = None) -> Sequence[Data]:
    if not isinstance(value, Array | Structure) or (size is not None and len(value) != size):
        shape = "sequence" if size is None else f"structure of {size}"
        raise DecodeError(f"object_list {what} is not a {shape}", expected=what)
    return value


def _attribute_item(value: Data) -> AttributeAccessItem:
    attribute_id, mode, selectors = _sequence(value, "attribute_access_item", 3)
    try:
        access_mode = AttributeAccessMode(_int(mode, "attribute access_mode", 0, 255))
    except ValueError:
        raise DecodeError(f"unknown attribute access_mode {mode!r}", expected="0..6") from None
    chosen: tuple[int, ...] | None = None
    if selectors is not None:
        chosen = tuple(
            _int(s, "access_selector", -128, 255) for s in _sequence(selectors, "access_selectors")
        )
    return AttributeAccessItem(
        attribute_id=_int(attribute_id, "attribute_id", -128, 255),
        access_mode=access_mode,
        access_selectors=chosen,
    )


def _method_item(value: Data) -> MethodAccessItem:
    method_id, mode = _sequence(value, "method_access_item", 2)
    if isinstance(mode, bool):
        access_mode = MethodAccessMode.ACCESS if mode else MethodAccessMode.NO_ACCESS
    else:
        try:
            access_mode = MethodAccessMode(_int(mode, "method access_mode", 0, 255))
        except ValueError:
            raise DecodeError(f"unknown method access_mode {mode!r}", expected="0..2") from None
    return MethodAccessItem(
        method_id=_int(method_id, "method_id", -128, 255), access_mode=access_mode
    )


def _entry(value: Data) -> ObjectListEntry:
    class_id, version, name, rights = _sequence(value, "object_list_element", 4)
    if not isinstance(name, bytes) or len(name) != 6:
        raise DecodeError("object_list logical_name is not 6 octets", expected="octet-string(6)")
    attributes, methods = _sequence(rights, "access_rights", 2)
    return ObjectListEntry(
        class_id=_int(class_id, "class_id", 0, 0xFFFF),
        version=_int(version, "version", 0, 0xFF),
        logical_name=ObisCode.from_bytes(bytes(name)),
        attribute_access=tuple(
            _attribute_item(v) for v in _sequence(attributes, "attribute_access")
        ),
        method_access=tuple(_method_item(v) for v in _sequence(methods, "method_access")),
    )


def decode_object_list(value: Data) -> tuple[ObjectListEntry, ...]:
    """Typed entries from a decoded object_list (any version; boolean or enum method modes)."""
    if not isinstance(value, Array):
        raise DecodeError("object_list is not an array", expected="array")
    return tuple(_entry(element) for element in value)
