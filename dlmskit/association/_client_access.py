"""The ACCESS service on the client: GET, SET and ACTION items in one APDU (Green Book 9.3).

An Access-Request carries a list of request specifications and a parallel list of data
(the value to write, the method parameters, null-data for a read). It is numbered with a
long invoke-id, is ciphered with general-glo-ciphering in a ciphered context (it has no
service-specific ciphered form) and relies on general block transfer when it or its
response passes a PDU, since it has no service-specific block transfer.
"""

from __future__ import annotations

from collections.abc import Sequence

from dlmskit.apdu import (
    AccessRequest,
    AccessRequestGetWithSelection,
    AccessRequestSetWithSelection,
    AccessRequestSpecification,
    AccessResponse,
    Conformance,
    LongInvokeIdAndPriority,
)
from dlmskit.association._client_acse import PendingRequest, RequestKind
from dlmskit.association._client_sn import ClientShortNames
from dlmskit.association._events import AccessCompleted
from dlmskit.association._state import AssociationState
from dlmskit.axdr import Data, DateTime
from dlmskit.errors import LocalProtocolError, RemoteProtocolError

__all__ = ["ClientAccessService"]

_LN_ONLY = "the access service needs logical-name referencing"


class ClientAccessService(ClientShortNames):
    """The ACCESS service of :class:`ClientAssociation`."""

    _long_invoke_id = 1

    def access(
        self,
        items: Sequence[tuple[AccessRequestSpecification, Data]],
        *,
        date_time: DateTime | None = None,
        break_on_error: bool = False,
    ) -> int:
        """Queue an Access-Request; returns its long invoke-id.

        Each item is a specification and its data: the value of a set, the parameters of
        an action, null-data (``None``) for a get. ``break_on_error`` sets the processing
        option: the server stops at the first item that fails.
        """
        if self.state is not AssociationState.ASSOCIATED:
            raise LocalProtocolError(f"ACCESS needs an established association ({self.state.name})")
        if self._request is not None:
            raise LocalProtocolError(f"ACCESS while {self._request.kind.value} is awaited")
        if self._sn_context:
            raise LocalProtocolError(_LN_ONLY)
        self._require(Conformance.ACCESS, "ACCESS")
        if not items:
            raise LocalProtocolError("an Access-Request needs at least one item")
        specs = tuple(spec for spec, _ in items)
        if any(
            isinstance(spec, AccessRequestGetWithSelection | AccessRequestSetWithSelection)
            for spec in specs
        ):
            self._require(Conformance.SELECTIVE_ACCESS, "selective access")
        invoke_id = self._long_invoke_id
        self._long_invoke_id = (invoke_id + 1) & 0xFFFFFF
        apdu = AccessRequest(
            long_invoke_id_and_priority=LongInvokeIdAndPriority(
                invoke_id=invoke_id,
                processing_option=break_on_error,
                confirmed=True,
                high_priority=self.settings.high_priority,
            ),
            date_time=date_time,
            specifications=specs,
            data=tuple(value for _, value in items),
        ).to_bytes()
        request = PendingRequest(kind=RequestKind.ACCESS, invoke_id=invoke_id, count=len(specs))
        return self._start(request, apdu, general=True)

    def _on_access_response(self, apdu: AccessResponse) -> None:
        request = self._request
        if request is None or request.kind is not RequestKind.ACCESS:
            raise RemoteProtocolError("Access-Response with no Access-Request outstanding")
        if apdu.long_invoke_id_and_priority.invoke_id != request.invoke_id:
            raise RemoteProtocolError(
                f"Access-Response long invoke-id {apdu.long_invoke_id_and_priority.invoke_id}, "
                f"request {request.invoke_id}"
            )
        if len(apdu.results) != request.count or len(apdu.data) != request.count:
            raise RemoteProtocolError(
                f"Access-Response with {len(apdu.results)} results and {len(apdu.data)} data "
                f"for {request.count} items"
            )
        self._request = None
        self._reset_transfer()
        self._events.append(
            AccessCompleted(
                long_invoke_id=request.invoke_id,
                date_time=apdu.date_time,
                results=apdu.results,
                data=apdu.data,
            )
        )
