"""The collection-rate benchmark runs the issue's session against a simulator process."""

from __future__ import annotations

import importlib
import pathlib
import sys
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "bench"))
collect: Any = importlib.import_module("bench_collect")


def test_head_end_and_bare_client_collect_every_meter_of_a_simulator_process() -> None:
    ours, floor = collect.measure(12)
    for one in (ours, floor):
        assert one.meters == 12 and one.wall > 0 and one.rate > 0
        assert one.cpu > 0 and one.simulator_cpu > 0
        assert 0 <= one.main_cpu <= one.cpu + 1e-3  # two clocks, read one after the other
    # the bare client keeps nothing: the head-end does more work per meter
    assert ours.cpu_ms > floor.cpu_ms


def test_a_day_goes_into_a_store_holding_a_week_of_the_same_readings() -> None:
    _ours, _floor, grown = collect._measure(8, growth=True)
    held, empty = grown  # each raises if a shifted day overlapped another
    assert held > 0 and empty > 0


def test_the_session_is_hls_gmac_on_the_utility_settings_association() -> None:
    from dlmskit.apdu import MechanismName
    from dlmskit.security import MemoryCounterStore

    association = collect.gmac_association(MemoryCounterStore())
    assert association.mechanism is MechanismName.HIGH_GMAC
    assert association.client_sap == 0x30 and association.ciphered


def test_measurements_compare_rates_and_cpu_per_meter() -> None:
    ours = collect.Pass(meters=100, wall=0.5, cpu=0.4, main_cpu=0.3, simulator_cpu=0.2)
    floor = collect.Pass(meters=100, wall=0.25, cpu=0.1, main_cpu=0.1, simulator_cpu=0.2)
    rate, target, cpu = collect.measurements(100, ours, floor)
    assert rate.ours == 200 and rate.peer == 400 and rate.ratio == 0.5 and rate.target == 0.5
    assert target.peer == 500 and target.ratio == 0.4 and target.target == 1.0
    # 4 ms of head-end CPU against 2 of simulator CPU a meter: the head-end bounds the rate
    assert cpu.ours == 4.0 and cpu.peer == 2.0 and cpu.ratio == 0.5
    assert "1.00 ms in the store" in cpu.note
