"""A simulated meter on a pseudo-terminal: HDLC on a serial line and the optical port
(mode E hand-over), several sessions on one line."""

from __future__ import annotations

import sys

import pytest
import trio

from dlmskit.apdu import CosemAttributeDescriptor
from dlmskit.association import (
    NEED_DATA,
    AssociationAccepted,
    ClientAssociation,
    ClientSettings,
    Event,
    GetCompleted,
)
from obis import ObisCode
from simulators import Fleet, FleetLayout, LinkStats
from simulators._serial import open_fleet_ptys, open_meter_pty
from transports import (
    HdlcAddress,
    HdlcStreamTransport,
    LineSettings,
    open_optical_probe,
    open_serial_hdlc,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

SERIAL = CosemAttributeDescriptor(class_id=1, instance_id=ObisCode(0, 0, 96, 1, 0), attribute_id=2)
SERVER = HdlcAddress.server(1)


async def _exchange(transport: HdlcStreamTransport, client: ClientAssociation) -> Event:
    for apdu in client.data_to_send():
        await transport.send_apdu(apdu)
    while (event := client.next_event()) is NEED_DATA:
        client.receive_apdu(await transport.receive_apdu())
        for apdu in client.data_to_send():
            await transport.send_apdu(apdu)
    assert not isinstance(event, type(NEED_DATA))
    return event


async def _serial_number(transport: HdlcStreamTransport) -> bytes:
    client = ClientAssociation(ClientSettings())
    client.associate()
    assert isinstance(await _exchange(transport, client), AssociationAccepted)
    client.get(SERIAL)
    event = await _exchange(transport, client)
    assert isinstance(event, GetCompleted)
    value = event.results[0]
    assert isinstance(value, bytes)
    return value


@pytest.mark.parametrize("optical", [False, True])
async def test_meter_on_a_serial_line(optical: bool) -> None:
    fleet = Fleet(FleetLayout(seed=9, meters=2))
    stats = LinkStats()
    expected = str(fleet.identity(1).serial).encode()
    async with open_meter_pty(fleet, 1, optical=optical, stats=stats) as device:
        for _ in range(2):  # the line stays up between sessions
            with trio.fail_after(15):
                if optical:
                    transport = await open_optical_probe(
                        device,
                        server_address=SERVER,
                        handover_delay=0.01,
                        sign_on_line=LineSettings(baudrate=300),
                    )
                else:
                    transport = await open_serial_hdlc(device, server_address=SERVER)
                assert await _serial_number(transport) == expected
                await transport.aclose()
    assert stats.sessions == 2


async def test_a_fleet_on_serial_lines() -> None:
    fleet = Fleet(FleetLayout(seed=9, meters=3))
    async with open_fleet_ptys(fleet) as devices:
        assert len(set(devices.values())) == 3
        for number, device in devices.items():
            with trio.fail_after(15):
                transport = await open_serial_hdlc(device, server_address=SERVER)
                assert (
                    await _serial_number(transport) == str(fleet.identity(number).serial).encode()
                )
                await transport.aclose()
