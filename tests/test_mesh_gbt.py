"""End to end: a 20 KB attribute read through general block transfer over lossy networks.

The head-end runs the sans-IO ``ClientAssociation``, the meter the ``ServerAssociation``
over a ``MemoryObjectTree``; between them are the real trio adapters and loopback
sockets, through the RF mesh DCU model (head-end on TCP, gateway APDUs, meter on UDP) or
the Wi-SUN border-router model (UDP, 6LoWPAN fragmentation). Lost GBT blocks are
recovered by the client's retransmission timer; time is virtual (MockClock).
"""

from __future__ import annotations

import attrs
import pytest
import trio
import trio.testing

from dlmskit.apdu import Conformance, CosemAttributeDescriptor
from dlmskit.association import (
    AssociationAccepted,
    AssociationPolicy,
    ClientAssociation,
    ClientSettings,
    Event,
    GetCompleted,
    MemoryObjectTree,
    NeedData,
    ServerAssociation,
)
from dlmskit.axdr import OctetString
from dlmskit.errors import DlmsError
from obis import ObisCode
from transports import (
    RF_MESH_DEFAULT,
    WISUN_DEFAULT,
    ApduTransport,
    Direction,
    LossCause,
    MeshMeter,
    OutageWindow,
    loopback_host,
    open_border_router,
    open_data_concentrator,
    open_gateway_multiplexer,
    open_tcp_wrapper,
    open_udp_endpoint,
)

