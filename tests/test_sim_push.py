"""Pushes from simulated meters: ciphered data-notifications over TCP and UDP, retries,
alerts filtered by the ESWF, all checked against the ground truth."""

from __future__ import annotations

import datetime as dt
import functools

import attrs
import trio

from dlmskit.apdu import DataNotification, decode_apdu
from dlmskit.axdr import BitString, DateTime, DeviationSign, Structure
from dlmskit.cosem import esw_bits
from dlmskit.security import SecurityContext
from obis import ObisCode
from simulators import DEFAULT_AK, DEFAULT_EK, REGISTERS, FaultPlan, Fleet, FleetLayout, meter_truth
from simulators._push import (
    BLOCK_LOAD_PUSH,
    INSTANTANEOUS_PUSH,
    PushConfig,
    PushStats,
    destination,
    hdlc_push_frame,
    run_pushes,
)
from transports import (
    ApduReceived,
    HdlcAddress,
    HdlcConnection,
    HdlcRole,
    Wpdu,
    WrapperStreamTransport,
    open_udp_endpoint,
    serve_tcp_wrapper,
)

NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)


def _open(payload: bytes) -> DataNotification:
    hes = SecurityContext(
        system_title=bytes.fromhex("4845530000000001"),
        global_unicast_key=DEFAULT_EK,
        authentication_key=DEFAULT_AK,
    )
    apdu = decode_apdu(hes.unprotect(payload))
    assert isinstance(apdu, DataNotification)
    return apdu


async def _receive_pushes(
    fleet: Fleet, config_for: functools.partial[PushConfig], rounds: int, expected: int
) -> tuple[list[Wpdu], PushStats]:
    received: list[Wpdu] = []
    done = trio.Event()

    async def handler(transport: WrapperStreamTransport) -> None:
        received.append(await transport.receive_wpdu())
        if len(received) >= expected:
            done.set()

    stats = PushStats()
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(serve_tcp_wrapper, handler, host="127.0.0.1", port=0)
        )
        port = listeners[0].socket.getsockname()[1]
        config = config_for(port=port)
        with trio.fail_after(10):
            await run_pushes(fleet, config, stats=stats, rounds=rounds)
            await done.wait()
        nursery.cancel_scope.cancel()
    return received, stats


async def test_periodic_pushes_are_ciphered_and_equal_the_truth() -> None:
    fleet = Fleet(FleetLayout(seed=4, meters=3), clock=lambda: NOW, sign=DeviationSign.BLUE_BOOK)
    config = functools.partial(
        PushConfig, host="127.0.0.1", period=0.2, randomisation=0.05, alerts=False
    )
    received, stats = await _receive_pushes(fleet, config, rounds=2, expected=12)
    assert stats.sent == 12 and stats.failed == 0
    by_meter: dict[str, list[DataNotification]] = {}
    for wpdu in received:
        assert (wpdu.source, wpdu.destination) == (1, 0x40)
        assert wpdu.apdu[0] == 0xDB  # general-glo-ciphering
        note = _open(wpdu.apdu)
        body = note.notification_body
        assert isinstance(body, Structure) and isinstance(body[0], bytes)
        by_meter.setdefault(bytes(body[0]).decode(), []).append(note)
    assert len(by_meter) == 3
    for number in range(3):
        ident = fleet.identity(number)
        notes = by_meter[ident.name]
        assert len(notes) == 4
        truth = {
            (row.obis, row.start): row
            for row in meter_truth(ident, fleet.plan, NOW - dt.timedelta(hours=1), NOW)
        }
        for note in notes:
            body = note.notification_body
            assert isinstance(body, Structure)
            assert note.date_time is not None
            assert note.date_time.to_datetime(sign=DeviationSign.BLUE_BOOK) == NOW
            push_ln = ObisCode.from_bytes(bytes(body[1]))  # type: ignore[arg-type]
            assert push_ln in (INSTANTANEOUS_PUSH, BLOCK_LOAD_PUSH)
            stamp = DateTime.from_bytes(bytes(body[2]))  # type: ignore[arg-type]
            when = stamp.to_datetime(sign=DeviationSign.BLUE_BOOK).astimezone(dt.UTC)
            if push_ln == INSTANTANEOUS_PUSH:
                assert when == NOW
                continue
            assert when == NOW - dt.timedelta(minutes=15)  # the last completed block
            profile = fleet.meter(number).profile.profile(ObisCode(1, 0, 99, 1, 0))
            assert profile is not None
            for column, raw in zip(profile.capture_objects[1:], body[3:], strict=True):
                expected = truth[(column.logical_name, when)].value
                assert isinstance(raw, int)
                assert REGISTERS[column.logical_name].scaled(raw) == expected


