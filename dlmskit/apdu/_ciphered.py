"""Ciphered xDLMS envelopes (IEC 62056-5-3, Green Book 9.3): the bytes around a protected APDU.

These classes only frame and unframe; protecting and unprotecting the content is the job of
:class:`dlmskit.security.SecurityContext`. Every ciphered content starts with the security
header, security control (SC, 1 byte) and invocation counter (IC, 4 bytes big-endian),
followed by the payload exactly as sent (ciphertext and/or plaintext, then the tag).

* :class:`CipheredApdu`: service-specific glo-/ded- APDUs (``glo-X = X + 8`` for the
  0xC0.. services and ``X + 0x20`` for the 0x01..0x18 ones; ``ded-X`` adds 16 / 0x40).
* :class:`GeneralGloCiphering` (0xDB), :class:`GeneralDedCiphering` (0xDC): system title,
  then the ciphered content.
* :class:`GeneralCiphering` (0xDD) with an optional :data:`KeyInfo`.
* :class:`GeneralSigning` (0xDF).
"""

from __future__ import annotations

import enum
from typing import ClassVar, Self, TypedDict

import attrs

from dlmskit.errors import DecodeError, LocalProtocolError

__all__ = [
    "AgreedKey",
    "CipheredApdu",
    "GeneralCiphering",
    "GeneralDedCiphering",
    "GeneralGloCiphering",
    "GeneralSigning",
    "IdentifiedKey",
    "IdentifiedKeyId",
    "KeyInfo",
    "WrappedKey",
    "ciphered_tag",
    "plain_tag",
]

_MAX_IC = 0xFFFF_FFFF

# plain tag -> (glo tag, ded tag), dlms-facts 1.1
_PLAIN_TO_CIPHERED: dict[int, tuple[int, int]] = {
    0x01: (0x21, 0x41),  # initiate-request
    0x05: (0x25, 0x45),  # read-request
    0x06: (0x26, 0x46),  # write-request
    0x08: (0x28, 0x48),  # initiate-response
    0x0C: (0x2C, 0x4C),  # read-response
    0x0D: (0x2D, 0x4D),  # write-response
    0x0E: (0x2E, 0x4E),  # confirmed-service-error
    0x16: (0x36, 0x56),  # unconfirmed-write-request
    0x18: (0x38, 0x58),  # information-report-request
    0xC0: (0xC8, 0xD0),  # get-request
    0xC1: (0xC9, 0xD1),  # set-request
    0xC2: (0xCA, 0xD2),  # event-notification-request
    0xC3: (0xCB, 0xD3),  # action-request
    0xC4: (0xCC, 0xD4),  # get-response
    0xC5: (0xCD, 0xD5),  # set-response
    0xC7: (0xCF, 0xD7),  # action-response
}
# ciphered tag -> (plain tag, dedicated?)
_CIPHERED_TO_PLAIN: dict[int, tuple[int, bool]] = {}
for _plain, (_glo, _ded) in _PLAIN_TO_CIPHERED.items():
    _CIPHERED_TO_PLAIN[_glo] = (_plain, False)
    _CIPHERED_TO_PLAIN[_ded] = (_plain, True)
del _plain, _glo, _ded


def ciphered_tag(plain: int, *, dedicated: bool = False) -> int:
    """The glo- (or ded-) tag protecting an APDU whose first byte is ``plain``."""
    pair = _PLAIN_TO_CIPHERED.get(plain)
    if pair is None:
        raise LocalProtocolError(
            f"APDU tag 0x{plain:02X} has no service-specific ciphered form; "
            "use general-glo-ciphering or general-ded-ciphering"
        )
    return pair[1] if dedicated else pair[0]


def plain_tag(ciphered: int) -> tuple[int, bool] | None:
    """``(plain tag, dedicated)`` for a service-specific ciphered tag, else ``None``."""
    return _CIPHERED_TO_PLAIN.get(ciphered)


# -- A-XDR length and octet-string codec (kept local so the envelopes stand alone) ------------


def _encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    if n <= 0xFF:
        return bytes((0x81, n))
    if n <= 0xFFFF:
        return b"\x82" + n.to_bytes(2, "big")
    if n <= 0xFFFF_FFFF:
        return b"\x84" + n.to_bytes(4, "big")
    raise LocalProtocolError(f"length {n} does not fit an A-XDR length")


