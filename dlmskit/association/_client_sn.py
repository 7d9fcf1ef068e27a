"""Short name referencing on the client: Read, Write, UnconfirmedWrite, InformationReport.

In the SN application contexts (2 and 4) the client names attributes and methods by
short name (see :mod:`dlmskit.association._short_names`). Block transfer follows the
server side: a long Read-Response arrives as data-block-results carrying the body of
the unblocked response and is acknowledged with block-number-access; a long Read or
Write request goes out as read-/write-data-block-access blocks carrying the body of the
unblocked request, each acknowledged with a block-number result. HLS pass 3 is a Read
with parameterized-access of Association SN method 8 (dlms-facts 1.8).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from dlmskit.apdu import (
    ActionResult,
    ApplicationContextName,
    BlockNumberAccess,
    BlockNumberResult,
    Conformance,
    DataAccessResult,
    DataBlockResult,
    ParameterizedAccess,
    ReadDataBlockAccess,
    ReadRequest,
    ReadResponse,
    UnconfirmedWriteRequest,
    VariableName,
    WriteDataBlockAccess,
    WriteRequest,
    WriteResponse,
)
from dlmskit.association._blocks import BlockSegmenter
from dlmskit.association._client_acse import ClientAcse, PendingRequest, RequestKind
from dlmskit.association._events import ReadCompleted, WriteCompleted
from dlmskit.association._short_names import REPLY_TO_HLS_AUTHENTICATION_SN
from dlmskit.association._state import AssociationState
from dlmskit.axdr import Data, OctetString
from dlmskit.errors import LocalProtocolError, RemoteProtocolError

__all__ = ["ClientShortNames", "ShortNameRequest"]

#: What a Read or Write names: a short name, or a variable-name / parameterized-access.
ShortNameRequest: TypeAlias = int | VariableName | ParameterizedAccess

_SN_CONTEXTS = frozenset({ApplicationContextName.SN, ApplicationContextName.SN_CIPHERED})
_MAX_SN_BLOCKS = 0xFFFF


def _variable(item: ShortNameRequest) -> VariableName | ParameterizedAccess:
    if isinstance(item, VariableName | ParameterizedAccess):
        return item
    return VariableName(name=item)


class ClientShortNames(ClientAcse):
    """SN services of :class:`ClientAssociation`."""

    @property
    def _sn_context(self) -> bool:
        return self.settings.application_context in _SN_CONTEXTS

    def read(self, variables: Sequence[ShortNameRequest]) -> None:
        """Queue a ReadRequest: one result per variable comes back in :class:`ReadCompleted`.

        More than one variable needs multiple-references; parameterized-access (selective
        access, or a method with parameters) needs parameterized-access.
        """
        specs = self._sn_specs(variables, Conformance.READ, "Read")
        request = PendingRequest(kind=RequestKind.READ, invoke_id=0, count=len(specs))
        apdu = ReadRequest(variables=specs).to_bytes()
        if self._whole(len(apdu), Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ):
            self._start(request, apdu)
            return
        self._require(Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ, "Read longer than the PDU")
        header = ReadRequest(
            variables=(ReadDataBlockAccess(last_block=False, block_number=1, raw_data=b""),)
        ).to_bytes()
        request.upload = self._sn_segmenter(apdu[1:], len(header) - 1)
        self._start(request, self._read_block(request))

    def write(self, items: Sequence[tuple[ShortNameRequest, Data]]) -> None:
        """Queue a WriteRequest: one data-access-result per variable comes back in
        :class:`WriteCompleted`. Writing a method's short name invokes the method."""
        specs = self._sn_specs([name for name, _ in items], Conformance.WRITE, "Write")
        values = tuple(value for _, value in items)
        request = PendingRequest(kind=RequestKind.WRITE, invoke_id=0, count=len(specs))
        apdu = WriteRequest(variables=specs, values=values).to_bytes()
        if self._whole(len(apdu), Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE):
            self._start(request, apdu)
            return
        self._require(Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE, "Write longer than the PDU")
        header = WriteRequest(
            variables=(WriteDataBlockAccess(last_block=False, block_number=1),),
            values=(OctetString(b""),),
        ).to_bytes()
        request.upload = self._sn_segmenter(apdu[1:], len(header) - 1)
        self._start(request, self._write_block(request))

    def unconfirmed_write(self, items: Sequence[tuple[ShortNameRequest, Data]]) -> None:
        """Queue an UnconfirmedWriteRequest; the server answers nothing."""
        specs = self._sn_specs(
            [name for name, _ in items], Conformance.UNCONFIRMED_WRITE, "UnconfirmedWrite"
        )
        apdu = UnconfirmedWriteRequest(
            variables=specs, values=tuple(value for _, value in items)
        ).to_bytes()
        if not self._fits(len(apdu)):
            raise LocalProtocolError(
                f"{len(apdu)}-byte UnconfirmedWrite exceeds the server's "
                f"{self.peer_max_pdu}-byte PDU"
            )
        self._out.append(self._protect(apdu))

    def _sn_specs(
        self, variables: Sequence[ShortNameRequest], bit: Conformance, what: str
    ) -> tuple[VariableName | ParameterizedAccess, ...]:
        if self.state is not AssociationState.ASSOCIATED:
            raise LocalProtocolError(f"{what} needs an established association ({self.state.name})")
        if self._request is not None:
            raise LocalProtocolError(f"{what} while {self._request.kind.value} is awaited")
        if self.settings.application_context not in _SN_CONTEXTS:
            raise LocalProtocolError(f"{what} needs short name referencing")
        self._require(bit, what)
        specs = tuple(_variable(item) for item in variables)
        if not specs:
            raise LocalProtocolError(f"{what} needs at least one variable")
        if len(specs) > 1:
            self._require(Conformance.MULTIPLE_REFERENCES, f"{what} of several variables")
        if any(isinstance(spec, ParameterizedAccess) for spec in specs):
            self._require(Conformance.PARAMETERIZED_ACCESS, "parameterized access")
        return specs

    def _sn_segmenter(self, body: bytes, overhead: int) -> BlockSegmenter:
        upload = self._segmenter(body, overhead)
        if upload.count > _MAX_SN_BLOCKS:
            raise LocalProtocolError(f"{upload.count} blocks exceed the Unsigned16 block number")
        return upload

    def _read_block(self, request: PendingRequest) -> bytes:
        assert request.upload is not None
        number, last, chunk = request.upload.next_block()
        access = ReadDataBlockAccess(last_block=last, block_number=number, raw_data=chunk)
        return ReadRequest(variables=(access,)).to_bytes()

    def _write_block(self, request: PendingRequest) -> bytes:
        assert request.upload is not None
        number, last, chunk = request.upload.next_block()
        return WriteRequest(
            variables=(WriteDataBlockAccess(last_block=last, block_number=number),),
            values=(OctetString(chunk),),
        ).to_bytes()

    def _send_hls_pass_3(self, value: bytes) -> None:
        if self.settings.application_context not in _SN_CONTEXTS:
            super()._send_hls_pass_3(value)
            return
        access = ParameterizedAccess(
            variable_name=REPLY_TO_HLS_AUTHENTICATION_SN, selector=0, parameter=OctetString(value)
        )
        request = PendingRequest(kind=RequestKind.HLS, invoke_id=0)
        self._start(request, ReadRequest(variables=(access,)).to_bytes())

    def _sn_request(self) -> PendingRequest:
        request = self._request
        if request is None or self.state not in (
            AssociationState.ASSOCIATED,
            AssociationState.AUTHENTICATING,
        ):
            raise RemoteProtocolError("SN response with no request outstanding")
        return request

    def _on_read_response(self, apdu: ReadResponse) -> None:
        request = self._sn_request()
        if request.kind not in (RequestKind.READ, RequestKind.HLS):
            raise RemoteProtocolError(f"Read-Response answers a {request.kind.value}")
        results = apdu.results
        first = results[0] if len(results) == 1 else None
        upload = request.upload
        if isinstance(first, BlockNumberResult):
            if upload is None or upload.done or first.block_number != upload.sent:
                raise RemoteProtocolError("Read-Response block-number out of sequence")
            self._emit(self._read_block(request))
            return
        if isinstance(first, DataBlockResult):
            if Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ not in self.conformance:
                raise RemoteProtocolError("data-block-result without block-transfer-with-read")
            if upload is not None and not upload.done:
                raise RemoteProtocolError("data-block-result before the request was whole")
            if request.reassembly is None:
                request.reassembly = self._reassembler()
            whole = request.reassembly.add(
                first.block_number, first.raw_data, last=first.last_block
            )
            if whole is None:
                access = BlockNumberAccess(block_number=first.block_number)
                self._emit(ReadRequest(variables=(access,)).to_bytes())
                return
            results = ReadResponse.from_bytes(b"\x0c" + whole).results
        elif isinstance(first, DataAccessResult) and (
            request.reassembly is not None or (upload is not None and not upload.done)
        ):
            # the server gave up on a block transfer: every variable shares the error
            results = (first,) * request.count
        elif upload is not None and not upload.done:
            raise RemoteProtocolError("Read-Response before the request was whole")
        values: list[Data | DataAccessResult] = []
        for result in results:
            if isinstance(result, DataBlockResult | BlockNumberResult):
                raise RemoteProtocolError("block result inside a Read-Response list")
            values.append(result)
        if len(values) != request.count:
            raise RemoteProtocolError(f"{len(values)} results for {request.count} variables")
        self._request = None
        self._reset_transfer()
        if request.kind is RequestKind.HLS:
            value = values[0]
            if isinstance(value, DataAccessResult):
                self._finish_hls(request, ActionResult.READ_WRITE_DENIED, None)
            else:
                self._finish_hls(request, ActionResult.SUCCESS, value)
            return
        self._events.append(ReadCompleted(results=tuple(values)))

    def _on_write_response(self, apdu: WriteResponse) -> None:
        request = self._sn_request()
        if request.kind is not RequestKind.WRITE:
            raise RemoteProtocolError(f"Write-Response answers a {request.kind.value}")
        results = apdu.results
        first = results[0] if len(results) == 1 else None
        upload = request.upload
        if isinstance(first, BlockNumberResult):
            if upload is None or upload.done or first.block_number != upload.sent:
                raise RemoteProtocolError("Write-Response block-number out of sequence")
            self._emit(self._write_block(request))
            return
        if upload is not None and not upload.done:
            if not isinstance(first, DataAccessResult) or first == DataAccessResult.SUCCESS:
                raise RemoteProtocolError("Write-Response before the request was whole")
            results = (first,) * request.count
        codes: list[DataAccessResult] = []
        for result in results:
            if isinstance(result, BlockNumberResult):
                raise RemoteProtocolError("block-number inside a Write-Response list")
            codes.append(result)
        if len(codes) != request.count:
            raise RemoteProtocolError(f"{len(codes)} results for {request.count} variables")
        self._request = None
        self._reset_transfer()
        self._events.append(WriteCompleted(results=tuple(codes)))
