"""The ``dlmskit`` command: translate frames, and read, set and listen to meters.

Every failure ends in one plain sentence on stderr and a non-zero exit status, never a
traceback: 1 for a meter or link error, 2 for input that cannot be decoded or built.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs
import click
import trio
from cryptography.hazmat.primitives.asymmetric import ec
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

import obis
from dlmskit.client._association import Association
from dlmskit.client._connect import connect
from dlmskit.client._errors import MeterTimeout
from dlmskit.client._frame_counter import with_frame_counter
from dlmskit.client._link import LinkSettings, parse_target
from dlmskit.client._listen import MeterKeys, listen
from dlmskit.client._meter import Meter
from dlmskit.client._render import description_tree, format_value, hex_excerpt
from dlmskit.client._translate import (
    DecipherKeys,
    TranslateError,
    build,
    describe,
    keys_by_title,
)
from dlmskit.errors import DecodeError, DlmsError
from obis import ObisCode

__all__ = ["main"]

T = TypeVar("T")
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str, status: int) -> None:
    _err.print(f"[red]error:[/] {message}", markup=True)
    raise SystemExit(status)


def _hex_argument(parts: tuple[str, ...]) -> bytes:
    text = " ".join(parts) if parts else sys.stdin.read()
    cleaned = re.sub(r"(0x)|[\s:,\-]", "", text, flags=re.IGNORECASE)
    if not cleaned:
        _fail("no hex given (pass it as an argument or on stdin)", 2)
    if len(cleaned) % 2 or re.search(r"[^0-9A-Fa-f]", cleaned):
        bad = re.search(r"[^0-9A-Fa-f]", cleaned)
        where = f" at character {bad.start()}" if bad else " (odd number of digits)"
        _fail(f"not hexadecimal{where}", 2)
    return bytes.fromhex(cleaned)


def _key(value: str | None, name: str) -> bytes | None:
    if value is None:
        return None
    try:
        key = bytes.fromhex(value)
    except ValueError:
        _fail(f"{name} is not hexadecimal", 2)
        raise
    if len(key) not in (16, 32):
        _fail(f"{name} must be 16 or 32 octets, got {len(key)}", 2)
    return key


def _title(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        title = bytes.fromhex(value)
    except ValueError:
        title = b""
    if len(title) != 8:
        _fail("a system title is 8 octets in hex (16 digits)", 2)
    return title


def _keys_file(path: str) -> dict[bytes | None, DecipherKeys]:
    """``{"ek": .., "ak": .., "system_title": ..}`` or a list of those."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _fail(f"cannot read keys file {path}: {exc}", 2)
        raise
    entries = raw if isinstance(raw, list) else [raw]
    found: dict[bytes | None, DecipherKeys] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            _fail(f"keys file {path}: each entry is an object", 2)
        title = _title(entry.get("system_title"))
        found[title] = DecipherKeys(
            encryption_key=_key(entry.get("ek"), "ek"),
            authentication_key=_key(entry.get("ak"), "ak"),
            system_title=title,
        )
    return found


@click.group()
@click.version_option(package_name="dlmskit")
def main() -> None:
    """DLMS/COSEM tools: translate frames, read meters, receive pushes."""


# -- translator ------------------------------------------------------------------------


