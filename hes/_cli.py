"""``dlmskit-hes``: run collection, export, report, capacity assessment and the demo."""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import html
import json
import sys
from pathlib import Path

import click
import trio

from dlmskit.client import Association, listen
from hes._capacity import capacity_page, plot_capacity, run_capacity
from hes._demo import DemoResult, learn_push_layouts, run_demo
from hes._engine import CollectionConfig, HeadEnd, day_range
from hes._export import write_csv, write_json, write_parquet, write_xml
from hes._inbound import InboundSessions
from hes._inbound_queue import SqliteInboundQueue
from hes._inventory import Inventory, MeterInfo
from hes._kpi import compute_kpis
from hes._metrics import Metrics, serve_metrics
from hes._metrics_board import MetricsBoard
from hes._push import PushIngest, push_keys
from hes._report import html_report, text_report
from hes._rounds import run_schedule
from hes._schedule import Schedule
from hes._session import FieldConnector
from hes._shard_run import ShardCollection, open_counters
from hes._shards import run_processes
from hes._store import Store
from obis import ObisCode
from simulators import IST

__all__ = ["main"]


def _date(text: str | None) -> _dt.date:
    if text:
        return _dt.date.fromisoformat(text)
    return (_dt.datetime.now(IST) - _dt.timedelta(days=1)).date()


def _when(text: str | None) -> _dt.datetime | None:
    if not text:
        return None
    when = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=_dt.UTC)


@click.group()
def main() -> None:
    """The dlmskit reference head-end."""


