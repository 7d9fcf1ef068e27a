"""Ciphered push ingest: block-load data-notifications into the head-end's store.

Simulated meters (IS 15959-2, Push association keys, suite 0) produce their block-load
pushes beforehand: general-glo-ciphering, authenticated and encrypted, each with its
meter's system title and next invocation counter. Ingest, per notification, is what a
head-end does when one arrives: :meth:`dlmskit.client.PushListener.check` (find the
meter by system title, verify the tag, refuse a replayed counter, decode the
data-notification), type the body by the push object list
(:meth:`dlmskit.cosem.ProfileColumns.row`, register values scaled), build
:class:`hes.Reading` values and store them in the SQLite :class:`hes.Store` in batches.

Compared in the same run against the floor, bare ``AESGCM`` decryption with tag check
of the same notifications, and against the sizing target of 20,000 notifications per
second on this 2-core machine (a fixed figure, not a measurement).
"""

from __future__ import annotations

import datetime as dt
import pathlib
import tempfile
import time
from collections.abc import Sequence

from _harness import Measurement, is_quick
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dlmskit.apdu import DataNotification, LongInvokeIdAndPriority, decode_apdu
from dlmskit.axdr import Data, DeviationSign, OctetString, Structure
from dlmskit.client import MeterKeys as PushKeys
from dlmskit.client import PushListener
from dlmskit.cosem import CaptureObject, ProfileColumns, Quantity, ScalerUnit
from dlmskit.security import CipheringForm, SecurityContext
from hes import Reading, ReadingSource, Store
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

NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
HES_TITLE = bytes.fromhex("4845530000000001")
BLOCK_LOAD = ObisCode(1, 0, 99, 1, 0, 255)
TARGET = 20_000.0
#: Readings stored per transaction.
BATCH = 5_000
PEER = LinkAddress(host="127.0.0.1", port=40000)
Layout = tuple[dict[ObisCode, ScalerUnit], tuple[tuple[str, int], ...]]


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


def pushes(
    meters: int, per_meter: int
) -> tuple[list[bytes], dict[bytes, PushKeys], dict[str, ProfileColumns]]:
    """``per_meter`` block-load pushes (consecutive intervals) from each of ``meters``
    meters, interleaved as they would arrive; the head-end's key table by system title
    and push columns by meter.

    The simulator's own block-load push is made once per meter model; each meter's
    pushes reuse that row's values with the meter's device ID and the interval's capture
    time, ciphered with the meter's Push association context (its system title, its
    invocation counter).
    """
    fleet = Fleet(FleetLayout(seed=9, meters=meters), clock=lambda: NOW, max_active=meters)
    opener = SecurityContext(
        system_title=HES_TITLE, global_unicast_key=DEFAULT_EK, authentication_key=DEFAULT_AK
    )
    templates: dict[MeterModel, tuple[Data, ...]] = {}
    columns: dict[MeterModel, ProfileColumns] = {}
    keys: dict[bytes, PushKeys] = {}
    by_meter: dict[str, ProfileColumns] = {}
    rounds: list[list[bytes]] = [[] for _ in range(per_meter)]
    for number in range(meters):
        meter = fleet.meter(number)
        identity = meter.identity
        model = identity.model
        if model not in templates:
            sent = decode_apdu(opener.unprotect(notification(meter, BLOCK_LOAD_PUSH)))
            assert isinstance(sent, DataNotification)
            assert isinstance(sent.notification_body, Structure)
            templates[model] = tuple(sent.notification_body)
            columns[model] = _columns(meter)
        keys[identity.system_title] = PushKeys(
            name=identity.name, encryption_key=DEFAULT_EK, authentication_key=DEFAULT_AK
        )
        by_meter[identity.name] = columns[model]
        template = templates[model]
        context = meter.push_context()
        for r in range(per_meter):
            when = meter.state.date_time(NOW - dt.timedelta(minutes=15 * (per_meter - r)))
            values: list[Data] = [
                OctetString(identity.name.encode()),
                template[1],
                OctetString(when.to_bytes()),
            ]
            apdu = DataNotification(
                long_invoke_id_and_priority=LongInvokeIdAndPriority(invoke_id=r),
                date_time=meter.state.date_time(NOW),
                notification_body=Structure(values + list(template[3:])),
            ).to_bytes()
            rounds[r].append(context.protect(apdu, form=CipheringForm.GENERAL_GLO))
    return [apdu for batch in rounds for apdu in batch], keys, by_meter