async def test_unreachable_destination_is_retried_then_given_up() -> None:
    fleet = Fleet(FleetLayout(seed=4, meters=2), clock=lambda: NOW)
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there any more
    config = PushConfig(
        host="127.0.0.1", port=port, period=10, randomisation=0.0, retries=2,
        repetition_delay=0.01, setups=(INSTANTANEOUS_PUSH,), alerts=False,
    )  # fmt: skip
    stats = PushStats()
    with trio.fail_after(10):
        await run_pushes(fleet, config, stats=stats, rounds=1)
    assert (stats.sent, stats.failed, stats.retried) == (0, 2, 4)


async def test_udp_push_and_alert_after_a_power_failure() -> None:
    plan = FaultPlan.from_mapping(
        {"seed": 2, "interval": [{"kind": "missing", "meters": 1.0, "per_day": 1.0, "length": 2}]}
    )
    now = [NOW]
    fleet = Fleet(FleetLayout(seed=4, meters=1), plan=plan, clock=lambda: now[0])
    async with open_udp_endpoint("127.0.0.1", 0) as hes:
        _, port = hes.sockname
        config = PushConfig(
            host="127.0.0.1", port=port, transport="udp", period=0.2, randomisation=0.0,
            setups=(INSTANTANEOUS_PUSH,),
        )  # fmt: skip
        stats = PushStats()
        async with trio.open_nursery() as nursery:
            await nursery.start(functools.partial(run_pushes, fleet, config, stats=stats, rounds=2))
            with trio.fail_after(10):
                # each push is a new datagram from a new port: a new peer for the HES
                first = _open(await (await hes.accept()).receive_apdu())
                now[0] = NOW + dt.timedelta(days=1)  # a day with a power failure passes
                second = _open(await (await hes.accept()).receive_apdu())
                alert = _open(await (await hes.accept()).receive_apdu())
    assert stats.alerts == 1
    for note in (first, second):
        body = note.notification_body
        assert isinstance(body, Structure)
        assert ObisCode.from_bytes(bytes(body[1])) == INSTANTANEOUS_PUSH  # type: ignore[arg-type]
    body = alert.notification_body
    assert isinstance(body, Structure)
    assert ObisCode.from_bytes(bytes(body[1])) == ObisCode(0, 4, 25, 9, 0)  # type: ignore[arg-type]
    esw = body[3]
    assert isinstance(esw, BitString)
    assert esw_bits(bytes(esw.value)) == {85, 86}  # last gasp and first breath


async def test_push_goes_where_the_head_end_set_the_push_setup() -> None:
    fleet = Fleet(FleetLayout(seed=4, meters=1), clock=lambda: NOW)
    received: list[Wpdu] = []
    got = trio.Event()

    async def handler(transport: WrapperStreamTransport) -> None:
        received.append(await transport.receive_wpdu())
        got.set()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(serve_tcp_wrapper, handler, host="127.0.0.1", port=0)
        )
        port = listeners[0].socket.getsockname()[1]
        state = fleet.meter(0).state
        state.push_destination = f"127.0.0.1:{port}".encode()  # as a SET of attribute 3 does
        config = PushConfig(
            host="127.0.0.1", port=1, period=10, randomisation=0.0, retries=0,
            setups=(INSTANTANEOUS_PUSH,), alerts=False,
        )  # fmt: skip
        assert destination(fleet.meter(0), config).port == port
        with trio.fail_after(10):
            await run_pushes(fleet, config, rounds=1)
            await got.wait()
        nursery.cancel_scope.cancel()
    assert len(received) == 1


async def test_no_push_outside_the_communication_window() -> None:
    # NOW is 17:30 IST: inside 00:00-20:00, outside 20:00-23:59
    fleet = Fleet(FleetLayout(seed=4, meters=2), clock=lambda: NOW)
    closed = PushConfig(
        host="127.0.0.1", port=1, period=0.05, randomisation=0.02, retries=0, alerts=False,
        setups=(INSTANTANEOUS_PUSH,), window=(dt.time(20, 0), dt.time(23, 59)),
    )  # fmt: skip
    stats = PushStats()
    with trio.fail_after(10):
        await run_pushes(fleet, closed, stats=stats, rounds=3)
    assert (stats.sent, stats.failed) == (0, 0)
    assert closed.in_window(dt.time(23, 0)) and not closed.in_window(dt.time(19, 59))
    overnight = attrs.evolve(closed, window=(dt.time(22, 0), dt.time(6, 0)))
    assert overnight.in_window(dt.time(23, 0)) and overnight.in_window(dt.time(5, 0))
    assert not overnight.in_window(dt.time(12, 0))


