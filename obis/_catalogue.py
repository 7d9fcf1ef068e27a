"""The catalogue of OBIS code names: Blue Book common codes and IS 15959.

:func:`lookup` answers from, in order: the exact catalogue (IS 15959 names win over
Blue Book names for the same code), object families whose instance is in one value group
(``0.0.40.0.e.255`` association LN e, ...), and names built from the value groups of
electricity codes (:mod:`obis._describe`).
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import Final

import attrs

from obis._bluebook import BLUE_BOOK
from obis._code import ObisCode, ObisLike, as_obis
from obis._describe import describe_electricity
from obis._india import IS15959
from obis._pattern import ObisPattern

__all__ = ["CatalogueEntry", "Source", "describe", "entries", "lookup", "search"]


class Source(Enum):
    """Where a catalogue name comes from."""

    BLUE_BOOK = "Blue Book"
    IS15959 = "IS 15959"
    FAMILY = "Blue Book object family"
    VALUE_GROUPS = "value groups"


@attrs.frozen(kw_only=True)
class CatalogueEntry:
    """A named OBIS code and the interface class it is normally an instance of.

    ``interface_class`` is ``None`` when the name was built from the value groups and
    the standard allows several classes (register, extended register, profile...).
    """

    code: ObisCode
    name: str
    interface_class: int | None
    description: str = ""
    source: Source = Source.BLUE_BOOK


def _build() -> dict[ObisCode, CatalogueEntry]:
    table: dict[ObisCode, CatalogueEntry] = {}
    for rows, source in ((BLUE_BOOK, Source.BLUE_BOOK), (IS15959, Source.IS15959)):
        for text, class_id, name, description in rows:
            code = ObisCode.parse(text)
            table[code] = CatalogueEntry(
                code=code,
                name=name,
                interface_class=class_id,
                description=description,
                source=source,
            )
    return dict(sorted(table.items()))


_TABLE: Final = _build()

_SINGLE_ACTION_SCHEDULES: Final = (
    "end of billing period",
    "disconnect control",
    "image activation",
    "output control",
    "push",
    "load profile control",
    "M-Bus profile control",
    "function control",
)

# Families: (pattern, interface class, name template with {b} / {e} / {sas}).
_FAMILIES: Final[tuple[tuple[ObisPattern, int, str], ...]] = (
    (ObisPattern.parse("0.0.1.0.1-127.255"), 8, "Clock (E = {e})"),
    (ObisPattern.parse("0.0.15.0.0-7.255"), 22, "Single action schedule, {sas}"),
    (ObisPattern.parse("0.1-64.25.9.0.255"), 40, "Push setup (B = {b})"),
    (ObisPattern.parse("0.0.40.0.1-127.255"), 15, "Association LN (E = {e})"),
    (ObisPattern.parse("0.0.43.0.0-127.255"), 64, "Security setup (E = {e})"),
    (ObisPattern.parse("0.0.43.1.0-127.255"), 1, "Invocation counter (E = {e})"),
    (ObisPattern.parse("0.0.44.0.0-127.255"), 18, "Image transfer (E = {e})"),
    (ObisPattern.parse("0.0.96.1.1-9.255"), 1, "Device ID (E = {e})"),
    (ObisPattern.parse("0.0.96.11.0-99.255"), 1, "Event code object (E = {e})"),
    (ObisPattern.parse("0.0.96.15.0-99.255"), 1, "Event counter (E = {e})"),
    (ObisPattern.parse("0.0.97.98.0-9.255"), 1, "Alarm register (E = {e})"),
    (ObisPattern.parse("0.0.97.98.10-19.255"), 1, "Alarm filter (E = {e})"),
    (ObisPattern.parse("0.0.99.98.0-127.255"), 7, "Event log (E = {e})"),
)


def _family(code: ObisCode) -> CatalogueEntry | None:
    for pattern, class_id, template in _FAMILIES:
        if pattern.matches(code):
            sas = _SINGLE_ACTION_SCHEDULES[code.e] if code.e < 8 else ""
            return CatalogueEntry(
                code=code,
                name=template.format(b=code.b, e=code.e, sas=sas),
                interface_class=class_id,
                description="Instance of a Blue Book object family.",
                source=Source.FAMILY,
            )
    return None


def lookup(code: ObisLike) -> CatalogueEntry | None:
    """The catalogue entry for ``code`` (a code, its text or its 6 bytes), or ``None``.

    Malformed text or bytes raise :class:`ObisError`."""
    obis = as_obis(code)
    entry = _TABLE.get(obis)
    if entry is not None:
        return entry
    entry = _family(obis)
    if entry is not None:
        return entry
    name = describe_electricity(*obis.to_tuple())
    if name is None:
        return None
    return CatalogueEntry(
        code=obis,
        name=name,
        interface_class=None,
        description="Named from the A/B/C/D/E/F value groups.",
        source=Source.VALUE_GROUPS,
    )


def describe(code: ObisLike) -> str | None:
    """A human name for ``code``, e.g. ``"1.0.99.1.0.255"`` -> ``"Block load profile"``."""
    entry = lookup(code)
    return None if entry is None else entry.name


def entries(pattern: ObisPattern | str | None = None) -> Iterator[CatalogueEntry]:
    """Every entry of the exact catalogue, in code order; only those matching ``pattern``
    (an :class:`ObisPattern` or its text, e.g. ``"1.0.*.8.0.255"``) if given."""
    if pattern is None:
        return iter(_TABLE.values())
    if isinstance(pattern, str):
        pattern = ObisPattern.parse(pattern)
    return (entry for entry in _TABLE.values() if pattern.matches(entry.code))


def search(text: str) -> tuple[CatalogueEntry, ...]:
    """Catalogue entries whose name or description contains every word of ``text``.

    Case-insensitive; results in code order.
    """
    words = text.casefold().split()
    if not words:
        return ()
    found: list[CatalogueEntry] = []
    for entry in _TABLE.values():
        haystack = f"{entry.name} {entry.description}".casefold()
        if all(word in haystack for word in words):
            found.append(entry)
    return tuple(found)
