"""The OBIS code value type (IEC 62056-6-1; DLMS UA Blue Book, OBIS chapter).

An OBIS code names a COSEM object with six value groups A-B:C.D.E*F, each 0..255. On the
wire (COSEM logical_name) it is an octet-string of exactly six bytes. The value type keeps
those six bytes, so hashing, equality and ordering are those of the bytes.
"""

from __future__ import annotations

import re
from typing import Any, Final, NoReturn, final

__all__ = ["ObisCode", "ObisError", "ObisLike", "as_obis"]


class ObisError(ValueError):
    """Text or bytes that do not form a valid OBIS code or pattern."""


_FIELD: Final = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"

# "1.0.1.8.0.255" and "1.0.1.8.0" (F defaults to 255).
_DOTTED: Final = re.compile(
    rf"{_FIELD}\.{_FIELD}\.{_FIELD}\.{_FIELD}\.{_FIELD}(?:\.{_FIELD})?", re.ASCII
)
# "1-0:1.8.0*255", "1-0:1.8.0" and, as some tools print it, "1-0:1.8.0.255" / "1-0:1.8.0&255".
_IEC: Final = re.compile(
    rf"{_FIELD}-{_FIELD}:{_FIELD}\.{_FIELD}\.{_FIELD}(?:[*.&]{_FIELD})?", re.ASCII
)


# Interning: a head-end sees the same few hundred logical names in every profile it reads,
# so conversions from bytes and text return a shared instance (bounded, cleared when full).
_INTERN_LIMIT: Final = 4096
_BY_BYTES: dict[bytes, ObisCode] = {}
_BY_TEXT: dict[str, ObisCode] = {}


def _remember(table: dict[Any, ObisCode], key: object, code: ObisCode) -> None:
    if len(table) >= _INTERN_LIMIT:
        table.clear()
    table[key] = code


