"""ConfirmedServiceError (0x0E) and EXCEPTION-Response (0xD8), xDLMS error APDUs.

ConfirmedServiceError answers an initiate, read or write request that failed (xDLMS
ASN.1): a CHOICE naming the failed service, each carrying a ServiceError CHOICE whose
alternatives are IMPLICIT ENUMERATED, so the A-XDR form is three octets, e.g.
``0E 01 06 03`` = initiateError / initiate / pdu-size-too-short. The ServiceError tags
follow the ASN.1: load-data-set [7], change-scope [8] reserved, task [9].

EXCEPTION-Response tells the client its request could not be handled at all:
``D8 <state-error> <service-error>``; invocation-counter-error carries the counter the
server expects next as Unsigned32: ``D8 01 06 <IC:4>``.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar, Final, Self, TypeVar

import attrs

from dlmskit.errors import DecodeError, LocalProtocolError

__all__ = [
    "AccessError",
    "ApplicationReferenceError",
    "ConfirmedServiceError",
    "ConfirmedServiceErrorChoice",
    "DefinitionError",
    "ExceptionResponse",
    "HardwareResourceError",
    "InitiateError",
    "LoadDataSetError",
    "ServiceErrorChoice",
    "ServiceErrorKind",
    "ServiceErrorValue",
    "ServiceHandlingError",
    "StateError",
    "TaskError",
    "VdeStateError",
]


E = TypeVar("E", bound=IntEnum)


class ConfirmedServiceErrorChoice(IntEnum):
    """Which confirmed service failed (the outer CHOICE of ConfirmedServiceError).

    Only INITIATE_ERROR, READ and WRITE apply within DLMS; the others come from the
    DLMS (IEC 61334-4-41) service set and are decoded for completeness.
    """

    INITIATE_ERROR = 1
    GET_STATUS = 2
    GET_NAME_LIST = 3
    GET_VARIABLE_ATTRIBUTE = 4
    READ = 5
    WRITE = 6
    GET_DATA_SET_ATTRIBUTE = 7
    GET_TI_ATTRIBUTE = 8
    CHANGE_SCOPE = 9
    START = 10
    STOP = 11
    RESUME = 12
    MAKE_USABLE = 13
    INITIATE_LOAD = 14
    LOAD_SEGMENT = 15
    TERMINATE_LOAD = 16
    INITIATE_UP_LOAD = 17
    UP_LOAD_SEGMENT = 18
    TERMINATE_UP_LOAD = 19


class ServiceErrorChoice(IntEnum):
    """The alternatives of ServiceError (tag 8, change-scope, is reserved)."""

    APPLICATION_REFERENCE = 0
    HARDWARE_RESOURCE = 1
    VDE_STATE_ERROR = 2
    SERVICE = 3
    DEFINITION = 4
    ACCESS = 5
    INITIATE = 6
    LOAD_DATA_SET = 7
    TASK = 9


class ApplicationReferenceError(IntEnum):
    """ServiceError application-reference [0]: DLMS provider troubles."""

    OTHER = 0
    TIME_ELAPSED = 1
    APPLICATION_UNREACHABLE = 2
    APPLICATION_REFERENCE_INVALID = 3
    APPLICATION_CONTEXT_UNSUPPORTED = 4
    PROVIDER_COMMUNICATION_ERROR = 5
    DECIPHERING_ERROR = 6


class HardwareResourceError(IntEnum):
    """ServiceError hardware-resource [1]."""

    OTHER = 0
    MEMORY_UNAVAILABLE = 1
    PROCESSOR_RESOURCE_UNAVAILABLE = 2
    MASS_STORAGE_UNAVAILABLE = 3
    OTHER_RESOURCE_UNAVAILABLE = 4


class VdeStateError(IntEnum):
    """ServiceError vde-state-error [2]."""

    OTHER = 0
    NO_DLMS_CONTEXT = 1
    LOADING_DATA_SET = 2
    STATUS_NOCHANGE = 3
    STATUS_INOPERABLE = 4


class ServiceHandlingError(IntEnum):
    """ServiceError service [3]: service handling troubles."""

    OTHER = 0
    PDU_SIZE = 1
    SERVICE_UNSUPPORTED = 2


class DefinitionError(IntEnum):
    """ServiceError definition [4]: object bound troubles."""

    OTHER = 0
    OBJECT_UNDEFINED = 1
    OBJECT_CLASS_INCONSISTENT = 2
    OBJECT_ATTRIBUTE_INCONSISTENT = 3


class AccessError(IntEnum):
    """ServiceError access [5]."""

    OTHER = 0
    SCOPE_OF_ACCESS_VIOLATED = 1
    OBJECT_ACCESS_INVALID = 2
    HARDWARE_FAULT = 3
    OBJECT_UNAVAILABLE = 4


class InitiateError(IntEnum):
    """ServiceError initiate [6]: why an xDLMS-Initiate.request was refused."""

    OTHER = 0
    DLMS_VERSION_TOO_LOW = 1
    INCOMPATIBLE_CONFORMANCE = 2
    PDU_SIZE_TOO_SHORT = 3
    REFUSED_BY_THE_VDE_HANDLER = 4


class LoadDataSetError(IntEnum):
    """ServiceError load-data-set [7]."""

    OTHER = 0
    PRIMITIVE_OUT_OF_SEQUENCE = 1
    NOT_LOADABLE = 2
    DATASET_SIZE_TOO_LARGE = 3
    NOT_AWAITED_SEGMENT = 4
    INTERPRETATION_FAILURE = 5
    STORAGE_FAILURE = 6
    DATA_SET_NOT_READY = 7


class TaskError(IntEnum):
    """ServiceError task [9]: TI services."""

    OTHER = 0
    NO_REMOTE_CONTROL = 1
    TI_STOPPED = 2
    TI_RUNNING = 3
    TI_UNUSABLE = 4


ServiceErrorValue = (
    ApplicationReferenceError
    | HardwareResourceError
    | VdeStateError
    | ServiceHandlingError
    | DefinitionError
    | AccessError
    | InitiateError
    | LoadDataSetError
    | TaskError
)

_ENUM_OF_CHOICE: Final[dict[ServiceErrorChoice, type[ServiceErrorValue]]] = {
    ServiceErrorChoice.APPLICATION_REFERENCE: ApplicationReferenceError,
    ServiceErrorChoice.HARDWARE_RESOURCE: HardwareResourceError,
    ServiceErrorChoice.VDE_STATE_ERROR: VdeStateError,
    ServiceErrorChoice.SERVICE: ServiceHandlingError,
    ServiceErrorChoice.DEFINITION: DefinitionError,
    ServiceErrorChoice.ACCESS: AccessError,
    ServiceErrorChoice.INITIATE: InitiateError,
    ServiceErrorChoice.LOAD_DATA_SET: LoadDataSetError,
    ServiceErrorChoice.TASK: TaskError,
}
_CHOICE_OF_ENUM: Final = {enum: choice for choice, enum in _ENUM_OF_CHOICE.items()}


def _check_error(
    instance: object, attribute: attrs.Attribute[ServiceErrorValue], value: ServiceErrorValue
) -> None:
    if type(value) not in _CHOICE_OF_ENUM:
        raise LocalProtocolError(
            f"ServiceError value must be a member of one of the ServiceError enums, not {value!r}"
        )


def _enum_member(enum: type[E], value: int, offset: int, what: str) -> E:
    try:
        return enum(value)
    except ValueError:
        raise DecodeError(
            f"unknown {what} {value}", offset=offset, expected=f"one of {[int(m) for m in enum]}"
        ) from None


def _member(enum: type[E], value: int) -> E:
    try:
        return enum(value)
    except ValueError:
        raise LocalProtocolError(f"{value!r} is not a {enum.__name__}") from None


def _to_service(value: int) -> ConfirmedServiceErrorChoice:
    return _member(ConfirmedServiceErrorChoice, value)


def _check_length(data: bytes, tag: int, name: str) -> None:
    if not data:
        raise DecodeError(f"empty {name}", offset=0, expected=f"tag {tag:#04x}")
    if data[0] != tag:
        raise DecodeError(f"not a {name}", offset=0, expected=f"tag {tag:#04x}")


@attrs.frozen(kw_only=True)
class ConfirmedServiceError:
    """confirmedServiceError: which service failed and why.

    The enum class of ``error`` selects the ServiceError alternative, e.g.
    ``error=InitiateError.PDU_SIZE_TOO_SHORT`` is initiate [6].
    """

    TAG: ClassVar[int] = 0x0E

    service: ConfirmedServiceErrorChoice = attrs.field(converter=_to_service)
    error: ServiceErrorValue = attrs.field(validator=_check_error)

    @property
    def error_choice(self) -> ServiceErrorChoice:
        """The ServiceError alternative ``error`` belongs to."""
        return _CHOICE_OF_ENUM[type(self.error)]

    def to_bytes(self) -> bytes:
        return bytes((self.TAG, self.service, self.error_choice, self.error))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        _check_length(data, cls.TAG, "ConfirmedServiceError")
        if len(data) != 4:
            raise DecodeError(
                f"ConfirmedServiceError of {len(data)} octets",
                offset=min(len(data), 4),
                expected="exactly 4 octets",
            )
        service = _enum_member(ConfirmedServiceErrorChoice, data[1], 1, "confirmed service")
        choice = _enum_member(ServiceErrorChoice, data[2], 2, "ServiceError choice")
        error = _enum_member(_ENUM_OF_CHOICE[choice], data[3], 3, f"{choice.name} error")
        return cls(service=service, error=error)


class StateError(IntEnum):
    """EXCEPTION-Response state-error."""

    SERVICE_NOT_ALLOWED = 1
    SERVICE_UNKNOWN = 2


class ServiceErrorKind(IntEnum):
    """EXCEPTION-Response service-error."""

    OPERATION_NOT_POSSIBLE = 1
    SERVICE_NOT_SUPPORTED = 2
    OTHER_REASON = 3
    PDU_TOO_LONG = 4
    DECIPHERING_ERROR = 5
    INVOCATION_COUNTER_ERROR = 6


def _to_state(value: int) -> StateError:
    return _member(StateError, value)


def _to_kind(value: int) -> ServiceErrorKind:
    return _member(ServiceErrorKind, value)


def _check_counter(
    instance: ExceptionResponse, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is None:
        return
    if instance.service_error is not ServiceErrorKind.INVOCATION_COUNTER_ERROR:
        raise LocalProtocolError("only invocation-counter-error carries an invocation counter")
    if not 0 <= value <= 0xFFFFFFFF:
        raise LocalProtocolError(f"invocation counter {value} is not an Unsigned32")


@attrs.frozen(kw_only=True)
class ExceptionResponse:
    """EXCEPTION-Response: the server could not process the request at all.

    ``invocation_counter`` is the Unsigned32 that follows invocation-counter-error
    (the counter value the server expects); it is None when the server sent the short,
    three-octet form, and must be None for every other service-error.
    """

    TAG: ClassVar[int] = 0xD8

    state_error: StateError = attrs.field(converter=_to_state)
    service_error: ServiceErrorKind = attrs.field(converter=_to_kind)
    invocation_counter: int | None = attrs.field(default=None, validator=_check_counter)

    def to_bytes(self) -> bytes:
        out = bytes((self.TAG, self.state_error, self.service_error))
        if self.invocation_counter is not None:
            out += self.invocation_counter.to_bytes(4, "big")
        return out

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        _check_length(data, cls.TAG, "EXCEPTION-Response")
        if len(data) < 3:
            raise DecodeError(
                "EXCEPTION-Response truncated", offset=len(data), expected="state and service error"
            )
        state = _enum_member(StateError, data[1], 1, "state-error")
        service = _enum_member(ServiceErrorKind, data[2], 2, "service-error")
        counter: int | None = None
        if service is ServiceErrorKind.INVOCATION_COUNTER_ERROR and len(data) > 3:
            if len(data) < 7:
                raise DecodeError("invocation counter truncated", offset=3, expected="Unsigned32")
            counter = int.from_bytes(data[3:7], "big")
            end = 7
        else:
            end = 3
        if len(data) != end:
            raise DecodeError(
                f"{len(data) - end} trailing octets", offset=end, expected="end of APDU"
            )
        return cls(state_error=state, service_error=service, invocation_counter=counter)
