"""Invocation counters: the sender's monotonic store and the errors of both sides.

The IV of AES-GCM is ``system title || invocation counter``; reusing an (key, IV) pair
breaks GCM, so the sender's counter must never go back, not even across a restart
(Green Book 9.2.6.5). The store is injected into :class:`SecurityContext`; this module
ships an in-memory one and a file-backed one.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Protocol

from dlmskit.errors import SecurityError

__all__ = [
    "MAX_INVOCATION_COUNTER",
    "FileCounterStore",
    "InvocationCounterError",
    "InvocationCounterExhausted",
    "InvocationCounterStore",
    "MemoryCounterStore",
]

MAX_INVOCATION_COUNTER = 0xFFFF_FFFF


class InvocationCounterError(SecurityError):
    """A received invocation counter is not above the last accepted one (a replay).

    ``expected`` is the lowest counter that would be accepted: the value an
    exception-response invocation-counter-error carries (``D8 01 06 <expected>``).
    """

    def __init__(self, *, system_title: bytes, received: int, expected: int) -> None:
        self.system_title = system_title
        self.received = received
        self.expected = expected
        super().__init__(
            f"invocation counter {received} from {system_title.hex().upper()} was already used;"
            f" expected at least {expected}"
        )


class InvocationCounterExhausted(SecurityError):
    """The counter reached 2**32 - 1: the key must be changed before sending again."""

    def __init__(self, *, system_title: bytes, key_id: int) -> None:
        self.system_title = system_title
        self.key_id = key_id
        super().__init__(
            f"invocation counter of {system_title.hex().upper()} for key {key_id} is exhausted"
            " (2**32 - 1 reached): change the key before sending again"
        )


class InvocationCounterStore(Protocol):
    """Where a sender's invocation counters live, one per (system title, key id)."""

    def next(self, system_title: bytes, key_id: int) -> int:
        """Return a counter value never returned before for this pair, and advance.

        Raises :class:`InvocationCounterExhausted` past ``MAX_INVOCATION_COUNTER``.
        """
        ...

    def reset(self, system_title: bytes, key_id: int, value: int = 0) -> None:
        """Restart the pair's counter at ``value``: only after its key was changed."""
        ...

    def persist(self) -> None:
        """Make the current state durable (a no-op for stores that always are)."""
        ...


def _check_value(value: int) -> None:
    if not 0 <= value <= MAX_INVOCATION_COUNTER + 1:
        raise ValueError(f"invocation counter {value} out of range 0..2**32")


class MemoryCounterStore:
    """Counters in a dict: for tests, simulators, and processes that never restart."""

    __slots__ = ("_next",)

    def __init__(self, initial: dict[tuple[bytes, int], int] | None = None) -> None:
        self._next: dict[tuple[bytes, int], int] = {}
        for (title, key_id), value in (initial or {}).items():
            _check_value(value)
            self._next[(bytes(title), int(key_id))] = value

    def next(self, system_title: bytes, key_id: int) -> int:
        pair = (system_title, key_id)
        value = self._next.get(pair, 0)
        if value > MAX_INVOCATION_COUNTER:
            raise InvocationCounterExhausted(system_title=system_title, key_id=key_id)
        self._next[pair] = value + 1
        return value

    def peek(self, system_title: bytes, key_id: int) -> int:
        """The value the next call to :meth:`next` returns (without advancing)."""
        return self._next.get((system_title, key_id), 0)

    def reset(self, system_title: bytes, key_id: int, value: int = 0) -> None:
        _check_value(value)
        self._next[(bytes(system_title), int(key_id))] = value

    def persist(self) -> None:
        return None


class FileCounterStore:
    """Counters in a small JSON file, written atomically (temp file, fsync, ``os.replace``).

    Writing on every APDU would cost an fsync each, so the file records a reservation:
    a value above every counter handed out so far. :meth:`next` writes a new reservation
    ``reserve`` counters ahead when it reaches the old one; after a crash the counters
    resume at the reservation (skipping at most ``reserve`` unused values, never reusing
    one). :meth:`persist` writes the exact state, e.g. on a clean shutdown. One process
    owns a file at a time.
    """

    __slots__ = ("_limit", "_next", "_path", "_reserve")

    def __init__(self, path: str | os.PathLike[str], *, reserve: int = 1024) -> None:
        if reserve < 1:
            raise ValueError("reserve must be at least 1")
        self._path = os.fspath(path)
        self._reserve = reserve
        self._next: dict[tuple[bytes, int], int] = {}
        self._limit: dict[tuple[bytes, int], int] = {}
        for pair, value in self._load().items():
            self._next[pair] = value
            self._limit[pair] = value

    @property
    def path(self) -> str:
        return self._path

    def _load(self) -> dict[tuple[bytes, int], int]:
        try:
            with open(self._path, encoding="utf-8") as f:
                raw = json.load(f)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise SecurityError(f"invocation counter file {self._path!r} is unreadable") from exc
        result: dict[tuple[bytes, int], int] = {}
        try:
            for entry in raw["counters"]:
                value = int(entry["next"])
                _check_value(value)
                result[(bytes.fromhex(entry["system_title"]), int(entry["key_id"]))] = value
        except (KeyError, TypeError, ValueError) as exc:
            raise SecurityError(f"invocation counter file {self._path!r} is malformed") from exc
        return result

    def _write(self) -> None:
        counters = [
            {"system_title": title.hex().upper(), "key_id": key_id, "next": limit}
            for (title, key_id), limit in sorted(self._limit.items())
        ]
        text = json.dumps({"version": 1, "counters": counters}, indent=1)
        directory = os.path.dirname(os.path.abspath(self._path))
        fd, tmp = tempfile.mkstemp(prefix=".ic-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self._path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        if hasattr(os, "O_DIRECTORY"):
            dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def next(self, system_title: bytes, key_id: int) -> int:
        pair = (system_title, key_id)
        value = self._next.get(pair, 0)
        if value > MAX_INVOCATION_COUNTER:
            raise InvocationCounterExhausted(system_title=system_title, key_id=key_id)
        if value >= self._limit.get(pair, 0):
            self._limit[pair] = min(value + self._reserve, MAX_INVOCATION_COUNTER + 1)
            self._write()
        self._next[pair] = value + 1
        return value

    def peek(self, system_title: bytes, key_id: int) -> int:
        """The value the next call to :meth:`next` returns (without advancing)."""
        return self._next.get((system_title, key_id), 0)

    def reset(self, system_title: bytes, key_id: int, value: int = 0) -> None:
        _check_value(value)
        pair = (bytes(system_title), int(key_id))
        self._next[pair] = value
        self._limit[pair] = value
        self._write()

    def persist(self) -> None:
        self._limit = dict(self._next)
        self._write()
