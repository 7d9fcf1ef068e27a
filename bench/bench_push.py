"""Ciphered push ingest: block-load data-notifications into the head-end's store.

Simulated meters (IS 15959-2, Push association keys, suite 0) produce their block-load
pushes beforehand: general-glo-ciphering, authenticated and encrypted, each with its
meter's system title and next invocation counter. Ingest is the library's own path, what
:class:`hes.PushIngest` runs for every notification a :class:`dlmskit.client.PushListener`
hands it:

- :meth:`dlmskit.client.PushListener.check`: find the meter by system title (the
  inventory's key lookup, :func:`hes.push_keys`), verify the tag, refuse a replayed
  counter, decode the data-notification;
- :meth:`hes.PushIngest.prepare`, per batch of ``BATCH`` pushes: a receipt (session
  record) per push, and the row typed through the push setup's layout learnt for the
  meter model (:class:`hes.LayoutCache`), validated (alignment, clock status bits,
  clock deviation, reverse energy) into store rows (:class:`hes.PushRows`, the same rows
  :func:`hes.push_readings` gives);
- :meth:`hes.PushIngest.commit`: one SQLite transaction per batch (WAL,
  ``synchronous="FULL"``, the store's default: the WAL is on disk when a commit
  returns, so neither a process crash nor a power cut loses an acknowledged batch; see
  :class:`hes.Store`), the readings upserted and the receipts added.

What runs where: the main thread checks and prepares batch N+1 while one writer thread
commits batch N (at most one batch in flight, as :meth:`hes.PushIngest.run` does with a
trio worker thread). SQLite releases the GIL while it steps through a statement (a
commit is about ten statements of up to 2,048 rows each), so the store's B-tree and WAL
work runs on the second core; everything else shares the GIL. After each statement the
writer needs the GIL back: a receiving loop hands it over whenever it waits on its
sockets, but this loop over APDUs in memory never waits, so the interpreter's switch
interval is lowered to ``SWITCH_INTERVAL`` for the run (with CPython's 5 ms the writer
would idle up to 5 ms per statement).

The fixture is built first and frozen out of the garbage collector's full passes
(``gc.freeze``, undone after the run): the simulated fleet and the prepared APDUs are
the benchmark's, not the head-end's, as a long-running head-end would freeze its own
start-up heap (inventory, layouts).

Compared in the same run against the floor, bare ``AESGCM`` decryption with tag check
of the same notifications, and against the sizing target of 20,000 notifications per
second on this 2-core machine (a fixed figure, not a measurement).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import gc
import pathlib
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Literal

import attrs
from _harness import Measurement, is_quick
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dlmskit.apdu import DataNotification, LongInvokeIdAndPriority, decode_apdu
from dlmskit.axdr import Data, DeviationSign, OctetString, Structure
from dlmskit.client import Push, PushListener
from dlmskit.cosem import CaptureObject, ProfileColumns
from dlmskit.security import CipheringForm, SecurityContext
from hes import Inventory, LayoutCache, MeterInfo, PushBatch, PushIngest, Store, push_keys
from hes._session import ProfileLayout
from obis import ObisCode
from simulators import (
    BLOCK_LOAD_PUSH,
    DEFAULT_AK,
    DEFAULT_EK,
    REGISTERS,
    Fleet,
    FleetLayout,
    MeterModel,
    SimulatedMeter,
    notification,
)
from transports import LinkAddress

HES_TITLE = bytes.fromhex("4845530000000001")
BLOCK_LOAD = ObisCode(1, 0, 99, 1, 0, 255)
TARGET = 20_000.0
#: Pushes per store transaction.
BATCH = 512
PEER = LinkAddress(host="127.0.0.1", port=40000)
#: Seconds a thread runs before one waiting for the GIL gets it (CPython's default is
#: 0.005); see the module docstring.
SWITCH_INTERVAL = 0.0002
SYNCHRONOUS: Literal["FULL", "NORMAL"] = "FULL"
SIGN = DeviationSign.UTC_TO_LOCAL


@attrs.frozen(kw_only=True)
class Pushes:
    """Ciphered pushes as they would arrive, and what the head-end knows beforehand:
    its inventory (system titles, models) and the push layout of each model."""

    apdus: list[bytes]
    inventory: Inventory
    layouts: LayoutCache


def _columns(meter: SimulatedMeter) -> ProfileColumns:
    """The block-load push's object list: device ID, push setup, the block-load row."""
    profile = meter.profile.profile(BLOCK_LOAD)
    assert profile is not None
    return ProfileColumns.of(
        (
            CaptureObject.of(1, "0.0.96.1.2.255", 2),
            CaptureObject.of(40, BLOCK_LOAD_PUSH, 1),
            *profile.capture_objects,
        )
    )


