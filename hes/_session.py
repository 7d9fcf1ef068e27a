"""One collection session with a meter, on the public client SDK.

The workflow (IS 15959-2 meter reader association, suite 0 ciphering): open the
secured association with the head-end's monotonic invocation counter (read from the
meter's frame counter object first when the head-end has none), read the clock with its
round trip, read the block load profile, the daily profile and the event logs by range,
release. Profile layouts (capture objects and scalers) are learnt once per meter model
and reused. Every wait is bounded: a meter that is slow, silent or sends garbage ends
only its own session, with an :class:`~hes.Outcome` for the KPIs.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Protocol, cast

import attrs
import trio

from dlmskit.apdu import SelectiveAccess
from dlmskit.axdr import DateTime, DeviationSign, OctetString
from dlmskit.client import (
    Association,
    AssociationRefused,
    AuthenticationFailure,
    LinkSettings,
    Meter,
    MeterTimeout,
    connect,
    scaler_profile_of,
)
from dlmskit.client import Target as ClientTarget
from dlmskit.cosem import (
    CaptureObject,
    NumericColumns,
    ProfileColumns,
    Quantity,
    ScalerUnit,
    by_time_range,
    column_units,
    numeric_columns,
)
from dlmskit.errors import (
    DecodeError,
    RemoteProtocolError,
    SecurityError,
    ServiceError,
    TransportError,
)
from hes._inventory import MeterInfo, Network
from hes._model import MeterEventRecord, Outcome, Reading, ReadingSource, utc
from hes._timing import ClockReading
from hes._validate import IntervalColumns, IntervalRow
from obis import ObisCode
from transports import GatewayMultiplexer, open_gateway_multiplexer, open_tcp_wrapper

__all__ = [
    "BILLING_PROFILE",
    "BLOCK_LOAD",
    "DAILY_PROFILE",
    "EVENT_LOGS",
    "Connector",
    "FieldConnector",
    "LayoutCache",
    "ProfileLayout",
    "SessionData",
    "TcpConnector",
    "outcome_of",
    "read_meter",
]

BLOCK_LOAD = ObisCode(1, 0, 99, 1, 0, 255)
DAILY_PROFILE = ObisCode(1, 0, 99, 2, 0, 255)
#: IS 15959-2 billing profile: one entry per billing period, stamped with the billing date.
BILLING_PROFILE = ObisCode(1, 0, 98, 1, 0, 255)
#: Billing date (IS 15959-2: a register whose value is the date-time of the billing).
BILLING_DATE = ObisCode(0, 0, 0, 1, 2, 255)
#: Event logs read with every session: current related (1) and power related (2).
EVENT_LOGS = (ObisCode(0, 0, 99, 98, 1, 255), ObisCode(0, 0, 99, 98, 2, 255))
_SECOND = _dt.timedelta(seconds=1)
_NO_ROWS = IntervalColumns(captured=(), clock_status=(), channels=(), units=(), values=())


class Connector(Protocol):
    """How to reach a meter: an address string or an open transport for the client."""

    def open(self, meter: MeterInfo, sap: int = 0x20) -> AbstractAsyncContextManager[ClientTarget]:
        """The target for a session of client SAP ``sap`` with ``meter``."""
        ...


class _Address(AbstractAsyncContextManager[ClientTarget]):
    def __init__(self, target: str) -> None:
        self.target = target

    async def __aenter__(self) -> ClientTarget:
        return self.target

    async def __aexit__(self, *exc: object) -> None:
        return None


@attrs.frozen
class TcpConnector:
    """Cellular and Wi-SUN meters by address: the wrapper over TCP (``udp`` for Wi-SUN
    meters when ``wisun_scheme`` says so). ``host`` overrides every meter's address
    (port stays), for a lab where all meters sit behind one address."""

    wisun_scheme: str = "udp"
    host: str | None = None

    def open(self, meter: MeterInfo, sap: int = 0x20) -> AbstractAsyncContextManager[ClientTarget]:
        scheme = self.wisun_scheme if meter.network is Network.WISUN else "tcp"
        return _Address(f"{scheme}://{self.host or meter.host}:{meter.port}")


@attrs.frozen(kw_only=True)
class ProfileLayout:
    """A profile's columns and scalers, as a meter model has them."""

    columns: ProfileColumns
    scalers: Mapping[ObisCode, ScalerUnit]
    _shape: list[tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]]] = attrs.field(
        factory=list, init=False, repr=False, eq=False
    )

    def shape(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]]:
        """Channel names and units of the columns, and the positions of all but the
        capture time column: worked out once per layout."""
        if not self._shape:
            clock = self.columns.clock
            self._shape.append(
                (
                    tuple(str(c.logical_name) for c in self.columns),
                    column_units(self.columns, self.scalers),
                    tuple(c.index for c in self.columns if clock is None or c.index != clock.index),
                )
            )
        return self._shape[0]


