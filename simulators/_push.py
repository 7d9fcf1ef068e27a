"""Pushes: data-notifications from simulated meters to a head-end (IS 15959-2 push setups).

Each meter pushes, per push setup, a data-notification whose body is the structure of
the push object list values, protected with the Push association's keys (general-glo-
ciphering, authenticated and encrypted, the meter's system title). The periodic
instantaneous push (0.0.25.9.0.255) and a block load push (the last completed block
load row; ``BLOCK_LOAD_PUSH``, a simulator push setup) go out every period after a
per-meter random delay within the randomisation interval; a failed delivery is retried
``retries`` times ``repetition_delay`` apart. Alert pushes (0.4.25.9.0.255) carry the
ESW when an event whose ESWF bit is set happened since the previous round.

Faults of the meter's plan reach its pushes too: a meter whose link corrupts frames
(``corrupted_frame``, with the rule's probability per push) sends a push cut short
(garbage) or with a flipped authentication tag; a meter whose invocation counter was
reset (``counter_reset``) sends counters the head-end has already seen: each push is
followed by a copy of itself (a replay). Meters with wrong keys push under them.

One scheduler serves a whole fleet: a heap of due times, not a task per meter.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import random
from collections.abc import Sequence

import attrs
import trio

from dlmskit.apdu import DataNotification, LongInvokeIdAndPriority
from dlmskit.axdr import BitString, Data, Structure
from dlmskit.cosem import (
    IS15959_ALERT_PUSH,
    IS15959_ESW,
    ProfileKind,
    PushSetupDefinition,
    esw_bits,
    esw_from_bits,
)
from dlmskit.errors import LocalProtocolError, TransportError
from dlmskit.security import CipheringForm, SecurityContext
from obis import ObisCode
from simulators._attributes import BLOCK_LOAD_DAYS, date_time
from simulators._esw import event_bits
from simulators._faults import FaultKind
from simulators._fleet import Fleet
from simulators._load import INTERVAL, interval_index, mix
from simulators._meter import SimulatedMeter
from simulators._objects import BLOCK_LOAD_PUSH, block_load_push_setup
from simulators._registers import BLOCK_REGISTERS, REGISTERS, block_values
from transports import HdlcAddress, HdlcConnection, HdlcRole, encode_wpdu, open_tcp_wrapper

__all__ = [
    "BLOCK_LOAD_PUSH",
    "INSTANTANEOUS_PUSH",
    "PushConfig",
    "PushStats",
    "as_sent",
    "destination",
    "hdlc_push_frame",
    "notification",
    "run_pushes",
]

INSTANTANEOUS_PUSH = ObisCode(0, 0, 25, 9, 0)
#: Push setup transport_service values (Blue Book class 40) the simulator delivers on.
_TRANSPORT_SERVICES = {0: "tcp", 1: "udp", 5: "hdlc"}
_BLOCK_LOAD = ObisCode(1, 0, 99, 1, 0)
#: Push client SAP (IS 15959-2 push association) and the meter's logical device.
PUSH_SAP, METER_SAP = 0x40, 0x01


@attrs.frozen(kw_only=True)
class PushConfig:
    """Where and how often the meters push (push setup attributes 3, 4, 5, 6, 7).

    Each round every meter waits a random delay within ``randomisation`` seconds (drawn
    per meter and round from its seed) after the period starts; ``window`` (local
    meter-clock times, start inclusive, end exclusive) limits pushes to the
    communication window (IS 15959-2 default 00:00-20:00), ``None``: always.
    """

    host: str
    port: int = 4059
    #: ``tcp`` and ``udp`` carry the wrapper; ``hdlc`` is HDLC over TCP, each push one
    #: UI frame from the meter (server address 1) to the push client (SAP 64), no SNRM.
    transport: str = attrs.field(
        default="tcp", validator=attrs.validators.in_(("tcp", "udp", "hdlc"))
    )
    period: float = float(INTERVAL)
    randomisation: float = 60.0
    retries: int = 3
    repetition_delay: float = 5.0
    setups: tuple[ObisCode, ...] = (INSTANTANEOUS_PUSH, BLOCK_LOAD_PUSH)
    alerts: bool = True
    concurrency: int = 256
    window: tuple[_dt.time, _dt.time] | None = None

    def in_window(self, local: _dt.time) -> bool:
        if self.window is None:
            return True
        start, end = self.window
        if start <= end:
            return start <= local < end
        return local >= start or local < end  # a window across midnight


@attrs.define
class PushStats:
    """What the push scheduler did."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    alerts: int = 0
    corrupted: int = 0
    """Pushes sent cut short or with a broken authentication tag."""
    replayed: int = 0
    """Copies of pushes already sent (a meter whose counter was reset)."""


