"""OBIS codes (IEC 62056-6-1): the value type and a catalogue of names."""

from __future__ import annotations

from obis._code import ObisCode, ObisError, ObisLike, as_obis

__all__ = [
    "ObisCode",
    "ObisError",
    "ObisLike",
    "as_obis",
]