class LayoutCache:
    """Profile layouts per (meter model, profile), read from the first meter of a model."""

    def __init__(self) -> None:
        self._layouts: dict[tuple[str, ObisCode], ProfileLayout] = {}

    def __len__(self) -> int:
        return len(self._layouts)

    async def get(self, model: str, meter: Meter, profile: ObisCode) -> ProfileLayout:
        key = (model, profile)
        found = self._layouts.get(key)
        if found is None:
            columns = await meter.profile_columns(profile)
            scalers: dict[ObisCode, ScalerUnit] = {}
            source = scaler_profile_of(profile)
            if source is not None:
                try:
                    scaler_columns = await meter.profile_columns(source)
                    scalers = columns.scalers(scaler_columns, await meter.get(7, source, 2))
                except (ServiceError, DecodeError):
                    scalers = {}
            found = ProfileLayout(columns=columns, scalers=scalers)
            self._layouts[key] = found
        return found

    def add(self, model: str, logical_name: ObisCode, layout: ProfileLayout) -> None:
        """Use ``layout`` for ``logical_name`` of ``model`` (known in advance, not read)."""
        self._layouts[(model, logical_name)] = layout

    def known(self, model: str) -> list[tuple[ObisCode, ProfileLayout]]:
        """The layouts learnt for ``model`` so far, by logical name."""
        return [(ln, layout) for (m, ln), layout in self._layouts.items() if m == model]

    async def push_layout(
        self, model: str, meter: Meter, setup: ObisCode, profile: ObisCode = BLOCK_LOAD
    ) -> ProfileLayout:
        """A push setup's push_object_list (class 40 attribute 2) as columns, with the
        scalers of ``profile`` whose row the push carries; kept for the model so pushes
        from every meter of it can be read into readings."""
        key = (model, setup)
        found = self._layouts.get(key)
        if found is None:
            columns = ProfileColumns.from_data(await meter.get(40, setup, 2))
            scalers = (await self.get(model, meter, profile)).scalers
            found = ProfileLayout(columns=columns, scalers=scalers)
            self._layouts[key] = found
        return found


@attrs.frozen(kw_only=True)
class SessionData:
    """What one session brought back."""

    clock: ClockReading | None
    block_load: IntervalColumns
    """The block load rows read (those with a time stamp), as columns."""
    registers: dict[_dt.datetime, dict[str, float]]
    events: list[MeterEventRecord]
    billing: list[Reading] = attrs.field(factory=list)
    """Billing period values, stamped with their billing date."""

    @property
    def rows(self) -> list[IntervalRow]:
        """The block load rows as :class:`~hes.IntervalRow` values (made on each call)."""
        return self.block_load.rows()


