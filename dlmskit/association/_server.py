"""The server side of an xDLMS association, sans-IO (Green Book 9.3, IEC 62056-5-3).

:class:`ServerAssociation` answers AARQs from one :class:`AssociationPolicy`, runs HLS
passes 3 and 4, and serves GET/SET/ACTION and ACCESS (LN contexts) or Read/Write/
UnconfirmedWrite (SN contexts, through a short name map) from an :class:`ObjectTree`,
with service block transfer or general block transfer when a response passes the
client's max receive PDU size; it also emits notifications. It never raises on what the
client sends: malformed or forbidden requests get an AARE rejection, a data-access-result,
a confirmedServiceError or an EXCEPTION-Response.

This module holds the dispatch and GET/SET; the other services live in
``_server_action`` (ACTION), ``_server_blocks`` (block transfer state), ``_server_sn``
(short names), ``_server_access`` (ACCESS) and ``_server_base`` (object access,
notifications), stacked in that order under :class:`ServerAssociation`.
"""

from __future__ import annotations

from dlmskit.apdu import (
    AARQ,
    RLRQ,
    AccessRequest,
    ActionRequestNextPblock,
    ActionRequestNormal,
    ActionRequestWithFirstPblock,
    ActionRequestWithList,
    ActionRequestWithListAndFirstPblock,
    ActionRequestWithPblock,
    ApplicationContextName,
    ConfirmedServiceError,
    Conformance,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    DataAccessResult,
    ExceptionResponse,
    GetRequestNext,
    GetRequestNormal,
    GetRequestWithList,
    GetResponseNormal,
    GetResponseWithDatablock,
    GetResponseWithList,
    InvokeIdAndPriority,
    ReadRequest,
    ServiceErrorKind,
    SetRequestNormal,
    SetRequestWithDatablock,
    SetRequestWithFirstDatablock,
    SetRequestWithList,
    SetRequestWithListAndFirstDatablock,
    SetResponseDatablock,
    SetResponseLastDatablock,
    SetResponseLastDatablockWithList,
    SetResponseNormal,
    SetResponseWithList,
    StateError,
    UnconfirmedWriteRequest,
    WriteRequest,
    decode_apdu,
)
from dlmskit.association._blocks import BlockReassembler
from dlmskit.association._endpoint import (
    CIPHERED_TAGS,
    DEDICATED_TAGS,
)
from dlmskit.association._server_action import ServerActions
from dlmskit.association._server_base import Refused
from dlmskit.association._server_blocks import Upload
from dlmskit.association._state import AssociationState
from dlmskit.association._values import (
    CURRENT_ASSOCIATION,
    decode_data,
    decode_data_list,
)
from dlmskit.errors import DlmsError, SecurityError

__all__ = ["ServerAssociation"]

_SN_CONTEXTS = frozenset({ApplicationContextName.SN, ApplicationContextName.SN_CIPHERED})


