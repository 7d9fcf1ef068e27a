"""The push ingest benchmark: real ciphered pushes go through the library's ingest path
and are stored (the same readings as pushes stored one by one through
:func:`hes.push_readings`); a tampered or replayed one is refused."""

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
    assert len(generated.apdus) == 18 and len(generated.inventory) == 6
    with hes.Store(tmp_path / "hes.sqlite") as store:
        ingest = push.ingest(generated, store)
        readings = list(store.readings())
        receipts = store.sessions()
    meters = {r.meter for r in readings}
    assert meters == {m.name for m in generated.inventory}
    # three consecutive intervals per meter, every register column a reading
    for name in meters:
        starts = sorted({r.start for r in readings if r.meter == name})
        assert len(starts) == 3
        assert (starts[1] - starts[0]).total_seconds() == 900
    assert all(r.source == hes.ReadingSource.PUSH for r in readings)
    assert ingest.readings == len(readings) > 18 * 4
    assert ingest.accepted == len(receipts) == 18
    assert all(s.kind is hes.WorkKind.PUSH for s in receipts)


def test_the_ingest_path_stores_what_per_push_readings_store(
    generated: Any, tmp_path: pathlib.Path
) -> None:
    with hes.Store(tmp_path / "batched.sqlite") as store:
        listener, ingest = push.head_end(generated, store)
        accepted = push.checked(listener, generated.apdus)
        ingest.commit(ingest.prepare(accepted))
        batched = list(store.readings())
    with hes.Store(tmp_path / "one_by_one.sqlite") as store:
        for one in accepted:
            info = generated.inventory[one.meter]
            store.put_readings(hes.push_readings(one, info, generated.layouts, sign=push.SIGN))
        assert batched == list(store.readings())
    assert len(batched) > 18 * 4
    assert ingest._rows().general == 0  # every push of the fleet went the columnar way


def test_replayed_and_tampered_pushes_are_refused(generated: Any, tmp_path: pathlib.Path) -> None:
    apdus = generated.apdus
    with hes.Store(tmp_path / "hes.sqlite") as store:
        listener, _ = push.head_end(generated, store)
        push.checked(listener, apdus[:1])
        with pytest.raises(RuntimeError, match="refused"):
            push.checked(listener, apdus[:1])
        tampered = apdus[1][:-1] + bytes((apdus[1][-1] ^ 1,))
        with pytest.raises(RuntimeError, match="refused"):
            push.checked(listener, [tampered])


def test_floor_decrypts_the_same_notifications(generated: Any) -> None:
    apdus = generated.apdus
    assert push.floor_rate(apdus) > 0
    bad = apdus[0][:-1] + bytes((apdus[0][-1] ^ 1,))
    with pytest.raises(ValueError, match="tag"):
        push.floor_rate([bad])


def test_ingest_rate_counts_what_was_stored(generated: Any) -> None:
    rate, stored = push.ingest_rate(generated)
    assert rate > 0 and stored > len(generated.apdus) * 4
