"""Short name referencing on the server: Read, Write and UnconfirmedWrite (IEC 62056-5-3).

Requests name attributes and methods by short name; a :class:`ShortNameMap` turns each
name into a class, logical name and attribute or method, and the request is then served
from the same :class:`ObjectTree` as the LN services:

- Read of an attribute name is a GET; with parameterized-access it is a GET with
  selective access (selector and parameter unchanged).
- Read of a method name invokes the method (parameterized-access carries its
  parameters, the selector is ignored) and returns its return parameters; Write of a
  method name invokes it with the written value as parameters.
- A Read-Response longer than the client's PDU goes out as data-block-results whose
  raw-data is the body of the unblocked Read-Response (after the tag), acknowledged by
  block-number-access; long Read and Write requests arrive as read-/write-data-block-
  access blocks carrying the body of the unblocked request.
- HLS pass 3 is a Read with parameterized-access of Association SN method 8
  (0xFA58, dlms-facts 1.8); f(CtoS) comes back as octet-string data. A Write of 0xFA58
  (how gurux-dlms's client sends pass 3) is checked too and answered with a
  Write-Response, which carries no f(CtoS).
"""

from __future__ import annotations

import attrs

from dlmskit.apdu import (
    ActionResult,
    BlockNumberAccess,
    BlockNumberResult,
    ConfirmedServiceError,
    ConfirmedServiceErrorChoice,
    Conformance,
    DataAccessResult,
    DataBlockResult,
    ParameterizedAccess,
    ReadDataBlockAccess,
    ReadRequest,
    ReadResponse,
    ReadResult,
    SelectiveAccess,
    ServiceHandlingError,
    UnconfirmedWriteRequest,
    VariableAccessSpecification,
    VariableName,
    WriteDataBlockAccess,
    WriteRequest,
    WriteResponse,
    WriteResult,
)
from dlmskit.association._blocks import BlockReassembler, BlockSegmenter, payload_size
from dlmskit.association._endpoint import (
    DEFAULT_MAX_BLOCKS,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_REASSEMBLED_SIZE,
)
from dlmskit.association._objects import ObjectTree
from dlmskit.association._policy import AssociationPolicy
from dlmskit.association._server_base import Refused, ServerBase
from dlmskit.association._short_names import (
    REPLY_TO_HLS_AUTHENTICATION_SN,
    ShortNameKind,
    ShortNameMap,
)
from dlmskit.axdr import Data, OctetString
from dlmskit.errors import DlmsError

__all__ = ["ServerShortNames", "to_data_access_result"]

_READ = ConfirmedServiceErrorChoice.READ
_WRITE = ConfirmedServiceErrorChoice.WRITE
_UNSUPPORTED = ServiceHandlingError.SERVICE_UNSUPPORTED

#: Blocks of an SN transfer are numbered with an Unsigned16.
_MAX_SN_BLOCKS = 0xFFFF


class _SnRefused(Refused):
    """Internal: answer an SN request with a confirmedServiceError (read or write)."""

    def __init__(self, service: ConfirmedServiceErrorChoice, error: ServiceHandlingError) -> None:
        Exception.__init__(self, f"{service.name}/{error.name}")
        self.response = ConfirmedServiceError(service=service, error=error)


@attrs.define
class _SnUpload:
    """A long Read or Write request arriving block by block."""

    is_read: bool
    blocks: BlockReassembler


def to_data_access_result(result: ActionResult) -> DataAccessResult:
    """The data-access-result with the same meaning as an action-result (the codes
    coincide up to 14; a long-action code becomes other-reason)."""
    try:
        return DataAccessResult(int(result)) if int(result) <= 14 else DataAccessResult.OTHER_REASON
    except ValueError:
        return DataAccessResult.OTHER_REASON


