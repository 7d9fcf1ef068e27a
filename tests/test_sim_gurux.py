"""The simulator read by an independent client: gurux-dlms over real loopback sockets.

The blocking gurux client runs in a worker thread; the fleet runs in trio on one
wildcard-bound socket and tells meters apart by the loopback address dialled. Every
value read must equal the ground truth (``simulators.meter_truth``).
"""

from __future__ import annotations

import datetime as dt
import functools
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
from gurux_dlms import GXByteBuffer, GXReplyData
from gurux_dlms.enums import Authentication, InterfaceType, Security
from gurux_dlms.objects import (
    GXDLMSAssociationLogicalName,
    GXDLMSClock,
    GXDLMSData,
    GXDLMSProfileGeneric,
    GXDLMSRegister,
)
from gurux_dlms.secure import GXDLMSSecureClient

from dlmskit.apdu import MechanismName
from dlmskit.axdr import DeviationSign
from obis import ObisCode
from simulators import (
    DEFAULT_AK,
    DEFAULT_EK,
    DEFAULT_HLS_SECRET,
    DEFAULT_LLS_SECRET,
    FaultPlan,
    Fleet,
    FleetLayout,
    MeterKeys,
    meter_truth,
    serve_fleet_hdlc,
    serve_fleet_wrapper,
)

NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
CLIENT_TITLE = bytes.fromhex("4D4D4D0000000001")


class GuruxLink:
    """A gurux client talking to a host:port over a blocking socket."""

    def __init__(self, client: GXDLMSSecureClient, host: str, port: int) -> None:
        self.client = client
        self.sock = socket.create_connection((host, port), timeout=10)

    def close(self) -> None:
        self.sock.close()

    def _packet(self, data: Any, reply: GXReplyData) -> None:
        notify = GXReplyData()
        if data is not None:
            self.sock.sendall(bytes(data))
        received = GXByteBuffer()
        while not self.client.getData(received, reply, notify):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the meter closed the connection")
            received.set(chunk)

    def _exchange(self, frames: list[Any]) -> GXReplyData:
        reply = GXReplyData()
        for frame in frames:
            reply.clear()
            self._packet(frame, reply)
            while reply.isMoreData():
                more = None if reply.isStreaming() else self.client.receiverReady(reply)
                self._packet(more, reply)
        return reply

    def connect(self) -> None:
        if self.client.interfaceType == InterfaceType.HDLC:
            reply = GXReplyData()
            self._packet(self.client.snrmRequest(), reply)
            self.client.parseUAResponse(reply.data)
        self.client.parseAareResponse(self._exchange(self.client.aarqRequest()).data)
        if self.client.getIsAuthenticationRequired():
            reply = self._exchange(self.client.getApplicationAssociationRequest())
            self.client.parseApplicationAssociationResponse(reply.data)

    def read(self, item: Any, attribute: int) -> Any:
        reply = self._exchange(self.client.read(item, attribute))
        return self.client.updateValue(item, attribute, reply.value)

    def rows(self, profile: GXDLMSProfileGeneric, start: dt.datetime, end: dt.datetime) -> None:
        reply = self._exchange(self.client.readRowsByRange(profile, start, end))
        self.client.updateValue(profile, 2, reply.value)


def gurux_client(
    sap: int,
    authentication: Authentication = Authentication.NONE,
    secret: bytes | None = None,
    interface: InterfaceType = InterfaceType.WRAPPER,
) -> GXDLMSSecureClient:
    client = GXDLMSSecureClient(True, sap, 1, authentication, secret, interface)
    if sap != 0x10:
        client.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
        client.ciphering.systemTitle = CLIENT_TITLE
        client.ciphering.blockCipherKey = DEFAULT_EK
        client.ciphering.authenticationKey = DEFAULT_AK
    return client


Serve = Callable[..., Any]
SERVERS: dict[str, tuple[Serve, InterfaceType]] = {
    "wrapper": (serve_fleet_wrapper, InterfaceType.WRAPPER),
    "hdlc": (serve_fleet_hdlc, InterfaceType.HDLC),
}


@asynccontextmanager
async def _serving(fleet: Fleet, framing: str) -> AsyncIterator[int]:
    serve, _ = SERVERS[framing]
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(serve, fleet, 0, host="0.0.0.0"))
        yield listeners[0].socket.getsockname()[1]
        nursery.cancel_scope.cancel()


