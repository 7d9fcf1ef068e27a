"""What every service of the server association shares: access checks against the
object tree, refusals as EXCEPTION-Responses, sending an answer whole or through GBT,
and unsolicited notifications (Green Book 9.3: DataNotification, EventNotification,
InformationReport).
"""

from __future__ import annotations

from collections.abc import Sequence

from dlmskit.apdu import (
    ActionResult,
    ConfirmedServiceError,
    Conformance,
    CosemAttributeDescriptor,
    CosemMethodDescriptor,
    DataAccessResult,
    DataNotification,
    EventNotificationRequest,
    ExceptionResponse,
    InformationReportRequest,
    LongInvokeIdAndPriority,
    SelectiveAccess,
    ServiceErrorKind,
    StateError,
    VariableName,
)
from dlmskit.association._server_acse import ServerAcse
from dlmskit.association._state import AssociationState
from dlmskit.axdr import Data, DateTime
from dlmskit.errors import LocalProtocolError

__all__ = ["Refused", "ServerBase"]


class Refused(Exception):
    """Internal: answer the current request with this EXCEPTION-Response."""

    def __init__(
        self,
        state: StateError,
        service: ServiceErrorKind,
        *,
        invocation_counter: int | None = None,
    ) -> None:
        super().__init__(f"{state.name}/{service.name}")
        self.response: ExceptionResponse | ConfirmedServiceError = ExceptionResponse(
            state_error=state, service_error=service, invocation_counter=invocation_counter
        )


class ServerBase(ServerAcse):
    """Object access and notifications for :class:`ServerAssociation`."""

    # -- notifications ------------------------------------------------------------------

    def data_notification(
        self,
        body: Data,
        *,
        date_time: DateTime | None = None,
        long_invoke_id: LongInvokeIdAndPriority | None = None,
    ) -> None:
        """Queue a DATA-NOTIFICATION (a push, Blue Book Push setup), ciphered with
        general-glo-ciphering in a ciphered context (general-ded-ciphering inside an
        association with a dedicated key).

        Allowed with no association (a push to a listener) and in an established one
        that negotiated data-notification.
        """
        apdu = DataNotification(
            long_invoke_id_and_priority=(
                long_invoke_id if long_invoke_id is not None else LongInvokeIdAndPriority()
            ),
            date_time=date_time,
            notification_body=body,
        ).to_bytes()
        self._notify(apdu, Conformance.DATA_NOTIFICATION, general=True)

    def event_notification(
        self,
        descriptor: CosemAttributeDescriptor,
        value: Data,
        *,
        time: DateTime | None = None,
    ) -> None:
        """Queue an EVENT-NOTIFICATION-Request (glo-ciphered in a ciphered context,
        ded-ciphered inside an association with a dedicated key)."""
        apdu = EventNotificationRequest(
            time=time, attribute_descriptor=descriptor, value=value
        ).to_bytes()
        self._notify(apdu, Conformance.EVENT_NOTIFICATION, general=False)

    def information_report(
        self,
        items: Sequence[tuple[int, Data]],
        *,
        current_time: DateTime | None = None,
    ) -> None:
        """Queue an SN InformationReportRequest: (short name, value) per variable."""
        if not items:
            raise LocalProtocolError("an InformationReport needs at least one variable")
        apdu = InformationReportRequest(
            current_time=current_time,
            variables=tuple(VariableName(name=name) for name, _ in items),
            values=tuple(value for _, value in items),
        ).to_bytes()
        self._notify(apdu, Conformance.INFORMATION_REPORT, general=False)

    def _notify(self, apdu: bytes, bit: Conformance, *, general: bool) -> None:
        state = self.state
        if state is AssociationState.ASSOCIATED:
            if bit not in self.conformance:
                raise LocalProtocolError(f"{bit.name} was not negotiated")
        elif state is not AssociationState.IDLE:
            raise LocalProtocolError(f"no notification in state {state.name}")
        # inside an association with a dedicated key, notifications use it too
        self._dedicated = self._dedicated_installed and state is AssociationState.ASSOCIATED
        protected = self._protect_general(apdu) if general else self._protect(apdu)
        if self._fits(len(apdu)):
            self._out.append(protected)
        elif (
            state is AssociationState.ASSOCIATED
            and Conformance.GENERAL_BLOCK_TRANSFER in self.conformance
        ):
            self._send_gbt(protected)
        else:
            raise LocalProtocolError(
                f"{len(protected)}-byte notification exceeds the client's "
                f"{self.peer_max_pdu}-byte PDU"
            )

    # -- object access --------------------------------------------------------------------

    def _require(self, bit: Conformance) -> None:
        if bit not in self.conformance:
            raise Refused(StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.SERVICE_NOT_SUPPORTED)

    def _read(
        self,
        descriptor: CosemAttributeDescriptor,
        access: SelectiveAccess | None,
        selective: Conformance = Conformance.SELECTIVE_ACCESS,
    ) -> Data | DataAccessResult:
        if access is not None and selective not in self.conformance:
            return DataAccessResult.SCOPE_OF_ACCESS_VIOLATED
        ctx = self._ctx()
        mode = self.objects.attribute_access(ctx, descriptor)
        if mode is None:
            return DataAccessResult.OBJECT_UNDEFINED
        if not mode.allows_read(authenticated=ctx.authenticated):
            return DataAccessResult.READ_WRITE_DENIED
        return self.objects.get(ctx, descriptor, access)

    def _write(
        self,
        descriptor: CosemAttributeDescriptor,
        access: SelectiveAccess | None,
        value: Data,
        selective: Conformance = Conformance.SELECTIVE_ACCESS,
    ) -> DataAccessResult:
        if access is not None and selective not in self.conformance:
            return DataAccessResult.SCOPE_OF_ACCESS_VIOLATED
        ctx = self._ctx()
        mode = self.objects.attribute_access(ctx, descriptor)
        if mode is None:
            return DataAccessResult.OBJECT_UNDEFINED
        if not mode.allows_write(authenticated=ctx.authenticated):
            return DataAccessResult.READ_WRITE_DENIED
        return self.objects.set(ctx, descriptor, access, value)

    def _invoke(
        self, descriptor: CosemMethodDescriptor, parameters: Data | None
    ) -> tuple[ActionResult, Data | None]:
        ctx = self._ctx()
        mode = self.objects.method_access(ctx, descriptor)
        if mode is None:
            return ActionResult.OBJECT_UNDEFINED, None
        if not mode.allows(authenticated=ctx.authenticated):
            return ActionResult.READ_WRITE_DENIED, None
        return self.objects.action(ctx, descriptor, parameters)

    def _sent_whole(
        self, response: bytes, service_blocks: Conformance | None, *, general: bool = False
    ) -> bool:
        """Send ``response`` whole if it fits, or through GBT when the request came that
        way or GBT is the only block transfer negotiated for it (Green Book: once one
        party uses GBT, the other follows). False: the caller cuts it into blocks."""
        if not (self._via_gbt or self._fits(len(response))):
            if Conformance.GENERAL_BLOCK_TRANSFER not in self.conformance:
                return False
            if service_blocks is not None and service_blocks in self.conformance:
                return False
            self._via_gbt = True
        self._respond(response, general=general)
        return True
