"""Association control for the client: AARQ/AARE, HLS passes 3 and 4, RLRQ/RLRE.

The request plumbing every confirmed service shares (invoke-ids, protection, block
segmentation, general block transfer) lives here too, since HLS pass 3 is itself an
ACTION request (Green Book 9.2.2.2).
"""

from __future__ import annotations

import enum

import attrs

from dlmskit.apdu import (
    AARE,
    AARQ,
    ABSENT,
    RLRE,
    RLRQ,
    AcseServiceUserDiagnostic,
    ActionRequestNormal,
    ActionRequestWithFirstPblock,
    ActionResult,
    AssociationResult,
    AuthenticationValue,
    BerBitString,
    ConfirmedServiceError,
    Conformance,
    CosemMethodDescriptor,
    DataAccessResult,
    InitiateRequest,
    InitiateResponse,
    InvokeIdAndPriority,
    MechanismName,
    ReleaseRequestReason,
)
from dlmskit.association._blocks import BlockReassembler, BlockSegmenter, payload_size
from dlmskit.association._endpoint import (
    DEFAULT_MAX_BLOCKS,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_REASSEMBLED_SIZE,
    Endpoint,
)
from dlmskit.association._events import (
    AssociationAccepted,
    AssociationRejected,
    AuthenticationFailed,
    Released,
)
from dlmskit.association._policy import ClientSettings, InvokeIdPolicy, is_ciphered
from dlmskit.association._security_seam import install_dedicated_key
from dlmskit.association._state import AssociationState, Trigger
from dlmskit.association._values import (
    CURRENT_ASSOCIATION,
    encode_data,
    octet_string_value,
)
from dlmskit.axdr import Data, OctetString
from dlmskit.errors import LocalProtocolError, RemoteProtocolError, SecurityError

__all__ = ["ClientAcse", "PendingRequest", "RequestKind"]

_ACSE_REQUIREMENTS_AUTHENTICATION = BerBitString.from_bits([True])
#: the conformance before an AARE grants any (an enum call costs more than a lookup)
_NOTHING_GRANTED = Conformance(0)


class RequestKind(enum.Enum):
    """What an outstanding request waits for (its value names it for timeout messages)."""

    GET = "GET-Response"
    GET_WITH_LIST = "GET-Response-With-List"
    SET = "SET-Response"
    SET_WITH_LIST = "SET-Response-With-List"
    ACTION = "ACTION-Response"
    ACTION_WITH_LIST = "ACTION-Response-With-List"
    HLS = "ACTION-Response to reply_to_HLS_authentication (HLS pass 4)"
    READ = "Read-Response"
    WRITE = "Write-Response"
    ACCESS = "Access-Response"


#: what each kind of request waits for (``kind.value`` without the enum property)
_AWAITED: dict[RequestKind, str] = {kind: kind.value for kind in RequestKind}


@attrs.define
class PendingRequest:
    """The one confirmed request in flight, with its block transfer state."""

    kind: RequestKind
    invoke_id: int
    count: int = 1
    reassembly: BlockReassembler | None = None
    upload: BlockSegmenter | None = None


