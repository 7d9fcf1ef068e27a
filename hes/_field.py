"""A simulated field for the head-end: a fleet behind cellular, Wi-SUN and RF-mesh
networks, run in its own process so the meters and the head-end share the two cores.

* cellular (GPRS/4G/NB-IoT) meters: the wrapper over TCP, one wildcard listener, one
  loopback address per meter (``serve_fleet_wrapper``);
* Wi-SUN meters: one border router per cell (``open_border_router``, the Wi-SUN channel
  model with 6LoWPAN fragmentation), meters in-process behind it, the head-end sends UDP;
* RF-mesh meters: one data concentrator per cell (``open_data_concentrator``, the mesh
  channel model), meters in-process behind it, the head-end speaks gateway APDUs to it.

Which network a meter is on follows the fleet's own network cluster (its ``RF-mesh``
meters are meshed) and, for Wi-SUN, the cell (cells ``n`` with ``n % wisun_every == 1``
have a field area network). The address plan written to ``--plan-out`` is what the
head-end's inventory loads. Run: ``python -m hes._field --meters 2000 --plan-out p.json``.

With ``--callers`` the field also calls the head-end, once it has written
``GO <host> <push tcp port> <push udp port> <inbound port>`` on standard input: cellular
meters push their block load row over TCP, Wi-SUN and RF-mesh meters over UDP (their
border router or concentrator forwards it), one round spread over ``--push-spread``
seconds; every ``--nat-every``-th cellular meter is behind carrier-grade NAT (marked
``behind_nat`` in the plan): the head-end cannot dial it, so it dials the head-end's
inbound port every ``--dial-period`` seconds, pushes, and answers the reads the head-end
runs over that link.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

from dlmskit.errors import DlmsError, TransportError
from simulators import (
    BLOCK_LOAD_PUSH,
    FaultPlan,
    Fleet,
    FleetLayout,
    LinkStats,
    MeterIdentity,
    PushConfig,
    PushStats,
    as_sent,
    notification,
    run_pushes,
    run_session,
    serve_fleet_wrapper,
)
from transports import (
    RF_MESH_DEFAULT,
    WISUN_DEFAULT,
    ChannelModel,
    MeshMeter,
    MeshMeterLink,
    open_border_router,
    open_data_concentrator,
    open_tcp_wrapper,
)

__all__ = ["Callers", "behind_nat", "device_address", "network_of", "run_callers", "run_field"]

#: The meter's wPort and the head-end's push wPort (IS 15959-2 push association), and
#: the reader SAP the head-end opens over an inbound link.
_METER_WPORT, _PUSH_WPORT, _READER_SAP = 0x01, 0x40, 0x20
#: The port a meter behind NAT has in the plan (TCP port 1: nothing listens there).
_UNREACHABLE = 1


def device_address(number: int) -> bytes:
    """The EUI-64 of mesh meter ``number``."""
    return bytes.fromhex("70B3D5FFFE") + number.to_bytes(3, "big")


def network_of(identity: MeterIdentity, wisun_every: int) -> str:
    """``gprs``, ``wisun`` or ``rf_mesh`` for a meter of the field."""
    if identity.network_name == "RF-mesh":
        return "rf_mesh"
    if wisun_every and identity.cell % wisun_every == 1:
        return "wisun"
    return "gprs"


class _NewAssociation(Exception):
    """An AARQ arrived on a datagram link in the middle of a session."""

    def __init__(self, source: int, apdu: bytes) -> None:
        super().__init__("new association")
        self.source = source
        self.apdu = apdu


_AARQ = 0x60


async def _serve_link(fleet: Fleet, number: int, link: MeshMeterLink, stats: LinkStats) -> None:
    """Serve an in-process meter. A datagram link has no connection to close, so an AARQ
    arriving during a session (the client gave up on the last one) starts a new one,
    as meters on UDP do after their inactivity time-out."""
    pending: tuple[int, bytes] | None = None
    while True:
        if pending is None:
            try:
                wpdu = await link.receive_wpdu()
            except TransportError:
                return
            pending = (wpdu.source, wpdu.apdu)
        source, first = pending
        pending = None

        async def receive() -> bytes:
            wpdu = await link.receive_wpdu()
            if wpdu.apdu[:1] == bytes((_AARQ,)):
                raise _NewAssociation(wpdu.source, wpdu.apdu)
            return wpdu.apdu

        try:
            await run_session(
                fleet.meter(number),
                source,
                first,
                receive,
                link.send_apdu,
                stats,
                idle_timeout=60.0,
            )
        except _NewAssociation as again:
            pending = (again.source, again.apdu)
        except TransportError:
            return


def behind_nat(identity: MeterIdentity, nat_every: int, wisun_every: int = 4) -> bool:
    """Whether a cellular meter is behind carrier-grade NAT (only it can open a link)."""
    return (
        nat_every > 0
        and network_of(identity, wisun_every) == "gprs"
        and identity.number % nat_every == nat_every - 1
    )


def _entry(identity: MeterIdentity, **extra: Any) -> dict[str, Any]:
    return {
        "meter": identity.name,
        "number": identity.number,
        "system_title": identity.system_title.hex().upper(),
        "model": identity.model.name.lower(),
        "cell": identity.cell,
        "feeder": identity.feeder,
        "net_metered": identity.net_metered,
        **extra,
    }


async def run_field(
    fleet: Fleet,
    *,
    plan_out: Path,
    wisun_every: int = 4,
    nat_every: int = 0,
    wisun_channel: ChannelModel = WISUN_DEFAULT,
    mesh_channel: ChannelModel = RF_MESH_DEFAULT,
    task_status: trio.TaskStatus[list[dict[str, Any]]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the whole field until cancelled; the address plan goes to ``plan_out``.
    Meters behind NAT (``nat_every``) are marked ``behind_nat`` and their entry gives a
    port nothing answers on: a head-end that dialled them would fail."""
    stats = LinkStats()
    groups: dict[str, dict[int, list[MeterIdentity]]] = {"gprs": {}, "wisun": {}, "rf_mesh": {}}
    for identity in fleet.identities():
        kind = network_of(identity, wisun_every)
        groups[kind].setdefault(identity.cell, []).append(identity)
    entries: list[dict[str, Any]] = []
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve_fleet_wrapper, fleet, 0)
        port = int(listeners[0].socket.getsockname()[1])
        for cell_meters in groups["gprs"].values():
            for identity in cell_meters:
                nat = behind_nat(identity, nat_every, wisun_every)
                entries.append(
                    _entry(
                        identity,
                        host=identity.host,
                        port=_UNREACHABLE if nat else port,
                        transport="gprs",
                        network=identity.network_name,
                        gateway="",
                        behind_nat=nat,
                    )
                )
        for cell, members in sorted(groups["wisun"].items()):
            router = await nursery.start(_router, wisun_channel)
            for identity in members:
                host, udp_port = await router.add_meter(identity.name)
                nursery.start_soon(
                    _serve_link, fleet, identity.number, router.meter_link(identity.name), stats
                )
                entries.append(
                    _entry(
                        identity,
                        host=host,
                        port=udp_port,
                        transport="wisun",
                        network="Wi-SUN",
                        gateway=f"br{cell}",
                    )
                )
        for cell, members in sorted(groups["rf_mesh"].items()):
            meshed = {
                m.number: MeshMeter(physical_device_address=device_address(m.number))
                for m in members
            }
            dcu = await nursery.start(_dcu, mesh_channel, list(meshed.values()))
            dcu_host, dcu_port = dcu.address[:2]
            for identity in members:
                nursery.start_soon(
                    _serve_link,
                    fleet,
                    identity.number,
                    dcu.meter_link(meshed[identity.number]),
                    stats,
                )
                entries.append(
                    _entry(
                        identity,
                        host=str(dcu_host),
                        port=int(dcu_port),
                        transport="rf_mesh",
                        network="RF-mesh",
                        gateway=f"dcu{cell}",
                        device_address=device_address(identity.number).hex().upper(),
                    )
                )
        entries.sort(key=lambda e: int(e["number"]))
        plan_out.write_text(json.dumps({"meters": entries}, indent=0))
        task_status.started(entries)


