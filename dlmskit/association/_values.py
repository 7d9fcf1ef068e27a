"""A-XDR pieces the association machines build and parse around the APDU codecs.

The raw-data of service-specific datablocks is the A-XDR encoding of the value (or, for
GET-With-List, of the ``SEQUENCE OF Get-Data-Result``), so both machines encode and
decode it here, always within the configured nesting depth.
"""

from __future__ import annotations

from typing import Final

from dlmskit.apdu import CosemMethodDescriptor, DataAccessResult
from dlmskit.axdr import (
    Data,
    OctetString,
    decode_from,
    decode_length,
    encode_into,
    encode_length,
)
from dlmskit.errors import DecodeError
from obis import ObisCode

__all__ = [
    "CURRENT_ASSOCIATION",
    "decode_data",
    "decode_data_list",
    "encode_data_list",
    "decode_get_results",
    "encode_data",
    "octet_string_value",
]

#: Association LN "current association" (class 15, 0.0.40.0.0.255), method 1
#: reply_to_HLS_authentication: HLS passes 3 and 4 (Green Book 9.2.2.2).
CURRENT_ASSOCIATION: Final = CosemMethodDescriptor(
    class_id=15, instance_id=ObisCode(0, 0, 40, 0, 0, 255), method_id=1
)


def encode_data(value: Data) -> bytes:
    out = bytearray()
    encode_into(out, value)
    return bytes(out)


def decode_data(data: bytes, max_depth: int) -> Data:
    """Exactly one Data filling ``data``."""
    value, end = decode_from(data, 0, max_depth=max_depth)
    if end != len(data):
        raise DecodeError("bytes after the value", offset=end, expected="end of data")
    return value


def encode_data_list(values: tuple[Data, ...]) -> bytes:
    """``SEQUENCE OF Data`` as carried in SET-With-List datablocks."""
    out = bytearray(encode_length(len(values)))
    for value in values:
        encode_into(out, value)
    return bytes(out)


def decode_data_list(data: bytes, count: int, max_depth: int) -> tuple[Data, ...]:
    """Parse ``SEQUENCE OF Data``; it must hold exactly ``count`` values."""
    n, pos = decode_length(data, 0)
    if n != count:
        raise DecodeError(f"{n} values for {count} attributes", offset=0, expected=str(count))
    values: list[Data] = []
    for _ in range(n):
        value, pos = decode_from(data, pos, max_depth=max_depth)
        values.append(value)
    if pos != len(data):
        raise DecodeError("bytes after the values", offset=pos, expected="end of data")
    return tuple(values)


def decode_get_results(
    data: bytes, count: int, max_depth: int
) -> tuple[Data | DataAccessResult, ...]:
    """Parse ``SEQUENCE OF Get-Data-Result``; it must hold exactly ``count`` results."""
    n, pos = decode_length(data, 0)
    if n != count:
        raise DecodeError(f"{n} results for {count} attributes", offset=0, expected=str(count))
    results: list[Data | DataAccessResult] = []
    for _ in range(n):
        if pos >= len(data):
            raise DecodeError("truncated Get-Data-Result", offset=pos, expected="choice")
        choice = data[pos]
        pos += 1
        if choice == 0:
            value, pos = decode_from(data, pos, max_depth=max_depth)
            results.append(value)
        elif choice == 1:
            if pos >= len(data):
                raise DecodeError("truncated Data-Access-Result", offset=pos, expected="enum")
            try:
                results.append(DataAccessResult(data[pos]))
            except ValueError:
                raise DecodeError(
                    f"unknown data-access-result {data[pos]}", offset=pos, expected="result"
                ) from None
            pos += 1
        else:
            raise DecodeError(f"Get-Data-Result choice {choice}", offset=pos - 1, expected="0/1")
    if pos != len(data):
        raise DecodeError("bytes after the results", offset=pos, expected="end of data")
    return tuple(results)


def octet_string_value(value: object) -> bytes | None:
    """The bytes of an octet-string value, else None."""
    if isinstance(value, OctetString):
        return bytes(value)
    return None
