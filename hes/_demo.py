"""The main job end to end: a simulated field with a fault plan, one day's block load
collection, push reception, meter-initiated sessions, gap back-reads, the KPI report and
the agreement with the ground truth.

The field (``hes._field``) runs in its own process; the head-end runs here. While the
head-end polls, the field's meters push their latest block load row (ciphered
data-notifications, cellular meters over TCP, Wi-SUN and RF-mesh meters over UDP) to
the head-end's push listener, where they are deciphered, replay-checked and stored as
readings; meters whose faults garble or replay their pushes, or whose keys are wrong,
have them refused. Some cellular meters are behind NAT: the head-end cannot dial them,
so their reads wait in :class:`~hes.InboundSessions`' queue and run over the link the
meter opens when it calls. Afterwards every stored reading (pulled or pushed) of a meter
without injected faults is compared with the simulator's ground truth, and every
injected fault is looked up in the store: flagged readings, failed sessions, gaps
back-read or reported open.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs
import trio

from dlmskit.client import (
    Association,
    LinkSettings,
    MeterKeys,
    PushListener,
    connect,
    listen,
)
from dlmskit.security import FileCounterStore
from hes._agreement import Agreement, compare_with_truth
from hes._engine import CollectionConfig, HeadEnd, day_range
from hes._gapledger import BackReadPolicy, Gap
from hes._inbound import InboundSessions
from hes._inbound_queue import SqliteInboundQueue
from hes._inventory import Inventory, MeterInfo, Network
from hes._kpi import KpiReport, compute_kpis
from hes._metrics import Metrics, serve_metrics
from hes._model import (
    GapState,
    Outcome,
    SessionRecord,
    WorkItem,
    WorkKind,
)
from hes._push import PushIngest, push_keys
from hes._rounds import run_schedule
from hes._schedule import Schedule
from hes._session import FieldConnector, LayoutCache
from hes._store import Store
from obis import ObisCode
from simulators import (
    BLOCK_LOAD_PUSH,
    DEFAULT_AK,
    DEFAULT_EK,
    IST,
    FaultPlan,
    Fleet,
    FleetLayout,
)

__all__ = [
    "DemoResult",
    "PushSummary",
    "default_fault_plan",
    "learn_push_layouts",
    "run_demo",
]


def default_fault_plan(now: _dt.datetime, *, seed: int = 7) -> FaultPlan:
    """The demo's faults: a cluster outage that ends soon (back-reads recover it), one
    that does not (gaps stay open), power failures, spikes, reverse energy, clock drift,
    slow, lossy and corrupting links, wrong keys and reset invocation counters (pushes
    garbled, refused or replayed)."""
    return FaultPlan.from_mapping(
        {
            "seed": seed,
            "silence": [
                {
                    "by": "feeder",
                    "fraction": 0.03,
                    "start": now - _dt.timedelta(hours=1),
                    "end": now + _dt.timedelta(seconds=45),
                },
                {"by": "feeder", "fraction": 0.01, "start": now - _dt.timedelta(hours=1)},
            ],
            "interval": [
                {"kind": "missing", "meters": 0.04, "per_day": 1.0, "length": 3},
                {"kind": "spike", "meters": 0.04, "per_day": 1.0},
                {"kind": "reverse", "meters": 0.02, "per_day": 1.0, "length": 2},
            ],
            "meter": [
                {
                    "kind": "clock_drift",
                    "meters": 0.02,
                    "value": 240.0,
                    "start": now - _dt.timedelta(days=2),
                },
                {"kind": "slow_response", "meters": 0.005, "value": 8.0},
                {"kind": "corrupted_frame", "meters": 0.005, "value": 0.5},
                {"kind": "wrong_keys", "meters": 0.005},
                {"kind": "counter_reset", "meters": 0.004},
            ],
        }
    )


@attrs.frozen(kw_only=True)
class PushSummary:
    """Push reception and meter-initiated sessions during the demo."""

    accepted: int = 0
    rejected: Mapping[str, int] = attrs.field(factory=dict)
    """Refused pushes by reason (``replay``, ``security``, ``garbage``, ...)."""
    readings: int = 0
    """Readings stored from pushed block load rows."""
    inbound_meters: int = 0
    """Meters behind NAT (reached only over links they open)."""
    inbound_called: int = 0
    """Of those, meters that called and were identified."""
    inbound_connections: int = 0
    inbound_sessions: int = 0
    inbound_failed: int = 0
    inbound_unidentified: int = 0
    inbound_waiting: int = 0
    """Reads still queued for meters that did not call (their gaps stay open)."""

    def text(self) -> str:
        refused = ", ".join(f"{k} {v}" for k, v in sorted(self.rejected.items())) or "none"
        return (
            f"pushes accepted {self.accepted} (readings {self.readings}); refused "
            f"{sum(self.rejected.values())} ({refused})\n"
            f"meters behind NAT {self.inbound_meters}: {self.inbound_called} called in over "
            f"{self.inbound_connections} links; inbound sessions {self.inbound_sessions} "
            f"({self.inbound_failed} failed); unidentified links {self.inbound_unidentified}; "
            f"reads still waiting {self.inbound_waiting}\n"
        )


@attrs.frozen(kw_only=True)
class DemoResult:
    kpis: KpiReport
    agreement: Agreement
    seconds: float
    collection_seconds: float
    open_gaps: int
    meters: int
    transports: Mapping[str, int]
    max_queue_depth: int
    field_cpu_seconds: float
    not_started: int
    """Meters the collection window closed on before their session started."""
    head_end_cpu_seconds: float
    pushes: PushSummary = attrs.field(factory=PushSummary)


class FieldProcess:
    """The simulated field in a child process; killed on exit. With ``nat_every`` its
    meters also call the head-end once :meth:`go` tells them where (``hes._field``)."""

    def __init__(
        self,
        meters: int,
        seed: int,
        plan_file: Path,
        plan_out: Path,
        *,
        lossless: bool,
        callers: bool = False,
        nat_every: int = 0,
        push_spread: float = 30.0,
        dial_period: float = 20.0,
    ) -> None:
        self.args = [
            sys.executable,
            "-m",
            "hes._field",
            "--meters",
            str(meters),
            "--seed",
            str(seed),
            "--fault-plan",
            str(plan_file),
            "--plan-out",
            str(plan_out),
            "--nat-every",
            str(nat_every),
        ]
        if lossless:
            self.args.append("--lossless")
        if callers:
            self.args += [
                "--callers",
                "--push-spread",
                str(push_spread),
                "--dial-period",
                str(dial_period),
            ]
        self.callers = callers
        self.proc: subprocess.Popen[str] | None = None
        self.cpu_seconds = 0.0

    def __enter__(self) -> FieldProcess:
        self.proc = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stdin=subprocess.PIPE if self.callers else None,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "READY":
            self.proc.kill()
            raise RuntimeError(f"the simulated field did not start: {line!r}")
        return self

    def go(
        self, host: str, push_tcp: int | None, push_udp: int | None, inbound: int | None
    ) -> None:
        """Tell the field's meters where the head-end listens: they start calling."""
        assert self.proc is not None and self.proc.stdin is not None
        ports = ["-" if p is None else str(p) for p in (push_tcp, push_udp, inbound)]
        self.proc.stdin.write(f"GO {host} {' '.join(ports)}\n")
        self.proc.stdin.flush()

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            _pid, _status, usage = os.wait4(self.proc.pid, 0)
            self.proc.returncode = -9
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.cpu_seconds = usage.ru_utime + usage.ru_stime


