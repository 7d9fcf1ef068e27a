"""Receiving pushes: ``async with listen(keys=...) as pushes: async for push in pushes``.

Meters push DATA-NOTIFICATIONs (and EVENT-NOTIFICATIONs) over the wrapper, on TCP
connections they open or in UDP datagrams (IEC 62056-4-7, port 4059). A ciphered push
travels as general-glo-ciphering (0xDB), which carries the sender's system title: the
listener looks the meter's keys up by that title, deciphers and verifies the tag, and
refuses a replayed invocation counter (one :class:`~dlmskit.security.SecurityContext`
per meter keeps the last accepted counter). Every push that does not pass is counted
in ``rejected`` with the reason, never raised into the receiving loop.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import attrs
import trio

from dlmskit.apdu import (
    DataNotification,
    EventNotificationRequest,
    GeneralGloCiphering,
    decode_apdu,
)
from dlmskit.client._association import DEFAULT_CLIENT_SYSTEM_TITLE
from dlmskit.errors import DlmsError, SecurityError
from dlmskit.security import KeyId, SecurityContext, SecuritySuite
from transports import (
    ApduTransport,
    LinkAddress,
    UdpPeerTransport,
    WrapperStreamTransport,
    open_udp_endpoint,
    serve_tcp_wrapper,
)

__all__ = ["MeterKeys", "Push", "PushListener", "RejectedPush", "listen"]

_PLAIN_TAGS = frozenset({DataNotification.TAG, EventNotificationRequest.TAG})


@attrs.frozen(kw_only=True)
class MeterKeys:
    """What the listener knows of one meter: its name and push keys."""

    name: str = ""
    encryption_key: bytes | None = attrs.field(default=None, repr=False)
    authentication_key: bytes | None = attrs.field(default=None, repr=False)
    suite: SecuritySuite = SecuritySuite.AES_GCM_128


KeyLookup = Mapping[bytes, MeterKeys] | Callable[[bytes], MeterKeys | None]


@attrs.frozen(kw_only=True)
class Push:
    """One notification, tied to the meter that sent it."""

    notification: DataNotification | EventNotificationRequest
    #: The sender's system title (``None`` for an unciphered push).
    system_title: bytes | None
    #: The meter's name from the key lookup ("" when unknown).
    meter: str
    peer: LinkAddress
    #: "tcp" or "udp".
    transport: str
    #: The invocation counter of a ciphered push.
    invocation_counter: int | None
    #: When the listener received it (our clock, aware UTC).
    received_at: _dt.datetime
    #: The APDU as it came off the wire.
    raw: bytes = attrs.field(repr=False)

    @property
    def ciphered(self) -> bool:
        return self.invocation_counter is not None


@attrs.frozen(kw_only=True)
class RejectedPush:
    """A push that was refused, and why."""

    peer: LinkAddress
    transport: str
    reason: str
    system_title: bytes | None = None


class PushListener:
    """The receiving end of :func:`listen`: an async iterator of :class:`Push`."""

    def __init__(
        self,
        keys: KeyLookup,
        *,
        system_title: bytes,
        allow_plain: bool,
        buffer: int,
        max_rejected: int = 1000,
    ) -> None:
        self._keys = keys
        self._system_title = system_title
        self.allow_plain = allow_plain
        self._send, self._receive = trio.open_memory_channel[Push](buffer)
        self._contexts: dict[bytes, SecurityContext] = {}
        self.rejected: list[RejectedPush] = []
        self.rejected_count = 0
        self.accepted_count = 0
        self._max_rejected = max_rejected
        self.tcp_port: int | None = None
        self.udp_port: int | None = None

    def __aiter__(self) -> PushListener:
        return self

    async def __anext__(self) -> Push:
        try:
            return await self._receive.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise StopAsyncIteration from None

    async def receive(self) -> Push:
        """The next accepted push."""
        return await self._receive.receive()

    # -- checking one APDU --------------------------------------------------------

    def _lookup(self, title: bytes) -> MeterKeys | None:
        if callable(self._keys):
            return self._keys(title)
        return self._keys.get(title)

    def _context(self, title: bytes, keys: MeterKeys) -> SecurityContext:
        context = self._contexts.get(title)
        if context is None:
            context = SecurityContext(
                system_title=self._system_title,
                peer_system_title=title,
                suite=keys.suite,
                global_unicast_key=keys.encryption_key,
                authentication_key=keys.authentication_key,
            )
            self._contexts[title] = context
        return context

    def _reject(self, peer: LinkAddress, kind: str, reason: str, title: bytes | None) -> None:
        self.rejected_count += 1
        self.rejected.append(
            RejectedPush(peer=peer, transport=kind, reason=reason, system_title=title)
        )
        del self.rejected[: -self._max_rejected]

    def check(self, apdu: bytes, peer: LinkAddress, kind: str) -> Push | None:
        """Decipher, verify and decode one pushed APDU; ``None`` (and a rejection) if it
        does not pass."""
        title: bytes | None = None
        counter: int | None = None
        meter = ""
        try:
            if apdu[:1] == bytes((GeneralGloCiphering.TAG,)):
                envelope = GeneralGloCiphering.from_bytes(apdu)
                title = envelope.system_title
                counter = envelope.invocation_counter
                keys = self._lookup(title)
                if keys is None:
                    self._reject(peer, kind, f"unknown system title {title.hex().upper()}", title)
                    return None
                meter = keys.name
                plain = self._context(title, keys).unprotect(apdu)
            elif apdu[:1] and apdu[0] in _PLAIN_TAGS:
                if not self.allow_plain:
                    self._reject(peer, kind, "unciphered push refused", None)
                    return None
                plain = apdu
            else:
                tag = f"0x{apdu[0]:02X}" if apdu else "empty APDU"
                self._reject(peer, kind, f"not a push: {tag}", None)
                return None
            decoded = decode_apdu(plain)
        except SecurityError as error:
            reason = str(error)
            if "tag" in reason and "verif" in reason:
                reason = f"authentication tag mismatch ({reason})"
            self._reject(peer, kind, reason, title)
            return None
        except DlmsError as error:
            self._reject(peer, kind, f"malformed push: {error}", title)
            return None
        if not isinstance(decoded, DataNotification | EventNotificationRequest):
            self._reject(peer, kind, f"not a notification: {type(decoded).__name__}", title)
            return None
        self.accepted_count += 1
        return Push(
            notification=decoded,
            system_title=title,
            meter=meter,
            peer=peer,
            transport=kind,
            invocation_counter=counter,
            received_at=_dt.datetime.now(_dt.UTC),
            raw=apdu,
        )

    def last_counter(self, system_title: bytes) -> int | None:
        """The last invocation counter accepted from a meter (persist it to keep replay
        protection across restarts)."""
        context = self._contexts.get(system_title)
        if context is None:
            return None
        return context.last_accepted(system_title, KeyId.GLOBAL_UNICAST_ENCRYPTION)

    async def handle(self, transport: ApduTransport, kind: str) -> None:
        """Read pushes from one link until it closes."""
        peer = transport.peer_address
        while True:
            try:
                apdu = await transport.receive_apdu()
            except DlmsError:
                return
            push = self.check(apdu, peer, kind)
            if push is not None:
                await self._send.send(push)


@contextlib.asynccontextmanager
async def listen(
    keys: KeyLookup | None = None,
    *,
    host: str = "0.0.0.0",
    tcp_port: int | None = 4059,
    udp_port: int | None = 4059,
    system_title: bytes = DEFAULT_CLIENT_SYSTEM_TITLE,
    allow_plain: bool = False,
    buffer: int = 256,
) -> AsyncIterator[PushListener]:
    """Listen for pushes on TCP and/or UDP (``None`` turns one off; ``0`` picks a free
    port, then read ``tcp_port``/``udp_port`` of the listener).

    ``keys`` maps a meter's system title to its :class:`MeterKeys` (or is a function
    doing that lookup). Unciphered pushes are refused unless ``allow_plain``. When
    nobody reads the pushes, a full ``buffer`` holds back the senders (TCP) instead of
    growing without bound.
    """
    listener = PushListener(
        keys if keys is not None else {},
        system_title=system_title,
        allow_plain=allow_plain,
        buffer=buffer,
    )
    async with trio.open_nursery() as nursery:
        if tcp_port is not None:

            async def on_tcp(transport: WrapperStreamTransport) -> None:
                await listener.handle(transport, "tcp")

            serve: Any = functools.partial(serve_tcp_wrapper, on_tcp, host, tcp_port)
            listeners = await nursery.start(serve)
            listener.tcp_port = int(listeners[0].socket.getsockname()[1])
        if udp_port is not None:
            await nursery.start(_serve_udp, listener, host, udp_port)
        try:
            yield listener
        finally:
            nursery.cancel_scope.cancel()
            listener._send.close()


async def _serve_udp(
    listener: PushListener,
    host: str,
    port: int,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    async with open_udp_endpoint(host, port) as endpoint, trio.open_nursery() as nursery:
        listener.udp_port = endpoint.sockname[1]
        task_status.started()
        while True:
            peer: UdpPeerTransport = await endpoint.accept()
            nursery.start_soon(listener.handle, peer, "udp")
