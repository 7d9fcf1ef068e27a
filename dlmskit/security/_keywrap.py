"""Key transfer: RFC 3394 AES key wrap and the key_transfer / key_agreement method data.

Security setup (class 64) method 2 key_transfer takes
``array of structure { key_id: enum, key_wrapped: octet-string }``, each key wrapped with
the master key (KEK) by RFC 3394 (24 bytes for a 16-byte key). Method 3 key_agreement
takes the same shape with ``key_data`` (ephemeral public key || signature).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs
from cryptography.hazmat.primitives import keywrap

from dlmskit.apdu._ciphered import _decode_length, _encode_length
from dlmskit.errors import DecodeError, LocalProtocolError, SecurityError
from dlmskit.security._control import KeyId

__all__ = [
    "KeyDataEntry",
    "TransferredKey",
    "build_key_data",
    "build_key_transfer",
    "parse_key_data",
    "parse_key_transfer",
    "unwrap_key",
    "wrap_key",
]


def wrap_key(kek: bytes, key: bytes) -> bytes:
    """RFC 3394 wrap of ``key`` (16 or 32 bytes) with ``kek``."""
    if len(kek) not in (16, 24, 32):
        raise LocalProtocolError(f"KEK must be 16, 24 or 32 bytes, got {len(kek)}")
    if len(key) < 16 or len(key) % 8:
        raise LocalProtocolError(
            f"a wrapped key must be a multiple of 8 bytes >= 16, got {len(key)}"
        )
    return keywrap.aes_key_wrap(bytes(kek), bytes(key))


def unwrap_key(kek: bytes, wrapped: bytes) -> bytes:
    """RFC 3394 unwrap; SecurityError when the integrity check fails."""
    if len(kek) not in (16, 24, 32):
        raise LocalProtocolError(f"KEK must be 16, 24 or 32 bytes, got {len(kek)}")
    if len(wrapped) < 24 or len(wrapped) % 8:
        raise SecurityError(f"wrapped key of {len(wrapped)} bytes is not a valid RFC 3394 output")
    try:
        return keywrap.aes_key_unwrap(bytes(kek), bytes(wrapped))
    except keywrap.InvalidUnwrap:
        raise SecurityError("key unwrap failed: wrong KEK or altered data") from None


@attrs.frozen(kw_only=True)
class KeyDataEntry:
    """One ``structure { key_id enum, octet-string }`` of key_transfer or key_agreement."""

    key_id: int = attrs.field()
    data: bytes

    @key_id.validator
    def _check(self, _attribute: attrs.Attribute[int], value: int) -> None:
        if not 0 <= value <= 0xFF:
            raise LocalProtocolError(f"key_id must be 0..255, got {value}")


@attrs.frozen(kw_only=True)
class TransferredKey:
    """A key to send or a key received by key_transfer (the key is kept out of repr)."""

    key_id: KeyId = attrs.field(converter=KeyId)
    key: bytes = attrs.field(repr=False)


def build_key_data(entries: Iterable[KeyDataEntry]) -> bytes:
    """A-XDR ``array of structure { enum, octet-string }``."""
    items = list(entries)
    out = bytearray(b"\x01")
    out += _encode_length(len(items))
    for entry in items:
        out += bytes((0x02, 0x02, 0x16, entry.key_id, 0x09))
        out += _encode_length(len(entry.data))
        out += entry.data
    return bytes(out)


def parse_key_data(data: bytes) -> list[KeyDataEntry]:
    """Inverse of :func:`build_key_data`; DecodeError on anything else."""
    data = bytes(data)
    if not data or data[0] != 0x01:
        raise DecodeError("not an array", offset=0, expected="array tag 0x01")
    if len(data) < 2:
        raise DecodeError("truncated", offset=1, expected="element count")
    first = data[1]
    if first < 0x80:
        count, offset = first, 2
    else:
        size = first & 0x7F
        if size not in (1, 2, 4) or 2 + size > len(data):
            raise DecodeError("bad element count", offset=1, expected="A-XDR count")
        count = int.from_bytes(data[2 : 2 + size], "big")
        offset = 2 + size
    # every element needs at least 6 bytes: check before trusting the count
    if count * 6 > len(data) - offset:
        raise DecodeError(
            f"{count} elements cannot fit in {len(data) - offset} bytes",
            offset=1,
            expected="a count within the buffer",
        )
    entries: list[KeyDataEntry] = []
    for _ in range(count):
        head = data[offset : offset + 5]
        if len(head) < 5 or head[0:3] != b"\x02\x02\x16" or head[4] != 0x09:
            raise DecodeError(
                "bad key entry", offset=offset, expected="02 02 16 <key_id> 09 <octet-string>"
            )
        length, start = _decode_length(data, offset + 5)
        entries.append(KeyDataEntry(key_id=head[3], data=data[start : start + length]))
        offset = start + length
    if offset != len(data):
        raise DecodeError(
            f"{len(data) - offset} trailing bytes", offset=offset, expected="end of array"
        )
    return entries


def build_key_transfer(keys: Iterable[TransferredKey], *, kek: bytes) -> bytes:
    """key_transfer method data: each key wrapped with ``kek``."""
    return build_key_data(
        KeyDataEntry(key_id=int(k.key_id), data=wrap_key(kek, k.key)) for k in keys
    )


def parse_key_transfer(data: bytes, *, kek: bytes) -> list[TransferredKey]:
    """Parse and unwrap key_transfer method data (SecurityError on a failed unwrap)."""
    result: list[TransferredKey] = []
    for entry in parse_key_data(data):
        if entry.key_id not in (0, 1, 2, 3):
            raise DecodeError(f"unknown key_id {entry.key_id}", offset=0, expected="key_id 0..3")
        result.append(TransferredKey(key_id=KeyId(entry.key_id), key=unwrap_key(kek, entry.data)))
    return result