def _check_field(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ObisError(f"OBIS value group {name} must be an int, got {type(value).__name__}")
    if not 0 <= value <= 255:
        raise ObisError(f"OBIS value group {name} must be 0..255, got {value}")
    return int(value)


@final
class ObisCode:
    """An OBIS code A.B.C.D.E.F; immutable, hashable, ordered by its six bytes.

    >>> ObisCode.parse("1-0:1.8.0*255")
    ObisCode(1, 0, 1, 8, 0, 255)
    >>> str(ObisCode(0, 0, 1, 0, 0, 255))
    '0.0.1.0.0.255'
    """

    __slots__ = ("_bytes", "_text")
    _bytes: bytes
    _text: str | None

    def __init__(self, a: int, b: int, c: int, d: int, e: int, f: int = 255) -> None:
        raw = bytes(
            (
                _check_field("A", a),
                _check_field("B", b),
                _check_field("C", c),
                _check_field("D", d),
                _check_field("E", e),
                _check_field("F", f),
            )
        )
        object.__setattr__(self, "_bytes", raw)
        object.__setattr__(self, "_text", None)

    @classmethod
    def _from_raw(cls, raw: bytes) -> ObisCode:
        self = object.__new__(cls)
        object.__setattr__(self, "_bytes", raw)
        object.__setattr__(self, "_text", None)
        return self

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> ObisCode:
        """The code from a COSEM logical_name: exactly six bytes."""
        if isinstance(data, bytes):
            hit = _BY_BYTES.get(data)
            if hit is not None:
                return hit
            raw = bytes(data)
        elif isinstance(data, bytearray | memoryview):
            raw = bytes(data)
            hit = _BY_BYTES.get(raw)
            if hit is not None:
                return hit
        else:
            raise ObisError(f"OBIS bytes must be bytes-like, got {type(data).__name__}")
        if len(raw) != 6:
            raise ObisError(f"an OBIS code is 6 bytes, got {len(raw)}")
        code = cls._from_raw(raw)
        _remember(_BY_BYTES, raw, code)
        return code

    @classmethod
    def parse(cls, text: str) -> ObisCode:
        """Parse "1.0.1.8.0.255", "1-0:1.8.0*255", "1-0:1.8.0" or "1.0.1.8.0" (F = 255)."""
        if not isinstance(text, str):
            raise ObisError(f"OBIS text must be str, got {type(text).__name__}")
        hit = _BY_TEXT.get(text)
        if hit is not None:
            return hit
        stripped = text.strip()
        match = _DOTTED.fullmatch(stripped) or _IEC.fullmatch(stripped)
        if match is None:
            raise ObisError(f"not an OBIS code: {text!r}")
        groups = match.groups()
        f = groups[5]
        code = cls._from_raw(bytes([*(int(g) for g in groups[:5]), 255 if f is None else int(f)]))
        _remember(_BY_TEXT, text, code)
        return code

    @property
    def a(self) -> int:
        """Value group A: the medium (0 abstract, 1 electricity, ...)."""
        return self._bytes[0]

    @property
    def b(self) -> int:
        """Value group B: the channel."""
        return self._bytes[1]

    @property
    def c(self) -> int:
        """Value group C: the physical quantity or abstract object group."""
        return self._bytes[2]

    @property
    def d(self) -> int:
        """Value group D: the processing (instantaneous, time integral, maximum, ...)."""
        return self._bytes[3]

    @property
    def e(self) -> int:
        """Value group E: tariff rate or sub-index."""
        return self._bytes[4]

    @property
    def f(self) -> int:
        """Value group F: billing period (255 = current / not used)."""
        return self._bytes[5]

    def to_bytes(self) -> bytes:
        """The six-byte logical_name form."""
        return self._bytes

    def __bytes__(self) -> bytes:
        return self._bytes

    def to_tuple(self) -> tuple[int, int, int, int, int, int]:
        """The six value groups (A, B, C, D, E, F)."""
        r = self._bytes
        return (r[0], r[1], r[2], r[3], r[4], r[5])

    def to_iec(self) -> str:
        """The IEC 62056-6-1 text form "A-B:C.D.E*F"."""
        r = self._bytes
        return f"{r[0]}-{r[1]}:{r[2]}.{r[3]}.{r[4]}*{r[5]}"

    def replace(
        self,
        *,
        a: int | None = None,
        b: int | None = None,
        c: int | None = None,
        d: int | None = None,
        e: int | None = None,
        f: int | None = None,
    ) -> ObisCode:
        """A copy with the given value groups changed."""
        r = self._bytes
        return ObisCode(
            r[0] if a is None else a,
            r[1] if b is None else b,
            r[2] if c is None else c,
            r[3] if d is None else d,
            r[4] if e is None else e,
            r[5] if f is None else f,
        )

    def __str__(self) -> str:
        text = self._text
        if text is None:
            r = self._bytes
            text = f"{r[0]}.{r[1]}.{r[2]}.{r[3]}.{r[4]}.{r[5]}"
            object.__setattr__(self, "_text", text)
        return text

    def __repr__(self) -> str:
        r = self._bytes
        return f"ObisCode({r[0]}, {r[1]}, {r[2]}, {r[3]}, {r[4]}, {r[5]})"

    def __hash__(self) -> int:
        return hash(self._bytes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ObisCode):
            return self._bytes == other._bytes
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, ObisCode):
            return self._bytes != other._bytes
        return NotImplemented

    def __lt__(self, other: ObisCode) -> bool:
        if isinstance(other, ObisCode):
            return self._bytes < other._bytes
        return NotImplemented

    def __le__(self, other: ObisCode) -> bool:
        if isinstance(other, ObisCode):
            return self._bytes <= other._bytes
        return NotImplemented

    def __gt__(self, other: ObisCode) -> bool:
        if isinstance(other, ObisCode):
            return self._bytes > other._bytes
        return NotImplemented

    def __ge__(self, other: ObisCode) -> bool:
        if isinstance(other, ObisCode):
            return self._bytes >= other._bytes
        return NotImplemented

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"ObisCode is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"ObisCode is immutable; cannot delete {name!r}")

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (ObisCode.from_bytes, (self._bytes,))

    def __copy__(self) -> ObisCode:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ObisCode:
        return self


ObisLike = ObisCode | str | bytes | bytearray | memoryview
"""What :func:`as_obis` accepts: a code, its text in any notation, or its six bytes."""


def as_obis(value: ObisLike) -> ObisCode:
    """Coerce a code, its text ("1.0.1.8.0.255", "1-0:1.8.0*255") or its 6 bytes."""
    if isinstance(value, ObisCode):
        return value
    if isinstance(value, str):
        return ObisCode.parse(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return ObisCode.from_bytes(value)
    raise ObisError(f"cannot make an OBIS code from {type(value).__name__}")
