"""A simulated meter on a serial line: HDLC on RS-485, or the optical port with the
IEC 62056-21 mode E hand-over first, over any trio stream (a pseudo-terminal in tests).

The line stays up between sessions: after a client disconnects (DISC, or the link
breaks) the meter waits for the next sign-on or SNRM.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterable

import trio

from dlmskit.errors import DlmsError, TransportError
from simulators._fleet import Fleet
from simulators._serve import DEFAULT_IDLE_TIMEOUT, LinkStats, run_session
from transports import HdlcAddress, ModeEMeter, accept_hdlc, answer_mode_e

__all__ = ["open_fleet_ptys", "open_meter_pty", "serve_serial"]


async def serve_serial(
    fleet: Fleet,
    number: int,
    stream: trio.abc.Stream,
    *,
    optical: bool = False,
    server_address: HdlcAddress | None = None,
    stats: LinkStats | None = None,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
) -> None:
    """Be meter ``number`` on the line ``stream`` until it breaks or is cancelled."""
    counters = stats if stats is not None else LinkStats()
    address = server_address if server_address is not None else HdlcAddress.server(1)
    ident = fleet.identity(number)
    while True:
        try:
            if optical:
                sign_on = ModeEMeter(
                    manufacturer="DLK", baud_char="5", identification=ident.name[:16]
                )
                await answer_mode_e(stream, sign_on)
            transport = await accept_hdlc(stream, server_address=address, device=ident.name)
            sap = transport.peer_address.sap
            counters.connections += 1
            if sap is not None:
                await run_session(
                    fleet.meter(number),
                    sap,
                    None,
                    transport.receive_apdu,
                    transport.send_apdu,
                    counters,
                    idle_timeout=idle_timeout,
                )
        except TransportError as exc:
            if "closed" in str(exc) or "broken" in str(exc):
                return
        except DlmsError:
            continue


@contextlib.asynccontextmanager
async def open_meter_pty(
    fleet: Fleet, number: int = 0, *, optical: bool = False, stats: LinkStats | None = None
) -> AsyncIterator[str]:
    """Serve meter ``number`` on a new pseudo-terminal; yields the device a client opens
    (POSIX only)."""
    master, slave = os.openpty()
    device = os.ttyname(slave)
    stream = trio.lowlevel.FdStream(master)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                lambda: serve_serial(fleet, number, stream, optical=optical, stats=stats)
            )
            try:
                yield device
            finally:
                nursery.cancel_scope.cancel()
    finally:
        os.close(slave)
        await trio.aclose_forcefully(stream)


@contextlib.asynccontextmanager
async def open_fleet_ptys(
    fleet: Fleet,
    numbers: Iterable[int] | None = None,
    *,
    optical: bool = False,
    stats: LinkStats | None = None,
) -> AsyncIterator[dict[int, str]]:
    """Meters ``numbers`` (default all) each on its own pseudo-terminal; yields meter
    number -> device."""
    chosen = list(range(len(fleet))) if numbers is None else list(numbers)
    async with contextlib.AsyncExitStack() as stack:
        devices = {
            number: await stack.enter_async_context(
                open_meter_pty(fleet, number, optical=optical, stats=stats)
            )
            for number in chosen
        }
        yield devices