HOST = loopback_host()
WITH_GBT = Conformance(0x001E1D | Conformance.GENERAL_BLOCK_TRANSFER)
PDU = 512
WINDOW = 4
TIMER = 8.0
"""Client retransmission timer, seconds: a few mesh round trips."""
PROFILE = CosemAttributeDescriptor(
    class_id=7, instance_id=ObisCode(1, 0, 99, 1, 0, 255), attribute_id=2
)
VALUE = OctetString(bytes((i * 7 + i // 256) & 0xFF for i in range(20_000)))
EUI = bytes.fromhex("70B3D5FFFE00002A")


@pytest.fixture
def net_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 2 ms of real idleness, so a datagram still in
    the kernel's loopback path is not overtaken by a jump."""
    return trio.testing.MockClock(autojump_threshold=0.002)


def _objects() -> MemoryObjectTree:
    return MemoryObjectTree({(7, PROFILE.instance_id, 2): VALUE})


def _drain(machine: ClientAssociation | ServerAssociation) -> list[Event]:
    events: list[Event] = []
    while not isinstance(event := machine.next_event(), NeedData):
        events.append(event)
    return events


async def _serve_meter(transport: ApduTransport) -> None:
    """The meter: a fresh server association for every AARQ, answers as they come."""
    policy = AssociationPolicy(max_receive_pdu_size=PDU, conformance=WITH_GBT, gbt_window=WINDOW)
    objects = _objects()
    server = ServerAssociation(policy, objects)
    while True:
        apdu = await transport.receive_apdu()
        if apdu[:1] == b"\x60":
            server = ServerAssociation(policy, objects)
        try:
            server.receive_apdu(apdu)
        except DlmsError:
            server = ServerAssociation(policy, objects)
            continue
        _drain(server)
        for out in server.data_to_send():
            await transport.send_apdu(out)


@attrs.define
class _Run:
    value: object = None
    retransmissions: int = 0
    associations: int = 0
    elapsed: float = 0.0


async def _read_big_attribute(transport: ApduTransport) -> _Run:
    """The head-end: associate (again if the AARQ or AARE is lost), then one GET through
    GBT, re-asking for missing blocks whenever the timer expires."""
    settings = ClientSettings(
        max_receive_pdu_size=PDU,
        conformance=WITH_GBT,
        use_general_block_transfer=True,
        gbt_window=WINDOW,
    )
    run = _Run()
    start = trio.current_time()

    async def flush(machine: ClientAssociation) -> None:
        for out in machine.data_to_send():
            await transport.send_apdu(out)

    while True:
        client = ClientAssociation(settings)
        client.associate()
        run.associations += 1
        await flush(client)
        events: list[Event] = []
        with trio.move_on_after(TIMER):
            while not events:
                client.receive_apdu(await transport.receive_apdu())
                events = _drain(client)
        if events:
            assert isinstance(events[0], AssociationAccepted), events
            break
    client.get(PROFILE)
    await flush(client)
    while True:
        with trio.move_on_after(TIMER) as scope:
            client.receive_apdu(await transport.receive_apdu())
        if scope.cancelled_caught:
            assert client.request_retransmission(), "GBT could not recover"
            run.retransmissions += 1
        await flush(client)
        for event in _drain(client):
            assert isinstance(event, GetCompleted), event
            run.value = event.results[0]
            run.elapsed = trio.current_time() - start
            return run


async def test_20k_read_over_rf_mesh_with_5_percent_loss(
    net_clock: trio.testing.MockClock,
) -> None:
    # 5 % loss per hop on every frame, no outages: the blocks lost are fixed by the seed.
    channel = attrs.evolve(RF_MESH_DEFAULT, seed=20, hop_loss=0.05, outage_probability=0.0)
    async with open_udp_endpoint(HOST, 0) as meter_end:
        meter = MeshMeter(network_id=0, physical_device_address=EUI, address=meter_end.sockname)
        async with (
            open_data_concentrator(channel=channel, meters=[meter], queue_limit=8) as dcu,
            open_gateway_multiplexer(await open_tcp_wrapper(*dcu.address)) as mux,
            trio.open_nursery() as nursery,
        ):
            meter_side = meter_end.peer(*dcu.meter_side_address, local_wport=1, remote_wport=0x10)
            nursery.start_soon(_serve_meter, meter_side)
            with trio.fail_after(3600):
                run = await _read_big_attribute(mux.meter(0, EUI))
            nursery.cancel_scope.cancel()
    assert run.value == VALUE
    lost = dcu.stats.lost[LossCause.LOSS]
    relayed = dcu.stats.relayed[Direction.DOWNLINK] + dcu.stats.relayed[Direction.UPLINK]
    hops = channel.hops_for(meter.link)
    # 20 000 bytes in blocks of < 512: at least 40 blocks came up the mesh.
    assert dcu.stats.relayed[Direction.UPLINK] >= 40
    # Blocks were lost on the way and recovered by re-asking.
    assert lost >= 1
    assert run.retransmissions >= 1
    # The loss rate seen is the model's: 1 - 0.95 ** hops per datagram, within reason.
    expected = 1 - 0.95**hops
    assert abs(lost / relayed - expected) < 0.2
    assert run.elapsed > 40 * 2 * 0.05


async def test_20k_read_over_wisun_with_fragmentation(
    net_clock: trio.testing.MockClock,
) -> None:
    # Wi-SUN defaults: 255-byte frames, 1 % loss per frame per hop; 3 % here to make sure
    # fragments go missing in a run this short.
    channel = attrs.evolve(WISUN_DEFAULT, seed=21, hop_loss=0.03, outage_probability=0.0)
    async with (
        open_udp_endpoint(HOST, 0) as meter_end,
        open_border_router(channel=channel, meters={"meter-42": meter_end.sockname}) as router,
        open_udp_endpoint(HOST, 0) as head_end,
        trio.open_nursery() as nursery,
    ):
        meter_side = meter_end.peer(*router.meter_side_address, local_wport=1, remote_wport=0x10)
        nursery.start_soon(_serve_meter, meter_side)
        head_end_side = head_end.peer(
            *router.address_of("meter-42"), local_wport=0x10, remote_wport=1
        )
        with trio.fail_after(3600):
            run = await _read_big_attribute(head_end_side)
        nursery.cancel_scope.cancel()
    assert run.value == VALUE
    stats = router.stats
    sent = stats.sent[Direction.DOWNLINK] + stats.sent[Direction.UPLINK]
    # Blocks of up to 512 bytes do not fit a 255-byte frame: they travelled in fragments.
    assert stats.fragments >= 2 * stats.sent[Direction.UPLINK] > 80
    assert stats.fragments_lost >= 1
    assert stats.lost[LossCause.LOSS] >= 1
    assert run.retransmissions >= 1
    assert sent > stats.delivered[Direction.DOWNLINK] + stats.delivered[Direction.UPLINK]


async def test_20k_read_survives_a_route_outage_mid_transfer(
    net_clock: trio.testing.MockClock,
) -> None:
    # Loss-free mesh, but the meter's route goes down for 45 s while blocks are flowing:
    # the DCU holds what the head-end sends, blocks sent up meanwhile are lost, and the
    # client's timer recovers once the route is back.
    base = attrs.evolve(RF_MESH_DEFAULT, hop_loss=0.0, outage_probability=0.0)
    channel = attrs.evolve(base, outages=(OutageWindow(start=15.0, end=60.0),))
    async with open_udp_endpoint(HOST, 0) as meter_end:
        meter = MeshMeter(network_id=0, physical_device_address=EUI, address=meter_end.sockname)
        async with (
            open_data_concentrator(channel=channel, meters=[meter], queue_limit=16) as dcu,
            open_gateway_multiplexer(await open_tcp_wrapper(*dcu.address)) as mux,
            trio.open_nursery() as nursery,
        ):
            meter_side = meter_end.peer(*dcu.meter_side_address, local_wport=1, remote_wport=0x10)
            nursery.start_soon(_serve_meter, meter_side)
            with trio.fail_after(3600):
                run = await _read_big_attribute(mux.meter(0, EUI))
            nursery.cancel_scope.cancel()
    assert run.value == VALUE
    assert run.retransmissions >= 1
    assert run.elapsed > 60.0
    assert dcu.stats.timed_out == 0