@main.command()
@click.option(
    "--inventory",
    "inventory_path",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="TOML, CSV or address plan JSON.",
)
@click.option("--db", type=click.Path(path_type=Path), required=True)
@click.option("--day", help="Local (IST) day to collect, YYYY-MM-DD (default yesterday).")
@click.option("--concurrency", type=int, default=200, show_default=True)
@click.option("--cluster-limit", type=int, default=16, show_default=True)
@click.option("--start-rate", type=float, default=50.0, show_default=True)
@click.option(
    "--deadline",
    type=float,
    default=600.0,
    show_default=True,
    help="Seconds before no new session starts.",
)
@click.option("--metrics-port", type=int, help="Serve Prometheus metrics on 127.0.0.1.")
@click.option("--push-port", type=int, help="Receive pushes on this port (TCP and UDP).")
@click.option(
    "--inbound-port",
    type=int,
    help="Accept links meters behind NAT open on this port; their reads wait for their "
    "call in the database (they are never dialled).",
)
@click.option("--listen-host", default="0.0.0.0", show_default=True)
@click.option(
    "--push-setup",
    "push_setups",
    multiple=True,
    help="Push setup (OBIS) whose pushed rows become readings; its push_object_list is "
    "read once per meter model. Repeatable.",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Collect in this many processes, each a shard of the meters (about one per core); "
    "the first also receives pushes, serves the meters behind NAT and the metrics of all.",
)
def run(
    inventory_path: Path,
    db: Path,
    day: str | None,
    concurrency: int,
    cluster_limit: int,
    start_rate: float,
    deadline: float,
    metrics_port: int | None,
    push_port: int | None,
    inbound_port: int | None,
    listen_host: str,
    push_setups: tuple[str, ...],
    processes: int,
) -> None:
    """Collect one day's block load profile from every meter, then back-read gaps;
    optionally receive pushes and serve meters behind NAT meanwhile."""
    inventory = Inventory.load(inventory_path)
    # with links from meters behind NAT, this process serves those meters, the others theirs
    nat = frozenset(m.name for m in inventory if m.behind_nat) if inbound_port else frozenset()
    board = db.with_suffix(".metrics.db") if metrics_port is not None and processes > 1 else None
    collection = ShardCollection(
        inventory=inventory_path,
        db=db,
        day=_date(day),
        concurrency=concurrency,
        cluster_limit=cluster_limit,
        start_rate=start_rate,
        deadline=deadline,
        without=nat,
        metrics_board=board,
    )
    # the meters this process collects: all, or with --processes those behind NAT only
    own = inventory if processes == 1 else inventory.only(nat)
    config = CollectionConfig(
        concurrency=concurrency, cluster_limit=cluster_limit, start_rate=start_rate
    )
    start, end = day_range(_date(day), IST)
    metrics = Metrics()
    setups = [ObisCode.parse(text) for text in push_setups]
    reader = Association.meter_reader()
    counts: dict[str, int] = {}

    def keys(meter: MeterInfo) -> tuple[bytes, bytes]:
        assert reader.encryption_key is not None and reader.authentication_key is not None
        return reader.encryption_key, reader.authentication_key

    async def go() -> None:
        store = Store(db)
        counters = open_counters(db, reader)
        schedule = Schedule(own, store, policy=config.back_reads)
        listening = push_port is not None or inbound_port is not None
        async with (
            FieldConnector() as connector,
            trio.open_nursery() as nursery,
            contextlib.AsyncExitStack() as stack,  # the listener, inside the nursery
        ):
            if metrics_port is not None and board is not None:
                # this process's metrics and the collection processes' snapshots, as one
                shown = stack.enter_context(MetricsBoard(board))
                shown.clear()
                await nursery.start(
                    serve_metrics, functools.partial(shown.merged_with, metrics), metrics_port
                )
            elif metrics_port is not None:
                await nursery.start(serve_metrics, metrics, metrics_port)
            head_end = HeadEnd(
                own, store, connector=connector, counters=counters, config=config, metrics=metrics
            )
            inbound = None
            if listening:
                listener = await stack.enter_async_context(
                    listen(
                        push_keys(inventory, keys),
                        host=listen_host,
                        tcp_port=push_port,
                        udp_port=push_port,
                    )
                )
                # push layouts are read from dialled meters, before any shard process runs
                learner = head_end
                if own is not inventory:
                    learner = HeadEnd(
                        inventory, store, connector=connector, counters=counters, config=config
                    )
                ingest = PushIngest(
                    store,
                    metrics=metrics,
                    inventory=inventory,
                    layouts=learner.layouts,
                    sign=reader.sign,
                )
                for setup in setups:
                    await learn_push_layouts(learner, learner.layouts, setup=setup)
                nursery.start_soon(ingest.run, listener)
                if inbound_port is not None:
                    queue = stack.enter_context(SqliteInboundQueue(db))
                    inbound = InboundSessions(
                        head_end, listener, ingest, queue=queue, source=schedule
                    )
                    schedule.divert([m.name for m in own if m.behind_nat], inbound.queue)
                    await nursery.start(inbound.serve, inbound_port, listen_host)
            end_at = trio.current_time() + deadline
            if processes > 1:
                # the shards collect in their processes; this one receives the pushes and
                # reads the meters behind NAT over the links they open
                async with trio.open_nursery() as mine:
                    if inbound is not None:
                        schedule.add_round(start, end)
                        mine.start_soon(
                            functools.partial(run_schedule, head_end, schedule, deadline=deadline)
                        )
                    parts = await run_processes(collection, processes)
                metrics.readings += sum(p[1] for p in parts)
                counts["sessions"] = sum(p[0] for p in parts)
                counts["processes"] = processes
            else:
                schedule.add_round(start, end)
                await run_schedule(head_end, schedule, deadline=deadline)
            while inbound is not None and inbound.queued() and trio.current_time() < end_at:
                await trio.sleep(0.5)  # meters behind NAT that have not called yet
            if listening:
                await trio.sleep(0.5)  # the last pushes are stored
                counts["pushes"] = ingest.accepted
                counts["refused"] = sum(ingest.rejected.values())
            if inbound is not None:
                counts["inbound"] = inbound.sessions_run
                counts["waiting"] = inbound.queued()
            nursery.cancel_scope.cancel()
        counters.close()
        store.close()

    trio.run(go)
    sessions = counts.pop("sessions", 0) + sum(metrics.sessions.values())
    extra = "".join(f"  {k} {v}" for k, v in counts.items())
    click.echo(f"sessions {sessions}  readings {metrics.readings}{extra}")


