"""Short name (SN) referencing services: Read, Write, UnconfirmedWrite, InformationReport.

SN referencing addresses attributes by a 16-bit variable name: the object's base name
plus 8 per attribute after the first (and, for methods, an offset given by the
interface class). The xDLMS ASN.1 types ObjectName as Integer16; the
names are conventionally written as unsigned hex (0xFA00), so dlmskit keeps them as
0..0xFFFF. All six APDUs are A-XDR encoded; Data values use :mod:`dlmskit.axdr`.

A data-access-error carrying ``success`` in a Write-Response is accepted but is not the
canonical form: it decodes to ``DataAccessResult.SUCCESS`` and re-encodes as success [0].
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Final, Self, TypeAlias

import attrs

from dlmskit.apdu._descriptors import (
    ApduReader,
    TaggedApdu,
    in_range,
    read_date_time,
    write_date_time,
    write_octet_string,
)
from dlmskit.apdu._results import DataAccessResult
from dlmskit.axdr import Data, DateTime, encode_into, encode_length
from dlmskit.errors import LocalProtocolError

__all__ = [
    "BlockNumberAccess",
    "BlockNumberResult",
    "DataBlockResult",
    "InformationReportRequest",
    "ParameterizedAccess",
    "ReadDataBlockAccess",
    "ReadRequest",
    "ReadResponse",
    "ReadResult",
    "UnconfirmedWriteRequest",
    "VariableAccessSpecification",
    "VariableName",
    "WriteDataBlockAccess",
    "WriteRequest",
    "WriteResponse",
    "WriteResult",
]

_U16: Final = in_range(0, 0xFFFF)
_U8: Final = in_range(0, 0xFF)


def _u16(out: bytearray, value: int) -> None:
    out += value.to_bytes(2, "big")


@attrs.frozen(kw_only=True)
class VariableName:
    """variable-name [2]: the short name of one attribute."""

    CHOICE: ClassVar[int] = 2

    name: int = attrs.field(validator=_U16)

    def _write(self, out: bytearray) -> None:
        out.append(self.CHOICE)
        _u16(out, self.name)


@attrs.frozen(kw_only=True)
class ParameterizedAccess:
    """parameterized-access [4]: a short name with a selector and its parameter.

    Used for selective access (e.g. profile generic by range/entry) and, with the
    interface class's method offsets, for method invocation through Read.
    """

    CHOICE: ClassVar[int] = 4

    variable_name: int = attrs.field(validator=_U16)
    selector: int = attrs.field(validator=_U8)
    parameter: Data

    def _write(self, out: bytearray) -> None:
        out.append(self.CHOICE)
        _u16(out, self.variable_name)
        out.append(self.selector)
        encode_into(out, self.parameter)


@attrs.frozen(kw_only=True)
class BlockNumberAccess:
    """block-number-access [5]: ask for the next block of a long Read-Response."""

    CHOICE: ClassVar[int] = 5

    block_number: int = attrs.field(validator=_U16)

    def _write(self, out: bytearray) -> None:
        out.append(self.CHOICE)
        _u16(out, self.block_number)


@attrs.frozen(kw_only=True)
class ReadDataBlockAccess:
    """read-data-block-access [6]: a block of a long Read-Request."""

    CHOICE: ClassVar[int] = 6

    last_block: bool
    block_number: int = attrs.field(validator=_U16)
    raw_data: bytes

    def _write(self, out: bytearray) -> None:
        out.append(self.CHOICE)
        out.append(1 if self.last_block else 0)
        _u16(out, self.block_number)
        write_octet_string(out, self.raw_data)


@attrs.frozen(kw_only=True)
class WriteDataBlockAccess:
    """write-data-block-access [7]: announces a block of a long Write-Request.

    The block itself travels as an octet-string in the request's list-of-data.
    """

    CHOICE: ClassVar[int] = 7

    last_block: bool
    block_number: int = attrs.field(validator=_U16)

    def _write(self, out: bytearray) -> None:
        out.append(self.CHOICE)
        out.append(1 if self.last_block else 0)
        _u16(out, self.block_number)


VariableAccessSpecification: TypeAlias = (
    VariableName
    | ParameterizedAccess
    | BlockNumberAccess
    | ReadDataBlockAccess
    | WriteDataBlockAccess
)
"""Variable-Access-Specification CHOICE (detailed-access [3] is not used in DLMS)."""

_VAS_TYPES: Final = (
    VariableName,
    ParameterizedAccess,
    BlockNumberAccess,
    ReadDataBlockAccess,
    WriteDataBlockAccess,
)
_VAS_CHOICES: Final = tuple(cls.CHOICE for cls in _VAS_TYPES)


def _read_vas(r: ApduReader) -> VariableAccessSpecification:
    choice = r.choice("Variable-Access-Specification", _VAS_CHOICES)
    if choice == VariableName.CHOICE:
        return VariableName(name=r.u16("variable-name"))
    if choice == ParameterizedAccess.CHOICE:
        name = r.u16("variable-name")
        selector = r.u8("selector")
        return ParameterizedAccess(variable_name=name, selector=selector, parameter=r.data())
    if choice == BlockNumberAccess.CHOICE:
        return BlockNumberAccess(block_number=r.u16("block-number"))
    last = r.flag("last-block")
    block = r.u16("block-number")
    if choice == ReadDataBlockAccess.CHOICE:
        return ReadDataBlockAccess(
            last_block=last, block_number=block, raw_data=r.octet_string("raw-data")
        )
    return WriteDataBlockAccess(last_block=last, block_number=block)


def _check_vas(
    instance: object,
    attribute: attrs.Attribute[tuple[VariableAccessSpecification, ...]],
    value: tuple[VariableAccessSpecification, ...],
) -> None:
    for item in value:
        if not isinstance(item, _VAS_TYPES):
            raise LocalProtocolError(
                f"{attribute.name} holds {type(item).__name__}, not a Variable-Access-Specification"
            )


def _vas_field() -> tuple[VariableAccessSpecification, ...]:
    return attrs.field(converter=_vas_tuple, validator=_check_vas)


def _vas_tuple(
    items: Iterable[VariableAccessSpecification],
) -> tuple[VariableAccessSpecification, ...]:
    return tuple(items)


def _data_tuple(items: Iterable[Data]) -> tuple[Data, ...]:
    return tuple(items)


def _write_vas_list(out: bytearray, items: tuple[VariableAccessSpecification, ...]) -> None:
    out += encode_length(len(items))
    for item in items:
        item._write(out)


def _read_vas_list(r: ApduReader) -> tuple[VariableAccessSpecification, ...]:
    # Each element takes at least three bytes, so a count can never outrun the input.
    return tuple(_read_vas(r) for _ in range(r.count("list of Variable-Access-Specification")))


def _write_data_list(out: bytearray, values: tuple[Data, ...]) -> None:
    out += encode_length(len(values))
    for value in values:
        encode_into(out, value)


def _read_data_list(r: ApduReader) -> tuple[Data, ...]:
    return tuple(r.data() for _ in range(r.count("list-of-data")))


@attrs.frozen(kw_only=True)
class ReadRequest(TaggedApdu):
    """ReadRequest (0x05): SEQUENCE OF Variable-Access-Specification."""

    TAG: ClassVar[int] = 0x05

    variables: tuple[VariableAccessSpecification, ...] = _vas_field()

    def _write_body(self, out: bytearray) -> None:
        _write_vas_list(out, self.variables)

    @classmethod
    def _read_body(cls, r: ApduReader) -> Self:
        return cls(variables=_read_vas_list(r))


@attrs.frozen(kw_only=True)
class DataBlockResult:
    """data-block-result [2] of a Read-Response: one block of a long response."""

    CHOICE: ClassVar[int] = 2

    last_block: bool
    block_number: int = attrs.field(validator=_U16)
    raw_data: bytes


@attrs.frozen(kw_only=True)
class BlockNumberResult:
    """block-number: Read-Response [3] / Write-Response [2], acknowledging a request block."""

    block_number: int = attrs.field(validator=_U16)


ReadResult: TypeAlias = Data | DataAccessResult | DataBlockResult | BlockNumberResult
"""One Read-Response element: data [0], data-access-error [1], data-block-result [2]
or block-number [3]."""

WriteResult: TypeAlias = DataAccessResult | BlockNumberResult
"""One Write-Response element: success [0] is ``DataAccessResult.SUCCESS``, any other
``DataAccessResult`` is data-access-error [1], and block-number [2]."""


def _read_results(items: Iterable[ReadResult]) -> tuple[ReadResult, ...]:
    return tuple(items)


def _write_results(items: Iterable[WriteResult]) -> tuple[WriteResult, ...]:
    return tuple(items)


def _write_read_result(out: bytearray, result: ReadResult) -> None:
    if isinstance(result, DataAccessResult):
        out += bytes((1, result))
    elif isinstance(result, DataBlockResult):
        out += bytes((2, 1 if result.last_block else 0))
        _u16(out, result.block_number)
        write_octet_string(out, result.raw_data)
    elif isinstance(result, BlockNumberResult):
        out.append(3)
        _u16(out, result.block_number)
    else:
        out.append(0)
        encode_into(out, result)


def _read_read_result(r: ApduReader) -> ReadResult:
    choice = r.choice("Read-Response element", (0, 1, 2, 3))
    if choice == 0:
        return r.data()
    if choice == 1:
        return r.enum(DataAccessResult, "data-access-error")
    if choice == 2:
        last = r.flag("last-block")
        block = r.u16("block-number")
        return DataBlockResult(last_block=last, block_number=block, raw_data=r.octet_string("raw"))
    return BlockNumberResult(block_number=r.u16("block-number"))


@attrs.frozen(kw_only=True)
class ReadResponse(TaggedApdu):
    """ReadResponse (0x0C): one result per requested variable, in order."""

    TAG: ClassVar[int] = 0x0C

    results: tuple[ReadResult, ...] = attrs.field(converter=_read_results)

    def _write_body(self, out: bytearray) -> None:
        out += encode_length(len(self.results))
        for result in self.results:
            _write_read_result(out, result)

    @classmethod
    def _read_body(cls, r: ApduReader) -> Self:
        count = r.count("list of Read-Response elements")
        return cls(results=tuple(_read_read_result(r) for _ in range(count)))


@attrs.frozen(kw_only=True)
class _VariablesAndValues(TaggedApdu):
    """The body of WriteRequest and UnconfirmedWriteRequest: variables, then their values."""

    variables: tuple[VariableAccessSpecification, ...] = _vas_field()
    values: tuple[Data, ...] = attrs.field(converter=_data_tuple)

    def _write_body(self, out: bytearray) -> None:
        _write_vas_list(out, self.variables)
        _write_data_list(out, self.values)

    @classmethod
    def _read_body(cls, r: ApduReader) -> Self:
        variables = _read_vas_list(r)
        return cls(variables=variables, values=_read_data_list(r))


@attrs.frozen(kw_only=True)
class WriteRequest(_VariablesAndValues):
    """WriteRequest (0x06): the variables to write and their values, in order."""

    TAG: ClassVar[int] = 0x06


@attrs.frozen(kw_only=True)
class UnconfirmedWriteRequest(_VariablesAndValues):
    """UnconfirmedWriteRequest (0x16): like WriteRequest, with no response."""

    TAG: ClassVar[int] = 0x16


def _check_write_results(
    instance: object,
    attribute: attrs.Attribute[tuple[WriteResult, ...]],
    value: tuple[WriteResult, ...],
) -> None:
    for item in value:
        if not isinstance(item, DataAccessResult | BlockNumberResult):
            raise LocalProtocolError(
                f"Write-Response element {item!r} is not a DataAccessResult or BlockNumberResult"
            )


@attrs.frozen(kw_only=True)
class WriteResponse(TaggedApdu):
    """WriteResponse (0x0D): one result per written variable, in order."""

    TAG: ClassVar[int] = 0x0D

    results: tuple[WriteResult, ...] = attrs.field(
        converter=_write_results, validator=_check_write_results
    )

    def _write_body(self, out: bytearray) -> None:
        out += encode_length(len(self.results))
        for result in self.results:
            if isinstance(result, BlockNumberResult):
                out.append(2)
                _u16(out, result.block_number)
            elif result is DataAccessResult.SUCCESS:
                out.append(0)
            else:
                out += bytes((1, result))

    @classmethod
    def _read_body(cls, r: ApduReader) -> Self:
        results: list[WriteResult] = []
        for _ in range(r.count("list of Write-Response elements")):
            choice = r.choice("Write-Response element", (0, 1, 2))
            if choice == 0:
                results.append(DataAccessResult.SUCCESS)
            elif choice == 1:
                results.append(r.enum(DataAccessResult, "data-access-error"))
            else:
                results.append(BlockNumberResult(block_number=r.u16("block-number")))
        return cls(results=tuple(results))


@attrs.frozen(kw_only=True)
class InformationReportRequest(TaggedApdu):
    """InformationReportRequest (0x18): an unsolicited SN report from the server.

    ``current_time`` is sent the way deployed implementations send it: a length octet,
    then a 12-octet COSEM date-time; a zero length means absent.
    """

    TAG: ClassVar[int] = 0x18

    current_time: DateTime | None = None
    variables: tuple[VariableAccessSpecification, ...] = _vas_field()
    values: tuple[Data, ...] = attrs.field(converter=_data_tuple)

    def _write_body(self, out: bytearray) -> None:
        write_date_time(out, self.current_time)
        _write_vas_list(out, self.variables)
        _write_data_list(out, self.values)

    @classmethod
    def _read_body(cls, r: ApduReader) -> Self:
        current_time = read_date_time(r, "current-time")
        variables = _read_vas_list(r)
        return cls(current_time=current_time, variables=variables, values=_read_data_list(r))
