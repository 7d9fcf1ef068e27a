"""The trio client against a real server association over loopback sockets: every
transport, typed reads, profiles, errors, timeouts, retries, the frame-counter pattern,
firmware upgrade with resume and key change."""

from __future__ import annotations

import datetime as dt
import functools
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal

import attrs
import pytest
import trio

from dlmskit.apdu import AcseServiceUserDiagnostic, DataAccessResult
from dlmskit.association import RequestContext
from dlmskit.axdr import Data, DoubleLongUnsigned, Enum, LongUnsigned, OctetString, encode
from dlmskit.client import (
    Association,
    AssociationRefused,
    AuthenticationFailure,
    LinkSettings,
    Meter,
    MeterTimeout,
    connect,
    with_frame_counter,
)
from dlmskit.cosem import (
    ControlState,
    CosemObjectTree,
    ImageTransfer,
    Quantity,
    Register,
    ScalerUnit,
    Unit,
)
from dlmskit.errors import DlmsError, ServiceError, TransportError
from dlmskit.security import KeyId, parse_key_transfer
from dlmskit.testing import IST, MeterEndpoint, demo_meter, serve_hdlc, serve_udp, serve_wrapper
from obis import ObisCode
from transports import (
    HdlcAddress,
    WrapperStreamTransport,
    accept_hdlc,
    open_tcp_wrapper,
    serve_tcp_wrapper,
)

NOW = dt.datetime(2024, 1, 2, 0, 7, 30, tzinfo=dt.UTC)  # 05:37:30 IST
FAST = LinkSettings(connect_timeout=1.0, response_timeout=0.3, release_timeout=0.3, retries=0)
BLOCK_LOAD = "1.0.99.1.0.255"
MASTER_KEY = bytes(range(0x20, 0x30))


@pytest.fixture
def endpoint() -> MeterEndpoint[CosemObjectTree]:
    return demo_meter(now=lambda: NOW)


@pytest.fixture
async def wrapper_url(
    endpoint: MeterEndpoint[CosemObjectTree], nursery: trio.Nursery
) -> AsyncIterator[str]:
    port = await nursery.start(serve_wrapper, endpoint)
    yield f"tcp://127.0.0.1:{port}"


SERVERS = {"tcp": serve_wrapper, "hdlc+tcp": serve_hdlc, "udp": serve_udp}


@pytest.mark.parametrize("scheme", sorted(SERVERS))
async def test_every_transport_reads_clock_and_register(
    scheme: str, endpoint: MeterEndpoint[CosemObjectTree], nursery: trio.Nursery
) -> None:
    port = await nursery.start(SERVERS[scheme], endpoint)
    voltage = endpoint.objects["1.0.12.7.0.255"]
    assert isinstance(voltage, Register)
    voltage[2] = LongUnsigned(23456)
    target = f"{scheme}://127.0.0.1:{port}"
    async with connect(target, association=Association.utility_settings()) as meter:
        assert await meter.read_clock() == NOW
        assert (await meter.read_clock()).utcoffset() == dt.timedelta(minutes=330)
        quantity = await meter.read_register("1.0.12.7.0.255")
        assert quantity == Quantity(value=Decimal("234.56"), unit=Unit.VOLT)
        # several requests reuse the one association
        assert meter.accepted is not None
        assert await meter.get(8, "0.0.1.0.0.255", 3) == 330
    assert endpoint.sessions == 1


async def test_profile_by_time_range_gives_typed_scaled_rows(wrapper_url: str) -> None:
    start = dt.datetime(2024, 1, 1, 3, 0, tzinfo=IST)
    end = dt.datetime(2024, 1, 1, 4, 0, tzinfo=IST)
    async with connect(wrapper_url, association=Association.meter_reader()) as meter:
        rows = await meter.read_profile(BLOCK_LOAD, start, end)
    # 03:30 was never captured
    assert [r.time for r in rows] == [start + dt.timedelta(minutes=m) for m in (0, 15, 45, 60)]
    slot = int(start.timestamp()) // 900
    assert rows[0]["1.0.12.27.0.255"] == Quantity(
        value=Decimal(23000 + slot % 100).scaleb(-2), unit=Unit.VOLT
    )
    assert rows[0][6] == Quantity(value=Decimal(1000 + slot % 7).scaleb(-3), unit=Unit.AMPERE)


