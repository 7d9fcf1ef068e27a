"""A-XDR: the encoding of COSEM ``Data`` values (IEC 62056-6-2 on IEC 61334-6 A-XDR).

``decode``/``decode_from`` turn octets into typed values that keep their DLMS type, and
``encode``/``encode_into`` turn them back, so ``encode(decode(b)) == b`` for every
canonical encoding and ``decode(encode(v)) == v``. Every decoder raises
``dlmskit.errors.DecodeError`` (with the offset) on malformed input and nothing else.

Choices made where the standard or practice leaves room:

* Lengths: the minimal form (< 0x80, 0x81, 0x82, 0x84) is canonical and is what
  ``encode_length`` writes; 0x83 and non-minimal forms (``81 05``) are accepted on
  decoding and re-encoded minimally; 0x80 and 0x85+ are errors.
* boolean: any non-zero octet decodes as ``True``; ``True`` is written 01 (as Gurux).
* visible-string: one octet a character (U+0000..U+00FF), so any octets round-trip;
  utf8-string must be valid UTF-8.
* float32/float64 keep their exact bits, NaN payloads included.
* date, time, date-time: fields out of their range (month 13, hour 24, deviation beyond
  +-720, reserved day values) are a ``DecodeError``; "not specified" fields are ``None``.
  The same 12 octets inside an octet-string stay an ``OctetString`` (read them with
  ``as_datetime()``). Converting to ``datetime`` takes an explicit ``DeviationSign``.
* Nesting: the decoder is iterative; ``max_depth`` (default 64) bounds arrays,
  structures and compact-array descriptions; the encoder writes up to 4096 levels.
* Arrays of same-shape rows (profile buffers) are decoded and encoded through one
  precompiled ``struct.Struct`` per shape, every tag and length octet checked; any
  other array goes through the general code, with identical results.
"""

from __future__ import annotations

from dlmskit.axdr._datetime import ClockStatus, Date, DateTime, DeviationSign, Time
from dlmskit.axdr._decode import DEFAULT_MAX_DEPTH, decode, decode_from
from dlmskit.axdr._encode import data_type_of, encode, encode_into
from dlmskit.axdr._length import decode_length, encode_length
from dlmskit.axdr._types import (
    DONT_CARE,
    Array,
    Bcd,
    BitString,
    CompactArray,
    Data,
    DataType,
    DontCare,
    DoubleLong,
    DoubleLongUnsigned,
    Encodable,
    Enum,
    Float32,
    Float64,
    Integer,
    Long,
    Long64,
    Long64Unsigned,
    LongUnsigned,
    OctetString,
    Structure,
    TypeDescription,
    Unsigned,
    Utf8String,
    VisibleString,
)

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DONT_CARE",
    "Array",
    "Bcd",
    "BitString",
    "ClockStatus",
    "CompactArray",
    "Data",
    "DataType",
    "Date",
    "DateTime",
    "DeviationSign",
    "DontCare",
    "DoubleLong",
    "DoubleLongUnsigned",
    "Encodable",
    "Enum",
    "Float32",
    "Float64",
    "Integer",
    "Long",
    "Long64",
    "Long64Unsigned",
    "LongUnsigned",
    "OctetString",
    "Structure",
    "Time",
    "TypeDescription",
    "Unsigned",
    "Utf8String",
    "VisibleString",
    "data_type_of",
    "decode",
    "decode_from",
    "decode_length",
    "encode",
    "encode_into",
    "encode_length",
]