def _reassembled_read(body: bytes) -> ReadRequest:
    try:
        return ReadRequest.from_bytes(bytes((ReadRequest.TAG,)) + body)
    except DlmsError:
        raise _SnRefused(_READ, ServiceHandlingError.OTHER) from None


def _reassembled_write(body: bytes) -> WriteRequest:
    try:
        return WriteRequest.from_bytes(bytes((WriteRequest.TAG,)) + body)
    except DlmsError:
        raise _SnRefused(_WRITE, ServiceHandlingError.OTHER) from None


class ServerShortNames(ServerBase):
    """SN services of :class:`ServerAssociation`; ``short_names`` resolves the names."""

    def __init__(
        self,
        policy: AssociationPolicy,
        objects: ObjectTree,
        *,
        short_names: ShortNameMap | None = None,
        max_reassembled_size: int = DEFAULT_MAX_REASSEMBLED_SIZE,
        max_blocks: int = DEFAULT_MAX_BLOCKS,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        super().__init__(
            policy,
            objects,
            max_reassembled_size=max_reassembled_size,
            max_blocks=max_blocks,
            max_depth=max_depth,
        )
        self.short_names = short_names
        self._sn_download: BlockSegmenter | None = None
        self._sn_upload: _SnUpload | None = None

    def _clear(self) -> None:
        self._sn_download = None
        self._sn_upload = None
        super()._clear()

    def _on_sn_pass_3(self, apdu: ReadRequest) -> bool:
        """HLS pass 3 through Association SN; False if ``apdu`` is something else."""
        if len(apdu.variables) != 1:
            return False
        var = apdu.variables[0]
        if not isinstance(var, ParameterizedAccess) or (
            var.variable_name != REPLY_TO_HLS_AUTHENTICATION_SN
        ):
            return False
        value = var.parameter
        answer = self._verify_pass_3(bytes(value) if isinstance(value, OctetString) else None)
        result: ReadResult = (
            DataAccessResult.READ_WRITE_DENIED if answer is None else OctetString(answer)
        )
        self._respond(ReadResponse(results=(result,)).to_bytes())
        if answer is not None:
            self._events.append(self._accepted_event())
        return True

    def _on_sn_pass_3_write(self, apdu: WriteRequest) -> bool:
        """HLS pass 3 sent as a Write of Association SN method 8, as some clients do: the
        server checks f(StoC) alike, but a Write-Response cannot carry f(CtoS), so such
        a client cannot check pass 4."""
        if len(apdu.variables) != 1 or len(apdu.values) != 1:
            return False
        var = apdu.variables[0]
        if not isinstance(var, VariableName) or var.name != REPLY_TO_HLS_AUTHENTICATION_SN:
            return False
        value = apdu.values[0]
        answer = self._verify_pass_3(bytes(value) if isinstance(value, OctetString) else None)
        result = DataAccessResult.READ_WRITE_DENIED if answer is None else DataAccessResult.SUCCESS
        self._respond(WriteResponse(results=(result,)).to_bytes())
        if answer is not None:
            self._events.append(self._accepted_event())
        return True

    def _on_read(self, apdu: ReadRequest, *, nested: bool = False) -> None:
        if Conformance.READ not in self.conformance:
            raise _SnRefused(
                ConfirmedServiceErrorChoice.READ, ServiceHandlingError.SERVICE_UNSUPPORTED
            )
        variables = apdu.variables
        if not nested and len(variables) == 1:
            var = variables[0]
            if isinstance(var, BlockNumberAccess):
                self._next_read_block(var.block_number)
                return
            if isinstance(var, ReadDataBlockAccess):
                whole = self._sn_block(True, var.last_block, var.block_number, var.raw_data)
                if whole is not None:
                    self._on_read(_reassembled_read(whole), nested=True)
                return
        self._sn_download = None
        self._sn_upload = None
        self._check_list(variables, ConfirmedServiceErrorChoice.READ)
        results = tuple(self._read_one(var) for var in variables)
        response = ReadResponse(results=results).to_bytes()
        if self._sent_whole(response, Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ):
            return
        if Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ not in self.conformance:
            raise _SnRefused(ConfirmedServiceErrorChoice.READ, ServiceHandlingError.PDU_SIZE)
        header = ReadResponse(
            results=(DataBlockResult(last_block=False, block_number=1, raw_data=b""),)
        ).to_bytes()
        size = payload_size(self.peer_max_pdu, len(header) - 1 + self._cipher_overhead())
        blocks = BlockSegmenter(response[1:], size)
        if blocks.count > _MAX_SN_BLOCKS:
            raise _SnRefused(ConfirmedServiceErrorChoice.READ, ServiceHandlingError.PDU_SIZE)
        self._sn_download = blocks
        self._send_read_block()

    def _check_list(
        self,
        variables: tuple[VariableAccessSpecification, ...],
        service: ConfirmedServiceErrorChoice,
    ) -> None:
        if not variables or any(
            not isinstance(var, VariableName | ParameterizedAccess) for var in variables
        ):
            raise _SnRefused(service, ServiceHandlingError.OTHER)
        if len(variables) > 1 and Conformance.MULTIPLE_REFERENCES not in self.conformance:
            raise _SnRefused(service, ServiceHandlingError.SERVICE_UNSUPPORTED)

    def _next_read_block(self, acked: int) -> None:
        blocks = self._sn_download
        if blocks is None:
            self._respond(
                ReadResponse(results=(DataAccessResult.NO_LONG_GET_IN_PROGRESS,)).to_bytes()
            )
        elif acked != blocks.sent:
            self._sn_download = None
            self._respond(
                ReadResponse(results=(DataAccessResult.DATA_BLOCK_NUMBER_INVALID,)).to_bytes()
            )
        else:
            self._send_read_block()

    def _send_read_block(self) -> None:
        blocks = self._sn_download
        assert blocks is not None
        number, last, chunk = blocks.next_block()
        if last:
            self._sn_download = None
        block = DataBlockResult(last_block=last, block_number=number, raw_data=chunk)
        self._respond(ReadResponse(results=(block,)).to_bytes())

    def _sn_block(self, is_read: bool, last: bool, number: int, raw: bytes) -> bytes | None:
        """Feed one block of a long Read/Write request; acknowledges it, or answers the
        error itself; the whole request body once the last block is in."""
        service = ConfirmedServiceErrorChoice.READ if is_read else ConfirmedServiceErrorChoice.WRITE
        bit = (
            Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ
            if is_read
            else Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE
        )
        if bit not in self.conformance:
            raise _SnRefused(service, ServiceHandlingError.SERVICE_UNSUPPORTED)
        self._sn_download = None
        upload = self._sn_upload
        if number == 1:
            upload = _SnUpload(
                is_read=is_read,
                blocks=BlockReassembler(
                    max_size=self.max_reassembled_size,
                    max_blocks=min(self.max_blocks, _MAX_SN_BLOCKS),
                ),
            )
        self._sn_upload = upload
        error: DataAccessResult | None = None
        whole: bytes | None = None
        if upload is None or upload.is_read != is_read:
            error = (
                DataAccessResult.NO_LONG_GET_IN_PROGRESS
                if is_read
                else DataAccessResult.NO_LONG_SET_IN_PROGRESS
            )
        else:
            try:
                whole = upload.blocks.add(number, raw, last=last)
            except DlmsError:
                error = DataAccessResult.DATA_BLOCK_NUMBER_INVALID
        if error is not None or whole is not None:
            self._sn_upload = None
        if error is not None:
            response = (
                ReadResponse(results=(error,)) if is_read else WriteResponse(results=(error,))
            )
            self._respond(response.to_bytes())
            return None
        if whole is None:
            ack = BlockNumberResult(block_number=number)
            response = ReadResponse(results=(ack,)) if is_read else WriteResponse(results=(ack,))
            self._respond(response.to_bytes())
        return whole

    def _read_one(self, var: VariableAccessSpecification) -> ReadResult:
        assert isinstance(var, VariableName | ParameterizedAccess)
        parameterized = isinstance(var, ParameterizedAccess)
        name = var.variable_name if isinstance(var, ParameterizedAccess) else var.name
        target = None if self.short_names is None else self.short_names.resolve(name)
        if target is None:
            return DataAccessResult.OBJECT_UNDEFINED
        if parameterized and Conformance.PARAMETERIZED_ACCESS not in self.conformance:
            return DataAccessResult.SCOPE_OF_ACCESS_VIOLATED
        if target.kind is ShortNameKind.ATTRIBUTE:
            access = (
                SelectiveAccess(selector=var.selector, parameters=var.parameter)
                if isinstance(var, ParameterizedAccess)
                else None
            )
            return self._read(target.attribute, access, Conformance.PARAMETERIZED_ACCESS)
        parameters = var.parameter if isinstance(var, ParameterizedAccess) else None
        result, data = self._invoke(target.method, parameters)
        if result != ActionResult.SUCCESS:
            return to_data_access_result(result)
        return data

    def _on_write(self, apdu: WriteRequest, *, nested: bool = False) -> None:
        if Conformance.WRITE not in self.conformance:
            raise _SnRefused(
                ConfirmedServiceErrorChoice.WRITE, ServiceHandlingError.SERVICE_UNSUPPORTED
            )
        variables = apdu.variables
        if not nested and len(variables) == 1 and isinstance(variables[0], WriteDataBlockAccess):
            var = variables[0]
            if len(apdu.values) != 1 or not isinstance(apdu.values[0], OctetString):
                raise _SnRefused(ConfirmedServiceErrorChoice.WRITE, ServiceHandlingError.OTHER)
            whole = self._sn_block(False, var.last_block, var.block_number, bytes(apdu.values[0]))
            if whole is not None:
                self._on_write(_reassembled_write(whole), nested=True)
            return
        self._sn_download = None
        self._sn_upload = None
        self._check_list(variables, ConfirmedServiceErrorChoice.WRITE)
        if len(apdu.values) != len(variables):
            raise _SnRefused(ConfirmedServiceErrorChoice.WRITE, ServiceHandlingError.OTHER)
        results: tuple[WriteResult, ...] = tuple(
            self._write_one(var, value) for var, value in zip(variables, apdu.values, strict=True)
        )
        self._respond(WriteResponse(results=results).to_bytes())

    def _on_unconfirmed_write(self, apdu: UnconfirmedWriteRequest) -> None:
        """Write with no answer at all, not even to an error (Green Book: unconfirmed)."""
        self._sn_download = None
        self._sn_upload = None
        if Conformance.UNCONFIRMED_WRITE not in self.conformance:
            return
        variables = apdu.variables
        if len(apdu.values) != len(variables) or any(
            not isinstance(var, VariableName | ParameterizedAccess) for var in variables
        ):
            return
        for var, value in zip(variables, apdu.values, strict=True):
            self._write_one(var, value)

    def _write_one(self, var: VariableAccessSpecification, value: Data) -> DataAccessResult:
        assert isinstance(var, VariableName | ParameterizedAccess)
        name = var.variable_name if isinstance(var, ParameterizedAccess) else var.name
        target = None if self.short_names is None else self.short_names.resolve(name)
        if target is None:
            return DataAccessResult.OBJECT_UNDEFINED
        if target.kind is ShortNameKind.METHOD:
            result, _ = self._invoke(target.method, value)
            return to_data_access_result(result)
        access = None
        if isinstance(var, ParameterizedAccess):
            access = SelectiveAccess(selector=var.selector, parameters=var.parameter)
        return self._write(target.attribute, access, value, Conformance.PARAMETERIZED_ACCESS)
