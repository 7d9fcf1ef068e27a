"""The client side of an xDLMS association, sans-IO (Green Book 9.3, IEC 62056-5-3).

:class:`ClientAssociation` turns calls (``associate``, ``get``, ``set``, ``action``,
``release``) into APDU bytes and APDU bytes from the server into events. HLS passes 3
and 4, service-specific block transfer and general block transfer all happen inside it,
so every I/O layer built on it gets them for free.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import attrs

from dlmskit.apdu import (
    AARE,
    AARQ,
    ABSENT,
    RLRE,
    RLRQ,
    AcseServiceUserDiagnostic,
    ActionRequestNextPblock,
    ActionRequestNormal,
    ActionRequestWithFirstPblock,
    ActionRequestWithPblock,
    ActionResponseNextPblock,
    ActionResponseNormal,
    ActionResponseWithPblock,
    ActionResult,
    ApplicationContextName,
    AssociationResult,
    AuthenticationValue,
    BerBitString,
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
    InitiateRequest,
    InitiateResponse,
    InvokeIdAndPriority,
    MechanismName,
    ReleaseRequestReason,
    SelectiveAccess,
    SetRequestNormal,
    SetRequestWithDatablock,
    SetRequestWithFirstDatablock,
    SetRequestWithList,
    SetResponseDatablock,
    SetResponseLastDatablock,
    SetResponseNormal,
    SetResponseWithList,
    decode_apdu,
)
from dlmskit.association._blocks import BlockReassembler, BlockSegmenter, payload_size
from dlmskit.association._endpoint import (
    CIPHERED_TAGS,
    DEFAULT_MAX_BLOCKS,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_REASSEMBLED_SIZE,
    Endpoint,
)
from dlmskit.association._events import (
    ActionCompleted,
    AssociationAccepted,
    AssociationRejected,
    AuthenticationFailed,
    ConfirmedServiceErrorReceived,
    ExceptionReceived,
    GetCompleted,
    NotificationReceived,
    Released,
    SetCompleted,
)
from dlmskit.association._policy import ClientSettings, InvokeIdPolicy, is_ciphered
from dlmskit.association._state import AssociationState, Trigger
from dlmskit.association._values import (
    CURRENT_ASSOCIATION,
    decode_data,
    decode_get_results,
    encode_data,
    octet_string_value,
)
from dlmskit.axdr import Data, OctetString
from dlmskit.errors import DlmsError, LocalProtocolError, RemoteProtocolError, SecurityError

__all__ = ["ClientAssociation"]

_ACSE_REQUIREMENTS_AUTHENTICATION = BerBitString.from_bits([True])
#: What a server may send in clear inside a ciphered association: an EXCEPTION-Response
#: (it may be answering an APDU it could not decipher) and the RLRE.
_PLAIN_ALLOWED = frozenset({ExceptionResponse.TAG, RLRE.TAG})


class _Kind(enum.Enum):
    GET = "GET-Response"
    GET_WITH_LIST = "GET-Response-With-List"
    SET = "SET-Response"
    SET_WITH_LIST = "SET-Response-With-List"
    ACTION = "ACTION-Response"
    HLS = "ACTION-Response to reply_to_HLS_authentication (HLS pass 4)"


@attrs.define
class _Request:
    kind: _Kind
    invoke_id: int
    count: int = 1
    reassembly: BlockReassembler | None = None
    upload: BlockSegmenter | None = None


AttributeRequest = CosemAttributeDescriptor | CosemAttributeDescriptorWithSelection


class ClientAssociation(Endpoint):
    """A client association machine: calls in, APDU bytes out; APDU bytes in, events out.

    Only one confirmed request is outstanding at a time. ``receive_apdu`` raises only
    :class:`~dlmskit.errors.DlmsError` subclasses; a malformed or out-of-order APDU puts
    the machine in ``ERROR`` for good.
    """

    def __init__(
        self,
        settings: ClientSettings | None = None,
        *,
        max_reassembled_size: int = DEFAULT_MAX_REASSEMBLED_SIZE,
        max_blocks: int = DEFAULT_MAX_BLOCKS,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        self.settings = settings if settings is not None else ClientSettings()
        super().__init__(
            ciphering=(
                self.settings.security if is_ciphered(self.settings.application_context) else None
            ),
            gbt_window=self.settings.gbt_window,
            max_reassembled_size=max_reassembled_size,
            max_blocks=max_blocks,
            max_depth=max_depth,
        )
        self._invoke_id = self.settings.first_invoke_id
        self._request: _Request | None = None
        self._challenge: bytes | None = None
        self._server_challenge = b""
        self._accepted: AssociationAccepted | None = None
        self.conformance = Conformance(0)

    # -- state -------------------------------------------------------------------------

    @property
    def awaiting(self) -> str | None:
        """What the machine waits for, for the caller's timeout message; None if nothing."""
        state = self.state
        if state is AssociationState.ASSOCIATION_PENDING:
            return "AARE"
        if state is AssociationState.RELEASE_PENDING:
            return "RLRE"
        if self._request is not None:
            return self._request.kind.value
        return None

    @property
    def negotiated(self) -> AssociationAccepted | None:
        """What the AARE granted, once the association is established."""
        return self._accepted if self.state is AssociationState.ASSOCIATED else None

    @property
    def _use_gbt(self) -> bool:
        return (
            self.settings.use_general_block_transfer
            and Conformance.GENERAL_BLOCK_TRANSFER in self.conformance
        )

    # -- association -------------------------------------------------------------------

    def associate(self) -> None:
        """Queue the AARQ (Green Book 9.3.2) built from the settings."""
        s = self.settings
        if self.state is not AssociationState.IDLE:
            raise LocalProtocolError(f"cannot associate in state {self.state.name}")
        initiate = InitiateRequest(
            proposed_dlms_version_number=s.dlms_version,
            proposed_conformance=s.conformance,
            client_max_receive_pdu_size=s.max_receive_pdu_size,
        ).to_bytes()
        auth: AuthenticationValue | None = None
        if s.mechanism == MechanismName.LOW:
            assert s.password is not None
            auth = AuthenticationValue(value=s.password)
        elif s.mechanism >= MechanismName.HIGH:
            assert s.hls is not None
            self._challenge = s.challenge_source()
            auth = AuthenticationValue(value=self._challenge)
        authenticated = s.mechanism != MechanismName.LOWEST
        send_title = self._ciphered or s.mechanism >= MechanismName.HIGH_GMAC
        aarq = AARQ(
            application_context_name=s.application_context,
            calling_ap_title=self._own_title if send_title else None,
            sender_acse_requirements=_ACSE_REQUIREMENTS_AUTHENTICATION if authenticated else None,
            mechanism_name=s.mechanism if authenticated else None,
            calling_authentication_value=auth,
            user_information=self._protect(initiate),
        )
        self._machine.process(Trigger.AARQ)
        self._out.append(aarq.to_bytes())

    def release(self, *, protected: bool = False) -> None:
        """Queue an RLRQ; ``protected`` adds a ciphered InitiateRequest (ciphered contexts)."""
        if self.state is not AssociationState.ASSOCIATED or self._request is not None:
            raise LocalProtocolError(
                f"cannot release in state {self.state.name} with a request outstanding"
                if self._request is not None
                else f"cannot release in state {self.state.name}"
            )
        user: bytes | None = None
        if protected:
            if not self._ciphered:
                raise LocalProtocolError("a protected release needs a ciphered context")
            user = self._protect(
                InitiateRequest(
                    proposed_dlms_version_number=self.settings.dlms_version,
                    proposed_conformance=self.settings.conformance,
                    client_max_receive_pdu_size=self.settings.max_receive_pdu_size,
                ).to_bytes()
            )
        self._machine.process(Trigger.RLRQ)
        self._reset_transfer()
        self._out.append(RLRQ(reason=ReleaseRequestReason.NORMAL, user_information=user).to_bytes())

    def abort(self) -> None:
        """The lower layer is gone: forget the association and anything outstanding."""
        if self.state is not AssociationState.ERROR:
            self._machine.process(Trigger.ABORT)
        self._request = None
        self._reset_transfer()

    # -- services ----------------------------------------------------------------------

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
        return self._start(_Request(kind=_Kind.GET, invoke_id=iip.invoke_id), apdu)

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
        request = _Request(kind=_Kind.GET_WITH_LIST, invoke_id=iip.invoke_id, count=len(selections))
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
        request = _Request(kind=_Kind.SET, invoke_id=iip.invoke_id)
        apdu = SetRequestNormal(
            invoke_id_and_priority=iip,
            attribute_descriptor=descriptor,
            access_selection=access,
            value=value,
        ).to_bytes()
        if self._use_gbt or self._fits(len(apdu)):
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
        iip = self._next_iip()
        apdu = SetRequestWithList(
            invoke_id_and_priority=iip,
            attribute_descriptors=selections,
            values=tuple(value for _, value in items),
        ).to_bytes()
        if not (self._use_gbt or self._fits(len(apdu))):
            raise LocalProtocolError("SET-Request-With-List longer than the server's PDU size")
        request = _Request(kind=_Kind.SET_WITH_LIST, invoke_id=iip.invoke_id, count=len(items))
        return self._start(request, apdu)

    def action(self, descriptor: CosemMethodDescriptor, parameters: Data | None = None) -> int:
        """Queue ACTION-Request-Normal, or pblocks when it exceeds the server's PDU size.

        ``parameters=None`` sends no method-invocation-parameters.
        """
        self._ready(Conformance.ACTION, "ACTION")
        iip = self._next_iip()
        return self._start_action(_Kind.ACTION, iip, descriptor, parameters)

    def request_retransmission(self) -> bool:
        """The caller's timer for a GBT transfer expired: re-ask for the missing blocks.

        Returns whether anything was queued (only general block transfer can recover).
        """
        if self.state is AssociationState.ERROR or self._request is None:
            return False
        return self._retransmit_gbt()

    # -- receiving ---------------------------------------------------------------------

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
            if not self._use_gbt or self._request is None:
                raise RemoteProtocolError("general-block-transfer without a GBT request")
            whole = self._receive_gbt(data, expect_new=False)
            if whole is None:
                return
            data = whole
            if data[:1] == b"\xe0":
                raise RemoteProtocolError("general-block-transfer nested in itself")
        if self.state is AssociationState.ASSOCIATION_PENDING:
            self._on_aare(data)
            return
        if self._ciphered and data[0] not in CIPHERED_TAGS and data[0] not in _PLAIN_ALLOWED:
            raise SecurityError(f"unprotected APDU 0x{data[0]:02X} in a ciphered association")
        apdu = decode_apdu(self._unprotect(data))
        if isinstance(apdu, RLRE):
            self._on_rlre(apdu)
        elif isinstance(apdu, DataNotification | EventNotificationRequest):
            self._events.append(NotificationReceived(notification=apdu))
        elif isinstance(apdu, ExceptionResponse | ConfirmedServiceError):
            self._on_error(apdu)
        elif isinstance(apdu, GetResponseNormal | GetResponseWithDatablock | GetResponseWithList):
            self._on_get(apdu, self._match(apdu.invoke_id_and_priority))
        elif isinstance(
            apdu,
            SetResponseNormal
            | SetResponseDatablock
            | SetResponseLastDatablock
            | SetResponseWithList,
        ):
            self._on_set(apdu, self._match(apdu.invoke_id_and_priority))
        elif isinstance(
            apdu, ActionResponseNormal | ActionResponseWithPblock | ActionResponseNextPblock
        ):
            self._on_action(apdu, self._match(apdu.invoke_id_and_priority))
        else:
            raise RemoteProtocolError(f"unexpected {type(apdu).__name__} from the server")

    def _match(self, iip: InvokeIdAndPriority) -> _Request:
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

    def _on_aare(self, data: bytes) -> None:
        s = self.settings
        aare = AARE.from_bytes(data)
        if aare.application_context_name != s.application_context and (
            aare.result == AssociationResult.ACCEPTED
        ):
            raise RemoteProtocolError(
                f"AARE accepts context {aare.application_context_name.name}, "
                f"{s.application_context.name} was proposed"
            )
        if s.security is not None and aare.responding_ap_title is not None:
            s.security.peer_system_title = aare.responding_ap_title
        user = aare.user_information
        if aare.result != AssociationResult.ACCEPTED:
            error = None
            if user is not None:
                plain = self._unprotect(user)
                if plain[:1] == b"\x0e":
                    error = ConfirmedServiceError.from_bytes(plain)
            self._machine.process(Trigger.AARE_REJECTED)
            self._events.append(
                AssociationRejected(
                    result=aare.result,
                    diagnostic=aare.result_source_diagnostic,
                    initiate_error=error,
                )
            )
            return
        if user is None:
            raise RemoteProtocolError("AARE accepted without an InitiateResponse")
        initiate = InitiateResponse.from_bytes(self._unprotect(user))
        if initiate.server_max_receive_pdu_size and initiate.server_max_receive_pdu_size < 12:
            raise RemoteProtocolError("server max receive PDU size below 12")
        self.peer_max_pdu = initiate.server_max_receive_pdu_size or 0xFFFF
        self.conformance = Conformance(initiate.negotiated_conformance & s.conformance)
        self._accepted = AssociationAccepted(
            application_context=aare.application_context_name,
            mechanism=s.mechanism,
            conformance=self.conformance,
            dlms_version=initiate.negotiated_dlms_version_number,
            client_max_receive_pdu_size=s.max_receive_pdu_size,
            server_max_receive_pdu_size=self.peer_max_pdu,
            client_system_title=self._own_title,
            server_system_title=aare.responding_ap_title,
        )
        required = (
            aare.result_source_diagnostic == AcseServiceUserDiagnostic.AUTHENTICATION_REQUIRED
        )
        if s.mechanism < MechanismName.HIGH:
            if required:
                raise RemoteProtocolError("AARE asks for HLS, but no HLS mechanism was proposed")
            self._machine.process(Trigger.AARE_ACCEPTED)
            self._events.append(self._accepted)
            return
        if not required or aare.responding_authentication_value is None:
            raise RemoteProtocolError("HLS proposed, but the AARE carries no StoC challenge")
        assert s.hls is not None and self._challenge is not None
        self._machine.process(Trigger.AARE_AUTHENTICATION_REQUIRED)
        self._server_challenge = aare.responding_authentication_value.value
        value = s.hls.client_response(s.security, stoc=self._server_challenge, ctos=self._challenge)
        iip = self._next_iip()
        self._start_action(_Kind.HLS, iip, CURRENT_ASSOCIATION, OctetString(value))

    @property
    def _own_title(self) -> bytes | None:
        return None if self.settings.security is None else self.settings.security.system_title

    def _on_rlre(self, apdu: RLRE) -> None:
        if self.state is not AssociationState.RELEASE_PENDING:
            raise RemoteProtocolError(f"RLRE in state {self.state.name}")
        if apdu.user_information is not None:
            self._unprotect(apdu.user_information)
        self._machine.process(Trigger.RLRE)
        self._accepted = None
        self.conformance = Conformance(0)
        self._events.append(Released(reason=apdu.reason))

    def _on_error(self, apdu: ExceptionResponse | ConfirmedServiceError) -> None:
        request = self._request
        if request is None:
            raise RemoteProtocolError(f"{type(apdu).__name__} with no request outstanding")
        self._request = None
        self._reset_transfer()
        if request.kind is _Kind.HLS:
            self._machine.process(Trigger.HLS_FAILED)
            self._events.append(AuthenticationFailed(reason=f"server answered pass 3 with {apdu}"))
        elif isinstance(apdu, ExceptionResponse):
            self._events.append(ExceptionReceived(exception=apdu))
        else:
            self._events.append(ConfirmedServiceErrorReceived(error=apdu))

    def _on_get(
        self,
        apdu: GetResponseNormal | GetResponseWithDatablock | GetResponseWithList,
        request: _Request,
    ) -> None:
        kind = request.kind
        if kind not in (_Kind.GET, _Kind.GET_WITH_LIST):
            raise RemoteProtocolError(f"{type(apdu).__name__} answers a {kind.value} request")
        if isinstance(apdu, GetResponseNormal):
            if kind is not _Kind.GET or request.reassembly is not None:
                raise RemoteProtocolError("GET-Response-Normal out of place")
            self._finish(GetCompleted(invoke_id=request.invoke_id, results=(apdu.result,)))
        elif isinstance(apdu, GetResponseWithList):
            if kind is not _Kind.GET_WITH_LIST or len(apdu.results) != request.count:
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
            if kind is _Kind.GET:
                results: tuple[Data | DataAccessResult, ...] = (decode_data(whole, self.max_depth),)
            else:
                results = decode_get_results(whole, request.count, self.max_depth)
            self._finish(GetCompleted(invoke_id=request.invoke_id, results=results))

    def _on_set(
        self,
        apdu: SetResponseNormal
        | SetResponseDatablock
        | SetResponseLastDatablock
        | SetResponseWithList,
        request: _Request,
    ) -> None:
        if isinstance(apdu, SetResponseWithList):
            if request.kind is not _Kind.SET_WITH_LIST or len(apdu.results) != request.count:
                raise RemoteProtocolError("SET-Response-With-List does not match the request")
            self._finish(SetCompleted(invoke_id=request.invoke_id, results=apdu.results))
            return
        if request.kind is not _Kind.SET:
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

    def _on_action(
        self,
        apdu: ActionResponseNormal | ActionResponseWithPblock | ActionResponseNextPblock,
        request: _Request,
    ) -> None:
        if request.kind not in (_Kind.ACTION, _Kind.HLS):
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
            result = ActionResult.SUCCESS
            data: Data | DataAccessResult | None = decode_data(whole, self.max_depth)
        else:
            result = apdu.result
            data = None if apdu.return_parameters is ABSENT else apdu.return_parameters
        if request.kind is _Kind.HLS:
            self._finish_hls(request, result, data)
        else:
            self._finish(
                ActionCompleted(invoke_id=request.invoke_id, result=result, return_data=data)
            )

    def _finish_hls(
        self, request: _Request, result: ActionResult, data: Data | DataAccessResult | None
    ) -> None:
        self._request = None
        self._reset_transfer()
        assert self._accepted is not None
        value = octet_string_value(data)
        if result != ActionResult.SUCCESS or value is None:
            self._machine.process(Trigger.HLS_FAILED)
            self._events.append(AuthenticationFailed(reason=f"pass 3 refused: {result.name}"))
        elif not self._server_verified(value):
            self._machine.process(Trigger.HLS_FAILED)
            self._events.append(AuthenticationFailed(reason="f(CtoS) from the server is wrong"))
        else:
            self._machine.process(Trigger.HLS_VERIFIED)
            self._events.append(self._accepted)

    def _server_verified(self, value: bytes) -> bool:
        s = self.settings
        assert s.hls is not None and self._challenge is not None
        try:
            return s.hls.client_check(
                s.security, value, stoc=self._server_challenge, ctos=self._challenge
            )
        except SecurityError:
            return False

    # -- plumbing ----------------------------------------------------------------------

    def _start_action(
        self,
        kind: _Kind,
        iip: InvokeIdAndPriority,
        descriptor: CosemMethodDescriptor,
        parameters: Data | None,
    ) -> int:
        request = _Request(kind=kind, invoke_id=iip.invoke_id)
        apdu = ActionRequestNormal(
            invoke_id_and_priority=iip,
            method_descriptor=descriptor,
            parameters=ABSENT if parameters is None else parameters,
        ).to_bytes()
        if self._use_gbt or self._fits(len(apdu)) or parameters is None:
            return self._start(request, apdu)
        self._require(Conformance.BLOCK_TRANSFER_WITH_ACTION, "ACTION longer than the PDU")
        header = ActionRequestWithFirstPblock(
            invoke_id_and_priority=iip,
            method_descriptor=descriptor,
            last_block=False,
            block_number=1,
            raw_data=b"",
        ).to_bytes()
        upload = self._segmenter(encode_data(parameters), len(header) - 1)
        number, last, chunk = upload.next_block()
        request.upload = upload
        first = ActionRequestWithFirstPblock(
            invoke_id_and_priority=iip,
            method_descriptor=descriptor,
            last_block=last,
            block_number=number,
            raw_data=chunk,
        ).to_bytes()
        return self._start(request, first)

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

    def _require(self, bit: Conformance, what: str) -> None:
        if bit not in self.conformance:
            raise LocalProtocolError(f"{what} is outside the negotiated conformance ({bit.name})")

    def _next_iip(self) -> InvokeIdAndPriority:
        invoke_id = self._invoke_id
        if self.settings.invoke_id_policy is InvokeIdPolicy.INCREMENT:
            self._invoke_id = (invoke_id + 1) % 16
        return InvokeIdAndPriority(invoke_id=invoke_id, high_priority=self.settings.high_priority)

    def _iip(self, request: _Request) -> InvokeIdAndPriority:
        return InvokeIdAndPriority(
            invoke_id=request.invoke_id, high_priority=self.settings.high_priority
        )

    def _segmenter(self, data: bytes, overhead: int) -> BlockSegmenter:
        size = payload_size(self.peer_max_pdu, overhead + self._cipher_overhead())
        return BlockSegmenter(data, size)

    def _reassembler(self) -> BlockReassembler:
        return BlockReassembler(max_size=self.max_reassembled_size, max_blocks=self.max_blocks)

    def _start(self, request: _Request, apdu: bytes) -> int:
        if not self._use_gbt and not self._fits(len(apdu)):
            raise LocalProtocolError(
                f"{len(apdu)}-byte request exceeds the server's {self.peer_max_pdu}-byte PDU"
            )
        self._request = request
        self._emit(apdu)
        return request.invoke_id

    def _emit(self, apdu: bytes) -> None:
        protected = self._protect(apdu)
        if self._use_gbt:
            self._send_gbt(protected)
        else:
            self._out.append(protected)

    def _finish(self, event: GetCompleted | SetCompleted | ActionCompleted) -> None:
        self._request = None
        self._reset_transfer()
        self._events.append(event)


def _with_selection(item: AttributeRequest) -> CosemAttributeDescriptorWithSelection:
    if isinstance(item, CosemAttributeDescriptorWithSelection):
        return item
    return CosemAttributeDescriptorWithSelection(attribute_descriptor=item)
