"""The client side of an xDLMS association, sans-IO (Green Book 9.3, IEC 62056-5-3).

:class:`ClientAssociation` turns calls (``associate``, ``get``, ``set``, ``action``,
``access``, ``release``; ``read``, ``write``, ``unconfirmed_write`` with short names)
into APDU bytes and APDU bytes from the server into events. HLS passes 3 and 4,
service-specific block transfer and general block transfer all happen inside it, so
every I/O layer built on it gets them for free. The SN services live in ``_client_sn``
and ACCESS in ``_client_access``.
"""

from __future__ import annotations

from collections.abc import Sequence

from dlmskit.apdu import (
    ABSENT,
    RLRE,
    AccessResponse,
    ActionRequestNextPblock,
    ActionRequestWithList,
    ActionRequestWithListAndFirstPblock,
    ActionRequestWithPblock,
    ActionResponseNextPblock,
    ActionResponseNormal,
    ActionResponseWithList,
    ActionResponseWithPblock,
    ActionResult,
    ApplicationContextName,
    ConfirmedServiceError,
    Conformance,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    DataAccessResult,
    DataNotification,
    EventNotificationRequest,
    ExceptionResponse,
    GetRequestNext,
    GetRequestNormal,
    GetRequestWithList,
    GetResponseNormal,
    GetResponseWithDatablock,
    GetResponseWithList,
    InformationReportRequest,
    InvokeIdAndPriority,
    ReadResponse,
    SelectiveAccess,
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
    WriteResponse,
    decode_apdu,
)
from dlmskit.association._client_access import ClientAccessService
from dlmskit.association._client_acse import PendingRequest, RequestKind
from dlmskit.association._endpoint import (
    CIPHERED_TAGS,
)
from dlmskit.association._events import (
    ActionCompleted,
    ActionWithListCompleted,
    AuthenticationFailed,
    ConfirmedServiceErrorReceived,
    ExceptionReceived,
    GetCompleted,
    InformationReportReceived,
    NotificationReceived,
    SetCompleted,
)
from dlmskit.association._state import AssociationState, Trigger
from dlmskit.association._values import (
    decode_data,
    decode_get_results,
    encode_data,
    encode_data_list,
)
from dlmskit.axdr import Data
from dlmskit.errors import (
    DecodeError,
    DlmsError,
    LocalProtocolError,
    RemoteProtocolError,
    SecurityError,
)

__all__ = ["ClientAssociation"]

#: What a server may send in clear inside a ciphered association: an EXCEPTION-Response
#: (it may be answering an APDU it could not decipher) and the RLRE.
_PLAIN_ALLOWED = frozenset({ExceptionResponse.TAG, RLRE.TAG})


AttributeRequest = CosemAttributeDescriptor | CosemAttributeDescriptorWithSelection