async def _monitor(
    metrics: Metrics, progress: Callable[[str], None], inbound: InboundSessions | None = None
) -> None:
    began = trio.current_time()
    while True:
        await trio.sleep(10.0)
        done = sum(metrics.sessions.values())
        ok = sum(v for (_k, o), v in metrics.sessions.items() if o == "ok")
        pushes = metrics.pushes.get("accepted", 0)
        called = "" if inbound is None else f"  inbound {inbound.sessions_run}"
        progress(
            f"{trio.current_time() - began:6.0f} s  sessions {done} (ok {ok})  "
            f"active {metrics.active}  queued {metrics.queue_depth}  readings {metrics.readings}"
            f"  pushes {pushes}{called}"
        )


def _plan_text(plan: FaultPlan) -> str:
    return json.dumps(plan.to_mapping())


async def learn_push_layouts(
    head_end: HeadEnd,
    layouts: LayoutCache,
    *,
    setup: ObisCode = BLOCK_LOAD_PUSH,
    skip: frozenset[str] = frozenset(),
) -> int:
    """Read a push setup's push_object_list (by default the simulators' block load push)
    once per meter model, from the first cellular meter of the model that answers (of
    five tried), so pushed rows become readings; gives the number of models learnt."""
    learnt = 0
    reader = Association.meter_reader()
    if head_end.counters is not None:
        reader = attrs.evolve(reader, counter_store=head_end.counters)
    by_model: dict[str, list[MeterInfo]] = defaultdict(list)
    for info in head_end.inventory:
        if info.network is Network.GPRS and not info.behind_nat and info.name not in skip:
            by_model[info.model or "default"].append(info)
    for model, members in sorted(by_model.items()):
        for info in members[:5]:
            try:
                with trio.fail_after(10.0):
                    async with (
                        head_end.connector.open(info) as target,
                        connect(target, association=reader, link=head_end.config.link) as meter,
                    ):
                        await layouts.push_layout(model, meter, setup)
                learnt += 1
                break
            except Exception:  # a faulty meter: try the next one of the model
                continue
    return learnt


