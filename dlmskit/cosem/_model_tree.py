"""The server's COSEM object tree, with access rights per association.

:class:`CosemObjectTree` implements the association machine's ``ObjectTree`` protocol
over :class:`CosemObject` instances. Each client SAP opens one association (IS 15959-2:
public client 16, meter reader 32, utility settings 48, push 64, firmware 80) whose
:class:`AssociationRights` say which objects it sees and what it may do with them; the
Association LN object of that association lists exactly those (Blue Book 4.4.3,
object_list with access_rights). Objects outside an association's view answer
``object-undefined``, as if absent. The tree never raises on a request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Final

import attrs

from dlmskit.apdu import (
    ActionResult,
    CosemAttributeDescriptor,
    CosemMethodDescriptor,
    DataAccessResult,
    SelectiveAccess,
)
from dlmskit.association import AttributeAccessMode, MethodAccessMode, RequestContext
from dlmskit.axdr import Array, Data, Structure
from dlmskit.cosem._capture import CaptureObject
from dlmskit.cosem._classes import AttributeAccess
from dlmskit.cosem._model_base import CosemObject, local_context
from obis import ObisCode, as_obis

__all__ = ["CURRENT_ASSOCIATION_LN", "AssociationRights", "CosemObjectTree"]

#: The logical name every client uses for the association it is in (Blue Book 4.4.3).
CURRENT_ASSOCIATION_LN: Final = ObisCode(0, 0, 40, 0, 0, 255)

_Key = tuple[ObisCode, int]


def _names(value: Iterable[ObisCode | str] | None) -> frozenset[ObisCode] | None:
    return None if value is None else frozenset(as_obis(v) for v in value)


def _modes(value: Mapping[_Key, AttributeAccessMode]) -> Mapping[_Key, AttributeAccessMode]:
    return MappingProxyType(dict(value))


def _method_modes(value: Mapping[_Key, MethodAccessMode]) -> Mapping[_Key, MethodAccessMode]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class AssociationRights:
    """What one association (one client SAP) may see and do.

    ``visible`` lists the logical names it sees (``None``: every object). Attribute access
    starts from the class definition's default (read-only, read-and-write, write-only);
    ``write`` ``False`` removes every write right, ``methods`` ``False`` every method
    right, ``authenticated`` turns granted rights into their "authenticated" modes
    (requests must then arrive in authenticated APDUs). ``attributes`` and
    ``method_rights`` override single entries, keyed by ``(logical_name, index)``.
    """

    client_sap: int
    association: ObisCode = attrs.field(converter=as_obis)
    visible: frozenset[ObisCode] | None = attrs.field(default=None, converter=_names)
    write: bool = True
    methods: bool = True
    authenticated: bool = False
    attributes: Mapping[_Key, AttributeAccessMode] = attrs.field(factory=dict, converter=_modes)
    method_rights: Mapping[_Key, MethodAccessMode] = attrs.field(
        factory=dict, converter=_method_modes
    )

    def sees(self, obj: CosemObject) -> bool:
        return (
            self.visible is None
            or obj.logical_name in self.visible
            or obj.logical_name == self.association
        )

    def attribute_mode(self, obj: CosemObject, index: int) -> AttributeAccessMode:
        override = self.attributes.get((obj.logical_name, index))
        if override is not None:
            return override
        if not obj.has_attribute(index):
            return AttributeAccessMode.NO_ACCESS
        definition = obj.definition.attribute(index)
        default = AttributeAccess.READ_ONLY if definition is None else definition.access
        mode = int(default)
        if not self.write:
            mode &= int(AttributeAccess.READ_ONLY)
        if mode and self.authenticated:
            mode += 3
        return AttributeAccessMode(mode)

    def method_mode(self, obj: CosemObject, index: int) -> MethodAccessMode:
        override = self.method_rights.get((obj.logical_name, index))
        if override is not None:
            return override
        if not (self.methods and obj.has_method(index)):
            return MethodAccessMode.NO_ACCESS
        if self.authenticated:
            return MethodAccessMode.AUTHENTICATED_ACCESS
        return MethodAccessMode.ACCESS


class CosemObjectTree:
    """COSEM objects by logical name, served per association; an ``ObjectTree``.

    Clients with no :class:`AssociationRights` registered see nothing. The logical name
    0.0.40.0.0.255 (class 15) stands for the Association LN object of the client's own
    association.
    """

    def __init__(
        self,
        objects: Iterable[CosemObject] = (),
        *,
        associations: Iterable[AssociationRights] = (),
    ) -> None:
        self._objects: dict[ObisCode, CosemObject] = {}
        self._rights: dict[int, AssociationRights] = {}
        for obj in objects:
            self.add(obj)
        for rights in associations:
            self.grant(rights)

    # -- building ----------------------------------------------------------------------

    def add(self, obj: CosemObject) -> CosemObject:
        """Add an object (its logical name must be new) and return it."""
        if obj.logical_name in self._objects:
            raise ValueError(f"{obj.logical_name} is already in the tree")
        self._objects[obj.logical_name] = obj
        obj.tree = self
        return obj

    def replace(self, obj: CosemObject) -> CosemObject | None:
        """Put ``obj`` in place of the object with its logical name; returns the old one.

        A simulator swaps in its own implementation (e.g. a profile with a computed
        buffer) after building a tree from a companion profile.
        """
        old = self._objects.get(obj.logical_name)
        if old is not None:
            old.tree = None
        self._objects[obj.logical_name] = obj
        obj.tree = self
        return old

    def grant(self, rights: AssociationRights) -> None:
        """Register (or replace) the rights of one client SAP."""
        self._rights[rights.client_sap] = rights

    def rights(self, client_sap: int) -> AssociationRights | None:
        return self._rights.get(client_sap)

    def __getitem__(self, logical_name: ObisCode | str) -> CosemObject:
        return self._objects[as_obis(logical_name)]

    def get_object(self, logical_name: ObisCode | str) -> CosemObject | None:
        return self._objects.get(as_obis(logical_name))

    def __contains__(self, logical_name: object) -> bool:
        return isinstance(logical_name, ObisCode | str) and (as_obis(logical_name) in self._objects)

    def __iter__(self) -> Iterator[CosemObject]:
        return iter(self._objects.values())

    def __len__(self) -> int:
        return len(self._objects)

    def visible_objects(self, client_sap: int) -> tuple[CosemObject, ...]:
        """The objects the association of ``client_sap`` sees, in insertion order."""
        rights = self._rights.get(client_sap)
        if rights is None:
            return ()
        return tuple(obj for obj in self._objects.values() if rights.sees(obj))

    # -- reading values for captures and pushes ---------------------------------------------

    def read(self, column: CaptureObject, ctx: RequestContext | None = None) -> Data:
        """The value a capture object names (element ``data_index`` when > 0).

        Used by the meter itself (profile captures, push bodies): no access check.
        Anything missing or failing reads as null-data.
        """
        obj = self._objects.get(column.logical_name)
        if obj is None or obj.class_id != column.class_id:
            return None
        value = obj.get_attribute(
            ctx if ctx is not None else local_context(), column.attribute_index, None
        )
        if isinstance(value, DataAccessResult):
            return None
        if column.data_index:
            if isinstance(value, Array | Structure) and column.data_index <= len(value):
                return value[column.data_index - 1]
            return None
        return value

    # -- the ObjectTree protocol ------------------------------------------------------------

    def _find(
        self, ctx: RequestContext, class_id: int, logical_name: ObisCode
    ) -> tuple[AssociationRights, CosemObject] | None:
        rights = self._rights.get(ctx.client_sap)
        if rights is None:
            return None
        if logical_name == CURRENT_ASSOCIATION_LN and class_id == 15:
            logical_name = rights.association
        obj = self._objects.get(logical_name)
        if obj is None or obj.class_id != class_id or not rights.sees(obj):
            return None
        return rights, obj

    def attribute_access(
        self, ctx: RequestContext, descriptor: CosemAttributeDescriptor
    ) -> AttributeAccessMode | None:
        found = self._find(ctx, descriptor.class_id, descriptor.instance_id)
        if found is None:
            return None
        rights, obj = found
        if not obj.has_attribute(descriptor.attribute_id):
            return None
        return rights.attribute_mode(obj, descriptor.attribute_id)

    def method_access(
        self, ctx: RequestContext, descriptor: CosemMethodDescriptor
    ) -> MethodAccessMode | None:
        found = self._find(ctx, descriptor.class_id, descriptor.instance_id)
        if found is None:
            return None
        rights, obj = found
        if obj.definition.method(descriptor.method_id) is None and not obj.has_method(
            descriptor.method_id
        ):
            return None
        return rights.method_mode(obj, descriptor.method_id)

    def get(
        self,
        ctx: RequestContext,
        descriptor: CosemAttributeDescriptor,
        selective_access: SelectiveAccess | None,
    ) -> Data | DataAccessResult:
        found = self._find(ctx, descriptor.class_id, descriptor.instance_id)
        if found is None:
            return DataAccessResult.OBJECT_UNDEFINED
        try:
            return found[1].get_attribute(ctx, descriptor.attribute_id, selective_access)
        except Exception:
            return DataAccessResult.HARDWARE_FAULT

    def set(
        self,
        ctx: RequestContext,
        descriptor: CosemAttributeDescriptor,
        selective_access: SelectiveAccess | None,
        value: Data,
    ) -> DataAccessResult:
        found = self._find(ctx, descriptor.class_id, descriptor.instance_id)
        if found is None:
            return DataAccessResult.OBJECT_UNDEFINED
        try:
            return found[1].set_attribute(ctx, descriptor.attribute_id, value, selective_access)
        except Exception:
            return DataAccessResult.HARDWARE_FAULT

    def action(
        self, ctx: RequestContext, descriptor: CosemMethodDescriptor, parameters: Data | None
    ) -> tuple[ActionResult, Data | None]:
        found = self._find(ctx, descriptor.class_id, descriptor.instance_id)
        if found is None:
            return ActionResult.OBJECT_UNDEFINED, None
        try:
            return found[1].invoke(ctx, descriptor.method_id, parameters)
        except Exception:
            return ActionResult.HARDWARE_FAULT, None
