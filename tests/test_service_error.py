"""ConfirmedServiceError (0x0E) and EXCEPTION-Response (0xD8)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import (
    AccessError,
    ApplicationReferenceError,
    ConfirmedServiceError,
    ConfirmedServiceErrorChoice,
    DefinitionError,
    ExceptionResponse,
    HardwareResourceError,
    InitiateError,
    LoadDataSetError,
    ServiceErrorChoice,
    ServiceErrorKind,
    ServiceHandlingError,
    StateError,
    TaskError,
    VdeStateError,
)
from dlmskit.errors import DecodeError, LocalProtocolError

ERROR_ENUMS = [
    (ServiceErrorChoice.APPLICATION_REFERENCE, ApplicationReferenceError),
    (ServiceErrorChoice.HARDWARE_RESOURCE, HardwareResourceError),
    (ServiceErrorChoice.VDE_STATE_ERROR, VdeStateError),
    (ServiceErrorChoice.SERVICE, ServiceHandlingError),
    (ServiceErrorChoice.DEFINITION, DefinitionError),
    (ServiceErrorChoice.ACCESS, AccessError),
    (ServiceErrorChoice.INITIATE, InitiateError),
    (ServiceErrorChoice.LOAD_DATA_SET, LoadDataSetError),
    (ServiceErrorChoice.TASK, TaskError),
]


def test_initiate_error_pdu_size_too_short() -> None:
    wire = bytes.fromhex("0E010603")
    error = ConfirmedServiceError.from_bytes(wire)
    assert error.service is ConfirmedServiceErrorChoice.INITIATE_ERROR
    assert error.error is InitiateError.PDU_SIZE_TOO_SHORT
    assert error.error_choice is ServiceErrorChoice.INITIATE
    assert error.to_bytes() == wire


@pytest.mark.parametrize(("choice", "enum"), ERROR_ENUMS)
def test_every_service_error_alternative(choice: ServiceErrorChoice, enum: type) -> None:
    for member in enum:
        error = ConfirmedServiceError(service=ConfirmedServiceErrorChoice.READ, error=member)
        wire = error.to_bytes()
        assert wire == bytes((0x0E, 5, choice, member))
        assert ConfirmedServiceError.from_bytes(wire) == error


def test_confirmed_service_error_matches_gurux_enums() -> None:
    from gurux_dlms.ConfirmedServiceError import ConfirmedServiceError as GxService
    from gurux_dlms.enums import Initiate as GxInitiate
    from gurux_dlms.ServiceError import ServiceError as GxServiceError

    assert GxService.INITIATE_ERROR == ConfirmedServiceErrorChoice.INITIATE_ERROR
    assert GxService.READ == ConfirmedServiceErrorChoice.READ
    assert GxService.WRITE == ConfirmedServiceErrorChoice.WRITE
    # Tags 0..7 agree; for task the xDLMS ASN.1 says [9] ([8] change-scope is reserved),
    # where gurux-dlms numbers it 8, so task is left out of this comparison.
    for choice in ServiceErrorChoice:
        if choice is not ServiceErrorChoice.TASK:
            assert GxServiceError[choice.name.replace("LOAD_DATA_SET", "LOAD_DATASET")] == choice
    assert GxInitiate.PDU_SIZE_TOO_SHORT == InitiateError.PDU_SIZE_TOO_SHORT


def test_gurux_translator_reads_our_confirmed_service_error() -> None:
    from gurux_dlms.GXDLMSTranslator import GXDLMSTranslator

    wire = ConfirmedServiceError(
        service=ConfirmedServiceErrorChoice.WRITE, error=AccessError.SCOPE_OF_ACCESS_VIOLATED
    ).to_bytes()
    xml = GXDLMSTranslator().pduToXml(wire)
    assert "<ConfirmedServiceError>" in xml
    assert '<Service Value="06" />' in xml
    assert '<Access Value="ScopeOfAccessViolated" />' in xml


def test_exception_response_vectors() -> None:
    wire = bytes.fromhex("D80106000004D2")
    response = ExceptionResponse.from_bytes(wire)
    assert response.state_error is StateError.SERVICE_NOT_ALLOWED
    assert response.service_error is ServiceErrorKind.INVOCATION_COUNTER_ERROR
    assert response.invocation_counter == 1234
    assert response.to_bytes() == wire
    short = ExceptionResponse.from_bytes(bytes.fromhex("D80206"))
    assert short.invocation_counter is None
    assert short.to_bytes() == bytes.fromhex("D80206")
    plain = ExceptionResponse(
        state_error=StateError.SERVICE_UNKNOWN, service_error=ServiceErrorKind.PDU_TOO_LONG
    )
    assert plain.to_bytes() == bytes.fromhex("D80204")


def test_gurux_exception_response_bytes() -> None:
    from gurux_dlms.enums import ExceptionServiceError
    from gurux_dlms.enums import StateError as GxStateError

    assert GxStateError.SERVICE_NOT_ALLOWED == StateError.SERVICE_NOT_ALLOWED
    for member in ServiceErrorKind:
        assert ExceptionServiceError[member.name] == member


def test_exception_response_counter_only_for_invocation_counter_error() -> None:
    with pytest.raises(LocalProtocolError):
        ExceptionResponse(
            state_error=StateError.SERVICE_NOT_ALLOWED,
            service_error=ServiceErrorKind.OTHER_REASON,
            invocation_counter=5,
        )
    with pytest.raises(LocalProtocolError):
        ExceptionResponse(
            state_error=StateError.SERVICE_NOT_ALLOWED,
            service_error=ServiceErrorKind.INVOCATION_COUNTER_ERROR,
            invocation_counter=2**32,
        )
    with pytest.raises(LocalProtocolError):
        ConfirmedServiceError(service=20, error=InitiateError.OTHER)
    with pytest.raises(LocalProtocolError):
        ExceptionResponse(state_error=3, service_error=ServiceErrorKind.OTHER_REASON)
    with pytest.raises(LocalProtocolError):
        ConfirmedServiceError(service=ConfirmedServiceErrorChoice.READ, error=5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "hexstring",
    [
        "",
        "0E",
        "0E0106",
        "0E01060300",
        "0E00 0603",  # choice 0 is reserved
        "0E01 0803",  # change-scope [8] is reserved
        "0E01 0605",  # initiate has no value 5
        "0E14 0000",  # no service 20
        "D8",
        "D801",
        "D80306",
        "D80106000001",
        "D80101 00",
        "D8010600000001 00",
        "C0010203",
    ],
)
def test_malformed_is_a_decode_error(hexstring: str) -> None:
    data = bytes.fromhex(hexstring.replace(" ", ""))
    cls = ExceptionResponse if data[:1] == b"\xd8" else ConfirmedServiceError
    with pytest.raises(DecodeError):
        cls.from_bytes(data)


_errors = st.sampled_from([member for _, enum in ERROR_ENUMS for member in enum])
confirmed = st.builds(
    ConfirmedServiceError, service=st.sampled_from(ConfirmedServiceErrorChoice), error=_errors
)
exceptions = st.builds(
    ExceptionResponse,
    state_error=st.sampled_from(StateError),
    service_error=st.sampled_from(
        [k for k in ServiceErrorKind if k is not ServiceErrorKind.INVOCATION_COUNTER_ERROR]
    ),
) | st.builds(
    ExceptionResponse,
    state_error=st.sampled_from(StateError),
    service_error=st.just(ServiceErrorKind.INVOCATION_COUNTER_ERROR),
    invocation_counter=st.none() | st.integers(0, 2**32 - 1),
)


@settings(max_examples=100)
@given(st.one_of(confirmed, exceptions))
def test_round_trip(apdu: ConfirmedServiceError | ExceptionResponse) -> None:
    wire = apdu.to_bytes()
    decoded = type(apdu).from_bytes(wire)
    assert decoded == apdu
    assert decoded.to_bytes() == wire
    for cut in range(1, len(wire)):
        if apdu.TAG == 0xD8 and cut == 3:
            continue  # the short invocation-counter-error form is valid
        with pytest.raises(DecodeError):
            type(apdu).from_bytes(wire[:cut])


@settings(max_examples=200)
@given(st.binary(max_size=12))
def test_garbage_gives_value_or_decode_error(data: bytes) -> None:
    for cls in (ConfirmedServiceError, ExceptionResponse):
        for candidate in (data, bytes((cls.TAG,)) + data):
            try:
                value = cls.from_bytes(candidate)
            except DecodeError:
                continue
            assert value.to_bytes() == candidate


@pytest.mark.parametrize(
    ("response", "counter"),
    [
        (
            ExceptionResponse(
                state_error=StateError.SERVICE_NOT_ALLOWED,
                service_error=ServiceErrorKind.INVOCATION_COUNTER_ERROR,
                invocation_counter=1234,
            ),
            1234,
        ),
        (
            ExceptionResponse(
                state_error=StateError.SERVICE_UNKNOWN,
                service_error=ServiceErrorKind.SERVICE_NOT_SUPPORTED,
            ),
            None,
        ),
    ],
)
def test_gurux_client_reads_our_exception_response(
    response: ExceptionResponse, counter: int | None
) -> None:
    from gurux_dlms import GXReplyData
    from gurux_dlms.enums import Authentication, InterfaceType
    from gurux_dlms.GXByteBuffer import GXByteBuffer
    from gurux_dlms.GXDLMSExceptionResponse import GXDLMSExceptionResponse
    from gurux_dlms.secure import GXDLMSSecureClient

    client = GXDLMSSecureClient(True, 16, 1, Authentication.NONE, None, InterfaceType.WRAPPER)
    wire = response.to_bytes()
    frame = bytes.fromhex("000100010010") + len(wire).to_bytes(2, "big") + wire
    with pytest.raises(GXDLMSExceptionResponse) as caught:
        client.getData(GXByteBuffer(frame), GXReplyData())
    assert caught.value.exceptionStateError == response.state_error
    assert caught.value.exceptionServiceError == response.service_error
    assert caught.value.serviceErrorValue == counter
