"""The reference head-end: a trio application on the public dlmskit API.

Collection logic talks to storage and work distribution through ports
(:class:`ReadingsSink`, :class:`WorkSource`, :class:`GapLedger`, ...); :class:`Store`
is the single-node SQLite implementation. :class:`HeadEnd` runs sessions from a
:class:`Schedule` (block load, billing or events-only rounds) under concurrency
limits; :class:`PushIngest` stores pushes (and the profile rows they carry, as
readings); :class:`InboundSessions` runs queued reads over connections meters open;
validation sets IEC 61968-9 style :class:`Quality` flags; exports, KPIs, metrics and
reports turn the store into what downstream systems and operators read. The command
line is ``dlmskit-hes``.
"""

from __future__ import annotations

from hes._agreement import Agreement, compare_with_truth
from hes._capacity import CapacityPoint, run_capacity, verdict
from hes._counters import SqliteCounterStore
from hes._demo import (
    DemoResult,
    PushSummary,
    default_fault_plan,
    run_demo,
)
from hes._engine import CollectionConfig, HeadEnd, SessionResult, day_range
from hes._export import (
    CSV_COLUMNS,
    MESSAGE_NAMESPACE,
    meter_readings,
    reading_type,
    write_csv,
    write_json,
    write_parquet,
    write_xml,
)
from hes._gapledger import (
    BackReadPolicy,
    Gap,
    InterpolationPolicy,
    estimate_missing,
    find_gaps,
    interpolate,
)
from hes._inbound import InboundSessions
from hes._inbound_queue import MemoryInboundQueue, SqliteInboundQueue
from hes._inventory import Inventory, MeterInfo, Network
from hes._kpi import ClusterStats, KpiReport, compute_kpis, percentile
from hes._metrics import Metrics, exposition, serve_metrics
from hes._metrics_board import MetricsBoard, merge_metrics, publish_metrics
from hes._model import (
    GapState,
    MeterEventRecord,
    Outcome,
    Reading,
    ReadingSource,
    SessionRecord,
    WorkItem,
    WorkKind,
)
from hes._ports import (
    EventSink,
    GapLedger,
    InboundQueue,
    ReadingsSink,
    ReadingsSource,
    SessionLog,
    WorkSource,
)
from hes._pull_rows import BlockLoadRows, block_load_rows
from hes._push import PushBatch, PushIngest, push_keys
from hes._push_rows import PushRows, clock_deviation, push_readings
from hes._quality import Quality, parse_quality, quality_text
from hes._report import bar_chart, html_report, line_chart, text_report
from hes._rounds import run_schedule
from hes._schedule import RetryPolicy, Schedule
from hes._session import (
    Connector,
    FieldConnector,
    LayoutCache,
    TcpConnector,
    outcome_of,
    read_meter,
)
from hes._shards import MeterScope, Shard, ShardFailed, run_processes, shard_of
from hes._store import (
    SCHEMA_VERSION,
    ReadingRow,
    ReadingRun,
    SessionRow,
    Store,
    StoreVersionError,
    reading_row,
    session_row,
)
from hes._timing import ClockReading, TimeSyncPolicy
from hes._validate import (
    IntervalColumns,
    IntervalRow,
    ValidationPolicy,
    ValidationResult,
    check_cumulative,
    validate_block_load,
)

__all__ = [
    "Agreement",
    "BackReadPolicy",
    "BlockLoadRows",
    "CSV_COLUMNS",
    "CapacityPoint",
    "ClockReading",
    "ClusterStats",
    "CollectionConfig",
    "Connector",
    "DemoResult",
    "EventSink",
    "FieldConnector",
    "Gap",
    "GapLedger",
    "GapState",
    "HeadEnd",
    "InboundQueue",
    "InboundSessions",
    "InterpolationPolicy",
    "IntervalColumns",
    "IntervalRow",
    "Inventory",
    "KpiReport",
    "LayoutCache",
    "MESSAGE_NAMESPACE",
    "MemoryInboundQueue",
    "MeterEventRecord",
    "MeterInfo",
    "MeterScope",
    "Metrics",
    "MetricsBoard",
    "Network",
    "Outcome",
    "PushBatch",
    "PushIngest",
    "PushRows",
    "PushSummary",
    "Quality",
    "Reading",
    "ReadingRow",
    "ReadingRun",
    "ReadingSource",
    "ReadingsSink",
    "ReadingsSource",
    "RetryPolicy",
    "SCHEMA_VERSION",
    "Schedule",
    "SessionLog",
    "SessionRecord",
    "SessionResult",
    "SessionRow",
    "Shard",
    "ShardFailed",
    "SqliteCounterStore",
    "SqliteInboundQueue",
    "Store",
    "StoreVersionError",
    "TcpConnector",
    "TimeSyncPolicy",
    "ValidationPolicy",
    "ValidationResult",
    "WorkItem",
    "WorkKind",
    "WorkSource",
    "bar_chart",
    "block_load_rows",
    "check_cumulative",
    "clock_deviation",
    "compare_with_truth",
    "compute_kpis",
    "day_range",
    "default_fault_plan",
    "estimate_missing",
    "exposition",
    "find_gaps",
    "html_report",
    "interpolate",
    "line_chart",
    "merge_metrics",
    "meter_readings",
    "outcome_of",
    "parse_quality",
    "percentile",
    "publish_metrics",
    "push_keys",
    "push_readings",
    "quality_text",
    "read_meter",
    "reading_row",
    "reading_type",
    "run_capacity",
    "run_demo",
    "run_processes",
    "run_schedule",
    "serve_metrics",
    "session_row",
    "shard_of",
    "text_report",
    "validate_block_load",
    "verdict",
    "write_csv",
    "write_json",
    "write_parquet",
    "write_xml",
]
