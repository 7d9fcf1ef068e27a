"""Association control for the server: AARQ checks and AARE, HLS passes 3 and 4, RLRQ.

The AARQ is checked in the order of the AARE diagnostics (Green Book 9.3.2, dlms-facts
1.5): application context, mechanism, calling-AP-title, authentication value, then the
xDLMS InitiateRequest (version, PDU size, conformance), whose refusal goes back as a
confirmedServiceError in the AARE user-information.
"""

from __future__ import annotations

import functools

from dlmskit.apdu import (
    AARE,
    AARQ,
    ABSENT,
    RLRE,
    RLRQ,
    AcseServiceUserDiagnostic,
    ActionRequestNormal,
    ActionResponseNormal,
    ActionResult,
    ApplicationContextName,
    ApplicationReferenceError,
    AssociationResult,
    AuthenticationValue,
    BerBitString,
    ConfirmedServiceError,
    ConfirmedServiceErrorChoice,
    Conformance,
    InitiateError,
    InitiateRequest,
    InitiateResponse,
    MechanismName,
    ReleaseResponseReason,
)
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
from dlmskit.association._objects import ObjectTree, RequestContext
from dlmskit.association._policy import AssociationPolicy, is_ciphered
from dlmskit.association._security_seam import install_dedicated_key, passwords_match
from dlmskit.association._short_names import ASSOCIATION_SN_BASE
from dlmskit.association._state import AssociationState, Trigger
from dlmskit.association._values import (
    octet_string_value,
)
from dlmskit.axdr import OctetString
from dlmskit.errors import DlmsError, LocalProtocolError, SecurityError

__all__ = ["ServerAcse"]

_AUTHENTICATION = BerBitString.from_bits([True])


_Diag = AcseServiceUserDiagnostic


@functools.lru_cache(maxsize=64)
def _initiate_response(conformance: Conformance, max_pdu: int, vaa_name: int) -> bytes:
    """The encoded xDLMS InitiateResponse (the same few for every association a server
    accepts, so each is encoded once)."""
    return InitiateResponse(
        negotiated_conformance=conformance, server_max_receive_pdu_size=max_pdu, vaa_name=vaa_name
    ).to_bytes()