async def test_profile_by_entries_and_columns(wrapper_url: str) -> None:
    async with connect(wrapper_url, association=Association.utility_settings()) as meter:
        count = await meter.get(7, BLOCK_LOAD, 7)
        assert isinstance(count, int)
        entries = int(count)
        rows = await meter.read_profile(
            BLOCK_LOAD,
            entries=(entries - 1, 0),
            columns=["0.0.1.0.0.255", "1.0.1.29.0.255"],
        )
        raw = await meter.read_profile(BLOCK_LOAD, entries=(entries, 0), scaler_profile=False)
    assert [r.time for r in rows] == [
        dt.datetime(2024, 1, 2, 5, 15, tzinfo=IST),
        dt.datetime(2024, 1, 2, 5, 30, tzinfo=IST),
    ]
    assert [len(r.values) for r in rows] == [2, 2]
    assert isinstance(rows[0]["1.0.1.29.0.255"], Quantity)
    assert len(raw) == 1 and isinstance(raw[0][1], LongUnsigned)


async def test_selected_columns_by_time_range(wrapper_url: str) -> None:
    start = dt.datetime(2024, 1, 1, 23, 50, tzinfo=IST)
    end = dt.datetime(2024, 1, 2, 0, 20, tzinfo=IST)
    async with connect(wrapper_url, association=Association.utility_settings()) as meter:
        rows = await meter.read_profile(
            BLOCK_LOAD, start, end, columns=["0.0.1.0.0.255", "1.0.12.27.0.255"]
        )
    assert [r.time for r in rows] == [
        dt.datetime(2024, 1, 2, 0, 0, tzinfo=IST),
        dt.datetime(2024, 1, 2, 0, 15, tzinfo=IST),
    ]
    assert all(isinstance(r[1], Quantity) and len(r.values) == 2 for r in rows)


async def test_data_access_result_is_named(wrapper_url: str) -> None:
    async with connect(wrapper_url) as meter:  # public client
        with pytest.raises(ServiceError) as info:
            await meter.get(7, BLOCK_LOAD, 2)
        assert info.value.result is DataAccessResult.OBJECT_UNDEFINED
        assert "object-undefined (4)" in str(info.value)
        assert "7/1.0.99.1.0.255/2" in str(info.value)
        # the association survives a refused request
        assert await meter.get(8, "0.0.1.0.0.255", 3) == 330


async def test_get_with_list_and_fallback(wrapper_url: str) -> None:
    refs = [(8, "0.0.1.0.0.255", 3), (7, BLOCK_LOAD, 99), (1, "0.0.96.1.0.255", 2)]
    async with connect(wrapper_url, association=Association.utility_settings()) as meter:
        listed = await meter.get_with_list(refs)
    async with connect(wrapper_url, association=Association.meter_reader()) as meter:
        one_by_one = await meter.get_with_list(refs)  # no multiple-references granted
    assert listed == one_by_one
    assert listed[0] == 330 and isinstance(listed[2], OctetString)
    assert isinstance(listed[1], DataAccessResult)


async def test_set_action_relay_and_clock_sync(
    endpoint: MeterEndpoint[CosemObjectTree], wrapper_url: str
) -> None:
    async with connect(wrapper_url, association=Association.utility_settings()) as meter:
        await meter.disconnect_relay()
        assert await meter.get(70, "0.0.96.3.10.255", 2) is False
        await meter.set(70, "0.0.96.3.10.255", 4, Enum(1))
        await meter.reconnect_relay()
        assert await meter.get(70, "0.0.96.3.10.255", 3) == Enum(ControlState.CONNECTED)
        with pytest.raises(ServiceError, match="type-unmatched"):
            await meter.set(8, "0.0.1.0.0.255", 3, LongUnsigned(5))
        target = dt.datetime(2024, 1, 2, 6, 0, tzinfo=IST)
        drift = await meter.sync_clock(target)
        assert abs(drift) > dt.timedelta(days=365)  # the meter's clock is frozen in 2024
        assert await meter.read_clock() == target


