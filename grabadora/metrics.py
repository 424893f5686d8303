"""Business and request metrics: one set of calls, two ways out (docs/DECISIONS.md, "Metrics").

The worker, the relay and the API call the functions below (`job_submitted`, `job_started`,
`job_completed`, `job_failed`, `JobTiming`, `relayed`, `RequestMetrics`). Where they go is
decided once per process:

- **CloudWatch** (on AWS: `GRABADORA_METRICS_NAMESPACE` is set): each call writes one embedded
  metric format (EMF) document, serialised by Powertools, as one line on stdout. Lambda ships
  stdout to CloudWatch Logs, and so does the worker container's awslogs driver; CloudWatch
  extracts the metrics from those lines. No API call, no permission, no batching to lose at a
  crash. Dimension: `service=grabadora` only (one metric per name, what the alarms read);
  labels such as `source` ride along as properties, for Logs Insights.
- **Prometheus** (everywhere else, when prometheus-client is installed, i.e. the local stack):
  counters and histograms in this module's own registry, rendered by `prometheus_text()` at
  `GET /metrics` of `grabadora dev` (grabadora/local/server.py).
- Neither: the calls do nothing.

A metric must never fail the work it measures: every call swallows and logs its own errors.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

SERVICE = "grabadora"  # the one EMF dimension (what the dashboard and the alarms read)


class _Spec:
    """One metric: its CloudWatch name and unit, its Prometheus name, kind, help and labels."""

    def __init__(self, cloudwatch: str, unit: str, prometheus: str, kind: str, help: str,
                 labels: Sequence[str] = (), buckets: Sequence[float] | None = None) -> None:
        self.cloudwatch, self.unit, self.prometheus, self.kind = cloudwatch, unit, prometheus, kind
        self.help, self.labels, self.buckets = help, tuple(labels), buckets


_SECONDS_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800, 3600)
_RTF_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5)
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

# The catalogue: every figure both ways out know about (names are part of the dashboards).
SPECS: dict[str, _Spec] = {s.cloudwatch: s for s in (
    _Spec("JobsSubmitted", "Count", "grabadora_jobs_submitted_total", "counter",
          "Jobs accepted by the API (queued or held for the user's turn).", ["source"]),
    _Spec("JobsStarted", "Count", "grabadora_jobs_started_total", "counter",
          "Job attempts a worker started (a retried job counts again)."),
    _Spec("JobsCompleted", "Count", "grabadora_jobs_completed_total", "counter",
          "Jobs and live sessions that ended completed (counted once each).", ["source"]),
    _Spec("JobsFailed", "Count", "grabadora_jobs_failed_total", "counter",
          "Jobs and live sessions that ended failed (bad input included; counted once each).", ["source"]),
    _Spec("AudioSeconds", "Seconds", "grabadora_audio_seconds_total", "counter",
          "Seconds of audio transcribed by completed jobs and sessions (what usage counts).", ["source"]),
    _Spec("RealTimeFactor", "None", "grabadora_real_time_factor", "histogram",
          "Processing seconds / audio seconds of each completed file job (lower is faster).", buckets=_RTF_BUCKETS),
    _Spec("FirstWordLatency", "Seconds", "grabadora_first_word_seconds", "histogram",
          "Seconds from a job's start on a worker to its first committed words.", buckets=_SECONDS_BUCKETS),
    _Spec("QueueWait", "Seconds", "grabadora_queue_wait_seconds", "histogram",
          "Seconds from a job's submission to its first start on a worker.", buckets=_SECONDS_BUCKETS),
    _Spec("StreamsOpened", "Count", "grabadora_streams_opened_total", "counter",
          "Event streams (SSE) the relay opened, reconnections included."),
    _Spec("StreamSeconds", "Seconds", "grabadora_stream_seconds", "histogram",
          "How long each relay stream stayed open, by how it ended (terminal event, time limit, client gone).",
          ["end"], buckets=_SECONDS_BUCKETS),
    _Spec("EventsRelayed", "Count", "grabadora_stream_events_total", "counter",
          "Events (words, progress, ends) the relay sent to clients."),
)}


class _Backend(Protocol):
    def emit(self, values: dict[str, float], labels: dict[str, str]) -> None: ...


class _NoBackend:
    def emit(self, values: dict[str, float], labels: dict[str, str]) -> None:
        pass


class EmfBackend:
    """One EMF document per call, printed and flushed (Powertools builds and validates it)."""

    def __init__(self, namespace: str, stream: Any = None) -> None:
        self.namespace = namespace
        self.stream = stream  # None: sys.stdout at the time of writing (tests capture it)
        self._lock = threading.Lock()

    def emit(self, values: dict[str, float], labels: dict[str, str]) -> None:
        from aws_lambda_powertools.metrics import EphemeralMetrics
        from aws_lambda_powertools.metrics.functions import is_metrics_disabled

        if is_metrics_disabled():
            return
        document = EphemeralMetrics(namespace=self.namespace, service=SERVICE)
        for name, value in values.items():
            document.add_metric(name=name, unit=SPECS[name].unit, value=value)
        for key, value in labels.items():
            document.add_metadata(key=key, value=value)  # a property, not a dimension
        line = json.dumps(document.serialize_metric_set(), separators=(",", ":"))
        with self._lock:  # one whole line per document, whichever thread writes
            out = self.stream or sys.stdout
            out.write(line + "\n")
            out.flush()


class PrometheusBackend:
    """The same figures as Prometheus series, in a registry of their own."""

    def __init__(self) -> None:
        import prometheus_client as prom
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.prom = prom
        prom.disable_created_metrics()  # no `_created` series beside each counter: half the lines
        self.registry = CollectorRegistry()
        for collector in (prom.ProcessCollector, prom.PlatformCollector, prom.GCCollector):
            collector(registry=self.registry)
        self.series: dict[str, Any] = {}
        for spec in SPECS.values():
            name = spec.prometheus.removesuffix("_total")
            if spec.kind == "counter":
                self.series[spec.cloudwatch] = Counter(name, spec.help, spec.labels, registry=self.registry)
            else:
                self.series[spec.cloudwatch] = Histogram(name, spec.help, spec.labels, buckets=spec.buckets, registry=self.registry)
        # Derived from the same calls as StreamsOpened/StreamSeconds: what is open right now.
        self.streams_open = Gauge("grabadora_streams_open", "Relay streams open now.", registry=self.registry)
        self.requests = Counter("grabadora_http_requests", "HTTP requests answered, by route template and status.",
                                ["method", "route", "status"], registry=self.registry)
        self.request_seconds = Histogram("grabadora_http_request_duration_seconds",
                                         "Time to answer an HTTP request (a stream: its whole length), by route template.",
                                         ["method", "route"], buckets=_REQUEST_BUCKETS, registry=self.registry)

    def emit(self, values: dict[str, float], labels: dict[str, str]) -> None:
        for name, value in values.items():
            spec = SPECS[name]
            series = self.series[name]
            if spec.labels:
                series = series.labels(**{label: labels.get(label, "") for label in spec.labels})
            if spec.kind == "counter":
                series.inc(value)
            else:
                series.observe(value)
        if "StreamsOpened" in values:
            self.streams_open.inc()
        if "StreamSeconds" in values:
            self.streams_open.dec()

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method=method, route=route, status=str(status)).inc()
        self.request_seconds.labels(method=method, route=route).observe(seconds)

    def text(self) -> tuple[bytes, str]:
        return self.prom.generate_latest(self.registry), self.prom.CONTENT_TYPE_LATEST


_backend: _Backend | None = None
_backend_lock = threading.Lock()


def _namespace() -> str | None:
    try:
        from grabadora.settings import get_settings

        return get_settings().metrics_namespace
    except Exception:  # noqa: BLE001 - settings that cannot load must not stop a job here
        return os.environ.get("GRABADORA_METRICS_NAMESPACE") or None


def backend() -> _Backend:
    """This process's way out, chosen at the first metric (see the module's docstring)."""
    global _backend
    if _backend is None:
        with _backend_lock:
            if _backend is None:
                namespace = _namespace()
                if namespace:
                    _backend = EmfBackend(namespace)
                else:
                    try:
                        _backend = PrometheusBackend()
                    except ImportError:
                        _backend = _NoBackend()
    return _backend


def reset(new: _Backend | None = None) -> None:
    """Choose again at the next metric (tests, or after the settings changed); or use `new`."""
    global _backend
    with _backend_lock:
        _backend = new


def _emit(values: dict[str, float | None], **labels: str) -> None:
    try:
        present = {name: float(value) for name, value in values.items() if value is not None}
        if present:
            backend().emit(present, labels)
    except Exception:  # noqa: BLE001 - a metric never fails the work it measures
        logger.warning("could not record metrics %s", sorted(values), exc_info=True)


# ---- the business figures -------------------------------------------------------------------

def job_submitted(source: str = "file") -> None:
    """A job was accepted (the API, once its item exists and it is queued or held)."""
    _emit({"JobsSubmitted": 1}, source=source)


def job_completed(source: str, audio_s: float | None) -> None:
    """A job or live session ended completed (once per job: after the conditional update)."""
    _emit({"JobsCompleted": 1, "AudioSeconds": max(audio_s or 0.0, 0.0)}, source=source)


def job_failed(item: Any) -> Any:
    """A job or session ended failed; `item` is what the conditional `fail` returned (passed
    through, so the call wraps it: only a `fail` that succeeded is counted, once per job)."""
    _emit({"JobsFailed": 1}, source=getattr(item, "source", None) or "file")
    return item


def _seconds_since(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        then = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    return max((datetime.now(timezone.utc) - then).total_seconds(), 0.0)


class JobTiming:
    """One attempt of a file job on a worker: queue wait at its start, first-word latency at its
    first committed words, real-time factor at its completion (gpu_container/job.py)."""

    def __init__(self, created_at: str | None, first_attempt: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started = clock()
        self.first_word_s: float | None = None
        # Queue wait = job started − job submitted, on the first attempt only (a retry's wait
        # is the visibility timeout, not the queue).
        self.queue_wait_s = _seconds_since(created_at) if first_attempt else None
        _emit({"JobsStarted": 1, "QueueWait": self.queue_wait_s})

    def committed(self, segments: Sequence[Any]) -> None:
        """Segments' events were committed; the first ones with words set the first-word latency."""
        if self.first_word_s is None and any((getattr(s, "text", "") or "").strip() for s in segments):
            self.first_word_s = self._clock() - self.started
            _emit({"FirstWordLatency": self.first_word_s})

    def finished(self, completed: bool, audio_s: float | None) -> None:
        """The attempt ended; a completed one records processing seconds ÷ audio seconds."""
        if completed and audio_s and audio_s > 0:
            _emit({"RealTimeFactor": (self._clock() - self.started) / audio_s})