def outcome_of(exc: Exception | BaseExceptionGroup[Exception]) -> Outcome:
    """The KPI bucket of a failed session (the first error of an exception group)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, (MeterTimeout, trio.TooSlowError, TimeoutError)):
        return Outcome.TIMEOUT
    if isinstance(exc, AssociationRefused):
        # the AARE diagnostic "deciphering-error" (initiate error) means wrong keys
        return Outcome.SECURITY if "deciphering" in str(exc) else Outcome.REFUSED
    if isinstance(exc, (AuthenticationFailure, SecurityError)):
        return Outcome.SECURITY
    if isinstance(exc, ServiceError):
        return Outcome.SERVICE_ERROR
    if isinstance(exc, (DecodeError, RemoteProtocolError)):
        return Outcome.GARBAGE
    if isinstance(
        exc, (TransportError, OSError, trio.BrokenResourceError, trio.ClosedResourceError)
    ):
        return Outcome.TRANSPORT
    # anything else a session raised (DlmsError or an unexpected error below the client)
    # ends that session only; the detail keeps the type for the audit trail
    return Outcome.GARBAGE


def _number(value: object) -> float | None:
    if isinstance(value, Quantity):
        return float(value.value)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _unit(value: object) -> str:
    return value.symbol if isinstance(value, Quantity) else ""


#: Range selectors by (bounds with their UTC offsets, sign, clock column): a round asks
#: every meter for the same range. Bounded: a table outgrowing its limit is cleared.
_RANGES: dict[object, SelectiveAccess] = {}
_RANGES_LIMIT = 256


def _range(
    start: _dt.datetime, end: _dt.datetime, sign: DeviationSign, clock: CaptureObject | None
) -> SelectiveAccess:
    """``by_time_range(start, end, sign=sign, clock=clock)``, made once per range."""
    key = (start, start.utcoffset(), end, end.utcoffset(), sign, clock)
    found = _RANGES.get(key)
    if found is None:
        if len(_RANGES) >= _RANGES_LIMIT:
            _RANGES.clear()
        found = _RANGES[key] = by_time_range(start, end, sign=sign, clock=clock)
    return found


async def _numeric(
    meter: Meter,
    layout: ProfileLayout,
    profile: ObisCode,
    start: _dt.datetime,
    end: _dt.datetime,
    sign: DeviationSign,
) -> NumericColumns:
    """Rows of ``profile`` captured in ``[start, end]``, as columns of numbers."""
    columns = layout.columns
    clock = columns.clock
    access = _range(start, end, sign, clock.capture if clock is not None else None)
    raw = await meter.get(7, profile, 2, access)
    return numeric_columns(columns, raw, sign=sign, scalers=layout.scalers)


async def _profile(
    meter: Meter,
    layout: ProfileLayout,
    profile: ObisCode,
    start: _dt.datetime,
    end: _dt.datetime,
    sign: DeviationSign,
) -> list[tuple[_dt.datetime | None, dict[str, tuple[float | None, str]], int | None]]:
    """Rows of ``profile`` captured in ``[start, end]``: (meter's time stamp, channel ->
    (value, unit) without the clock column, clock status of the stamp)."""
    names, units, kept = layout.shape()
    return [
        (row.time, {names[i]: (values[i], units[i]) for i in kept}, row.clock_status)
        for row in (await _numeric(meter, layout, profile, start, end, sign)).rows()
        for values in (row.values,)
    ]


async def _interval_columns(
    meter: Meter,
    layout: ProfileLayout,
    profile: ObisCode,
    start: _dt.datetime,
    end: _dt.datetime,
    sign: DeviationSign,
) -> IntervalColumns:
    """The rows of :func:`_profile` that carry a time stamp, as columns."""
    names, units, kept = layout.shape()
    read = await _numeric(meter, layout, profile, start, end, sign)
    times, statuses, columns = read.times, read.clock_statuses, read.values
    if None in times:
        stamped = [n for n, t in enumerate(times) if t is not None]
        times = [times[n] for n in stamped]
        statuses = [statuses[n] for n in stamped]
        columns = tuple([column[n] for n in stamped] for column in columns)
    return IntervalColumns(
        captured=cast(list[_dt.datetime], times),
        clock_status=statuses,
        channels=[names[i] for i in kept],
        units=[units[i] for i in kept],
        values=[columns[i] for i in kept],
    )


async def _billing(
    meter: Meter,
    info: MeterInfo,
    layout: ProfileLayout,
    start: _dt.datetime,
    end: _dt.datetime,
    sign: DeviationSign,
    received: _dt.datetime,
) -> list[Reading]:
    """Billing profile entries whose billing date lies in ``[start, end]``, as readings
    stamped with that date (the billing date column restricts the range)."""
    stamp = next(
        (c for c in layout.columns if c.logical_name == BILLING_DATE or c.is_date_time), None
    )
    if stamp is None:
        return []
    access = by_time_range(start, end, sign=sign, clock=stamp.capture)
    raw = await meter.get(7, BILLING_PROFILE, 2, access)
    # the billing date is a date-time even where a meter models it as a register
    scalers = {k: v for k, v in layout.scalers.items() if k != stamp.logical_name}
    out: list[Reading] = []
    for row in layout.columns.rows(raw, sign=sign, scalers=scalers):
        when = row.values[stamp.index]
        if isinstance(when, OctetString) and len(when) == 12:
            try:
                when = DateTime.from_bytes(bytes(when)).to_datetime(sign=sign)
            except (DecodeError, ValueError):
                continue
        if not isinstance(when, _dt.datetime) or when.tzinfo is None:
            continue
        for column, value in zip(layout.columns, row.values, strict=True):
            if column.index == stamp.index or column.is_date_time:
                continue
            if not column.is_register_value:
                continue
            number = _number(value)
            if number is None:
                continue
            out.append(
                Reading(
                    meter=info.name,
                    channel=str(column.logical_name),
                    start=when,
                    value=number,
                    unit=_unit(value),
                    captured=when,
                    received=received,
                    source=ReadingSource.PULL,
                )
            )
    return out


async def read_meter(
    meter: Meter,
    info: MeterInfo,
    layouts: LayoutCache,
    *,
    start: _dt.datetime,
    end: _dt.datetime,
    now: Callable[[], _dt.datetime],
    zone: _dt.tzinfo,
    daily: bool = True,
    events: bool = True,
    block_load: bool = True,
    billing: bool = False,
) -> SessionData:
    """Clock, block load rows in ``[start, end)``, daily registers at ``start``/``end``
    (local midnights when the range is whole days), event log entries and, when asked,
    the billing profile entries of the range (an events-only session sets
    ``block_load`` and ``daily`` off)."""
    sign = meter.association.sign
    sent = now()
    meter_time = await meter.read_clock()
    clock = ClockReading(sent=sent, received=now(), meter_time=meter_time)
    model = info.model or "default"
    # ask for the range as the meter's clock stamps it, with a margin for its deviation
    margin = _dt.timedelta(seconds=abs(clock.deviation.total_seconds()) // 1 + 1)
    if margin <= _dt.timedelta(seconds=2):
        margin = _dt.timedelta(0)
    local_start = (start - margin).astimezone(zone)
    local_end = (end + margin).astimezone(zone)
    rows = _NO_ROWS
    if block_load:
        layout = await layouts.get(model, meter, BLOCK_LOAD)
        rows = await _interval_columns(
            meter, layout, BLOCK_LOAD, local_start, local_end - _SECOND, sign
        )
    billed: list[Reading] = []
    if billing:
        layout = await layouts.get(model, meter, BILLING_PROFILE)
        billed = await _billing(meter, info, layout, local_start, local_end - _SECOND, sign, now())
    registers: dict[_dt.datetime, dict[str, float]] = {}
    if daily:
        layout = await layouts.get(model, meter, DAILY_PROFILE)
        read = await _profile(meter, layout, DAILY_PROFILE, local_start, local_end, sign)
        for when, values, _status in read:
            if when is not None:
                registers[utc(when)] = {k: v for k, (v, _u) in values.items() if v is not None}
    found: list[MeterEventRecord] = []
    if events:
        received = now()
        for log in EVENT_LOGS:
            layout = await layouts.get(model, meter, log)
            read = await _profile(meter, layout, log, local_start, local_end, sign)
            code_column = f"0.0.96.11.{log.e}.255"
            for when, values, _status in read:
                code = values.get(code_column, (None, ""))[0]
                if when is not None and code is not None:
                    found.append(
                        MeterEventRecord(
                            meter=info.name, when=when, log=log.e, code=int(code), received=received
                        )
                    )
    return SessionData(
        clock=clock, block_load=rows, registers=registers, events=found, billing=billed
    )


async def sync_meter_clock(
    target: ClientTarget, association: Association, link: LinkSettings
) -> _dt.timedelta:
    """Set the meter clock to the head-end's time (utility settings association)."""
    async with connect(target, association=association, link=link) as meter:
        return await meter.sync_clock()


