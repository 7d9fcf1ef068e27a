"""The deterministic load model: what a meter measures, as a pure function of time.

Every quantity is a function of the meter's :class:`LoadModel` (derived from its seed)
and a 15-minute interval index ``i = unix_seconds // 900``; nothing is stored. Block
energies are integers (Wh, VAh) so that cumulative registers are exact sums of them:

* import per interval = ``level(day) * shape[q]`` (minus solar generation for a
  net-metered meter, clipped at zero) plus a base load ``c + g(i + 1) - g(i)`` where
  ``g`` is a seeded hash in ``[0, c)``. The base load telescopes, so a day's total is a
  closed form for meters without solar and a short loop over daylight for the others;
  the cumulative register at any instant costs one pass over the days since the meter's
  origin, not over every interval.
* ``level(day)`` carries the season, the weekday and a per-day jitter; ``shape`` is the
  residential, commercial or agricultural day curve in local time (IST).
"""

from __future__ import annotations

import datetime as _dt
import enum
import fractions
import functools
import itertools
from collections.abc import Iterator
from typing import Final, TypeAlias

import attrs

__all__ = [
    "INTERVAL",
    "IST",
    "ConsumerKind",
    "IntervalEnergy",
    "IntervalValues",
    "LoadModel",
    "interval_index",
    "interval_start",
    "mix",
    "mix_round",
]

#: Block load capture period (IS 15959-2, RDSS practice): 15 minutes.
INTERVAL: Final = 900
#: Indian Standard Time; the day curves are in local time.
IST: Final = _dt.timezone(_dt.timedelta(hours=5, minutes=30))
_IST_QUARTERS: Final = 22  # 5 h 30 min in 15-minute steps
_QUARTERS: Final = 96
_M64: Final = (1 << 64) - 1
_EPOCH: Final = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def mix(*values: int) -> int:
    """A 64-bit hash of integers (splitmix64 finaliser chained): the model's randomness."""
    x = 0x9E3779B97F4A7C15
    for v in values:
        x = ((x ^ (v & _M64)) * 0xBF58476D1CE4E5B9) & _M64
        x ^= x >> 31
        x = (x * 0x94D049BB133111EB) & _M64
        x ^= x >> 29
    return x


def _mix_on(x: int, v: int) -> int:
    """``mix(*values, v)`` from ``x = mix(*values)``: the chain is sequential, so a hash
    of (seed, tag, day) reuses the (seed, tag) part for every day."""
    x = ((x ^ (v & _M64)) * 0xBF58476D1CE4E5B9) & _M64
    x ^= x >> 31
    x = (x * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 29)


@functools.lru_cache(maxsize=65536)
def _mixed(seed: int, tag: int) -> int:
    """``mix(seed, tag)``, kept: the prefix of a meter's per-day hashes."""
    return mix(seed, tag)


def mix_round(x: int, value: int) -> int:
    """One more value into a :func:`mix` state: ``mix(*vs, v) == mix_round(mix(*vs), v)``.

    A run of hashes sharing their first values (seed, purpose) starts from the shared
    state and pays one round each.
    """
    x = ((x ^ (value & _M64)) * 0xBF58476D1CE4E5B9) & _M64
    x ^= x >> 31
    x = (x * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 29)


class ConsumerKind(enum.IntEnum):
    """The consumer behind the meter: picks the day curve and the seasonal swing."""

    RESIDENTIAL = 0
    COMMERCIAL = 1
    AGRICULTURAL = 2


def _quarters(hourly: tuple[int, ...]) -> tuple[int, ...]:
    assert len(hourly) == 24
    return tuple(h for h in hourly for _ in range(4))


