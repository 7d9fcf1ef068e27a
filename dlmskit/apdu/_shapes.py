"""Body shapes shared by several LN service APDUs (Green Book, GET/SET/ACTION services).

A following block of a long value is ``invoke-id-and-priority`` then a DataBlock-SA; an
acknowledgement of a block is ``invoke-id-and-priority`` then a block-number; lists are an
A-XDR length followed by the elements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Final, Self, TypedDict, TypeVar

import attrs

from dlmskit.apdu._descriptors import (
    ApduReader,
    ChoiceApdu,
    CosemAttributeDescriptorWithSelection,
    InvokeIdAndPriority,
    in_range,
)
from dlmskit.apdu._results import read_datablock_sa, write_datablock_sa
from dlmskit.axdr import Data, encode_length

__all__ = [
    "DEFAULT_IIP",
    "U32_MAX",
    "BlockNumberApdu",
    "DataBlockSaApdu",
    "DataBlockSaFields",
    "data_tuple",
    "read_datablock_fields",
    "read_list",
    "selection_tuple",
    "write_list",
]

_T = TypeVar("_T")
DEFAULT_IIP: Final = InvokeIdAndPriority()
U32_MAX: Final = 0xFFFFFFFF


def data_tuple(values: Iterable[Data]) -> tuple[Data, ...]:
    return tuple(values)


def selection_tuple(
    values: Iterable[CosemAttributeDescriptorWithSelection],
) -> tuple[CosemAttributeDescriptorWithSelection, ...]:
    return tuple(values)


def write_list(
    out: bytearray, items: Sequence[_T], write_one: Callable[[bytearray, _T], None]
) -> None:
    """SEQUENCE OF: the A-XDR element count, then each element."""
    out += encode_length(len(items))
    for item in items:
        write_one(out, item)


def read_list(r: ApduReader, what: str, read_one: Callable[[ApduReader], _T]) -> list[_T]:
    """SEQUENCE OF: the count (checked against the bytes left), then that many elements."""
    n = r.count(what)
    return [read_one(r) for _ in range(n)]


class DataBlockSaFields(TypedDict):
    """DataBlock-SA as the keyword arguments of the APDU classes that end with one."""

    last_block: bool
    block_number: int
    raw_data: bytes


def read_datablock_fields(r: ApduReader) -> DataBlockSaFields:
    last_block, block_number, raw = read_datablock_sa(r)
    return DataBlockSaFields(last_block=last_block, block_number=block_number, raw_data=raw)


@attrs.frozen(kw_only=True)
class DataBlockSaApdu(ChoiceApdu):
    """``invoke-id-and-priority`` then DataBlock-SA (last-block, block-number, raw-data)."""

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    last_block: bool
    block_number: int = attrs.field(validator=in_range(0, U32_MAX))
    raw_data: bytes

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        write_datablock_sa(out, self.last_block, self.block_number, self.raw_data)

    @classmethod
    def _read_body(cls, r: ApduReader) -> Self:
        iip = InvokeIdAndPriority._read(r)
        return cls(invoke_id_and_priority=iip, **read_datablock_fields(r))


@attrs.frozen(kw_only=True)
class BlockNumberApdu(ChoiceApdu):
    """``invoke-id-and-priority`` then a block-number (Unsigned32): a block acknowledged."""

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    block_number: int = attrs.field(validator=in_range(0, U32_MAX))

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        out += self.block_number.to_bytes(4, "big")

    @classmethod
    def _read_body(cls, r: ApduReader) -> Self:
        iip = InvokeIdAndPriority._read(r)
        return cls(invoke_id_and_priority=iip, block_number=r.u32("block-number"))