def _decode_length(data: bytes, offset: int) -> tuple[int, int]:
    """(length, offset after it); the length is checked against what remains."""
    if offset >= len(data):
        raise DecodeError("truncated", offset=offset, expected="length")
    first = data[offset]
    if first < 0x80:
        n, end = first, offset + 1
    else:
        size = first & 0x7F
        if size not in (1, 2, 4):
            raise DecodeError(
                f"bad length form 0x{first:02X}", offset=offset, expected="0x81, 0x82 or 0x84"
            )
        end = offset + 1 + size
        if end > len(data):
            raise DecodeError("truncated length", offset=offset, expected=f"{size} length bytes")
        n = int.from_bytes(data[offset + 1 : end], "big")
    if n > len(data) - end:
        raise DecodeError(
            f"length {n} runs past the end ({len(data) - end} bytes remain)",
            offset=offset,
            expected="a length within the buffer",
        )
    return n, end


def _octet_string(value: bytes) -> bytes:
    return _encode_length(len(value)) + value


def _read_octet_string(data: bytes, offset: int, what: str) -> tuple[bytes, int]:
    try:
        n, start = _decode_length(data, offset)
    except DecodeError as exc:
        raise DecodeError(exc.reason, offset=exc.offset, expected=what) from None
    return bytes(data[start : start + n]), start + n


def _read_byte(data: bytes, offset: int, what: str) -> int:
    if offset >= len(data):
        raise DecodeError("truncated", offset=offset, expected=what)
    return data[offset]


def _check_tag(data: bytes, tag: int, name: str) -> None:
    if not data:
        raise DecodeError("empty input", offset=0, expected=name)
    if data[0] != tag:
        raise DecodeError(
            f"tag 0x{data[0]:02X} is not {name}", offset=0, expected=f"tag 0x{tag:02X}"
        )


def _check_end(data: bytes, offset: int) -> None:
    if offset != len(data):
        raise DecodeError(
            f"{len(data) - offset} trailing bytes", offset=offset, expected="end of APDU"
        )


def _read_ciphered_content(data: bytes, offset: int) -> tuple[int, int, bytes]:
    """The last field, ciphered-content: SC, IC and payload; nothing may follow it."""
    content, end = _read_octet_string(data, offset, "ciphered-content")
    _check_end(data, end)
    return _split_content(content, offset)


def _split_content(content: bytes, offset: int) -> tuple[int, int, bytes]:
    """Split ciphered content into (SC, IC, payload); ``offset`` is its position, for errors."""
    if len(content) < 5:
        raise DecodeError(
            f"ciphered content of {len(content)} bytes has no room for the security header",
            offset=offset,
            expected="security control and invocation counter (5 bytes)",
        )
    return content[0], int.from_bytes(content[1:5], "big"), bytes(content[5:])


def _security_header(sc: int, ic: int) -> bytes:
    return bytes((sc,)) + ic.to_bytes(4, "big")


# -- validators ---------------------------------------------------------------------------


