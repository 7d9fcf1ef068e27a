"""Invocation counter stores: monotonic, exhaustion, and survival across a process restart."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

from dlmskit.errors import SecurityError
from dlmskit.security import (
    MAX_INVOCATION_COUNTER,
    FileCounterStore,
    InvocationCounterExhausted,
    InvocationCounterStore,
    MemoryCounterStore,
)

ST = bytes.fromhex("4D4D4D0000000001")
OTHER = bytes.fromhex("4D4D4D0000000002")


def _stores(tmp_path: pathlib.Path) -> list[InvocationCounterStore]:
    return [MemoryCounterStore(), FileCounterStore(tmp_path / "ic.json", reserve=4)]


def test_counters_are_per_title_and_key_and_monotonic(tmp_path: pathlib.Path) -> None:
    for store in _stores(tmp_path):
        assert [store.next(ST, 0) for _ in range(10)] == list(range(10))
        assert store.next(ST, 1) == 0
        assert store.next(OTHER, 0) == 0
        assert store.next(ST, 0) == 10
        store.reset(ST, 0, 100)
        assert store.next(ST, 0) == 100


def test_exhaustion(tmp_path: pathlib.Path) -> None:
    for store in _stores(tmp_path):
        store.reset(ST, 0, MAX_INVOCATION_COUNTER - 1)
        assert store.next(ST, 0) == MAX_INVOCATION_COUNTER - 1
        assert store.next(ST, 0) == MAX_INVOCATION_COUNTER
        with pytest.raises(InvocationCounterExhausted, match="change the key") as info:
            store.next(ST, 0)
        assert isinstance(info.value, SecurityError)
        with pytest.raises(InvocationCounterExhausted):
            store.next(ST, 0)
        store.reset(ST, 0)
        assert store.next(ST, 0) == 0


def test_file_store_reopened_never_reuses_a_value(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ic.json"
    first = FileCounterStore(path, reserve=8)
    used = [first.next(ST, 0) for _ in range(5)]
    # no persist(): a crash; the reservation still protects every value handed out
    second = FileCounterStore(path, reserve=8)
    following = second.next(ST, 0)
    assert following > max(used)
    assert following == 8
    second.next(ST, 0)
    second.persist()  # clean shutdown: the exact state, no gap
    third = FileCounterStore(path)
    assert third.next(ST, 0) == 10
    data = json.loads(path.read_text())
    assert data["counters"][0]["system_title"] == ST.hex().upper()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ic-")]


def test_file_store_writes_only_on_reservation(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ic.json"
    store = FileCounterStore(path, reserve=100)
    store.next(ST, 0)
    stamp = path.stat().st_mtime_ns
    text = path.read_text()
    for _ in range(98):
        store.next(ST, 0)
    assert path.read_text() == text and path.stat().st_mtime_ns == stamp
    store.next(ST, 0)  # value 99, still inside the reservation
    store.next(ST, 0)  # value 100 needs a new reservation
    assert json.loads(path.read_text())["counters"][0]["next"] == 200


def test_file_store_survives_a_process_restart(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ic.json"
    script = textwrap.dedent(
        f"""
        import sys
        from dlmskit.security import FileCounterStore, SecurityContext
        store = FileCounterStore({str(path)!r}, reserve=16)
        ctx = SecurityContext(
            system_title=bytes.fromhex("{ST.hex()}"),
            peer_system_title=bytes.fromhex("{OTHER.hex()}"),
            global_unicast_key=bytes(16), authentication_key=bytes(range(16)),
            counter_store=store,
        )
        for _ in range(int(sys.argv[1])):
            wire = ctx.protect(bytes.fromhex("C0010000080000010000FF0200"))
            print(int.from_bytes(wire[3:7], "big"))
        if sys.argv[2] == "persist":
            store.persist()
        """
    )

    def run(n: int, mode: str) -> list[int]:
        out = subprocess.run(
            [sys.executable, "-c", script, str(n), mode],
            check=True,
            capture_output=True,
            text=True,
            cwd=pathlib.Path(__file__).resolve().parent.parent,
        )
        return [int(line) for line in out.stdout.split()]

    first = run(20, "crash")
    second = run(3, "persist")
    third = run(2, "crash")
    assert first == list(range(20))
    assert min(second) > max(first)
    assert third[0] == max(second) + 1


def test_corrupt_file_is_a_security_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ic.json"
    path.write_text("{not json")
    with pytest.raises(SecurityError, match="unreadable"):
        FileCounterStore(path)
    path.write_text(json.dumps({"version": 1, "counters": [{"system_title": "zz"}]}))
    with pytest.raises(SecurityError, match="malformed"):
        FileCounterStore(path)


def test_memory_store_rejects_out_of_range_values() -> None:
    with pytest.raises(ValueError):
        MemoryCounterStore({(ST, 0): -1})
    store = MemoryCounterStore()
    with pytest.raises(ValueError):
        store.reset(ST, 0, 2**33)
    assert store.peek(ST, 0) == 0