class FieldConnector:
    """Reaches every kind of meter: cellular by TCP, Wi-SUN by UDP (to the address the
    border router routes), RF mesh through a gateway multiplexer per (DCU, client SAP)
    kept open for the whole run. Use it as ``async with FieldConnector() as c``."""

    def __init__(self) -> None:
        self._muxes: dict[tuple[str, int, int], GatewayMultiplexer] = {}
        self._lock = trio.Lock()
        self._nursery_manager = trio.open_nursery()
        self._nursery: trio.Nursery | None = None

    async def __aenter__(self) -> FieldConnector:
        self._nursery = await self._nursery_manager.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._nursery is not None
        self._nursery.cancel_scope.cancel()
        self._muxes.clear()
        await self._nursery_manager.__aexit__(None, None, None)

    async def _run_mux(
        self,
        host: str,
        port: int,
        sap: int,
        *,
        task_status: trio.TaskStatus[GatewayMultiplexer] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        wrapper = await open_tcp_wrapper(host, port, client_wport=sap)
        async with open_gateway_multiplexer(wrapper) as mux:
            task_status.started(mux)
            await trio.sleep_forever()

    async def _mux(self, meter: MeterInfo, sap: int) -> GatewayMultiplexer:
        key = (meter.host, meter.port, sap)
        async with self._lock:
            mux = self._muxes.get(key)
            if mux is None or mux.closed:
                if self._nursery is None:
                    raise TransportError("the field connector is not open")
                mux = await self._nursery.start(self._run_mux, meter.host, meter.port, sap)
                self._muxes[key] = mux
            return mux

    def open(self, meter: MeterInfo, sap: int = 0x20) -> AbstractAsyncContextManager[ClientTarget]:
        return self._open(meter, sap)

    @contextlib.asynccontextmanager
    async def _open(self, meter: MeterInfo, sap: int) -> AsyncIterator[ClientTarget]:
        if meter.network is Network.RF_MESH:
            mux = await self._mux(meter, sap)
            transport = mux.meter(0, meter.device_address)
            try:
                yield transport
            finally:
                with trio.CancelScope(shield=True):
                    await transport.aclose()
            return
        host = f"[{meter.host}]" if ":" in meter.host else meter.host
        scheme = "udp" if meter.network is Network.WISUN else "tcp"
        yield f"{scheme}://{host}:{meter.port}"