async def test_object_list_depends_on_the_association(wrapper_url: str) -> None:
    async with connect(wrapper_url) as meter:
        public = {e.logical_name for e in await meter.object_list()}
    async with connect(wrapper_url, association=Association.utility_settings()) as meter:
        utility = {e.logical_name for e in await meter.object_list()}
    assert ObisCode.parse(BLOCK_LOAD) in utility - public
    assert public < utility


async def test_rejected_association_names_its_diagnostic(wrapper_url: str) -> None:
    wrong = Association.meter_reader(password=b"00000000")
    with pytest.raises(AssociationRefused) as info:
        async with connect(wrapper_url, association=wrong):
            pass
    assert info.value.result is AcseServiceUserDiagnostic.AUTHENTICATION_FAILURE
    assert "authentication-failure (13)" in str(info.value)
    assert "meter reader" in str(info.value)


async def test_wrong_hls_secret_fails_authentication(wrapper_url: str) -> None:
    wrong = Association.utility_settings(hls_secret=b"0123456789ABCDEF")
    with pytest.raises(AuthenticationFailure, match="HLS authentication"):
        async with connect(wrapper_url, association=wrong):
            pass


async def test_wrong_encryption_key_is_a_dlms_error(wrapper_url: str) -> None:
    wrong = Association.utility_settings(encryption_key=bytes(16))
    with pytest.raises(DlmsError):
        async with connect(wrapper_url, association=wrong, link=FAST):
            pass


async def test_timeout_says_what_was_awaited(
    endpoint: MeterEndpoint[CosemObjectTree], wrapper_url: str
) -> None:
    async with connect(wrapper_url, link=FAST) as meter:
        endpoint.silent = True
        with pytest.raises(MeterTimeout) as info:
            await meter.get(8, "0.0.1.0.0.255", 2)
    assert info.value.awaited == "GET-Response"
    assert "no GET-Response from" in str(info.value) and "0.3 s" in str(info.value)
    assert isinstance(info.value, TransportError) and isinstance(info.value, TimeoutError)


async def test_no_aare_times_out(
    endpoint: MeterEndpoint[CosemObjectTree], wrapper_url: str
) -> None:
    endpoint.silent = True
    with pytest.raises(MeterTimeout, match="no AARE"):
        async with connect(wrapper_url, link=FAST):
            pass


async def test_connection_refused_is_a_transport_error() -> None:
    with trio.socket.socket() as sock:
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransportError, match="cannot connect"):
        async with connect(f"tcp://127.0.0.1:{port}", link=FAST):
            pass


async def test_udp_resends_a_request_whose_response_was_lost(
    endpoint: MeterEndpoint[CosemObjectTree], nursery: trio.Nursery
) -> None:
    port = await nursery.start(serve_udp, endpoint)
    link = attrs.evolve(FAST, retries=2)
    async with connect(f"udp://127.0.0.1:{port}", link=link) as meter:
        endpoint.drop_next = 1
        assert await meter.get(8, "0.0.1.0.0.255", 3) == 330
        endpoint.drop_next = 3
        with pytest.raises(MeterTimeout):
            await meter.get(8, "0.0.1.0.0.255", 3)


async def test_release_and_reassociate_keep_counters_rising(
    endpoint: MeterEndpoint[CosemObjectTree], wrapper_url: str
) -> None:
    async with connect(wrapper_url, association=Association.utility_settings()) as meter:
        await meter.read_clock()
        await meter.reassociate()
        assert await meter.read_clock() == NOW
    assert endpoint.sessions == 1