def pushes(meters: int, per_meter: int) -> Pushes:
    """``per_meter`` block-load pushes (consecutive intervals, the last ending now) from
    each of ``meters`` meters, interleaved as they would arrive.

    The simulator's own block-load push is made once per meter model; each meter's
    pushes reuse that row's values with the meter's device ID and the interval's capture
    time, ciphered with the meter's Push association context (its system title, its
    invocation counter). The layout of each model is the push setup's object list with
    the model's scalers, as :meth:`hes.LayoutCache.push_layout` reads it from a meter.
    """
    # the meters' clocks and the pushes' interval ends sit on this run's own clock, so the
    # head-end sees the small deviations of a live fleet
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    fleet = Fleet(FleetLayout(seed=9, meters=meters), clock=lambda: now, max_active=meters)
    opener = SecurityContext(
        system_title=HES_TITLE, global_unicast_key=DEFAULT_EK, authentication_key=DEFAULT_AK
    )
    templates: dict[MeterModel, tuple[Data, ...]] = {}
    layouts = LayoutCache()
    infos: list[MeterInfo] = []
    rounds: list[list[bytes]] = [[] for _ in range(per_meter)]
    end = now.replace(minute=now.minute - now.minute % 15)
    for number in range(meters):
        meter = fleet.meter(number)
        identity = meter.identity
        model = identity.model
        if model not in templates:
            sent = decode_apdu(opener.unprotect(notification(meter, BLOCK_LOAD_PUSH)))
            assert isinstance(sent, DataNotification)
            assert isinstance(sent.notification_body, Structure)
            templates[model] = tuple(sent.notification_body)
            columns = _columns(meter)
            scalers = {
                c.logical_name: REGISTERS[c.logical_name].scaler_unit
                for c in columns
                if c.is_register_value and c.logical_name in REGISTERS
            }
            layout = ProfileLayout(columns=columns, scalers=scalers)
            layouts.add(model.name.lower(), BLOCK_LOAD_PUSH, layout)
        infos.append(
            MeterInfo(
                name=identity.name,
                host="127.0.0.1",
                system_title=identity.system_title,
                model=model.name.lower(),
                net_metered=identity.net_metered,
            )
        )
        template = templates[model]
        context = meter.push_context()
        for r in range(per_meter):
            when = meter.state.date_time(end - dt.timedelta(minutes=15 * (per_meter - 1 - r)))
            values: list[Data] = [
                OctetString(identity.name.encode()),
                template[1],
                OctetString(when.to_bytes()),
            ]
            apdu = DataNotification(
                long_invoke_id_and_priority=LongInvokeIdAndPriority(invoke_id=r),
                date_time=meter.state.date_time(now),
                notification_body=Structure(values + list(template[3:])),
            ).to_bytes()
            rounds[r].append(context.protect(apdu, form=CipheringForm.GENERAL_GLO))
    return Pushes(
        apdus=[apdu for batch in rounds for apdu in batch],
        inventory=Inventory(infos),
        layouts=layouts,
    )


def head_end(fixture: Pushes, store: Store) -> tuple[PushListener, PushIngest]:
    """The receiving side: a listener with the inventory's key lookup, and the ingest."""
    keys = push_keys(fixture.inventory, lambda meter: (DEFAULT_EK, DEFAULT_AK))
    listener = PushListener(keys, system_title=HES_TITLE, allow_plain=False, buffer=1)
    ingest = PushIngest(
        store, batch=BATCH, inventory=fixture.inventory, layouts=fixture.layouts, sign=SIGN
    )
    return listener, ingest


def checked(listener: PushListener, apdus: Sequence[bytes]) -> list[Push]:
    """Every APDU through the listener's check (a refusal stops the benchmark)."""
    out = []
    for apdu in apdus:
        push = listener.check(apdu, PEER, "tcp")
        if push is None:
            raise RuntimeError(f"push refused: {listener.rejected[-1].reason}")
        out.append(push)
    return out


