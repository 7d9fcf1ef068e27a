"""What the wrapper's trio transports share: the framer, the wPorts, and the loop that
takes the next WPDU for them from whatever bytes their link reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import trio

from dlmskit.errors import DecodeError, TransportError
from transports._wrapper import WrapperFramer

__all__: list[str] = []


class WrapperEnds:
    """The two ends of a wrapper link: ``local_wport``/``remote_wport`` (``None`` until
    learnt from the first WPDU received, its destination and source); a WPDU for another
    pair of wPorts is dropped and counted in ``wrong_wport``."""

    local_wport: int | None
    remote_wport: int | None
    wrong_wport: int
    _framer: WrapperFramer
    _closed: bool
    _eof: bool

    def _ends(self, local_wport: int | None, remote_wport: int | None, max_apdu: int) -> None:
        self.local_wport = local_wport
        self.remote_wport = remote_wport
        self.wrong_wport = 0
        self._framer = WrapperFramer(max_apdu=max_apdu)
        self._closed = False
        self._eof = False

    async def _next_frame(
        self, read: Callable[[], Awaitable[bytes | bytearray | None]]
    ) -> tuple[int, int, bytes]:
        """(source, destination, APDU) of the next WPDU for our wPorts; ``read`` gives the
        link's next bytes (``b""`` at its end, ``None``: nothing after all, read again)."""
        framer = self._framer
        if framer.buffered:
            # bytes held from an earlier read may make a whole WPDU: checkpoint before
            # taking it (a cancellation here loses nothing), so a peer flooding WPDUs
            # cannot starve the other tasks
            await trio.lowlevel.checkpoint()
        while True:
            if self._closed:
                raise TransportError("transport is closed")
            try:
                frame = framer.next_frame()
            except DecodeError as exc:
                raise TransportError(f"wrapper stream broken: {exc}") from exc
            if frame is not None:
                if self._accept(frame[0], frame[1]):
                    return frame
                continue
            if self._eof:
                raise TransportError(self._eof_message())
            data = await read()
            if data is None:
                continue
            if not data:
                self._eof = True
                raise TransportError(self._eof_message())
            framer.feed(data)

    def _eof_message(self) -> str:
        if self._framer.buffered:
            return f"peer closed the connection mid-WPDU ({self._framer.buffered} bytes held)"
        return "peer closed the connection"

    def _accept(self, source: int, destination: int) -> bool:
        if self.local_wport is None:
            self.local_wport = destination
        if self.remote_wport is None:
            self.remote_wport = source
        if destination != self.local_wport or source != self.remote_wport:
            self.wrong_wport += 1
            return False
        return True
