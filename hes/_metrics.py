"""Live metrics and their Prometheus text exposition, served over HTTP on loopback.

:class:`Metrics` holds counters and gauges the running head-end updates (sessions by
outcome, readings stored, pushes by result, queue depth, lag); :func:`exposition` renders
them in the Prometheus text format 0.0.4; :func:`serve_metrics` is a minimal trio HTTP
server answering ``GET /metrics``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping

import attrs
import trio

__all__ = ["Metrics", "exposition", "serve_metrics"]

_HELP = {
    "dlmskit_hes_sessions_total": ("counter", "Meter sessions by kind and outcome."),
    "dlmskit_hes_readings_total": ("counter", "Readings acknowledged by the store."),
    "dlmskit_hes_pushes_total": ("counter", "Push notifications received, by result."),
    "dlmskit_hes_flags_total": ("counter", "Quality flags raised, by IEC 61968-9 code."),
    "dlmskit_hes_queue_depth": ("gauge", "Work items waiting for a session slot."),
    "dlmskit_hes_sessions_active": ("gauge", "Sessions in progress."),
    "dlmskit_hes_lag_seconds": ("gauge", "Now minus the end of the newest stored interval."),
    "dlmskit_hes_session_seconds": ("histogram", "Session latency."),
}
_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@attrs.define
class Metrics:
    """Counters of a running head-end (plain attributes: one trio thread updates them)."""

    sessions: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    readings: int = 0
    pushes: Counter[str] = attrs.field(factory=Counter)
    flags: Counter[str] = attrs.field(factory=Counter)
    queue_depth: int = 0
    active: int = 0
    max_queue_depth: int = 0
    lag_seconds: float = 0.0
    latency_buckets: list[int] = attrs.field(factory=lambda: [0] * len(_BUCKETS))
    latency_sum: float = 0.0
    latency_count: int = 0

    def session(self, kind: str, outcome: str, seconds: float) -> None:
        self.sessions[(kind, outcome)] += 1
        self.latency_sum += seconds
        self.latency_count += 1
        for n, bound in enumerate(_BUCKETS):
            if seconds <= bound:
                self.latency_buckets[n] += 1

    def queue(self, depth: int) -> None:
        self.queue_depth = depth
        self.max_queue_depth = max(self.max_queue_depth, depth)


def _labels(pairs: Mapping[str, str]) -> str:
    if not pairs:
        return ""
    body = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in pairs.items()
    )
    return "{" + body + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def exposition(metrics: Metrics) -> str:
    """The Prometheus text format of ``metrics``."""
    lines: list[str] = []

    def head(name: str) -> None:
        kind, text = _HELP[name]
        lines.append(f"# HELP {name} {text}")
        lines.append(f"# TYPE {name} {kind}")

    def sample(name: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        lines.append(f"{name}{_labels(labels or {})} {_number(value)}")

    head("dlmskit_hes_sessions_total")
    for (kind, outcome), count in sorted(metrics.sessions.items()):
        sample("dlmskit_hes_sessions_total", count, {"kind": kind, "outcome": outcome})
    head("dlmskit_hes_readings_total")
    sample("dlmskit_hes_readings_total", metrics.readings)
    head("dlmskit_hes_pushes_total")
    for result, count in sorted(metrics.pushes.items()):
        sample("dlmskit_hes_pushes_total", count, {"result": result})
    head("dlmskit_hes_flags_total")
    for code, count in sorted(metrics.flags.items()):
        sample("dlmskit_hes_flags_total", count, {"code": code})
    head("dlmskit_hes_queue_depth")
    sample("dlmskit_hes_queue_depth", metrics.queue_depth)
    head("dlmskit_hes_sessions_active")
    sample("dlmskit_hes_sessions_active", metrics.active)
    head("dlmskit_hes_lag_seconds")
    sample("dlmskit_hes_lag_seconds", metrics.lag_seconds)
    head("dlmskit_hes_session_seconds")
    for bound, count in zip(_BUCKETS, metrics.latency_buckets, strict=True):
        sample("dlmskit_hes_session_seconds_bucket", count, {"le": _number(bound)})
    sample("dlmskit_hes_session_seconds_bucket", metrics.latency_count, {"le": "+Inf"})
    sample("dlmskit_hes_session_seconds_sum", metrics.latency_sum)
    sample("dlmskit_hes_session_seconds_count", metrics.latency_count)
    return "\n".join(lines) + "\n"


_MAX_REQUEST = 8192


async def _handle(stream: trio.SocketStream, metrics: Metrics | Callable[[], Metrics]) -> None:
    data = b""
    with trio.move_on_after(5.0):
        while b"\r\n\r\n" not in data and len(data) < _MAX_REQUEST:
            chunk = await stream.receive_some(4096)
            if not chunk:
                break
            data += chunk
    line = data.split(b"\r\n", 1)[0].split()
    if len(line) >= 2 and line[0] == b"GET" and line[1].split(b"?")[0] == b"/metrics":
        body = exposition(metrics if isinstance(metrics, Metrics) else metrics()).encode()
        status, kind = b"200 OK", b"text/plain; version=0.0.4; charset=utf-8"
    elif len(line) >= 2 and line[0] == b"GET":
        body, status, kind = b"not found\n", b"404 Not Found", b"text/plain"
    else:
        body, status, kind = b"bad request\n", b"400 Bad Request", b"text/plain"
    head = (
        b"HTTP/1.1 "
        + status
        + b"\r\nContent-Type: "
        + kind
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
    )
    try:
        await stream.send_all(head + body)
    except trio.BrokenResourceError:
        pass
    finally:
        await trio.aclose_forcefully(stream)


async def serve_metrics(
    metrics: Metrics | Callable[[], Metrics],
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``GET /metrics`` on ``host:port`` (loopback by default); ``nursery.start``
    returns the bound port. ``metrics`` may be a function giving them at each request
    (e.g. :meth:`MetricsBoard.merged_with` for a head-end in several processes)."""
    listeners = await trio.open_tcp_listeners(port, host=host)
    bound = listeners[0].socket.getsockname()[1]
    task_status.started(int(bound))

    async def handler(stream: trio.SocketStream) -> None:
        await _handle(stream, metrics)

    await trio.serve_listeners(handler, listeners)