async def _router(
    channel: ChannelModel, *, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED
) -> None:
    async with open_border_router(channel=channel) as router:
        task_status.started(router)
        await trio.sleep_forever()


async def _dcu(
    channel: ChannelModel,
    meters: Sequence[MeshMeter],
    *,
    task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
) -> None:
    async with open_data_concentrator(channel=channel, meters=meters, queue_limit=8) as dcu:
        task_status.started(dcu)
        await trio.sleep_forever()


@attrs.frozen(kw_only=True)
class Callers:
    """Where the head-end listens for meters that call it, and how they call."""

    host: str = "127.0.0.1"
    push_tcp: int | None = None
    push_udp: int | None = None
    inbound: int | None = None
    push_spread: float = 30.0
    """Seconds the one round of block load pushes is spread over."""
    dial_period: float = 20.0
    """Seconds between two calls of a meter behind NAT (the first within one period)."""
    session_idle: float = 30.0


@attrs.define
class CallerStats:
    """What the calling meters did."""

    pushes: PushStats = attrs.field(factory=PushStats)
    dials: int = 0
    failed_dials: int = 0
    link: LinkStats = attrs.field(factory=LinkStats)


async def _dial_in(fleet: Fleet, number: int, callers: Callers, stats: CallerStats) -> None:
    """A meter behind NAT: call the head-end, push, answer its reads; every period."""
    assert callers.inbound is not None
    seed = fleet.identity(number).seed
    await trio.sleep(random.Random(seed ^ 0xD1A1).random() * callers.dial_period)
    calls = 0
    while True:
        meter = fleet.meter(number)
        if not meter.silent():
            stats.dials += 1
            link = None
            try:
                link = await open_tcp_wrapper(
                    callers.host,
                    callers.inbound,
                    client_wport=_METER_WPORT,
                    server_wport=_PUSH_WPORT,
                )
                # the first APDU only: a replayed copy would land in the reads that follow
                push = as_sent(meter, notification(meter, BLOCK_LOAD_PUSH), calls)[0]
                await link.send_apdu(push)
                await run_session(
                    meter,
                    _READER_SAP,
                    None,
                    link.receive_apdu,
                    link.send_apdu,
                    stats.link,
                    idle_timeout=callers.session_idle,
                )
            except (DlmsError, OSError, trio.BrokenResourceError, trio.ClosedResourceError):
                if link is None:
                    stats.failed_dials += 1
            finally:
                if link is not None:
                    await link.aclose()
        calls += 1
        await trio.sleep(callers.dial_period)