@main.command()
@click.option("--db", type=click.Path(exists=True, path_type=Path), required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xml", "json", "parquet"]),
    default="csv",
    show_default=True,
)
@click.option("--output", type=click.Path(path_type=Path), help="File (default stdout).")
@click.option("--meter")
@click.option("--start", help="ISO 8601 (UTC if no offset).")
@click.option("--end")
def export(
    db: Path,
    fmt: str,
    output: Path | None,
    meter: str | None,
    start: str | None,
    end: str | None,
) -> None:
    """Export stored readings: CSV (meter,obis,start,value,unit,quality), IEC 61968-9
    MeterReadings XML or JSON, or Parquet."""
    with Store(db) as store:
        rows = store.readings(meter=meter, start=_when(start), end=_when(end))
        if fmt == "parquet":
            if output is None:
                raise click.UsageError("Parquet needs --output")
            count = write_parquet(rows, output)
            click.echo(f"{count} readings written to {output}", err=True)
            return
        out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            if fmt == "csv":
                write_csv(rows, out)
            elif fmt == "xml":
                write_xml(rows, out)
            else:
                write_json(rows, out)
        finally:
            if output:
                out.close()


@main.command()
@click.option("--db", type=click.Path(exists=True, path_type=Path), required=True)
@click.option(
    "--inventory", "inventory_path", type=click.Path(exists=True, path_type=Path), required=True
)
@click.option("--day", help="Local (IST) day for completeness (default yesterday).")
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path),
    help="Also write an HTML report with plots.",
)
def report(db: Path, inventory_path: Path, day: str | None, html_path: Path | None) -> None:
    """Print the KPI table (and write the HTML report)."""
    inventory = Inventory.load(inventory_path)
    with Store(db) as store:
        kpis = compute_kpis(
            store, inventory, now=_dt.datetime.now(_dt.UTC), days=[_date(day)], zone=IST
        )
    click.echo(text_report(kpis), nl=False)
    if html_path:
        html_path.write_text(html_report(kpis), encoding="utf-8")
        click.echo(f"HTML report: {html_path}")


def _print_demo(result: DemoResult) -> None:
    click.echo(text_report(result.kpis, top=5), nl=False)
    click.echo(result.agreement.text(), nl=False)
    click.echo(result.pushes.text(), nl=False)
    transports = ", ".join(f"{k} {v}" for k, v in sorted(result.transports.items()))
    click.echo(
        f"meters {result.meters} ({transports}); collection {result.collection_seconds:.1f} s; "
        f"total {result.seconds:.1f} s; open gaps {result.open_gaps} "
        f"({result.not_started} meters not started in the window); "
        f"CPU head-end {result.head_end_cpu_seconds:.1f} s, field {result.field_cpu_seconds:.1f} s"
    )


