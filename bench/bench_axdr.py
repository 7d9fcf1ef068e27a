"""A-XDR profile buffer: decode and encode rate, dlmskit against gurux-dlms, same bytes.

The input is the GET-Response-Normal a meter sends for one day of its block-load profile:
96 rows of {date-time as octet-string(12), status unsigned, 4 x double-long-unsigned}.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from _harness import Measurement, rate
from gurux_dlms import (
    GXArray,
    GXByteBuffer,
    GXDLMSSettings,
    GXEnum,
    GXInt8,
    GXStructure,
    GXUInt8,
    GXUInt16,
    GXUInt32,
)
from gurux_dlms.enums import DataType as GT
from gurux_dlms.internal._GXCommon import _GXCommon
from gurux_dlms.internal._GXDataInfo import _GXDataInfo

from dlmskit.axdr import (
    Array,
    DateTime,
    DeviationSign,
    DoubleLongUnsigned,
    Enum,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
    decode_from,
    encode,
)

ROWS = 96
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
GET_RESPONSE_NORMAL = bytes.fromhex("C401C100")  # get-response, normal, invoke-id 1, data


def profile_rows() -> Array:
    start = dt.datetime(2024, 1, 1, tzinfo=IST)
    rows = []
    for i in range(ROWS):
        stamp = DateTime.from_datetime(
            start + dt.timedelta(minutes=15 * i), sign=DeviationSign.BLUE_BOOK
        )
        rows.append(
            Structure(
                [
                    OctetString(stamp.to_bytes()),
                    Unsigned(0),
                    DoubleLongUnsigned(230_000 + 17 * i),
                    DoubleLongUnsigned(52_000 + 5 * i),
                    DoubleLongUnsigned(1_200 * i),
                    DoubleLongUnsigned(410 * i),
                ]
            )
        )
    return Array(rows)


_GURUX_TYPES: dict[type, Any] = {
    Unsigned: GXUInt8,
    LongUnsigned: GXUInt16,
    DoubleLongUnsigned: GXUInt32,
    Integer: GXInt8,
    Enum: GXEnum,
}


def to_gurux(value: object) -> Any:
    """The same value as gurux's typed objects, so gurux writes the same octets."""
    wrap = _GURUX_TYPES.get(type(value))
    if wrap is not None:
        return wrap(value)
    if isinstance(value, Structure):
        out = GXStructure()
        out.extend(to_gurux(item) for item in value)
        return out
    if isinstance(value, Array):
        return GXArray([to_gurux(item) for item in value])
    if isinstance(value, bytes):
        return bytes(value)
    assert value is None or isinstance(value, bool)
    return value


def object_list(entries: int = 60) -> Array:
    """An Association LN object_list: nested structures the fast path does not cover."""
    rows = []
    for i in range(entries):
        attributes = Array([Structure([Integer(a), Enum(1), None]) for a in range(1, 4)])
        methods = Array([Structure([Integer(1), True])])
        rows.append(
            Structure(
                [
                    LongUnsigned(3),
                    Unsigned(0),
                    OctetString(bytes([1, 0, 1, 8, i % 256, 255])),
                    Structure([attributes, methods]),
                ]
            )
        )
    return Array(rows)


def paired(
    ours: Callable[[], object], peer: Callable[[], object], per_call: int, rounds: int = 3
) -> tuple[float, float]:
    """Best rates of both, measured in alternation so a busy machine slows both alike."""
    best_ours = best_peer = 0.0
    for _ in range(rounds):
        best_ours = max(best_ours, rate(ours, min_time=0.2, repeats=3))
        best_peer = max(best_peer, rate(peer, min_time=0.2, repeats=2))
    return best_ours * per_call, best_peer * per_call


def count_values(value: object) -> int:
    """Every value in the tree, containers included."""
    if isinstance(value, tuple):
        return 1 + sum(count_values(item) for item in value)
    return 1


def run() -> list[Measurement]:
    rows = profile_rows()
    apdu = GET_RESPONSE_NORMAL + encode(rows)
    data_offset = len(GET_RESPONSE_NORMAL)
    settings = GXDLMSSettings(True, None)

    def ours_decode() -> object:
        value, _ = decode_from(apdu, data_offset)
        return value

    gurux_buffer = GXByteBuffer(bytearray(apdu))

    def gurux_decode() -> object:
        gurux_buffer.position = data_offset
        return _GXCommon.getData(settings, gurux_buffer, _GXDataInfo())

    # Same bytes, same rows: check both read what was written before timing anything.
    decoded = ours_decode()
    assert decoded == rows
    theirs: Any = gurux_decode()
    row5 = rows[5]
    assert isinstance(row5, Structure)
    assert len(theirs) == ROWS and [int(v) for v in theirs[5][2:]] == list(row5[2:])

    ours, peer = paired(ours_decode, gurux_decode, ROWS)

    grows = to_gurux(rows)

    def gurux_encode() -> object:
        buff = GXByteBuffer()
        _GXCommon.setData(settings, buff, GT.ARRAY, grows)
        return buff

    assert bytes(gurux_encode().array()) == encode(rows)  # type: ignore[attr-defined]
    ours_enc, peer_enc = paired(lambda: encode(rows), gurux_encode, ROWS)
    nested = encode(object_list())
    nested_buffer = GXByteBuffer(bytearray(nested))

    def gurux_nested() -> object:
        nested_buffer.position = 0
        return _GXCommon.getData(settings, nested_buffer, _GXDataInfo())

    objects = object_list()
    values_per_list = count_values(objects)
    ours_nested, peer_nested = paired(lambda: decode_from(nested, 0), gurux_nested, values_per_list)

    gurux_objects = to_gurux(objects)

    def gurux_encode_nested() -> object:
        buff = GXByteBuffer()
        _GXCommon.setData(settings, buff, GT.ARRAY, gurux_objects)
        return buff

    assert bytes(gurux_encode_nested().array()) == nested  # type: ignore[attr-defined]
    ours_nested_enc, peer_nested_enc = paired(
        lambda: encode(objects), gurux_encode_nested, values_per_list
    )

    return [
        Measurement(
            name=f"A-XDR profile decode ({ROWS} rows)",
            unit="rows/s",
            ours=ours,
            peer_name="gurux-dlms",
            peer=peer,
            target=20,
            note="GET-Response-Normal Data part; date-time octet-string(12), unsigned, 4 x u32",
        ),
        Measurement(
            name=f"A-XDR profile encode ({ROWS} rows)",
            unit="rows/s",
            ours=ours_enc,
            peer_name="gurux-dlms",
            peer=peer_enc,
            note="same rows, typed values to octets",
        ),
        Measurement(
            name="A-XDR nested decode (object_list, 60 objects)",
            unit="values/s",
            ours=ours_nested,
            peer_name="gurux-dlms",
            peer=peer_nested,
            note="general decoder: structures holding arrays of structures",
        ),
        Measurement(
            name="A-XDR nested encode (object_list, 60 objects)",
            unit="values/s",
            ours=ours_nested_enc,
            peer_name="gurux-dlms",
            peer=peer_nested_enc,
            note="general encoder, same values",
        ),
    ]
