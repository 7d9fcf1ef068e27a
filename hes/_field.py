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
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import trio

from dlmskit.errors import TransportError
from simulators import (
    FaultPlan,
    Fleet,
    FleetLayout,
    LinkStats,
    MeterIdentity,
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
)

__all__ = ["device_address", "network_of", "run_field"]


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
    wisun_channel: ChannelModel = WISUN_DEFAULT,
    mesh_channel: ChannelModel = RF_MESH_DEFAULT,
    task_status: trio.TaskStatus[list[dict[str, Any]]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the whole field until cancelled; the address plan goes to ``plan_out``."""
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
                entries.append(
                    _entry(
                        identity,
                        host=identity.host,
                        port=port,
                        transport="gprs",
                        network=identity.network_name,
                        gateway="",
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


def quiet(channel: ChannelModel) -> ChannelModel:
    """The channel without random loss and outages (latency and hops kept)."""
    return attrs.evolve(channel, hop_loss=0.0, outage_probability=0.0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a simulated field for the head-end.")
    parser.add_argument("--meters", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fault-plan", type=Path)
    parser.add_argument("--plan-out", type=Path, required=True)
    parser.add_argument("--wisun-every", type=int, default=4)
    parser.add_argument("--lossless", action="store_true", help="no random loss or outages")
    args = parser.parse_args(argv)
    plan = FaultPlan.load(args.fault_plan) if args.fault_plan else FaultPlan()
    fleet = Fleet(FleetLayout(seed=args.seed, meters=args.meters), plan=plan)
    wisun, mesh = WISUN_DEFAULT, RF_MESH_DEFAULT
    if args.lossless:
        wisun, mesh = quiet(wisun), quiet(mesh)

    async def serve() -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(
                lambda task_status: run_field(
                    fleet,
                    plan_out=args.plan_out,
                    wisun_every=args.wisun_every,
                    wisun_channel=wisun,
                    mesh_channel=mesh,
                    task_status=task_status,
                )
            )
            sys.stdout.write("READY\n")
            sys.stdout.flush()

    trio.run(serve)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
