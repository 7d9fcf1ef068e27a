"""``connect`` as a context manager over a real loopback link: on the way out it
releases the association and closes the link it opened, also when the body is
cancelled or fails, closes the link when the association is refused, and hands out the
one exception of a one-member exception group."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import trio

from dlmskit.client import Association, AssociationRefused, LinkSettings, connect
from dlmskit.client._link import parse_target
from dlmskit.cosem import CosemObjectTree
from dlmskit.errors import LocalProtocolError
from dlmskit.testing import MeterEndpoint, demo_meter
from transports import WrapperStreamTransport, open_tcp_wrapper, serve_tcp_wrapper

NOW = dt.datetime(2024, 1, 2, 0, 7, 30, tzinfo=dt.UTC)
FAST = LinkSettings(connect_timeout=2.0, response_timeout=2.0, release_timeout=2.0, retries=0)
RLRQ_TAG = 0x62


class _Meter:
    """A demo meter that records the tags of the requests it gets and notes when each
    connection ends."""

    def __init__(self) -> None:
        self.endpoint: MeterEndpoint[CosemObjectTree] = demo_meter(now=lambda: NOW)
        self.tags: list[int] = []
        self.closed = 0
        self.endpoint.on_request = lambda apdu: self.tags.append(apdu[0])

    async def serve(self, transport: WrapperStreamTransport) -> None:
        try:
            await self.endpoint.serve(transport)
        finally:
            self.closed += 1


async def _url(meter: _Meter, nursery: trio.Nursery) -> str:
    listeners: Any = await nursery.start(serve_tcp_wrapper, meter.serve, "127.0.0.1", 0)
    return f"tcp://127.0.0.1:{listeners[0].socket.getsockname()[1]}"


async def _wait_closed(meter: _Meter, count: int) -> None:
    with trio.fail_after(5):
        while meter.closed < count:
            await trio.sleep(0.01)


async def test_leaving_releases_then_closes(nursery: trio.Nursery) -> None:
    meter = _Meter()
    url = await _url(meter, nursery)
    async with connect(url, link=FAST) as client:
        await client.read_clock()
        assert meter.closed == 0
    await _wait_closed(meter, 1)
    assert meter.tags[-1] == RLRQ_TAG
    assert client.accepted is None


async def test_a_cancelled_body_still_releases_and_closes(nursery: trio.Nursery) -> None:
    meter = _Meter()
    url = await _url(meter, nursery)
    with trio.CancelScope() as scope:
        async with connect(url, link=FAST) as client:
            await client.read_clock()
            scope.cancel()
            await trio.sleep_forever()
    assert scope.cancelled_caught
    await _wait_closed(meter, 1)
    assert meter.tags[-1] == RLRQ_TAG


async def test_a_failing_body_still_releases_and_closes(nursery: trio.Nursery) -> None:
    meter = _Meter()
    url = await _url(meter, nursery)
    with pytest.raises(KeyError, match="from the body"):
        async with connect(url, link=FAST):
            raise KeyError("from the body")
    await _wait_closed(meter, 1)
    assert meter.tags[-1] == RLRQ_TAG


async def test_a_refused_association_closes_the_link(nursery: trio.Nursery) -> None:
    meter = _Meter()
    url = await _url(meter, nursery)
    wrong = Association.meter_reader(password=b"00000000")
    with pytest.raises(AssociationRefused):
        async with connect(url, association=wrong, link=FAST):
            pytest.fail("the body runs only with an open association")
    await _wait_closed(meter, 1)
    assert RLRQ_TAG not in meter.tags  # nothing to release


async def test_one_exception_in_a_group_comes_out_alone(nursery: trio.Nursery) -> None:
    meter = _Meter()
    url = await _url(meter, nursery)
    with pytest.raises(ValueError, match="inner"):
        async with connect(url, link=FAST):
            raise ExceptionGroup("outer", [ExceptionGroup("middle", [ValueError("inner")])])
    with pytest.raises(ExceptionGroup) as info:
        async with connect(url, link=FAST):
            raise ExceptionGroup("two", [ValueError("a"), KeyError("b")])
    assert len(info.value.exceptions) == 2
    await _wait_closed(meter, 2)


async def test_an_open_transport_is_left_open(nursery: trio.Nursery) -> None:
    meter = _Meter()
    url = await _url(meter, nursery)
    port = int(url.rsplit(":", 1)[1])
    transport = await open_tcp_wrapper("127.0.0.1", port, client_wport=0x10, server_wport=1)
    async with connect(transport, link=FAST) as client:
        await client.read_clock()
    assert meter.tags[-1] == RLRQ_TAG
    # released, not closed: the link is the caller's, and a new association runs on it
    async with connect(transport, link=FAST) as client:
        await client.read_clock()
    await transport.aclose()
    await _wait_closed(meter, 1)


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("tcp://127.0.0.1:4059", "127.0.0.1", 4059),
        ("tcp://10.1.2.3:0", "10.1.2.3", 4059),  # port 0 means the default, as urlsplit reads it
        ("tcp://10.1.2.3:00080", "10.1.2.3", 80),
        ("tcp://10.1.2.3:65535", "10.1.2.3", 65535),
        ("tcp://10.1.2.3:", "10.1.2.3", 4059),
        ("tcp://10.1.2.3", "10.1.2.3", 4059),
        ("10.1.2.3:7", "10.1.2.3", 7),
        ("TCP://10.1.2.3:7", "10.1.2.3", 7),
        ("tcp://Meter-7.example:7", "meter-7.example", 7),
        ("tcp://[::1]:7", "::1", 7),
        ("tcp://10.1.2.3:7/", "10.1.2.3", 7),
    ],
)
def test_targets_read_the_same_with_or_without_urlsplit(text: str, host: str, port: int) -> None:
    parsed = parse_target(text)
    assert (parsed.scheme, parsed.host, parsed.port) == ("tcp", host, port)


@pytest.mark.parametrize("text", ["tcp://10.1.2.3:65536", "tcp://:4059", "tcp://10.1.2.3:x"])
def test_bad_tcp_targets_are_refused(text: str) -> None:
    with pytest.raises(LocalProtocolError):
        parse_target(text)
