"""Enum members by value, for the decoders' hot paths.

``SomeEnum(value)`` runs the enum machinery (``EnumType.__call__``, ``Enum.__new__``) for
every field of every APDU; the enum's own value-to-member map answers the same question
in one dictionary lookup. Values not in the map (unknown values, flag combinations not
built yet) still go through the call, so errors and flag pseudo-members are the enum's.
"""

from __future__ import annotations

import enum
from typing import TypeVar, cast

__all__ = ["enum_member"]

E = TypeVar("E", bound=enum.Enum)


def enum_member(enum_type: type[E], value: int) -> E:
    """``enum_type(value)``: the same member, or the same ``ValueError``."""
    found = enum_type._value2member_map_.get(value)
    if found is None:
        return enum_type(value)
    return cast(E, found)
