"""decode_apdu / encode_apdu: one entry point for every xDLMS and ACSE APDU.

Dispatch is on the first byte (the xDLMS-APDU CHOICE tag) and, for the LN services
GET/SET/ACTION, on the second byte (the service CHOICE).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeAlias

from dlmskit.apdu._access import AccessRequest, AccessResponse
from dlmskit.apdu._acse import AARE, AARQ, RLRE, RLRQ
from dlmskit.apdu._action import (
    ActionRequestNextPblock,
    ActionRequestNormal,
    ActionRequestWithFirstPblock,
    ActionRequestWithList,
    ActionRequestWithListAndFirstPblock,
    ActionRequestWithPblock,
    ActionResponseNextPblock,
    ActionResponseNormal,
    ActionResponseWithList,
    ActionResponseWithPblock,
)
from dlmskit.apdu._ciphered import (
    CipheredApdu,
    GeneralCiphering,
    GeneralDedCiphering,
    GeneralGloCiphering,
    GeneralSigning,
)
from dlmskit.apdu._gbt import GeneralBlockTransfer
from dlmskit.apdu._get import (
    GetRequestNext,
    GetRequestNormal,
    GetRequestWithList,
    GetResponseNormal,
    GetResponseWithDatablock,
    GetResponseWithList,
)
from dlmskit.apdu._initiate import InitiateRequest, InitiateResponse
from dlmskit.apdu._notification import DataNotification, EventNotificationRequest
from dlmskit.apdu._service_error import ConfirmedServiceError, ExceptionResponse
from dlmskit.apdu._set import (
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
)
from dlmskit.apdu._sn import (
    InformationReportRequest,
    ReadRequest,
    ReadResponse,
    UnconfirmedWriteRequest,
    WriteRequest,
    WriteResponse,
)
from dlmskit.errors import DecodeError

__all__ = ["Apdu", "decode_apdu", "encode_apdu"]

GetRequest: TypeAlias = GetRequestNormal | GetRequestNext | GetRequestWithList
GetResponse: TypeAlias = GetResponseNormal | GetResponseWithDatablock | GetResponseWithList
SetRequest: TypeAlias = (
    SetRequestNormal
    | SetRequestWithFirstDatablock
    | SetRequestWithDatablock
    | SetRequestWithList
    | SetRequestWithListAndFirstDatablock
)
SetResponse: TypeAlias = (
    SetResponseNormal
    | SetResponseDatablock
    | SetResponseLastDatablock
    | SetResponseLastDatablockWithList
    | SetResponseWithList
)
ActionRequest: TypeAlias = (
    ActionRequestNormal
    | ActionRequestNextPblock
    | ActionRequestWithList
    | ActionRequestWithFirstPblock
    | ActionRequestWithListAndFirstPblock
    | ActionRequestWithPblock
)
ActionResponse: TypeAlias = (
    ActionResponseNormal
    | ActionResponseWithPblock
    | ActionResponseWithList
    | ActionResponseNextPblock
)

Apdu: TypeAlias = (
    GetRequest
    | GetResponse
    | SetRequest
    | SetResponse
    | ActionRequest
    | ActionResponse
    | EventNotificationRequest
    | DataNotification
    | AccessRequest
    | AccessResponse
    | GeneralBlockTransfer
    | AARQ
    | AARE
    | RLRQ
    | RLRE
    | InitiateRequest
    | InitiateResponse
    | ConfirmedServiceError
    | ExceptionResponse
    | ReadRequest
    | ReadResponse
    | WriteRequest
    | WriteResponse
    | UnconfirmedWriteRequest
    | InformationReportRequest
    | CipheredApdu
    | GeneralGloCiphering
    | GeneralDedCiphering
    | GeneralCiphering
    | GeneralSigning
)
"""Any APDU dlmskit can decode or encode."""

_ChoiceClass: TypeAlias = (
    type[GetRequest]
    | type[GetResponse]
    | type[SetRequest]
    | type[SetResponse]
    | type[ActionRequest]
    | type[ActionResponse]
)


def _choices(*classes: _ChoiceClass) -> dict[int, _ChoiceClass]:
    return {cls.CHOICE: cls for cls in classes}


_BY_CHOICE: Final[Mapping[int, Mapping[int, _ChoiceClass]]] = {
    0xC0: _choices(GetRequestNormal, GetRequestNext, GetRequestWithList),
    0xC4: _choices(GetResponseNormal, GetResponseWithDatablock, GetResponseWithList),
    0xC1: _choices(
        SetRequestNormal,
        SetRequestWithFirstDatablock,
        SetRequestWithDatablock,
        SetRequestWithList,
        SetRequestWithListAndFirstDatablock,
    ),
    0xC5: _choices(
        SetResponseNormal,
        SetResponseDatablock,
        SetResponseLastDatablock,
        SetResponseLastDatablockWithList,
        SetResponseWithList,
    ),
    0xC3: _choices(
        ActionRequestNormal,
        ActionRequestNextPblock,
        ActionRequestWithList,
        ActionRequestWithFirstPblock,
        ActionRequestWithListAndFirstPblock,
        ActionRequestWithPblock,
    ),
    0xC7: _choices(
        ActionResponseNormal,
        ActionResponseWithPblock,
        ActionResponseWithList,
        ActionResponseNextPblock,
    ),
}

_SingleClass: TypeAlias = (
    type[EventNotificationRequest]
    | type[DataNotification]
    | type[AccessRequest]
    | type[AccessResponse]
    | type[GeneralBlockTransfer]
    | type[AARQ]
    | type[AARE]
    | type[RLRQ]
    | type[RLRE]
    | type[InitiateRequest]
    | type[InitiateResponse]
    | type[ConfirmedServiceError]
    | type[ExceptionResponse]
    | type[ReadRequest]
    | type[ReadResponse]
    | type[WriteRequest]
    | type[WriteResponse]
    | type[UnconfirmedWriteRequest]
    | type[InformationReportRequest]
    | type[CipheredApdu]
    | type[GeneralGloCiphering]
    | type[GeneralDedCiphering]
    | type[GeneralCiphering]
    | type[GeneralSigning]
)

_SINGLE: Final[tuple[_SingleClass, ...]] = (
    EventNotificationRequest,
    DataNotification,
    AccessRequest,
    AccessResponse,
    GeneralBlockTransfer,
    AARQ,
    AARE,
    RLRQ,
    RLRE,
    InitiateRequest,
    InitiateResponse,
    ConfirmedServiceError,
    ExceptionResponse,
    ReadRequest,
    ReadResponse,
    WriteRequest,
    WriteResponse,
    UnconfirmedWriteRequest,
    InformationReportRequest,
    GeneralGloCiphering,
    GeneralDedCiphering,
    GeneralCiphering,
    GeneralSigning,
)


def _single_table() -> dict[int, _SingleClass]:
    table: dict[int, _SingleClass] = {cls.TAG: cls for cls in _SINGLE}
    for tag in CipheredApdu.TAGS:
        table[tag] = CipheredApdu
    return table


_BY_TAG: Final[Mapping[int, _SingleClass]] = _single_table()


def decode_apdu(data: bytes | bytearray | memoryview) -> Apdu:
    """Decode one whole APDU; :class:`DecodeError` for anything malformed or unknown."""
    raw = bytes(data)
    if not raw:
        raise DecodeError("empty APDU", offset=0, expected="APDU tag")
    tag = raw[0]
    single = _BY_TAG.get(tag)
    if single is not None:
        return single.from_bytes(raw)
    choices = _BY_CHOICE.get(tag)
    if choices is None:
        raise DecodeError(f"unknown APDU tag 0x{tag:02X}", offset=0, expected="an xDLMS APDU tag")
    if len(raw) < 2:
        raise DecodeError("APDU truncated", offset=1, expected="service choice")
    choice = choices.get(raw[1])
    if choice is None:
        raise DecodeError(
            f"unknown service choice {raw[1]} for APDU tag 0x{tag:02X}",
            offset=1,
            expected=f"one of {sorted(choices)}",
        )
    return choice.from_bytes(raw)


def encode_apdu(apdu: Apdu) -> bytes:
    """The bytes of ``apdu``; the inverse of :func:`decode_apdu`."""
    return apdu.to_bytes()
