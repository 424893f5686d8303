"""grabadora/metrics.py: the same calls as CloudWatch EMF documents (Powertools) and as
Prometheus series; a broken metric never breaks the work it measures."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from grabadora import metrics
from grabadora.settings import get_settings


@pytest.fixture
def emf() -> io.StringIO:
    out = io.StringIO()
    metrics.reset(metrics.EmfBackend("Grabadora", stream=out))
    yield out
    metrics.reset()


@pytest.fixture
def prom() -> metrics.PrometheusBackend:
    backend = metrics.PrometheusBackend()
    metrics.reset(backend)
    yield backend
    metrics.reset()


def documents(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def sample(backend: metrics.PrometheusBackend, name: str, **labels: str) -> float | None:
    return backend.registry.get_sample_value(name, labels)


class _Segment(SimpleNamespace):
    text: str = ""


def _run_a_job(clock: list[float]) -> None:
    """The calls a worker makes for one file job, on a clock the test moves."""
    submitted = (datetime.now(timezone.utc) - timedelta(seconds=3)).isoformat()
    metrics.job_submitted("file")
    timing = metrics.JobTiming(submitted, first_attempt=True, clock=lambda: clock[0])
    clock[0] += 0.5
    timing.committed([_Segment(text="  ")])  # no words yet
    clock[0] += 0.7
    timing.committed([_Segment(text=" And so")])  # first words: 1.2 s after the start
    clock[0] += 2.0
    timing.committed([_Segment(text=" my fellow")])  # not again
    metrics.job_completed("file", 11.0)
    timing.finished(True, 11.0)  # 3.2 s for 11 s of audio


def test_emf_documents_are_powertools_documents_in_the_namespace(emf: io.StringIO) -> None:
    _run_a_job([100.0])
    docs = documents(emf)
    by_metric = {m["Name"]: (d, m["Unit"]) for d in docs for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert set(by_metric) == {"JobsSubmitted", "JobsStarted", "QueueWait", "FirstWordLatency", "JobsCompleted",
                              "AudioSeconds", "RealTimeFactor"}
    for doc in docs:
        (directive,) = doc["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Grabadora" and directive["Dimensions"] == [["service"]]
        assert doc["service"] == "grabadora" and isinstance(doc["_aws"]["Timestamp"], int)
    completed, unit = by_metric["AudioSeconds"]
    assert unit == "Seconds" and completed["AudioSeconds"] == [11.0] and completed["JobsCompleted"] == [1.0]
    assert completed["source"] == "file"  # a property for Logs Insights, not a dimension
    assert by_metric["FirstWordLatency"][0]["FirstWordLatency"] == [pytest.approx(1.2)]
    assert by_metric["RealTimeFactor"][0]["RealTimeFactor"] == [pytest.approx(3.2 / 11)]
    assert by_metric["QueueWait"][0]["QueueWait"] == [pytest.approx(3.0, abs=1.0)]
    assert len([d for d in docs if "FirstWordLatency" in d]) == 1


def test_the_service_dimension_does_not_follow_the_functions_powertools_name(emf, monkeypatch) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "grabadora-stream")
    metrics.job_failed(SimpleNamespace(source="live"))
    (doc,) = documents(emf)
    assert doc["service"] == "grabadora" and doc["source"] == "live" and doc["JobsFailed"] == [1.0]


def test_with_a_namespace_the_process_writes_emf_else_prometheus(monkeypatch, clean_env, capsys) -> None:
    monkeypatch.setenv("GRABADORA_METRICS_NAMESPACE", "Grabadora")
    get_settings.cache_clear()
    metrics.reset()
    try:
        assert isinstance(metrics.backend(), metrics.EmfBackend)
        metrics.job_submitted()
        assert json.loads(capsys.readouterr().out)["JobsSubmitted"] == [1.0]  # one line on stdout
        assert metrics.prometheus_text() is None
        monkeypatch.delenv("GRABADORA_METRICS_NAMESPACE")
        get_settings.cache_clear()
        metrics.reset()
        assert isinstance(metrics.backend(), metrics.PrometheusBackend)
    finally:
        get_settings.cache_clear()
        metrics.reset()


def test_prometheus_series_after_the_same_calls(prom: metrics.PrometheusBackend) -> None:
    _run_a_job([0.0])
    metrics.job_failed(None)
    assert sample(prom, "grabadora_jobs_submitted_total", source="file") == 1
    assert sample(prom, "grabadora_jobs_started_total") == 1
    assert sample(prom, "grabadora_jobs_completed_total", source="file") == 1
    assert sample(prom, "grabadora_jobs_failed_total", source="file") == 1
    assert sample(prom, "grabadora_audio_seconds_total", source="file") == 11
    assert sample(prom, "grabadora_first_word_seconds_count") == 1
    assert sample(prom, "grabadora_first_word_seconds_sum") == pytest.approx(1.2)
    assert sample(prom, "grabadora_real_time_factor_sum") == pytest.approx(3.2 / 11)
    assert sample(prom, "grabadora_queue_wait_seconds_count") == 1
    text, content_type = metrics.prometheus_text()
    assert content_type.startswith("text/plain")
    lines = text.decode().splitlines()
    assert 'grabadora_audio_seconds_total{source="file"} 11.0' in lines
    assert 'grabadora_real_time_factor_bucket{le="0.3"} 1.0' in lines  # 0.29
    assert not any("_created" in line for line in lines)


def test_a_retry_records_no_queue_wait_and_a_job_without_words_no_first_word(prom) -> None:
    timing = metrics.JobTiming("2026-01-01T00:00:00+00:00", first_attempt=False)
    timing.committed([_Segment(text="")])
    timing.finished(False, 10.0)  # not completed: no real-time factor
    assert sample(prom, "grabadora_jobs_started_total") == 1
    assert sample(prom, "grabadora_queue_wait_seconds_count") == 0
    assert sample(prom, "grabadora_first_word_seconds_count") == 0
    assert sample(prom, "grabadora_real_time_factor_count") == 0


def test_job_started_reads_the_item_read_before_the_attempt(prom) -> None:
    created = (datetime.now(timezone.utc) - timedelta(seconds=30)).isoformat()
    metrics.job_started(SimpleNamespace(created_at=created, attempts=0))
    metrics.job_started(SimpleNamespace(created_at=created, attempts=1))  # the retry
    assert sample(prom, "grabadora_jobs_started_total") == 2
    assert sample(prom, "grabadora_queue_wait_seconds_count") == 1
    assert sample(prom, "grabadora_queue_wait_seconds_sum") == pytest.approx(30, abs=5)


def test_a_broken_metric_never_breaks_the_work(caplog) -> None:
    class Broken:
        def emit(self, values, labels):  # noqa: ANN001, ANN201
            raise RuntimeError("stdout closed")

    metrics.reset(Broken())
    try:
        item = object()
        assert metrics.job_failed(item) is item  # passed through even so
        metrics.job_completed("file", 5.0)
        timing = metrics.job_started(SimpleNamespace(created_at="not a date", attempts=0))
        timing.committed([_Segment(text="hola")])
        timing.finished(True, 5.0)
    finally:
        metrics.reset()
    assert "could not record metrics" in caplog.text


async def _events(items, cancel_after: int | None = None):
    closed = []

    async def gen():
        try:
            for i, item in enumerate(items):
                if cancel_after is not None and i == cancel_after:
                    raise asyncio.CancelledError
                yield item
        finally:
            closed.append(True)

    got = []
    try:
        async for message in metrics.relayed(gen()):
            got.append(message)
    except asyncio.CancelledError:
        pass
    return got, closed


def test_relayed_streams_are_counted_with_how_they_ended(prom) -> None:
    delta = SimpleNamespace(event="delta", retry=None)
    done = SimpleNamespace(event="completed", retry=None)
    cut = SimpleNamespace(event=None, retry=500)  # the relay's time limit: `retry:` and no event
    got, closed = asyncio.run(_events([delta, delta, done]))
    assert len(got) == 3 and closed == [True]
    asyncio.run(_events([delta, cut]))
    asyncio.run(_events([delta, delta], cancel_after=1))  # the client went away
    assert sample(prom, "grabadora_streams_opened_total") == 3
    assert sample(prom, "grabadora_streams_open") == 0
    assert sample(prom, "grabadora_stream_events_total") == 3 + 1 + 1
    for end in ("terminal", "time_limit", "disconnected"):
        assert sample(prom, "grabadora_stream_seconds_count", end=end) == 1, end


def test_a_stream_closed_early_closes_the_relays_own_generator(prom) -> None:
    closed = []

    async def inner():
        try:
            while True:
                yield SimpleNamespace(event="delta", retry=None)
        finally:
            closed.append(True)  # the relay releases its stream slot here

    async def consume_one():
        stream = metrics.relayed(inner())
        await stream.__anext__()
        await stream.aclose()

    asyncio.run(consume_one())
    assert closed == [True]
    assert sample(prom, "grabadora_stream_seconds_count", end="disconnected") == 1


def test_request_metrics_use_the_route_template_not_the_path(prom) -> None:
    app = FastAPI()

    @app.get("/transcripts/{transcript_id}")
    def read(transcript_id: str) -> dict:
        if transcript_id == "boom":
            raise RuntimeError("boom")
        return {"id": transcript_id}

    app.add_middleware(metrics.RequestMetrics)
    client = TestClient(app, raise_server_exceptions=False)
    for tid in ("a", "b"):
        assert client.get(f"/transcripts/{tid}").status_code == 200
    assert client.get("/nowhere").status_code == 404
    assert client.get("/transcripts/boom").status_code == 500
    assert sample(prom, "grabadora_http_requests_total", method="GET", route="/transcripts/{transcript_id}", status="200") == 2
    assert sample(prom, "grabadora_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert sample(prom, "grabadora_http_requests_total", method="GET", route="/transcripts/{transcript_id}", status="500") == 1
    assert sample(prom, "grabadora_http_request_duration_seconds_count", method="GET", route="/transcripts/{transcript_id}") == 3


def test_the_local_metrics_route_asks_for_the_token_when_one_is_set(prom, monkeypatch, clean_env) -> None:
    from grabadora.local.server import create_local_app

    monkeypatch.setenv("GRABADORA_METRICS_TOKEN", "s3cret")
    get_settings.cache_clear()
    try:
        client = TestClient(create_local_app())
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        answer = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert answer.status_code == 200 and "grabadora_jobs_submitted_total" in answer.text
        assert answer.headers["content-type"].startswith("text/plain")
        # the request metrics name routes by template, this one included
        assert 'route="/metrics",status="401"' in client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).text
    finally:
        get_settings.cache_clear()


def test_the_example_grafana_dashboard_reads_only_series_that_exist(prom) -> None:
    import re
    from pathlib import Path

    dashboard = json.loads((Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {re.sub(r"_(bucket|count|sum)$", "", name) for expr in exprs for name in re.findall(r"\b(?:grabadora|process)_\w+", expr)}
    exposed = {family.name + ("_total" if family.type == "counter" else "") for family in prom.registry.collect()}
    assert used and used <= exposed, used - exposed
    for spec in metrics.SPECS.values():  # every business figure has a panel
        assert any(spec.prometheus in expr for expr in exprs), spec.prometheus
