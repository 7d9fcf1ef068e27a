"""ACTION service APDUs: ACTION-Request (0xC3, six forms), ACTION-Response (0xC7, four).

Long method parameters and long return values travel as DataBlock-SA "pblocks".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import attrs

from dlmskit.apdu._descriptors import (
    ABSENT,
    Absent,
    ApduReader,
    ChoiceApdu,
    CosemMethodDescriptor,
    InvokeIdAndPriority,
    in_range,
)
from dlmskit.apdu._results import (
    ActionResponseWithOptionalData,
    ActionResult,
    GetDataResult,
    write_datablock_sa,
)
from dlmskit.apdu._shapes import (
    DEFAULT_IIP,
    U32_MAX,
    BlockNumberApdu,
    DataBlockSaApdu,
    data_tuple,
    read_datablock_fields,
    read_list,
    write_list,
)
from dlmskit.axdr import Data, encode_into

__all__ = [
    "ActionRequestNextPblock",
    "ActionRequestNormal",
    "ActionRequestWithFirstPblock",
    "ActionRequestWithList",
    "ActionRequestWithListAndFirstPblock",
    "ActionRequestWithPblock",
    "ActionResponseNextPblock",
    "ActionResponseNormal",
    "ActionResponseWithList",
    "ActionResponseWithPblock",
]

ACTION_REQUEST: Final = 0xC3
ACTION_RESPONSE: Final = 0xC7


def _methods(values: Iterable[CosemMethodDescriptor]) -> tuple[CosemMethodDescriptor, ...]:
    return tuple(values)


def _responses(
    values: Iterable[ActionResponseWithOptionalData],
) -> tuple[ActionResponseWithOptionalData, ...]:
    return tuple(values)


def _write_methods(out: bytearray, items: tuple[CosemMethodDescriptor, ...]) -> None:
    write_list(out, items, lambda o, item: item._write(o))


def _read_methods(r: ApduReader) -> list[CosemMethodDescriptor]:
    return read_list(r, "cosem-method-descriptor-list count", CosemMethodDescriptor._read)


@attrs.frozen(kw_only=True)
class ActionRequestNormal(ChoiceApdu):
    """Action-Request-Normal: invoke one method.

    ``parameters`` is :data:`ABSENT` when no method-invocation-parameters are sent;
    ``None`` sends null-data.
    """

    TAG = ACTION_REQUEST
    CHOICE = 1

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    method_descriptor: CosemMethodDescriptor
    parameters: Data | Absent = ABSENT

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        self.method_descriptor._write(out)
        if self.parameters is ABSENT:
            out.append(0)
        else:
            out.append(1)
            encode_into(out, self.parameters)

    @classmethod
    def _read_body(cls, r: ApduReader) -> ActionRequestNormal:
        iip = InvokeIdAndPriority._read(r)
        method = CosemMethodDescriptor._read(r)
        parameters: Data | Absent = (
            r.data() if r.flag("method-invocation-parameters usage flag") else ABSENT
        )
        return cls(invoke_id_and_priority=iip, method_descriptor=method, parameters=parameters)


@attrs.frozen(kw_only=True)
class ActionRequestNextPblock(BlockNumberApdu):
    """Action-Request-Next-Pblock: block ``block_number`` of the return value received."""

    TAG = ACTION_REQUEST
    CHOICE = 2


@attrs.frozen(kw_only=True)
class ActionRequestWithList(ChoiceApdu):
    """Action-Request-With-List: several methods, one parameter Data each (null-data if none)."""

    TAG = ACTION_REQUEST
    CHOICE = 3

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    method_descriptors: tuple[CosemMethodDescriptor, ...] = attrs.field(converter=_methods)
    parameters: tuple[Data, ...] = attrs.field(converter=data_tuple)

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        _write_methods(out, self.method_descriptors)
        write_list(out, self.parameters, encode_into)

    @classmethod
    def _read_body(cls, r: ApduReader) -> ActionRequestWithList:
        iip = InvokeIdAndPriority._read(r)
        methods = _read_methods(r)
        return cls(
            invoke_id_and_priority=iip,
            method_descriptors=methods,
            parameters=read_list(r, "method-invocation-parameters count", ApduReader.data),
        )


@attrs.frozen(kw_only=True)
class ActionRequestWithFirstPblock(ChoiceApdu):
    """Action-Request-With-First-Pblock: one method and the first block of its parameters."""

    TAG = ACTION_REQUEST
    CHOICE = 4

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    method_descriptor: CosemMethodDescriptor
    last_block: bool
    block_number: int = attrs.field(validator=in_range(0, U32_MAX))
    raw_data: bytes

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        self.method_descriptor._write(out)
        write_datablock_sa(out, self.last_block, self.block_number, self.raw_data)

    @classmethod
    def _read_body(cls, r: ApduReader) -> ActionRequestWithFirstPblock:
        iip = InvokeIdAndPriority._read(r)
        method = CosemMethodDescriptor._read(r)
        return cls(invoke_id_and_priority=iip, method_descriptor=method, **read_datablock_fields(r))


@attrs.frozen(kw_only=True)
class ActionRequestWithListAndFirstPblock(ChoiceApdu):
    """Action-Request-With-List-And-First-Pblock: several methods, first parameter block."""

    TAG = ACTION_REQUEST
    CHOICE = 5

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    method_descriptors: tuple[CosemMethodDescriptor, ...] = attrs.field(converter=_methods)
    last_block: bool
    block_number: int = attrs.field(validator=in_range(0, U32_MAX))
    raw_data: bytes

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        _write_methods(out, self.method_descriptors)
        write_datablock_sa(out, self.last_block, self.block_number, self.raw_data)

    @classmethod
    def _read_body(cls, r: ApduReader) -> ActionRequestWithListAndFirstPblock:
        iip = InvokeIdAndPriority._read(r)
        methods = _read_methods(r)
        return cls(
            invoke_id_and_priority=iip, method_descriptors=methods, **read_datablock_fields(r)
        )


@attrs.frozen(kw_only=True)
class ActionRequestWithPblock(DataBlockSaApdu):
    """Action-Request-With-Pblock: a following block of the method parameters."""

    TAG = ACTION_REQUEST
    CHOICE = 6


@attrs.frozen(kw_only=True)
class ActionResponseNormal(ChoiceApdu):
    """Action-Response-Normal: the action result and optional return parameters.

    ``return_parameters`` is :data:`ABSENT`, a Data value, or a :class:`DataAccessResult`
    (the Get-Data-Result CHOICE).
    """

    TAG = ACTION_RESPONSE
    CHOICE = 1

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    result: ActionResult
    return_parameters: GetDataResult | Absent = ABSENT

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        ActionResponseWithOptionalData(
            result=self.result, return_parameters=self.return_parameters
        )._write(out)

    @classmethod
    def _read_body(cls, r: ApduReader) -> ActionResponseNormal:
        iip = InvokeIdAndPriority._read(r)
        if r.end - r.pos == 1:
            # Some encoders stop after the result when no return parameters follow; read
            # that as absent (re-encoded with the usage flag).
            return cls(invoke_id_and_priority=iip, result=r.enum(ActionResult, "action-result"))
        single = ActionResponseWithOptionalData._read(r)
        return cls(
            invoke_id_and_priority=iip,
            result=single.result,
            return_parameters=single.return_parameters,
        )


@attrs.frozen(kw_only=True)
class ActionResponseWithPblock(DataBlockSaApdu):
    """Action-Response-With-Pblock: one block of a long return value."""

    TAG = ACTION_RESPONSE
    CHOICE = 2


@attrs.frozen(kw_only=True)
class ActionResponseWithList(ChoiceApdu):
    """Action-Response-With-List: one result (with optional return data) per method."""

    TAG = ACTION_RESPONSE
    CHOICE = 3

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_IIP
    responses: tuple[ActionResponseWithOptionalData, ...] = attrs.field(converter=_responses)

    def _write_body(self, out: bytearray) -> None:
        self.invoke_id_and_priority._write(out)
        write_list(out, self.responses, lambda o, item: item._write(o))

    @classmethod
    def _read_body(cls, r: ApduReader) -> ActionResponseWithList:
        iip = InvokeIdAndPriority._read(r)
        responses = read_list(r, "list-of-responses count", ActionResponseWithOptionalData._read)
        return cls(invoke_id_and_priority=iip, responses=responses)


@attrs.frozen(kw_only=True)
class ActionResponseNextPblock(BlockNumberApdu):
    """Action-Response-Next-Pblock: parameter block ``block_number`` received, send the next."""

    TAG = ACTION_RESPONSE
    CHOICE = 4