async def test_frame_counter_pattern(
    endpoint: MeterEndpoint[CosemObjectTree], wrapper_url: str
) -> None:
    us = Association.utility_settings()
    async with connect(wrapper_url, association=us) as meter:
        for _ in range(5):
            await meter.read_clock()
    # a second head-end process starting its counter at 0 again is a replay
    with pytest.raises(DlmsError):
        async with connect(wrapper_url, association=us, link=FAST):
            pass
    fresh = await with_frame_counter(wrapper_url, us, link=FAST)
    assert fresh.invocation_counter > 5
    async with connect(wrapper_url, association=fresh) as meter:
        assert await meter.read_clock() == NOW


async def test_meter_initiated_connection(
    endpoint: MeterEndpoint[CosemObjectTree], nursery: trio.Nursery
) -> None:
    """The meter dials the head-end; the head-end runs its requests over that link."""
    results: list[dt.datetime] = []
    done = trio.Event()

    async def on_meter(transport: WrapperStreamTransport) -> None:
        async with connect(transport) as meter:
            results.append(await meter.read_clock())
        done.set()

    listeners = await nursery.start(
        functools.partial(
            serve_tcp_wrapper, on_meter, "127.0.0.1", 0, local_wport=0x10, remote_wport=0x01
        )
    )
    port = listeners[0].socket.getsockname()[1]
    meter_side = await open_tcp_wrapper("127.0.0.1", port, client_wport=0x01, server_wport=0x10)
    nursery.start_soon(endpoint.serve, meter_side, 0x10)
    with trio.fail_after(5):
        await done.wait()
    assert results == [NOW]
    await meter_side.aclose()


async def _upgrade(meter: Meter, image: bytes, stop_after: int | None) -> object:
    def progress(done: int, total: int) -> None:
        if stop_after is not None and done >= stop_after:
            raise KeyboardInterrupt  # the operator's Ctrl-C mid-transfer

    return await meter.upgrade_firmware(b"FW-2.0", image, progress=progress)


async def test_firmware_upgrade_resumes_after_an_interruption(
    endpoint: MeterEndpoint[CosemObjectTree], wrapper_url: str
) -> None:
    image = bytes((n * 7) & 0xFF for n in range(1000))  # 6 blocks of 192
    fw = Association.firmware()
    with pytest.raises(KeyboardInterrupt):
        async with connect(wrapper_url, association=fw) as meter:
            await _upgrade(meter, image, stop_after=3)
    transfer = endpoint.objects["0.0.44.0.0.255"]
    assert isinstance(transfer, ImageTransfer) and transfer.first_not_transferred_block == 3
    fresh = await with_frame_counter(wrapper_url, fw)
    async with connect(wrapper_url, association=fresh) as meter:
        report = await meter.upgrade_firmware(b"FW-2.0", image)
    assert report.resumed and report.blocks == 6 and report.sent == 3 and report.activated
    assert bytes(transfer.image) == image


async def test_key_transfer_then_connect_with_the_new_key(
    endpoint: MeterEndpoint[CosemObjectTree], wrapper_url: str
) -> None:
    new_ek = bytes(range(0x60, 0x70))
    received: list[tuple[KeyId, bytes]] = []
    policy = endpoint.policies[0x30]
    assert policy.security is not None
    server_security = policy.security

    def key_transfer(ctx: RequestContext, parameters: Data | None) -> Data | None:
        assert parameters is not None
        keys = parse_key_transfer(encode(parameters), kek=MASTER_KEY)
        received.extend((key.key_id, key.key) for key in keys)
        return None

    endpoint.objects["0.0.43.0.3.255"].implement(2, key_transfer)
    us = Association.utility_settings(master_key=MASTER_KEY)
    async with connect(wrapper_url, association=us) as meter:
        updated = await meter.transfer_keys({KeyId.GLOBAL_UNICAST_ENCRYPTION: new_ek})
    assert received == [(KeyId.GLOBAL_UNICAST_ENCRYPTION, new_ek)]
    # the meter takes the new key into use once the association that sent it is over
    server_security.change_key(KeyId.GLOBAL_UNICAST_ENCRYPTION, new_ek)  # type: ignore[attr-defined]
    assert updated.encryption_key == new_ek and updated.invocation_counter == 0
    async with connect(wrapper_url, association=updated) as meter:
        assert await meter.read_clock() == NOW
    with pytest.raises(DlmsError):
        async with connect(wrapper_url, association=us, link=FAST):
            pass