def _setup(meter: SimulatedMeter, logical_name: ObisCode) -> PushSetupDefinition:
    if logical_name == BLOCK_LOAD_PUSH:
        return block_load_push_setup(meter.profile)
    found = meter.profile.push_setup(logical_name)
    if found is None:
        raise ValueError(f"no push setup {logical_name}")
    return found


def notification(
    meter: SimulatedMeter,
    logical_name: ObisCode,
    context: SecurityContext | None = None,
    *,
    invoke_id: int = 0,
    esw: bytes | None = None,
) -> bytes:
    """The protected data-notification of one push setup of ``meter``, now; ``esw``
    replaces the ESW column (an alert carries the bits that raised it)."""
    setup = _setup(meter, logical_name)
    state = meter.state
    now = state.now()
    catalogue = meter.objects.catalogue
    index = interval_index(now)
    clock = state.meter_time(now)
    values: list[Data] = []
    if logical_name == BLOCK_LOAD_PUSH:
        profile = meter.profile.profile(_BLOCK_LOAD)
        assert profile is not None
        if profile.kind is ProfileKind.BLOCK_LOAD:
            last = _last_block_row(meter)
        else:
            rows = catalogue.rows(profile, state, None)
            last = rows[-1] if rows else Structure(())
        head = setup.push_object_list[:2]
        values = [catalogue.cell(c)(state, clock, index) for c in head]
        values += list(last)
    else:
        values = [catalogue.cell(c)(state, clock, index) for c in setup.push_object_list]
    if esw is not None:
        values = [
            BitString(length=128, value=esw) if c.logical_name == IS15959_ESW else v
            for c, v in zip(setup.push_object_list, values, strict=True)
        ]
    apdu = DataNotification(
        long_invoke_id_and_priority=LongInvokeIdAndPriority(invoke_id=invoke_id & 0xFFFFFF),
        date_time=state.date_time(clock),
        notification_body=Structure(values),
    ).to_bytes()
    ctx = context if context is not None else meter.push_context()
    return ctx.protect(apdu, form=CipheringForm.GENERAL_GLO)


def _last_block_row(meter: SimulatedMeter) -> Structure:
    """The last row of the block load buffer: the latest finished interval the meter
    recorded, worked out alone instead of computing every row of the buffer."""
    state = meter.state
    point = state.point
    end = interval_index(state.now())
    first = max(point.model.first_index, end - BLOCK_LOAD_DAYS * 96)
    order = BLOCK_REGISTERS[1 if point.model.phases == 1 else 3]
    for index in range(end - 1, first - 1, -1):
        row = point.interval(index)
        if row.reported is None:
            continue
        values = block_values(point, row)
        cells: list[Data] = [date_time(state, state.stamp(row.measured.index))]
        cells += [REGISTERS[ln].wrap(values[ln]) for ln in order]
        return Structure(cells)
    return Structure(())


def destination(meter: SimulatedMeter, config: PushConfig) -> PushConfig:
    """``config`` with the destination a head-end wrote into the meter's push setup
    (send_destination_and_method: transport 0 TCP / 1 UDP / 5 HDLC, ``host:port``), if
    any."""
    text = meter.state.push_destination.decode("ascii", "replace")
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return config
    transport = _TRANSPORT_SERVICES.get(meter.state.push_transport, "tcp")
    return attrs.evolve(config, host=host.strip("[]"), port=int(port), transport=transport)


def hdlc_push_frame(payload: bytes) -> bytes:
    """``payload`` as an HDLC UI frame (LLC header, Green Book 8.4.4) from the meter's
    management logical device to the push client: a push needs no HDLC connection."""
    link = HdlcConnection(
        HdlcRole.SERVER, server_address=HdlcAddress.server(METER_SAP), client_address=PUSH_SAP
    )
    try:
        return link.send_unnumbered(payload)
    except LocalProtocolError as exc:
        raise TransportError(f"push too large for one HDLC frame: {exc}") from None


