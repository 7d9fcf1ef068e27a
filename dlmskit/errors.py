"""The dlmskit exception hierarchy.

One root, two sides, as in h11 and wsproto::

    DlmsError
    ├── LocalProtocolError     you asked for something the protocol or the association forbids
    ├── RemoteProtocolError    the peer sent something malformed or out of order
    │   └── DecodeError        malformed bytes; carries the offset and what was expected
    ├── SecurityError          authentication failed, tag mismatch, replayed invocation counter
    ├── TransportError         link closed, timed out, framing broken
    └── ServiceError           the meter answered with a data-access-result / exception-response

No exception here ever carries key material: messages are built by the raiser from
public facts only (offsets, tags, counters, system titles).
"""

from __future__ import annotations

__all__ = [
    "DecodeError",
    "DlmsError",
    "LocalProtocolError",
    "RemoteProtocolError",
    "SecurityError",
    "ServiceError",
    "TransportError",
]


class DlmsError(Exception):
    """Root of every error dlmskit raises on purpose."""


class LocalProtocolError(DlmsError):
    """The caller asked for something the protocol or the association forbids."""


class RemoteProtocolError(DlmsError):
    """The peer sent something malformed or out of order."""


class DecodeError(RemoteProtocolError):
    """Malformed bytes.

    ``offset`` is the byte position in the input where decoding stopped and
    ``expected`` says what the decoder was looking for there.
    """

    def __init__(self, message: str, *, offset: int = 0, expected: str = "") -> None:
        self.offset = offset
        self.expected = expected
        self.reason = message
        text = f"{message} at offset {offset}"
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)


class SecurityError(DlmsError):
    """Authentication failed, a tag did not verify, or a counter was replayed."""


class TransportError(DlmsError):
    """The link closed, timed out, or its framing broke."""


class ServiceError(DlmsError):
    """The meter answered, with an error result instead of data.

    ``result`` is the data-access-result, action-result or exception value the meter
    sent (an ``IntEnum`` member where the value is known, else an ``int``).
    """

    def __init__(self, message: str, *, result: object = None) -> None:
        self.result = result
        super().__init__(message)
