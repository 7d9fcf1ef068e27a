"""The ``dlmskit`` command run as a user runs it, in a subprocess: decode and encode,
errors without tracebacks, and the meter commands against a meter on loopback."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dlmskit.apdu import (
    CosemAttributeDescriptor,
    DataNotification,
    EventNotificationRequest,
    LongInvokeIdAndPriority,
)
from dlmskit.axdr import DoubleLongUnsigned, Structure
from dlmskit.cosem import CosemObjectTree
from dlmskit.security import CipheringForm, SecurityContext
from dlmskit.testing import MeterEndpoint, demo_meter, serve_wrapper
from transports import open_tcp_wrapper

DLMSKIT = str(Path(sys.executable).with_name("dlmskit"))
NOW = dt.datetime(2024, 1, 2, 0, 7, 30, tzinfo=dt.UTC)
EK = bytes(range(16)).hex()
AK = bytes(range(0xD0, 0xE0)).hex()
METER_ST = bytes.fromhex("4D4D4D0000BC614E")
GET_CLOCK = "C001C100080000010000FF0200"
WRAPPED = "000100100001000D" + GET_CLOCK
SNRM = "7EA0070321930F017E"
# glo-get-request of the Green Book example (dlms-facts 3.4): clock time, IC 0x01234567
GLO_GET = "C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DLMSKIT, *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_decode_prints_a_tree_with_obis_names() -> None:
    result = run("decode", WRAPPED)
    assert result.returncode == 0, result.stderr
    assert "wrapper PDU (21 octets)" in result.stdout
    assert "GetRequestNormal" in result.stdout
    assert "0.0.1.0.0.255" in result.stdout and "Clock" in result.stdout
    hdlc = run("decode", SNRM)
    assert "HDLC frame" in hdlc.stdout and "SNRM" in hdlc.stdout


def test_decode_reads_stdin_and_bare_data() -> None:
    result = run("decode", stdin="02 02 0F FF 16 1E\n")
    assert result.returncode == 0, result.stderr
    assert "A-XDR data" in result.stdout and "scaler_unit: 10^-1 Wh" in result.stdout


@pytest.mark.parametrize("frame", [WRAPPED, SNRM, GLO_GET, "02020FFF161E"])
def test_encode_of_decode_json_gives_the_same_bytes(frame: str) -> None:
    decoded = run("decode", "--json", frame)
    assert decoded.returncode == 0, decoded.stderr
    json.loads(decoded.stdout)
    encoded = run("encode", stdin=decoded.stdout)
    assert encoded.returncode == 0, encoded.stderr
    assert encoded.stdout.strip() == frame.upper()


def test_decode_deciphers_with_keys() -> None:
    title = "4D4D4D0000BC614E"
    result = run(
        "decode",
        GLO_GET,
        "--ek",
        bytes.fromhex("000102030405060708090A0B0C0D0E0F").hex(),
        "--ak",
        "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF",
        "--system-title",
        title,
    )
    assert result.returncode == 0, result.stderr
    assert "deciphered" in result.stdout and "GetRequestNormal" in result.stdout


def test_wrong_key_says_authentication_tag_mismatch(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"ek": EK, "ak": "00" * 16, "system_title": "4D4D4D0000BC614E"}))
    result = run("decode", GLO_GET, "--keys", str(keys))
    assert result.returncode == 3
    assert "authentication tag mismatch" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("garbage", "where"),
    [
        ("C001C1000800000100", "offset 5"),
        ("7EA0070321930F01", "offset"),
        ("8F00", "offset 0"),
        ("FF00", "offset 1"),
        ("0001001000010020C001", "offset 6"),
    ],
)
def test_garbage_says_where_and_why_it_stopped(garbage: str, where: str) -> None:
    result = run("decode", garbage)
    assert result.returncode == 2
    assert "cannot decode" in result.stderr and where in result.stderr
    assert "[" in result.stderr  # the octet where it stopped is marked
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_input_never_gives_a_traceback() -> None:
    for args, stdin in (
        (("decode", "XYZ"), None),
        (("decode",), ""),
        (("encode",), "not json"),
        (("encode",), '{"kind": "apdu", "apdu": {"$": "NoSuchApdu"}}'),
        (("encode",), '{"kind": "wrapper", "source": 1}'),
    ):
        result = run(*args, stdin=stdin)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("error:") or "cannot" in result.stderr
        assert "Traceback" not in result.stderr


@pytest.fixture
def endpoint() -> MeterEndpoint[CosemObjectTree]:
    return demo_meter(now=lambda: NOW)


@pytest.fixture
async def target(
    endpoint: MeterEndpoint[CosemObjectTree], nursery: trio.Nursery
) -> AsyncIterator[str]:
    port = await nursery.start(serve_wrapper, endpoint)
    yield f"tcp://127.0.0.1:{port}"


async def arun(*args: str) -> subprocess.CompletedProcess[bytes]:
    return await trio.run_process(
        [DLMSKIT, *args], capture_stdout=True, capture_stderr=True, check=False
    )


async def test_read_objects_clock_and_disconnect_against_a_meter(target: str) -> None:
    read = await arun("read", target, "-a", "settings", "1.0.12.7.0.255", "1/0.0.96.1.0.255/2")
    assert read.returncode == 0, read.stderr
    out = read.stdout.decode()
    assert "1.0.12.7.0.255" in out and " V" in out
    objects = await arun("objects", target)
    assert objects.returncode == 0, objects.stderr
    assert "0.0.1.0.0.255" in objects.stdout.decode() and "objects" in objects.stdout.decode()
    clock = await arun("clock", target)
    assert clock.returncode == 0, clock.stderr
    assert "2024-01-02T05:37:30+05:30" in clock.stdout.decode()
    # a second process starts its invocation counter at 0 again: the meter refuses it
    stale = await arun("clock", target, "-a", "settings")
    assert stale.returncode == 1 and b"frame-counter pattern" in stale.stderr
    relay = await arun("disconnect", target, "-a", "settings", "--frame-counter")
    assert relay.returncode == 0, relay.stderr
    assert "relay: disconnected" in relay.stdout.decode()


async def test_profile_table_and_csv(target: str) -> None:
    result = await arun(
        "profile",
        target,
        "-a",
        "reader",
        "--from",
        "2024-01-01T03:00+05:30",
        "--to",
        "2024-01-01T04:00+05:30",
        "--csv",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().strip().splitlines()
    assert len(lines) == 1 + 4  # header and 03:00, 03:15, 03:45, 04:00
    assert lines[1].startswith("2024-01-01T03:00:00+05:30") and " V" in lines[1]


async def test_meter_errors_are_one_sentence(
    endpoint: MeterEndpoint[CosemObjectTree], target: str
) -> None:
    refused = await arun("clock", target, "-a", "reader", "--password", "wrong")
    assert refused.returncode == 1
    assert b"authentication-failure" in refused.stderr and b"Traceback" not in refused.stderr
    denied = await arun("read", target, "7/1.0.99.1.0.255/2")
    assert denied.returncode == 1 and b"object-undefined" in denied.stderr
    endpoint.silent = True
    timeout = await arun("clock", target, "--timeout", "0.3", "--retries", "0")
    assert timeout.returncode == 1
    assert b"timeout: no AARE" in timeout.stderr and b"Traceback" not in timeout.stderr


async def test_listen_prints_deciphered_pushes(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps([{"ek": EK, "ak": AK, "system_title": METER_ST.hex()}]))
    async with trio.open_nursery() as nursery:
        process = await nursery.start(
            lambda task_status: trio.run_process(
                [
                    DLMSKIT,
                    "listen",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--udp-port",
                    "-1",
                    "--keys",
                    str(keys),
                    "--count",
                    "1",
                    "--json",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                check=False,
                task_status=task_status,
            )
        )
        assert process.stderr is not None and process.stdout is not None
        banner = b""
        with trio.fail_after(20):
            while b"\n" not in banner:
                banner += await process.stderr.receive_some(256)
        port = int(banner.split(b"tcp ")[1].split(b",")[0])
        meter = SecurityContext(
            system_title=METER_ST,
            global_unicast_key=bytes.fromhex(EK),
            authentication_key=bytes.fromhex(AK),
        )
        push = DataNotification(
            long_invoke_id_and_priority=LongInvokeIdAndPriority(invoke_id=7),
            notification_body=Structure((DoubleLongUnsigned(4242),)),
        ).to_bytes()
        link = await open_tcp_wrapper("127.0.0.1", port, client_wport=1, server_wport=0x40)
        await link.send_apdu(meter.protect(push, form=CipheringForm.GENERAL_GLO))
        output = b""
        with trio.fail_after(20):
            while b"\n" not in output:
                output += await process.stdout.receive_some(4096)
        await link.aclose()
    record = json.loads(output.decode().splitlines()[0])
    assert record["system_title"] == METER_ST.hex().upper()
    assert record["transport"] == "tcp" and record["invocation_counter"] == 0
    body = record["notification"]["notification_body"]["items"][0]
    assert body == {"$": "DoubleLongUnsigned", "value": 4242}


async def test_listen_ties_unnamed_and_signed_pushes_by_the_keys_file(tmp_path: Path) -> None:
    """A glo-event-notification names no sender: the keys file's wPort names the meter; a
    signed push is verified with the public key the keys file gives."""
    private = ec.generate_private_key(ec.SECP256R1())
    point = private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    keys = tmp_path / "keys.json"
    entry = {
        "ek": EK,
        "ak": AK,
        "system_title": METER_ST.hex(),
        "name": "meter-7",
        "wport": 0x11,
        "signing_key": point.hex(),
    }
    keys.write_text(json.dumps([entry]))
    meter = SecurityContext(
        system_title=METER_ST,
        global_unicast_key=bytes.fromhex(EK),
        authentication_key=bytes.fromhex(AK),
        signing_key=private,
    )
    event = EventNotificationRequest(
        attribute_descriptor=CosemAttributeDescriptor(
            class_id=1, instance_id="0.0.96.11.0.255", attribute_id=2
        ),
        value=DoubleLongUnsigned(101),
    ).to_bytes()
    push = DataNotification(
        long_invoke_id_and_priority=LongInvokeIdAndPriority(invoke_id=7),
        notification_body=Structure((DoubleLongUnsigned(4242),)),
    ).to_bytes()
    command = [DLMSKIT, "listen", "--host", "127.0.0.1", "--port", "0", "--udp-port", "-1"]
    command += ["--keys", str(keys), "--count", "2", "--json"]
    async with trio.open_nursery() as nursery:
        process = await nursery.start(
            lambda task_status: trio.run_process(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                check=False,
                task_status=task_status,
            )
        )
        assert process.stderr is not None and process.stdout is not None
        banner = b""
        with trio.fail_after(20):
            while b"\n" not in banner:
                banner += await process.stderr.receive_some(256)
        port = int(banner.split(b"tcp ")[1].split(b",")[0])
        link = await open_tcp_wrapper("127.0.0.1", port, client_wport=0x11, server_wport=0x40)
        await link.send_apdu(meter.protect(event))  # 0xCA: no system title
        await link.send_apdu(meter.protect_signed(push, form=CipheringForm.GENERAL_GLO))
        output = b""
        with trio.fail_after(20):
            while output.count(b"\n") < 2:
                output += await process.stdout.receive_some(4096)
        await link.aclose()
    first, second = (json.loads(line) for line in output.decode().splitlines()[:2])
    assert (first["meter"], first["system_title"]) == ("meter-7", METER_ST.hex().upper())
    assert first["notification"]["$"] == "EventNotificationRequest"
    assert first["invocation_counter"] == 0
    assert (second["meter"], second["invocation_counter"]) == ("meter-7", 1)
    assert second["notification"]["notification_body"]["items"][0]["value"] == 4242