def _byte(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise LocalProtocolError(f"{attribute.name} must be 0..255, got {value}")


def _counter(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= _MAX_IC:
        raise LocalProtocolError(f"{attribute.name} must be 0..2**32-1, got {value}")


def _ciphered_tag_value(_inst: object, _attribute: attrs.Attribute[int], value: int) -> None:
    if value not in _CIPHERED_TO_PLAIN:
        raise LocalProtocolError(f"0x{value:02X} is not a service-specific ciphered tag")


# -- service-specific glo-/ded- APDUs -----------------------------------------------------


@attrs.frozen(kw_only=True)
class CipheredApdu:
    """A service-specific glo- or ded- APDU: ``tag || length || SC || IC || payload``.

    ``TAG`` is the glo-initiate-request tag; any tag in ``TAGS`` is accepted.
    """

    TAG: ClassVar[int] = 0x21
    TAGS: ClassVar[frozenset[int]] = frozenset(_CIPHERED_TO_PLAIN)

    tag: int = attrs.field(validator=_ciphered_tag_value)
    security_control: int = attrs.field(validator=_byte)
    invocation_counter: int = attrs.field(validator=_counter)
    payload: bytes

    @property
    def plain_tag(self) -> int:
        """First byte of the APDU this envelope protects."""
        return _CIPHERED_TO_PLAIN[self.tag][0]

    @property
    def dedicated(self) -> bool:
        """True for ded- tags (protected with the dedicated key)."""
        return _CIPHERED_TO_PLAIN[self.tag][1]

    def to_bytes(self) -> bytes:
        header = _security_header(self.security_control, self.invocation_counter)
        return bytes((self.tag,)) + _encode_length(5 + len(self.payload)) + header + self.payload

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        if not data:
            raise DecodeError("empty input", offset=0, expected="ciphered APDU tag")
        if data[0] not in _CIPHERED_TO_PLAIN:
            raise DecodeError(
                f"tag 0x{data[0]:02X} is not a service-specific ciphered APDU",
                offset=0,
                expected="glo- or ded- tag",
            )
        content, end = _read_octet_string(data, 1, "ciphered content")
        _check_end(data, end)
        sc, ic, payload = _split_content(content, 1)
        return cls(tag=data[0], security_control=sc, invocation_counter=ic, payload=payload)


# -- general-glo-ciphering / general-ded-ciphering ----------------------------------------


def _general_to_bytes(tag: int, system_title: bytes, sc: int, ic: int, payload: bytes) -> bytes:
    content = _security_header(sc, ic) + payload
    return bytes((tag,)) + _octet_string(system_title) + _octet_string(content)


@attrs.frozen(kw_only=True)
class _SystemTitleCiphering:
    """The shape of general-glo- and general-ded-ciphering: system title, ciphered content."""

    TAG: ClassVar[int]
    _NAME: ClassVar[str]

    system_title: bytes
    security_control: int = attrs.field(validator=_byte)
    invocation_counter: int = attrs.field(validator=_counter)
    payload: bytes

    def to_bytes(self) -> bytes:
        return _general_to_bytes(
            self.TAG,
            self.system_title,
            self.security_control,
            self.invocation_counter,
            self.payload,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        _check_tag(data, cls.TAG, cls._NAME)
        system_title, offset = _read_octet_string(data, 1, "system-title")
        sc, ic, payload = _read_ciphered_content(data, offset)
        return cls(
            system_title=system_title,
            security_control=sc,
            invocation_counter=ic,
            payload=payload,
        )


@attrs.frozen(kw_only=True)
class GeneralGloCiphering(_SystemTitleCiphering):
    """general-glo-ciphering (0xDB): sender system title, then the ciphered content."""

    TAG: ClassVar[int] = 0xDB
    _NAME: ClassVar[str] = "general-glo-ciphering"


@attrs.frozen(kw_only=True)
class GeneralDedCiphering(_SystemTitleCiphering):
    """general-ded-ciphering (0xDC): as 0xDB, protected with the dedicated key."""

    TAG: ClassVar[int] = 0xDC
    _NAME: ClassVar[str] = "general-ded-ciphering"


# -- general-ciphering and its key-info ---------------------------------------------------


@attrs.frozen(kw_only=True)
class _TransactionHeader:
    """transaction-id to other-information: the fields general-ciphering and -signing share."""

    TAG: ClassVar[int]

    transaction_id: bytes
    originator_system_title: bytes
    recipient_system_title: bytes
    date_time: bytes = b""
    other_information: bytes = b""

    def _header_bytes(self) -> bytes:
        return (
            _octet_string(self.transaction_id)
            + _octet_string(self.originator_system_title)
            + _octet_string(self.recipient_system_title)
            + _octet_string(self.date_time)
            + _octet_string(self.other_information)
        )


class _HeaderFields(TypedDict):
    transaction_id: bytes
    originator_system_title: bytes
    recipient_system_title: bytes
    date_time: bytes
    other_information: bytes


def _read_header(data: bytes) -> tuple[_HeaderFields, int]:
    """The five octet strings after the tag, and the offset after them."""
    transaction_id, offset = _read_octet_string(data, 1, "transaction-id")
    originator, offset = _read_octet_string(data, offset, "originator-system-title")
    recipient, offset = _read_octet_string(data, offset, "recipient-system-title")
    date_time, offset = _read_octet_string(data, offset, "date-time")
    other, offset = _read_octet_string(data, offset, "other-information")
    fields = _HeaderFields(
        transaction_id=transaction_id,
        originator_system_title=originator,
        recipient_system_title=recipient,
        date_time=date_time,
        other_information=other,
    )
    return fields, offset


class IdentifiedKeyId(enum.IntEnum):
    """key-id of an identified-key (Green Book Key-Info)."""

    GLOBAL_UNICAST_ENCRYPTION = 0
    GLOBAL_BROADCAST_ENCRYPTION = 1


@attrs.frozen(kw_only=True)
class IdentifiedKey:
    """key-info [0]: one of the global encryption keys, by id."""

    CHOICE: ClassVar[int] = 0
    key_id: IdentifiedKeyId = attrs.field(converter=IdentifiedKeyId)


@attrs.frozen(kw_only=True)
class WrappedKey:
    """key-info [1]: a content key wrapped (RFC 3394) with the KEK named by ``kek_id``."""

    CHOICE: ClassVar[int] = 1
    kek_id: int = attrs.field(default=0, validator=_byte)  # 0 = master key
    key_ciphered_data: bytes


@attrs.frozen(kw_only=True)
class AgreedKey:
    """key-info [2]: a key agreed by ECDH; ``key_parameters`` names the scheme."""

    CHOICE: ClassVar[int] = 2
    key_parameters: bytes
    key_ciphered_data: bytes


KeyInfo = IdentifiedKey | WrappedKey | AgreedKey


def _key_info_to_bytes(info: KeyInfo | None) -> bytes:
    if info is None:
        return b"\x00"
    if isinstance(info, IdentifiedKey):
        return bytes((1, 0, int(info.key_id)))
    if isinstance(info, WrappedKey):
        return bytes((1, 1, info.kek_id)) + _octet_string(info.key_ciphered_data)
    return b"\x01\x02" + _octet_string(info.key_parameters) + _octet_string(info.key_ciphered_data)


def _key_info_from_bytes(data: bytes, offset: int) -> tuple[KeyInfo | None, int]:
    present = _read_byte(data, offset, "key-info presence flag")
    if present == 0:
        return None, offset + 1
    if present != 1:
        raise DecodeError(
            f"bad OPTIONAL flag 0x{present:02X}", offset=offset, expected="0x00 or 0x01"
        )
    offset += 1
    choice = _read_byte(data, offset, "key-info choice")
    offset += 1
    if choice == 0:
        key_id = _read_byte(data, offset, "identified key-id")
        if key_id not in (0, 1):
            raise DecodeError(
                f"unknown identified key-id {key_id}", offset=offset, expected="0 or 1"
            )
        return IdentifiedKey(key_id=IdentifiedKeyId(key_id)), offset + 1
    if choice == 1:
        kek_id = _read_byte(data, offset, "kek-id")
        wrapped, offset = _read_octet_string(data, offset + 1, "key-ciphered-data")
        return WrappedKey(kek_id=kek_id, key_ciphered_data=wrapped), offset
    if choice == 2:
        params, offset = _read_octet_string(data, offset, "key-parameters")
        agreed, offset = _read_octet_string(data, offset, "key-ciphered-data")
        return AgreedKey(key_parameters=params, key_ciphered_data=agreed), offset
    raise DecodeError(f"unknown key-info choice {choice}", offset=offset - 1, expected="0, 1 or 2")


@attrs.frozen(kw_only=True)
class GeneralCiphering(_TransactionHeader):
    """general-ciphering (0xDD): transaction and party fields, optional key-info, content."""

    TAG: ClassVar[int] = 0xDD

    key_info: KeyInfo | None = None
    security_control: int = attrs.field(validator=_byte)
    invocation_counter: int = attrs.field(validator=_counter)
    payload: bytes

    def header_fields(self) -> bytes:
        """The encoded fields from transaction-id to other-information (used in the AAD)."""
        return self._header_bytes()

    def to_bytes(self) -> bytes:
        content = _security_header(self.security_control, self.invocation_counter) + self.payload
        return (
            bytes((self.TAG,))
            + self.header_fields()
            + _key_info_to_bytes(self.key_info)
            + _octet_string(content)
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        _check_tag(data, cls.TAG, "general-ciphering")
        header, offset = _read_header(data)
        key_info, offset = _key_info_from_bytes(data, offset)
        sc, ic, payload = _read_ciphered_content(data, offset)
        return cls(
            **header,
            key_info=key_info,
            security_control=sc,
            invocation_counter=ic,
            payload=payload,
        )


# -- general-signing ----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class GeneralSigning(_TransactionHeader):
    """general-signing (0xDF): content (any APDU, possibly ciphered) and its ECDSA signature."""

    TAG: ClassVar[int] = 0xDF

    content: bytes
    signature: bytes = b""

    def signed_bytes(self) -> bytes:
        """The encoded fields from transaction-id to content: what the signature covers."""
        return self._header_bytes() + _octet_string(self.content)

    def to_bytes(self) -> bytes:
        return bytes((self.TAG,)) + self.signed_bytes() + _octet_string(self.signature)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        _check_tag(data, cls.TAG, "general-signing")
        header, offset = _read_header(data)
        content, offset = _read_octet_string(data, offset, "content")
        signature, offset = _read_octet_string(data, offset, "signature")
        _check_end(data, offset)
        return cls(**header, content=content, signature=signature)
