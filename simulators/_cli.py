"""``dlmskit-sim``: serve one meter or a fleet, and print what they measured.

Keys and secrets default to the Green Book test keys (EK 000102...0F, AK D0...DF),
the server system title 4D4D4D0000BC614E, the LLS secret ``12345678`` and the HLS
secret ``ABCDEFGHIJKLMNOP`` (mechanism 2, AES-128; ``--hls-mechanism 5`` for GMAC).
``--push-to HOST:PORT`` makes the meters push (instantaneous and block load every
``--push-period`` seconds, alerts) as ciphered data-notifications, over the wrapper on
TCP or UDP or as HDLC UI frames on TCP (``--push-transport``). ``truth`` knows the
fault plan, and with ``--control-log`` (written by ``serve``/``fleet --control-log``)
the relay switching and load limits clients applied.
"""

from __future__ import annotations

import csv
import datetime as _dt
import functools
import gc
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import trio

from dlmskit.apdu import MechanismName
from dlmskit.axdr import DeviationSign
from simulators._faults import FaultPlan
from simulators._fleet import Fleet
from simulators._identity import (
    DEFAULT_AK,
    DEFAULT_EK,
    DEFAULT_HLS_SECRET,
    DEFAULT_LLS_SECRET,
    DEFAULT_SYSTEM_TITLE,
    FIRST_ADDRESS,
    FleetLayout,
    MeterIdentity,
    MeterKeys,
)
from simulators._push import PushConfig, run_pushes
from simulators._serial import open_meter_pty
from simulators._serve import serve_fleet_hdlc, serve_fleet_wrapper
from simulators._state import utc_now
from simulators._supply import SupplyControl
from simulators._truth import injected_faults, meter_truth, truth_json, write_truth_csv
from simulators._udp import serve_fleet_udp

__all__ = ["main"]


def _hex(length: int) -> Callable[[click.Context, click.Parameter, str], bytes]:
    def convert(ctx: click.Context, param: click.Parameter, value: str) -> bytes:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raise click.BadParameter("not hexadecimal") from None
        if len(raw) != length:
            raise click.BadParameter(f"must be {length} bytes")
        return raw

    return convert


def _when(ctx: click.Context, param: click.Parameter, value: str | None) -> _dt.datetime | None:
    if value is None:
        return None
    try:
        when = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("not an ISO 8601 date-time") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=_dt.UTC)


def _keys_options(function: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--ek", default=DEFAULT_EK.hex(), callback=_hex(16), help="Global EK."),
        click.option("--ak", default=DEFAULT_AK.hex(), callback=_hex(16), help="AK."),
        click.option(
            "--key-master",
            help="Hex master key: each meter gets its own EK/AK (listed in the plan).",
        ),
        click.option(
            "--system-title",
            default=DEFAULT_SYSTEM_TITLE.hex(),
            callback=_hex(8),
            help="Server system title (of meter 0).",
        ),
        click.option("--lls-secret", default=DEFAULT_LLS_SECRET.decode(), help="LLS secret."),
        click.option("--hls-secret", default=DEFAULT_HLS_SECRET.decode(), help="HLS secret."),
        click.option("--hls-mechanism", type=click.Choice(["2", "5"]), default="2"),
        click.option(
            "--deviation-sign",
            type=click.Choice([s.value for s in DeviationSign]),
            default=DeviationSign.UTC_TO_LOCAL.value,
            help="How date-times sign the deviation (IST: +330 or -330).",
        ),
        click.option("--now", callback=_when, help="Freeze the meters' clock (ISO 8601)."),
        click.option(
            "--clock-start", callback=_when, help="Run the meters' clock from this instant."
        ),
        click.option("--fault-plan", type=click.Path(exists=True, dir_okay=False)),
        click.option(
            "--control-log",
            type=click.Path(dir_okay=False),
            help="Append each meter's relay switching and load limits (JSON lines) for"
            " `truth --control-log`.",
        ),
        click.option("--push-to", help="Push to this HOST:PORT (head-end)."),
        click.option("--push-transport", type=click.Choice(["tcp", "udp", "hdlc"]), default="tcp"),
        click.option("--push-period", type=float, default=900.0, show_default=True),
        click.option(
            "--push-window",
            type=float,
            default=60.0,
            show_default=True,
            help="Randomisation interval of the pushes (s).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _keys(options: dict[str, Any]) -> MeterKeys:
    return MeterKeys(
        ek=options["ek"],
        ak=options["ak"],
        lls_secret=options["lls_secret"].encode(),
        hls_secret=options["hls_secret"].encode(),
        hls_mechanism=MechanismName(int(options["hls_mechanism"])),
    )


def _master(text: str | None) -> bytes | None:
    if not text:
        return None
    try:
        master = bytes.fromhex(text)
    except ValueError:
        raise click.BadParameter("not hexadecimal", param_hint="--key-master") from None
    if len(master) < 16:
        raise click.BadParameter("at least 16 bytes", param_hint="--key-master")
    return master


def _plan(path: str | None) -> FaultPlan:
    if not path:
        return FaultPlan()
    try:
        return FaultPlan.load(path)
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(str(exc), param_hint="--fault-plan") from None


def _frozen(now: _dt.datetime) -> _dt.datetime:
    return now


def _running(offset: _dt.timedelta) -> _dt.datetime:
    return utc_now() + offset


def _fleet(layout: FleetLayout, options: dict[str, Any]) -> Fleet:
    now: _dt.datetime | None = options["now"]
    start: _dt.datetime | None = options["clock_start"]
    plan_path = options["fault_plan"]
    clock: Callable[[], _dt.datetime] = utc_now
    if now is not None:
        clock = functools.partial(_frozen, now)
    elif start is not None:
        clock = functools.partial(_running, start - utc_now())
    return Fleet(
        layout,
        keys=_keys(options),
        plan=_plan(plan_path),
        clock=clock,
        sign=DeviationSign(options["deviation_sign"]),
        key_master=_master(options["key_master"]),
        control_log=None if not options["control_log"] else _log_to(options["control_log"]),
    )


def _log_to(path: str) -> Callable[[MeterIdentity, SupplyControl], None]:
    def log(identity: MeterIdentity, control: SupplyControl) -> None:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"meter": identity.name, **control.to_json()}) + "\n")

    return log