def _push_keys(inventory: Inventory) -> Callable[[bytes], MeterKeys | None]:
    return push_keys(inventory, lambda meter: (DEFAULT_EK, DEFAULT_AK))


async def _open_gaps_for_waiting(
    head_end: HeadEnd, inbound: InboundSessions, names: list[str], since: _dt.datetime
) -> int:
    """Round reads still queued for meters that never called become open gaps, each with
    a failed session (the head-end waited for a call that did not come)."""
    gaps: list[Gap] = []
    sessions: list[SessionRecord] = []
    now = head_end.clock()
    for name in names:
        items: list[WorkItem] = await trio.to_thread.run_sync(inbound.waiting.items, name)
        for item in items:
            if item.kind is not WorkKind.BLOCK_LOAD:
                continue
            gaps.append(
                Gap(
                    meter=item.meter,
                    profile="block_load",
                    start=item.start,
                    end=item.end,
                    next_try=now,
                    detail="not read: the meter did not call in",
                )
            )
            sessions.append(
                SessionRecord(
                    meter=item.meter,
                    kind=item.kind,
                    started=since,
                    ended=now,
                    outcome=Outcome.TIMEOUT,
                    detail="the meter did not call in within the window",
                )
            )
    store = head_end.store

    def write() -> None:
        store.open_gaps(gaps)
        store.put_sessions(sessions)

    if gaps:
        await trio.to_thread.run_sync(write)
    return len(gaps)


