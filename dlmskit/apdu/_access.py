"""The ACCESS service (Green Book): Access-Request (0xD9) and Access-Response (0xDA).

One request carries a list of GET/SET/ACTION specifications and a parallel list of
data (the values to write, the method parameters, null-data for reads); the response
returns a list of data and a list of per-item results.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Final, TypeAlias

import attrs

from dlmskit.apdu._descriptors import (
    ApduReader,
    CosemAttributeDescriptor,
    CosemMethodDescriptor,
    LongInvokeIdAndPriority,
    SelectiveAccess,
    TaggedApdu,
    read_date_time,
    write_date_time,
)
from dlmskit.apdu._results import ActionResult, DataAccessResult
from dlmskit.axdr import Data, DateTime, encode_into, encode_length

__all__ = [
    "AccessRequest",
    "AccessRequestAction",
    "AccessRequestGet",
    "AccessRequestGetWithSelection",
    "AccessRequestSet",
    "AccessRequestSetWithSelection",
    "AccessRequestSpecification",
    "AccessResponse",
    "AccessResponseAction",
    "AccessResponseGet",
    "AccessResponseSet",
    "AccessResponseSpecification",
]

_DEFAULT_LONG_IIP: Final = LongInvokeIdAndPriority()


@attrs.frozen(kw_only=True)
class AccessRequestGet:
    """access-request-get [1]: read an attribute."""

    CHOICE: ClassVar[int] = 1
    attribute_descriptor: CosemAttributeDescriptor

    def _write(self, out: bytearray) -> None:
        self.attribute_descriptor._write(out)


@attrs.frozen(kw_only=True)
class AccessRequestSet:
    """access-request-set [2]: write an attribute (its value is in the list of data)."""

    CHOICE: ClassVar[int] = 2
    attribute_descriptor: CosemAttributeDescriptor

    def _write(self, out: bytearray) -> None:
        self.attribute_descriptor._write(out)


@attrs.frozen(kw_only=True)
class AccessRequestAction:
    """access-request-action [3]: invoke a method (parameters are in the list of data)."""

    CHOICE: ClassVar[int] = 3
    method_descriptor: CosemMethodDescriptor

    def _write(self, out: bytearray) -> None:
        self.method_descriptor._write(out)


@attrs.frozen(kw_only=True)
class AccessRequestGetWithSelection:
    """access-request-get-with-selection [4]: read with selective access."""

    CHOICE: ClassVar[int] = 4
    attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccess

    def _write(self, out: bytearray) -> None:
        self.attribute_descriptor._write(out)
        self.access_selection._write(out)


@attrs.frozen(kw_only=True)
class AccessRequestSetWithSelection:
    """access-request-set-with-selection [5]: write with selective access."""

    CHOICE: ClassVar[int] = 5
    attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccess

    def _write(self, out: bytearray) -> None:
        self.attribute_descriptor._write(out)
        self.access_selection._write(out)


AccessRequestSpecification: TypeAlias = (
    AccessRequestGet
    | AccessRequestSet
    | AccessRequestAction
    | AccessRequestGetWithSelection
    | AccessRequestSetWithSelection
)


@attrs.frozen(kw_only=True)
class AccessResponseGet:
    """access-response-get [1]: the result of one read (its value is in the list of data)."""

    CHOICE: ClassVar[int] = 1
    result: DataAccessResult


@attrs.frozen(kw_only=True)
class AccessResponseSet:
    """access-response-set [2]: the result of one write."""

    CHOICE: ClassVar[int] = 2
    result: DataAccessResult


@attrs.frozen(kw_only=True)
class AccessResponseAction:
    """access-response-action [3]: the result of one method invocation."""

    CHOICE: ClassVar[int] = 3
    result: ActionResult


AccessResponseSpecification: TypeAlias = (
    AccessResponseGet | AccessResponseSet | AccessResponseAction
)


def _request_specs(
    values: Iterable[AccessRequestSpecification],
) -> tuple[AccessRequestSpecification, ...]:
    return tuple(values)


def _optional_request_specs(
    values: Iterable[AccessRequestSpecification] | None,
) -> tuple[AccessRequestSpecification, ...] | None:
    return None if values is None else tuple(values)


def _response_specs(
    values: Iterable[AccessResponseSpecification],
) -> tuple[AccessResponseSpecification, ...]:
    return tuple(values)


def _values(values: Iterable[Data]) -> tuple[Data, ...]:
    return tuple(values)


def _write_request_specs(out: bytearray, specs: tuple[AccessRequestSpecification, ...]) -> None:
    out += encode_length(len(specs))
    for spec in specs:
        out.append(spec.CHOICE)
        spec._write(out)


def _read_request_spec(r: ApduReader) -> AccessRequestSpecification:
    choice = r.choice("Access-Request-Specification", (1, 2, 3, 4, 5))
    if choice == 3:
        return AccessRequestAction(method_descriptor=CosemMethodDescriptor._read(r))
    descriptor = CosemAttributeDescriptor._read(r)
    if choice == 1:
        return AccessRequestGet(attribute_descriptor=descriptor)
    if choice == 2:
        return AccessRequestSet(attribute_descriptor=descriptor)
    selection = SelectiveAccess._read(r)
    if choice == 4:
        return AccessRequestGetWithSelection(
            attribute_descriptor=descriptor, access_selection=selection
        )
    return AccessRequestSetWithSelection(
        attribute_descriptor=descriptor, access_selection=selection
    )


def _read_request_specs(r: ApduReader) -> list[AccessRequestSpecification]:
    n = r.count("access-request-specification count")
    return [_read_request_spec(r) for _ in range(n)]


def _write_data_list(out: bytearray, values: tuple[Data, ...]) -> None:
    out += encode_length(len(values))
    for value in values:
        encode_into(out, value)


def _read_data_list(r: ApduReader) -> list[Data]:
    n = r.count("list-of-data count")
    return [r.data() for _ in range(n)]


def _read_response_spec(r: ApduReader) -> AccessResponseSpecification:
    choice = r.choice("Access-Response-Specification", (1, 2, 3))
    if choice == 1:
        return AccessResponseGet(result=r.enum(DataAccessResult, "data-access-result"))
    if choice == 2:
        return AccessResponseSet(result=r.enum(DataAccessResult, "data-access-result"))
    return AccessResponseAction(result=r.enum(ActionResult, "action-result"))


@attrs.frozen(kw_only=True)
class AccessRequest(TaggedApdu):
    """Access-Request: long invoke id, optional date-time, specifications and data."""

    TAG = 0xD9

    long_invoke_id_and_priority: LongInvokeIdAndPriority = _DEFAULT_LONG_IIP
    date_time: DateTime | None = None
    specifications: tuple[AccessRequestSpecification, ...] = attrs.field(converter=_request_specs)
    data: tuple[Data, ...] = attrs.field(converter=_values)

    def _write_body(self, out: bytearray) -> None:
        self.long_invoke_id_and_priority._write(out)
        write_date_time(out, self.date_time)
        _write_request_specs(out, self.specifications)
        _write_data_list(out, self.data)

    @classmethod
    def _read_body(cls, r: ApduReader) -> AccessRequest:
        long_iip = LongInvokeIdAndPriority._read(r)
        date_time = read_date_time(r, "date-time")
        specs = _read_request_specs(r)
        return cls(
            long_invoke_id_and_priority=long_iip,
            date_time=date_time,
            specifications=specs,
            data=_read_data_list(r),
        )


@attrs.frozen(kw_only=True)
class AccessResponse(TaggedApdu):
    """Access-Response: data and one result per request item.

    ``request_specifications`` is the OPTIONAL echo of the request's specifications
    (``None`` when not sent).
    """

    TAG = 0xDA

    long_invoke_id_and_priority: LongInvokeIdAndPriority = _DEFAULT_LONG_IIP
    date_time: DateTime | None = None
    request_specifications: tuple[AccessRequestSpecification, ...] | None = attrs.field(
        default=None, converter=_optional_request_specs
    )
    data: tuple[Data, ...] = attrs.field(converter=_values)
    results: tuple[AccessResponseSpecification, ...] = attrs.field(converter=_response_specs)

    def _write_body(self, out: bytearray) -> None:
        self.long_invoke_id_and_priority._write(out)
        write_date_time(out, self.date_time)
        if self.request_specifications is None:
            out.append(0)
        else:
            out.append(1)
            _write_request_specs(out, self.request_specifications)
        _write_data_list(out, self.data)
        out += encode_length(len(self.results))
        for item in self.results:
            out.append(item.CHOICE)
            out.append(item.result)

    @classmethod
    def _read_body(cls, r: ApduReader) -> AccessResponse:
        long_iip = LongInvokeIdAndPriority._read(r)
        date_time = read_date_time(r, "date-time")
        specs = (
            _read_request_specs(r) if r.flag("access-request-specification usage flag") else None
        )
        data = _read_data_list(r)
        n = r.count("access-response-specification count")
        return cls(
            long_invoke_id_and_priority=long_iip,
            date_time=date_time,
            request_specifications=specs,
            data=data,
            results=[_read_response_spec(r) for _ in range(n)],
        )