@main.command("decode")
@click.argument("hex_parts", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option("--ek", help="Global unicast encryption key (hex) to decipher with.")
@click.option("--ak", help="Authentication key (hex).")
@click.option("--system-title", help="Sender system title (hex), for glo-/ded- APDUs.")
@click.option("--keys", "keys_path", type=click.Path(), help="JSON file of keys.")
def decode_command(
    hex_parts: tuple[str, ...],
    as_json: bool,
    ek: str | None,
    ak: str | None,
    system_title: str | None,
    keys_path: str | None,
) -> None:
    """Decode an HDLC frame, wrapper PDU, APDU or A-XDR value given in hex (or on stdin)."""
    data = _hex_argument(hex_parts)
    entries: dict[bytes | None, DecipherKeys] = {}
    if keys_path:
        entries.update(_keys_file(keys_path))
    title = _title(system_title)
    if ek or ak:
        entries[None] = DecipherKeys(
            encryption_key=_key(ek, "--ek"), authentication_key=_key(ak, "--ak"), system_title=title
        )
    elif title is not None and title in entries:
        entries[None] = entries[title]  # the sender of a glo-/ded- APDU
    lookup = keys_by_title(entries) if entries else None
    try:
        description = describe(data, lookup)
    except DecodeError as error:
        _err.print(f"[red]cannot decode:[/] {error.reason}", markup=True)
        _err.print(f"stopped at offset {error.offset} of {len(data)}", markup=False)
        if error.expected:
            _err.print(f"expected: {error.expected}", markup=False)
        _err.print(hex_excerpt(data, error.offset), markup=False)
        raise SystemExit(2) from None
    if as_json:
        click.echo(json.dumps(description, indent=1))
    else:
        _out.print(description_tree(description, len(data)))
    problem = _decipher_problem(description)
    if problem:
        _err.print(f"[red]error:[/] {problem}", markup=True)
        raise SystemExit(3)


def _decipher_problem(node: Any) -> str | None:
    if isinstance(node, dict):
        deciphered = node.get("deciphered")
        if isinstance(deciphered, dict) and "_error" in deciphered:
            return str(deciphered["_error"])
        for value in node.values():
            found = _decipher_problem(value)
            if found:
                return found
    return None


@main.command("encode")
@click.argument("source", type=click.File("r"), default="-")
def encode_command(source: Any) -> None:
    """Build the bytes described by the JSON of ``decode --json`` (file or stdin)."""
    try:
        description = json.load(source)
    except (ValueError, RecursionError) as exc:
        _fail(f"not JSON: {exc}", 2)
    if not isinstance(description, dict):
        _fail("expected the JSON object printed by 'dlmskit decode --json'", 2)
    try:
        data = build(description)
    except TranslateError as error:
        _fail(str(error), 2)
        raise
    click.echo(data.hex().upper())


# -- meters ----------------------------------------------------------------------------


def _meter_options(function: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("target"),
        click.option(
            "-a",
            "--association",
            "preset",
            default="public",
            show_default=True,
            help="public, reader, settings, firmware or push (IS 15959-2 presets).",
        ),
        click.option("--password", help="LLS password (meter reader)."),
        click.option("--hls-secret", help="HLS secret (utility settings, firmware)."),
        click.option("--ek", help="Global unicast encryption key (hex)."),
        click.option("--ak", help="Authentication key (hex)."),
        click.option("--client-title", help="Our system title (hex)."),
        click.option(
            "--server-title", help="The meter's system title (hex; pre-established push)."
        ),
        click.option("--server-sap", type=int, default=1, show_default=True),
        click.option("--timeout", type=float, help="Response timeout in seconds."),
        click.option("--retries", type=int, help="Retries of the link and of lost datagrams."),
        click.option(
            "--frame-counter/--no-frame-counter",
            default=False,
            help="Read our invocation counter from the meter first (public client).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _association(options: dict[str, Any]) -> tuple[Association, LinkSettings]:
    changes: dict[str, Any] = {"server_sap": options["server_sap"]}
    if options["password"] is not None:
        changes["password"] = options["password"].encode()
    if options["hls_secret"] is not None:
        changes["hls_secret"] = options["hls_secret"].encode()
    if options["ek"] is not None:
        changes["encryption_key"] = _key(options["ek"], "--ek")
    if options["ak"] is not None:
        changes["authentication_key"] = _key(options["ak"], "--ak")
    if options["client_title"] is not None:
        changes["system_title"] = _title(options["client_title"])
    if options["server_title"] is not None:
        changes["server_system_title"] = _title(options["server_title"])
    try:
        association = Association.preset(options["preset"], **changes)
        link = LinkSettings.for_scheme(parse_target(options["target"]).scheme)
    except (ValueError, DlmsError) as exc:
        _fail(str(exc), 2)
        raise
    if options["timeout"] is not None:
        link = LinkSettings(
            connect_timeout=options["timeout"],
            response_timeout=options["timeout"],
            release_timeout=min(options["timeout"], link.release_timeout),
            retries=link.retries,
        )
    if options["retries"] is not None:
        link = LinkSettings(
            connect_timeout=link.connect_timeout,
            response_timeout=link.response_timeout,
            release_timeout=link.release_timeout,
            retries=options["retries"],
        )
    return association, link


def _run_with_meter(options: dict[str, Any], work: Callable[[Meter], Awaitable[T]]) -> T:
    association, link = _association(options)

    async def run() -> T:
        chosen = association
        if options["frame_counter"]:
            chosen = await with_frame_counter(options["target"], association, link=link)
        async with connect(options["target"], association=chosen, link=link) as meter:
            return await work(meter)

    try:
        return trio.run(run)
    except MeterTimeout as error:
        _fail(f"timeout: {error}", 1)
    except DlmsError as error:
        _fail(str(error), 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    raise AssertionError("unreachable")


def _reference(text: str, class_id: int, attribute: int) -> tuple[int, ObisCode, int]:
    parts = text.split("/")
    try:
        if len(parts) == 3:
            return int(parts[0]), ObisCode.parse(parts[1]), int(parts[2])
        if len(parts) == 1:
            return class_id, ObisCode.parse(parts[0]), attribute
    except ValueError as exc:
        _fail(f"bad reference {text!r}: {exc}", 2)
    _fail(f"bad reference {text!r}: give OBIS or CLASS/OBIS/ATTRIBUTE", 2)
    raise AssertionError("unreachable")


@main.command("read")
@_meter_options
@click.argument("references", nargs=-1, required=True)
@click.option("--class", "class_id", type=int, default=3, show_default=True)
@click.option("--attribute", type=int, default=2, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def read_command(
    references: tuple[str, ...], class_id: int, attribute: int, as_json: bool, **options: Any
) -> None:
    """Read attributes: OBIS (with --class/--attribute) or CLASS/OBIS/ATTRIBUTE.
    Register values come scaled, with their unit; date-times as ISO dates."""
    refs = [_reference(text, class_id, attribute) for text in references]

    async def work(meter: Meter) -> list[tuple[str, str]]:
        rows = []
        for cid, code, index in refs:
            label = f"{cid}/{code}/{index}"
            try:
                rows.append((label, format_value(await meter.read(cid, code, index))))
            except DlmsError as error:
                if len(refs) == 1:
                    raise
                rows.append((label, f"error: {error}"))
        return rows

    rows = _run_with_meter(options, work)
    if as_json:
        click.echo(json.dumps(dict(rows), indent=1))
        return
    table = Table("attribute", "name", "value")
    for label, value in rows:
        table.add_row(label, obis.describe(ObisCode.parse(label.split("/")[1])), value)
    _out.print(table)


def _when(text: str) -> _dt.datetime:
    try:
        moment = _dt.datetime.fromisoformat(text)
    except ValueError:
        _fail(f"not an ISO date-time: {text!r}", 2)
        raise
    return moment


@main.command("profile")
@_meter_options
@click.argument("logical_name", default="1.0.99.1.0.255")
@click.option("--from", "start", help="Start (ISO date-time, meter's local time if naive).")
@click.option("--to", "end", help="End (ISO date-time).")
@click.option("--last", type=int, help="Only the last N entries.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
def profile_command(
    logical_name: str,
    start: str | None,
    end: str | None,
    last: int | None,
    as_csv: bool,
    **options: Any,
) -> None:
    """Read a profile's rows (block load by default), one day per request."""
    code = _reference(logical_name, 7, 2)[1]

    async def work(meter: Meter) -> tuple[list[str], list[list[str]]]:
        columns = await meter.profile_columns(code)
        header = [c.name for c in columns]
        rows: list[list[str]] = []
        if start or end:
            first = _when(start) if start else _when(end or "") - _dt.timedelta(days=1)
            final = _when(end) if end else first + _dt.timedelta(days=1)
            days = max(1, -(-int((final - first).total_seconds()) // 86400))
            with Progress(console=_err, transient=True) as progress:
                task = progress.add_task("reading", total=days)
                chunk_start = first
                while chunk_start <= final:
                    chunk_end = min(final, chunk_start + _dt.timedelta(days=1))
                    for row in await meter.read_profile(code, chunk_start, chunk_end):
                        if rows and row.time is not None and chunk_start == row.time:
                            continue  # the bound is in both chunks
                        rows.append([format_value(v) for v in row.values])
                    progress.advance(task)
                    chunk_start = chunk_end
                    if chunk_end == final:
                        break
        else:
            count = await meter.get(7, code, 7)
            total = int(count) if isinstance(count, int) else 0
            first_entry = max(1, total - last + 1) if last else 1
            for row in await meter.read_profile(code, entries=(first_entry, 0)):
                rows.append([format_value(v) for v in row.values])
        return header, rows

    header, rows = _run_with_meter(options, work)
    if as_csv:
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(header)
        writer.writerows(rows)
        return
    table = Table(*header, title=f"{code} {obis.describe(code)} ({len(rows)} rows)")
    for row in rows:
        table.add_row(*row)
    _out.print(table)


@main.command("objects")
@_meter_options
def objects_command(**options: Any) -> None:
    """List the objects the association sees (its object_list)."""
    entries = _run_with_meter(options, lambda meter: meter.object_list())
    table = Table("class", "version", "logical name", "name", title=f"{len(entries)} objects")
    for entry in entries:
        code = entry.logical_name
        table.add_row(str(entry.class_id), str(entry.version), str(code), obis.describe(code))
    _out.print(table)


@main.command("clock")
@_meter_options
@click.option("--sync", is_flag=True, help="Set the meter's clock to our time.")
def clock_command(sync: bool, **options: Any) -> None:
    """Show the meter's clock and its drift; --sync sets it."""

    async def work(meter: Meter) -> tuple[_dt.datetime, _dt.timedelta | None]:
        if sync:
            drift = await meter.sync_clock()
            return await meter.read_clock(), drift
        return await meter.read_clock(), None

    moment, drift = _run_with_meter(options, work)
    _out.print(f"meter clock: {moment.isoformat()}")
    if moment.tzinfo is not None and drift is None:
        drift = moment - _dt.datetime.now(_dt.UTC)
    if drift is not None:
        _out.print(f"drift: {drift.total_seconds():+.1f} s" + (" (before sync)" if sync else ""))


@main.command("disconnect")
@_meter_options
@click.option("--reconnect", is_flag=True, help="Close the relay instead.")
def disconnect_command(reconnect: bool, **options: Any) -> None:
    """Open (or with --reconnect close) the supply relay through disconnect control."""

    async def work(meter: Meter) -> Any:
        if reconnect:
            await meter.reconnect_relay()
        else:
            await meter.disconnect_relay()
        return await meter.get(70, "0.0.96.3.10.255", 3)

    state = _run_with_meter(options, work)
    names = {0: "disconnected", 1: "connected", 2: "ready for reconnection"}
    _out.print(f"relay: {names.get(int(state), str(state))}")


def _public_key(text: object) -> ec.EllipticCurvePublicKey:
    curves = {65: ec.SECP256R1(), 97: ec.SECP384R1()}
    try:
        point = bytes.fromhex(str(text))
        return ec.EllipticCurvePublicKey.from_encoded_point(curves[len(point)], point)
    except (ValueError, KeyError):
        _fail("signing_key is an uncompressed P-256 or P-384 point in hex", 2)
        raise


def _meter_details(path: str, keys: dict[bytes, MeterKeys], peers: dict[str | int, bytes]) -> None:
    """Names, public keys and addresses of the keys file's meters (see ``listen``)."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    for entry in raw if isinstance(raw, list) else [raw]:
        title = _title(entry.get("system_title"))
        if title is None or title not in keys:
            continue
        changes: dict[str, Any] = {}
        if "name" in entry:
            changes["name"] = str(entry["name"])
        if "signing_key" in entry:
            changes["signing_key"] = _public_key(entry["signing_key"])
        if changes:
            keys[title] = attrs.evolve(keys[title], **changes)
        if "address" in entry:
            peers[str(entry["address"])] = title
        if "wport" in entry:
            if not isinstance(entry["wport"], int):
                _fail("wport is a number", 2)
            peers[int(entry["wport"])] = title


@main.command("listen")
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", type=int, default=4059, show_default=True, help="TCP port (-1: off).")
@click.option("--udp-port", type=int, default=4059, show_default=True, help="UDP port (-1: off).")
@click.option("--keys", "keys_path", type=click.Path(), help="JSON file of meter keys.")
@click.option("--allow-plain", is_flag=True, help="Accept unciphered pushes.")
@click.option("--count", type=int, help="Stop after N pushes.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def listen_command(
    host: str,
    port: int,
    udp_port: int,
    keys_path: str | None,
    allow_plain: bool,
    count: int | None,
    as_json: bool,
) -> None:
    """Receive pushes over TCP and UDP; print each, deciphered and tied to its meter.

    The keys file lists meters: ``system_title``, ``ek``, ``ak``, and optionally
    ``name``, ``signing_key`` (the meter's public key, hex X9.62 point) and the
    ``address`` ("host" or "host:port") or ``wport`` its pushes come from, which ties
    pushes that name no sender to it."""
    keys: dict[bytes, MeterKeys] = {}
    peers: dict[str | int, bytes] = {}
    if keys_path:
        for title, entry in _keys_file(keys_path).items():
            if title is None:
                _fail("listen needs a system_title for every key entry", 2)
            else:
                keys[title] = MeterKeys(
                    name=title.hex().upper(),
                    encryption_key=entry.encryption_key,
                    authentication_key=entry.authentication_key,
                )
        _meter_details(keys_path, keys, peers)

    async def run() -> None:
        async with listen(
            keys,
            host=host,
            tcp_port=None if port < 0 else port,
            udp_port=None if udp_port < 0 else udp_port,
            allow_plain=allow_plain,
            peers=peers,
        ) as pushes:
            _err.print(f"listening: tcp {pushes.tcp_port}, udp {pushes.udp_port}", markup=False)
            seen = 0
            async for push in pushes:
                from dlmskit.client._translate import to_json

                if as_json:
                    record = {
                        "meter": push.meter,
                        "system_title": push.system_title.hex().upper()
                        if push.system_title
                        else None,
                        "transport": push.transport,
                        "peer": f"{push.peer.host}:{push.peer.port}",
                        "invocation_counter": push.invocation_counter,
                        "received_at": push.received_at.isoformat(),
                        "notification": to_json(push.notification),
                    }
                    click.echo(json.dumps(record))
                else:
                    who = push.meter or (push.system_title or b"").hex().upper() or "unknown"
                    _out.print(
                        f"{push.received_at.isoformat()} {push.transport} {who}"
                        f" ic={push.invocation_counter}: {type(push.notification).__name__}"
                    )
                sys.stdout.flush()
                seen += 1
                if count is not None and seen >= count:
                    return

    try:
        trio.run(run)
    except DlmsError as error:
        _fail(str(error), 1)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
