"""Errors the client raises, each saying in plain words what went wrong.

They extend the :mod:`dlmskit.errors` hierarchy, so ``except DlmsError`` still catches
everything; the messages name the diagnostic, the data-access-result or what was awaited.
"""

from __future__ import annotations

import enum

from dlmskit.errors import SecurityError, ServiceError, TransportError

__all__ = ["AssociationRefused", "AuthenticationFailure", "MeterTimeout", "result_name"]


def result_name(value: object) -> str:
    """``read-write-denied (3)`` for an enum member, ``17`` for a bare int."""
    if isinstance(value, enum.Enum):
        return f"{value.name.lower().replace('_', '-')} ({int(value.value)})"
    return str(value)


def single_exception(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The one exception a chain of one-member exception groups holds (trio wraps what
    crosses a task nursery), or ``None`` when the group holds more."""
    found: BaseException = group
    while isinstance(found, BaseExceptionGroup):
        if len(found.exceptions) != 1:
            return None
        found = found.exceptions[0]
    return found


class AssociationRefused(ServiceError):
    """The meter answered the AARQ with a rejection; ``result`` is its diagnostic."""


class AuthenticationFailure(SecurityError):
    """HLS pass 3 or 4 did not verify, or a ciphered APDU did not open."""


class MeterTimeout(TransportError, TimeoutError):
    """Nothing arrived in time; ``awaited`` names what the client was waiting for."""

    def __init__(self, message: str, *, awaited: str, timeout: float) -> None:
        self.awaited = awaited
        self.timeout = timeout
        super().__init__(message)