class ClientAcse(Endpoint):
    """Association control and request plumbing of :class:`ClientAssociation`."""

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
        self._request: PendingRequest | None = None
        self._challenge: bytes | None = None
        #: The outstanding exchange runs through general block transfer.
        self._exchange_gbt = False
        self._server_challenge = b""
        self._accepted: AssociationAccepted | None = None
        self.conformance = _NOTHING_GRANTED
        self._keep_last_batch = True  # for repeat_request
        #: invoke-id -> answers still expected from requests sent more than once (or
        #: given up on): they are discarded when they come.
        self._stale: dict[int, int] = {}
        self._stale_aare = 0

    @property
    def awaiting(self) -> str | None:
        """What the machine waits for, for the caller's timeout message; None if nothing."""
        state = self.state
        if state is AssociationState.ERROR:
            return None
        if state is AssociationState.ASSOCIATION_PENDING:
            return "AARE"
        if state is AssociationState.RELEASE_PENDING:
            return "RLRE"
        if self._request is not None:
            return _AWAITED[self._request.kind]
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

    def associate(self) -> None:
        """Queue the AARQ (Green Book 9.3.2) built from the settings."""
        s = self.settings
        if self.state is not AssociationState.IDLE:
            raise LocalProtocolError(f"cannot associate in state {self.state.name}")
        dedicated_key = s.new_dedicated_key()
        initiate = InitiateRequest(
            dedicated_key=dedicated_key,
            proposed_dlms_version_number=s.dlms_version,
            proposed_conformance=s.conformance,
            client_max_receive_pdu_size=s.max_receive_pdu_size,
        ).to_bytes()
        self._dedicated = False
        if s.security is not None and s.uses_dedicated_key:
            # ours to protect with once the AARE accepts it; the AARQ stays glo-ciphered
            install_dedicated_key(s.security, dedicated_key)
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
            user_information=self._protect_acse(initiate),
        )
        self._machine.process(Trigger.AARQ)
        self._out.append(aarq.to_bytes())

    def assume_established(
        self,
        *,
        conformance: Conformance | None = None,
        server_max_receive_pdu_size: int = 0xFFFF,
        server_system_title: bytes | None = None,
    ) -> AssociationAccepted:
        """Enter a pre-established association (Green Book 9.3.2; IS 15959-2 client 64):
        no AARQ; context, conformance (default: the proposed one), PDU sizes and keys
        were agreed beforehand, so requests may be sent at once. A ciphered context
        needs ``server_system_title`` to open the server's service-specific APDUs.
        """
        s = self.settings
        if self.state is not AssociationState.IDLE:
            raise LocalProtocolError(f"cannot pre-establish in state {self.state.name}")
        if s.mechanism >= MechanismName.HIGH:
            raise LocalProtocolError("HLS authenticates in an AARQ; it cannot be pre-established")
        if s.uses_dedicated_key:
            raise LocalProtocolError(
                "a dedicated key is proposed in an AARQ; it cannot be pre-established"
            )
        if not 12 <= server_max_receive_pdu_size <= 0xFFFF:
            raise LocalProtocolError("server max receive PDU size must be 12..65535")
        if s.security is not None and server_system_title is not None:
            s.security.peer_system_title = server_system_title
        if self._ciphered and (s.security is None or s.security.peer_system_title is None):
            raise LocalProtocolError(
                "a ciphered pre-established association needs the server title"
            )
        self.conformance = s.conformance if conformance is None else conformance
        self.peer_max_pdu = server_max_receive_pdu_size
        self._accepted = AssociationAccepted(
            application_context=s.application_context,
            mechanism=s.mechanism,
            conformance=self.conformance,
            dlms_version=s.dlms_version,
            client_max_receive_pdu_size=s.max_receive_pdu_size,
            server_max_receive_pdu_size=server_max_receive_pdu_size,
            client_system_title=self._own_title,
            server_system_title=server_system_title,
        )
        self._machine.process(Trigger.PRE_ESTABLISHED)
        return self._accepted

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
            user = self._protect_acse(
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
        self._out.clear()
        self._reset_transfer()
        self._drop_dedicated_key()

    def _drop_dedicated_key(self) -> None:
        """The association is over: its dedicated key goes with it."""
        self._dedicated = False
        if self.settings.security is not None and self.settings.uses_dedicated_key:
            install_dedicated_key(self.settings.security, None)

    def repeat_request(self) -> bool:
        """The caller's timer expired on a link that loses datagrams: queue the last
        APDUs sent again, every ciphered part protected afresh with a new invocation
        counter (a server that got the first copy refuses a counter it has seen as a
        replay, Green Book 9.2.7.2.4.1). The answer to the copy that did not complete
        the request is discarded when it comes. Returns whether anything was queued;
        general block transfer recovers through :meth:`request_retransmission` instead.
        """
        state = self.state
        pending = state in (AssociationState.ASSOCIATION_PENDING, AssociationState.RELEASE_PENDING)
        batch, protected = self._last_batch
        if not batch or self._exchange_gbt or (self._request is None and not pending):
            return False
        self._out.extend(self._reprotect(apdu, protected) for apdu in batch)
        if self._request is not None:
            self.expect_stale(self._request.invoke_id)
        elif state is AssociationState.ASSOCIATION_PENDING:
            self._stale_aare += 1
        return True

    def expect_stale(self, invoke_id: int) -> None:
        """An answer carrying ``invoke_id`` may still come for a request that was sent
        twice or given up on (after a timeout): discard it rather than fail on it."""
        self._stale[invoke_id] = self._stale.get(invoke_id, 0) + 1

    def abandon_request(self) -> bool:
        """The caller gave up waiting for the outstanding request (its timer expired):
        forget it and discard its answer if it still comes; the association stays
        established. Returns whether a request was outstanding."""
        request = self._request
        if request is None or self.state is not AssociationState.ASSOCIATED:
            return False
        self._request = None
        self._reset_transfer()
        self.expect_stale(request.invoke_id)
        return True

    def _discard_stale(self, apdu: object) -> bool:
        """Whether ``apdu`` is an expected late answer (see :meth:`expect_stale`)."""
        if not self._stale:
            return False
        iip = getattr(apdu, "invoke_id_and_priority", None)
        if not isinstance(iip, InvokeIdAndPriority):
            return False
        invoke_id = iip.invoke_id
        left = self._stale.get(invoke_id, 0)
        if not left:
            return False
        request = self._request
        if request is not None and request.invoke_id == invoke_id:
            # the same request: only a datablock already received is a late copy
            number = getattr(apdu, "block_number", None)
            reassembly = request.reassembly
            if number is None or reassembly is None or number >= reassembly.expected:
                return False
        if left == 1:
            del self._stale[invoke_id]
        else:
            self._stale[invoke_id] = left - 1
        return True

    def _discard_stale_aare(self) -> bool:
        """Whether an AARE that came after the association was settled answers a
        repeated AARQ."""
        if self._stale_aare and self.state is not AssociationState.ASSOCIATION_PENDING:
            self._stale_aare -= 1
            return True
        return False

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
            self._drop_dedicated_key()
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
        # from here on (HLS pass 3 included) service APDUs use the dedicated key
        self._dedicated = self.settings.uses_dedicated_key
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
        self._send_hls_pass_3(value)

    def _send_hls_pass_3(self, value: bytes) -> None:
        """Queue pass 3: reply_to_HLS_authentication of the current Association LN."""
        iip = self._next_iip()
        self._start_action(RequestKind.HLS, iip, CURRENT_ASSOCIATION, OctetString(value))

    @property
    def _own_title(self) -> bytes | None:
        return None if self.settings.security is None else self.settings.security.system_title

    def _on_rlre(self, apdu: RLRE | None) -> None:
        if self.state is not AssociationState.RELEASE_PENDING:
            raise RemoteProtocolError(f"RLRE in state {self.state.name}")
        if apdu is not None and apdu.user_information is not None:
            self._unprotect(apdu.user_information)
        self._machine.process(Trigger.RLRE)
        self._drop_dedicated_key()
        self._accepted = None
        self.conformance = _NOTHING_GRANTED
        self._events.append(Released(reason=None if apdu is None else apdu.reason))

    def _finish_hls(
        self, request: PendingRequest, result: ActionResult, data: Data | DataAccessResult | None
    ) -> None:
        self._request = None
        self._reset_transfer()
        assert self._accepted is not None
        value = octet_string_value(data)
        if result != ActionResult.SUCCESS or value is None:
            self._machine.process(Trigger.HLS_FAILED)
            self._drop_dedicated_key()
            self._events.append(AuthenticationFailed(reason=f"pass 3 refused: {result.name}"))
        elif not self._server_verified(value):
            self._machine.process(Trigger.HLS_FAILED)
            self._drop_dedicated_key()
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

    def _start_action(
        self,
        kind: RequestKind,
        iip: InvokeIdAndPriority,
        descriptor: CosemMethodDescriptor,
        parameters: Data | None,
    ) -> int:
        request = PendingRequest(kind=kind, invoke_id=iip.invoke_id)
        apdu = ActionRequestNormal(
            invoke_id_and_priority=iip,
            method_descriptor=descriptor,
            parameters=ABSENT if parameters is None else parameters,
        ).to_bytes()
        if parameters is None or self._whole(len(apdu), Conformance.BLOCK_TRANSFER_WITH_ACTION):
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

    def _require(self, bit: Conformance, what: str) -> None:
        if bit not in self.conformance:
            raise LocalProtocolError(f"{what} is outside the negotiated conformance ({bit.name})")

    def _next_iip(self) -> InvokeIdAndPriority:
        invoke_id = self._invoke_id
        if self.settings.invoke_id_policy is InvokeIdPolicy.INCREMENT:
            # skip invoke-ids whose late answers may still come, so one is never taken
            # for the answer to a newer request
            for _ in range(15):
                if invoke_id not in self._stale:
                    break
                invoke_id = (invoke_id + 1) % 16
            self._invoke_id = (invoke_id + 1) % 16
        return self._iip_of(invoke_id)

    def _iip(self, request: PendingRequest) -> InvokeIdAndPriority:
        return self._iip_of(request.invoke_id)

    def _iip_of(self, invoke_id: int) -> InvokeIdAndPriority:
        """A confirmed request's invoke-id-and-priority (the shared instance)."""
        high = 0x80 if self.settings.high_priority else 0
        return InvokeIdAndPriority.from_byte(high | 0x40 | invoke_id)

    def _segmenter(self, data: bytes, overhead: int) -> BlockSegmenter:
        size = payload_size(self.peer_max_pdu, overhead + self._cipher_overhead())
        return BlockSegmenter(data, size)

    def _reassembler(self) -> BlockReassembler:
        return BlockReassembler(max_size=self.max_reassembled_size, max_blocks=self.max_blocks)

    def _whole(self, length: int, service_blocks: Conformance | None) -> bool:
        """Whether a request of ``length`` bytes goes out in one piece: it fits, or GBT
        carries it (configured, or the only block transfer negotiated for it)."""
        if self._use_gbt or self._fits(length):
            return True
        if Conformance.GENERAL_BLOCK_TRANSFER not in self.conformance:
            return False
        return service_blocks is None or service_blocks not in self.conformance

    def _start(self, request: PendingRequest, apdu: bytes, *, general: bool = False) -> int:
        """Send the first APDU of ``request``; ``general``: the APDU has no
        service-specific ciphered form."""
        fits = self._fits(len(apdu))
        gbt = self._use_gbt or (not fits and Conformance.GENERAL_BLOCK_TRANSFER in self.conformance)
        if not (fits or gbt):
            raise LocalProtocolError(
                f"{len(apdu)}-byte request exceeds the server's {self.peer_max_pdu}-byte PDU"
            )
        self._request = request
        self._exchange_gbt = gbt
        self._emit(apdu, general=general)
        return request.invoke_id

    def _emit(self, apdu: bytes, *, general: bool = False) -> None:
        protected = self._protect_general(apdu) if general else self._protect(apdu)
        if self._exchange_gbt:
            self._send_gbt(protected)
        else:
            self._out.append(protected)