class Ingest:
    """The head-end's side: listener check, typed row, readings, batched store."""

    def __init__(
        self, keys: dict[bytes, PushKeys], columns: dict[str, ProfileColumns], store: Store
    ) -> None:
        self.listener = PushListener(keys, system_title=HES_TITLE, allow_plain=False, buffer=1)
        self.columns = columns
        # learnt once per meter model: the scalers and which columns are readings
        self.layouts: dict[int, Layout] = {}
        for model in columns.values():
            scalers = {
                c.logical_name: REGISTERS[c.logical_name].scaler_unit
                for c in model
                if c.is_register_value and c.logical_name in REGISTERS
            }
            channels = tuple(
                (str(c.logical_name), c.index) for c in model if c.logical_name in scalers
            )
            self.layouts[id(model)] = (scalers, channels)
        self.store = store
        self.pending: list[Reading] = []
        self.stored = 0

    def receive(self, apdu: bytes) -> None:
        push = self.listener.check(apdu, PEER, "tcp")
        if push is None:
            raise RuntimeError(f"push refused: {self.listener.rejected[-1].reason}")
        note = push.notification
        if not isinstance(note, DataNotification):
            raise RuntimeError(f"{push.meter} sent an event notification")
        columns = self.columns[push.meter]
        scalers, channels = self.layouts[id(columns)]
        row = columns.row(note.notification_body, sign=DeviationSign.UTC_TO_LOCAL, scalers=scalers)
        if row.time is None:
            raise RuntimeError(f"a push from {push.meter} has no capture time")
        when = row.time.astimezone(dt.UTC)  # once per push, not per reading
        for channel, index in channels:
            value = row.values[index]
            if isinstance(value, Quantity):
                self.pending.append(
                    Reading(
                        meter=push.meter,
                        channel=channel,
                        start=when,
                        value=float(value.value),
                        unit=value.symbol,
                        received=push.received_at,
                        source=ReadingSource.PUSH,
                    )
                )
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        self.store.put_readings(self.pending)
        self.stored += len(self.pending)
        self.pending.clear()


def ingest_rate(
    apdus: Sequence[bytes], keys: dict[bytes, PushKeys], columns: dict[str, ProfileColumns]
) -> tuple[float, int]:
    """Notifications per second through :class:`Ingest`, and the readings stored."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(pathlib.Path(tmp) / "hes.sqlite", synchronous="NORMAL")
        try:
            ingest = Ingest(keys, columns, store)
            start = time.perf_counter()
            for apdu in apdus:
                ingest.receive(apdu)
            ingest.flush()
            elapsed = time.perf_counter() - start
            assert store.count_readings() == ingest.stored
        finally:
            store.close()
    return len(apdus) / elapsed, ingest.stored


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
    apdus, keys, columns = pushes(meters, per_meter)
    ours, stored = 0.0, 0
    floor = 0.0
    for _ in range(1 if is_quick() else 3):
        rate, stored = ingest_rate(apdus, keys, columns)
        ours = max(ours, rate)
        floor = max(floor, floor_rate(apdus))
    what = (
        f"{len(apdus):,} block-load pushes from {meters:,} meters, {stored:,} readings "
        "stored; check, type, store in one process, no sockets"
    )
    return [
        Measurement(
            name="ciphered push ingest (decipher, verify, decode, type, store)",
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
