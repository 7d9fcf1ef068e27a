"""Server-side COSEM objects: the base every interface class implementation builds on.

A :class:`CosemObject` is one instance of an interface class (Blue Book 4.1): a logical
name, a class id and version (taken from the class definitions in this package), stored
attribute values or functions computing them, and method implementations. It answers
GET/SET/ACTION for one attribute or method and never raises on a request: wrong types
become ``type-unmatched``, failing hooks ``hardware-fault`` or ``other-reason``.
Access rights are not its business: the object tree decides them per association.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeAlias

from dlmskit.apdu import (
    ActionResult,
    ApplicationContextName,
    Conformance,
    DataAccessResult,
    MechanismName,
    SelectiveAccess,
)
from dlmskit.association import RequestContext
from dlmskit.axdr import Array, Data, OctetString
from dlmskit.cosem._capture import CaptureObject
from dlmskit.cosem._classdefs import interface_class
from dlmskit.cosem._classes import AttributeDef, InterfaceClass
from dlmskit.errors import DlmsError, ServiceError
from obis import ObisCode, ObisLike, as_obis

if TYPE_CHECKING:
    from dlmskit.cosem._model_tree import CosemObjectTree

__all__ = [
    "AttributeGetter",
    "AttributeSetter",
    "CosemObject",
    "MethodImplementation",
    "capture_objects_value",
    "local_context",
    "method_failed",
]

#: Computes an attribute's value on each GET (selective access passed through).
AttributeGetter: TypeAlias = Callable[
    [RequestContext, SelectiveAccess | None], "Data | DataAccessResult"
]
#: Takes a written value that already has the attribute's type; returns the result.
AttributeSetter: TypeAlias = Callable[[RequestContext, Data], DataAccessResult]
#: A method: parameters in, return parameters out; raise :func:`method_failed` to refuse.
MethodImplementation: TypeAlias = Callable[[RequestContext, "Data | None"], "Data | None"]


def method_failed(result: ActionResult | DataAccessResult, message: str = "") -> ServiceError:
    """The error a method implementation raises to answer with ``result``."""
    return ServiceError(message or result.name.lower().replace("_", "-"), result=result)


def _action_result(error: BaseException) -> ActionResult:
    if isinstance(error, ServiceError) and isinstance(
        error.result, ActionResult | DataAccessResult
    ):
        return ActionResult(int(error.result))
    if isinstance(error, DlmsError | ValueError | TypeError):
        return ActionResult.OTHER_REASON
    return ActionResult.HARDWARE_FAULT


def _access_result(error: BaseException) -> DataAccessResult:
    if isinstance(error, ServiceError) and isinstance(
        error.result, ActionResult | DataAccessResult
    ):
        return DataAccessResult(int(error.result))
    if isinstance(error, DlmsError | ValueError | TypeError):
        return DataAccessResult.OTHER_REASON
    return DataAccessResult.HARDWARE_FAULT


class CosemObject:
    """One COSEM object of any interface class, storing its attribute values.

    Attributes that have neither a stored value nor a getter are absent: the object list
    shows them as no-access and a GET answers ``object-undefined``. Subclasses add the
    behaviour of their class through :meth:`bind`, :meth:`on_set` and
    :meth:`implement`; a simulator may rebind any attribute to compute it on demand.
    """

    def __init__(
        self,
        logical_name: ObisLike,
        *,
        class_id: int,
        version: int | None = None,
        values: Mapping[int | str, Data] | None = None,
    ) -> None:
        self.logical_name: ObisCode = as_obis(logical_name)
        self.definition: InterfaceClass = interface_class(class_id, version)
        if version is not None and self.definition.version != version:
            raise ValueError(f"class {class_id} version {version} is not described")
        self._values: dict[int, Data] = {}
        self._getters: dict[int, AttributeGetter] = {}
        self._setters: dict[int, AttributeSetter] = {}
        self._methods: dict[int, MethodImplementation] = {}
        self.tree: CosemObjectTree | None = None
        for key, value in (values or {}).items():
            self[key] = value

    # -- identity ------------------------------------------------------------------------

    @property
    def class_id(self) -> int:
        return self.definition.class_id

    @property
    def version(self) -> int:
        return self.definition.version

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.logical_name})"

    # -- local (non-protocol) access -------------------------------------------------------

    def _index(self, key: int | str) -> int:
        if isinstance(key, int):
            return key
        found = self.definition.attribute(key)
        if found is None:
            raise KeyError(f"{self.definition.name} has no attribute {key!r}")
        return found.index

    def __setitem__(self, key: int | str, value: Data) -> None:
        """Store an attribute value as is (local configuration, no type check)."""
        index = self._index(key)
        if index == 1:
            raise KeyError("logical_name is fixed at construction")
        self._getters.pop(index, None)
        self._values[index] = value

    def __getitem__(self, key: int | str) -> Data:
        """The current value of an attribute, computed with no association context."""
        index = self._index(key)
        if index == 1:
            return OctetString(self.logical_name.to_bytes())
        getter = self._getters.get(index)
        if getter is not None:
            value = getter(_LOCAL, None)
            if isinstance(value, DataAccessResult):
                raise KeyError(f"attribute {index} unavailable: {value.name}")
            return value
        return self._values[index]

    def bind(
        self,
        key: int | str,
        getter: AttributeGetter,
        setter: AttributeSetter | None = None,
    ) -> None:
        """Compute attribute ``key`` on each GET (and hand SETs to ``setter``)."""
        index = self._index(key)
        self._values.pop(index, None)
        self._getters[index] = getter
        if setter is not None:
            self._setters[index] = setter

    def on_set(self, key: int | str, setter: AttributeSetter) -> None:
        """Handle SETs of ``key`` (after the type check) instead of storing the value."""
        self._setters[self._index(key)] = setter

    def implement(self, key: int | str, method: MethodImplementation) -> None:
        """Implement method ``key`` (index or standard name)."""
        if isinstance(key, str):
            found = self.definition.method(key)
            if found is None:
                raise KeyError(f"{self.definition.name} has no method {key!r}")
            key = found.index
        self._methods[key] = method

    # -- what exists --------------------------------------------------------------------

    def attribute_ids(self) -> tuple[int, ...]:
        """Indices of the attributes this object holds (1 always)."""
        return tuple(sorted({1, *self._values, *self._getters}))

    def has_attribute(self, index: int) -> bool:
        return index == 1 or index in self._values or index in self._getters

    def method_ids(self) -> tuple[int, ...]:
        """Indices of the implemented methods."""
        return tuple(sorted(self._methods))

    def has_method(self, index: int) -> bool:
        return index in self._methods

    def selective_access_selectors(self, index: int) -> tuple[int, ...]:
        """The access selectors attribute ``index`` supports (none by default)."""
        return ()

    # -- the protocol side ---------------------------------------------------------------

    def get_attribute(
        self, ctx: RequestContext, index: int, selective_access: SelectiveAccess | None
    ) -> Data | DataAccessResult:
        """GET one attribute; never raises."""
        if not self.has_attribute(index):
            return DataAccessResult.OBJECT_UNDEFINED
        if selective_access is not None and (
            selective_access.selector not in self.selective_access_selectors(index)
        ):
            return DataAccessResult.SCOPE_OF_ACCESS_VIOLATED
        if index == 1:
            return OctetString(self.logical_name.to_bytes())
        getter = self._getters.get(index)
        if getter is None:
            return self._values[index]
        try:
            return getter(ctx, selective_access)
        except Exception as error:
            return _access_result(error)

    def set_attribute(
        self,
        ctx: RequestContext,
        index: int,
        value: Data,
        selective_access: SelectiveAccess | None = None,
    ) -> DataAccessResult:
        """SET one attribute after checking its type; never raises."""
        if not self.has_attribute(index):
            return DataAccessResult.OBJECT_UNDEFINED
        if index == 1:
            return DataAccessResult.READ_WRITE_DENIED
        if selective_access is not None:
            return DataAccessResult.SCOPE_OF_ACCESS_VIOLATED
        definition = self.definition.attribute(index)
        if definition is not None and not definition.accepts(value):
            return DataAccessResult.TYPE_UNMATCHED
        setter = self._setters.get(index)
        if setter is None:
            if index in self._getters:
                return DataAccessResult.READ_WRITE_DENIED
            self._values[index] = value
            return DataAccessResult.SUCCESS
        try:
            return setter(ctx, value)
        except Exception as error:
            return _access_result(error)

    def invoke(
        self, ctx: RequestContext, index: int, parameters: Data | None
    ) -> tuple[ActionResult, Data | None]:
        """ACTION on one method after checking the parameter type; never raises."""
        method = self._methods.get(index)
        if method is None:
            return ActionResult.OBJECT_UNDEFINED, None
        definition = self.definition.method(index)
        if definition is not None and definition.parameter is not None and parameters is not None:
            check = AttributeDef(index=1, name="parameter", type=definition.parameter, static=True)
            if not check.accepts(parameters):
                return ActionResult.TYPE_UNMATCHED, None
        try:
            return ActionResult.SUCCESS, method(ctx, parameters)
        except Exception as error:
            return _action_result(error), None

    # -- reading other objects (capture, push) ---------------------------------------------

    def resolve(self, column: CaptureObject, ctx: RequestContext | None = None) -> Data:
        """The value of another object's attribute (or one element of it) in the tree.

        ``data_index`` n > 0 selects the n-th element of an array or structure value.
        Missing objects or attributes read as null-data.
        """
        if self.tree is None:
            return None
        return self.tree.read(column, ctx)


@functools.lru_cache(maxsize=4096)
def capture_objects_value(columns: tuple[CaptureObject, ...]) -> Array:
    """The array of capture_object_definition for ``columns``, shared between objects
    (A-XDR values are immutable; a fleet of meters serves the same lists)."""
    return Array(column.to_data() for column in columns)


def local_context() -> RequestContext:
    """A request context for reads made by the meter itself (captures, pushes)."""
    return _LOCAL


def _make_local() -> RequestContext:
    return RequestContext(
        client_sap=0,
        application_context=ApplicationContextName.LN,
        mechanism=MechanismName.LOWEST,
        conformance=Conformance(0),
    )


_LOCAL = _make_local()
