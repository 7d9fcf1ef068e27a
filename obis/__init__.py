"""OBIS codes (IEC 62056-6-1): the value type, patterns, and a catalogue of names.

>>> from obis import ObisCode, describe
>>> describe(ObisCode.parse("1-0:99.1.0*255"))
'Block load profile'
"""

from __future__ import annotations

from obis._catalogue import CatalogueEntry, Source, describe, entries, lookup, search
from obis._code import ObisCode, ObisError, ObisLike, as_obis
from obis._pattern import ObisPattern

__all__ = [
    "CatalogueEntry",
    "ObisCode",
    "ObisError",
    "ObisLike",
    "ObisPattern",
    "Source",
    "as_obis",
    "describe",
    "entries",
    "lookup",
    "search",
]