async def test_tamper_alert_is_filtered_by_the_eswf() -> None:
    plan = FaultPlan.from_mapping(
        {"seed": 5, "interval": [{"kind": "magnet", "meters": 1.0, "per_day": 1.0, "length": 4}]}
    )
    for eswf, expected in ((None, 1), (bytes(16), 0)):
        now = [NOW]
        layout = FleetLayout(seed=4, meters=1, three_phase_share=0.0)
        fleet = Fleet(layout, plan=plan, clock=functools.partial(_first, now))
        if eswf is not None:
            fleet.meter(0).state.eswf = eswf  # the head-end switched every alert off
        async with open_udp_endpoint("127.0.0.1", 0) as hes:
            _, port = hes.sockname
            config = PushConfig(
                host="127.0.0.1", port=port, transport="udp", period=0.2, randomisation=0.0,
                setups=(INSTANTANEOUS_PUSH,),
            )  # fmt: skip
            stats = PushStats()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(
                    functools.partial(run_pushes, fleet, config, stats=stats, rounds=2)
                )
                with trio.fail_after(10):
                    await (await hes.accept()).receive_apdu()
                    now[0] = NOW + dt.timedelta(days=1)
                    await (await hes.accept()).receive_apdu()
                    if expected:
                        alert = _open(await (await hes.accept()).receive_apdu())
                        body = alert.notification_body
                        assert isinstance(body, Structure) and isinstance(body[3], BitString)
                        assert 81 in esw_bits(bytes(body[3].value))  # magnet (single-phase)
        assert stats.alerts == expected


def _first(box: list[dt.datetime]) -> dt.datetime:
    return box[0]


async def test_hdlc_push_is_one_ui_frame_per_notification() -> None:
    fleet = Fleet(FleetLayout(seed=4, meters=2), clock=lambda: NOW, sign=DeviationSign.BLUE_BOOK)
    apdus: list[bytes] = []
    done = trio.Event()

    async def handler(stream: trio.SocketStream) -> None:
        # the head-end side: an HDLC client that never connected takes UI frames only
        link = HdlcConnection(
            HdlcRole.CLIENT, server_address=HdlcAddress.server(1), client_address=0x40
        )
        async for chunk in stream:
            link.receive_data(chunk)
            while isinstance(event := link.next_event(), ApduReceived):
                assert event.unnumbered
                apdus.append(event.apdu)
        assert link.data_to_send() == b""  # nothing to answer: no acknowledgement
        if len(apdus) >= 4:
            done.set()

    stats = PushStats()
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(trio.serve_tcp, handler, 0))
        port = listeners[0].socket.getsockname()[1]
        config = PushConfig(
            host="127.0.0.1", port=port, transport="hdlc", period=0.2, randomisation=0.05,
            alerts=False,
        )  # fmt: skip
        with trio.fail_after(10):
            await run_pushes(fleet, config, stats=stats, rounds=1)
            await done.wait()
        nursery.cancel_scope.cancel()
    assert stats.sent == 4 and stats.failed == 0
    notes = [_open(apdu) for apdu in apdus]
    names = {bytes(n.notification_body[0]).decode() for n in notes}  # type: ignore[index, arg-type]
    assert names == {fleet.identity(0).name, fleet.identity(1).name}
    pushed = {ObisCode.from_bytes(bytes(n.notification_body[1])) for n in notes}  # type: ignore[index, arg-type]
    assert pushed == {INSTANTANEOUS_PUSH, BLOCK_LOAD_PUSH}


def test_push_setup_transport_service_5_is_hdlc() -> None:
    fleet = Fleet(FleetLayout(seed=4, meters=1), clock=lambda: NOW)
    meter = fleet.meter(0)
    meter.state.push_transport = 5
    meter.state.push_destination = b"10.1.2.3:4061"
    target = destination(meter, PushConfig(host="127.0.0.1"))
    assert (target.transport, target.host, target.port) == ("hdlc", "10.1.2.3", 4061)
    frame = hdlc_push_frame(b"\x0f\x00\x00\x00\x01")
    assert frame[0] == frame[-1] == 0x7E
    assert frame[3:5] == bytes((0x81, 0x03))  # to the push client 64, from server address 1
