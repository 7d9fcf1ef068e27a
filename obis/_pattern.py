"""OBIS code patterns: wildcards and ranges per value group.

A pattern has six value groups like a code; each group is ``*`` (any value), a number,
a range ``lo-hi`` or a comma-separated list of those: ``1.0.*.8.0.255``,
``1.0.1.8.1-8.255``, ``1.0.31,51,71.7.0.255``. The IEC form works too when A and B are
plain numbers or ``*`` (``1-0:1.8.1-8*255``). As with codes, a missing F means 255.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from obis._code import ObisCode, ObisError, ObisLike, as_obis

__all__ = ["ObisPattern"]

_ALL: Final = (1 << 256) - 1
_GROUPS: Final = "ABCDEF"
_NUMBER: Final = re.compile(r"25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9]", re.ASCII)
_IEC_HEAD: Final = re.compile(r"(\*|[0-9]{1,3})-(\*|[0-9]{1,3})", re.ASCII)


def _number(text: str, source: str) -> int:
    if _NUMBER.fullmatch(text) is None:
        raise ObisError(f"bad value {text!r} in OBIS pattern {source!r}")
    return int(text)


def _group_mask(text: str, source: str) -> int:
    """The 256-bit set of values one group allows."""
    if text == "*":
        return _ALL
    mask = 0
    for item in text.split(","):
        lo_text, dash, hi_text = item.partition("-")
        lo = _number(lo_text, source)
        hi = _number(hi_text, source) if dash else lo
        if hi < lo:
            raise ObisError(f"empty range {item!r} in OBIS pattern {source!r}")
        mask |= ((1 << (hi - lo + 1)) - 1) << lo
    return mask


def _group_text(mask: int) -> str:
    if mask == _ALL:
        return "*"
    parts: list[str] = []
    value = 0
    while value < 256:
        if (mask >> value) & 1:
            start = value
            while value < 255 and (mask >> (value + 1)) & 1:
                value += 1
            parts.append(str(start) if start == value else f"{start}-{value}")
        value += 1
    return ",".join(parts)


def _split_iec(text: str) -> list[str] | None:
    head, colon, tail = text.partition(":")
    if not colon:
        return None
    head_match = _IEC_HEAD.fullmatch(head)
    if head_match is None:
        raise ObisError(f"bad A-B part in OBIS pattern {text!r}")
    rest = tail.split(".")
    if len(rest) == 4:
        return [head_match[1], head_match[2], *rest]
    if len(rest) != 3:
        raise ObisError(f"an OBIS pattern needs C.D.E after the colon: {text!r}")
    last = rest[2]
    for separator in ("&", "*"):
        e, found, f = last.rpartition(separator)
        if found and e and f:
            return [head_match[1], head_match[2], rest[0], rest[1], e, f]
    return [head_match[1], head_match[2], *rest]


class ObisPattern:
    """A set of OBIS codes given by a wildcard/range per value group; immutable."""

    __slots__ = ("_masks",)
    _masks: tuple[int, int, int, int, int, int]

    def __init__(self, masks: tuple[int, int, int, int, int, int]) -> None:
        """Build from six 256-bit masks (bit v set = value v allowed); see :meth:`parse`."""
        if len(masks) != 6:
            raise ObisError("an OBIS pattern has six value groups")
        for name, mask in zip(_GROUPS, masks, strict=True):
            if not isinstance(mask, int) or not 0 < mask <= _ALL:
                raise ObisError(f"value group {name} of an OBIS pattern allows no value")
        object.__setattr__(self, "_masks", tuple(masks))

    @classmethod
    def parse(cls, text: str) -> ObisPattern:
        """Parse ``1.0.*.8.0.255``, ``1.0.1.8.1-8.255``, ``1-0:1.8.1-8*255`` and the like."""
        if not isinstance(text, str):
            raise ObisError(f"OBIS pattern must be str, got {type(text).__name__}")
        stripped = text.strip()
        groups = _split_iec(stripped)
        if groups is None:
            groups = stripped.split(".")
            if len(groups) not in (5, 6):
                raise ObisError(f"an OBIS pattern has 5 or 6 value groups: {text!r}")
        if len(groups) == 5:
            groups.append("255")
        m = [_group_mask(group, text) for group in groups]
        return cls((m[0], m[1], m[2], m[3], m[4], m[5]))

    @classmethod
    def from_code(cls, code: ObisLike) -> ObisPattern:
        """The pattern that matches exactly one code."""
        r = as_obis(code).to_bytes()
        return cls((1 << r[0], 1 << r[1], 1 << r[2], 1 << r[3], 1 << r[4], 1 << r[5]))

    def matches(self, code: ObisLike) -> bool:
        """Whether ``code`` (a code, its text or its 6 bytes) is in this pattern."""
        r = as_obis(code).to_bytes()
        m = self._masks
        return bool(
            (m[0] >> r[0])
            & (m[1] >> r[1])
            & (m[2] >> r[2])
            & (m[3] >> r[3])
            & (m[4] >> r[4])
            & (m[5] >> r[5])
            & 1
        )

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, ObisCode | str | bytes | bytearray | memoryview):
            return False
        try:
            return self.matches(code)
        except ObisError:
            return False

    def values(self, group: int) -> tuple[int, ...]:
        """The values allowed in value group ``group`` (0 = A ... 5 = F), ascending."""
        mask = self._masks[group]
        return tuple(v for v in range(256) if (mask >> v) & 1)

    def count(self) -> int:
        """How many codes match."""
        total = 1
        for mask in self._masks:
            total *= mask.bit_count()
        return total

    def codes(self) -> Iterator[ObisCode]:
        """Every matching code, in ascending order (lazily: ``*`` groups make many)."""
        a, b, c, d, e, f = (self.values(i) for i in range(6))
        for va in a:
            for vb in b:
                for vc in c:
                    for vd in d:
                        for ve in e:
                            for vf in f:
                                yield ObisCode(va, vb, vc, vd, ve, vf)

    def __str__(self) -> str:
        return ".".join(_group_text(mask) for mask in self._masks)

    def __repr__(self) -> str:
        return f"ObisPattern.parse({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ObisPattern):
            return self._masks == other._masks
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._masks)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"ObisPattern is immutable; cannot set {name!r}")

    def __reduce__(self) -> tuple[type[ObisPattern], tuple[tuple[int, ...]]]:
        return (ObisPattern, (self._masks,))
