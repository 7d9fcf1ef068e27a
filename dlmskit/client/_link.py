"""Opening the link to a meter: targets, per-transport timeouts and retries.

A target is an already open :class:`~transports.ApduTransport` (for instance a
connection the meter opened to us) or a string:

* ``tcp://host[:port]`` or ``host[:port]``: the wrapper over TCP (port 4059);
* ``hdlc+tcp://host[:port]``: HDLC over TCP;
* ``udp://host[:port]``: the wrapper over UDP;
* ``serial:///dev/ttyUSB0?baud=9600``: HDLC over a serial line (RS-485, optical port
  already in mode E);
* ``optical:///dev/ttyUSB0``: an optical probe: IEC 62056-21 mode E sign-on at 300 Bd
  7E1, hand-over to the rate the meter offers, then HDLC (``?line=8N1`` signs on at
  300 Bd 8N1 for ports that cannot do 7E1, ``?handover=0.3`` is the delay in seconds).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import attrs
import trio

from dlmskit.client._association import Association
from dlmskit.client._errors import MeterTimeout
from dlmskit.errors import DlmsError, LocalProtocolError
from transports import (
    SIGN_ON_LINE,
    ApduTransport,
    HdlcAddress,
    LineSettings,
    open_optical_probe,
    open_serial_hdlc,
    open_tcp_hdlc,
    open_tcp_wrapper,
    open_udp_endpoint,
)

__all__ = ["LinkSettings", "Target", "open_link", "parse_target"]

Target = str | ApduTransport

_SCHEMES = ("tcp", "hdlc+tcp", "udp", "serial", "optical", "transport")


@attrs.frozen(kw_only=True)
class LinkSettings:
    """Timeouts (seconds) and retries of one link. Every wait of the client is bounded
    by one of these: ``connect_timeout`` for opening the link and the association,
    ``response_timeout`` for each response, ``release_timeout`` for the RLRE.
    ``retries`` re-opens a link that failed to open and, on datagram links, re-sends a
    request whose response did not come (protected afresh: a new invocation counter).
    A request still unanswered after that raises :class:`MeterTimeout`; the association
    stays up and the late answer, if it comes, is discarded."""

    connect_timeout: float = 10.0
    response_timeout: float = 10.0
    release_timeout: float = 3.0
    retries: int = 1
    retry_delay: float = 0.5

    @classmethod
    def for_scheme(cls, scheme: str) -> LinkSettings:
        """The defaults of a transport: cellular TCP links are slow to open, UDP loses
        datagrams, serial lines are slow but near."""
        if scheme == "udp":
            return cls(connect_timeout=10.0, response_timeout=5.0, retries=2)
        if scheme in ("serial", "optical"):
            return cls(connect_timeout=5.0, response_timeout=5.0, retries=1)
        if scheme == "hdlc+tcp":
            return cls(connect_timeout=15.0, response_timeout=10.0, retries=1)
        return cls()


@attrs.frozen(kw_only=True)
class ParsedTarget:
    scheme: str
    host: str = ""
    port: int = 4059
    device: str = ""
    baudrate: int = 9600
    #: optical: the sign-on line and the hand-over delay
    sign_on: LineSettings = SIGN_ON_LINE
    handover_delay: float = 0.3

    def __str__(self) -> str:
        if self.scheme in ("serial", "optical"):
            return f"{self.scheme}://{self.device}"
        return f"{self.scheme}://{self.host}:{self.port}"


_DOTTED = frozenset("0123456789.")


def _plain_tcp(text: str) -> ParsedTarget | None:
    """``tcp://`` then digits and dots, a colon and a port (what a head-end's inventory
    holds for every meter): read without ``urlsplit``, to the same result. Anything
    else, ``None``."""
    if not text.startswith("tcp://"):
        return None
    host, colon, digits = text[6:].rpartition(":")
    if not (colon and host and digits.isascii() and digits.isdigit()):
        return None
    if not _DOTTED.issuperset(host):
        return None
    port = int(digits)
    if port > 0xFFFF:
        return None
    return ParsedTarget(scheme="tcp", host=host, port=port or 4059)


def parse_target(text: str) -> ParsedTarget:
    """Read a target string (see the module docstring)."""
    plain = _plain_tcp(text)
    if plain is not None:
        return plain
    if "://" not in text:
        text = "tcp://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES or scheme == "transport":
        raise LocalProtocolError(f"unknown target scheme {scheme!r} in {text!r}")
    if scheme in ("serial", "optical"):
        device = parts.path or parts.netloc
        if not device:
            raise LocalProtocolError(f"no serial device in {text!r}")
        query = parse_qs(parts.query)
        try:
            baud = int(query.get("baud", ["9600"])[0])
            delay = float(query.get("handover", ["0.3"])[0])
        except ValueError:
            raise LocalProtocolError(f"bad baud rate or hand-over delay in {text!r}") from None
        line = query.get("line", ["7E1"])[0].upper()
        if line not in ("7E1", "8N1"):
            raise LocalProtocolError(f"sign-on line {line!r} is not 7E1 or 8N1 in {text!r}")
        sign_on = SIGN_ON_LINE if line == "7E1" else LineSettings(baudrate=300)
        return ParsedTarget(
            scheme=scheme, device=device, baudrate=baud, sign_on=sign_on, handover_delay=delay
        )
    try:
        port = parts.port or 4059
    except ValueError:
        raise LocalProtocolError(f"bad port in {text!r}") from None
    if not parts.hostname:
        raise LocalProtocolError(f"no host in {text!r}")
    return ParsedTarget(scheme=scheme, host=parts.hostname, port=port)


def _hdlc_address(association: Association) -> HdlcAddress:
    return HdlcAddress.server(association.server_sap, association.physical_address)


async def _open_once(
    target: ParsedTarget,
    association: Association,
    settings: LinkSettings,
) -> ApduTransport:
    if target.scheme == "tcp":
        return await open_tcp_wrapper(
            target.host,
            target.port,
            client_wport=association.client_sap,
            server_wport=association.server_sap,
        )
    if target.scheme == "hdlc+tcp":
        return await open_tcp_hdlc(
            target.host,
            target.port,
            server_address=_hdlc_address(association),
            client_address=association.client_sap,
            response_timeout=settings.response_timeout,
        )
    if target.scheme == "serial":
        return await open_serial_hdlc(
            target.device,
            server_address=_hdlc_address(association),
            client_address=association.client_sap,
            baudrate=target.baudrate,
            response_timeout=settings.response_timeout,
        )
    if target.scheme == "optical":
        return await open_optical_probe(
            target.device,
            server_address=_hdlc_address(association),
            client_address=association.client_sap,
            handover_delay=target.handover_delay,
            sign_on_line=target.sign_on,
            response_timeout=settings.response_timeout,
        )
    raise LocalProtocolError(f"cannot open {target}")


async def open_link(
    target: ParsedTarget,
    association: Association,
    settings: LinkSettings,
    stack: Callable[[], contextlib.AsyncExitStack],
) -> ApduTransport:
    """Open the transport to ``target`` within ``connect_timeout``, retrying.

    UDP has no connection to open: the socket is bound (its receive task runs in the
    exit stack ``stack()`` gives) and the association's AARQ is the first datagram.
    """
    if target.scheme == "udp":
        family_any = "::" if ":" in target.host else "0.0.0.0"
        endpoint = await stack().enter_async_context(open_udp_endpoint(family_any, 0))
        return endpoint.peer(
            target.host,
            target.port,
            local_wport=association.client_sap,
            remote_wport=association.server_sap,
        )
    attempts = max(settings.retries, 0) + 1
    attempt = 0
    while True:
        try:
            # trio.fail_after, without its generator-based context manager
            with trio.move_on_after(settings.connect_timeout) as scope:
                transport = await _open_once(target, association, settings)
            if scope.cancelled_caught:
                raise trio.TooSlowError
        except trio.TooSlowError:
            if attempt + 1 == attempts:
                raise MeterTimeout(
                    f"no link to {target} within {settings.connect_timeout:g} s"
                    f" ({attempts} attempts)",
                    awaited=f"link to {target}",
                    timeout=settings.connect_timeout,
                ) from None
        except (DlmsError, OSError):
            if attempt + 1 == attempts:
                raise
        else:
            return transport
        attempt += 1
        await trio.sleep(settings.retry_delay)
