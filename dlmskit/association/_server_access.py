"""The ACCESS service on the server: a list of GET, SET and ACTION items in one APDU.

Items are served in order from the object tree, with the same access checks as the
single services. With the processing option "break on error" (Green Book 9.3, long
invoke-id bit 29) the first failing item stops the list: the items after it are not
executed and answer ``other-reason``. The response has no service-specific block
transfer: one longer than the client's PDU goes through general block transfer when it
was negotiated, else the request is refused with pdu-too-long. In a ciphered context it
is protected with general-glo-ciphering.
"""

from __future__ import annotations

from dlmskit.apdu import (
    AccessRequest,
    AccessRequestAction,
    AccessRequestGet,
    AccessRequestGetWithSelection,
    AccessRequestSet,
    AccessRequestSetWithSelection,
    AccessRequestSpecification,
    AccessResponse,
    AccessResponseAction,
    AccessResponseGet,
    AccessResponseSet,
    AccessResponseSpecification,
    ActionResult,
    Conformance,
    DataAccessResult,
    ServiceErrorKind,
    StateError,
)
from dlmskit.association._server_base import Refused
from dlmskit.association._server_sn import ServerShortNames
from dlmskit.axdr import Data

__all__ = ["ServerAccessService"]


class ServerAccessService(ServerShortNames):
    """The ACCESS service of :class:`ServerAssociation`."""

    def _on_access(self, apdu: AccessRequest) -> None:
        self._require(Conformance.ACCESS)
        if len(apdu.specifications) != len(apdu.data):
            raise Refused(StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.OTHER_REASON)
        break_on_error = apdu.long_invoke_id_and_priority.processing_option
        results: list[AccessResponseSpecification] = []
        data: list[Data] = []
        failed = False
        for spec, value in zip(apdu.specifications, apdu.data, strict=True):
            if failed:
                result, out = _not_executed(spec), None
            else:
                result, out = self._access_one(spec, value)
                failed = break_on_error and result.result != 0
            results.append(result)
            data.append(out)
        response = AccessResponse(
            long_invoke_id_and_priority=apdu.long_invoke_id_and_priority,
            results=results,
            data=data,
        ).to_bytes()
        if not self._sent_whole(response, None, general=True):
            raise Refused(StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.PDU_TOO_LONG)

    def _access_one(
        self, spec: AccessRequestSpecification, value: Data
    ) -> tuple[AccessResponseSpecification, Data]:
        if isinstance(spec, AccessRequestAction):
            action, out = self._invoke(spec.method_descriptor, value)
            return AccessResponseAction(result=action), out
        access = (
            spec.access_selection
            if isinstance(spec, AccessRequestGetWithSelection | AccessRequestSetWithSelection)
            else None
        )
        if isinstance(spec, AccessRequestGet | AccessRequestGetWithSelection):
            read = self._read(spec.attribute_descriptor, access)
            if isinstance(read, DataAccessResult):
                return AccessResponseGet(result=read), None
            return AccessResponseGet(result=DataAccessResult.SUCCESS), read
        written = self._write(spec.attribute_descriptor, access, value)
        return AccessResponseSet(result=written), None


def _not_executed(spec: AccessRequestSpecification) -> AccessResponseSpecification:
    if isinstance(spec, AccessRequestAction):
        return AccessResponseAction(result=ActionResult.OTHER_REASON)
    if isinstance(spec, AccessRequestSet | AccessRequestSetWithSelection):
        return AccessResponseSet(result=DataAccessResult.OTHER_REASON)
    return AccessResponseGet(result=DataAccessResult.OTHER_REASON)
