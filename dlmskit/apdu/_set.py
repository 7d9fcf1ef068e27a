"""SET service APDUs: SET-Request (0xC1, five forms) and SET-Response (0xC5, five forms).

The datablock forms carry DataBlock-SA: the A-XDR encoding of the value(s), cut into
raw-data pieces numbered from 1.
"""

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
    write_optional_selection,
)
from dlmskit.apdu._results import DataAccessResult, write_datablock_sa
from dlmskit.apdu._shapes import (
    DEFAULT_IIP,
    U32_MAX,
    BlockNumberApdu,
    DataBlockSaApdu,
    data_tuple,
    read_datablock_fields,
    read_list,
    selection_tuple,
    write_list,
)
from dlmskit.axdr import Data, encode_into, encode_length

__all__ = [
    "SetRequestNormal",
    "SetRequestWithDatablock",
    "SetRequestWithFirstDatablock",
    "SetRequestWithList",
    "SetRequestWithListAndFirstDatablock",
    "SetResponseDatablock",
    "SetResponseLastDatablock",
    "SetResponseLastDatablockWithList",
    "SetResponseNormal",
    "SetResponseWithList",
]

SET_REQUEST: Final = 0xC1
SET_RESPONSE: Final = 0xC5


def _access_results(values: Iterable[DataAccessResult]) -> tuple[DataAccessResult, ...]:
    return tuple(values)


def _write_selections(
    out: bytearray, items: tuple[CosemAttributeDescriptorWithSelection, ...]
) -> None:
    write_list(out, items, lambda o, item: item._write(o))


def _read_selections(r: ApduReader) -> list[CosemAttributeDescriptorWithSelection]:
    return read_list(
        r, "attribute-descriptor-list count", CosemAttributeDescriptorWithSelection._read
    )


def _write_results(out: bytearray, items: tuple[DataAccessResult, ...]) -> None:
    out += encode_length(len(items))
    out += bytes(items)


def _read_results(r: ApduReader) -> list[DataAccessResult]:
    n = r.count("result count")
    return [r.enum(DataAccessResult, "data-access-result") for _ in range(n)]


@attrs.frozen(kw_only=True)
class SetRequestNormal(ChoiceApdu):
    """Set-Request-Normal: write one attribute value."""

    TAG = SET_REQUEST
    CHOICE = 1

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccess | None = None
    value: Data

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        self.attribute_descriptor._write(out)
        write_optional_selection(out, self.access_selection)
        encode_into(out, self.value)

    @classmethod
    def _read_body(cls, r: ApduReader) -> SetRequestNormal:
        iip = InvokeIdAndPriority._read(r)
        descriptor = CosemAttributeDescriptor._read(r)
        selection = read_optional_selection(r)
        return cls(
            invoke_id_and_priority=iip,
            attribute_descriptor=descriptor,
            access_selection=selection,
            value=r.data(),
        )


@attrs.frozen(kw_only=True)
class SetRequestWithFirstDatablock(ChoiceApdu):
    """Set-Request-With-First-Datablock: the attribute and the first block of its value."""

    TAG = SET_REQUEST
    CHOICE = 2

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccess | None = None
    last_block: bool
    block_number: int = attrs.field(validator=in_range(0, U32_MAX))
    raw_data: bytes

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        self.attribute_descriptor._write(out)
        write_optional_selection(out, self.access_selection)
        write_datablock_sa(out, self.last_block, self.block_number, self.raw_data)

    @classmethod
    def _read_body(cls, r: ApduReader) -> SetRequestWithFirstDatablock:
        iip = InvokeIdAndPriority._read(r)
        descriptor = CosemAttributeDescriptor._read(r)
        selection = read_optional_selection(r)
        return cls(
            invoke_id_and_priority=iip,
            attribute_descriptor=descriptor,
            access_selection=selection,
            **read_datablock_fields(r),
        )


@attrs.frozen(kw_only=True)
class SetRequestWithDatablock(DataBlockSaApdu):
    """Set-Request-With-Datablock: a following block of the value being written."""

    TAG = SET_REQUEST
    CHOICE = 3