async def run_callers(
    fleet: Fleet,
    entries: Sequence[dict[str, Any]],
    callers: Callers,
    stats: CallerStats | None = None,
) -> None:
    """Push and dial in as :class:`Callers` says, until cancelled (see the module)."""
    stats = stats if stats is not None else CallerStats()
    by_kind: dict[str, list[int]] = {"tcp": [], "udp": [], "nat": []}
    for entry in entries:
        number = int(entry["number"])
        if entry.get("behind_nat"):
            by_kind["nat"].append(number)
        elif entry["transport"] == "gprs":
            by_kind["tcp"].append(number)
        else:
            by_kind["udp"].append(number)
    async with trio.open_nursery() as nursery:
        for kind, port in (("tcp", callers.push_tcp), ("udp", callers.push_udp)):
            if port is None or not by_kind[kind]:
                continue
            config = PushConfig(
                host=callers.host,
                port=port,
                transport=kind,
                randomisation=callers.push_spread,
                retries=1,
                repetition_delay=1.0,
                setups=(BLOCK_LOAD_PUSH,),
                alerts=False,
                concurrency=64,
            )
            nursery.start_soon(
                functools.partial(
                    run_pushes, fleet, config, stats=stats.pushes, meters=by_kind[kind], rounds=1
                )
            )
        if callers.inbound is not None:
            for number in by_kind["nat"]:
                nursery.start_soon(_dial_in, fleet, number, callers, stats)


def quiet(channel: ChannelModel) -> ChannelModel:
    """The channel without random loss and outages (latency and hops kept)."""
    return attrs.evolve(channel, hop_loss=0.0, outage_probability=0.0)


def _port(text: str) -> int | None:
    return None if text in ("-", "0") else int(text)


def _parse_go(line: str, spread: float, period: float) -> Callers | None:
    """``GO host tcp udp inbound`` (``-`` for a port not listened on); ``None`` else."""
    words = line.split()
    if len(words) != 5 or words[0] != "GO":
        return None
    return Callers(
        host=words[1],
        push_tcp=_port(words[2]),
        push_udp=_port(words[3]),
        inbound=_port(words[4]),
        push_spread=spread,
        dial_period=period,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a simulated field for the head-end.")
    parser.add_argument("--meters", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fault-plan", type=Path)
    parser.add_argument("--plan-out", type=Path, required=True)
    parser.add_argument("--wisun-every", type=int, default=4)
    parser.add_argument("--nat-every", type=int, default=0, help="every n-th cellular meter")
    parser.add_argument("--lossless", action="store_true", help="no random loss or outages")
    parser.add_argument(
        "--callers",
        action="store_true",
        help="after READY, wait for 'GO host push-tcp push-udp inbound' on stdin, then push "
        "and dial in",
    )
    parser.add_argument("--push-spread", type=float, default=30.0)
    parser.add_argument("--dial-period", type=float, default=20.0)
    args = parser.parse_args(argv)
    plan = FaultPlan.load(args.fault_plan) if args.fault_plan else FaultPlan()
    fleet = Fleet(FleetLayout(seed=args.seed, meters=args.meters), plan=plan)
    wisun, mesh = WISUN_DEFAULT, RF_MESH_DEFAULT
    if args.lossless:
        wisun, mesh = quiet(wisun), quiet(mesh)

    async def serve() -> None:
        async with trio.open_nursery() as nursery:
            entries = await nursery.start(
                lambda task_status: run_field(
                    fleet,
                    plan_out=args.plan_out,
                    wisun_every=args.wisun_every,
                    nat_every=args.nat_every,
                    wisun_channel=wisun,
                    mesh_channel=mesh,
                    task_status=task_status,
                )
            )
            sys.stdout.write("READY\n")
            sys.stdout.flush()
            if args.callers:
                line = await trio.to_thread.run_sync(sys.stdin.readline)
                callers = _parse_go(line, args.push_spread, args.dial_period)
                if callers is not None:
                    nursery.start_soon(run_callers, fleet, entries, callers)

    trio.run(serve)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