class ServerAcse(Endpoint):
    """Association control of :class:`ServerAssociation`."""

    def __init__(
        self,
        policy: AssociationPolicy,
        objects: ObjectTree,
        *,
        max_reassembled_size: int = DEFAULT_MAX_REASSEMBLED_SIZE,
        max_blocks: int = DEFAULT_MAX_BLOCKS,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        super().__init__(
            ciphering=policy.security if is_ciphered(policy.application_context) else None,
            gbt_window=policy.gbt_window,
            max_reassembled_size=max_reassembled_size,
            max_blocks=max_blocks,
            max_depth=max_depth,
        )
        self.policy = policy
        self.objects = objects
        self.conformance = Conformance(0)
        self._accepted: AssociationAccepted | None = None
        self._client_challenge = b""
        self._server_challenge = b""
        self._via_gbt = False
        self._protected = False
        #: The client's dedicated key is installed in the policy's security context.
        self._dedicated_installed = False

    @property
    def negotiated(self) -> AssociationAccepted | None:
        """What was granted, once the association is established."""
        return self._accepted if self.state is AssociationState.ASSOCIATED else None

    @property
    def _vaa_name(self) -> int:
        """0x0007 in LN contexts, the current Association SN's base name in SN ones."""
        sn = self.policy.application_context in (
            ApplicationContextName.SN,
            ApplicationContextName.SN_CIPHERED,
        )
        return ASSOCIATION_SN_BASE if sn else 0x0007

    @property
    def _own_title(self) -> bytes | None:
        return None if self.policy.security is None else self.policy.security.system_title

    def _clear(self) -> None:
        self._reset_transfer()
        self._drop_dedicated_key()

    def _drop_dedicated_key(self) -> None:
        """The association is over (or a new one starts): its dedicated key goes."""
        if self._dedicated_installed and self.policy.security is not None:
            install_dedicated_key(self.policy.security, None)
        self._dedicated_installed = False

    def assume_established(
        self, *, client_system_title: bytes | None = None, client_max_receive_pdu_size: int = 0xFFFF
    ) -> AssociationAccepted:
        """Enter a pre-established association (Green Book 9.3.2; IS 15959-2 client 64):
        requests are served without an AARQ, with the policy's context and conformance.
        A ciphered context needs ``client_system_title`` to open the client's
        service-specific APDUs.
        """
        p = self.policy
        if self.state is not AssociationState.IDLE:
            raise LocalProtocolError(f"cannot pre-establish in state {self.state.name}")
        if p.mechanism >= MechanismName.HIGH:
            raise LocalProtocolError("HLS authenticates in an AARQ; it cannot be pre-established")
        if p.security is not None and client_system_title is not None:
            p.security.peer_system_title = client_system_title
        if self._ciphered and (p.security is None or p.security.peer_system_title is None):
            raise LocalProtocolError(
                "a ciphered pre-established association needs the client title"
            )
        self.conformance = p.conformance
        self.peer_max_pdu = client_max_receive_pdu_size
        self._accepted = AssociationAccepted(
            application_context=p.application_context,
            mechanism=p.mechanism,
            conformance=p.conformance,
            dlms_version=6,
            client_max_receive_pdu_size=client_max_receive_pdu_size,
            server_max_receive_pdu_size=p.max_receive_pdu_size,
            client_system_title=client_system_title,
            server_system_title=self._own_title,
        )
        self._machine.process(Trigger.PRE_ESTABLISHED)
        return self._accepted

    def abort(self) -> None:
        """The lower layer is gone: forget the association."""
        if self.state is not AssociationState.ERROR:
            self._machine.process(Trigger.ABORT)
        self._out.clear()
        self._clear()

    def _aare(
        self,
        result: AssociationResult,
        diagnostic: AcseServiceUserDiagnostic,
        *,
        user: bytes | None = None,
        challenge: bytes | None = None,
        mechanism: MechanismName | None = None,
    ) -> None:
        p = self.policy
        send_title = self._ciphered or p.mechanism >= MechanismName.HIGH_GMAC
        self._out.append(
            AARE(
                application_context_name=p.application_context,
                result=result,
                result_source_diagnostic=diagnostic,
                responding_ap_title=self._own_title if send_title else None,
                responder_acse_requirements=_AUTHENTICATION if mechanism is not None else None,
                mechanism_name=mechanism,
                responding_authentication_value=(
                    None if challenge is None else AuthenticationValue(value=challenge)
                ),
                user_information=user,
            ).to_bytes()
        )

    def _reject(
        self,
        diagnostic: AcseServiceUserDiagnostic,
        error: InitiateError | ApplicationReferenceError | None = None,
        result: AssociationResult = AssociationResult.REJECTED_PERMANENT,
    ) -> None:
        user = None
        if error is not None:
            service = ConfirmedServiceErrorChoice.INITIATE_ERROR
            user = ConfirmedServiceError(service=service, error=error).to_bytes()
        self._aare(result, diagnostic, user=user)
        if self.state is AssociationState.ASSOCIATION_PENDING:
            self._machine.process(Trigger.AARE_REJECTED)
            self._drop_dedicated_key()
            self._events.append(AssociationRejected(result=result, diagnostic=diagnostic))

    def _on_aarq(self, data: bytes) -> None:
        p = self.policy
        if self.state is not AssociationState.IDLE:
            self._reject(_Diag.NO_REASON_GIVEN, result=AssociationResult.REJECTED_TRANSIENT)
            return
        try:
            aarq = AARQ.from_bytes(data)
        except DlmsError:
            self._reject(_Diag.NO_REASON_GIVEN)
            return
        self._machine.process(Trigger.AARQ)
        self._drop_dedicated_key()
        proposed = aarq.mechanism_name if aarq.mechanism_name is not None else MechanismName.LOWEST
        auth = aarq.calling_authentication_value
        if aarq.application_context_name != p.application_context:
            return self._reject(_Diag.APPLICATION_CONTEXT_NAME_NOT_SUPPORTED)
        if proposed != p.mechanism:
            if proposed == MechanismName.LOWEST:
                return self._reject(_Diag.AUTHENTICATION_MECHANISM_NAME_REQUIRED)
            return self._reject(_Diag.AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNISED)
        needs_title = self._ciphered or p.mechanism >= MechanismName.HIGH_GMAC
        if needs_title and (aarq.calling_ap_title is None or len(aarq.calling_ap_title) != 8):
            return self._reject(_Diag.CALLING_AP_TITLE_NOT_RECOGNIZED)
        if p.mechanism == MechanismName.LOW:
            assert p.password is not None
            if auth is None or not passwords_match(p.password, auth.value):
                return self._reject(_Diag.AUTHENTICATION_FAILURE)
        elif p.mechanism >= MechanismName.HIGH and (auth is None or not 8 <= len(auth.value) <= 64):
            return self._reject(_Diag.AUTHENTICATION_FAILURE)
        if p.security is not None and aarq.calling_ap_title is not None:
            p.security.peer_system_title = aarq.calling_ap_title
        if aarq.user_information is None:
            return self._reject(_Diag.NO_REASON_GIVEN)
        try:
            plain = self._unprotect(aarq.user_information)
        except DlmsError:
            return self._reject(_Diag.NO_REASON_GIVEN, ApplicationReferenceError.DECIPHERING_ERROR)
        if self._ciphered and plain is aarq.user_information:
            return self._reject(_Diag.NO_REASON_GIVEN, ApplicationReferenceError.DECIPHERING_ERROR)
        try:
            initiate = InitiateRequest.from_bytes(plain)
        except DlmsError:
            return self._reject(_Diag.NO_REASON_GIVEN, InitiateError.OTHER)
        if initiate.proposed_dlms_version_number < 6:
            return self._reject(_Diag.NO_REASON_GIVEN, InitiateError.DLMS_VERSION_TOO_LOW)
        if initiate.dedicated_key is not None:
            # only inside a ciphered InitiateRequest (Green Book 9.2.7.2.4.2), and of the
            # suite's key length
            if not self._ciphered or p.security is None:
                return self._reject(_Diag.NO_REASON_GIVEN, InitiateError.OTHER)
            try:
                install_dedicated_key(p.security, initiate.dedicated_key)
            except LocalProtocolError:
                return self._reject(_Diag.NO_REASON_GIVEN, InitiateError.OTHER)
            self._dedicated_installed = True
        client_pdu = initiate.client_max_receive_pdu_size or 0xFFFF
        if client_pdu < p.min_client_pdu_size:
            return self._reject(_Diag.NO_REASON_GIVEN, InitiateError.PDU_SIZE_TOO_SHORT)
        conformance = Conformance(initiate.proposed_conformance & p.conformance)
        if not conformance:
            return self._reject(_Diag.NO_REASON_GIVEN, InitiateError.INCOMPATIBLE_CONFORMANCE)
        self.conformance = conformance
        self.peer_max_pdu = client_pdu
        response = _initiate_response(conformance, p.max_receive_pdu_size, self._vaa_name)
        self._accepted = AssociationAccepted(
            application_context=p.application_context,
            mechanism=p.mechanism,
            conformance=conformance,
            dlms_version=6,
            client_max_receive_pdu_size=client_pdu,
            server_max_receive_pdu_size=p.max_receive_pdu_size,
            client_system_title=aarq.calling_ap_title,
            server_system_title=self._own_title,
        )
        user = self._protect_acse(response)
        if p.mechanism >= MechanismName.HIGH:
            assert p.hls is not None and auth is not None
            self._client_challenge = auth.value
            self._server_challenge = p.challenge_source()
            self._machine.process(Trigger.AARE_AUTHENTICATION_REQUIRED)
            self._aare(
                AssociationResult.ACCEPTED,
                _Diag.AUTHENTICATION_REQUIRED,
                user=user,
                challenge=self._server_challenge,
                mechanism=p.mechanism,
            )
            return None
        self._machine.process(Trigger.AARE_ACCEPTED)
        mechanism = p.mechanism if p.mechanism != MechanismName.LOWEST else None
        self._aare(AssociationResult.ACCEPTED, _Diag.NULL, user=user, mechanism=mechanism)
        self._events.append(self._accepted)
        return None

    def _on_hls_pass_3(self, apdu: ActionRequestNormal) -> None:
        """HLS pass 3 in LN: reply_to_HLS_authentication of the current Association LN."""
        value = None if apdu.parameters is ABSENT else octet_string_value(apdu.parameters)
        answer = self._verify_pass_3(value)
        iip = apdu.invoke_id_and_priority
        if answer is None:
            self._respond(
                ActionResponseNormal(
                    invoke_id_and_priority=iip, result=ActionResult.READ_WRITE_DENIED
                ).to_bytes()
            )
            return
        self._respond(
            ActionResponseNormal(
                invoke_id_and_priority=iip,
                result=ActionResult.SUCCESS,
                return_parameters=OctetString(answer),
            ).to_bytes()
        )
        self._events.append(self._accepted_event())

    def _verify_pass_3(self, value: bytes | None) -> bytes | None:
        """Check f(StoC) from the client; f(CtoS) when it verifies (the association is
        then established; the caller queues the answer and the event), else None."""
        p = self.policy
        assert p.hls is not None
        stoc, ctos = self._server_challenge, self._client_challenge
        try:
            verified = value is not None and p.hls.server_check(
                p.security, value, stoc=stoc, ctos=ctos
            )
        except SecurityError:
            verified = False
        if not verified:
            self._machine.process(Trigger.HLS_FAILED)
            self._drop_dedicated_key()
            self._events.append(AuthenticationFailed(reason="f(StoC) from the client is wrong"))
            return None
        answer = p.hls.server_response(p.security, stoc=stoc, ctos=ctos)
        self._machine.process(Trigger.HLS_VERIFIED)
        return answer

    def _accepted_event(self) -> AssociationAccepted:
        assert self._accepted is not None
        return self._accepted

    def _on_rlrq(self, apdu: RLRQ) -> None:
        user = None
        if apdu.user_information is not None and self._ciphered:
            self._unprotect(apdu.user_information)
            user = self._protect_acse(
                _initiate_response(
                    self.conformance, self.policy.max_receive_pdu_size, self._vaa_name
                )
            )
        self._out.append(
            RLRE(reason=ReleaseResponseReason.NORMAL, user_information=user).to_bytes()
        )
        if self.state is AssociationState.ASSOCIATED:
            self._machine.process(Trigger.RLRQ)
            self._machine.process(Trigger.RLRE)
        elif self.state is not AssociationState.IDLE:
            self._machine.process(Trigger.ABORT)
        else:
            return
        self._clear()
        self.conformance = Conformance(0)
        self._events.append(Released(reason=ReleaseResponseReason.NORMAL))

    def _ctx(self) -> RequestContext:
        p = self.policy
        return RequestContext(
            client_sap=p.client_sap,
            application_context=p.application_context,
            mechanism=p.mechanism,
            conformance=self.conformance,
            authenticated=self._protected,
        )

    def _respond(self, apdu: bytes, *, general: bool = False) -> None:
        """Queue an answer, protected like its request and through GBT like it;
        ``general``: the APDU has no service-specific ciphered form."""
        if self._protected:
            apdu = self._protect_general(apdu) if general else self._protect(apdu)
        if self._via_gbt:
            self._send_gbt(apdu)
        else:
            self._out.append(apdu)
