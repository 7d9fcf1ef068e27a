"""Result codes and the result-carrying parts of LN services (IEC 62056-5-3).

Data-Access-Result and Action-Result, the Get-Data-Result CHOICE (data or a
data-access-result) and the DataBlock-SA fields shared by SET and ACTION.
"""

from __future__ import annotations

import enum
from typing import Final, TypeAlias

import attrs

from dlmskit.apdu._descriptors import ABSENT, Absent, ApduReader, write_octet_string
from dlmskit.axdr import Data, encode_into

__all__ = [
    "ActionResponseWithOptionalData",
    "ActionResult",
    "DataAccessResult",
    "GetDataResult",
    "read_datablock_sa",
    "read_get_data_result",
    "write_datablock_sa",
    "write_get_data_result",
]


class DataAccessResult(enum.IntEnum):
    """Data-Access-Result: why an attribute could or could not be read or written."""

    SUCCESS = 0
    HARDWARE_FAULT = 1
    TEMPORARY_FAILURE = 2
    READ_WRITE_DENIED = 3
    OBJECT_UNDEFINED = 4
    OBJECT_CLASS_INCONSISTENT = 9
    OBJECT_UNAVAILABLE = 11
    TYPE_UNMATCHED = 12
    SCOPE_OF_ACCESS_VIOLATED = 13
    DATA_BLOCK_UNAVAILABLE = 14
    LONG_GET_ABORTED = 15
    NO_LONG_GET_IN_PROGRESS = 16
    LONG_SET_ABORTED = 17
    NO_LONG_SET_IN_PROGRESS = 18
    DATA_BLOCK_NUMBER_INVALID = 19
    OTHER_REASON = 250


class ActionResult(enum.IntEnum):
    """Action-Result: the outcome of a method invocation."""

    SUCCESS = 0
    HARDWARE_FAULT = 1
    TEMPORARY_FAILURE = 2
    READ_WRITE_DENIED = 3
    OBJECT_UNDEFINED = 4
    OBJECT_CLASS_INCONSISTENT = 9
    OBJECT_UNAVAILABLE = 11
    TYPE_UNMATCHED = 12
    SCOPE_OF_ACCESS_VIOLATED = 13
    DATA_BLOCK_UNAVAILABLE = 14
    LONG_ACTION_ABORTED = 15
    NO_LONG_ACTION_IN_PROGRESS = 16
    OTHER_REASON = 250


GetDataResult: TypeAlias = Data | DataAccessResult
"""Get-Data-Result ::= CHOICE { data [0] Data, data-access-result [1] Data-Access-Result }."""

_GET_DATA_RESULT_CHOICES: Final = (0, 1)


def write_get_data_result(out: bytearray, result: GetDataResult) -> None:
    if isinstance(result, DataAccessResult):
        out.append(1)
        out.append(result)
    else:
        out.append(0)
        encode_into(out, result)


def read_get_data_result(r: ApduReader) -> GetDataResult:
    if r.choice("Get-Data-Result", _GET_DATA_RESULT_CHOICES) == 0:
        return r.data()
    return r.enum(DataAccessResult, "data-access-result")


def write_datablock_sa(out: bytearray, last_block: bool, block_number: int, raw: bytes) -> None:
    """DataBlock-SA ::= last-block BOOLEAN, block-number Unsigned32, raw-data OCTET STRING."""
    out.append(1 if last_block else 0)
    out += block_number.to_bytes(4, "big")
    write_octet_string(out, raw)


def read_datablock_sa(r: ApduReader) -> tuple[bool, int, bytes]:
    last_block = r.flag("last-block")
    block_number = r.u32("block-number")
    return last_block, block_number, r.octet_string("raw-data")


@attrs.frozen(kw_only=True)
class ActionResponseWithOptionalData:
    """Action-Response-With-Optional-Data: result and optional return-parameters."""

    result: ActionResult
    return_parameters: GetDataResult | Absent = ABSENT

    def _write(self, out: bytearray) -> None:
        out.append(self.result)
        if self.return_parameters is ABSENT:
            out.append(0)
        else:
            out.append(1)
            write_get_data_result(out, self.return_parameters)

    @classmethod
    def _read(cls, r: ApduReader) -> ActionResponseWithOptionalData:
        result = r.enum(ActionResult, "action-result")
        if not r.flag("return-parameters usage flag"):
            return cls(result=result)
        return cls(result=result, return_parameters=read_get_data_result(r))
