"""The local stack's GET /metrics: a job run through the pipeline is counted there, with its
audio seconds, first-word latency, queue wait and the requests that carried it."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from grabadora.client import GrabadoraClient
from tests.integration.conftest import drain

pytestmark = pytest.mark.integration


def scrape(api_url: str) -> dict[tuple[str, tuple], float]:
    answer = httpx.get(f"{api_url}/metrics", timeout=10)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_a_job_through_the_local_pipeline_is_counted_at_metrics(client: GrabadoraClient, worker, api_url: str, audio_dir) -> None:
    # Given the counters as they stand (the session's other tests count too)
    before = scrape(api_url)
    # When a job is submitted, transcribed by the worker and its stream read to the end
    job = client.transcribe(client.upload(str(audio_dir / "fw_jfk.flac")))
    drain(worker)
    events = list(client.events(job["stream_url"]))
    assert events[-1].event == "completed"
    after = scrape(api_url)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Then the job is counted once, submitted and completed, with its 11 s of audio
    assert grew("grabadora_jobs_submitted_total", source="file") == 1
    assert grew("grabadora_jobs_started_total") >= 1
    assert grew("grabadora_jobs_completed_total", source="file") == 1
    assert grew("grabadora_audio_seconds_total", source="file") == pytest.approx(events[-1].data["duration"], abs=0.01)
    assert grew("grabadora_audio_seconds_total", source="file") == pytest.approx(11.0, abs=0.1)
    # And its timings: one real-time factor, one first-word latency, one queue wait
    for histogram in ("grabadora_real_time_factor", "grabadora_first_word_seconds", "grabadora_queue_wait_seconds"):
        assert grew(f"{histogram}_count") == 1, histogram
        assert grew(f"{histogram}_sum") > 0, histogram
    # And the relay counted the stream it served, ended by the terminal event
    assert grew("grabadora_streams_opened_total") == 1
    assert grew("grabadora_stream_seconds_count", end="terminal") == 1
    assert grew("grabadora_stream_events_total") == len(events)
    # And the requests that carried it, by route template and status
    assert grew("grabadora_http_requests_total", method="POST", route="/transcribe", status="202") == 1
    assert grew("grabadora_http_requests_total", method="GET", route="/transcribe/{job_id}", status="200") == 1