def _controls(path: str | None) -> dict[str, SupplyControl]:
    """The last supply control logged for each meter (``--control-log``)."""
    if not path:
        return {}
    found: dict[str, SupplyControl] = {}
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                found[str(record["meter"])] = SupplyControl.from_json(record)
            except (ValueError, KeyError, TypeError) as exc:
                raise click.BadParameter(
                    f"line {number}: {exc}", param_hint="--control-log"
                ) from None
    return found


def _push_config(options: dict[str, Any]) -> PushConfig | None:
    target: str | None = options["push_to"]
    if not target:
        return None
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("expected HOST:PORT", param_hint="--push-to")
    return PushConfig(
        host=host,
        port=int(port),
        transport=options["push_transport"],
        period=options["push_period"],
        randomisation=options["push_window"],
    )


def _tune_collector() -> None:
    """A serving fleet process makes many short-lived objects per session: the cycle
    collector's young generation is scanned every 20,000 allocations rather than 700,
    and the fleet built so far is left out of its scans (this process only serves)."""
    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(max(20_000, threshold[0]), threshold[1], threshold[2])


async def _serve(
    fleet: Fleet,
    host: str | None,
    port: int,
    framing: str,
    transport: str,
    push: PushConfig | None = None,
) -> None:
    _tune_collector()
    async with trio.open_nursery() as nursery:
        if push is not None:
            await nursery.start(run_pushes, fleet, push)
        if transport == "udp":
            if framing != "wrapper":
                raise click.UsageError("UDP carries the wrapper only")
            bound = await nursery.start(functools.partial(serve_fleet_udp, fleet, port, host=host))
            ports = sorted({p for _, p in bound})
        else:
            serve = serve_fleet_wrapper if framing == "wrapper" else serve_fleet_hdlc
            listeners = await nursery.start(functools.partial(serve, fleet, port, host=host))
            ports = sorted({listener.socket.getsockname()[1] for listener in listeners})
        click.echo(f"listening {transport} {framing} port {','.join(map(str, ports))}")
        sys.stdout.flush()


