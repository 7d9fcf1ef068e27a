"""Receiving pushes: ``async with listen(keys=...) as pushes: async for push in pushes``.

Meters push DATA-NOTIFICATIONs (and EVENT-NOTIFICATIONs) over the wrapper, on TCP
connections they open or in UDP datagrams (IEC 62056-4-7, port 4059). The listener
deciphers and verifies the tag with the sending meter's keys and refuses a replayed
invocation counter (one :class:`~dlmskit.security.SecurityContext` per meter keeps the
last accepted counter). Every push that does not pass is counted in ``rejected`` with
the reason, never raised into the receiving loop.

Which meter sent a push:

1. A push that names its sender says so: general-glo- and general-ded-ciphering carry
   the system title, general-ciphering and general-signing the originator's. The link
   it came on (the TCP connection, or the UDP peer address and port) is then bound to
   that meter.
2. A push that names no sender (glo-event-notification-request 0xCA, general-glo with
   an empty system title, a signed or plain push on a bound link) is the meter's whose
   link it came on: bound by an earlier push that named it, else found in ``peers`` by
   the peer's ``"host:port"``, then its host, then the wrapper source wPort (an int).
   A push that names no sender on a link nobody is bound to is refused.

A general-signing push is verified with the meter's public key
(:attr:`MeterKeys.signing_key`) before its content is opened; signed content that is
not ciphered carries no invocation counter, so it is accepted only with
``allow_plain``, as unciphered pushes are.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import attrs
import trio
from cryptography.hazmat.primitives.asymmetric import ec

from dlmskit.apdu import (
    CipheredApdu,
    DataNotification,
    EventNotificationRequest,
    GeneralCiphering,
    GeneralDedCiphering,
    GeneralGloCiphering,
    GeneralSigning,
    decode_apdu,
)
from dlmskit.client._association import DEFAULT_CLIENT_SYSTEM_TITLE
from dlmskit.client._errors import single_exception
from dlmskit.errors import DlmsError, SecurityError
from dlmskit.security import KeyId, SecurityContext, SecuritySuite, verify_general
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
_GENERAL_TITLED = frozenset({GeneralGloCiphering.TAG, GeneralDedCiphering.TAG})
_NOTIFICATIONS = (DataNotification, EventNotificationRequest)
_CIPHERED_TAGS = _GENERAL_TITLED | {GeneralCiphering.TAG, GeneralSigning.TAG} | CipheredApdu.TAGS


@attrs.frozen(kw_only=True)
class MeterKeys:
    """What the listener knows of one meter: its name and push keys."""

    name: str = ""
    encryption_key: bytes | None = attrs.field(default=None, repr=False)
    authentication_key: bytes | None = attrs.field(default=None, repr=False)
    suite: SecuritySuite = SecuritySuite.AES_GCM_128
    #: The meter's public key, to verify its general-signing pushes.
    signing_key: ec.EllipticCurvePublicKey | None = attrs.field(default=None, repr=False, eq=False)


KeyLookup = Mapping[bytes, MeterKeys] | Callable[[bytes], MeterKeys | None]
#: Peer -> system title, for pushes that name no sender: ``"host:port"``, ``"host"`` or
#: the wrapper source wPort (int) as keys.
PeerLookup = Mapping[str | int, bytes]


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
        peers: PeerLookup | None = None,
    ) -> None:
        self._keys = keys
        self._peers: PeerLookup = peers if peers is not None else {}
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
        #: UDP peers (host, port) bound to a meter by a push that named it
        self._bound_peers: dict[tuple[str | None, int | None], bytes] = {}

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
        keys = self._keys
        return keys(title) if callable(keys) else keys.get(title)

    def _reject(self, peer: LinkAddress, kind: str, reason: str, title: bytes | None) -> None:
        self.rejected_count += 1
        self.rejected.append(
            RejectedPush(peer=peer, transport=kind, reason=reason, system_title=title)
        )
        del self.rejected[: -self._max_rejected]

    def _context(self, title: bytes, keys: MeterKeys) -> SecurityContext:
        context = self._contexts.get(title)
        if context is None:
            context = SecurityContext(
                system_title=self._system_title,
                peer_system_title=title,
                suite=keys.suite,
                global_unicast_key=keys.encryption_key,
                authentication_key=keys.authentication_key,
                peer_signing_key=keys.signing_key,
            )
            self._contexts[title] = context
        return context

    def _named_sender(self, apdu: bytes) -> bytes | None:
        """The system title a push names, if any (rule 1 of the module docstring)."""
        tag = apdu[0]
        if tag in _GENERAL_TITLED:
            # The title leads the envelope: read it in place when its length is short
            # (always, for an 8-octet system title) instead of parsing the envelope twice.
            size = apdu[1] if len(apdu) > 1 else 0x80
            if size < 0x80 and len(apdu) >= 2 + size:
                return bytes(apdu[2 : 2 + size]) or None
            envelope = (
                GeneralGloCiphering.from_bytes(apdu)
                if tag == GeneralGloCiphering.TAG
                else GeneralDedCiphering.from_bytes(apdu)
            )
            return envelope.system_title or None
        if tag == GeneralCiphering.TAG:
            return GeneralCiphering.from_bytes(apdu).originator_system_title or None
        if tag == GeneralSigning.TAG:
            return GeneralSigning.from_bytes(apdu).originator_system_title or None
        return None

    def sender_of(self, peer: LinkAddress, bound: bytes | None = None) -> bytes | None:
        """The meter a push naming no sender came from (rule 2 of the module docstring):
        ``bound`` (the title bound to its link), else ``peers`` by address or wPort."""
        if bound is not None:
            return bound
        learned = self._bound_peers.get((peer.host, peer.port))
        if learned is not None:
            return learned
        keys: list[str | int] = []
        if peer.host is not None:
            if peer.port is not None:
                keys.append(f"{peer.host}:{peer.port}")
            keys.append(peer.host)
        if peer.sap is not None:
            keys.append(peer.sap)
        for key in keys:
            title = self._peers.get(key)
            if title is not None:
                return title
        return None

    def check(
        self, apdu: bytes, peer: LinkAddress, kind: str, bound: bytes | None = None
    ) -> Push | None:
        """Decipher, verify and decode one pushed APDU; ``None`` (and a rejection) if it
        does not pass. ``bound`` is the system title the link is bound to, if any."""
        title: bytes | None = None
        counter: int | None = None
        meter = ""
        try:
            if not apdu:
                self._reject(peer, kind, "not a push: empty APDU", None)
                return None
            tag = apdu[0]
            if tag in _PLAIN_TAGS:
                if not self.allow_plain:
                    self._reject(peer, kind, "unciphered push refused", None)
                    return None
                plain = apdu
            elif tag in _CIPHERED_TAGS:
                named = self._named_sender(apdu)
                title = named if named is not None else self.sender_of(peer, bound)
                if title is None:
                    self._reject(
                        peer,
                        kind,
                        "the push names no sender and its link is bound to no meter",
                        None,
                    )
                    return None
                keys = self._lookup(title)
                if keys is None:
                    self._reject(peer, kind, f"unknown system title {title.hex().upper()}", title)
                    return None
                meter = keys.name
                context = self._context(title, keys)
                opened, counter = self._open(context, keys, apdu, peer, kind, title)
                if opened is None:
                    return None
                plain = opened
            else:
                self._reject(peer, kind, f"not a push: 0x{tag:02X}", None)
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
        if not isinstance(decoded, _NOTIFICATIONS):
            self._reject(peer, kind, f"not a notification: {type(decoded).__name__}", title)
            return None
        if title is not None and kind == "udp":
            self._bound_peers[(peer.host, peer.port)] = title
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

    def _open(
        self,
        context: SecurityContext,
        keys: MeterKeys,
        apdu: bytes,
        peer: LinkAddress,
        kind: str,
        title: bytes,
    ) -> tuple[bytes | None, int | None]:
        """The plain APDU inside a ciphered or signed push, and its invocation counter
        (``None`` for signed plain content); ``(None, None)`` after a rejection."""
        content = apdu
        if apdu[0] == GeneralSigning.TAG:
            envelope = GeneralSigning.from_bytes(apdu)
            if keys.signing_key is None:
                self._reject(peer, kind, "no public key to verify the signed push", title)
                return None, None
            if envelope.recipient_system_title and (
                envelope.recipient_system_title != self._system_title
            ):
                self._reject(peer, kind, "signed push addressed to another system title", title)
                return None, None
            content = verify_general(envelope, public_key=keys.signing_key)
            if content[:1] and content[0] in _PLAIN_TAGS:
                if not self.allow_plain:
                    self._reject(peer, kind, "signed unciphered push refused", title)
                    return None, None
                return content, None
        return context.unprotect(content), _counter_of(content)

    def last_counter(self, system_title: bytes) -> int | None:
        """The last invocation counter accepted from a meter (persist it to keep replay
        protection across restarts)."""
        context = self._contexts.get(system_title)
        if context is None:
            return None
        return context.last_accepted(system_title, KeyId.GLOBAL_UNICAST_ENCRYPTION)

    async def handle(self, transport: ApduTransport, kind: str) -> None:
        """Read pushes from one link until it closes; a push that names its meter binds
        the link to it (rule 2 of the module docstring)."""
        bound: bytes | None = None
        while True:
            try:
                apdu = await transport.receive_apdu()
            except DlmsError:
                return
            peer = transport.peer_address  # the wPorts are learned from the first WPDU
            push = self.check(apdu, peer, kind, bound)
            if push is not None:
                if push.system_title is not None:
                    bound = push.system_title
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
    peers: PeerLookup | None = None,
) -> AsyncIterator[PushListener]:
    """Listen for pushes on TCP and/or UDP (``None`` turns one off; ``0`` picks a free
    port, then read ``tcp_port``/``udp_port`` of the listener).

    ``keys`` maps a meter's system title to its :class:`MeterKeys` (or is a function
    doing that lookup); ``peers`` ties pushes that name no sender to a meter by the
    address or wPort they came from. Unciphered pushes are refused unless
    ``allow_plain``. When nobody reads the pushes, a full ``buffer`` holds back the
    senders (TCP) instead of growing without bound. Errors come out as themselves, not
    wrapped in the exception group of the listener's tasks.
    """
    try:
        async with _listening(
            keys, host, tcp_port, udp_port, system_title, allow_plain, buffer, peers
        ) as listener:
            yield listener
    except BaseExceptionGroup as group:
        inner = single_exception(group)
        if inner is None:
            raise
        raise inner from None


@contextlib.asynccontextmanager
async def _listening(
    keys: KeyLookup | None,
    host: str,
    tcp_port: int | None,
    udp_port: int | None,
    system_title: bytes,
    allow_plain: bool,
    buffer: int,
    peers: PeerLookup | None,
) -> AsyncIterator[PushListener]:
    listener = PushListener(
        keys if keys is not None else {},
        system_title=system_title,
        allow_plain=allow_plain,
        buffer=buffer,
        peers=peers,
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


def _counter_of(ciphered: bytes) -> int | None:
    """The invocation counter in the security header of a ciphered APDU."""
    tag = ciphered[0]
    if tag in _GENERAL_TITLED:
        counter = _general_counter(ciphered)
        if counter is not None:
            return counter
    if tag == GeneralGloCiphering.TAG:
        return GeneralGloCiphering.from_bytes(ciphered).invocation_counter
    if tag == GeneralDedCiphering.TAG:
        return GeneralDedCiphering.from_bytes(ciphered).invocation_counter
    if tag == GeneralCiphering.TAG:
        return GeneralCiphering.from_bytes(ciphered).invocation_counter
    if tag in CipheredApdu.TAGS:
        return CipheredApdu.from_bytes(ciphered).invocation_counter
    return None


def _general_counter(ciphered: bytes) -> int | None:
    """The invocation counter of a general-glo/ded-ciphering APDU read in place: tag,
    system title (short length), ciphered content length, security control byte, the
    4-octet counter (Green Book 9.2.7.2.4); ``None`` for an envelope laid out otherwise."""
    size = len(ciphered)
    if size < 2 or ciphered[1] >= 0x80:
        return None
    at = 2 + ciphered[1]
    if at >= size:
        return None
    length = ciphered[at]
    if length < 0x80:
        at += 1
    elif length == 0x81:
        at += 2
    elif length == 0x82:
        at += 3
    else:
        return None
    if at + 5 > size:
        return None
    return int.from_bytes(ciphered[at + 1 : at + 5], "big")