def job_started(item: Any) -> JobTiming:
    """A worker started an attempt at `item` (the TranscriptItem read before `start_attempt`)."""
    try:
        return JobTiming(getattr(item, "created_at", None), (getattr(item, "attempts", 0) or 0) == 0)
    except Exception:  # noqa: BLE001
        logger.warning("could not time the job", exc_info=True)
        return JobTiming(None, False)


async def relayed(events: AsyncIterator[Any], clock: Callable[[], float] = time.monotonic) -> AsyncIterator[Any]:
    """The relay's stream of one job, counted: opened, events sent, how long and how it ended
    (`completed`/`error` sent: "terminal"; the relay's time limit: "time_limit"; else the
    client went away or the stream broke: "disconnected")."""
    opened = clock()
    sent = 0
    end = "disconnected"
    _emit({"StreamsOpened": 1})
    try:
        async for message in events:
            if getattr(message, "event", None) in ("completed", "error"):
                end = "terminal"
            elif getattr(message, "retry", None) is not None and end != "terminal":
                end = "time_limit"
            if getattr(message, "event", None) is not None:
                sent += 1
            yield message
    finally:
        _emit({"StreamSeconds": clock() - opened, "EventsRelayed": sent}, end=end)
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()  # the inner stream's own `finally` (its stream slot) runs now, not at GC


# ---- request metrics (the local stack; on AWS API Gateway and Lambda publish their own) --------

class RequestMetrics:
    """Counts every HTTP request by method, route template (`/transcripts/{transcript_id}`, never
    the raw path) and status, and times it (a stream: until it ends). Prometheus only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            try:
                out = backend()
                if isinstance(out, PrometheusBackend):
                    out.request(scope.get("method", ""), route, status, time.perf_counter() - started)
            except Exception:  # noqa: BLE001
                logger.warning("could not record request metrics", exc_info=True)


def prometheus_text() -> tuple[bytes, str] | None:
    """The Prometheus exposition of this process's metrics and its content type; None when
    metrics go to CloudWatch here, or prometheus-client is not installed."""
    out = backend()
    return out.text() if isinstance(out, PrometheusBackend) else None
