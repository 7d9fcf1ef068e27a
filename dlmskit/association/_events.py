"""Events the association machines hand to their user (h11-style, one class each)."""

from __future__ import annotations

import enum
from typing import Final, TypeAlias

import attrs

from dlmskit.apdu import (
    AccessResponseSpecification,
    AcseServiceProviderDiagnostic,
    AcseServiceUserDiagnostic,
    ActionResult,
    ApplicationContextName,
    AssociationResult,
    ConfirmedServiceError,
    Conformance,
    DataAccessResult,
    DataNotification,
    EventNotificationRequest,
    ExceptionResponse,
    InformationReportRequest,
    MechanismName,
    ReleaseResponseReason,
)
from dlmskit.axdr import Data, DateTime

__all__ = [
    "NEED_DATA",
    "AccessCompleted",
    "ActionCompleted",
    "ActionWithListCompleted",
    "AssociationAccepted",
    "AssociationRejected",
    "AuthenticationFailed",
    "ConfirmedServiceErrorReceived",
    "Event",
    "ExceptionReceived",
    "GetCompleted",
    "InformationReportReceived",
    "NeedData",
    "NotificationReceived",
    "ReadCompleted",
    "Released",
    "SetCompleted",
    "WriteCompleted",
]


class NeedData(enum.Enum):
    """``next_event()`` has nothing until more bytes arrive."""

    NEED_DATA = "NEED_DATA"


NEED_DATA: Final = NeedData.NEED_DATA


@attrs.frozen(kw_only=True)
class AssociationAccepted:
    """The association is established (after HLS passes 3 and 4 when they were needed)."""

    application_context: ApplicationContextName
    mechanism: MechanismName
    conformance: Conformance
    dlms_version: int
    client_max_receive_pdu_size: int
    server_max_receive_pdu_size: int
    client_system_title: bytes | None = None
    server_system_title: bytes | None = None


@attrs.frozen(kw_only=True)
class AssociationRejected:
    """The AARE said no; ``initiate_error`` carries the xDLMS reason when there is one."""

    result: AssociationResult
    diagnostic: AcseServiceUserDiagnostic | AcseServiceProviderDiagnostic
    initiate_error: ConfirmedServiceError | None = None


@attrs.frozen(kw_only=True)
class AuthenticationFailed:
    """HLS pass 3 or 4 did not verify; the association is not established."""

    reason: str


@attrs.frozen(kw_only=True)
class GetCompleted:
    """A GET finished; one result per requested attribute (data or data-access-result)."""

    invoke_id: int
    results: tuple[Data | DataAccessResult, ...]

    @property
    def result(self) -> Data | DataAccessResult:
        """The result of a GET-Request-Normal."""
        return self.results[0]


@attrs.frozen(kw_only=True)
class SetCompleted:
    """A SET finished; one data-access-result per attribute written."""

    invoke_id: int
    results: tuple[DataAccessResult, ...]

    @property
    def result(self) -> DataAccessResult:
        return self.results[0]


@attrs.frozen(kw_only=True)
class ActionCompleted:
    """An ACTION finished with its result and optional return parameters."""

    invoke_id: int
    result: ActionResult
    return_data: Data | DataAccessResult | None = None


@attrs.frozen(kw_only=True)
class ActionWithListCompleted:
    """An ACTION-Request-With-List finished: (result, return data) per method, in order."""

    invoke_id: int
    results: tuple[tuple[ActionResult, Data | DataAccessResult | None], ...]


@attrs.frozen(kw_only=True)
class Released:
    """The association was released (RLRQ/RLRE exchanged)."""

    reason: ReleaseResponseReason | None = None


@attrs.frozen(kw_only=True)
class NotificationReceived:
    """An unsolicited DATA-NOTIFICATION or EVENT-NOTIFICATION from the server."""

    notification: DataNotification | EventNotificationRequest


@attrs.frozen(kw_only=True)
class ReadCompleted:
    """An SN Read finished; one result per variable read (data or data-access-error)."""

    results: tuple[Data | DataAccessResult, ...]

    @property
    def result(self) -> Data | DataAccessResult:
        """The result of a Read of one variable."""
        return self.results[0]


@attrs.frozen(kw_only=True)
class WriteCompleted:
    """An SN Write finished; one data-access-result per variable written."""

    results: tuple[DataAccessResult, ...]

    @property
    def result(self) -> DataAccessResult:
        return self.results[0]


@attrs.frozen(kw_only=True)
class AccessCompleted:
    """An Access-Request was answered: per item its result and its data (the value
    read, the return parameters of an action, null-data otherwise)."""

    long_invoke_id: int
    results: tuple[AccessResponseSpecification, ...]
    data: tuple[Data, ...]
    date_time: DateTime | None = None

    @property
    def items(self) -> tuple[tuple[AccessResponseSpecification, Data], ...]:
        """(result, data) per request item, in order."""
        return tuple(zip(self.results, self.data, strict=True))


@attrs.frozen(kw_only=True)
class InformationReportReceived:
    """An unsolicited SN InformationReport from the server."""

    report: InformationReportRequest


@attrs.frozen(kw_only=True)
class ExceptionReceived:
    """The peer answered a request with an EXCEPTION-Response."""

    exception: ExceptionResponse


@attrs.frozen(kw_only=True)
class ConfirmedServiceErrorReceived:
    """The peer answered a request with a confirmedServiceError."""

    error: ConfirmedServiceError


Event: TypeAlias = (
    AssociationAccepted
    | AssociationRejected
    | AuthenticationFailed
    | GetCompleted
    | SetCompleted
    | ActionCompleted
    | ActionWithListCompleted
    | Released
    | NotificationReceived
    | ReadCompleted
    | WriteCompleted
    | AccessCompleted
    | InformationReportReceived
    | ExceptionReceived
    | ConfirmedServiceErrorReceived
)