class ServerAssociation(ServerActions):
    """A server association machine for one client SAP: APDU bytes in, APDU bytes out.

    One instance serves one connection; the policy's security context holds that
    association's counters, so give each connection its own. Limits as for
    :class:`ClientAssociation` bound SET datablocks, ACTION pblocks and GBT reassembly.
    """

    def receive_apdu(self, data: bytes) -> None:
        """Feed one whole APDU from the client; the answer lands in ``data_to_send()``."""
        data = bytes(data)
        self._via_gbt = False
        self._protected = False
        self._dedicated = False
        try:
            self._receive(data)
        except Refused as refused:
            if isinstance(refused.response, ConfirmedServiceError):
                # an SN refusal of a request that was deciphered: protected like it
                self._respond(refused.response.to_bytes())
            else:
                self._out.append(refused.response.to_bytes())
        except SecurityError:
            self._out.append(
                ExceptionResponse(
                    state_error=StateError.SERVICE_NOT_ALLOWED,
                    service_error=ServiceErrorKind.DECIPHERING_ERROR,
                ).to_bytes()
            )
        except Exception:
            # Malformed or unknown APDU, or a fault in the object tree: the client gets
            # an answer, never a crash of the server.
            self._reset_transfer()
            self._out.append(
                ExceptionResponse(
                    state_error=StateError.SERVICE_UNKNOWN,
                    service_error=ServiceErrorKind.OTHER_REASON,
                ).to_bytes()
            )

    def _receive(self, data: bytes) -> None:
        if not data:
            raise Refused(StateError.SERVICE_UNKNOWN, ServiceErrorKind.SERVICE_NOT_SUPPORTED)
        if data[0] == 0xE0:
            if (
                self.state not in (AssociationState.ASSOCIATED, AssociationState.AUTHENTICATING)
                or Conformance.GENERAL_BLOCK_TRANSFER not in self.conformance
            ):
                raise Refused(
                    StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.SERVICE_NOT_SUPPORTED
                )
            try:
                whole = self._receive_gbt(data, expect_new=True)
            except DlmsError:
                self._reset_transfer()
                raise
            if whole is None or not whole:
                return
            data = whole
            self._via_gbt = True
        if data[0] == AARQ.TAG:
            self._on_aarq(data)
            return
        if data[0] == RLRQ.TAG:
            self._on_rlrq(RLRQ.from_bytes(data))
            return
        if self._ciphered and data[0] in CIPHERED_TAGS:
            # the answer is protected like the request: ded- for ded-, glo- for glo-
            dedicated = data[0] in DEDICATED_TAGS
            try:
                data = self._unprotect(data)
            except DlmsError as exc:
                expected = getattr(exc, "expected", None)
                if isinstance(exc, SecurityError) and isinstance(expected, int):
                    # a replayed or stale invocation counter: tell the client which
                    # counter would be accepted (Green Book 9.3.x, D8 01 06 <IC>)
                    raise Refused(
                        StateError.SERVICE_NOT_ALLOWED,
                        ServiceErrorKind.INVOCATION_COUNTER_ERROR,
                        invocation_counter=expected,
                    ) from None
                raise Refused(
                    StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.DECIPHERING_ERROR
                ) from None
            self._protected = True
            self._dedicated = dedicated
        elif self._ciphered and self.state is not AssociationState.IDLE:
            raise Refused(StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.DECIPHERING_ERROR)
        try:
            apdu = decode_apdu(data)
        except DlmsError:
            raise Refused(
                StateError.SERVICE_UNKNOWN, ServiceErrorKind.SERVICE_NOT_SUPPORTED
            ) from None
        sn = self.policy.application_context in _SN_CONTEXTS
        if self.state is AssociationState.AUTHENTICATING:
            if sn and isinstance(apdu, ReadRequest) and self._on_sn_pass_3(apdu):
                return
            if sn and isinstance(apdu, WriteRequest) and self._on_sn_pass_3_write(apdu):
                return
            if (
                not sn
                and isinstance(apdu, ActionRequestNormal)
                and apdu.method_descriptor == CURRENT_ASSOCIATION
            ):
                self._on_hls_pass_3(apdu)
                return
            raise Refused(StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.OPERATION_NOT_POSSIBLE)
        if self.state is not AssociationState.ASSOCIATED:
            raise Refused(StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.OPERATION_NOT_POSSIBLE)
        if sn:
            self._on_sn(apdu)
        elif isinstance(apdu, GetRequestNormal | GetRequestNext | GetRequestWithList):
            self._on_get(apdu)
        elif isinstance(
            apdu,
            SetRequestNormal
            | SetRequestWithFirstDatablock
            | SetRequestWithDatablock
            | SetRequestWithList
            | SetRequestWithListAndFirstDatablock,
        ):
            self._on_set(apdu)
        elif isinstance(
            apdu,
            ActionRequestNormal
            | ActionRequestWithFirstPblock
            | ActionRequestWithPblock
            | ActionRequestNextPblock
            | ActionRequestWithListAndFirstPblock,
        ):
            self._on_action(apdu)
        elif isinstance(apdu, ActionRequestWithList):
            self._on_action_with_list(apdu)
        elif isinstance(apdu, AccessRequest):
            self._upload = self._download = None
            self._on_access(apdu)
        else:
            raise Refused(StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.SERVICE_NOT_SUPPORTED)

    def _on_sn(self, apdu: object) -> None:
        if isinstance(apdu, ReadRequest):
            self._on_read(apdu)
        elif isinstance(apdu, WriteRequest):
            self._on_write(apdu)
        elif isinstance(apdu, UnconfirmedWriteRequest):
            self._on_unconfirmed_write(apdu)
        else:
            raise Refused(StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.SERVICE_NOT_SUPPORTED)

    def _on_get(self, apdu: GetRequestNormal | GetRequestNext | GetRequestWithList) -> None:
        self._require(Conformance.GET)
        iip = apdu.invoke_id_and_priority
        if isinstance(apdu, GetRequestNext):
            self._next_block(iip, apdu.block_number, is_get=True)
            return
        self._download = None
        # The datablocks carry what follows "C4 01 iip 00" (the Data) or "C4 03 iip"
        # (the SEQUENCE OF Get-Data-Result) in the unblocked response (Green Book 9.3.x).
        if isinstance(apdu, GetRequestNormal):
            result = self._read(apdu.attribute_descriptor, apdu.access_selection)
            response = GetResponseNormal(invoke_id_and_priority=iip, result=result).to_bytes()
            head = 4
        else:
            self._require(Conformance.MULTIPLE_REFERENCES)
            results = tuple(
                self._read(item.attribute_descriptor, item.access_selection)
                for item in apdu.attribute_descriptors
            )
            response = GetResponseWithList(invoke_id_and_priority=iip, results=results).to_bytes()
            head = 3
        if self._sent_whole(response, Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ):
            return
        self._require(Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ)
        raw = response[head:]
        header = GetResponseWithDatablock(
            invoke_id_and_priority=iip, last_block=False, block_number=1, result=b""
        ).to_bytes()
        self._start_download(iip, raw, len(header) - 1, is_get=True)

    def _on_set(
        self,
        apdu: SetRequestNormal
        | SetRequestWithFirstDatablock
        | SetRequestWithDatablock
        | SetRequestWithList
        | SetRequestWithListAndFirstDatablock,
    ) -> None:
        self._require(Conformance.SET)
        iip = apdu.invoke_id_and_priority
        if isinstance(apdu, SetRequestNormal):
            self._upload = None
            result = self._write(apdu.attribute_descriptor, apdu.access_selection, apdu.value)
            self._respond(SetResponseNormal(invoke_id_and_priority=iip, result=result).to_bytes())
            return
        if isinstance(apdu, SetRequestWithList):
            self._upload = None
            self._require(Conformance.MULTIPLE_REFERENCES)
            if len(apdu.values) != len(apdu.attribute_descriptors):
                raise Refused(StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.OTHER_REASON)
            results = tuple(
                self._write(item.attribute_descriptor, item.access_selection, value)
                for item, value in zip(apdu.attribute_descriptors, apdu.values, strict=True)
            )
            self._respond(
                SetResponseWithList(invoke_id_and_priority=iip, results=results).to_bytes()
            )
            return
        self._require(Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE)
        blocks = BlockReassembler(max_size=self.max_reassembled_size, max_blocks=self.max_blocks)
        if isinstance(apdu, SetRequestWithFirstDatablock):
            self._upload = Upload(
                invoke_id=iip.invoke_id,
                descriptor=apdu.attribute_descriptor,
                access=apdu.access_selection,
                blocks=blocks,
            )
        elif isinstance(apdu, SetRequestWithListAndFirstDatablock):
            self._require(Conformance.MULTIPLE_REFERENCES)
            self._upload = Upload(
                invoke_id=iip.invoke_id,
                descriptor=apdu.attribute_descriptors,
                access=None,
                blocks=blocks,
            )
        whole = self._add_block(iip, apdu.block_number, apdu.raw_data, apdu.last_block, is_set=True)
        if whole is None:
            if self._upload is None:
                return
            self._respond(
                SetResponseDatablock(
                    invoke_id_and_priority=iip, block_number=apdu.block_number
                ).to_bytes()
            )
            return
        upload, self._upload = self._upload, None
        assert upload is not None and not isinstance(upload.descriptor, CosemMethodDescriptor)
        if isinstance(upload.descriptor, tuple):
            items = tuple(
                d for d in upload.descriptor if isinstance(d, CosemAttributeDescriptorWithSelection)
            )
            self._finish_set_list(iip, items, whole, apdu.block_number)
            return
        try:
            value = decode_data(whole, self.max_depth)
        except DlmsError:
            result = DataAccessResult.TYPE_UNMATCHED
        else:
            result = self._write(upload.descriptor, upload.access, value)
        self._respond(
            SetResponseLastDatablock(
                invoke_id_and_priority=iip, result=result, block_number=apdu.block_number
            ).to_bytes()
        )

    def _finish_set_list(
        self,
        iip: InvokeIdAndPriority,
        items: tuple[CosemAttributeDescriptorWithSelection, ...],
        whole: bytes,
        number: int,
    ) -> None:
        try:
            values = decode_data_list(whole, len(items), self.max_depth)
        except DlmsError:
            results = tuple(DataAccessResult.TYPE_UNMATCHED for _ in items)
        else:
            results = tuple(
                self._write(item.attribute_descriptor, item.access_selection, value)
                for item, value in zip(items, values, strict=True)
            )
        self._respond(
            SetResponseLastDatablockWithList(
                invoke_id_and_priority=iip, results=results, block_number=number
            ).to_bytes()
        )