async def _deliver(config: PushConfig, payload: bytes, stats: PushStats) -> None:
    for attempt in range(config.retries + 1):
        if attempt:
            stats.retried += 1
            await trio.sleep(config.repetition_delay)
        try:
            if config.transport == "tcp":
                transport = await open_tcp_wrapper(
                    config.host, config.port, client_wport=METER_SAP, server_wport=PUSH_SAP
                )
                try:
                    await transport.send_apdu(payload)
                finally:
                    await transport.aclose()
            elif config.transport == "hdlc":
                stream = await trio.open_tcp_stream(config.host, config.port)
                async with stream:
                    await stream.send_all(hdlc_push_frame(payload))
            else:
                sock = trio.socket.socket(trio.socket.AF_INET, trio.socket.SOCK_DGRAM)
                with sock:
                    await sock.sendto(
                        encode_wpdu(METER_SAP, PUSH_SAP, payload), (config.host, config.port)
                    )
            stats.sent += 1
            return
        except (TransportError, OSError):
            continue
    stats.failed += 1


def as_sent(
    meter: SimulatedMeter, payload: bytes, round_number: int, setup: int = 0
) -> list[bytes]:
    """What the meter's faults make of one push on its way out (see the module): the
    payload, a corrupted payload, or the payload and a replay of it."""
    chance = max((r.value for r in meter.state.rules(FaultKind.CORRUPTED_FRAME)), default=0.0)
    if chance > 0.0:
        draw = random.Random(mix(meter.identity.seed, 0xC0DE, round_number, setup)).random()
        if draw < chance / 2:
            payload = payload[: len(payload) // 2]  # cut short: not a push at all
        elif draw < chance:
            payload = payload[:-1] + bytes((payload[-1] ^ 0xFF,))  # tag no longer verifies
    if meter.state.rules(FaultKind.COUNTER_RESET):
        return [payload, payload]
    return [payload]


def _alert_due(meter: SimulatedMeter, since: _dt.datetime, now: _dt.datetime) -> bytes | None:
    """The ESW to push when events whose ESWF bit is set happened in (since, now]."""
    point = meter.state.point
    first, end = interval_index(since), interval_index(now) + 1
    events = [e for e in point.events(first, end) if since < e.when <= now]
    bits = event_bits(meter.profile, events) & set(esw_bits(meter.state.eswf))
    return esw_from_bits(bits) if bits else None


async def run_pushes(
    fleet: Fleet,
    config: PushConfig,
    *,
    stats: PushStats | None = None,
    meters: Sequence[int] | None = None,
    rounds: int | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Push from every meter (or ``meters``) each period until cancelled (or ``rounds``
    periods have passed); silent meters do not push."""
    counters = stats if stats is not None else PushStats()
    numbers = list(range(len(fleet))) if meters is None else list(meters)
    limiter = trio.CapacityLimiter(config.concurrency)
    start = trio.current_time()
    seeds = {number: fleet.identity(number).seed for number in numbers}

    def due_at(number: int, round_number: int) -> float:
        jitter = random.Random(mix(seeds[number], 0x9054, round_number)).random()
        return start + round_number * config.period + jitter * config.randomisation

    due: list[tuple[float, int, int]] = []
    for number in numbers:
        heapq.heappush(due, (due_at(number, 0), 0, number))
    last_round: dict[int, _dt.datetime] = {}
    task_status.started()

    async def push_one(number: int, round_number: int) -> None:
        async with limiter:
            meter = fleet.meter(number)
            local = meter.state.meter_time().astimezone(meter.state.local_zone)
            if meter.silent() or not config.in_window(local.time()):
                return
            target = destination(meter, config)
            for position, setup in enumerate(config.setups):
                payload = notification(meter, setup, invoke_id=round_number)
                sent = as_sent(meter, payload, round_number, position)
                if sent[0] != payload:
                    counters.corrupted += 1
                counters.replayed += len(sent) - 1
                for copy in sent:
                    await _deliver(target, copy, counters)
            now = meter.state.now()
            since = last_round.get(number)
            last_round[number] = now
            if config.alerts and since is not None:
                esw = _alert_due(meter, since, now)
                if esw is not None:
                    counters.alerts += 1
                    alert = notification(meter, IS15959_ALERT_PUSH.logical_name, esw=esw)
                    await _deliver(target, alert, counters)

    async with trio.open_nursery() as nursery:
        while due:
            when, round_number, number = heapq.heappop(due)
            if rounds is not None and round_number >= rounds:
                continue
            await trio.sleep_until(when)
            nursery.start_soon(push_one, number, round_number)
            heapq.heappush(due, (due_at(number, round_number + 1), round_number + 1, number))
