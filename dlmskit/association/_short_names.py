"""Short names: how SN referencing maps a 16-bit variable name to a COSEM attribute or method.

With short name referencing (application contexts 2 and 4) every object has a
``base_name`` (its Association SN object_list entry, Blue Book 4.4.4); attribute ``n``
is addressed as ``base_name + 8 * (n - 1)`` and method ``m`` as ``base_name +
first_method_offset + 8 * (m - 1)``, where the first method offset is given per
interface class in the Blue Book's short name columns. :data:`SN_LAYOUTS` holds the
classes whose layout dlmskit knows; an object of any other class states its layout in
its :class:`ShortNameEntry`.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable, Mapping
from typing import Final, Protocol

import attrs

from dlmskit.apdu import CosemAttributeDescriptor, CosemMethodDescriptor
from dlmskit.axdr import Array, Data, Long, LongUnsigned, OctetString, Structure, Unsigned
from dlmskit.errors import LocalProtocolError, RemoteProtocolError
from obis import ObisCode

__all__ = [
    "ASSOCIATION_SN_BASE",
    "REPLY_TO_HLS_AUTHENTICATION_SN",
    "SN_LAYOUTS",
    "ShortNameEntry",
    "ShortNameKind",
    "ShortNameLayout",
    "ShortNameMap",
    "ShortNameTable",
    "ShortNameTarget",
]


@attrs.frozen(kw_only=True)
class ShortNameLayout:
    """How many attributes and methods a class has, and where its methods start."""

    attribute_count: int = attrs.field(validator=attrs.validators.in_(range(1, 128)))
    first_method_offset: int = 0
    method_count: int = attrs.field(default=0, validator=attrs.validators.in_(range(0, 128)))

    def __attrs_post_init__(self) -> None:
        if self.method_count and (
            self.first_method_offset % 8
            or self.first_method_offset < 8 * self.attribute_count
            or self.first_method_offset + 8 * self.method_count > 0x10000
        ):
            raise LocalProtocolError(
                f"first method offset 0x{self.first_method_offset:X} overlaps the attributes "
                "or is not a multiple of 8"
            )

    @property
    def span(self) -> int:
        """How many short names the object occupies from its base name."""
        end = 8 * self.attribute_count
        if self.method_count:
            end = max(end, self.first_method_offset + 8 * self.method_count)
        return end


#: Short name layouts per interface class (Blue Book, the "short name" columns of each
#: class description): (attributes, offset of method 1, methods).
SN_LAYOUTS: Final[dict[int, ShortNameLayout]] = {
    1: ShortNameLayout(attribute_count=2),  # Data
    3: ShortNameLayout(attribute_count=3, first_method_offset=0x28, method_count=1),  # Register
    4: ShortNameLayout(attribute_count=5, first_method_offset=0x38, method_count=1),
    5: ShortNameLayout(attribute_count=9, first_method_offset=0x48, method_count=2),
    6: ShortNameLayout(attribute_count=4, first_method_offset=0x30, method_count=3),
    7: ShortNameLayout(attribute_count=8, first_method_offset=0x58, method_count=4),
    8: ShortNameLayout(attribute_count=9, first_method_offset=0x60, method_count=6),  # Clock
    9: ShortNameLayout(attribute_count=2, first_method_offset=0x20, method_count=1),
    11: ShortNameLayout(attribute_count=2, first_method_offset=0x10, method_count=2),
    # Association SN: method 8 is reply_to_HLS_authentication (0x58).
    12: ShortNameLayout(attribute_count=4, first_method_offset=0x20, method_count=8),
    20: ShortNameLayout(attribute_count=10, first_method_offset=0x50, method_count=1),
    21: ShortNameLayout(attribute_count=4),  # Register monitor
    40: ShortNameLayout(attribute_count=7, first_method_offset=0x38, method_count=1),
    70: ShortNameLayout(attribute_count=4, first_method_offset=0x20, method_count=2),
}

#: The base name of the "current association" Association SN object.
ASSOCIATION_SN_BASE: Final = 0xFA00
#: Association SN method 8, reply_to_HLS_authentication: HLS pass 3 in SN
#: (dlms-facts 1.8).
REPLY_TO_HLS_AUTHENTICATION_SN: Final = ASSOCIATION_SN_BASE + 0x20 + 8 * 7


class ShortNameKind(enum.IntEnum):
    """What a short name addresses."""

    ATTRIBUTE = 0
    METHOD = 1


@attrs.frozen(kw_only=True)
class ShortNameTarget:
    """The attribute or method one short name stands for."""

    kind: ShortNameKind
    class_id: int
    logical_name: ObisCode
    index: int

    @property
    def attribute(self) -> CosemAttributeDescriptor:
        """The LN descriptor of the attribute (``kind`` must be ATTRIBUTE)."""
        if self.kind is not ShortNameKind.ATTRIBUTE:
            raise LocalProtocolError("this short name addresses a method")
        return CosemAttributeDescriptor(
            class_id=self.class_id, instance_id=self.logical_name, attribute_id=self.index
        )

    @property
    def method(self) -> CosemMethodDescriptor:
        """The LN descriptor of the method (``kind`` must be METHOD)."""
        if self.kind is not ShortNameKind.METHOD:
            raise LocalProtocolError("this short name addresses an attribute")
        return CosemMethodDescriptor(
            class_id=self.class_id, instance_id=self.logical_name, method_id=self.index
        )


class ShortNameMap(Protocol):
    """What the server needs to serve SN requests: a short name to its target, or None."""

    def resolve(self, name: int) -> ShortNameTarget | None: ...


@attrs.frozen(kw_only=True)
class ShortNameEntry:
    """One object of an Association SN object_list: base name, class and logical name.

    ``layout`` defaults to the class's entry in :data:`SN_LAYOUTS`.
    """

    base_name: int = attrs.field(validator=attrs.validators.in_(range(0, 0x10000, 8)))
    class_id: int
    logical_name: ObisCode
    layout: ShortNameLayout | None = None
    #: The interface class version, as listed in the object_list.
    version: int = 0

    @property
    def resolved_layout(self) -> ShortNameLayout:
        layout = self.layout if self.layout is not None else SN_LAYOUTS.get(self.class_id)
        if layout is None:
            raise LocalProtocolError(
                f"no short name layout known for class {self.class_id}; give one"
            )
        return layout


class ShortNameTable:
    """A :class:`ShortNameMap` over Association SN object_list entries, both ways.

    The server resolves names to targets; a client computes the names it must send.
    Overlapping objects are refused on construction.
    """

    def __init__(self, entries: Iterable[ShortNameEntry]) -> None:
        ordered = sorted(entries, key=lambda e: e.base_name)
        self._bases = [e.base_name for e in ordered]
        self._entries = ordered
        self._by_object: dict[tuple[int, ObisCode], ShortNameEntry] = {}
        end = -1
        for entry in ordered:
            if entry.base_name < end:
                raise LocalProtocolError(f"short name 0x{entry.base_name:04X} overlaps another")
            end = entry.base_name + entry.resolved_layout.span
            if end > 0x10000:
                raise LocalProtocolError(f"object at 0x{entry.base_name:04X} passes 0xFFFF")
            self._by_object[(entry.class_id, entry.logical_name)] = entry

    @property
    def entries(self) -> tuple[ShortNameEntry, ...]:
        return tuple(self._entries)

    def object_list(self) -> Array:
        """Association SN attribute 2, object_list (Blue Book 4.4.4): per object
        structure{base_name long, class_id long-unsigned, version unsigned,
        logical_name octet-string}; base names above 0x7FFF go out as negative longs."""
        return Array(
            [
                Structure(
                    (
                        Long(e.base_name - 0x10000 if e.base_name > 0x7FFF else e.base_name),
                        LongUnsigned(e.class_id),
                        Unsigned(e.version),
                        OctetString(bytes(e.logical_name)),
                    )
                )
                for e in self._entries
            ]
        )

    @classmethod
    def from_object_list(
        cls, value: Data, layouts: Mapping[int, ShortNameLayout] | None = None
    ) -> ShortNameTable:
        """The table a client builds from a meter's Association SN object_list.

        Objects of classes with no known layout (``layouts`` adds to
        :data:`SN_LAYOUTS`) are left out: their attribute names cannot be computed.
        """
        known = {**SN_LAYOUTS, **(layouts or {})}
        if not isinstance(value, Array):
            raise RemoteProtocolError("object_list is not an array")
        entries: list[ShortNameEntry] = []
        for element in value:
            fields = list(element) if isinstance(element, Structure) else []
            if len(fields) != 4:
                raise RemoteProtocolError("object_list element is not a 4-field structure")
            base, class_id, version, name = fields
            if not (
                isinstance(base, int)
                and isinstance(class_id, int)
                and isinstance(version, int)
                and isinstance(name, OctetString)
                and len(name) == 6
            ):
                raise RemoteProtocolError("object_list element of the wrong types")
            if class_id not in known:
                continue
            try:
                entries.append(
                    ShortNameEntry(
                        base_name=int(base) & 0xFFFF,
                        class_id=int(class_id),
                        logical_name=ObisCode.from_bytes(bytes(name)),
                        layout=(layouts or {}).get(class_id),
                        version=int(version),
                    )
                )
            except (LocalProtocolError, ValueError) as exc:
                raise RemoteProtocolError(f"object_list element refused: {exc}") from None
        try:
            return cls(entries)
        except LocalProtocolError as exc:
            raise RemoteProtocolError(f"object_list refused: {exc}") from None

    def resolve(self, name: int) -> ShortNameTarget | None:
        """The attribute or method ``name`` addresses, None when it addresses nothing."""
        i = bisect.bisect_right(self._bases, name) - 1
        if i < 0:
            return None
        entry = self._entries[i]
        layout = entry.resolved_layout
        offset = name - entry.base_name
        if offset % 8:
            return None
        if offset < 8 * layout.attribute_count:
            kind, index = ShortNameKind.ATTRIBUTE, offset // 8 + 1
        elif layout.method_count and 0 <= offset - layout.first_method_offset < (
            8 * layout.method_count
        ):
            kind, index = ShortNameKind.METHOD, (offset - layout.first_method_offset) // 8 + 1
        else:
            return None
        return ShortNameTarget(
            kind=kind, class_id=entry.class_id, logical_name=entry.logical_name, index=index
        )

    def attribute_name(self, class_id: int, logical_name: ObisCode, attribute_id: int) -> int:
        """The short name of an attribute."""
        entry = self._entry(class_id, logical_name)
        if not 1 <= attribute_id <= entry.resolved_layout.attribute_count:
            raise LocalProtocolError(f"class {class_id} has no attribute {attribute_id}")
        return entry.base_name + 8 * (attribute_id - 1)

    def method_name(self, class_id: int, logical_name: ObisCode, method_id: int) -> int:
        """The short name of a method."""
        entry = self._entry(class_id, logical_name)
        layout = entry.resolved_layout
        if not 1 <= method_id <= layout.method_count:
            raise LocalProtocolError(f"class {class_id} has no method {method_id}")
        return entry.base_name + layout.first_method_offset + 8 * (method_id - 1)

    def _entry(self, class_id: int, logical_name: ObisCode) -> ShortNameEntry:
        entry = self._by_object.get((class_id, logical_name))
        if entry is None:
            raise LocalProtocolError(f"no short name for class {class_id} {logical_name}")
        return entry
