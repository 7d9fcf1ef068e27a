"""``dlmskit-sim`` through a subprocess: truth, fleet address plan, and serving one meter."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
from test_sim_meter import _ciphered, _method

from dlmskit.apdu import (
    ActionResult,
    CosemAttributeDescriptor,
    DataNotification,
    MechanismName,
    decode_apdu,
)
from dlmskit.association import (
    NEED_DATA,
    ActionCompleted,
    AssociationAccepted,
    ClientAssociation,
    ClientSettings,
    Event,
    GetCompleted,
)
from dlmskit.axdr import DateTime, DeviationSign, Integer, OctetString
from dlmskit.security import HlsSecret, SecurityContext
from obis import ObisCode
from simulators import (
    CSV_COLUMNS,
    DEFAULT_AK,
    DEFAULT_EK,
    DEFAULT_HLS_SECRET,
    FaultPlan,
    FleetLayout,
    meter_truth,
)
from transports import (
    ApduReceived,
    HdlcAddress,
    HdlcConnection,
    HdlcRole,
    Wpdu,
    WrapperStreamTransport,
    open_serial_hdlc,
    open_tcp_hdlc,
    open_tcp_wrapper,
    open_udp_endpoint,
    serve_tcp_wrapper,
)

CLI = str(Path(sys.executable).with_name("dlmskit-sim"))
CLOCK = CosemAttributeDescriptor(class_id=8, instance_id=ObisCode(0, 0, 1, 0, 0), attribute_id=2)
NOW = "2026-05-20T08:15:00Z"


def _run(*args: str) -> str:
    done = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_truth_csv_matches_the_library(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    plan = FaultPlan.from_mapping(
        {"seed": 3, "interval": [{"kind": "spike", "meters": 1.0, "per_day": 1.0}]}
    )
    plan_file.write_text(json.dumps(plan.to_mapping()))
    start, end = "2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z"
    out = _run(
        "truth", "--meters", "5", "--seed", "4", "--meter", "SIM12345680",
        "--start", start, "--end", end, "--fault-plan", str(plan_file),
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == CSV_COLUMNS
    ident = FleetLayout(seed=4, meters=5).identity(2)
    when = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    expected = list(meter_truth(ident, plan, when, when + dt.timedelta(days=1)))
    assert [tuple(r) for r in rows[1:]] == [row.csv_row() for row in expected]
    assert any(r[5] == "spike" for r in rows[1:])


def test_truth_json_lists_faults() -> None:
    out = _run(
        "truth", "--meter", "0", "--start", "2026-05-01T00:00:00Z",
        "--end", "2026-05-01T01:00:00Z", "--format", "json",
    )  # fmt: skip
    data = json.loads(out)
    assert data["faults"] == []
    phases = int(FleetLayout(seed=0, meters=10).identity(0).model)
    assert len(data["readings"]) == 4 * (6 if phases == 1 else 10)


def test_fleet_prints_and_writes_the_address_plan(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    out = _run("fleet", "--meters", "4", "--seed", "2", "--no-serve", "--plan-out", str(target))
    lines = out.splitlines()
    assert len(lines) == 4
    assert lines[3].startswith("SIM12345681 127.1.0.3:4059 4D4D4D0000BC6151")
    plan = json.loads(target.read_text())
    assert [entry["host"] for entry in plan] == [f"127.1.0.{n}" for n in range(4)]


def test_bad_arguments_fail_cleanly() -> None:
    done = subprocess.run(
        [CLI, "serve", "--ek", "0011"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "16 bytes" in done.stderr


@asynccontextmanager
async def _serving(*args: str, command: str = "serve") -> AsyncIterator[str]:
    process = subprocess.Popen(
        [CLI, command, "--port", "0", "--now", NOW, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = ""
        with trio.fail_after(30):
            while not port:
                line = await trio.to_thread.run_sync(process.stdout.readline)
                assert line, process.stderr.read() if process.stderr else "no output"
                if line.startswith("listening"):
                    port = line.split()[-1]
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


async def _read_clock(transport: Any) -> dt.datetime:
    client = ClientAssociation(ClientSettings())
    client.associate()

    async def exchange() -> Event:
        for apdu in client.data_to_send():
            await transport.send_apdu(apdu)
        while (event := client.next_event()) is NEED_DATA:
            client.receive_apdu(await transport.receive_apdu())
        assert not isinstance(event, type(NEED_DATA))
        return event

    with trio.fail_after(10):
        assert isinstance(await exchange(), AssociationAccepted)
        client.get(CLOCK)
        event = await exchange()
    assert isinstance(event, GetCompleted)
    value = event.results[0]
    assert isinstance(value, OctetString)
    return DateTime.from_bytes(bytes(value)).to_datetime(sign=DeviationSign.UTC_TO_LOCAL)


@pytest.mark.parametrize("framing", ["wrapper", "hdlc", "udp", "pty"])
async def test_serve_one_meter(framing: str) -> None:
    args = ["--transport", framing] if framing in ("udp", "pty") else ["--framing", framing]
    async with _serving(*args) as where:
        port = int(where) if where.isdigit() else 0
        if framing == "wrapper":
            transport: Any = await open_tcp_wrapper("127.0.0.1", port)
            when = await _read_clock(transport)
            await transport.aclose()
        elif framing == "hdlc":
            transport = await open_tcp_hdlc("127.0.0.1", port, server_address=HdlcAddress.server(1))
            when = await _read_clock(transport)
            await transport.aclose()
        elif framing == "udp":
            async with open_udp_endpoint("127.0.0.1", 0) as endpoint:
                when = await _read_clock(endpoint.peer("127.0.0.1", port))
        else:
            transport = await open_serial_hdlc(where, server_address=HdlcAddress.server(1))
            when = await _read_clock(transport)
            await transport.aclose()
    assert when == dt.datetime.fromisoformat(NOW.replace("Z", "+00:00"))


async def test_serve_pushes_to_a_head_end() -> None:
    received: list[Wpdu] = []
    got = trio.Event()

    async def handler(transport: WrapperStreamTransport) -> None:
        received.append(await transport.receive_wpdu())
        got.set()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(serve_tcp_wrapper, handler, host="127.0.0.1", port=0)
        )
        hes_port = listeners[0].socket.getsockname()[1]
        push = ["--push-to", f"127.0.0.1:{hes_port}", "--push-period", "0.2", "--push-window", "0"]
        async with _serving(*push):
            with trio.fail_after(20):
                await got.wait()
        nursery.cancel_scope.cancel()
    hes = SecurityContext(
        system_title=bytes.fromhex("4845530000000002"),
        global_unicast_key=DEFAULT_EK,
        authentication_key=DEFAULT_AK,
    )
    note = decode_apdu(hes.unprotect(received[0].apdu))
    assert isinstance(note, DataNotification)
    assert note.date_time is not None
    pushed = note.date_time.to_datetime(sign=DeviationSign.UTC_TO_LOCAL)
    assert pushed == dt.datetime.fromisoformat(NOW.replace("Z", "+00:00"))


async def test_serve_pushes_hdlc_ui_frames() -> None:
    apdus: list[bytes] = []
    got = trio.Event()

    async def handler(stream: trio.SocketStream) -> None:
        link = HdlcConnection(
            HdlcRole.CLIENT, server_address=HdlcAddress.server(1), client_address=0x40
        )
        async for chunk in stream:
            link.receive_data(chunk)
            while isinstance(event := link.next_event(), ApduReceived):
                assert event.unnumbered
                apdus.append(event.apdu)
                got.set()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(trio.serve_tcp, handler, 0))
        hes_port = listeners[0].socket.getsockname()[1]
        push = [
            "--push-to", f"127.0.0.1:{hes_port}", "--push-transport", "hdlc",
            "--push-period", "0.2", "--push-window", "0",
        ]  # fmt: skip
        async with _serving(*push):
            with trio.fail_after(20):
                await got.wait()
        nursery.cancel_scope.cancel()
    hes = SecurityContext(
        system_title=bytes.fromhex("4845530000000002"),
        global_unicast_key=DEFAULT_EK,
        authentication_key=DEFAULT_AK,
    )
    note = decode_apdu(hes.unprotect(apdus[0]))
    assert isinstance(note, DataNotification)


async def test_fleet_serves_every_meter_on_its_own_address() -> None:
    args = ["--meters", "3", "--seed", "5", "--no-print-plan", "--hls-mechanism", "5"]
    async with _serving(*args, command="fleet") as where:
        port = int(where)
        for number in (2, 0):
            transport = await open_tcp_wrapper(f"127.1.0.{number}", port)
            when = await _read_clock(transport)
            await transport.aclose()
            assert when == dt.datetime.fromisoformat(NOW.replace("Z", "+00:00"))


def test_truth_for_the_whole_fleet_with_a_faults_file(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(
        'seed = 1\n[[interval]]\nkind = "missing"\nmeters = 1.0\nper_day = 1.0\nlength = 3\n'
        '[[meter]]\nkind = "slow_response"\nmeters = 0.5\nvalue = 2.0\n'
    )
    faults = tmp_path / "faults.csv"
    out = _run(
        "truth", "--meters", "3", "--all-meters", "--start", "2026-05-01T00:00:00Z",
        "--end", "2026-05-02T00:00:00Z", "--no-daily", "--fault-plan", str(plan_file),
        "--faults-csv", str(faults),
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(out)))[1:]
    assert {r[0] for r in rows} == {"SIM12345678", "SIM12345679", "SIM12345680"}
    missing = [r for r in rows if r[5] == "missing"]
    assert missing and all(r[3] == "" for r in missing)
    records = list(csv.reader(io.StringIO(faults.read_text())))
    assert records[0] == ["meter", "kind", "start", "end", "value"]
    kinds = {r[1] for r in records[1:]}
    assert "missing" in kinds
    fault_starts = {(r[0], r[2]) for r in records[1:] if r[1] == "missing"}
    row_starts = {(r[0], r[2]) for r in missing}
    # every missing event starting inside the range is a missing row at its start
    inside = {(m, t) for m, t in fault_starts if "2026-05-01" <= t < "2026-05-02"}
    assert inside and inside <= row_starts
    assert any(r[1] == "slow_response" for r in records[1:])


def test_truth_needs_a_meter() -> None:
    done = subprocess.run(
        [CLI, "truth", "--start", "2026-05-01", "--end", "2026-05-02"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2


def test_a_bad_fault_plan_is_a_usage_error(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text('[[interval]]\nkind = "earthquake"\nmeters = 0.1\n')
    done = subprocess.run(
        [CLI, "truth", "--meter", "0", "--start", "2026-05-01", "--end", "2026-05-02",
         "--fault-plan", str(plan_file)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "earthquake" in done.stderr


async def test_truth_knows_a_disconnection_from_the_control_log(tmp_path: Path) -> None:
    log = tmp_path / "control.jsonl"
    async with _serving("--control-log", str(log)) as where:
        transport = await open_tcp_wrapper("127.0.0.1", int(where), client_wport=0x30)
        client = ClientAssociation(
            _ciphered(MechanismName.HIGH, hls=HlsSecret(secret=DEFAULT_HLS_SECRET))
        )

        async def exchange() -> Event:
            while True:  # HLS pass 3 goes out after the AARE
                for apdu in client.data_to_send():
                    await transport.send_apdu(apdu)
                event = client.next_event()
                if event is not NEED_DATA and not isinstance(event, type(NEED_DATA)):
                    return event
                client.receive_apdu(await transport.receive_apdu())

        with trio.fail_after(10):
            client.associate()
            assert isinstance(await exchange(), AssociationAccepted)
            client.action(_method(70, "0.0.96.3.10.255", 1), Integer(0))
            done = await exchange()
        await transport.aclose()
    assert isinstance(done, ActionCompleted) and done.result is ActionResult.SUCCESS
    (record,) = [json.loads(line) for line in log.read_text().splitlines()]
    when = dt.datetime.fromisoformat(NOW.replace("Z", "+00:00"))
    assert record["relay_open"] == [[when.isoformat(), None]]

    window = ["--meters", "1", "--meter", "0", "--no-daily"]
    window += ["--start", "2026-05-20T07:00:00Z", "--end", "2026-05-20T09:30:00Z"]
    switched = list(csv.DictReader(io.StringIO(_run("truth", *window, "--control-log", str(log)))))
    blind = list(csv.DictReader(io.StringIO(_run("truth", *window))))
    energy = "1.0.1.29.0.255"

    def imports(rows: list[dict[str, str]], after: bool) -> list[float]:
        return [
            float(r["value"])
            for r in rows
            if r["obis"] == energy and (r["start"] >= NOW) is after and r["value"]
        ]

    assert imports(switched, after=False) == imports(blind, after=False)
    assert any(imports(blind, after=True))
    assert imports(switched, after=True) == [0.0] * len(imports(blind, after=True))
