"""The server's view of the COSEM object tree, and a small in-memory one.

The server machine does not know interface classes: it asks an :class:`ObjectTree` for
access rights, attribute values and method results, and turns the answers into
GET/SET/ACTION responses (Green Book 9.3; access rights as in the Association LN
object_list, Blue Book 4.4.3: attribute_access_mode / method_access_mode).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Protocol, TypeAlias

import attrs

from dlmskit.apdu import (
    ActionResult,
    ApplicationContextName,
    Conformance,
    CosemAttributeDescriptor,
    CosemMethodDescriptor,
    DataAccessResult,
    MechanismName,
    SelectiveAccess,
)
from dlmskit.axdr import Data
from obis import ObisCode

__all__ = [
    "AttributeAccessMode",
    "AttributeValue",
    "MemoryObjectTree",
    "MethodAccessMode",
    "MethodHandler",
    "ObjectTree",
    "RequestContext",
]


class AttributeAccessMode(enum.IntEnum):
    """Blue Book attribute_access_mode (Association LN object_list)."""

    NO_ACCESS = 0
    READ_ONLY = 1
    WRITE_ONLY = 2
    READ_AND_WRITE = 3
    AUTHENTICATED_READ_ONLY = 4
    AUTHENTICATED_WRITE_ONLY = 5
    AUTHENTICATED_READ_AND_WRITE = 6

    def allows_read(self, *, authenticated: bool) -> bool:
        """Whether a GET is allowed; the authenticated modes need an authenticated APDU."""
        if self in (AttributeAccessMode.READ_ONLY, AttributeAccessMode.READ_AND_WRITE):
            return True
        return authenticated and self in (
            AttributeAccessMode.AUTHENTICATED_READ_ONLY,
            AttributeAccessMode.AUTHENTICATED_READ_AND_WRITE,
        )

    def allows_write(self, *, authenticated: bool) -> bool:
        """Whether a SET is allowed; the authenticated modes need an authenticated APDU."""
        if self in (AttributeAccessMode.WRITE_ONLY, AttributeAccessMode.READ_AND_WRITE):
            return True
        return authenticated and self in (
            AttributeAccessMode.AUTHENTICATED_WRITE_ONLY,
            AttributeAccessMode.AUTHENTICATED_READ_AND_WRITE,
        )


class MethodAccessMode(enum.IntEnum):
    """Blue Book method_access_mode (Association LN object_list)."""

    NO_ACCESS = 0
    ACCESS = 1
    AUTHENTICATED_ACCESS = 2

    def allows(self, *, authenticated: bool) -> bool:
        return self is MethodAccessMode.ACCESS or (
            authenticated and self is MethodAccessMode.AUTHENTICATED_ACCESS
        )


@attrs.frozen(kw_only=True)
class RequestContext:
    """What the object tree may know about the association a request arrived on."""

    client_sap: int
    application_context: ApplicationContextName
    mechanism: MechanismName
    conformance: Conformance
    #: The request arrived in an APDU protected with authentication (SC bit 4).
    authenticated: bool = False


class ObjectTree(Protocol):
    """What the server machine needs from the COSEM objects it serves.

    ``None`` from the access lookups means "no such object or attribute" and becomes
    ``object-undefined``; the value methods are only called once access was granted.
    """

    def attribute_access(
        self, ctx: RequestContext, descriptor: CosemAttributeDescriptor
    ) -> AttributeAccessMode | None: ...

    def method_access(
        self, ctx: RequestContext, descriptor: CosemMethodDescriptor
    ) -> MethodAccessMode | None: ...

    def get(
        self,
        ctx: RequestContext,
        descriptor: CosemAttributeDescriptor,
        selective_access: SelectiveAccess | None,
    ) -> Data | DataAccessResult: ...

    def set(
        self,
        ctx: RequestContext,
        descriptor: CosemAttributeDescriptor,
        selective_access: SelectiveAccess | None,
        value: Data,
    ) -> DataAccessResult: ...

    def action(
        self, ctx: RequestContext, descriptor: CosemMethodDescriptor, parameters: Data | None
    ) -> tuple[ActionResult, Data | None]: ...


#: A stored value, or a function computing it from the request (e.g. a profile buffer
#: that honours selective access).
AttributeValue: TypeAlias = (
    Data | Callable[[RequestContext, SelectiveAccess | None], Data | DataAccessResult]
)
#: A method implementation: parameters in, (result, return parameters) out.
MethodHandler: TypeAlias = Callable[[RequestContext, Data | None], tuple[ActionResult, Data | None]]

_AttrKey: TypeAlias = tuple[int, ObisCode, int]


class MemoryObjectTree:
    """An :class:`ObjectTree` over dictionaries keyed by ``(class_id, obis, index)``.

    Attributes without an entry in ``access`` are read-and-write; methods without one are
    accessible. Meant for tests and small simulators; the COSEM object model builds on
    the same protocol.
    """

    def __init__(
        self,
        values: Mapping[_AttrKey, AttributeValue] | None = None,
        *,
        methods: Mapping[_AttrKey, MethodHandler] | None = None,
        access: Mapping[_AttrKey, AttributeAccessMode] | None = None,
        method_access: Mapping[_AttrKey, MethodAccessMode] | None = None,
    ) -> None:
        self.values: dict[_AttrKey, AttributeValue] = dict(values or {})
        self.methods: dict[_AttrKey, MethodHandler] = dict(methods or {})
        self.access: dict[_AttrKey, AttributeAccessMode] = dict(access or {})
        self.method_modes: dict[_AttrKey, MethodAccessMode] = dict(method_access or {})

    @staticmethod
    def _key(descriptor: CosemAttributeDescriptor | CosemMethodDescriptor) -> _AttrKey:
        if isinstance(descriptor, CosemAttributeDescriptor):
            return (descriptor.class_id, descriptor.instance_id, descriptor.attribute_id)
        return (descriptor.class_id, descriptor.instance_id, descriptor.method_id)

    def attribute_access(
        self, ctx: RequestContext, descriptor: CosemAttributeDescriptor
    ) -> AttributeAccessMode | None:
        key = self._key(descriptor)
        if key not in self.values:
            return None
        return self.access.get(key, AttributeAccessMode.READ_AND_WRITE)

    def method_access(
        self, ctx: RequestContext, descriptor: CosemMethodDescriptor
    ) -> MethodAccessMode | None:
        key = self._key(descriptor)
        if key not in self.methods:
            return None
        return self.method_modes.get(key, MethodAccessMode.ACCESS)

    def get(
        self,
        ctx: RequestContext,
        descriptor: CosemAttributeDescriptor,
        selective_access: SelectiveAccess | None,
    ) -> Data | DataAccessResult:
        value = self.values.get(self._key(descriptor), DataAccessResult.OBJECT_UNDEFINED)
        if callable(value):
            return value(ctx, selective_access)
        return value

    def set(
        self,
        ctx: RequestContext,
        descriptor: CosemAttributeDescriptor,
        selective_access: SelectiveAccess | None,
        value: Data,
    ) -> DataAccessResult:
        key = self._key(descriptor)
        if key not in self.values:
            return DataAccessResult.OBJECT_UNDEFINED
        if callable(self.values[key]):
            return DataAccessResult.READ_WRITE_DENIED
        self.values[key] = value
        return DataAccessResult.SUCCESS

    def action(
        self, ctx: RequestContext, descriptor: CosemMethodDescriptor, parameters: Data | None
    ) -> tuple[ActionResult, Data | None]:
        handler = self.methods.get(self._key(descriptor))
        if handler is None:
            return ActionResult.OBJECT_UNDEFINED, None
        return handler(ctx, parameters)