def ingest(fixture: Pushes, store: Store) -> PushIngest:
    """Check, prepare and commit every push, a batch in flight on the writer thread
    while the next one is checked and prepared."""
    listener, pushes_in = head_end(fixture, store)
    apdus = fixture.apdus
    interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as writer:
            flight: concurrent.futures.Future[int] | None = None
            for first in range(0, len(apdus), BATCH):
                accepted = checked(listener, apdus[first : first + BATCH])
                batch: PushBatch = pushes_in.prepare(accepted)
                if flight is not None:
                    flight.result()
                flight = writer.submit(pushes_in.commit, batch)
            if flight is not None:
                flight.result()
    finally:
        sys.setswitchinterval(interval)
    return pushes_in


def ingest_rate(fixture: Pushes) -> tuple[float, int]:
    """Notifications per second through the library's ingest path, and the readings
    stored."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(pathlib.Path(tmp) / "hes.sqlite", synchronous=SYNCHRONOUS)
        try:
            start = time.perf_counter()
            done = ingest(fixture, store)
            elapsed = time.perf_counter() - start
            assert done.accepted == len(fixture.apdus)
            assert store.count_readings() == done.readings
        finally:
            store.close()
    return len(fixture.apdus) / elapsed, done.readings


def floor_rate(apdus: Sequence[bytes]) -> float:
    """Notifications per second through bare AES-GCM decryption and tag check."""
    aead = AESGCM(DEFAULT_EK)
    prepared = []
    for apdu in apdus:
        # general-glo-ciphering: tag, 8-byte title, length, SC, IC(4), ciphertext, tag(12)
        title = apdu[2:10]
        body = apdu[11:] if apdu[10] < 0x80 else apdu[11 + (apdu[10] & 0x7F) :]
        sc, ic, rest = body[0], body[1:5], body[5:]
        prepared.append((title + ic, rest, bytes((sc,)) + DEFAULT_AK))
    gcm12 = _Gcm12(aead)
    start = time.perf_counter()
    for iv, rest, aad in prepared:
        gcm12.decrypt(iv, rest, aad)
    return len(prepared) / (time.perf_counter() - start)


class _Gcm12:
    """AES-GCM with the 12-byte tags of DLMS: recompute the tag and compare."""

    def __init__(self, aead: AESGCM) -> None:
        self.aead = aead

    def decrypt(self, iv: bytes, data: bytes, aad: bytes) -> bytes:
        size = len(data) - 12
        plain = self.aead.encrypt(iv, data[:size], None)[:size]
        if self.aead.encrypt(iv, plain, aad)[size:-4] != data[size:]:
            raise ValueError("tag mismatch")
        return plain


def run() -> list[Measurement]:
    meters, per_meter = (50, 4) if is_quick() else (1_000, 24)
    fixture = pushes(meters, per_meter)
    # what exists now (the simulated fleet's leftovers, the pushes, the inventory) stays
    # out of the collector's full passes, as a head-end freezes its start-up heap; what
    # ingest allocates is collected as usual
    frozen_before = gc.get_freeze_count()
    gc.collect()
    gc.freeze()
    ours, stored = 0.0, 0
    floor = 0.0
    try:
        for _ in range(1 if is_quick() else 3):
            rate, stored = ingest_rate(fixture)
            ours = max(ours, rate)
            floor = max(floor, floor_rate(fixture.apdus))
    finally:
        if not frozen_before:  # unfreezing is all or nothing: never thaw a caller's
            gc.unfreeze()
    what = (
        f"{len(fixture.apdus):,} block-load pushes from {meters:,} meters, {stored:,} readings"
        f" and a receipt per push stored (WAL, synchronous={SYNCHRONOUS}); hes.PushIngest's path"
        " (listener check, prepare, commit on a writer thread), one process, no sockets"
    )
    return [
        Measurement(
            name="ciphered push ingest (decipher, verify, decode, type, validate, store)",
            unit="notifications/s",
            ours=ours,
            peer_name="bare AES-GCM decrypt + tag check (floor)",
            peer=floor,
            note=what,
        ),
        Measurement(
            name="ciphered push ingest against the sizing target",
            unit="notifications/s",
            ours=ours,
            peer_name="target 20,000/s (a fixed figure)",
            peer=TARGET,
            target=1.0,
            note=what,
        ),
    ]