async def run_demo(
    *,
    meters: int = 2000,
    workdir: Path,
    seed: int = 1,
    deadline: float = 150.0,
    plan: FaultPlan | None = None,
    config: CollectionConfig | None = None,
    metrics_port: int | None = None,
    lossless: bool = True,
    progress: Callable[[str], None] | None = None,
    callers: bool = True,
    nat_every: int = 25,
    push_spread: float = 30.0,
    dial_period: float = 20.0,
) -> DemoResult:
    """Run the field and the head-end for yesterday's (IST) block load; see the module.
    ``callers=False`` leaves out pushes and meters behind NAT."""
    began = time.perf_counter()
    cpu_began = time.process_time()
    now = _dt.datetime.now(_dt.UTC)
    plan = plan if plan is not None else default_fault_plan(now)
    workdir.mkdir(parents=True, exist_ok=True)
    plan_file = workdir / "faults.json"
    plan_file.write_text(_plan_text(plan))
    address_plan = workdir / "field.json"
    db = workdir / "hes.db"
    for old in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        old.unlink(missing_ok=True)
    config = config or CollectionConfig(
        concurrency=500,
        cluster_limit=40,
        start_rate=35.0,
        session_timeout=25.0,
        datagram_session_timeout=35.0,
        link=LinkSettings(
            connect_timeout=10.0, response_timeout=10.0, release_timeout=1.0, retries=0
        ),
        back_reads=BackReadPolicy(
            max_attempts=3, base_delay=_dt.timedelta(seconds=30), max_delay=_dt.timedelta(minutes=2)
        ),
    )
    day = (now.astimezone(IST) - _dt.timedelta(days=1)).date()
    start, end = day_range(day, IST)
    fleet = Fleet(FleetLayout(seed=seed, meters=meters), plan=plan)
    metrics = Metrics()
    not_started = 0
    summary = PushSummary()
    field = FieldProcess(
        meters,
        seed,
        plan_file,
        address_plan,
        lossless=lossless,
        callers=callers,
        nat_every=nat_every if callers else 0,
        push_spread=push_spread,
        dial_period=dial_period,
    )
    with field:
        inventory = Inventory.load(address_plan)
        nat = [m.name for m in inventory if m.behind_nat]
        store = Store(db, synchronous="NORMAL")
        waiting = SqliteInboundQueue(db, synchronous="NORMAL")
        counters = FileCounterStore(workdir / "invocation-counters.json", reserve=100_000)
        schedule = Schedule(inventory, store, policy=config.back_reads, seed=seed)
        collect_began = time.perf_counter()
        async with (
            FieldConnector() as connector,
            listen(
                _push_keys(inventory),
                host="127.0.0.1",
                tcp_port=0 if callers else None,
                udp_port=0 if callers else None,
            ) as listener,
            trio.open_nursery() as nursery,
        ):
            if metrics_port is not None:
                await nursery.start(serve_metrics, metrics, metrics_port)
            head_end = HeadEnd(
                inventory,
                store,
                connector=connector,
                counters=counters,
                config=config,
                metrics=metrics,
            )
            ingest = PushIngest(
                store,
                metrics=metrics,
                inventory=inventory,
                layouts=head_end.layouts,
                sign=Association.meter_reader().sign,
            )
            inbound = InboundSessions(head_end, listener, ingest, queue=waiting, source=schedule)
            if callers:
                await learn_push_layouts(head_end, head_end.layouts, skip=frozenset(nat))
                schedule.divert(nat, inbound.queue)
                listeners = await nursery.start(inbound.serve, 0, "127.0.0.1")
                nursery.start_soon(ingest.run, listener)
                field.go(
                    "127.0.0.1",
                    listener.tcp_port,
                    listener.udp_port,
                    int(listeners[0].socket.getsockname()[1]),
                )
            schedule.add_round(start, end)
            if progress is not None:
                nursery.start_soon(_monitor, metrics, progress, inbound if callers else None)
            end_at = trio.current_time() + deadline
            round_began = head_end.clock()
            await run_schedule(head_end, schedule, deadline=deadline)
            while callers and inbound.queued() and trio.current_time() < end_at:
                await trio.sleep(0.5)  # meters behind NAT that have not called yet
            not_started = head_end.not_started
            await trio.sleep(2 * ingest.interval)  # the last refused pushes are counted
            nursery.cancel_scope.cancel()
        if callers:
            not_started += await _open_gaps_for_waiting(head_end, inbound, nat, round_began)
            summary = _summary(ingest, inbound, listener, nat)
        collection = time.perf_counter() - collect_began
        counters.persist()
        waiting.close()
    kpis = compute_kpis(store, inventory, now=_dt.datetime.now(_dt.UTC), days=[day], zone=IST)
    agreement = compare_with_truth(
        store,
        fleet,
        inventory,
        start,
        end,
        until=_dt.datetime.now(_dt.UTC) + _dt.timedelta(hours=1),
    )
    open_gaps = len(store.gaps(state=GapState.OPEN))
    transports = Counter(m.network.value for m in inventory)
    store.close()
    return DemoResult(
        kpis=kpis,
        agreement=agreement,
        seconds=time.perf_counter() - began,
        collection_seconds=collection,
        open_gaps=open_gaps,
        meters=meters,
        transports=dict(transports),
        max_queue_depth=metrics.max_queue_depth,
        field_cpu_seconds=field.cpu_seconds,
        not_started=not_started,
        head_end_cpu_seconds=time.process_time() - cpu_began,
        pushes=summary,
    )


def _summary(
    ingest: PushIngest, inbound: InboundSessions, listener: PushListener, nat: list[str]
) -> PushSummary:
    rejected = dict(ingest.rejected)
    counted = sum(rejected.values())
    if listener.rejected_count > counted:  # refused after the last count
        rejected["other"] = listener.rejected_count - counted
    return PushSummary(
        accepted=ingest.accepted,
        rejected=rejected,
        readings=ingest.readings,
        inbound_meters=len(nat),
        inbound_called=len(inbound.identified & set(nat)),
        inbound_connections=inbound.connections,
        inbound_sessions=inbound.sessions_run,
        inbound_failed=inbound.sessions_failed,
        inbound_unidentified=inbound.unidentified,
        inbound_waiting=inbound.queued(),
    )
