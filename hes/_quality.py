"""Reading quality codes in the IEC 61968-9 ``<systemId>.<category>.<subCategory>`` form.

The head-end never edits a reading: it attaches quality codes. System 1 is the end device
(what the meter itself said: clock status bits, events), system 2 the metering system
(checks this head-end ran). Categories follow IEC 61968-9 Annex C: 0 valid, 2 power
quality, 3 tamper / revenue protection, 4 data collection, 5 reasonability, 6 validation,
8 estimated. Where no published sub-category fits, the number is this project's own and
is listed here, so an MDM can map it:

=================  =========  ===========================================================
flag               code       meaning
=================  =========  ===========================================================
VALID              1.0.0      passed every check
POWER_FAILURE      1.2.32     the meter logged a power failure in the interval
TAMPER             1.3.0      the meter logged a tamper / current reversal event
CLOCK_STATUS       1.4.5      clock status bits invalid, doubtful or other clock base
SKIPPED            1.4.4      the meter skipped the interval (a gap; ledger entry)
MISALIGNED         2.4.10     capture time not on the capture period boundary
DUPLICATE          2.4.11     read again with a different value (first value kept)
CLOCK_DEVIATION    2.4.12     session clock deviation above the time sync threshold
NON_MONOTONIC      2.5.1      cumulative register lower than its predecessor
REVERSE_ENERGY     2.5.2      export energy on a meter that is not net-metered
SPIKE              2.5.3      block energy far above the meter's median for the day
SUM_CHECK          2.6.1      block energies disagree with the cumulative register delta
MISSING            2.5.259    known missing read (gap still open when exported)
ESTIMATED          2.8.1      estimated by linear interpolation (policy, bounded span)
=================  =========  ===========================================================
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable

__all__ = ["Quality", "quality_text", "parse_quality"]


class Quality(enum.StrEnum):
    """A reading quality flag; its value is the IEC 61968-9 style code."""

    VALID = "1.0.0"
    POWER_FAILURE = "1.2.32"
    TAMPER = "1.3.0"
    CLOCK_STATUS = "1.4.5"
    SKIPPED = "1.4.4"
    MISALIGNED = "2.4.10"
    DUPLICATE = "2.4.11"
    CLOCK_DEVIATION = "2.4.12"
    NON_MONOTONIC = "2.5.1"
    REVERSE_ENERGY = "2.5.2"
    SPIKE = "2.5.3"
    SUM_CHECK = "2.6.1"
    MISSING = "2.5.259"
    ESTIMATED = "2.8.1"


_ORDER = {q: n for n, q in enumerate(Quality)}


def quality_text(flags: Iterable[Quality]) -> str:
    """Flags as one space-separated text; ``1.0.0`` when there are none."""
    if isinstance(flags, frozenset):
        return _frozen_quality_text(flags)
    return _quality_text(flags)


@functools.lru_cache(maxsize=1024)
def _frozen_quality_text(flags: frozenset[Quality]) -> str:
    return _quality_text(flags)


def _quality_text(flags: Iterable[Quality]) -> str:
    unique = sorted({Quality(f) for f in flags if f is not Quality.VALID}, key=_ORDER.__getitem__)
    return " ".join(q.value for q in unique) if unique else Quality.VALID.value


def parse_quality(text: str) -> frozenset[Quality]:
    """The flags of a quality text (``1.0.0`` gives the empty set)."""
    out = set()
    for word in text.split():
        try:
            flag = Quality(word)
        except ValueError as exc:
            raise ValueError(f"unknown quality code {word!r}") from exc
        if flag is not Quality.VALID:
            out.add(flag)
    return frozenset(out)
