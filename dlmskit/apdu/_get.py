"""GET service APDUs: GET-Request (0xC0) and GET-Response (0xC4) in all their forms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import attrs

from dlmskit.apdu._descriptors import (
    ApduReader,
    ChoiceApdu,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    InvokeIdAndPriority,
    SelectiveAccess,
    in_range,
    read_optional_selection,
    write_octet_string,
    write_optional_selection,
)
from dlmskit.apdu._results import (
    DataAccessResult,
    GetDataResult,
    read_get_data_result,
    write_get_data_result,
)
from dlmskit.apdu._shapes import (
    DEFAULT_IIP,
    U32_MAX,
    BlockNumberApdu,
    read_list,
    selection_tuple,
    write_list,
)

__all__ = [
    "GetRequestNext",
    "GetRequestNormal",
    "GetRequestWithList",
    "GetResponseNormal",
    "GetResponseWithDatablock",
    "GetResponseWithList",
]

GET_REQUEST: Final = 0xC0
GET_RESPONSE: Final = 0xC4


def _results(values: Iterable[GetDataResult]) -> tuple[GetDataResult, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class GetRequestNormal(ChoiceApdu):
    """Get-Request-Normal: read one attribute, optionally with selective access."""

    TAG = GET_REQUEST
    CHOICE = 1

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccess | None = None

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        self.attribute_descriptor._write(out)
        write_optional_selection(out, self.access_selection)

    @classmethod
    def _read_body(cls, r: ApduReader) -> GetRequestNormal:
        iip = InvokeIdAndPriority._read(r)
        descriptor = CosemAttributeDescriptor._read(r)
        return cls(
            invoke_id_and_priority=iip,
            attribute_descriptor=descriptor,
            access_selection=read_optional_selection(r),
        )


@attrs.frozen(kw_only=True)
class GetRequestNext(BlockNumberApdu):
    """Get-Request-Next: acknowledge ``block_number`` and ask for the next datablock."""

    TAG = GET_REQUEST
    CHOICE = 2


@attrs.frozen(kw_only=True)
class GetRequestWithList(ChoiceApdu):
    """Get-Request-With-List: read several attributes in one request."""

    TAG = GET_REQUEST
    CHOICE = 3

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    attribute_descriptors: tuple[CosemAttributeDescriptorWithSelection, ...] = attrs.field(
        converter=selection_tuple
    )

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        write_list(out, self.attribute_descriptors, lambda o, item: item._write(o))

    @classmethod
    def _read_body(cls, r: ApduReader) -> GetRequestWithList:
        iip = InvokeIdAndPriority._read(r)
        items = read_list(
            r, "attribute-descriptor-list count", CosemAttributeDescriptorWithSelection._read
        )
        return cls(invoke_id_and_priority=iip, attribute_descriptors=items)


@attrs.frozen(kw_only=True)
class GetResponseNormal(ChoiceApdu):
    """Get-Response-Normal: the attribute value, or a :class:`DataAccessResult`."""

    TAG = GET_RESPONSE
    CHOICE = 1

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    result: GetDataResult

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        write_get_data_result(out, self.result)

    @classmethod
    def _read_body(cls, r: ApduReader) -> GetResponseNormal:
        iip = InvokeIdAndPriority._read(r)
        return cls(invoke_id_and_priority=iip, result=read_get_data_result(r))


@attrs.frozen(kw_only=True)
class GetResponseWithDatablock(ChoiceApdu):
    """Get-Response-With-Datablock (DataBlock-G): raw bytes of one block, or a failure.

    ``result`` is the raw-data of the block, or a :class:`DataAccessResult` when the
    server could not deliver it. The client reassembles the raw-data of all blocks and
    decodes the whole as one Data.
    """

    TAG = GET_RESPONSE
    CHOICE = 2

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    last_block: bool
    block_number: int = attrs.field(validator=in_range(0, U32_MAX))
    result: bytes | DataAccessResult

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        out.append(1 if self.last_block else 0)
        out += self.block_number.to_bytes(4, "big")
        if isinstance(self.result, DataAccessResult):
            out.append(1)
            out.append(self.result)
        else:
            out.append(0)
            write_octet_string(out, self.result)

    @classmethod
    def _read_body(cls, r: ApduReader) -> GetResponseWithDatablock:
        iip = InvokeIdAndPriority._read(r)
        last_block = r.flag("last-block")
        block_number = r.u32("block-number")
        result: bytes | DataAccessResult
        if r.choice("DataBlock-G result", (0, 1)) == 0:
            result = r.octet_string("raw-data")
        else:
            result = r.enum(DataAccessResult, "data-access-result")
        return cls(
            invoke_id_and_priority=iip,
            last_block=last_block,
            block_number=block_number,
            result=result,
        )


@attrs.frozen(kw_only=True)
class GetResponseWithList(ChoiceApdu):
    """Get-Response-With-List: one Get-Data-Result per requested attribute."""

    TAG = GET_RESPONSE
    CHOICE = 3

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    results: tuple[GetDataResult, ...] = attrs.field(converter=_results)

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        write_list(out, self.results, write_get_data_result)

    @classmethod
    def _read_body(cls, r: ApduReader) -> GetResponseWithList:
        iip = InvokeIdAndPriority._read(r)
        results = read_list(r, "result count", read_get_data_result)
        return cls(invoke_id_and_priority=iip, results=results)