def _fleet(**keys: Any) -> Fleet:
    return Fleet(
        FleetLayout(seed=11, meters=4),
        keys=MeterKeys(**keys),
        clock=lambda: NOW,
        sign=DeviationSign.BLUE_BOOK,
    )


def _truth(fleet: Fleet, number: int, start: dt.datetime, end: dt.datetime) -> dict[Any, Any]:
    rows = meter_truth(fleet.identity(number), fleet.plan, start, end)
    return {(row.obis, row.start): row for row in rows}


@pytest.mark.parametrize("framing", ["wrapper", "hdlc"])
async def test_public_client_reads_clock_and_name_plate(framing: str) -> None:
    fleet = _fleet()
    interface = SERVERS[framing][1]

    def talk(port: int) -> tuple[dt.datetime, str]:
        link = GuruxLink(gurux_client(0x10, interface=interface), "127.1.0.2", port)
        try:
            link.connect()
            clock = GXDLMSClock()
            link.read(clock, 2)
            serial = GXDLMSData("0.0.96.1.0.255")
            link.read(serial, 2)
            return clock.time.value, bytes(serial.value).decode()
        finally:
            link.close()

    async with _serving(fleet, framing) as port:
        when, serial = await trio.to_thread.run_sync(talk, port)
    assert when.astimezone(dt.UTC) == NOW
    assert serial == str(fleet.identity(2).serial)


#: Associations that read profiles: client SAP, gurux authentication, secret, HLS mechanism.
READERS: dict[str, tuple[int, Authentication, bytes | None, MechanismName]] = {
    "reader": (0x20, Authentication.LOW, DEFAULT_LLS_SECRET, MechanismName.HIGH),
    "settings-hls": (0x30, Authentication.HIGH, DEFAULT_HLS_SECRET, MechanismName.HIGH),
    "settings-gmac": (0x30, Authentication.HIGH_GMAC, None, MechanismName.HIGH_GMAC),
}


@pytest.mark.parametrize(
    ("framing", "number", "association"),
    [
        ("wrapper", 1, "reader"),
        ("hdlc", 1, "reader"),
        ("wrapper", 0, "reader"),
        ("hdlc", 0, "settings-gmac"),
        ("wrapper", 1, "settings-hls"),
    ],
)
async def test_registers_and_block_load_equal_truth(
    framing: str, number: int, association: str
) -> None:
    sap, authentication, secret, mechanism = READERS[association]
    fleet = _fleet(hls_mechanism=mechanism)
    interface = SERVERS[framing][1]
    # a whole day: 96 rows, several kB, so the response comes in datablocks
    start, end = NOW - dt.timedelta(days=1), NOW - dt.timedelta(minutes=15)

    def talk(port: int) -> dict[str, Any]:
        client = gurux_client(sap, authentication, secret, interface)
        link = GuruxLink(client, f"127.1.0.{number}", port)
        try:
            link.connect()
            energy = GXDLMSRegister("1.0.1.8.0.255")
            link.read(energy, 3)
            link.read(energy, 2)
            profile = GXDLMSProfileGeneric("1.0.99.1.0.255")
            link.read(profile, 3)
            link.rows(profile, start, end)
            daily = GXDLMSProfileGeneric("1.0.99.2.0.255")
            link.read(daily, 3)
            link.rows(daily, NOW - dt.timedelta(days=3), NOW)
            return {
                "energy": (energy.value, energy.scaler, energy.unit),
                "columns": [str(c[0].logicalName) for c in profile.captureObjects],
                "rows": [list(row) for row in profile.buffer],
                "daily_columns": [str(c[0].logicalName) for c in daily.captureObjects],
                "daily": [list(row) for row in daily.buffer],
            }
        finally:
            link.close()

    async with _serving(fleet, framing) as port:
        got = await trio.to_thread.run_sync(talk, port)

    truth = _truth(fleet, number, NOW - dt.timedelta(days=3), NOW)
    # the cumulative register at an interval boundary = midnight reading + block sum since
    midnight = max(when for (obis, when), row in truth.items() if row.quality == "daily")
    blocks = sum(
        row.value
        for (obis, when), row in truth.items()
        if obis == ObisCode.parse("1.0.1.29.0.255") and midnight <= when < NOW
    )
    daily = truth[(ObisCode.parse("1.0.1.8.0.255"), midnight)].value
    value, scaler, unit = got["energy"]
    assert (scaler, int(unit)) == (1, 30)
    assert value == daily + blocks

    assert fleet.identity(number).model.value == (3 if number == 1 else 1)
    rows = got["rows"]
    assert len(rows) == 96
    for row in rows:
        when = row[0].value.astimezone(dt.UTC)
        assert start <= when <= end
        for code, raw in zip(got["columns"][1:], row[1:], strict=True):
            expected = truth[(ObisCode.parse(code), when)]
            assert expected.quality == "valid"
            # gurux leaves buffer values raw: scale them as the truth does
            assert raw * 10 ** _scaler(code) == pytest.approx(expected.value), (code, when)
    assert len(got["daily"]) == 3
    for row in got["daily"]:
        when = row[0].value.astimezone(dt.UTC)
        for code, raw in zip(got["daily_columns"][1:], row[1:], strict=True):
            assert truth[(ObisCode.parse(code), when)].value == raw


