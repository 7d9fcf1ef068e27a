"""A-XDR: the encoding of COSEM ``Data`` values (IEC 62056-6-2 on IEC 61334-6 A-XDR).

``decode``/``decode_from`` turn octets into typed values that keep their DLMS type, and
``encode``/``encode_into`` turn them back, so ``encode(decode(b)) == b`` for every
canonical encoding (lengths in their minimal form, see ``decode_length``; booleans as
00/01).  Every decoder raises ``dlmskit.errors.DecodeError`` on malformed input and
nothing else.
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
