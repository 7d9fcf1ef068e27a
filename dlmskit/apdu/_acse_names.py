"""ACSE names and values: the DLMS application context and mechanism names, the
association result and diagnostics, release reasons, and the authentication value of
AARQ/AARE (Green Book 9.4.2; ISO/IEC 8650-1). :mod:`dlmskit.apdu._acse` encodes them."""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Final, TypeVar

import attrs

from dlmskit.apdu._ber import CLASS_CONTEXT, encode_tlv
from dlmskit.apdu._lookup import enum_member
from dlmskit.errors import LocalProtocolError

__all__ = [
    "AcseServiceProviderDiagnostic",
    "AcseServiceUserDiagnostic",
    "ApplicationContextName",
    "AssociationResult",
    "AuthenticationValue",
    "AuthenticationValueForm",
    "MechanismName",
    "ReleaseRequestReason",
    "ReleaseResponseReason",
]

_E = TypeVar("_E", bound=IntEnum)

_CONTEXT_ARC: Final = (2, 16, 756, 5, 8, 1)
_MECHANISM_ARC: Final = (2, 16, 756, 5, 8, 2)
_PRIMITIVE: Final = CLASS_CONTEXT
_CONSTRUCTED: Final = CLASS_CONTEXT | 0x20


class ApplicationContextName(IntEnum):
    """The last arc of the DLMS application context OID 2.16.756.5.8.1.x."""

    LN = 1
    SN = 2
    LN_CIPHERED = 3
    SN_CIPHERED = 4


class MechanismName(IntEnum):
    """The last arc of the DLMS authentication mechanism OID 2.16.756.5.8.2.x."""

    LOWEST = 0
    LOW = 1
    HIGH = 2
    HIGH_MD5 = 3
    HIGH_SHA1 = 4
    HIGH_GMAC = 5
    HIGH_SHA256 = 6
    HIGH_ECDSA = 7


class AssociationResult(IntEnum):
    """AARE result."""

    ACCEPTED = 0
    REJECTED_PERMANENT = 1
    REJECTED_TRANSIENT = 2


class AcseServiceUserDiagnostic(IntEnum):
    """AARE result-source-diagnostic, acse-service-user [1] alternative."""

    NULL = 0
    NO_REASON_GIVEN = 1
    APPLICATION_CONTEXT_NAME_NOT_SUPPORTED = 2
    CALLING_AP_TITLE_NOT_RECOGNIZED = 3
    CALLING_AP_INVOCATION_IDENTIFIER_NOT_RECOGNIZED = 4
    CALLING_AE_QUALIFIER_NOT_RECOGNIZED = 5
    CALLING_AE_INVOCATION_IDENTIFIER_NOT_RECOGNIZED = 6
    CALLED_AP_TITLE_NOT_RECOGNIZED = 7
    CALLED_AP_INVOCATION_IDENTIFIER_NOT_RECOGNIZED = 8
    CALLED_AE_QUALIFIER_NOT_RECOGNIZED = 9
    CALLED_AE_INVOCATION_IDENTIFIER_NOT_RECOGNIZED = 10
    AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNISED = 11
    AUTHENTICATION_MECHANISM_NAME_REQUIRED = 12
    AUTHENTICATION_FAILURE = 13
    AUTHENTICATION_REQUIRED = 14


class AcseServiceProviderDiagnostic(IntEnum):
    """AARE result-source-diagnostic, acse-service-provider [2] alternative."""

    NULL = 0
    NO_REASON_GIVEN = 1
    NO_COMMON_ACSE_VERSION = 2


class ReleaseRequestReason(IntEnum):
    """RLRQ reason."""

    NORMAL = 0
    URGENT = 1
    USER_DEFINED = 30


class ReleaseResponseReason(IntEnum):
    """RLRE reason."""

    NORMAL = 0
    NOT_FINISHED = 1
    USER_DEFINED = 30


class AuthenticationValueForm(IntEnum):
    """Authentication-value CHOICE: charstring [0], bitstring [1], external [2], other [3]."""

    CHARSTRING = 0
    BITSTRING = 1
    EXTERNAL = 2
    OTHER = 3


def _member(enum: type[_E], value: int) -> _E:
    try:
        return enum_member(enum, value)
    except ValueError:
        raise LocalProtocolError(f"{value!r} is not a {enum.__name__}") from None


def _to_form(value: int) -> AuthenticationValueForm:
    return _member(AuthenticationValueForm, value)


def _to_context(value: int) -> ApplicationContextName:
    return _member(ApplicationContextName, value)


def _to_result(value: int) -> AssociationResult:
    return _member(AssociationResult, value)


def _to_mechanism(value: int | None) -> MechanismName | None:
    return None if value is None else _member(MechanismName, value)


def _to_request_reason(value: int | None) -> ReleaseRequestReason | None:
    return None if value is None else _member(ReleaseRequestReason, value)


def _to_response_reason(value: int | None) -> ReleaseResponseReason | None:
    return None if value is None else _member(ReleaseResponseReason, value)


def _hidden(value: bytes) -> str:
    return f"<{len(value)} octets hidden>"


@attrs.frozen(kw_only=True)
class AuthenticationValue:
    """calling- / responding-authentication-value: an LLS password or an HLS challenge.

    ``value`` is the contents octets of the chosen alternative as sent (for BITSTRING
    that includes the leading unused-bits octet; for EXTERNAL and OTHER the encoded
    inner elements). It is secret for LLS, so it never appears in ``repr``.
    """

    form: AuthenticationValueForm = attrs.field(
        default=AuthenticationValueForm.CHARSTRING, converter=_to_form
    )
    value: bytes = attrs.field(repr=_hidden)

    def _encode(self) -> bytes:
        constructed = self.form in (AuthenticationValueForm.EXTERNAL, AuthenticationValueForm.OTHER)
        identifier = (_CONSTRUCTED if constructed else _PRIMITIVE) | self.form
        return encode_tlv(identifier, self.value)


def _check_octets(instance: object, attribute: attrs.Attribute[object], value: object) -> None:
    if value is not None and not isinstance(value, bytes):
        raise LocalProtocolError(f"{attribute.name} must be bytes, not {type(value).__name__}")


def _opt_bytes() -> Any:
    return attrs.field(default=None, validator=_check_octets)


def _check_int(instance: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None and not -(2**63) <= value < 2**63:
        raise LocalProtocolError(f"{attribute.name} does not fit 8 octets")


def _opt_int() -> Any:
    return attrs.field(default=None, validator=_check_int)
