"""What a fuzz target is: one-input function, the exceptions it may raise, its seeds.

A target runs one input through a decoder (or a protocol machine) and checks what the
design promises about it. The exceptions listed in ``allowed`` are the decoder's
documented refusals; anything else escaping ``one_input`` is a finding: atheris stops
and writes the input as a crash artifact, and the pytest driver fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import attrs

__all__ = ["Target", "chunks", "join_chunks"]


@attrs.frozen(kw_only=True)
class Target:
    """One fuzz target.

    ``run`` takes the input bytes and may raise only the exception types in ``allowed``
    (an empty tuple: nothing at all). It also asserts the properties that hold for
    accepted inputs (round trips, invariants); an ``AssertionError`` is a finding too.
    ``seeds`` builds the seed corpus: name -> input, from golden vectors.
    """

    name: str
    description: str
    run: Callable[[bytes], object]
    allowed: tuple[type[BaseException], ...]
    seeds: Callable[[], Mapping[str, bytes]]

    def one_input(self, data: bytes) -> None:
        """The entry point handed to atheris: refusals in ``allowed`` are expected."""
        try:
            self.run(data)
        except self.allowed:
            return


def chunks(data: bytes) -> Iterator[bytes]:
    """Cut an input into a sequence of messages: ``len(1) body`` repeated.

    A length octet of 0xFF takes the rest of the input, so one long message is reachable
    too. A length running past the end takes what remains.
    """
    pos = 0
    n = len(data)
    while pos < n:
        size = data[pos]
        pos += 1
        if size == 0xFF:
            yield data[pos:]
            return
        yield data[pos : pos + size]
        pos += size


def join_chunks(*messages: bytes) -> bytes:
    """The inverse of :func:`chunks`, for building seeds."""
    out = bytearray()
    for message in messages:
        if len(message) < 0xFF:
            out.append(len(message))
            out += message
        else:
            out.append(0xFF)
            out += message
            break
    return bytes(out)
