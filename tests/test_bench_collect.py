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


def test_the_session_is_hls_gmac_on_the_utility_settings_association() -> None:
    from dlmskit.apdu import MechanismName
    from dlmskit.security import MemoryCounterStore

    association = collect.gmac_association(MemoryCounterStore())
    assert association.mechanism is MechanismName.HIGH_GMAC
    assert association.client_sap == 0x30 and association.ciphered