class ClientAssociation(ClientAccessService):
    """A client association machine: calls in, APDU bytes out; APDU bytes in, events out.

    Only one confirmed request is outstanding at a time. ``receive_apdu`` raises only
    :class:`~dlmskit.errors.DlmsError` subclasses; a malformed or out-of-order APDU puts
    the machine in ``ERROR`` for good.

    Limits (constructor arguments): ``max_reassembled_size`` and ``max_blocks`` bound
    every reassembly, service blocks and GBT alike; ``max_depth`` bounds the nesting of
    reassembled values (a single APDU is decoded within the APDU codec's own limit).
    """

    def get(
        self, descriptor: CosemAttributeDescriptor, access: SelectiveAccess | None = None
    ) -> int:
        """Queue GET-Request-Normal; returns the invoke-id the response will carry."""
        self._ready(Conformance.GET, "GET")
        if access is not None:
            self._require(Conformance.SELECTIVE_ACCESS, "selective access")
        iip = self._next_iip()
        apdu = GetRequestNormal(
            invoke_id_and_priority=iip, attribute_descriptor=descriptor, access_selection=access
        ).to_bytes()
        return self._start(PendingRequest(kind=RequestKind.GET, invoke_id=iip.invoke_id), apdu)

    def get_with_list(self, items: Sequence[AttributeRequest]) -> int:
        """Queue GET-Request-With-List (needs multiple-references)."""
        self._ready(Conformance.GET, "GET")
        self._require(Conformance.MULTIPLE_REFERENCES, "GET-Request-With-List")
        selections = tuple(_with_selection(item) for item in items)
        if not selections:
            raise LocalProtocolError("GET-Request-With-List needs at least one attribute")
        if any(s.access_selection is not None for s in selections):
            self._require(Conformance.SELECTIVE_ACCESS, "selective access")
        iip = self._next_iip()
        apdu = GetRequestWithList(
            invoke_id_and_priority=iip, attribute_descriptors=selections
        ).to_bytes()
        request = PendingRequest(
            kind=RequestKind.GET_WITH_LIST, invoke_id=iip.invoke_id, count=len(selections)
        )
        return self._start(request, apdu)

    def set(
        self,
        descriptor: CosemAttributeDescriptor,
        value: Data,
        access: SelectiveAccess | None = None,
    ) -> int:
        """Queue SET-Request-Normal, or datablocks when it exceeds the server's PDU size."""
        self._ready(Conformance.SET, "SET")
        if access is not None:
            self._require(Conformance.SELECTIVE_ACCESS, "selective access")
        iip = self._next_iip()
        request = PendingRequest(kind=RequestKind.SET, invoke_id=iip.invoke_id)
        apdu = SetRequestNormal(
            invoke_id_and_priority=iip,
            attribute_descriptor=descriptor,
            access_selection=access,
            value=value,
        ).to_bytes()
        if self._whole(len(apdu), Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE):
            return self._start(request, apdu)
        self._require(Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE, "SET longer than the PDU")
        header = SetRequestWithFirstDatablock(
            invoke_id_and_priority=iip,
            attribute_descriptor=descriptor,
            access_selection=access,
            last_block=False,
            block_number=1,
            raw_data=b"",
        ).to_bytes()
        upload = self._segmenter(encode_data(value), len(header) - 1)
        number, last, chunk = upload.next_block()
        request.upload = upload
        first = SetRequestWithFirstDatablock(
            invoke_id_and_priority=iip,
            attribute_descriptor=descriptor,
            access_selection=access,
            last_block=last,
            block_number=number,
            raw_data=chunk,
        ).to_bytes()
        return self._start(request, first)

    def set_with_list(self, items: Sequence[tuple[AttributeRequest, Data]]) -> int:
        """Queue SET-Request-With-List (needs multiple-references)."""
        self._ready(Conformance.SET, "SET")
        self._require(Conformance.MULTIPLE_REFERENCES, "SET-Request-With-List")
        if not items:
            raise LocalProtocolError("SET-Request-With-List needs at least one attribute")
        selections = tuple(_with_selection(item) for item, _ in items)
        values = tuple(value for _, value in items)
        iip = self._next_iip()
        apdu = SetRequestWithList(
            invoke_id_and_priority=iip, attribute_descriptors=selections, values=values
        ).to_bytes()
        request = PendingRequest(
            kind=RequestKind.SET_WITH_LIST, invoke_id=iip.invoke_id, count=len(items)
        )
        if self._whole(len(apdu), Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE):
            return self._start(request, apdu)
        self._require(
            Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE,
            "SET-Request-With-List longer than the PDU",
        )

        def first(last: bool, number: int, chunk: bytes) -> bytes:
            return SetRequestWithListAndFirstDatablock(
                invoke_id_and_priority=iip,
                attribute_descriptors=selections,
                last_block=last,
                block_number=number,
                raw_data=chunk,
            ).to_bytes()

        upload = self._segmenter(encode_data_list(values), len(first(False, 1, b"")) - 1)
        request.upload = upload
        number, last, chunk = upload.next_block()
        return self._start(request, first(last, number, chunk))

    def action(self, descriptor: CosemMethodDescriptor, parameters: Data | None = None) -> int:
        """Queue ACTION-Request-Normal, or pblocks when it exceeds the server's PDU size.

        ``parameters=None`` sends no method-invocation-parameters.
        """
        self._ready(Conformance.ACTION, "ACTION")
        iip = self._next_iip()
        return self._start_action(RequestKind.ACTION, iip, descriptor, parameters)

    def action_with_list(self, items: Sequence[tuple[CosemMethodDescriptor, Data]]) -> int:
        """Queue ACTION-Request-With-List (needs multiple-references); one Data per method,
        null-data (``None``) for a method without parameters."""
        self._ready(Conformance.ACTION, "ACTION")
        self._require(Conformance.MULTIPLE_REFERENCES, "ACTION-Request-With-List")
        if not items:
            raise LocalProtocolError("ACTION-Request-With-List needs at least one method")
        iip = self._next_iip()
        methods = tuple(descriptor for descriptor, _ in items)
        values = tuple(value for _, value in items)
        apdu = ActionRequestWithList(
            invoke_id_and_priority=iip, method_descriptors=methods, parameters=values
        ).to_bytes()
        request = PendingRequest(
            kind=RequestKind.ACTION_WITH_LIST, invoke_id=iip.invoke_id, count=len(items)
        )
        if self._whole(len(apdu), Conformance.BLOCK_TRANSFER_WITH_ACTION):
            return self._start(request, apdu)
        self._require(
            Conformance.BLOCK_TRANSFER_WITH_ACTION, "ACTION-Request-With-List longer than the PDU"
        )

        def first(last: bool, number: int, chunk: bytes) -> bytes:
            return ActionRequestWithListAndFirstPblock(
                invoke_id_and_priority=iip,
                method_descriptors=methods,
                last_block=last,
                block_number=number,
                raw_data=chunk,
            ).to_bytes()

        request.upload = self._segmenter(encode_data_list(values), len(first(False, 1, b"")) - 1)
        number, last, chunk = request.upload.next_block()
        return self._start(request, first(last, number, chunk))

    def request_retransmission(self) -> bool:
        """The caller's timer for a GBT transfer expired: re-ask for the missing blocks.

        Returns whether anything was queued (only general block transfer can recover).
        """
        if self.state is AssociationState.ERROR or self._request is None:
            return False
        return self._retransmit_gbt()

    def receive_apdu(self, data: bytes) -> None:
        """Feed one whole APDU from the server (the transport did the framing)."""
        if self.state is AssociationState.ERROR:
            raise RemoteProtocolError("the association is in ERROR; nothing more is accepted")
        try:
            self._receive(bytes(data))
        except DlmsError:
            self._fail()
            raise
        except Exception as exc:
            self._fail()
            raise RemoteProtocolError(f"malformed APDU from the server: {exc!r}") from exc

    def _receive(self, data: bytes) -> None:
        if not data:
            raise RemoteProtocolError("empty APDU")
        if data[0] == 0xE0:
            # with no request outstanding this is a long notification (Green Book: a
            # DATA-NOTIFICATION may travel in general-block-transfer)
            if Conformance.GENERAL_BLOCK_TRANSFER not in self.conformance:
                raise RemoteProtocolError("general-block-transfer without GBT negotiated")
            whole = self._receive_gbt(data, expect_new=False)
            if whole is None:
                return
            data = whole
            if not data:
                raise RemoteProtocolError("general-block-transfer reassembled to an empty APDU")
            if data[:1] == b"\xe0":
                raise RemoteProtocolError("general-block-transfer nested in itself")
        if data[0] == 0x61 and self._discard_stale_aare():
            return
        if self.state is AssociationState.ASSOCIATION_PENDING:
            self._on_aare(data)
            return
        if (
            self.state is AssociationState.RELEASE_PENDING
            and data[0] == RLRE.TAG
            and not self._ciphered
        ):
            # Some servers (gurux-dlms 1.0.203 among them) send an RLRE whose outer
            # length is short; in a plain context the release has happened all the same.
            try:
                rlre: RLRE | None = RLRE.from_bytes(data)
            except DecodeError:
                rlre = None
            self._on_rlre(rlre)
            return
        if self._ciphered and data[0] not in CIPHERED_TAGS and data[0] not in _PLAIN_ALLOWED:
            raise SecurityError(f"unprotected APDU 0x{data[0]:02X} in a ciphered association")
        apdu = decode_apdu(self._unprotect(data))
        if self._discard_stale(apdu):
            return
        # the answers of every session first, by their exact class: the checks below go
        # through the ABC machinery of the APDU classes for every class they pass
        if type(apdu) is GetResponseNormal or type(apdu) is GetResponseWithDatablock:
            self._on_get(apdu, self._match(apdu.invoke_id_and_priority))
            return
        if type(apdu) is ActionResponseNormal:
            self._on_action(apdu, self._match(apdu.invoke_id_and_priority))
            return
        if isinstance(apdu, RLRE):
            self._on_rlre(apdu)
        elif isinstance(apdu, DataNotification | EventNotificationRequest):
            self._events.append(NotificationReceived(notification=apdu))
        elif isinstance(apdu, AccessResponse):
            self._on_access_response(apdu)
        elif isinstance(apdu, InformationReportRequest):
            self._events.append(InformationReportReceived(report=apdu))
        elif isinstance(apdu, ReadResponse):
            self._on_read_response(apdu)
        elif isinstance(apdu, WriteResponse):
            self._on_write_response(apdu)
        elif isinstance(apdu, ExceptionResponse | ConfirmedServiceError):
            self._on_error(apdu)
        elif isinstance(apdu, GetResponseNormal | GetResponseWithDatablock | GetResponseWithList):
            self._on_get(apdu, self._match(apdu.invoke_id_and_priority))
        elif isinstance(
            apdu,
            SetResponseNormal
            | SetResponseDatablock
            | SetResponseLastDatablock
            | SetResponseLastDatablockWithList
            | SetResponseWithList,
        ):
            self._on_set(apdu, self._match(apdu.invoke_id_and_priority))
        elif isinstance(
            apdu, ActionResponseNormal | ActionResponseWithPblock | ActionResponseNextPblock
        ):
            self._on_action(apdu, self._match(apdu.invoke_id_and_priority))
        elif isinstance(apdu, ActionResponseWithList):
            request = self._match(apdu.invoke_id_and_priority)
            upload = request.upload
            if (
                request.kind is not RequestKind.ACTION_WITH_LIST
                or len(apdu.responses) != request.count
                or (upload is not None and not upload.done)
            ):
                raise RemoteProtocolError("ACTION-Response-With-List does not match the request")
            self._finish_action_list(request, apdu)
        else:
            raise RemoteProtocolError(f"unexpected {type(apdu).__name__} from the server")

    def _match(self, iip: InvokeIdAndPriority) -> PendingRequest:
        request = self._request
        if request is None or self.state not in (
            AssociationState.ASSOCIATED,
            AssociationState.AUTHENTICATING,
        ):
            raise RemoteProtocolError("response with no request outstanding")
        if iip.invoke_id != request.invoke_id:
            raise RemoteProtocolError(
                f"response invoke-id {iip.invoke_id}, request invoke-id {request.invoke_id}"
            )
        return request

    def _on_error(self, apdu: ExceptionResponse | ConfirmedServiceError) -> None:
        request = self._request
        if request is None:
            raise RemoteProtocolError(f"{type(apdu).__name__} with no request outstanding")
        self._request = None
        self._reset_transfer()
        if request.kind is RequestKind.HLS:
            self._machine.process(Trigger.HLS_FAILED)
            self._drop_dedicated_key()
            self._events.append(AuthenticationFailed(reason=f"server answered pass 3 with {apdu}"))
        elif isinstance(apdu, ExceptionResponse):
            self._events.append(ExceptionReceived(exception=apdu))
        else:
            self._events.append(ConfirmedServiceErrorReceived(error=apdu))

    def _on_get(
        self,
        apdu: GetResponseNormal | GetResponseWithDatablock | GetResponseWithList,
        request: PendingRequest,
    ) -> None:
        kind = request.kind
        if kind not in (RequestKind.GET, RequestKind.GET_WITH_LIST):
            raise RemoteProtocolError(f"{type(apdu).__name__} answers a {kind.value} request")
        if isinstance(apdu, GetResponseNormal):
            if kind is not RequestKind.GET or request.reassembly is not None:
                raise RemoteProtocolError("GET-Response-Normal out of place")
            self._finish(GetCompleted(invoke_id=request.invoke_id, results=(apdu.result,)))
        elif isinstance(apdu, GetResponseWithList):
            if kind is not RequestKind.GET_WITH_LIST or len(apdu.results) != request.count:
                raise RemoteProtocolError("GET-Response-With-List does not match the request")
            self._finish(GetCompleted(invoke_id=request.invoke_id, results=apdu.results))
        else:
            if Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ not in self.conformance:
                raise RemoteProtocolError("datablock response without block-transfer-with-get")
            if isinstance(apdu.result, DataAccessResult):
                self._finish(GetCompleted(invoke_id=request.invoke_id, results=(apdu.result,)))
                return
            if request.reassembly is None:
                request.reassembly = self._reassembler()
            whole = request.reassembly.add(apdu.block_number, apdu.result, last=apdu.last_block)
            if whole is None:
                iip = InvokeIdAndPriority(
                    invoke_id=request.invoke_id, high_priority=self.settings.high_priority
                )
                self._emit(
                    GetRequestNext(
                        invoke_id_and_priority=iip, block_number=apdu.block_number
                    ).to_bytes()
                )
                return
            if kind is RequestKind.GET:
                results: tuple[Data | DataAccessResult, ...] = (decode_data(whole, self.max_depth),)
            else:
                results = decode_get_results(whole, request.count, self.max_depth)
            self._finish(GetCompleted(invoke_id=request.invoke_id, results=results))

    def _on_set(
        self,
        apdu: SetResponseNormal
        | SetResponseDatablock
        | SetResponseLastDatablock
        | SetResponseLastDatablockWithList
        | SetResponseWithList,
        request: PendingRequest,
    ) -> None:
        if isinstance(apdu, SetResponseWithList):
            if request.kind is not RequestKind.SET_WITH_LIST or len(apdu.results) != request.count:
                raise RemoteProtocolError("SET-Response-With-List does not match the request")
            self._finish(SetCompleted(invoke_id=request.invoke_id, results=apdu.results))
            return
        if isinstance(apdu, SetResponseLastDatablockWithList):
            upload = request.upload
            if (
                request.kind is not RequestKind.SET_WITH_LIST
                or upload is None
                or not upload.done
                or apdu.block_number != upload.sent
                or len(apdu.results) != request.count
            ):
                raise RemoteProtocolError("SET-Response-Last-Datablock-With-List out of place")
            self._finish(SetCompleted(invoke_id=request.invoke_id, results=apdu.results))
            return
        if request.kind is not RequestKind.SET and not (
            request.kind is RequestKind.SET_WITH_LIST and isinstance(apdu, SetResponseDatablock)
        ):
            raise RemoteProtocolError(f"{type(apdu).__name__} answers a {request.kind.value}")
        upload = request.upload
        if isinstance(apdu, SetResponseNormal):
            if upload is not None and not upload.done and apdu.result == DataAccessResult.SUCCESS:
                raise RemoteProtocolError("SET success before the last datablock was sent")
            self._finish(SetCompleted(invoke_id=request.invoke_id, results=(apdu.result,)))
        elif isinstance(apdu, SetResponseDatablock):
            if upload is None or upload.done or apdu.block_number != upload.sent:
                raise RemoteProtocolError("SET-Response-Datablock out of sequence")
            number, last, chunk = upload.next_block()
            self._emit(
                SetRequestWithDatablock(
                    invoke_id_and_priority=self._iip(request),
                    last_block=last,
                    block_number=number,
                    raw_data=chunk,
                ).to_bytes()
            )
        else:
            if upload is None or not upload.done or apdu.block_number != upload.sent:
                raise RemoteProtocolError("SET-Response-Last-Datablock out of sequence")
            self._finish(SetCompleted(invoke_id=request.invoke_id, results=(apdu.result,)))

    def _finish_action_list(self, request: PendingRequest, apdu: ActionResponseWithList) -> None:
        results = tuple(
            (r.result, None if r.return_parameters is ABSENT else r.return_parameters)
            for r in apdu.responses
        )
        self._request = None
        self._reset_transfer()
        self._events.append(ActionWithListCompleted(invoke_id=request.invoke_id, results=results))

    def _on_action(
        self,
        apdu: ActionResponseNormal | ActionResponseWithPblock | ActionResponseNextPblock,
        request: PendingRequest,
    ) -> None:
        if request.kind not in (RequestKind.ACTION, RequestKind.HLS, RequestKind.ACTION_WITH_LIST):
            raise RemoteProtocolError(f"{type(apdu).__name__} answers a {request.kind.value}")
        upload = request.upload
        if isinstance(apdu, ActionResponseNextPblock):
            if upload is None or upload.done or apdu.block_number != upload.sent:
                raise RemoteProtocolError("ACTION-Response-Next-Pblock out of sequence")
            number, last, chunk = upload.next_block()
            self._emit(
                ActionRequestWithPblock(
                    invoke_id_and_priority=self._iip(request),
                    last_block=last,
                    block_number=number,
                    raw_data=chunk,
                ).to_bytes()
            )
            return
        if isinstance(apdu, ActionResponseWithPblock):
            if Conformance.BLOCK_TRANSFER_WITH_ACTION not in self.conformance:
                raise RemoteProtocolError("pblock response without block-transfer-with-action")
            if request.reassembly is None:
                request.reassembly = self._reassembler()
            whole = request.reassembly.add(apdu.block_number, apdu.raw_data, last=apdu.last_block)
            if whole is None:
                self._emit(
                    ActionRequestNextPblock(
                        invoke_id_and_priority=self._iip(request), block_number=apdu.block_number
                    ).to_bytes()
                )
                return
            if request.kind is RequestKind.ACTION_WITH_LIST:
                # the pblocks carried what follows "C7 03 iip" in the unblocked response
                iip = apdu.invoke_id_and_priority
                head = ActionResponseWithList(invoke_id_and_priority=iip, responses=()).to_bytes()
                head = head[:3]
                listed = ActionResponseWithList.from_bytes(head + whole)
                if len(listed.responses) != request.count:
                    raise RemoteProtocolError("pblocked ACTION list does not match the request")
                self._finish_action_list(request, listed)
                return
            result = ActionResult.SUCCESS
            data: Data | DataAccessResult | None = decode_data(whole, self.max_depth)
        else:
            result = apdu.result
            data = None if apdu.return_parameters is ABSENT else apdu.return_parameters
        if request.kind is RequestKind.HLS:
            self._finish_hls(request, result, data)
        elif request.kind is RequestKind.ACTION_WITH_LIST:
            # ACTION-Response-Normal to a list: the server gave up on the pblock transfer
            if result == ActionResult.SUCCESS:
                raise RemoteProtocolError("ACTION-Response-Normal answers an ACTION list")
            self._request = None
            self._reset_transfer()
            self._events.append(
                ActionWithListCompleted(
                    invoke_id=request.invoke_id, results=((result, None),) * request.count
                )
            )
        else:
            self._finish(
                ActionCompleted(invoke_id=request.invoke_id, result=result, return_data=data)
            )

    def _ready(self, bit: Conformance, what: str) -> None:
        if self.state is not AssociationState.ASSOCIATED:
            raise LocalProtocolError(f"{what} needs an established association ({self.state.name})")
        if self._request is not None:
            raise LocalProtocolError(f"{what} while {self._request.kind.value} is awaited")
        if self.settings.application_context not in (
            ApplicationContextName.LN,
            ApplicationContextName.LN_CIPHERED,
        ):
            raise LocalProtocolError("these services need logical-name referencing")
        self._require(bit, what)

    def _finish(self, event: GetCompleted | SetCompleted | ActionCompleted) -> None:
        self._request = None
        self._reset_transfer()
        self._events.append(event)


def _with_selection(item: AttributeRequest) -> CosemAttributeDescriptorWithSelection:
    if isinstance(item, CosemAttributeDescriptorWithSelection):
        return item
    return CosemAttributeDescriptorWithSelection(attribute_descriptor=item)
