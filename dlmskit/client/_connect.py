"""``async with connect(target, association=...) as meter``: open the link, associate,
and release and close on the way out."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from types import TracebackType

import trio

from dlmskit.client._association import Association
from dlmskit.client._errors import AssociationRefused, AuthenticationFailure, single_exception
from dlmskit.client._link import LinkSettings, ParsedTarget, Target, open_link, parse_target
from dlmskit.client._meter import Meter, _close_quietly
from transports import ApduTransport, UdpPeerTransport

__all__ = ["connect"]


def connect(
    target: Target,
    *,
    association: Association | None = None,
    link: LinkSettings | None = None,
    name: str | None = None,
) -> contextlib.AbstractAsyncContextManager[Meter]:
    """Open the link and the association; release and close them on the way out.

    ``target`` is a target string (``tcp://host:4059``, ``hdlc+tcp://...``,
    ``udp://...``, ``serial:///dev/ttyUSB0``, ``optical:///dev/ttyUSB0``) or an open
    transport, which is left open. Errors come out as themselves, not wrapped in the
    exception group of a transport's task nursery.
    """
    return _Connection(target, association, link, name)


def _unwrapped(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one exception a chain of one-member groups holds, else the group itself."""
    inner = single_exception(group)
    return group if inner is None else inner


class _Connection(contextlib.AbstractAsyncContextManager[Meter]):
    """What :func:`connect` returns: entering opens the link (when given a target
    string) and the association; leaving releases the association and closes the
    links it opened, in one shielded scope, so a cancelled caller still lets the meter
    go. A class rather than generator-based context managers and an exit stack: it is
    entered once for every meter a head-end reads."""

    __slots__ = ("_association", "_link", "_meter", "_name", "_opened", "_stack", "_target")

    def __init__(
        self,
        target: Target,
        association: Association | None,
        link: LinkSettings | None,
        name: str | None,
    ) -> None:
        self._target = target
        self._association = association if association is not None else Association.public()
        self._link = link
        self._name = name
        #: transports opened here (closed on the way out, newest first)
        self._opened: list[ApduTransport] = []
        #: contexts the links need (the UDP endpoint and its receive task), made when
        #: one is needed
        self._stack: contextlib.AsyncExitStack | None = None
        self._meter: Meter | None = None

    async def __aenter__(self) -> Meter:
        try:
            try:
                self._meter = await self._open()
            except BaseException as error:
                await self._close(error)
                raise
        except BaseExceptionGroup as group:
            raise _unwrapped(group) from None
        return self._meter

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self._close(exc)
        except BaseExceptionGroup as group:
            raise _unwrapped(group) from None
        if isinstance(exc, BaseExceptionGroup):
            inner = single_exception(exc)
            if inner is not None:
                raise inner from None

    async def _open(self) -> Meter:
        target, association = self._target, self._association
        if isinstance(target, str):
            parsed = parse_target(target)
            link = self._link if self._link is not None else LinkSettings.for_scheme(parsed.scheme)
            opened = await self._open_link(parsed, link)
            datagram = parsed.scheme == "udp"
            label = self._name or str(parsed)

            async def reopen(parsed: ParsedTarget = parsed) -> ApduTransport:
                return await self._open_link(parsed, link)

            transport = opened
            reopener = None if datagram else reopen
            fresh_socket = reopen if datagram else None
        else:
            transport = target
            # a UDP peer the caller opened loses datagrams like one opened here
            datagram = isinstance(transport, UdpPeerTransport)
            link = self._link if self._link is not None else LinkSettings()
            peer = transport.peer_address
            host = f"[{peer.host}]" if peer.host and ":" in peer.host else peer.host
            label = self._name or (f"{host}:{peer.port}" if host else "meter")
            reopener = fresh_socket = None
        meter = Meter(transport, association, link, name=label, datagram=datagram, reopen=reopener)
        await _associate(meter, fresh_socket)
        return meter

    async def _open_link(self, parsed: ParsedTarget, link: LinkSettings) -> ApduTransport:
        transport = await open_link(parsed, self._association, link, self._exit_stack)
        self._opened.append(transport)
        return transport

    def _exit_stack(self) -> contextlib.AsyncExitStack:
        if self._stack is None:
            self._stack = contextlib.AsyncExitStack()
        return self._stack

    async def _close(self, error: BaseException | None) -> None:
        """Release (the link may be gone: whatever can be released, quietly), close what
        was opened here, then leave the links' contexts."""
        meter, self._meter = self._meter, None
        opened, self._opened = self._opened, []
        try:
            if meter is not None or opened:
                with trio.CancelScope(shield=True):
                    if meter is not None:
                        with contextlib.suppress(Exception):
                            await meter.release()
                    for transport in reversed(opened):
                        with contextlib.suppress(Exception):
                            await transport.aclose()
        finally:
            stack, self._stack = self._stack, None
            if stack is not None:
                if error is None:
                    await stack.aclose()
                else:
                    await stack.__aexit__(type(error), error, error.__traceback__)


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
