"""OBIS codes: logical-name conversion and naming rate, obis against gurux-dlms.

A head-end turns every capture object's 6-octet logical name into a code (and often a
name) for every profile it reads, so these conversions sit on the ingestion path.
"""

from __future__ import annotations

from _harness import Measurement, rate
from gurux_dlms.enums import ObjectType
from gurux_dlms.GXDLMSConverter import GXDLMSConverter
from gurux_dlms.internal._GXCommon import _GXCommon

from obis import ObisCode, describe

# The logical names of an IS 15959-2 block load and instantaneous profile.
TEXTS = [
    "0.0.1.0.0.255",
    "1.0.12.27.0.255",
    "1.0.1.29.0.255",
    "1.0.9.29.0.255",
    "1.0.2.29.0.255",
    "1.0.10.29.0.255",
    "1.0.11.27.0.255",
    "1.0.12.7.0.255",
    "1.0.11.7.0.255",
    "1.0.91.7.0.255",
    "1.0.13.7.0.255",
    "1.0.14.7.0.255",
    "1.0.1.8.0.255",
    "1.0.9.8.0.255",
    "1.0.1.6.0.255",
    "1.0.9.6.0.255",
]
RAW = [ObisCode.parse(t).to_bytes() for t in TEXTS]
RAW_ARRAYS = [bytearray(raw) for raw in RAW]  # gurux reads logical names from bytearray
N = len(TEXTS)


def run() -> list[Measurement]:
    def ours_from_bytes() -> object:
        return [str(ObisCode.from_bytes(raw)) for raw in RAW]

    def gurux_from_bytes() -> object:
        return [_GXCommon.toLogicalName(raw) for raw in RAW_ARRAYS]

    assert ours_from_bytes() == gurux_from_bytes() == TEXTS

    def ours_parse() -> object:
        return [ObisCode.parse(t).to_bytes() for t in TEXTS]

    def gurux_parse() -> object:
        return [bytes(_GXCommon.logicalNameToBytes(t)) for t in TEXTS]

    assert ours_parse() == gurux_parse() == RAW

    converter = GXDLMSConverter()

    def ours_describe() -> list[str | None]:
        return [describe(raw) for raw in RAW]

    def gurux_describe() -> list[list[str]]:
        return [converter.getDescription(t, ObjectType.NONE) for t in TEXTS]

    assert all(ours_describe()) and all(gurux_describe())

    return [
        Measurement(
            name="OBIS logical name bytes -> text",
            unit="codes/s",
            ours=rate(ours_from_bytes) * N,
            peer_name="gurux-dlms _GXCommon.toLogicalName",
            peer=rate(gurux_from_bytes) * N,
            note="repeated logical names hit obis's bounded intern table, as in profile reads",
        ),
        Measurement(
            name="OBIS text -> logical name bytes",
            unit="codes/s",
            ours=rate(ours_parse) * N,
            peer_name="gurux-dlms _GXCommon.logicalNameToBytes",
            peer=rate(gurux_parse) * N,
            note="repeated texts hit obis's bounded intern table",
        ),
        Measurement(
            name="OBIS code -> human name",
            unit="codes/s",
            ours=rate(ours_describe) * N,
            peer_name="gurux-dlms GXDLMSConverter.getDescription",
            peer=rate(gurux_describe, repeats=3) * N,
            note="gurux scans its standard OBIS table; obis looks up its catalogue",
        ),
    ]
