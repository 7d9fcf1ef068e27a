"""Dialling a wrapper server by numeric address (IPv4, IPv6) or by name: the same link,
and a refused connection is a TransportError either way."""

from __future__ import annotations

import socket

import pytest
import trio

from dlmskit.errors import TransportError
from transports import WrapperStreamTransport, open_tcp_wrapper, serve_tcp_wrapper


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


async def _echo(transport: WrapperStreamTransport) -> None:
    while True:
        await transport.send_apdu(b"echo " + await transport.receive_apdu())


@pytest.mark.parametrize(
    ("listen", "dial"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.1", "localhost"),
        pytest.param(
            "::1",
            "::1",
            marks=pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback"),
        ),
    ],
)
async def test_dial_by_address_or_name(listen: str, dial: str) -> None:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_tcp_wrapper, _echo, listen, 0)
        port = listeners[0].socket.getsockname()[1]
        with trio.fail_after(5):
            transport = await open_tcp_wrapper(dial, port, client_wport=0x10, server_wport=1)
            await transport.send_apdu(b"\xc0\x01")
            assert await transport.receive_apdu() == b"echo \xc0\x01"
            peer = transport.peer_address
            assert peer.port == port and peer.host is not None
            nodelay = transport.stream.socket.getsockopt(  # type: ignore[attr-defined]
                socket.IPPROTO_TCP, socket.TCP_NODELAY
            )
            assert nodelay
            await transport.aclose()
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_refused_connection_is_a_transport_error(host: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]  # bound, not listening: refused
        with trio.fail_after(5), pytest.raises(TransportError, match="cannot connect"):
            await open_tcp_wrapper(host, port)
