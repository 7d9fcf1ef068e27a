"""Pre-established associations (Green Book 9.3.2; IS 15959-2 push client 64): no AARQ,
the client sends ciphered requests at once, over every transport and from the CLI."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
import trio

from dlmskit.apdu import CosemAttributeDescriptor, MechanismName
from dlmskit.association import (
    NEED_DATA,
    AssociationState,
    ClientAssociation,
    GetCompleted,
    ServerAssociation,
)
from dlmskit.client import DEFAULT_CLIENT_SYSTEM_TITLE, Association, LinkSettings, connect
from dlmskit.cosem import CosemObjectTree
from dlmskit.errors import DlmsError, LocalProtocolError
from dlmskit.testing import (
    DEMO_SERVER_SYSTEM_TITLE,
    MeterEndpoint,
    demo_meter,
    serve_hdlc,
    serve_udp,
    serve_wrapper,
)
from obis import ObisCode

NOW = dt.datetime(2024, 1, 2, 0, 7, 30, tzinfo=dt.UTC)
FAST = LinkSettings(connect_timeout=1.0, response_timeout=0.5, release_timeout=0.3, retries=0)
PUSH = Association.push(server_system_title=DEMO_SERVER_SYSTEM_TITLE)
SERVERS = {"tcp": serve_wrapper, "hdlc+tcp": serve_hdlc, "udp": serve_udp}
CLOCK = "0.0.1.0.0.255"


@pytest.fixture
def endpoint() -> MeterEndpoint[CosemObjectTree]:
    return demo_meter(now=lambda: NOW)


@pytest.mark.parametrize("scheme", sorted(SERVERS))
async def test_requests_go_out_without_an_aarq(
    scheme: str, endpoint: MeterEndpoint[CosemObjectTree], nursery: trio.Nursery
) -> None:
    seen: list[bytes] = []
    endpoint.on_request = seen.append
    port = await nursery.start(SERVERS[scheme], endpoint)
    async with connect(f"{scheme}://127.0.0.1:{port}", association=PUSH, link=FAST) as meter:
        assert meter.accepted is not None
        assert meter.accepted.server_system_title == DEMO_SERVER_SYSTEM_TITLE
        assert await meter.read_clock() == NOW
        assert await meter.get(8, CLOCK, 3) == 330
        await meter.reassociate()  # nothing to release or to open: requests go on
        assert await meter.get(8, CLOCK, 3) == 330
    assert [apdu[0] for apdu in seen] == [0xC8] * 3  # glo-get-request only: no AARQ, no RLRQ
    assert endpoint.sessions == 1


async def test_wrong_keys_or_no_server_title_fail(
    endpoint: MeterEndpoint[CosemObjectTree], nursery: trio.Nursery
) -> None:
    port = await nursery.start(serve_wrapper, endpoint)
    target = f"tcp://127.0.0.1:{port}"
    with pytest.raises(LocalProtocolError, match="needs the meter's system title"):
        async with connect(target, association=Association.push(), link=FAST):
            pass
    wrong = Association.push(server_system_title=DEMO_SERVER_SYSTEM_TITLE, encryption_key=bytes(16))
    async with connect(target, association=wrong, link=FAST) as meter:
        with pytest.raises(DlmsError):
            await meter.read_clock()
    with pytest.raises(ValueError, match="cannot be pre-established"):
        Association.push(mechanism=MechanismName.HIGH, hls_secret=b"0123456789ABCDEF")


def test_both_machines_pre_established(endpoint: MeterEndpoint[CosemObjectTree]) -> None:
    """Sans-IO: neither side sees an AARQ; the GET is ciphered and answered."""
    security = PUSH.security_context()
    client = ClientAssociation(PUSH.client_settings(security))
    server = ServerAssociation(endpoint.policies[0x40], endpoint.objects)
    with pytest.raises(LocalProtocolError, match="server title"):
        client.assume_established()
    accepted = client.assume_established(
        server_system_title=DEMO_SERVER_SYSTEM_TITLE, server_max_receive_pdu_size=1024
    )
    server.assume_established(client_system_title=DEFAULT_CLIENT_SYSTEM_TITLE)
    assert client.state is server.state is AssociationState.ASSOCIATED
    assert accepted.server_max_receive_pdu_size == 1024 and client.peer_max_pdu == 1024
    with pytest.raises(LocalProtocolError, match="state ASSOCIATED"):
        client.assume_established(server_system_title=DEMO_SERVER_SYSTEM_TITLE)
    client.get(
        CosemAttributeDescriptor(class_id=8, instance_id=ObisCode.parse(CLOCK), attribute_id=3)
    )
    (request,) = client.data_to_send()
    assert request[0] == 0xC8
    server.receive_apdu(request)
    while server.next_event() is not NEED_DATA:
        pass
    (answer,) = server.data_to_send()
    assert answer[0] == 0xCC  # glo-get-response
    client.receive_apdu(answer)
    event = client.next_event()
    assert isinstance(event, GetCompleted) and event.result == 330


async def test_cli_reads_over_the_push_association(
    endpoint: MeterEndpoint[CosemObjectTree], nursery: trio.Nursery
) -> None:
    port = await nursery.start(serve_wrapper, endpoint)
    dlmskit = str(Path(sys.executable).with_name("dlmskit"))
    command = [
        dlmskit,
        "read",
        f"tcp://127.0.0.1:{port}",
        "8/0.0.1.0.0.255/3",
        "--association",
        "push",
        "--server-title",
        DEMO_SERVER_SYSTEM_TITLE.hex(),
        "--json",
    ]
    result = await trio.run_process(command, capture_stdout=True, capture_stderr=True, check=False)
    assert result.returncode == 0, result.stderr
    assert b'"8/0.0.1.0.0.255/3": "330"' in result.stdout
    missing = await trio.run_process(
        command[:-3], capture_stdout=True, capture_stderr=True, check=False
    )
    assert missing.returncode != 0
    assert b"needs the meter's system title" in missing.stderr
    assert b"Traceback" not in missing.stderr
