"""Fault plans: seeded, configurable misbehaviour, applied by the meters and reported.

A :class:`FaultPlan` says which share of meters (or of clusters of meters: cell, feeder,
meter model, network) misbehave and how. Whether a given meter or interval is affected
is a hash of (plan seed, rule number, meter seed, ...), so a plan applied twice gives the
same faults, the fleet stores nothing, and the ground truth can list every fault.

Plans load from JSON or TOML (``FaultPlan.load``) or a mapping::

    seed = 7
    [[silence]]                      # the failing 5 % are clusters, not random meters
    by = "feeder"
    fraction = 0.05
    start = "2026-12-01T00:00:00Z"   # omit start/end: silent for good
    end = "2026-12-02T00:00:00Z"
    [[interval]]
    kind = "missing"                 # missing | spike | reverse | low_voltage |
                                     # over_voltage | magnet | neutral_disturbance |
                                     # cover_open
    meters = 0.1                     # share of meters affected
    per_day = 0.2                    # chance a day of an affected meter has one event
    length = 4                       # intervals per event
    [[meter]]
    kind = "clock_drift"             # clock_drift | slow_response | dropped_frame |
    meters = 0.02                    # corrupted_frame | counter_reset | wrong_keys
    value = 30.0                     # s/day, s, probability; unused for the last two
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from simulators._load import mix

__all__ = [
    "ClusterKind",
    "FaultKind",
    "FaultPlan",
    "IntervalFaultRule",
    "MeterFaultRule",
    "SilenceRule",
]

_PPM = 1_000_000


class ClusterKind(enum.StrEnum):
    """What a cluster of meters shares: a failure of it silences all of them."""

    CELL = "cell"
    FEEDER = "feeder"
    MODEL = "model"
    NETWORK = "network"


class FaultKind(enum.StrEnum):
    """Every kind of injected fault (also the ``quality`` words of the ground truth)."""

    SILENCE = "silence"
    MISSING = "missing"
    SPIKE = "spike"
    REVERSE = "reverse"
    CLOCK_DRIFT = "clock_drift"
    SLOW_RESPONSE = "slow_response"
    DROPPED_FRAME = "dropped_frame"
    CORRUPTED_FRAME = "corrupted_frame"
    COUNTER_RESET = "counter_reset"
    WRONG_KEYS = "wrong_keys"
    LOW_VOLTAGE = "low_voltage"
    OVER_VOLTAGE = "over_voltage"
    MAGNET = "magnet"
    NEUTRAL_DISTURBANCE = "neutral_disturbance"
    COVER_OPEN = "cover_open"
    OVER_CURRENT = "over_current"


_INTERVAL_KINDS = (
    FaultKind.MISSING,
    FaultKind.SPIKE,
    FaultKind.REVERSE,
    FaultKind.LOW_VOLTAGE,
    FaultKind.OVER_VOLTAGE,
    FaultKind.MAGNET,
    FaultKind.NEUTRAL_DISTURBANCE,
    FaultKind.COVER_OPEN,
    FaultKind.OVER_CURRENT,
)
_METER_KINDS = (
    FaultKind.CLOCK_DRIFT,
    FaultKind.SLOW_RESPONSE,
    FaultKind.DROPPED_FRAME,
    FaultKind.CORRUPTED_FRAME,
    FaultKind.COUNTER_RESET,
    FaultKind.WRONG_KEYS,
)


def _fraction(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be within 0..1, got {value}")


def _utc(value: object) -> _dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        when = value
    elif isinstance(value, str):
        when = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        raise ValueError(f"not a date-time: {value!r}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return when.astimezone(_dt.UTC)


def _chosen(fraction: float, *key: int) -> bool:
    return mix(*key) % _PPM < round(fraction * _PPM)


@attrs.frozen(kw_only=True)
class SilenceRule:
    """A share of the clusters of one kind stops answering during [start, end)."""

    by: ClusterKind = attrs.field(converter=ClusterKind)
    fraction: float = attrs.field(validator=_fraction)
    start: _dt.datetime | None = attrs.field(default=None, converter=_utc)
    end: _dt.datetime | None = attrs.field(default=None, converter=_utc)

    def active(self, when: _dt.datetime) -> bool:
        return (self.start is None or when >= self.start) and (self.end is None or when < self.end)


@attrs.frozen(kw_only=True)
class IntervalFaultRule:
    """Missing intervals (a power failure: no energy, no row), spikes (a reported block
    energy multiplied by ``factor``), reverse energy (import booked as export), low or
    over voltage, over current (the load draws 110..120 % of a 60 A rating), and tamper
    (magnet, neutral disturbance, cover open): each an event pair in the meter's logs
    and an ESW bit while it lasts."""

    kind: FaultKind = attrs.field(converter=FaultKind)
    meters: float = attrs.field(validator=_fraction)
    per_day: float = attrs.field(default=0.2, validator=_fraction)
    length: int = attrs.field(default=1, validator=attrs.validators.in_(range(1, 97)))
    factor: int = 20

    def __attrs_post_init__(self) -> None:
        if self.kind not in _INTERVAL_KINDS:
            raise ValueError(f"{self.kind} is not an interval fault")


@attrs.frozen(kw_only=True)
class MeterFaultRule:
    """A share of meters with one behaviour from ``start`` on: clock drift (``value``
    s/day), slow responses (``value`` s each), dropped or corrupted responses
    (probability ``value``), an invocation counter reset, or wrong keys."""

    kind: FaultKind = attrs.field(converter=FaultKind)
    meters: float = attrs.field(validator=_fraction)
    value: float = 0.0
    start: _dt.datetime | None = attrs.field(default=None, converter=_utc)

    def __attrs_post_init__(self) -> None:
        if self.kind not in _METER_KINDS:
            raise ValueError(f"{self.kind} is not a meter fault")


def _rules(cls: Any, items: object) -> tuple[Any, ...]:
    if items is None:
        return ()
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise ValueError(f"expected a list of rules, got {items!r}")
    return tuple(item if isinstance(item, cls) else cls(**dict(item)) for item in items)


@attrs.frozen(kw_only=True)
class FaultPlan:
    """The whole plan: silence by cluster, interval faults and meter faults, seeded."""

    seed: int = 0
    silence: tuple[SilenceRule, ...] = ()
    interval: tuple[IntervalFaultRule, ...] = ()
    meter: tuple[MeterFaultRule, ...] = ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FaultPlan:
        unknown = set(data) - {"seed", "silence", "interval", "meter"}
        if unknown:
            raise ValueError(f"unknown fault plan keys: {sorted(unknown)}")
        return cls(
            seed=int(data.get("seed", 0)),
            silence=_rules(SilenceRule, data.get("silence")),
            interval=_rules(IntervalFaultRule, data.get("interval")),
            meter=_rules(MeterFaultRule, data.get("meter")),
        )

    @classmethod
    def load(cls, path: str | Path) -> FaultPlan:
        """Read a plan from a ``.toml`` or ``.json`` file."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
        if not isinstance(data, Mapping):
            raise ValueError("a fault plan is a table/object")
        return cls.from_mapping(data)

    def to_mapping(self) -> dict[str, Any]:
        """The plan as JSON-ready data (date-times in ISO 8601 UTC)."""

        def convert(rule: Any) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for field in attrs.fields(type(rule)):
                value = getattr(rule, field.name)
                if isinstance(value, _dt.datetime):
                    value = value.isoformat().replace("+00:00", "Z")
                elif isinstance(value, enum.Enum):
                    value = value.value
                if value is not None:
                    out[field.name] = value
            return out

        return {
            "seed": self.seed,
            "silence": [convert(r) for r in self.silence],
            "interval": [convert(r) for r in self.interval],
            "meter": [convert(r) for r in self.meter],
        }

    # -- decisions -------------------------------------------------------------------

    def silent_clusters(self, clusters: Mapping[ClusterKind, int], when: _dt.datetime) -> bool:
        """Whether a meter in these clusters is silent at ``when``."""
        return any(
            rule.active(when) and self.cluster_silenced(n, rule, clusters[rule.by])
            for n, rule in enumerate(self.silence)
        )

    def cluster_silenced(self, number: int, rule: SilenceRule, cluster: int) -> bool:
        """Whether silence rule ``number`` picks ``cluster``."""
        return _chosen(rule.fraction, self.seed, 0x51, number, cluster)

    def meter_rules(self, meter_seed: int) -> tuple[MeterFaultRule, ...]:
        """The meter fault rules that pick the meter with this seed."""
        return tuple(
            rule
            for n, rule in enumerate(self.meter)
            if _chosen(rule.meters, self.seed, 0x3E, n, meter_seed)
        )

    def interval_rules(self, meter_seed: int) -> tuple[IntervalFaultRule, ...]:
        """The interval fault rules that pick the meter with this seed, numbered."""
        return tuple(
            rule
            for n, rule in enumerate(self.interval)
            if _chosen(rule.meters, self.seed, 0x17, n, meter_seed)
        )

    def day_events(
        self, meter_seed: int, day: int, quarters: int = 96
    ) -> tuple[tuple[FaultKind, int, int, int], ...]:
        """Interval fault events of one meter on one local day:
        ``(kind, first quarter, length, factor)``, at most one per rule."""
        events = []
        for n, rule in enumerate(self.interval):
            if not _chosen(rule.meters, self.seed, 0x17, n, meter_seed):
                continue
            if not _chosen(rule.per_day, self.seed, 0xD1, n, meter_seed, day):
                continue
            length = 1 if rule.kind is FaultKind.SPIKE else rule.length
            first = mix(self.seed, 0x0F, n, meter_seed, day) % (quarters - length + 1)
            events.append((rule.kind, first, length, rule.factor))
        return tuple(events)
