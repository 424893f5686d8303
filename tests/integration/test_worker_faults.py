"""Crashes, redeliveries, twins and poison: every job ends once, every word streamed once."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid

import pytest

from grabadora.adapters.queues import JobQueue
from grabadora.client import GrabadoraClient
from grabadora.errors import Conflict
from grabadora.local.provision import _create_queue
from grabadora.models import JobMessage, TranscribeOptions
from grabadora.resources import QueueSpec
from gpu_container.job import Limits, JobOutcome, process_job
from gpu_container.worker import Worker
from tests.integration.test_pipeline import direct_text

LIMITS = Limits(max_audio_seconds=3600)


class Crash(Exception):
    """Stands for the process dying at that point."""


def _queued_job(client: GrabadoraClient, path) -> JobMessage:
    """Submit through the API, then take the job's message body as a worker would see it."""
    job = client.transcribe(client.upload(str(path)))
    item = _item(client, job["job_id"])
    return JobMessage(job_id=job["job_id"], user_id=item.user_id, audio_key=item.audio_key,
                      options=TranscribeOptions(**item.options)), job


def _item(client: GrabadoraClient, job_id: str) -> dict:
    import jwt

    from grabadora.adapters.transcripts_table import TranscriptsTable

    user_id = jwt.decode(client.token, options={"verify_signature": False})["sub"]
    return TranscriptsTable().get(user_id, job_id)


def _assert_clean_stream(events, expected_text: str) -> None:
    assert [e.id for e in events] == list(range(len(events))), "seq must be gap-free from 0"
    assert [e.event for e in events].count("completed") == 1 and events[-1].event == "completed"
    assert "".join(e.data["text"] for e in events if e.event == "delta") == expected_text


def test_a_job_crashed_mid_transcription_resumes_without_repeating_words(
    client: GrabadoraClient, worker, transcriber, audio_dir
) -> None:
    # Given a job whose first attempt dies after committing two segments
    path = audio_dir / "pv_leopard_diarization_test.wav"
    message, job = _queued_job(client, path)
    committed: list[int] = []

    def crash_after_two(segment) -> None:
        committed.append(segment.id)
        if len(committed) == 2:
            raise Crash

    with pytest.raises(Crash):
        process_job(message, worker.ports, transcriber, LIMITS, on_segment=crash_after_two)
    assert _item(client, job["job_id"]).status == "processing"
    # When the job is delivered again
    assert process_job(message, worker.ports, transcriber, LIMITS) is JobOutcome.COMPLETED
    # Then the stream holds every word exactly once, in order, and the item counts two attempts
    events = list(client.events(job["stream_url"]))
    _assert_clean_stream(events, direct_text(transcriber, path, TranscribeOptions()))
    assert _item(client, job["job_id"]).attempts == 2
    # And a third delivery (say, the message was not deleted in time) changes nothing
    assert process_job(message, worker.ports, transcriber, LIMITS) is JobOutcome.ALREADY_DONE
    assert list(client.events(job["stream_url"])) == events


def test_the_same_job_delivered_twice_at_once_yields_one_set_of_events(
    client: GrabadoraClient, worker, transcriber, audio_dir
) -> None:
    path = audio_dir / "pv_leopard_diarization_test.wav"
    message, job = _queued_job(client, path)
    outcomes: list[object] = []

    def run() -> None:
        try:
            outcomes.append(process_job(message, worker.ports, transcriber, LIMITS))
        except Conflict as e:
            outcomes.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Whoever lost the race stopped on a conditional write (or found the job done)
    assert JobOutcome.COMPLETED in outcomes
    events = list(client.events(job["stream_url"]))
    _assert_clean_stream(events, direct_text(transcriber, path, TranscribeOptions()))


def _fresh_queue(visibility: int = 1) -> tuple[JobQueue, JobQueue]:
    name = f"faults-{uuid.uuid4().hex[:8]}"
    _create_queue(QueueSpec("Q", name, visibility_timeout_seconds=visibility, max_receive_count=3,
                            dlq_name=f"{name}-dlq", receive_wait_seconds=0))
    return JobQueue(name), JobQueue(f"{name}-dlq")