# Relative load per hour of the local day (00..23).
_SHAPES: Final = {
    ConsumerKind.RESIDENTIAL: _quarters(
        (3, 2, 2, 2, 2, 3, 6, 8, 7, 5, 4, 4, 4, 4, 4, 4, 5, 7, 10, 12, 12, 10, 7, 4)
    ),
    ConsumerKind.COMMERCIAL: _quarters(
        (1, 1, 1, 1, 1, 1, 2, 3, 6, 10, 12, 12, 12, 12, 12, 12, 12, 11, 9, 6, 3, 2, 1, 1)
    ),
    ConsumerKind.AGRICULTURAL: _quarters(
        (12, 12, 12, 12, 12, 12, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 12, 12)
    ),
}
_SHAPE_SUMS: Final = {kind: sum(shape) for kind, shape in _SHAPES.items()}
# Reactive part added to apparent import energy, per shape unit.
_REACTIVE: Final = {kind: tuple(s // 3 for s in shape) for kind, shape in _SHAPES.items()}
_REACTIVE_SUMS: Final = {kind: sum(shape) for kind, shape in _REACTIVE.items()}
# Solar generation per quarter (06:30..18:15 local), a bell around noon.
_SOLAR: Final = tuple(max(0, 24 - abs(q - 49)) if 26 <= q <= 73 else 0 for q in range(_QUARTERS))
_DAYLIGHT: Final = tuple(q for q in range(_QUARTERS) if _SOLAR[q])
# Weekday factor in percent, Monday first.
_WEEKDAY: Final = {
    ConsumerKind.RESIDENTIAL: (97, 97, 97, 97, 100, 110, 115),
    ConsumerKind.COMMERCIAL: (100, 100, 100, 100, 100, 70, 35),
    ConsumerKind.AGRICULTURAL: (100, 100, 100, 100, 100, 100, 100),
}
# Season factor in percent by month (January first): summer cooling, rabi irrigation.
_SEASON: Final = {
    ConsumerKind.RESIDENTIAL: (80, 82, 95, 115, 130, 130, 110, 105, 105, 100, 88, 80),
    ConsumerKind.COMMERCIAL: (90, 90, 100, 115, 125, 125, 110, 105, 105, 100, 95, 90),
    ConsumerKind.AGRICULTURAL: (120, 110, 90, 60, 50, 70, 40, 40, 60, 110, 130, 125),
}
_SOLAR_SEASON: Final = (85, 95, 105, 115, 115, 90, 70, 70, 85, 100, 95, 85)


def interval_index(when: _dt.datetime) -> int:
    """The 15-minute interval holding ``when`` (aware datetime), counted from 1970 UTC."""
    return int((when - _EPOCH).total_seconds()) // INTERVAL


def interval_start(index: int) -> _dt.datetime:
    """The UTC start of interval ``index``."""
    return _EPOCH + _dt.timedelta(seconds=index * INTERVAL)


@functools.lru_cache(maxsize=4096)
def _civil(day: int) -> tuple[int, int]:
    """(month 1..12, weekday 0..6 Monday first) of local day number ``day``."""
    date = _dt.date(1970, 1, 1) + _dt.timedelta(days=day)
    return date.month, date.weekday()


#: ``(index, import_wh, import_vah, export_wh, export_vah, voltage, current)``.
IntervalValues: TypeAlias = tuple[int, int, int, int, int, int, int]


@attrs.frozen(kw_only=True)
class IntervalEnergy:
    """One 15-minute interval as the meter measured it (before any injected fault).

    Energies in Wh/VAh, ``voltage`` in centivolts, ``current`` in milliamperes.
    """

    index: int
    import_wh: int
    import_vah: int
    export_wh: int
    export_vah: int
    voltage: int
    current: int

    @classmethod
    def from_values(cls, values: IntervalValues) -> IntervalEnergy:
        """The interval of a :meth:`LoadModel.interval_values` tuple."""
        index, import_wh, import_vah, export_wh, export_vah, voltage, current = values
        return cls(
            index=index,
            import_wh=import_wh,
            import_vah=import_vah,
            export_wh=export_wh,
            export_vah=export_vah,
            voltage=voltage,
            current=current,
        )

    @property
    def values(self) -> IntervalValues:
        """``(index, import_wh, import_vah, export_wh, export_vah, voltage, current)``."""
        return (
            self.index,
            self.import_wh,
            self.import_vah,
            self.export_wh,
            self.export_vah,
            self.voltage,
            self.current,
        )


@attrs.frozen(kw_only=True, cache_hash=True)
class LoadModel:
    """The parameters of one meter's consumption; all derived from its seed.

    ``level`` is Wh per shape unit per quarter hour; ``solar`` the same for generation
    (0: not net-metered); ``base`` the bound ``c`` of the base load; ``origin_day`` the
    local day the registers started from ``initial_wh``.
    """

    seed: int
    kind: ConsumerKind
    level: int
    solar: int
    base: int
    origin_day: int
    initial_wh: int
    phases: int = 1

    @classmethod
    def from_seed(
        cls,
        seed: int,
        *,
        kind: ConsumerKind | None = None,
        net_metered: bool | None = None,
        phases: int = 1,
        origin: _dt.date = _dt.date(2025, 1, 1),
    ) -> LoadModel:
        """A plausible consumer for ``seed``: kind, size and solar drawn from it."""
        h = mix(seed, 0x10AD)
        if kind is None:
            roll = h % 100
            kind = (
                ConsumerKind.RESIDENTIAL
                if roll < 70
                else ConsumerKind.COMMERCIAL
                if roll < 90
                else ConsumerKind.AGRICULTURAL
            )
        if net_metered is None:
            net_metered = kind is not ConsumerKind.AGRICULTURAL and (h >> 8) % 100 < 10
        size = {
            ConsumerKind.RESIDENTIAL: 6 + (h >> 16) % 12,
            ConsumerKind.COMMERCIAL: 10 + (h >> 16) % 30,
            ConsumerKind.AGRICULTURAL: 30 + (h >> 16) % 40,
        }[kind] * (3 if phases == 3 else 1)
        solar = (size * (20 + (h >> 24) % 40)) // 10 if net_metered else 0
        origin_day = (origin - _dt.date(1970, 1, 1)).days - int((h >> 32) % 180)
        return cls(
            seed=seed,
            kind=kind,
            level=size,
            solar=solar,
            base=3 + (h >> 40) % 8,
            origin_day=origin_day,
            initial_wh=int((h >> 44) % 5_000_000),
            phases=phases,
        )

    # -- per day ---------------------------------------------------------------------

    def day_level(self, day: int) -> int:
        """The load level of local day ``day``: season x weekday x jitter (>= 1)."""
        month, weekday = _civil(day)
        jitter = 85 + _mix_on(_mixed(self.seed, 0xDA7), day) % 31
        value = self.level * _SEASON[self.kind][month - 1] * _WEEKDAY[self.kind][weekday]
        return max(1, value * jitter // 1_000_000)

    def day_solar(self, day: int) -> int:
        """The solar generation level of local day ``day`` (season x cloud cover)."""
        if not self.solar:
            return 0
        month, _ = _civil(day)
        cloud = 30 + _mix_on(_mixed(self.seed, 0x5C1), day) % 71
        return self.solar * _SOLAR_SEASON[month - 1] * cloud // 10_000

    def _g(self, index: int) -> int:
        return _mix_on(_mixed(self.seed, 0xBA5E), index) % self.base

    def _base_sum(self, first: int, end: int) -> int:
        """Base load over intervals ``first..end-1``: telescopes to a closed form."""
        return self.base * (end - first) + self._g(end) - self._g(first)

    # -- per interval -----------------------------------------------------------------

    def interval(self, index: int) -> IntervalEnergy:
        """What the meter measured in interval ``index``."""
        return IntervalEnergy.from_values(self.interval_values(index, index + 1)[0])

    def interval_values(self, first: int, end: int) -> list[IntervalValues]:
        """Intervals ``first..end-1`` as tuples ``(index, import_wh, import_vah,
        export_wh, export_vah, voltage, current)``: the one definition of what the meter
        measures, in one loop (each day's levels worked out once, the hashes of a run
        sharing their seed rounds: profile reads compute days of these)."""
        kind, seed, base, phases = self.kind, self.seed, self.base, self.phases
        shape, reactive = _SHAPES[kind], _REACTIVE[kind]
        g_state = mix(seed, 0xBA5E)
        noise_state = mix(seed, 0x7011)
        out: list[IntervalValues] = []
        day = None
        level = solar = 0
        g = mix_round(g_state, first) % base
        for index in range(first, end):
            today, q = divmod(index + _IST_QUARTERS, _QUARTERS)
            if today != day:
                day, level, solar = today, self.day_level(today), self.day_solar(today)
            # g_next = _g(index + 1) (the next interval's _g(index)) and
            # noise = mix(seed, 0x7011, index): mix_round written out, it is the hot loop
            x = ((g_state ^ ((index + 1) & _M64)) * 0xBF58476D1CE4E5B9) & _M64
            x ^= x >> 31
            x = (x * 0x94D049BB133111EB) & _M64
            g_next = (x ^ (x >> 29)) % base
            x = ((noise_state ^ (index & _M64)) * 0xBF58476D1CE4E5B9) & _M64
            x ^= x >> 31
            x = (x * 0x94D049BB133111EB) & _M64
            noise = x ^ (x >> 29)
            load = level * shape[q]
            generation = solar * _SOLAR[q]
            import_wh = (load - generation if load > generation else 0) + base + g_next - g
            export_wh = generation - load if generation > load else 0
            voltage = 22250 + noise % 1500 - (import_wh if import_wh < 1500 else 1500) // 3
            current = (import_wh + export_wh) * 400_000 // voltage // phases
            out.append(
                (
                    index,
                    import_wh,
                    import_wh + level * reactive[q],
                    export_wh,
                    export_wh,
                    voltage,
                    current,
                )
            )
            g = g_next
        return out

    def intervals(self, first: int, end: int) -> Iterator[IntervalEnergy]:
        """Intervals ``first..end-1`` (:meth:`interval_values` as objects)."""
        return map(IntervalEnergy.from_values, self.interval_values(first, end))

    def day_totals(self, day: int) -> tuple[int, int, int, int]:
        """(import Wh, import VAh, export Wh, export VAh) over local day ``day``."""
        return _days_totals(self, day, day + 1)

    def first_interval(self, day: int) -> int:
        """The first interval of local day ``day``."""
        return day * _QUARTERS - _IST_QUARTERS

    def day_of(self, index: int) -> int:
        """The local day holding interval ``index``."""
        return (index + _IST_QUARTERS) // _QUARTERS

    @property
    def first_index(self) -> int:
        """The first interval the meter measured."""
        return self.first_interval(self.origin_day)

    def cumulative(self, index: int) -> tuple[int, int, int, int]:
        """Register values (import Wh, import VAh, export Wh, export VAh) at the start of
        interval ``index``: the initial reading plus every block since the origin."""
        if index <= self.first_index:
            return (self.initial_wh, self.initial_wh + self.initial_wh // 5, 0, 0)
        day = self.day_of(index)
        totals = list(_cumulative_at_day(self, day))
        for _, import_wh, import_vah, export_wh, export_vah, _v, _c in self.interval_values(
            self.first_interval(day), index
        ):
            totals[0] += import_wh
            totals[1] += import_vah
            totals[2] += export_wh
            totals[3] += export_vah
        return totals[0], totals[1], totals[2], totals[3]


def _days_totals(model: LoadModel, first_day: int, end_day: int) -> tuple[int, int, int, int]:
    """Register increments (import Wh, import VAh, export Wh, export VAh) over local days
    ``first_day .. end_day - 1``: per day its level and sunshine, the base load over the
    whole span at once (it telescopes)."""
    kind = model.kind
    shape_sum, reactive_sum = _SHAPE_SUMS[kind], _REACTIVE_SUMS[kind]
    imported = exported = reactive = 0
    for day in range(first_day, end_day):
        level = model.day_level(day)
        reactive += level * reactive_sum
        sun = model.day_solar(day)
        if sun:
            day_import, day_export = _solar_split(kind, level, sun)
            imported += day_import
            exported += day_export
        else:
            imported += level * shape_sum
    base = model._base_sum(model.first_interval(first_day), model.first_interval(end_day))
    return imported + base, imported + base + reactive, exported, exported


@functools.lru_cache(maxsize=16)
def _daylight_order(
    kind: ConsumerKind,
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], int]:
    """Daylight quarters of a load shape by load per unit of sunshine, rising; prefix
    sums of load and sunshine in that order; the load of the dark quarters."""
    shape = _SHAPES[kind]
    order = sorted(_DAYLIGHT, key=lambda q: fractions.Fraction(shape[q], _SOLAR[q]))
    loads = tuple(itertools.accumulate((shape[q] for q in order), initial=0))
    suns = tuple(itertools.accumulate((_SOLAR[q] for q in order), initial=0))
    night = sum(shape[q] for q in range(_QUARTERS) if not _SOLAR[q])
    return tuple(order), loads, suns, night


def _solar_split(kind: ConsumerKind, level: int, sun: int) -> tuple[int, int]:
    """(energy imported, exported) over a day of load ``level`` and sunshine ``sun``:
    the sum over daylight quarters of ``level * shape[q] - sun * solar[q]`` split by
    sign, plus the dark quarters' load. The quarters that import are those whose load
    per unit of sunshine is above ``sun / level``: a suffix of the rising order, found
    by bisection, so both sums come from prefix sums."""
    order, loads, suns, night = _daylight_order(kind)
    shape = _SHAPES[kind]
    low, high = 0, len(order)
    while low < high:  # the first quarter that imports (net > 0)
        middle = (low + high) // 2
        q = order[middle]
        if level * shape[q] > sun * _SOLAR[q]:
            high = middle
        else:
            low = middle + 1
    imported = level * (loads[-1] - loads[low]) - sun * (suns[-1] - suns[low])
    exported = sun * suns[low] - level * loads[low]
    return night * level + imported, exported


_CHUNK: Final = 32


@functools.lru_cache(maxsize=16384)
def _cumulative_at_day(model: LoadModel, day: int) -> tuple[int, int, int, int]:
    """Registers at the start of local day ``day``: from the cached start of its 32-day
    chunk (itself built from the chunk before), plus the days in between."""
    if day <= model.origin_day:
        return model.cumulative(model.first_index)
    anchor = day - (day - model.origin_day) % _CHUNK
    if anchor == day:
        anchor = day - _CHUNK
    anchor = max(anchor, model.origin_day)
    a = _cumulative_at_day(model, anchor)
    b = _days_totals(model, anchor, day)
    return a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]
