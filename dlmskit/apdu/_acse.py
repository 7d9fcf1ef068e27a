"""ACSE APDUs: AARQ, AARE, RLRQ, RLRE (ISO/IEC 8650-1, as profiled by the Green Book).

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

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final, Self

import attrs

from dlmskit.apdu._acse_names import (
    _CONSTRUCTED,
    _CONTEXT_ARC,
    _E,
    _MECHANISM_ARC,
    _PRIMITIVE,
    AcseServiceProviderDiagnostic,
    AcseServiceUserDiagnostic,
    ApplicationContextName,
    AssociationResult,
    AuthenticationValue,
    AuthenticationValueForm,
    MechanismName,
    ReleaseRequestReason,
    ReleaseResponseReason,
    _opt_bytes,
    _opt_int,
    _to_context,
    _to_mechanism,
    _to_request_reason,
    _to_response_reason,
    _to_result,
)
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
from dlmskit.apdu._lookup import enum_member
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

# -- field codecs --------------------------------------------------------------------------
#
# Each ACSE field is described once, by its tag number, attribute name and a codec: the
# decoder gets the field's element, the encoder the tag number and a present value.

_Decoder = Callable[[bytes, Tlv, str], Any]
_Encoder = Callable[[int, Any], bytes]


@attrs.frozen
class _Field:
    name: str
    label: str
    decode: _Decoder
    encode: _Encoder
    required: bool = False


def _enum(enum: type[_E], value: int, offset: int, name: str) -> _E:
    try:
        return enum_member(enum, value)
    except ValueError:
        raise DecodeError(
            f"unknown {name} {value}", offset=offset, expected=f"one of {[int(m) for m in enum]}"
        ) from None


def _oid_table(arc: tuple[int, ...], enum: type[_E]) -> dict[bytes, _E]:
    """The OBJECT IDENTIFIER contents of every member of ``enum`` under ``arc``."""
    return {encode_oid((*arc, member)): member for member in enum}


# Every name the DLMS arcs define, by its contents octets: a received name is looked up
# whole (a minimal encoding is unique, so anything else is unknown or malformed and goes
# through decode_oid, which says which)
_CONTEXT_OIDS: Final = _oid_table(_CONTEXT_ARC, ApplicationContextName)
_MECHANISM_OIDS: Final = _oid_table(_MECHANISM_ARC, MechanismName)
_CONTEXT_OID_OF: Final = {member: oid for oid, member in _CONTEXT_OIDS.items()}
_MECHANISM_OID_OF: Final = {member: oid for oid, member in _MECHANISM_OIDS.items()}


def _dlms_oid(
    data: bytes, start: int, end: int, arc: tuple[int, ...], known: dict[bytes, _E]
) -> _E:
    member = known.get(bytes(data[start:end]))
    if member is not None:
        return member
    enum = type(next(iter(known.values())))
    oid = decode_oid(data, start, end)
    if len(oid) != len(arc) + 1 or oid[: len(arc)] != arc:
        raise DecodeError(
            f"unsupported object identifier {'.'.join(map(str, oid))}",
            offset=start,
            expected=".".join(map(str, arc)) + ".x",
        )
    return _enum(enum, oid[-1], start, enum.__name__)


def _decode_context(data: bytes, tlv: Tlv, label: str) -> ApplicationContextName:
    inner = explicit_inner(data, tlv, TAG_OBJECT_IDENTIFIER, label)
    return _dlms_oid(data, inner.value_start, inner.end, _CONTEXT_ARC, _CONTEXT_OIDS)


def _encode_context(number: int, value: ApplicationContextName) -> bytes:
    oid = _CONTEXT_OID_OF.get(value)
    if oid is None:
        oid = encode_oid((*_CONTEXT_ARC, value))
    return encode_explicit(number, TAG_OBJECT_IDENTIFIER, oid)


def _decode_mechanism(data: bytes, tlv: Tlv, label: str) -> MechanismName:
    expect_form(tlv, False, label)
    return _dlms_oid(data, tlv.value_start, tlv.end, _MECHANISM_ARC, _MECHANISM_OIDS)


def _encode_mechanism(number: int, value: MechanismName) -> bytes:
    oid = _MECHANISM_OID_OF.get(value)
    if oid is None:
        oid = encode_oid((*_MECHANISM_ARC, value))
    return encode_tlv(_PRIMITIVE | number, oid)


def _encode_bits(number: int, value: BerBitString) -> bytes:
    return encode_tlv(_PRIMITIVE | number, value.contents())


def _encode_octets(number: int, value: bytes) -> bytes:
    return encode_explicit(number, TAG_OCTET_STRING, value)


def _encode_integer(number: int, value: int) -> bytes:
    return encode_explicit(number, TAG_INTEGER, encode_integer(value))


def _decode_graphic(data: bytes, tlv: Tlv, label: str) -> bytes:
    expect_form(tlv, False, label)
    return bytes(data[tlv.value_start : tlv.end])


def _encode_graphic(number: int, value: bytes) -> bytes:
    return encode_tlv(_PRIMITIVE | number, value)


def _decode_auth(data: bytes, tlv: Tlv, label: str) -> AuthenticationValue:
    expect_form(tlv, True, label)
    inner = read_tlv(data, tlv.value_start, tlv.end)
    if inner.tag_class != CLASS_CONTEXT or inner.number > 3:
        raise DecodeError(f"unknown {label} alternative", offset=inner.start, expected="[0]..[3]")
    form = enum_member(AuthenticationValueForm, inner.number)
    expect_form(inner, form >= AuthenticationValueForm.EXTERNAL, label)
    if inner.end != tlv.end:
        raise DecodeError(f"trailing octets in {label}", offset=inner.end, expected="end of field")
    return AuthenticationValue(form=form, value=bytes(data[inner.value_start : inner.end]))


def _encode_auth(number: int, value: AuthenticationValue) -> bytes:
    return encode_tlv(_CONSTRUCTED | number, value._encode())


def _decode_result(data: bytes, tlv: Tlv, label: str) -> AssociationResult:
    inner = explicit_inner(data, tlv, TAG_INTEGER, label)
    value = decode_integer(data, inner.value_start, inner.end)
    return _enum(AssociationResult, value, inner.value_start, label)


_Diagnostic = AcseServiceUserDiagnostic | AcseServiceProviderDiagnostic


def _decode_diagnostic(data: bytes, tlv: Tlv, label: str) -> _Diagnostic:
    expect_form(tlv, True, label)
    choice = read_tlv(data, tlv.value_start, tlv.end)
    if choice.end != tlv.end:
        raise DecodeError(f"trailing octets in {label}", offset=choice.end, expected="end")
    enum: type[AcseServiceUserDiagnostic] | type[AcseServiceProviderDiagnostic]
    if choice.is_(CLASS_CONTEXT, 1, constructed=True):
        enum = AcseServiceUserDiagnostic
    elif choice.is_(CLASS_CONTEXT, 2, constructed=True):
        enum = AcseServiceProviderDiagnostic
    else:
        raise DecodeError(
            f"unknown {label} alternative",
            offset=choice.start,
            expected="acse-service-user [1] or acse-service-provider [2]",
        )
    inner = explicit_inner(data, choice, TAG_INTEGER, label)
    value = decode_integer(data, inner.value_start, inner.end)
    return _enum(enum, value, inner.value_start, enum.__name__)


def _encode_diagnostic(number: int, value: _Diagnostic) -> bytes:
    alternative = 1 if isinstance(value, AcseServiceUserDiagnostic) else 2
    choice = encode_explicit(alternative, TAG_INTEGER, encode_integer(value))
    return encode_tlv(_CONSTRUCTED | number, choice)


def _implicit_enum(enum: type[_E]) -> _Decoder:
    def decode(data: bytes, tlv: Tlv, label: str) -> _E:
        expect_form(tlv, False, label)
        value = decode_integer(data, tlv.value_start, tlv.end)
        return _enum(enum, value, tlv.value_start, label)

    return decode


def _encode_implicit_integer(number: int, value: int) -> bytes:
    return encode_tlv(_PRIMITIVE | number, encode_integer(value))


_BITS: Final = (implicit_bits, _encode_bits)
_OCTETS: Final = (explicit_octets, _encode_octets)
_INTEGER: Final = (explicit_integer, _encode_integer)


def _field(
    name: str, label: str, codec: tuple[_Decoder, _Encoder], required: bool = False
) -> _Field:
    return _Field(name=name, label=label, decode=codec[0], encode=codec[1], required=required)


_PROTOCOL_VERSION: Final = _field("protocol_version", "protocol-version", _BITS)
_CONTEXT_NAME: Final = _field(
    "application_context_name",
    "application-context-name",
    (_decode_context, _encode_context),
    required=True,
)
_IMPLEMENTATION: Final = _field(
    "implementation_information",
    "implementation-information",
    (_decode_graphic, _encode_graphic),
)
_USER_INFORMATION: Final = _field("user_information", "user-information", _OCTETS)


def _encode_apdu(tag: int, fields: Mapping[int, _Field], apdu: object) -> bytes:
    body = bytearray()
    for number, field in fields.items():
        value = getattr(apdu, field.name)
        if value is not None:
            body += field.encode(number, value)
    return encode_tlv(tag, bytes(body))


def _names(fields: Mapping[int, _Field]) -> dict[int, str]:
    """Attribute name by tag number: what :func:`read_sequence` keys its result by."""
    return {number: field.name for number, field in fields.items()}


def _decode_apdu(
    data: bytes, tag: int, name: str, fields: Mapping[int, _Field], names: Mapping[int, str]
) -> dict[str, Any]:
    found = read_sequence(data, tag, name, names)
    values: dict[str, Any] = {}
    for number, field in fields.items():
        tlv = found.get(field.name)
        if tlv is not None:
            values[field.name] = field.decode(data, tlv, field.label)
        elif field.required:
            raise DecodeError(f"{name} without {field.label}", offset=0, expected=f"[{number}]")
    return values


_AARQ_FIELDS: Final = {
    0: _PROTOCOL_VERSION,
    1: _CONTEXT_NAME,
    2: _field("called_ap_title", "called-AP-title", _OCTETS),
    3: _field("called_ae_qualifier", "called-AE-qualifier", _OCTETS),
    4: _field("called_ap_invocation_id", "called-AP-invocation-id", _INTEGER),
    5: _field("called_ae_invocation_id", "called-AE-invocation-id", _INTEGER),
    6: _field("calling_ap_title", "calling-AP-title", _OCTETS),
    7: _field("calling_ae_qualifier", "calling-AE-qualifier", _OCTETS),
    8: _field("calling_ap_invocation_id", "calling-AP-invocation-id", _INTEGER),
    9: _field("calling_ae_invocation_id", "calling-AE-invocation-id", _INTEGER),
    10: _field("sender_acse_requirements", "sender-acse-requirements", _BITS),
    11: _field("mechanism_name", "mechanism-name", (_decode_mechanism, _encode_mechanism)),
    12: _field(
        "calling_authentication_value",
        "calling-authentication-value",
        (_decode_auth, _encode_auth),
    ),
    29: _IMPLEMENTATION,
    30: _USER_INFORMATION,
}
_AARQ_NAMES: Final = _names(_AARQ_FIELDS)


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
        return _encode_apdu(self.TAG, _AARQ_FIELDS, self)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        return cls(**_decode_apdu(data, cls.TAG, "AARQ", _AARQ_FIELDS, _AARQ_NAMES))

    def initiate_request(self) -> InitiateRequest | None:
        """The user-information as an InitiateRequest; None if absent or ciphered."""
        if not self.user_information or self.user_information[0] != InitiateRequest.TAG:
            return None
        return InitiateRequest.from_bytes(self.user_information)


_AARE_FIELDS: Final = {
    0: _PROTOCOL_VERSION,
    1: _CONTEXT_NAME,
    2: _field("result", "result", (_decode_result, _encode_integer), required=True),
    3: _field(
        "result_source_diagnostic",
        "result-source-diagnostic",
        (_decode_diagnostic, _encode_diagnostic),
        required=True,
    ),
    4: _field("responding_ap_title", "responding-AP-title", _OCTETS),
    5: _field("responding_ae_qualifier", "responding-AE-qualifier", _OCTETS),
    6: _field("responding_ap_invocation_id", "responding-AP-invocation-id", _INTEGER),
    7: _field("responding_ae_invocation_id", "responding-AE-invocation-id", _INTEGER),
    8: _field("responder_acse_requirements", "responder-acse-requirements", _BITS),
    9: _field("mechanism_name", "mechanism-name", (_decode_mechanism, _encode_mechanism)),
    10: _field(
        "responding_authentication_value",
        "responding-authentication-value",
        (_decode_auth, _encode_auth),
    ),
    29: _IMPLEMENTATION,
    30: _USER_INFORMATION,
}
_AARE_NAMES: Final = _names(_AARE_FIELDS)


def _check_diagnostic(
    instance: object, attribute: attrs.Attribute[_Diagnostic], value: _Diagnostic
) -> None:
    if not isinstance(value, AcseServiceUserDiagnostic | AcseServiceProviderDiagnostic):
        raise LocalProtocolError(
            "result_source_diagnostic must be an AcseServiceUserDiagnostic or an "
            f"AcseServiceProviderDiagnostic, not {value!r}"
        )


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
    result_source_diagnostic: _Diagnostic = attrs.field(validator=_check_diagnostic)
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
        return _encode_apdu(self.TAG, _AARE_FIELDS, self)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        return cls(**_decode_apdu(data, cls.TAG, "AARE", _AARE_FIELDS, _AARE_NAMES))

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


_RLRQ_FIELDS: Final = {
    0: _field(
        "reason", "RLRQ reason", (_implicit_enum(ReleaseRequestReason), _encode_implicit_integer)
    ),
    30: _USER_INFORMATION,
}
_RLRQ_NAMES: Final = _names(_RLRQ_FIELDS)
_RLRE_FIELDS: Final = {
    0: _field(
        "reason", "RLRE reason", (_implicit_enum(ReleaseResponseReason), _encode_implicit_integer)
    ),
    30: _USER_INFORMATION,
}
_RLRE_NAMES: Final = _names(_RLRE_FIELDS)


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
        return _encode_apdu(self.TAG, _RLRQ_FIELDS, self)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        return cls(**_decode_apdu(data, cls.TAG, "RLRQ", _RLRQ_FIELDS, _RLRQ_NAMES))


@attrs.frozen(kw_only=True)
class RLRE:
    """A-RELEASE response (RLRE-apdu, [APPLICATION 3])."""

    TAG: ClassVar[int] = 0x63

    reason: ReleaseResponseReason | None = attrs.field(default=None, converter=_to_response_reason)
    user_information: bytes | None = _opt_bytes()

    def to_bytes(self) -> bytes:
        return _encode_apdu(self.TAG, _RLRE_FIELDS, self)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        return cls(**_decode_apdu(data, cls.TAG, "RLRE", _RLRE_FIELDS, _RLRE_NAMES))
