"""ACSE APDUs: AARQ, AARE, RLRQ, RLRE (ISO/IEC 8650-1 as profiled by Green Book 9.3).

These four are BER encoded, unlike every other xDLMS APDU. Fields follow the ACSE
ASN.1 with the DLMS profile's forms: AP-titles and AE-qualifiers are OCTET STRINGs,
invocation identifiers are INTEGERs, and user-information is an OCTET STRING holding
the raw xDLMS initiate APDU (``BE <len> 04 <len> <xDLMS>``), kept as bytes because it
is often ciphered.

Decoding rules, chosen per the ASN.1:

* fields must come in ascending tag order and at most once, with the right form;
* a context-specific field this codec does not model (application-context-name-list,
  or an extension addition after the ACSE ``...`` marker) is skipped, as ASN.1
  extensibility asks of a receiver, and is not re-encoded;
* a universal or application-class element inside the sequence is a DecodeError;
* the application-context-name and mechanism-name OIDs must be the DLMS UA ones
  (2.16.756.5.8.1.x and 2.16.756.5.8.2.x) with a known x.

Every encoding produced by ``to_bytes`` decodes back to an equal value, and decoding
such an encoding and re-encoding it gives the same bytes.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, ClassVar, Final, Self, TypeVar

import attrs

from dlmskit.apdu._ber import (
    CLASS_CONTEXT,
    TAG_INTEGER,
    TAG_OBJECT_IDENTIFIER,
    TAG_OCTET_STRING,
    BerBitString,
    Tlv,
    decode_integer,
    decode_oid,
    encode_explicit,
    encode_integer,
    encode_oid,
    encode_tlv,
    expect_form,
    explicit_inner,
    explicit_integer,
    explicit_octets,
    implicit_bits,
    read_sequence,
    read_tlv,
)
from dlmskit.apdu._initiate import InitiateRequest, InitiateResponse
from dlmskit.apdu._service_error import ConfirmedServiceError
from dlmskit.errors import DecodeError, LocalProtocolError

__all__ = [
    "AARE",
    "AARQ",
    "RLRE",
    "RLRQ",
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
        return enum(value)
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


# -- decoding helpers ----------------------------------------------------------------------


def _enum(enum: type[_E], value: int, offset: int, name: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        raise DecodeError(
            f"unknown {name} {value}", offset=offset, expected=f"one of {[int(m) for m in enum]}"
        ) from None


def _dlms_oid(data: bytes, start: int, end: int, arc: tuple[int, ...], enum: type[_E]) -> _E:
    oid = decode_oid(data, start, end)
    if len(oid) != len(arc) + 1 or oid[: len(arc)] != arc:
        dotted = ".".join(map(str, oid))
        raise DecodeError(
            f"unsupported object identifier {dotted}",
            offset=start,
            expected=".".join(map(str, arc)) + ".x",
        )
    return _enum(enum, oid[-1], start, enum.__name__)


def _context_name(data: bytes, tlv: Tlv | None, apdu: str) -> ApplicationContextName:
    if tlv is None:
        raise DecodeError(
            f"{apdu} without application-context-name", offset=0, expected="field [1]"
        )
    inner = explicit_inner(data, tlv, TAG_OBJECT_IDENTIFIER, "application-context-name")
    return _dlms_oid(data, inner.value_start, inner.end, _CONTEXT_ARC, ApplicationContextName)


def _mechanism(data: bytes, tlv: Tlv | None) -> MechanismName | None:
    if tlv is None:
        return None
    expect_form(tlv, False, "mechanism-name")
    return _dlms_oid(data, tlv.value_start, tlv.end, _MECHANISM_ARC, MechanismName)


def _graphic(data: bytes, tlv: Tlv | None) -> bytes | None:
    if tlv is None:
        return None
    expect_form(tlv, False, "implementation-information")
    return bytes(data[tlv.value_start : tlv.end])


def _auth(data: bytes, tlv: Tlv | None, name: str) -> AuthenticationValue | None:
    if tlv is None:
        return None
    expect_form(tlv, True, name)
    inner = read_tlv(data, tlv.value_start, tlv.end)
    if inner.tag_class != CLASS_CONTEXT or inner.number > 3:
        raise DecodeError(f"unknown {name} alternative", offset=inner.start, expected="[0]..[3]")
    form = AuthenticationValueForm(inner.number)
    expect_form(inner, form >= AuthenticationValueForm.EXTERNAL, name)
    if inner.end != tlv.end:
        raise DecodeError(f"trailing octets in {name}", offset=inner.end, expected="end of field")
    return AuthenticationValue(form=form, value=bytes(data[inner.value_start : inner.end]))


def _user_information(data: bytes, tlv: Tlv | None) -> bytes | None:
    return explicit_octets(data, tlv, "user-information")


def _implicit_enum(data: bytes, tlv: Tlv | None, enum: type[_E], name: str) -> _E | None:
    if tlv is None:
        return None
    expect_form(tlv, False, name)
    return _enum(enum, decode_integer(data, tlv.value_start, tlv.end), tlv.value_start, name)


# -- encoding helpers ----------------------------------------------------------------------


def _put_octets(out: list[bytes], number: int, value: bytes | None) -> None:
    if value is not None:
        out.append(encode_explicit(number, TAG_OCTET_STRING, value))


def _put_integer(out: list[bytes], number: int, value: int | None) -> None:
    if value is not None:
        out.append(encode_explicit(number, TAG_INTEGER, encode_integer(value)))


def _put_bits(out: list[bytes], number: int, value: BerBitString | None) -> None:
    if value is not None:
        out.append(encode_tlv(_PRIMITIVE | number, value.contents()))


def _put_context_name(out: list[bytes], value: ApplicationContextName) -> None:
    oid = encode_tlv(TAG_OBJECT_IDENTIFIER, encode_oid((*_CONTEXT_ARC, value)))
    out.append(encode_tlv(_CONSTRUCTED | 1, oid))


def _put_mechanism(out: list[bytes], number: int, value: MechanismName | None) -> None:
    if value is not None:
        out.append(encode_tlv(_PRIMITIVE | number, encode_oid((*_MECHANISM_ARC, value))))


def _put_auth(out: list[bytes], number: int, value: AuthenticationValue | None) -> None:
    if value is not None:
        out.append(encode_tlv(_CONSTRUCTED | number, value._encode()))


def _put_tail(out: list[bytes], implementation: bytes | None, user: bytes | None) -> None:
    if implementation is not None:
        out.append(encode_tlv(_PRIMITIVE | 29, implementation))
    _put_octets(out, 30, user)


def _apdu(tag: int, fields: list[bytes]) -> bytes:
    return encode_tlv(tag, b"".join(fields))


_AARQ_FIELDS: Final = {
    0: "protocol_version",
    1: "application_context_name",
    2: "called_ap_title",
    3: "called_ae_qualifier",
    4: "called_ap_invocation_id",
    5: "called_ae_invocation_id",
    6: "calling_ap_title",
    7: "calling_ae_qualifier",
    8: "calling_ap_invocation_id",
    9: "calling_ae_invocation_id",
    10: "sender_acse_requirements",
    11: "mechanism_name",
    12: "calling_authentication_value",
    29: "implementation_information",
    30: "user_information",
}


@attrs.frozen(kw_only=True)
class AARQ:
    """A-ASSOCIATE request (AARQ-apdu, [APPLICATION 0]).

    ``calling_ap_title`` is the client system title (needed for ciphered contexts and
    HLS mechanisms 5..7), ``calling_ae_invocation_id`` carries the user id,
    ``calling_ae_qualifier`` may carry a certificate. Some implementations write user
    ids 128..255 in one octet; those decode as the negative INTEGER they are in BER and
    re-encode to the same octet.
    """

    TAG: ClassVar[int] = 0x60

    protocol_version: BerBitString | None = None
    application_context_name: ApplicationContextName = attrs.field(converter=_to_context)
    called_ap_title: bytes | None = _opt_bytes()
    called_ae_qualifier: bytes | None = _opt_bytes()
    called_ap_invocation_id: int | None = _opt_int()
    called_ae_invocation_id: int | None = _opt_int()
    calling_ap_title: bytes | None = _opt_bytes()
    calling_ae_qualifier: bytes | None = _opt_bytes()
    calling_ap_invocation_id: int | None = _opt_int()
    calling_ae_invocation_id: int | None = _opt_int()
    sender_acse_requirements: BerBitString | None = None
    mechanism_name: MechanismName | None = attrs.field(default=None, converter=_to_mechanism)
    calling_authentication_value: AuthenticationValue | None = None
    implementation_information: bytes | None = _opt_bytes()
    user_information: bytes | None = _opt_bytes()

    def to_bytes(self) -> bytes:
        out: list[bytes] = []
        _put_bits(out, 0, self.protocol_version)
        _put_context_name(out, self.application_context_name)
        _put_octets(out, 2, self.called_ap_title)
        _put_octets(out, 3, self.called_ae_qualifier)
        _put_integer(out, 4, self.called_ap_invocation_id)
        _put_integer(out, 5, self.called_ae_invocation_id)
        _put_octets(out, 6, self.calling_ap_title)
        _put_octets(out, 7, self.calling_ae_qualifier)
        _put_integer(out, 8, self.calling_ap_invocation_id)
        _put_integer(out, 9, self.calling_ae_invocation_id)
        _put_bits(out, 10, self.sender_acse_requirements)
        _put_mechanism(out, 11, self.mechanism_name)
        _put_auth(out, 12, self.calling_authentication_value)
        _put_tail(out, self.implementation_information, self.user_information)
        return _apdu(self.TAG, out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        f = read_sequence(data, cls.TAG, "AARQ", _AARQ_FIELDS)
        get = f.get
        return cls(
            protocol_version=implicit_bits(data, get("protocol_version"), "protocol-version"),
            application_context_name=_context_name(data, get("application_context_name"), "AARQ"),
            called_ap_title=explicit_octets(data, get("called_ap_title"), "called-AP-title"),
            called_ae_qualifier=explicit_octets(
                data, get("called_ae_qualifier"), "called-AE-qualifier"
            ),
            called_ap_invocation_id=explicit_integer(
                data, get("called_ap_invocation_id"), "called-AP-invocation-id"
            ),
            called_ae_invocation_id=explicit_integer(
                data, get("called_ae_invocation_id"), "called-AE-invocation-id"
            ),
            calling_ap_title=explicit_octets(data, get("calling_ap_title"), "calling-AP-title"),
            calling_ae_qualifier=explicit_octets(
                data, get("calling_ae_qualifier"), "calling-AE-qualifier"
            ),
            calling_ap_invocation_id=explicit_integer(
                data, get("calling_ap_invocation_id"), "calling-AP-invocation-id"
            ),
            calling_ae_invocation_id=explicit_integer(
                data, get("calling_ae_invocation_id"), "calling-AE-invocation-id"
            ),
            sender_acse_requirements=implicit_bits(
                data, get("sender_acse_requirements"), "sender-acse-requirements"
            ),
            mechanism_name=_mechanism(data, get("mechanism_name")),
            calling_authentication_value=_auth(
                data, get("calling_authentication_value"), "calling-authentication-value"
            ),
            implementation_information=_graphic(data, get("implementation_information")),
            user_information=_user_information(data, get("user_information")),
        )

    def initiate_request(self) -> InitiateRequest | None:
        """The user-information as an InitiateRequest; None if absent or ciphered."""
        if not self.user_information or self.user_information[0] != InitiateRequest.TAG:
            return None
        return InitiateRequest.from_bytes(self.user_information)


_AARE_FIELDS: Final = {
    0: "protocol_version",
    1: "application_context_name",
    2: "result",
    3: "result_source_diagnostic",
    4: "responding_ap_title",
    5: "responding_ae_qualifier",
    6: "responding_ap_invocation_id",
    7: "responding_ae_invocation_id",
    8: "responder_acse_requirements",
    9: "mechanism_name",
    10: "responding_authentication_value",
    29: "implementation_information",
    30: "user_information",
}


_Diagnostic = AcseServiceUserDiagnostic | AcseServiceProviderDiagnostic


def _check_diagnostic(
    instance: object, attribute: attrs.Attribute[_Diagnostic], value: _Diagnostic
) -> None:
    if not isinstance(value, AcseServiceUserDiagnostic | AcseServiceProviderDiagnostic):
        raise LocalProtocolError(
            "result_source_diagnostic must be an AcseServiceUserDiagnostic or an "
            f"AcseServiceProviderDiagnostic, not {value!r}"
        )


def _diagnostic(
    data: bytes, tlv: Tlv | None
) -> AcseServiceUserDiagnostic | AcseServiceProviderDiagnostic:
    if tlv is None:
        raise DecodeError("AARE without result-source-diagnostic", offset=0, expected="field [3]")
    expect_form(tlv, True, "result-source-diagnostic")
    choice = read_tlv(data, tlv.value_start, tlv.end)
    if choice.end != tlv.end:
        raise DecodeError(
            "trailing octets in result-source-diagnostic", offset=choice.end, expected="end"
        )
    enum: type[AcseServiceUserDiagnostic] | type[AcseServiceProviderDiagnostic]
    if choice.is_(CLASS_CONTEXT, 1, constructed=True):
        enum = AcseServiceUserDiagnostic
    elif choice.is_(CLASS_CONTEXT, 2, constructed=True):
        enum = AcseServiceProviderDiagnostic
    else:
        raise DecodeError(
            "unknown result-source-diagnostic alternative",
            offset=choice.start,
            expected="acse-service-user [1] or acse-service-provider [2]",
        )
    inner = explicit_inner(data, choice, TAG_INTEGER, "result-source-diagnostic")
    value = decode_integer(data, inner.value_start, inner.end)
    return _enum(enum, value, inner.value_start, enum.__name__)


@attrs.frozen(kw_only=True)
class AARE:
    """A-ASSOCIATE response (AARE-apdu, [APPLICATION 1]).

    ``result_source_diagnostic`` is an :class:`AcseServiceUserDiagnostic` or an
    :class:`AcseServiceProviderDiagnostic`; its type selects the CHOICE alternative.
    For HLS, an accepted AARE says AUTHENTICATION_REQUIRED and carries StoC in
    ``responding_authentication_value`` and the server system title in
    ``responding_ap_title``.
    """

    TAG: ClassVar[int] = 0x61

    protocol_version: BerBitString | None = None
    application_context_name: ApplicationContextName = attrs.field(converter=_to_context)
    result: AssociationResult = attrs.field(converter=_to_result)
    result_source_diagnostic: AcseServiceUserDiagnostic | AcseServiceProviderDiagnostic = (
        attrs.field(validator=_check_diagnostic)
    )
    responding_ap_title: bytes | None = _opt_bytes()
    responding_ae_qualifier: bytes | None = _opt_bytes()
    responding_ap_invocation_id: int | None = _opt_int()
    responding_ae_invocation_id: int | None = _opt_int()
    responder_acse_requirements: BerBitString | None = None
    mechanism_name: MechanismName | None = attrs.field(default=None, converter=_to_mechanism)
    responding_authentication_value: AuthenticationValue | None = None
    implementation_information: bytes | None = _opt_bytes()
    user_information: bytes | None = _opt_bytes()

    def to_bytes(self) -> bytes:
        out: list[bytes] = []
        _put_bits(out, 0, self.protocol_version)
        _put_context_name(out, self.application_context_name)
        _put_integer(out, 2, self.result)
        diagnostic = self.result_source_diagnostic
        alternative = 1 if isinstance(diagnostic, AcseServiceUserDiagnostic) else 2
        choice = encode_explicit(alternative, TAG_INTEGER, encode_integer(diagnostic))
        out.append(encode_tlv(_CONSTRUCTED | 3, choice))
        _put_octets(out, 4, self.responding_ap_title)
        _put_octets(out, 5, self.responding_ae_qualifier)
        _put_integer(out, 6, self.responding_ap_invocation_id)
        _put_integer(out, 7, self.responding_ae_invocation_id)
        _put_bits(out, 8, self.responder_acse_requirements)
        _put_mechanism(out, 9, self.mechanism_name)
        _put_auth(out, 10, self.responding_authentication_value)
        _put_tail(out, self.implementation_information, self.user_information)
        return _apdu(self.TAG, out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        f = read_sequence(data, cls.TAG, "AARE", _AARE_FIELDS)
        get = f.get
        result_tlv = get("result")
        result = explicit_integer(data, result_tlv, "result")
        if result is None or result_tlv is None:
            raise DecodeError("AARE without result", offset=0, expected="field [2]")
        return cls(
            protocol_version=implicit_bits(data, get("protocol_version"), "protocol-version"),
            application_context_name=_context_name(data, get("application_context_name"), "AARE"),
            result=_enum(AssociationResult, result, result_tlv.value_start, "result"),
            result_source_diagnostic=_diagnostic(data, get("result_source_diagnostic")),
            responding_ap_title=explicit_octets(
                data, get("responding_ap_title"), "responding-AP-title"
            ),
            responding_ae_qualifier=explicit_octets(
                data, get("responding_ae_qualifier"), "responding-AE-qualifier"
            ),
            responding_ap_invocation_id=explicit_integer(
                data, get("responding_ap_invocation_id"), "responding-AP-invocation-id"
            ),
            responding_ae_invocation_id=explicit_integer(
                data, get("responding_ae_invocation_id"), "responding-AE-invocation-id"
            ),
            responder_acse_requirements=implicit_bits(
                data, get("responder_acse_requirements"), "responder-acse-requirements"
            ),
            mechanism_name=_mechanism(data, get("mechanism_name")),
            responding_authentication_value=_auth(
                data, get("responding_authentication_value"), "responding-authentication-value"
            ),
            implementation_information=_graphic(data, get("implementation_information")),
            user_information=_user_information(data, get("user_information")),
        )

    def initiate_response(self) -> InitiateResponse | ConfirmedServiceError | None:
        """The user-information decoded when not ciphered; None if absent or ciphered."""
        info = self.user_information
        if not info:
            return None
        if info[0] == InitiateResponse.TAG:
            return InitiateResponse.from_bytes(info)
        if info[0] == ConfirmedServiceError.TAG:
            return ConfirmedServiceError.from_bytes(info)
        return None


_RELEASE_FIELDS: Final = {0: "reason", 30: "user_information"}


def _release_encode(tag: int, reason: int | None, user: bytes | None) -> bytes:
    out: list[bytes] = []
    if reason is not None:
        out.append(encode_tlv(_PRIMITIVE | 0, encode_integer(reason)))
    _put_octets(out, 30, user)
    return _apdu(tag, out)


@attrs.frozen(kw_only=True)
class RLRQ:
    """A-RELEASE request (RLRQ-apdu, [APPLICATION 2]).

    ``user_information`` carries a (usually ciphered) InitiateRequest when protected
    release is used.
    """

    TAG: ClassVar[int] = 0x62

    reason: ReleaseRequestReason | None = attrs.field(default=None, converter=_to_request_reason)
    user_information: bytes | None = _opt_bytes()

    def to_bytes(self) -> bytes:
        return _release_encode(self.TAG, self.reason, self.user_information)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        f = read_sequence(data, cls.TAG, "RLRQ", _RELEASE_FIELDS)
        return cls(
            reason=_implicit_enum(data, f.get("reason"), ReleaseRequestReason, "RLRQ reason"),
            user_information=_user_information(data, f.get("user_information")),
        )


@attrs.frozen(kw_only=True)
class RLRE:
    """A-RELEASE response (RLRE-apdu, [APPLICATION 3])."""

    TAG: ClassVar[int] = 0x63

    reason: ReleaseResponseReason | None = attrs.field(default=None, converter=_to_response_reason)
    user_information: bytes | None = _opt_bytes()

    def to_bytes(self) -> bytes:
        return _release_encode(self.TAG, self.reason, self.user_information)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        f = read_sequence(data, cls.TAG, "RLRE", _RELEASE_FIELDS)
        return cls(
            reason=_implicit_enum(data, f.get("reason"), ReleaseResponseReason, "RLRE reason"),
            user_information=_user_information(data, f.get("user_information")),
        )
