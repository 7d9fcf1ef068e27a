"""``async with connect(target, association=...) as meter``: open the link, associate,
and release and close on the way out."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import trio

from dlmskit.client._association import Association
from dlmskit.client._errors import AssociationRefused, AuthenticationFailure, single_exception
from dlmskit.client._link import LinkSettings, ParsedTarget, Target, open_link, parse_target
from dlmskit.client._meter import Meter, _close_quietly
from transports import ApduTransport, UdpPeerTransport

__all__ = ["connect"]


@contextlib.asynccontextmanager
async def connect(
    target: Target,
    *,
    association: Association | None = None,
    link: LinkSettings | None = None,
    name: str | None = None,
) -> AsyncIterator[Meter]:
    """Open the link and the association; release and close them on the way out.

    ``target`` is a target string (``tcp://host:4059``, ``hdlc+tcp://...``,
    ``udp://...``, ``serial:///dev/ttyUSB0``, ``optical:///dev/ttyUSB0``) or an open
    transport, which is left open. Errors come out as themselves, not wrapped in the
    exception group of a transport's task nursery.
    """
    try:
        async with _connected(target, association, link, name) as meter:
            yield meter
    except BaseExceptionGroup as group:
        inner = single_exception(group)
        if inner is None:
            raise
        raise inner from None


@contextlib.asynccontextmanager
async def _connected(
    target: Target,
    association: Association | None,
    link: LinkSettings | None,
    name: str | None,
) -> AsyncIterator[Meter]:
    association = association if association is not None else Association.public()
    async with contextlib.AsyncExitStack() as stack:
        datagram = False
        if isinstance(target, str):
            parsed = parse_target(target)
            link = link if link is not None else LinkSettings.for_scheme(parsed.scheme)
            opened = await open_link(parsed, association, link, stack)
            stack.push_async_callback(_close_quietly, opened)
            datagram = parsed.scheme == "udp"
            label = name or str(parsed)

            async def reopen(
                parsed: ParsedTarget = parsed, association: Association = association
            ) -> ApduTransport:
                assert link is not None
                fresh = await open_link(parsed, association, link, stack)
                stack.push_async_callback(_close_quietly, fresh)
                return fresh

            transport = opened
            reopener = None if datagram else reopen
            fresh_socket = reopen if datagram else None
        else:
            transport = target
            # a UDP peer the caller opened loses datagrams like one opened here
            datagram = isinstance(transport, UdpPeerTransport)
            link = link if link is not None else LinkSettings()
            peer = transport.peer_address
            host = f"[{peer.host}]" if peer.host and ":" in peer.host else peer.host
            label = name or (f"{host}:{peer.port}" if host else "meter")
            reopener = fresh_socket = None
        meter = Meter(transport, association, link, name=label, datagram=datagram, reopen=reopener)
        await _associate(meter, fresh_socket)
        try:
            yield meter
        finally:
            # the link may be gone: release what can be released, quietly
            with trio.CancelScope(shield=True), contextlib.suppress(Exception):
                await meter.release()


async def _associate(
    meter: Meter, fresh_socket: Callable[[], Awaitable[ApduTransport]] | None
) -> None:
    """Open the association. Over UDP a lost AARE (or pass 4) leaves the meter holding
    the association the first AARQ opened, so it refuses the repeated one: then try
    again from a fresh socket, which the meter sees as another client link."""
    attempts = meter.link.retries + 1 if fresh_socket is not None else 1
    for attempt in range(attempts):
        try:
            await meter.open()
            return
        except (AssociationRefused, AuthenticationFailure):
            if fresh_socket is None or not meter.association_repeated or attempt + 1 == attempts:
                raise
        await _close_quietly(meter.transport)
        meter.transport = await fresh_socket()