async def test_invocation_counter_object_is_readable_publicly(wrapper_url: str) -> None:
    async with connect(wrapper_url, association=Association.utility_settings()) as meter:
        await meter.read_clock()
    async with connect(wrapper_url) as meter:
        value = await meter.read_invocation_counter("0.0.43.1.3.255")
    assert value >= 2
    assert isinstance(DoubleLongUnsigned(value), int)


def test_package_root_loads_the_client_lazily() -> None:
    code = (
        "import sys, dlmskit\n"
        "assert 'trio' not in sys.modules, 'core imported trio'\n"
        "from dlmskit.client import connect, listen\n"
        "assert dlmskit.connect is connect and dlmskit.listen is listen\n"
        "assert 'trio' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


async def test_hdlc_over_a_serial_line(endpoint: MeterEndpoint[CosemObjectTree]) -> None:
    """The serial target on a pseudo-terminal; the meter answers on the other end."""
    master, slave = os.openpty()
    meter_stream = trio.lowlevel.FdStream(os.dup(master))

    async def meter_side() -> None:
        transport = await accept_hdlc(meter_stream, server_address=HdlcAddress.server(1))
        await endpoint.serve(transport, 0x20)

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(meter_side)
            target = f"serial://{os.ttyname(slave)}?baud=19200"
            with trio.fail_after(10):
                async with connect(target, association=Association.meter_reader()) as meter:
                    assert await meter.read_clock() == NOW
                    assert meter.name == f"serial://{os.ttyname(slave)}"
            nursery.cancel_scope.cancel()
    finally:
        await meter_stream.aclose()
        os.close(master)
        os.close(slave)


async def test_a_corrupted_ciphered_response_is_a_tag_mismatch(
    endpoint: MeterEndpoint[CosemObjectTree], wrapper_url: str
) -> None:
    async with connect(wrapper_url, association=Association.utility_settings()) as meter:
        endpoint.corrupt_next = 1
        with pytest.raises(AuthenticationFailure) as info:
            await meter.read_clock()
    assert "GET-Response could not be opened: authentication tag mismatch" in str(info.value)


async def test_a_link_lost_mid_request_says_what_was_awaited(
    endpoint: MeterEndpoint[CosemObjectTree], wrapper_url: str
) -> None:
    async with connect(wrapper_url) as meter:
        endpoint.hang_up = True
        with pytest.raises(TransportError, match="link lost awaiting GET-Response"):
            await meter.read_clock()


async def test_read_types_attributes_by_their_interface_class(
    endpoint: MeterEndpoint[CosemObjectTree], wrapper_url: str
) -> None:
    voltage = endpoint.objects["1.0.12.7.0.255"]
    assert isinstance(voltage, Register)
    voltage[2] = LongUnsigned(23012)
    async with connect(wrapper_url, association=Association.utility_settings()) as meter:
        assert await meter.read(3, "1.0.12.7.0.255", 2) == Quantity(
            value=Decimal("230.12"), unit=Unit.VOLT
        )
        scaler = await meter.read(3, "1.0.12.7.0.255", 3)
        assert isinstance(scaler, ScalerUnit) and str(scaler) == "10^-2 V"
        assert await meter.read(8, "0.0.1.0.0.255", 2) == NOW
        assert await meter.read(8, "0.0.1.0.0.255", 3) == 330