def _scaler(code: str) -> int:
    from simulators import REGISTERS

    return REGISTERS[ObisCode.parse(code)].scaler


@pytest.mark.parametrize("framing", ["wrapper", "hdlc"])
@pytest.mark.parametrize(
    ("mechanism", "authentication", "secret"),
    [
        (MechanismName.HIGH, Authentication.HIGH, DEFAULT_HLS_SECRET),
        (MechanismName.HIGH_GMAC, Authentication.HIGH_GMAC, None),
    ],
)
async def test_utility_settings_hls(
    mechanism: MechanismName, authentication: Authentication, secret: bytes | None, framing: str
) -> None:
    fleet = _fleet(hls_mechanism=mechanism)
    interface = SERVERS[framing][1]

    def talk(port: int) -> tuple[dt.datetime, float]:
        client = gurux_client(0x30, authentication, secret, interface)
        link = GuruxLink(client, "127.1.0.3", port)
        try:
            link.connect()
            clock = GXDLMSClock()
            link.read(clock, 2)
            voltage = GXDLMSRegister("1.0.12.7.0.255")
            link.read(voltage, 3)
            link.read(voltage, 2)
            return clock.time.value, voltage.value
        finally:
            link.close()

    async with _serving(fleet, framing) as port:
        when, volts = await trio.to_thread.run_sync(talk, port)
    assert when.astimezone(dt.UTC) == NOW
    assert 200 < volts < 260


async def test_wrong_lls_secret_is_refused_and_others_keep_working() -> None:
    fleet = _fleet()

    def talk(port: int) -> str:
        bad = GuruxLink(gurux_client(0x20, Authentication.LOW, b"00000000"), "127.1.0.0", port)
        try:
            with pytest.raises(Exception) as refused:
                bad.connect()
        finally:
            bad.close()
        good = GuruxLink(gurux_client(0x10), "127.1.0.0", port)
        try:
            good.connect()
            clock = GXDLMSClock()
            good.read(clock, 2)
        finally:
            good.close()
        return type(refused.value).__name__

    async with _serving(fleet, "wrapper") as port:
        name = await trio.to_thread.run_sync(talk, port)
    assert name


async def test_fault_plan_missing_interval_is_absent_over_the_wire() -> None:
    plan = FaultPlan.from_mapping(
        {"seed": 5, "interval": [{"kind": "missing", "meters": 1.0, "per_day": 1.0, "length": 8}]}
    )
    fleet = Fleet(
        FleetLayout(seed=11, meters=4), plan=plan, clock=lambda: NOW, sign=DeviationSign.BLUE_BOOK
    )
    day_start = dt.datetime(2026, 6, 8, 18, 30, tzinfo=dt.UTC)  # local midnight, 9 June
    day_end = day_start + dt.timedelta(days=1) - dt.timedelta(minutes=15)

    def talk(port: int) -> list[dt.datetime]:
        client = gurux_client(0x20, Authentication.LOW, DEFAULT_LLS_SECRET)
        link = GuruxLink(client, "127.1.0.0", port)
        try:
            link.connect()
            profile = GXDLMSProfileGeneric("1.0.99.1.0.255")
            link.read(profile, 3)
            link.rows(profile, day_start, day_end)
            return [row[0].value.astimezone(dt.UTC) for row in profile.buffer]
        finally:
            link.close()

    async with _serving(fleet, "wrapper") as port:
        stamps = await trio.to_thread.run_sync(talk, port)
    truth = list(meter_truth(fleet.identity(0), plan, day_start, day_end, daily=False))
    missing = {row.start for row in truth if row.quality == "missing"}
    assert len(missing) == 8
    assert len(stamps) == 96 - 8
    assert not missing & set(stamps)


