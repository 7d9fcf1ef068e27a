"""The push ingest benchmark: real ciphered pushes go through and are stored; a tampered
or replayed one is refused."""

from __future__ import annotations

import importlib
import pathlib
import sys
from typing import Any

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "bench"))
push: Any = importlib.import_module("bench_push")
hes: Any = importlib.import_module("hes")


@pytest.fixture(scope="module")
def generated() -> Any:
    return push.pushes(6, 3)


def test_every_push_becomes_readings(generated: Any, tmp_path: pathlib.Path) -> None:
    apdus, keys, columns = generated
    assert len(apdus) == 18 and len(keys) == 6 and len(columns) == 6
    store = hes.Store(tmp_path / "hes.sqlite")
    try:
        ingest = push.Ingest(keys, columns, store)
        for apdu in apdus:
            ingest.receive(apdu)
        ingest.flush()
        readings = list(store.readings())
    finally:
        store.close()
    meters = {r.meter for r in readings}
    assert meters == {keys[title].name for title in keys}
    # three consecutive intervals per meter, every register column a reading
    for name in meters:
        starts = sorted({r.start for r in readings if r.meter == name})
        assert len(starts) == 3
        assert (starts[1] - starts[0]).total_seconds() == 900
    assert all(r.source == hes.ReadingSource.PUSH for r in readings)
    assert ingest.stored == len(readings) > 18 * 4


def test_replayed_and_tampered_pushes_are_refused(generated: Any, tmp_path: pathlib.Path) -> None:
    apdus, keys, columns = generated
    store = hes.Store(tmp_path / "hes.sqlite")
    try:
        ingest = push.Ingest(keys, columns, store)
        ingest.receive(apdus[0])
        with pytest.raises(RuntimeError, match="refused"):
            ingest.receive(apdus[0])
        tampered = apdus[1][:-1] + bytes((apdus[1][-1] ^ 1,))
        with pytest.raises(RuntimeError, match="refused"):
            ingest.receive(tampered)
    finally:
        store.close()


def test_floor_decrypts_the_same_notifications(generated: Any) -> None:
    apdus, _, _ = generated
    assert push.floor_rate(apdus) > 0
    bad = apdus[0][:-1] + bytes((apdus[0][-1] ^ 1,))
    with pytest.raises(ValueError, match="tag"):
        push.floor_rate([bad])


def test_ingest_rate_counts_what_was_stored(generated: Any) -> None:
    apdus, keys, columns = generated
    rate, stored = push.ingest_rate(apdus, keys, columns)
    assert rate > 0 and stored > len(apdus) * 4