def _worker_on(queue: JobQueue, dlq: JobQueue, base: Worker, transcriber) -> Worker:
    return Worker(queue, base.ports, transcriber, LIMITS, wait_seconds=1, visibility_timeout=1,
                  max_receives=3, dead_letters=dlq)


class _AnswerLost:
    """Transcripts port whose `complete` lands but whose answer is lost: the call is retried,
    as botocore does after a reset connection, and the retry fails the condition."""

    def __init__(self, inner) -> None:  # noqa: ANN001 - a TranscriptsTable
        self._inner = inner

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._inner, name)

    def complete(self, user_id: str, transcript_id: str, fields: dict) -> dict:
        self._inner.complete(user_id, transcript_id, fields)
        return self._inner.complete(user_id, transcript_id, fields)  # raises Conflict


def test_a_completion_whose_answer_was_lost_still_ends_the_stream(
    client: GrabadoraClient, worker, transcriber, audio_dir
) -> None:
    # Given a job whose `complete` lands but whose answer is lost in an outage
    path = audio_dir / "fw_jfk.flac"
    message, job = _queued_job(client, path)
    ports = dataclasses.replace(worker.ports, transcripts=_AnswerLost(worker.ports.transcripts))
    # When the worker handles it
    outcome = process_job(message, ports, transcriber, LIMITS)
    # Then the job is done, and its stream ends with `completed` after every word, once
    assert outcome is JobOutcome.ALREADY_DONE
    assert _item(client, job["job_id"]).status == "completed"
    assert worker.ports.events.tail(job["job_id"]).terminal == "completed"
    events = list(client.events(job["stream_url"]))
    _assert_clean_stream(events, direct_text(transcriber, path, TranscribeOptions()))


def test_a_poison_message_lands_in_the_dlq(worker, transcriber) -> None:
    queue, dlq = _fresh_queue()
    queue.send("this is not a job")
    w = _worker_on(queue, dlq, worker, transcriber)
    deadline = time.monotonic() + 20
    while dlq.depth() == 0 and time.monotonic() < deadline:
        w.poll_once()
        time.sleep(0.5)
    assert dlq.depth() == 1
    assert dlq.receive(0, 30).body == "this is not a job"


class Exploding:
    """A transcriber whose model blows up: a bug, not bad input."""

    model_name = "broken"

    def transcribe(self, audio, options):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")


def test_a_job_that_keeps_crashing_ends_failed_with_a_reason_and_its_message_in_the_dlq(
    client: GrabadoraClient, worker, audio_dir
) -> None:
    queue, dlq = _fresh_queue()
    message, job = _queued_job(client, audio_dir / "pv_cheetah_test_en.wav")
    queue.send(message.model_dump_json())
    w = _worker_on(queue, dlq, worker, Exploding())
    deadline = time.monotonic() + 30
    while dlq.depth() == 0 and time.monotonic() < deadline:
        w.poll_once()
        time.sleep(0.5)
    item = _item(client, job["job_id"])
    assert item.status == "failed" and item.attempts == 3
    last = list(client.events(job["stream_url"]))[-1]
    assert last.event == "error" and "failed repeatedly" in last.data["detail"]
    assert "CUDA" not in last.data["detail"]  # no internals leak to the user
    assert dlq.depth() == 1


def test_a_job_whose_message_died_in_the_dlq_is_marked_failed_by_the_sweep(
    client: GrabadoraClient, worker, transcriber, audio_dir
) -> None:
    # Given a job whose worker was killed on every attempt: its message sits in the DLQ
    queue, dlq = _fresh_queue()
    message, job = _queued_job(client, audio_dir / "pv_cheetah_test_en.wav")
    dlq.send(message.model_dump_json())
    # When an idle worker sweeps the DLQ
    _worker_on(queue, dlq, worker, transcriber).sweep_dead_letters()
    # Then the job is failed with a reason, and its stream ends
    assert _item(client, job["job_id"]).status == "failed"
    assert list(client.events(job["stream_url"]))[-1].event == "error"
