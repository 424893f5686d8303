"""Streams that respect Lambda, against the emulator over HTTP: a stream cut every 2 s still
delivers every event exactly once to grabadora's client; open streams per user are capped
(429), and a closed stream gives its slot back; the idle sweep deletes dead letters.
"""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest

from grabadora.adapters.events_table import EventsTable
from grabadora.adapters.queues import JobQueue
from grabadora.client import GrabadoraClient
from grabadora.models import JobEvent
from grabadora.settings import get_settings

pytestmark = pytest.mark.integration


def _job_nobody_runs(client: GrabadoraClient, audio: str) -> dict:
    """A job whose event log the test writes itself (its queue message is taken off the queue)."""
    job = client.transcribe(client.upload(audio))
    queue = JobQueue(get_settings().jobs_queue)
    for _ in range(10):
        message = queue.receive(1, 30)
        if message is None:
            break
        if job["job_id"] in message.body:
            queue.delete(message.receipt_handle)
            break
        queue.extend(message.receipt_handle, 0)  # someone else's: put it back
    return job


def _write_log(job_id: str, words: int, every: float) -> None:
    events = EventsTable()
    for seq in range(words):
        events.append([JobEvent(job_id=job_id, seq=seq, type="delta", data={"text": f" w{seq}", "t0": seq, "t1": seq + 1})])
        time.sleep(every)
    events.append([JobEvent(job_id=job_id, seq=words, type="completed", data={"job_id": job_id})])


@pytest.fixture
def short_streams(monkeypatch: pytest.MonkeyPatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "stream_max_seconds", 2.0)
    monkeypatch.setattr(settings, "stream_retry_ms", 100)
    return settings


def test_a_stream_cut_every_two_seconds_delivers_every_event_once(client: GrabadoraClient, short_streams, audio_dir, api_url) -> None:
    job = _job_nobody_runs(client, str(audio_dir / "pv_cheetah_test_en.wav"))
    writer = threading.Thread(target=_write_log, args=(job["job_id"], 30, 0.2), daemon=True)  # ~6 s of words
    # Count the connections the client makes: the relay must have cut the stream at least twice
    connections: list[str | None] = []
    original = client._http.send

    def counting_send(request: httpx.Request, **kwargs):  # noqa: ANN003, ANN202
        if "/transcribe/" in request.url.path:
            connections.append(request.headers.get("Last-Event-ID"))
        return original(request, **kwargs)

    client._http.send = counting_send  # type: ignore[method-assign]
    writer.start()
    started = time.monotonic()
    got = list(client.events(job["stream_url"]))
    writer.join(timeout=10)
    assert [e.id for e in got] == list(range(31)), "every event once, in order"
    assert [e.event for e in got].count("completed") == 1 and got[-1].event == "completed"
    assert "".join(e.data["text"] for e in got if e.event == "delta") == "".join(f" w{i}" for i in range(30))
    assert len(connections) >= 3, connections  # cut at 2 s, 4 s (the log takes ~6 s)
    assert connections[0] is None and all(c is not None for c in connections[1:])  # resumed with Last-Event-ID
    assert time.monotonic() - started < 15


def test_open_streams_per_user_are_capped_and_a_closed_stream_frees_its_slot(
    client: GrabadoraClient, audio_dir, api_url, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.stream import app as relay

    monkeypatch.setattr(get_settings(), "streams_per_user", 1)
    relay._slots.cache_clear()
    try:
        job = _job_nobody_runs(client, str(audio_dir / "pv_cheetah_test_en.wav"))
        url = f"{api_url}{job['stream_url']}"
        with httpx.Client(timeout=10) as http:
            with http.stream("GET", url) as first:
                assert first.status_code == 200
                second = http.get(url)
                assert second.status_code == 429 and second.json()["code"] == "too_many_streams"
                assert int(second.headers["Retry-After"]) >= 1
            # The first stream is closed: its slot comes back (the relay saw the disconnect)
            deadline = time.monotonic() + 10
            while True:
                with http.stream("GET", url) as again:
                    if again.status_code == 200:
                        break
                assert time.monotonic() < deadline, "the closed stream's slot was never released"
                time.sleep(0.3)
    finally:
        relay._slots.cache_clear()


def test_the_idle_sweep_deletes_the_dead_letters_it_failed(client: GrabadoraClient, worker, transcriber, audio_dir) -> None:
    from tests.integration.test_worker_faults import _fresh_queue, _item, _queued_job, _worker_on

    queue, dlq = _fresh_queue()
    message, job = _queued_job(client, audio_dir / "pv_cheetah_test_en.wav")
    dlq.send(message.model_dump_json())
    dlq.send("not a job at all")
    w = _worker_on(queue, dlq, worker, transcriber)
    w.sweep_dead_letters()
    w.sweep_dead_letters()
    assert _item(client, job["job_id"]).status == "failed"
    assert dlq.depth() == 0  # neither waiting nor in flight: gone, not hidden for hours


def test_the_live_sweep_deletes_its_dead_letters(client: GrabadoraClient, worker, audio_dir) -> None:
    import json

    from gpu_container.worker import LiveWorker
    from tests.integration.test_worker_faults import _fresh_queue

    queue, dlq = _fresh_queue()
    job = _job_nobody_runs(client, str(audio_dir / "pv_cheetah_test_en.wav"))  # stands in for the session's item
    body = {"kind": "live", "job_id": job["job_id"], "user_id": _user_id(client), "audio_key": f"audio/x/{uuid.uuid4().hex}.wav",
            "options": {"language": "en"}, "max_seconds": 60, "idle_seconds": 60}
    dlq.send(json.dumps(body))
    dlq.send("{not json")
    live = LiveWorker(queue, worker.ports, worker.transcriber, worker.transcriber, sessions=1, wait_seconds=0,
                      visibility_timeout=5, max_receives=3, dead_letters=dlq)
    live.sweep_dead_letters()
    live.sweep_dead_letters()
    assert dlq.depth() == 0
    assert list(client.events(job["stream_url"]))[-1].event == "error"


def _user_id(client: GrabadoraClient) -> str:
    import jwt

    return jwt.decode(client.token, options={"verify_signature": False})["sub"]