@click.group()
def main() -> None:
    """Simulated IS 15959-2 smart meters (dlmskit)."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=4059, show_default=True, type=int)
@click.option("--framing", type=click.Choice(["wrapper", "hdlc"]), default="wrapper")
@click.option("--transport", type=click.Choice(["tcp", "udp", "pty"]), default="tcp")
@click.option("--optical", is_flag=True, help="pty: answer the mode E sign-on first.")
@click.option("--seed", default=0, type=int, show_default=True)
@_keys_options
def serve(
    host: str,
    port: int,
    framing: str,
    transport: str,
    optical: bool,
    seed: int,
    **options: Any,
) -> None:
    """Serve one meter (on TCP, UDP, or HDLC on a new pseudo-terminal)."""
    layout = FleetLayout(seed=seed, meters=1, first_host=host, system_title=options["system_title"])
    fleet = _fleet(layout, options)
    ident = fleet.identity(0)
    click.echo(f"meter {ident.name} system title {ident.system_title.hex().upper()}")
    if transport == "pty":
        trio.run(_serve_pty, fleet, optical)
        return
    trio.run(_serve, fleet, host, port, framing, transport, _push_config(options))


async def _serve_pty(fleet: Fleet, optical: bool) -> None:
    async with open_meter_pty(fleet, 0, optical=optical) as device:
        click.echo(f"listening pty hdlc device {device}")
        sys.stdout.flush()
        await trio.sleep_forever()


@main.command()
@click.option("--meters", default=10, type=int, show_default=True)
@click.option("--seed", default=0, type=int, show_default=True)
@click.option("--first-host", default=str(FIRST_ADDRESS), show_default=True)
@click.option("--port", default=4059, show_default=True, type=int)
@click.option("--framing", type=click.Choice(["wrapper", "hdlc"]), default="wrapper")
@click.option("--transport", type=click.Choice(["tcp", "udp"]), default="tcp")
@click.option("--plan-out", type=click.Path(dir_okay=False), help="Write the address plan.")
@click.option("--print-plan/--no-print-plan", default=True)
@click.option("--serve/--no-serve", "run", default=True, help="Only print the plan.")
@_keys_options
def fleet(
    meters: int,
    seed: int,
    first_host: str,
    port: int,
    framing: str,
    transport: str,
    plan_out: str | None,
    print_plan: bool,
    run: bool,
    **options: Any,
) -> None:
    """Serve N meters, one loopback address each, from one listening socket."""
    layout = FleetLayout(
        seed=seed, meters=meters, first_host=first_host, system_title=options["system_title"]
    )
    the_fleet = _fleet(layout, options)
    plan = the_fleet.address_plan(port)
    if plan_out:
        Path(plan_out).write_text(json.dumps(plan, indent=1), encoding="utf-8")
    if print_plan:
        for entry in plan:
            click.echo(
                f"{entry['meter']} {entry['host']}:{port} {entry['system_title']}"
                f" {entry['model']} {entry['kind']} cell={entry['cell']}"
                f" feeder={entry['feeder']} network={entry['network']}"
            )
    if run:
        # one wildcard socket (IPv4: the meters live on 127.x.y.z); meters are told apart
        # by the address each client dialled
        host = "0.0.0.0" if transport == "tcp" else None
        trio.run(_serve, the_fleet, host, port, framing, transport, _push_config(options))


def _number(which: str, meters: int, system_title: bytes) -> int:
    if which.isdigit():
        number = int(which)
    else:
        serial = int(which.removeprefix("SIM")) if which.removeprefix("SIM").isdigit() else -1
        number = serial - int.from_bytes(system_title[5:], "big")
    if not 0 <= number < meters:
        raise click.BadParameter(f"no meter {which} in a fleet of {meters}", param_hint="--meter")
    return number


@main.command()
@click.option("--meters", default=10, type=int, show_default=True)
@click.option("--seed", default=0, type=int, show_default=True)
@click.option("--meter", "which", multiple=True, help="Meter name (SIM...) or number; repeatable.")
@click.option("--all-meters", is_flag=True, help="Every meter of the fleet.")
@click.option("--start", required=True, callback=_when, help="ISO 8601 (UTC if no offset).")
@click.option("--end", required=True, callback=_when)
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--output", type=click.Path(dir_okay=False), help="File (default stdout).")
@click.option(
    "--faults-csv",
    type=click.Path(dir_okay=False),
    help="Also write the injected faults (meter,kind,start,end,value).",
)
@click.option("--daily/--no-daily", default=True, help="Include daily register readings.")
@click.option("--system-title", default=DEFAULT_SYSTEM_TITLE.hex(), callback=_hex(8))
@click.option("--fault-plan", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--control-log",
    type=click.Path(exists=True, dir_okay=False),
    help="Relay switching and load limits logged by serve/fleet --control-log.",
)
def truth(
    meters: int,
    seed: int,
    which: tuple[str, ...],
    all_meters: bool,
    start: _dt.datetime,
    end: _dt.datetime,
    fmt: str,
    output: str | None,
    faults_csv: str | None,
    daily: bool,
    system_title: bytes,
    fault_plan: str | None,
    control_log: str | None,
) -> None:
    """What meters measured over [start, end) and which faults were injected."""
    layout = FleetLayout(seed=seed, meters=meters, system_title=system_title)
    if all_meters:
        numbers = list(range(meters))
    elif which:
        numbers = [_number(w, meters, system_title) for w in which]
    else:
        raise click.UsageError("name a --meter or give --all-meters")
    idents = [layout.identity(n) for n in numbers]
    plan = _plan(fault_plan)
    controls = _controls(control_log)
    rows = (
        row
        for ident in idents
        for row in meter_truth(
            ident, plan, start, end, daily=daily, control=controls.get(ident.name)
        )
    )
    faults = [f for ident in idents for f in injected_faults(ident, plan, start, end)]
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    try:
        if fmt == "csv":
            write_truth_csv(rows, out)
        else:
            out.write(truth_json(rows, faults))
            out.write("\n")
    finally:
        if output:
            out.close()
    if faults_csv:
        with open(faults_csv, "w", encoding="utf-8", newline="") as target:
            writer = csv.writer(target, lineterminator="\n")
            writer.writerow(("meter", "kind", "start", "end", "value"))
            for fault in faults:
                record = fault.to_json()
                writer.writerow(
                    (
                        record["meter"],
                        record["kind"],
                        record["start"] or "",
                        record["end"] or "",
                        "" if record["value"] is None else record["value"],
                    )
                )