@main.command()
@click.option("--meters", type=int, default=2000, show_default=True)
@click.option(
    "--workdir", type=click.Path(path_type=Path), default=Path("hes-demo"), show_default=True
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--deadline",
    type=float,
    default=90.0,
    show_default=True,
    help="Seconds of collection before no new session starts.",
)
@click.option(
    "--lossy/--lossless", default=False, help="Random loss and route outages on Wi-SUN and RF mesh."
)
@click.option("--metrics-port", type=int)
@click.option("--quiet", is_flag=True)
@click.option(
    "--callers/--no-callers",
    default=True,
    show_default=True,
    help="Meters push, and those behind NAT call in.",
)
@click.option(
    "--nat-every",
    type=int,
    default=25,
    show_default=True,
    help="Every n-th cellular meter is behind NAT.",
)
@click.option(
    "--push-spread",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds the meters' pushes are spread over.",
)
@click.option(
    "--dial-period",
    type=float,
    default=20.0,
    show_default=True,
    help="Seconds between two calls of a meter behind NAT.",
)
def demo(
    meters: int,
    workdir: Path,
    seed: int,
    deadline: float,
    lossy: bool,
    metrics_port: int | None,
    quiet: bool,
    callers: bool,
    nat_every: int,
    push_spread: float,
    dial_period: float,
) -> None:
    """The main job: a simulated fleet (GPRS, Wi-SUN, RF mesh) with a fault plan, one day's
    block load, back-reads, KPIs and agreement with the ground truth."""
    result = trio.run(
        lambda: run_demo(
            meters=meters,
            workdir=workdir,
            seed=seed,
            deadline=deadline,
            lossless=not lossy,
            metrics_port=metrics_port,
            progress=None if quiet else click.echo,
            callers=callers,
            nat_every=nat_every,
            push_spread=push_spread,
            dial_period=dial_period,
        )
    )
    _print_demo(result)
    page = workdir / "report.html"
    page.write_text(
        html_report(
            result.kpis,
            extra=f"<pre>{html.escape(result.agreement.text() + result.pushes.text())}</pre>",
        ),
        encoding="utf-8",
    )
    click.echo(f"HTML report: {page}")


@main.command()
@click.option("--meters", type=int, default=500, show_default=True)
@click.option("--scale", default="1,2,5", show_default=True)
@click.option(
    "--window",
    type=float,
    default=120.0,
    show_default=True,
    help="Collection window (s) the head-end must keep up within.",
)
@click.option(
    "--workdir", type=click.Path(path_type=Path), default=Path("hes-capacity"), show_default=True
)
@click.option(
    "--min-completeness", type=float, default=0.99, show_default=True, help="Of the intervals."
)
@click.option(
    "--tolerance",
    type=float,
    default=0.5,
    show_default=True,
    help="Lag allowed past the window, as a fraction of it.",
)
@click.option(
    "--callers/--no-callers",
    default=False,
    help="Also have the field push and meters behind NAT call in.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="The fleet's seed.")
def capacity(
    meters: int,
    scale: str,
    window: float,
    workdir: Path,
    min_completeness: float,
    tolerance: float,
    callers: bool,
    seed: int,
) -> None:
    """Level-2 assessment: collect at 100/200/500 % of a fleet within a window and say
    whether the head-end keeps up (completeness, lag, queue depth, time)."""
    factors = [float(s) for s in scale.split(",") if s.strip()]
    if not factors or any(f <= 0 for f in factors):
        raise click.BadParameter("scales are positive numbers", param_hint="--scale")
    points = []
    for factor in factors:
        (point,) = run_capacity(
            meters,
            [factor],
            window_s=window,
            workdir=workdir,
            callers=callers,
            min_completeness=min_completeness,
            tolerance=tolerance,
            seed=seed,
        )
        points.append(point)
        click.echo(json.dumps(point.to_mapping()))
    click.echo(
        f"{'scale':>6} {'meters':>7} {'time s':>7} {'m/s':>6} {'complete':>9} "
        f"{'lag s':>6} {'queue':>6} {'p95 s':>6}  keeps up"
    )
    for p in points:
        click.echo(
            f"{p.scale:>6g} {p.meters:>7} {p.collection_s:>7.1f} {p.meters_per_s:>6.1f} "
            f"{100 * p.completeness:>8.2f}% {p.lag_s:>6.1f} {p.max_queue_depth:>6} "
            f"{p.session_p95_s:>6.2f}  {'yes' if p.keeps_up else 'NO (' + p.reason + ')'}"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    page = workdir / "capacity.html"
    page.write_text(capacity_page(points), encoding="utf-8")
    click.echo(f"report: {page}")
    png = workdir / "capacity.png"
    if plot_capacity(points, png):
        click.echo(f"plot: {png}")
    else:
        click.echo("plot: matplotlib is not installed (the bench extra); HTML chart only")
