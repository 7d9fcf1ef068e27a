"""Event status word (ESW, 0.0.94.91.18.255) bits of the simulated faults.

The bit numbers come from the meter model's ``esw_bits`` table (single-phase and
three-phase tables differ), looked up by name, so the simulator follows whatever the
COSEM definitions say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from dlmskit.cosem import CompanionProfile
from simulators._faults import FaultKind
from simulators._measure import EVENTS, MeterEvent

__all__ = ["active_bits", "event_bits"]

_NAMES: Final[Mapping[FaultKind, str]] = {
    FaultKind.LOW_VOLTAGE: "low voltage",
    FaultKind.OVER_VOLTAGE: "over voltage",
    FaultKind.MAGNET: "magnet",
    FaultKind.NEUTRAL_DISTURBANCE: "neutral disturbance",
    FaultKind.COVER_OPEN: "cover open",
    FaultKind.REVERSE: "current reverse",
    FaultKind.OVER_CURRENT: "over current",
}


def _bit(profile: CompanionProfile, name: str) -> int | None:
    return next((bit for bit, text in profile.esw_bits.items() if name in text.lower()), None)


def active_bits(profile: CompanionProfile, kinds: Iterable[FaultKind]) -> set[int]:
    """ESW bits of the faults going on now."""
    bits = set()
    for kind in kinds:
        name = _NAMES.get(kind)
        bit = None if name is None else _bit(profile, name)
        if bit is not None:
            bits.add(bit)
    return bits


def event_bits(profile: CompanionProfile, events: Iterable[MeterEvent]) -> set[int]:
    """ESW bits raised by events: power failure is last gasp, its end first breath."""
    bits = set()
    for event in events:
        if event.kind is FaultKind.MISSING:
            bit = _bit(profile, "last gasp" if event.code == 101 else "first breath")
        elif event.kind is not None and event.code == EVENTS[event.kind][1]:
            name = _NAMES.get(event.kind)
            bit = None if name is None else _bit(profile, name)
        else:
            bit = None
        if bit is not None:
            bits.add(bit)
    return bits
