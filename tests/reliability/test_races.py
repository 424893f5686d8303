"""Duplicates and races: one SQS message handled by two workers at once; PATCHes racing."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest

from tests.reliability.conftest import LONG, ReliabilityStack, count, user_id_of
from tests.reliability.test_faults import MULTI_SEGMENT, assert_clean_stream, assert_stored_once


def test_the_same_message_delivered_twice_at_once_gives_one_transcript(stack: ReliabilityStack, audio_dir: Path) -> None:
    # Given two idle workers
    stack.stop_workers()
    workers = [stack.start_worker() for _ in range(2)]
    for w in workers:
        stack.wait_ready(w)
    client = stack.client()
    jobs = []
    for _ in range(2 if LONG else 1):
        # When a job's message is delivered twice at once (SQS at-least-once), one per worker
        job = client.transcribe(client.upload(str(audio_dir / MULTI_SEGMENT)))
        item = stack.item(user_id_of(client), job["job_id"])
        body = {"job_id": job["job_id"], "user_id": item["user_id"], "audio_key": item["audio_key"], "options": item["options"]}
        stack.aws("sqs").send_message(QueueUrl=stack.queue_url(), MessageBody=json.dumps(body))
        count("races: duplicate deliveries")
        jobs.append(job)
    # Then conditional writes leave one transcript and one set of events, completed once
    for job in jobs:
        events = list(client.events(job["stream_url"]))
        assert_clean_stream(events)
        assert_stored_once(stack, client, job["job_id"], events)
    assert client.usage()["jobs"] == len(jobs)
    stack.stop_workers()


@pytest.fixture(scope="module")
def finished(stack: ReliabilityStack, audio_dir: Path):
    stack.ensure_worker()
    client = stack.client()
    job = client.transcribe(client.upload(str(audio_dir / MULTI_SEGMENT)))
    assert list(client.events(job["stream_url"]))[-1].event == "completed"
    return client, job["job_id"]


def _patch(url: str, token: str, job_id: str, body: dict, headers: dict | None = None) -> httpx.Response:
    return httpx.patch(f"{url}/transcripts/{job_id}", json=body,
                       headers={"Authorization": f"Bearer {token}", **(headers or {})}, timeout=60)


def _race(calls) -> list[httpx.Response]:  # noqa: ANN001
    results: list[httpx.Response] = [None] * len(calls)  # type: ignore[list-item]
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    count("races: racing PATCHes", len(calls))
    return results


def test_racing_patches_with_the_same_version_one_wins_the_rest_get_409(stack: ReliabilityStack, finished) -> None:
    client, job_id = finished
    version = client.get_transcript(job_id)["version"]
    n = 6
    responses = _race([
        (lambda i=i: _patch(stack.url, client.token, job_id, {"title": f"título {i}", "version": version}))
        for i in range(n)
    ])
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * (n - 1), [(r.status_code, r.text[:100]) for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert winner["version"] == version + 1
    assert client.get_transcript(job_id)["title"] == winner["title"]
    # If-Match carries the same check; a stale one is refused without writing
    stale = _patch(stack.url, client.token, job_id, {"title": "tarde"}, {"If-Match": f'"{version}"'})
    assert stale.status_code == 409 and "version" in stale.json()["detail"]
    fresh = _patch(stack.url, client.token, job_id, {"title": "a tiempo"}, {"If-Match": f'"{version + 1}"'})
    assert fresh.status_code == 200 and fresh.json()["version"] == version + 2
    for bad in ("abc", '"¹"'.encode(), "-1"):
        assert _patch(stack.url, client.token, job_id, {"title": "x"}, {"If-Match": bad}).status_code == 422


def test_racing_corrections_without_a_version_lose_no_update(stack: ReliabilityStack, finished) -> None:
    client, job_id = finished
    segments = client.get_transcript(job_id)["segments"]
    assert len(segments) >= 2
    n = min(len(segments), 6)
    responses = _race([
        (lambda i=i: _patch(stack.url, client.token, job_id, {"segments": [{"id": segments[i]["id"], "text": f"corrección {i}"}]}))
        for i in range(n)
    ])
    assert [r.status_code for r in responses] == [200] * n, [r.text[:200] for r in responses]
    after = {s["id"]: s["text"] for s in client.get_transcript(job_id)["segments"]}
    # Every correction survived: none overwrote another's (the old code lost all but one)
    assert all(after[segments[i]["id"]].strip() == f"corrección {i}" for i in range(n)), after
