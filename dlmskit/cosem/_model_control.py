"""Disconnect control (class 70) and the configuration-only control classes.

The disconnect control state machine follows Blue Book 4.5.8: states disconnected (0),
connected (1) and ready_for_reconnection (2); transitions a-h; ``control_mode`` 0..6
says which transitions are allowed. ``remote_disconnect``/``remote_reconnect`` are
methods 1 and 2; the manual and local transitions are Python methods a simulator calls
when the consumer presses the button or the limiter trips.

Script table, special days table, register monitor, single action schedule, activity
calendar and limiter are served as stored attributes (their executions are the
application's business); the script table calls a hook on ``execute``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Final

from dlmskit.apdu import ActionResult, DataAccessResult
from dlmskit.association import RequestContext
from dlmskit.axdr import Array, Data, DoubleLongUnsigned, Enum, LongUnsigned, OctetString, Structure
from dlmskit.cosem._model_base import CosemObject, method_failed
from obis import ObisLike, as_obis

__all__ = [
    "ActivityCalendar",
    "ControlMode",
    "ControlState",
    "DisconnectControl",
    "Limiter",
    "RegisterMonitor",
    "ScriptTable",
    "SingleActionSchedule",
    "SpecialDaysTable",
]


class ControlState(enum.IntEnum):
    """Disconnect control attribute 3 control_state."""

    DISCONNECTED = 0
    CONNECTED = 1
    READY_FOR_RECONNECTION = 2


class ControlMode(enum.IntEnum):
    """Disconnect control attribute 4 control_mode (Blue Book 4.5.8)."""

    NONE = 0
    MODE_1 = 1
    MODE_2 = 2
    MODE_3 = 3
    MODE_4 = 4
    MODE_5 = 5
    MODE_6 = 6


#: The transitions each mode allows (Blue Book letters): remote_reconnect is (d) straight
#: to connected in modes 1, 3, 5, 6 and (a) to ready_for_reconnection in 2 and 4; manual
#: disconnection (f) is not allowed in modes 3, 4 and 6, local reconnection (h) only in 5, 6.
_ALLOWED: Mapping[ControlMode, frozenset[str]] = {
    ControlMode.NONE: frozenset(),
    ControlMode.MODE_1: frozenset("bcdefg"),
    ControlMode.MODE_2: frozenset("abcefg"),
    ControlMode.MODE_3: frozenset("bcdeg"),
    ControlMode.MODE_4: frozenset("abceg"),
    ControlMode.MODE_5: frozenset("bcdefgh"),
    ControlMode.MODE_6: frozenset("bcdegh"),
}

_D, _C, _R = ControlState.DISCONNECTED, ControlState.CONNECTED, ControlState.READY_FOR_RECONNECTION

#: transition letter -> (from state, to state)
_TRANSITIONS: Mapping[str, tuple[ControlState, ControlState]] = {
    "a": (_D, _R),
    "b": (_R, _D),
    "c": (_C, _D),
    "d": (_D, _C),
    "e": (_R, _C),
    "f": (_C, _R),
    "g": (_C, _R),
    "h": (_R, _C),
}


class DisconnectControl(CosemObject):
    """Disconnect control (class 70, version 1): the supply relay's state machine.

    ``on_change(old, new)`` is called after every state change (a simulator switches its
    load model; an event log records 301/302).
    """

    def __init__(
        self,
        logical_name: ObisLike = "0.0.96.3.10.255",
        *,
        control_state: ControlState = ControlState.CONNECTED,
        control_mode: ControlMode = ControlMode.MODE_4,
        on_change: Callable[[ControlState, ControlState], None] | None = None,
    ) -> None:
        super().__init__(logical_name, class_id=70, version=1)
        self.state = ControlState(control_state)
        self.on_change = on_change
        self.bind(2, lambda ctx, sa: self.output_state)
        self.bind(3, lambda ctx, sa: Enum(self.state))
        self[4] = Enum(control_mode)
        self.on_set(4, self._set_mode)
        self.implement(1, self._remote_disconnect)
        self.implement(2, self._remote_reconnect)

    @property
    def output_state(self) -> bool:
        """Attribute 2: the supply is connected."""
        return self.state is ControlState.CONNECTED

    @property
    def control_mode(self) -> ControlMode:
        value = self[4]
        assert isinstance(value, int)
        return ControlMode(value)

    def _set_mode(self, ctx: RequestContext, value: Data) -> DataAccessResult:
        if not isinstance(value, int) or not 0 <= value <= max(ControlMode):
            return DataAccessResult.OTHER_REASON
        self._values[4] = Enum(value)
        return DataAccessResult.SUCCESS

    def _apply(self, letters: str) -> bool:
        """Take the first allowed transition among ``letters`` from the current state."""
        allowed = _ALLOWED[self.control_mode]
        for letter in letters:
            source, target = _TRANSITIONS[letter]
            if letter in allowed and self.state is source:
                old, self.state = self.state, target
                if self.on_change is not None:
                    self.on_change(old, target)
                return True
        return False

    def remote_disconnect(self) -> bool:
        """Transitions b or c; ``False`` if the mode forbids it (no change)."""
        if self.state is ControlState.DISCONNECTED:
            return self.control_mode is not ControlMode.NONE
        return self._apply("bc")

    def remote_reconnect(self) -> bool:
        """Transition a or d (by mode); ``False`` if the mode forbids it."""
        if self.state is not ControlState.DISCONNECTED:
            return self.control_mode is not ControlMode.NONE
        return self._apply("ad")

    def manual_reconnect(self) -> bool:
        """Transition e: the consumer presses the button while ready for reconnection."""
        return self._apply("e")

    def manual_disconnect(self) -> bool:
        """Transition f."""
        return self._apply("f")

    def local_disconnect(self) -> bool:
        """Transition g: e.g. the limiter or a supervision function trips."""
        return self._apply("g")

    def local_reconnect(self) -> bool:
        """Transition h."""
        return self._apply("h")

    def _remote_disconnect(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        if not self.remote_disconnect():
            raise method_failed(ActionResult.OTHER_REASON, "control mode forbids it")
        return None

    def _remote_reconnect(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        if not self.remote_reconnect():
            raise method_failed(ActionResult.OTHER_REASON, "control mode forbids it")
        return None


_EMPTY: Final = Array()


def _ln(value: ObisLike) -> OctetString:
    return OctetString(as_obis(value).to_bytes())


class ScriptTable(CosemObject):
    """Script table (class 9): attribute 2 scripts; method 1 execute(script id) calls
    ``execute(script_id)``; unknown ids answer other-reason."""

    def __init__(
        self,
        logical_name: ObisLike,
        *,
        scripts: Array = _EMPTY,
        execute: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(logical_name, class_id=9, version=0, values={2: scripts})
        self.execute = execute
        self.implement(1, self._execute)

    def script_ids(self) -> tuple[int, ...]:
        scripts = self[2]
        out: list[int] = []
        if isinstance(scripts, Array):
            for script in scripts:
                if isinstance(script, Structure) and script and isinstance(script[0], int):
                    out.append(int(script[0]))
        return tuple(out)

    def _execute(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        if not isinstance(parameters, int) or int(parameters) not in self.script_ids():
            raise method_failed(ActionResult.OTHER_REASON, "no such script")
        if self.execute is not None:
            self.execute(int(parameters))
        return None


class SpecialDaysTable(CosemObject):
    """Special days table (class 11): attribute 2 entries (stored)."""

    def __init__(self, logical_name: ObisLike = "0.0.11.0.0.255", *, entries: Array = _EMPTY):
        super().__init__(logical_name, class_id=11, version=0, values={2: entries})


class RegisterMonitor(CosemObject):
    """Register monitor (class 21): thresholds, monitored_value, actions (stored)."""

    def __init__(
        self,
        logical_name: ObisLike,
        *,
        thresholds: Array,
        monitored_value: Structure,
        actions: Array,
    ) -> None:
        super().__init__(
            logical_name,
            class_id=21,
            version=0,
            values={2: thresholds, 3: monitored_value, 4: actions},
        )


class SingleActionSchedule(CosemObject):
    """Single action schedule (class 22): executed_script, type, execution_time (stored)."""

    def __init__(
        self,
        logical_name: ObisLike,
        *,
        script: ObisLike,
        script_selector: int = 1,
        type: int = 1,
        execution_time: Array = _EMPTY,
    ) -> None:
        super().__init__(
            logical_name,
            class_id=22,
            version=0,
            values={
                2: Structure((_ln(script), LongUnsigned(script_selector))),
                3: Enum(type),
                4: execution_time,
            },
        )


class ActivityCalendar(CosemObject):
    """Activity calendar (class 20): active and passive calendars (stored); method 1
    activate_passive_calendar copies the passive calendar onto the active one."""

    def __init__(
        self,
        logical_name: ObisLike = "0.0.13.0.0.255",
        *,
        calendar_name: bytes = b"",
        season_profile: Array = _EMPTY,
        week_profile_table: Array = _EMPTY,
        day_profile_table: Array = _EMPTY,
    ) -> None:
        calendar: tuple[Data, ...] = (
            OctetString(calendar_name),
            season_profile,
            week_profile_table,
            day_profile_table,
        )
        super().__init__(
            logical_name,
            class_id=20,
            version=0,
            values={
                **{i: v for i, v in enumerate(calendar, start=2)},
                **{i: v for i, v in enumerate(calendar, start=6)},
                10: OctetString(bytes.fromhex("FFFFFFFFFFFFFFFFFF8000FF")),
            },
        )
        self.implement(1, self._activate)

    def activate_passive_calendar(self) -> None:
        for active in range(2, 6):
            self[active] = self[active + 4]

    def _activate(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        self.activate_passive_calendar()
        return None


class Limiter(CosemObject):
    """Limiter (class 71): monitored value, thresholds, durations, actions (stored)."""

    def __init__(
        self,
        logical_name: ObisLike = "0.0.17.0.0.255",
        *,
        monitored_value: Structure,
        threshold_active: Data,
        threshold_normal: Data,
        threshold_emergency: Data,
        min_over_threshold_duration: int = 0,
        min_under_threshold_duration: int = 0,
        actions: Structure | None = None,
    ) -> None:
        no_action = Structure((OctetString(bytes(6)), LongUnsigned(0)))
        super().__init__(
            logical_name,
            class_id=71,
            version=0,
            values={
                2: monitored_value,
                3: threshold_active,
                4: threshold_normal,
                5: threshold_emergency,
                6: DoubleLongUnsigned(min_over_threshold_duration),
                7: DoubleLongUnsigned(min_under_threshold_duration),
                8: Structure(
                    (
                        LongUnsigned(0),
                        OctetString(bytes.fromhex("FFFFFFFFFFFFFFFFFF8000FF")),
                        DoubleLongUnsigned(0),
                    )
                ),
                9: Array(),
                10: False,
                11: actions if actions is not None else Structure((no_action, no_action)),
            },
        )