@attrs.frozen(kw_only=True)
class SetRequestWithList(ChoiceApdu):
    """Set-Request-With-List: several attributes and their values."""

    TAG = SET_REQUEST
    CHOICE = 4

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    attribute_descriptors: tuple[CosemAttributeDescriptorWithSelection, ...] = attrs.field(
        converter=selection_tuple
    )
    values: tuple[Data, ...] = attrs.field(converter=data_tuple)

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        _write_selections(out, self.attribute_descriptors)
        write_list(out, self.values, encode_into)

    @classmethod
    def _read_body(cls, r: ApduReader) -> SetRequestWithList:
        iip = InvokeIdAndPriority._read(r)
        selections = _read_selections(r)
        return cls(
            invoke_id_and_priority=iip,
            attribute_descriptors=selections,
            values=read_list(r, "value-list count", ApduReader.data),
        )


@attrs.frozen(kw_only=True)
class SetRequestWithListAndFirstDatablock(ChoiceApdu):
    """Set-Request-With-List-And-First-Datablock: several attributes, first value block."""

    TAG = SET_REQUEST
    CHOICE = 5

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    attribute_descriptors: tuple[CosemAttributeDescriptorWithSelection, ...] = attrs.field(
        converter=selection_tuple
    )
    last_block: bool
    block_number: int = attrs.field(validator=in_range(0, U32_MAX))
    raw_data: bytes

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        _write_selections(out, self.attribute_descriptors)
        write_datablock_sa(out, self.last_block, self.block_number, self.raw_data)

    @classmethod
    def _read_body(cls, r: ApduReader) -> SetRequestWithListAndFirstDatablock:
        iip = InvokeIdAndPriority._read(r)
        selections = _read_selections(r)
        return cls(
            invoke_id_and_priority=iip, attribute_descriptors=selections, **read_datablock_fields(r)
        )


@attrs.frozen(kw_only=True)
class SetResponseNormal(ChoiceApdu):
    """Set-Response-Normal: the result of writing one attribute."""

    TAG = SET_RESPONSE
    CHOICE = 1

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    result: DataAccessResult

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        out.append(self.result)

    @classmethod
    def _read_body(cls, r: ApduReader) -> SetResponseNormal:
        iip = InvokeIdAndPriority._read(r)
        return cls(
            invoke_id_and_priority=iip, result=r.enum(DataAccessResult, "data-access-result")
        )


@attrs.frozen(kw_only=True)
class SetResponseDatablock(BlockNumberApdu):
    """Set-Response-Datablock: block ``block_number`` received, send the next."""

    TAG = SET_RESPONSE
    CHOICE = 2


@attrs.frozen(kw_only=True)
class SetResponseLastDatablock(ChoiceApdu):
    """Set-Response-Last-Datablock: the result once the last block arrived."""

    TAG = SET_RESPONSE
    CHOICE = 3

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    result: DataAccessResult
    block_number: int = attrs.field(validator=in_range(0, U32_MAX))

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        out.append(self.result)
        out += self.block_number.to_bytes(4, "big")

    @classmethod
    def _read_body(cls, r: ApduReader) -> SetResponseLastDatablock:
        iip = InvokeIdAndPriority._read(r)
        result = r.enum(DataAccessResult, "data-access-result")
        return cls(invoke_id_and_priority=iip, result=result, block_number=r.u32("block-number"))


@attrs.frozen(kw_only=True)
class SetResponseLastDatablockWithList(ChoiceApdu):
    """Set-Response-Last-Datablock-With-List: one result per attribute, last block number."""

    TAG = SET_RESPONSE
    CHOICE = 4

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    results: tuple[DataAccessResult, ...] = attrs.field(converter=_access_results)
    block_number: int = attrs.field(validator=in_range(0, U32_MAX))

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        _write_results(out, self.results)
        out += self.block_number.to_bytes(4, "big")

    @classmethod
    def _read_body(cls, r: ApduReader) -> SetResponseLastDatablockWithList:
        iip = InvokeIdAndPriority._read(r)
        results = _read_results(r)
        return cls(invoke_id_and_priority=iip, results=results, block_number=r.u32("block-number"))


@attrs.frozen(kw_only=True)
class SetResponseWithList(ChoiceApdu):
    """Set-Response-With-List: one result per attribute written."""

    TAG = SET_RESPONSE
    CHOICE = 5

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    results: tuple[DataAccessResult, ...] = attrs.field(converter=_access_results)

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        _write_results(out, self.results)

    @classmethod
    def _read_body(cls, r: ApduReader) -> SetResponseWithList:
        iip = InvokeIdAndPriority._read(r)
        return cls(invoke_id_and_priority=iip, results=_read_results(r))