async def test_gurux_reads_the_object_list() -> None:
    fleet = _fleet()

    def talk(port: int) -> tuple[dict[str, int], dict[str, int]]:
        found: list[dict[str, int]] = []
        for sap, authentication, secret in (
            (0x20, Authentication.LOW, DEFAULT_LLS_SECRET),
            (0x10, Authentication.NONE, None),
        ):
            link = GuruxLink(gurux_client(sap, authentication, secret), "127.1.0.2", port)
            try:
                link.connect()
                request = link.client.getObjectsRequest()  # one frame, not a list
                reply = link._exchange([request])
                objects = link.client.parseObjects(reply.data, True)
                found.append({str(o.logicalName): int(o.objectType) for o in objects})
            finally:
                link.close()
        return found[0], found[1]

    async with _serving(fleet, "wrapper") as port:
        reader, public = await trio.to_thread.run_sync(talk, port)
    assert reader["1.0.1.8.0.255"] == 3
    assert reader["1.0.99.1.0.255"] == 7
    assert reader["0.0.1.0.0.255"] == 8
    assert reader["0.0.44.0.0.255"] == 18
    assert len(reader) > 60
    assert "1.0.1.8.0.255" not in public  # the public client sees only what it may read
    assert public["0.0.1.0.0.255"] == 8


@pytest.mark.parametrize("framing", ["wrapper", "hdlc"])
@pytest.mark.parametrize(
    ("sap", "authentication", "secret", "mechanism", "context"),
    [
        (0x10, Authentication.NONE, None, 0, 1),
        (0x20, Authentication.LOW, DEFAULT_LLS_SECRET, 1, 3),
        (0x30, Authentication.HIGH_GMAC, None, 5, 3),
    ],
)
async def test_current_association_describes_the_association_in_use(
    framing: str,
    sap: int,
    authentication: Authentication,
    secret: bytes | None,
    mechanism: int,
    context: int,
) -> None:
    fleet = _fleet(hls_mechanism=MechanismName.HIGH_GMAC)
    interface = SERVERS[framing][1]

    def talk(port: int) -> GXDLMSAssociationLogicalName:
        link = GuruxLink(gurux_client(sap, authentication, secret, interface), "127.1.0.1", port)
        try:
            link.connect()
            current = GXDLMSAssociationLogicalName("0.0.40.0.0.255")
            for attribute in (2, 3, 4, 5, 6, 8, 9):
                link.read(current, attribute)
            return current
        finally:
            link.close()

    async with _serving(fleet, framing) as port:
        current = await trio.to_thread.run_sync(talk, port)
    assert (current.clientSAP, current.serverSAP) == (sap, 1)
    assert current.applicationContextName.contextId == context
    assert current.authenticationMechanismName.mechanismId == mechanism
    assert int(current.associationStatus) == 2
    assert current.xDLMSContextInfo.dlmsVersionNumber == 6
    assert current.xDLMSContextInfo.maxReceivePduSize == 1024
    listed = {str(item.logicalName) for item in current.objectList}
    assert "0.0.1.0.0.255" in listed and "0.0.40.0.0.255" in listed
    # the meter reader sees the energy register, the public client does not
    assert ("1.0.1.8.0.255" in listed) is (sap != 0x10)
    expected_setup = "0.0.0.0.0.0" if sap == 0x10 else f"0.0.43.0.{sap // 16}.255"
    assert str(current.securitySetupReference) == expected_setup


async def test_hls_gmac_with_a_wrong_authentication_key_is_refused() -> None:
    fleet = _fleet(hls_mechanism=MechanismName.HIGH_GMAC)

    def talk(port: int) -> tuple[str, dt.datetime]:
        bad_client = gurux_client(0x30, Authentication.HIGH_GMAC)
        bad_client.ciphering.authenticationKey = bytes(16)
        bad = GuruxLink(bad_client, "127.1.0.0", port)
        try:
            with pytest.raises(Exception) as refused:
                bad.connect()
        finally:
            bad.close()
        good = GuruxLink(gurux_client(0x30, Authentication.HIGH_GMAC), "127.1.0.0", port)
        try:
            good.connect()
            clock = GXDLMSClock()
            good.read(clock, 2)
        finally:
            good.close()
        return type(refused.value).__name__, clock.time.value

    async with _serving(fleet, "wrapper") as port:
        name, when = await trio.to_thread.run_sync(talk, port)
    assert name
    assert when.astimezone(dt.UTC) == NOW
