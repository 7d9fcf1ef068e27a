"""``dlmskit-hes run`` with push reception and meters behind NAT, against a simulated field
in its own process: the field's meters push over TCP and UDP to ``--push-port``, the
meters behind NAT (never dialled: their plan address is unreachable) call
``--inbound-port`` and their day is read over their own links; pushed rows of the
``--push-setup`` become readings."""

from __future__ import annotations

import datetime as dt
import json
import math
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hes import Inventory, Outcome, ReadingSource, Store, WorkKind, day_range
from hes._demo import FieldProcess
from hes._metrics_board import MetricsBoard, merge_metrics
from simulators import BLOCK_LOAD_PUSH, IST, Fleet, FleetLayout, meter_truth

METERS, SEED = 10, 5  # nine cellular meters (three behind NAT) and one Wi-SUN meter


def _free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


def _wait_listening(port: int, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("processes", [1, 2])
def test_run_receives_pushes_and_reads_meters_behind_nat(tmp_path: Path, processes: int) -> None:
    faults = tmp_path / "faults.json"
    faults.write_text("{}")
    plan = tmp_path / "field.json"
    db = tmp_path / "hes.db"
    push_port, inbound_port = _free_port(), _free_port()
    with FieldProcess(
        METERS,
        SEED,
        faults,
        plan,
        lossless=True,
        callers=True,
        nat_every=3,
        push_spread=2.0,
        dial_period=2.0,
    ) as field:
        head_end = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from hes._cli import main; main()",
                "run",
                "--inventory",
                str(plan),
                "--db",
                str(db),
                "--deadline",
                "12",
                "--listen-host",
                "127.0.0.1",
                "--push-port",
                str(push_port),
                "--inbound-port",
                str(inbound_port),
                "--push-setup",
                str(BLOCK_LOAD_PUSH),
                "--processes",
                str(processes),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_listening(push_port)
            field.go("127.0.0.1", push_port, push_port, inbound_port)
            output, _ = head_end.communicate(timeout=120)
        finally:
            head_end.kill()
            head_end.wait()
    assert head_end.returncode == 0, output
    counts = output.split()
    figures = dict(zip(counts[::2], counts[1::2], strict=False))
    entries = json.loads(plan.read_text())["meters"]
    nat = {e["meter"] for e in entries if e.get("behind_nat")}
    assert len(nat) == 3 and all(e["port"] == 1 for e in entries if e.get("behind_nat"))
    assert int(figures["pushes"]) >= METERS and figures["refused"] == "0", output
    assert int(figures["inbound"]) == 3 and figures["waiting"] == "0", output

    inventory = Inventory.load(plan)
    assert {m.name for m in inventory if m.behind_nat} == nat
    fleet = Fleet(FleetLayout(seed=SEED, meters=METERS))
    start, end = day_range((dt.datetime.now(IST) - dt.timedelta(days=1)).date(), IST)
    with Store(db) as store:
        for meter in inventory:
            sessions = store.sessions(meter=meter.name)
            kinds = {(s.kind, s.outcome) for s in sessions}
            assert (WorkKind.BLOCK_LOAD, Outcome.OK) in kinds, (meter.name, sessions)
            assert (WorkKind.PUSH, Outcome.OK) in kinds, meter.name
            assert not any(s.outcome is not Outcome.OK for s in sessions), sessions
        # the day read over the links the meters behind NAT opened equals the ground truth
        for identity in fleet.identities():
            if identity.name not in nat:
                continue
            stored = {
                (r.channel, r.start): r.value
                for r in store.readings(meter=identity.name, start=start, end=end)
            }
            truth = list(meter_truth(identity, fleet.plan, start, end, daily=False))
            assert truth and all(
                math.isclose(stored[(str(t.obis), t.start)] or 0.0, float(t.value or 0.0))
                for t in truth
            )
        # pushed block load rows became readings (today's latest interval)
        pushed = [r for r in store.readings(start=end) if r.source is ReadingSource.PUSH]
        assert {r.meter for r in pushed} == {m.name for m in inventory}
        assert store.query("SELECT count(*) FROM inbound_queue", ())[0][0] == 0


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """``dlmskit-hes run`` with ``args``, in a process of its own."""
    command = [sys.executable, "-c", "from hes._cli import main; main()", "run", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def test_run_in_two_processes_collects_every_meter(tmp_path: Path) -> None:
    faults = tmp_path / "faults.json"
    faults.write_text("{}")
    plan = tmp_path / "field.json"
    db = tmp_path / "hes.db"
    with FieldProcess(METERS, SEED, faults, plan, lossless=True):
        done = _run(
            *("--inventory", str(plan), "--db", str(db), "--deadline", "60"),
            *("--processes", "2", "--metrics-port", str(_free_port())),
        )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = dict(zip(done.stdout.split()[::2], done.stdout.split()[1::2], strict=False))
    assert figures["processes"] == "2"
    # each collection process published its metrics for the one serving /metrics
    with MetricsBoard(db.with_suffix(".metrics.db")) as board:
        snapshots = board.snapshots()
    assert sorted(snapshots) == ["shard 1/2", "shard 2/2"]
    shown = merge_metrics(snapshots.values())
    assert shown.sessions[("block_load", "ok")] == METERS == int(figures["sessions"])
    assert shown.readings == int(figures["readings"])
    inventory = Inventory.load(plan)
    fleet = Fleet(FleetLayout(seed=SEED, meters=METERS))
    start, end = day_range((dt.datetime.now(IST) - dt.timedelta(days=1)).date(), IST)
    with Store(db) as store:
        assert int(figures["readings"]) == store.count_readings()
        for meter in inventory:
            kinds = {(s.kind, s.outcome) for s in store.sessions(meter=meter.name)}
            assert (WorkKind.BLOCK_LOAD, Outcome.OK) in kinds, meter.name
        identity = fleet.identity(0)
        stored = {
            (r.channel, r.start): r.value
            for r in store.readings(meter=identity.name, start=start, end=end)
        }
        truth = list(meter_truth(identity, fleet.plan, start, end, daily=False))
        assert truth and all(
            math.isclose(stored[(str(t.obis), t.start)] or 0.0, float(t.value or 0.0))
            for t in truth
        )
