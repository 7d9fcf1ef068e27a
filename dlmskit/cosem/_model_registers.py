"""Data, Register, Extended register and Demand register objects (Blue Book 4.3.1-4.3.4).

Values are stored A-XDR values; a simulator that computes a value on demand rebinds the
attribute with :meth:`CosemObject.bind`. ``reset`` writes zero of the value's own type.
Times (capture_time, start_time_current) come from an injected ``now`` function that
returns the date-time to store, never from the system clock.
"""

from __future__ import annotations

from collections.abc import Callable

from dlmskit.apdu import ActionResult
from dlmskit.association import RequestContext
from dlmskit.axdr import (
    Data,
    DateTime,
    DoubleLongUnsigned,
    Float32,
    Float64,
    LongUnsigned,
    OctetString,
)
from dlmskit.cosem._capture import ScalerUnit
from dlmskit.cosem._model_base import CosemObject, method_failed
from obis import ObisLike

__all__ = ["DataObject", "DemandRegister", "ExtendedRegister", "Register", "zero_like"]

#: Supplies the date-time an object stamps (e.g. ``Clock.date_time``).
DateTimeSource = Callable[[], DateTime]


def zero_like(value: Data) -> Data:
    """Zero of the same A-XDR type as ``value`` (null-data for non-numeric values)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Float32 | Float64):
        return type(value)(0.0)
    if isinstance(value, int):
        try:
            return type(value)(0)
        except Exception:
            return None
    return None


def _stamp(source: DateTimeSource | None) -> OctetString:
    if source is None:
        return OctetString(bytes.fromhex("FFFFFFFFFFFFFFFFFF8000FF"))
    return OctetString(source().to_bytes())


class DataObject(CosemObject):
    """Data (class 1, version 0): one value of any type.

    Named ``DataObject`` because ``Data`` is the A-XDR value type.
    """

    def __init__(self, logical_name: ObisLike, value: Data = None) -> None:
        super().__init__(logical_name, class_id=1, version=0, values={2: value})


class Register(CosemObject):
    """Register (class 3, version 0): a value with its scaler_unit; method 1 reset."""

    def __init__(
        self,
        logical_name: ObisLike,
        value: Data,
        scaler_unit: ScalerUnit,
        *,
        class_id: int = 3,
    ) -> None:
        super().__init__(logical_name, class_id=class_id, version=0)
        self[2] = value
        self[3] = scaler_unit.to_data()
        self.implement(1, self._reset)

    @property
    def scaler_unit(self) -> ScalerUnit:
        return ScalerUnit.from_data(self["scaler_unit"])

    def reset(self) -> None:
        """Set the value to zero (Blue Book: the default value)."""
        self[2] = zero_like(self[2])

    def _reset(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        if 2 in self._getters:
            raise method_failed(ActionResult.READ_WRITE_DENIED, "value is computed")
        self.reset()
        return None


class ExtendedRegister(Register):
    """Extended register (class 4, version 0): value, scaler_unit, status, capture_time."""

    def __init__(
        self,
        logical_name: ObisLike,
        value: Data,
        scaler_unit: ScalerUnit,
        *,
        status: Data = None,
        capture_time: DateTime | None = None,
        now: DateTimeSource | None = None,
    ) -> None:
        super().__init__(logical_name, value, scaler_unit, class_id=4)
        self._now = now
        self[4] = status
        self[5] = OctetString(capture_time.to_bytes()) if capture_time is not None else _stamp(None)

    def capture(self, value: Data, status: Data | None = None) -> None:
        """Record a new value, stamping capture_time with ``now``."""
        self[2] = value
        if status is not None:
            self[4] = status
        self[5] = _stamp(self._now)

    def reset(self) -> None:
        self.capture(zero_like(self[2]))


class DemandRegister(CosemObject):
    """Demand register (class 5, version 0): current and last average over a period.

    Methods: 1 reset (both averages to zero), 2 next_period (current average becomes
    last average, a new period starts now). :meth:`update` feeds a new current average.
    """

    def __init__(
        self,
        logical_name: ObisLike,
        scaler_unit: ScalerUnit,
        *,
        current_average_value: Data,
        last_average_value: Data | None = None,
        period: int = 900,
        number_of_periods: int = 1,
        status: Data = None,
        now: DateTimeSource | None = None,
    ) -> None:
        super().__init__(logical_name, class_id=5, version=0)
        self._now = now
        self[2] = current_average_value
        self[3] = (
            last_average_value
            if last_average_value is not None
            else zero_like(current_average_value)
        )
        self[4] = scaler_unit.to_data()
        self[5] = status
        self[6] = _stamp(now)
        self[7] = _stamp(now)
        self[8] = DoubleLongUnsigned(period)
        self[9] = LongUnsigned(number_of_periods)
        self.implement(1, self._reset)
        self.implement(2, self._next_period)

    def update(self, current_average_value: Data) -> None:
        """A new current average (e.g. from the metering engine)."""
        self[2] = current_average_value

    def next_period(self) -> None:
        self[3] = self[2]
        self[2] = zero_like(self[2])
        self[6] = _stamp(self._now)
        self[7] = self[6]

    def reset(self) -> None:
        self[2] = zero_like(self[2])
        self[3] = zero_like(self[3])
        self[6] = _stamp(self._now)
        self[7] = self[6]

    def _reset(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        self.reset()
        return None

    def _next_period(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        self.next_period()
        return None
