"""Fair turns (grabadora/services/turns.py): held jobs, turns taken as jobs end, nothing stuck."""

from __future__ import annotations

import threading
import time

import pytest

from grabadora.errors import Conflict, NotFound, ServiceUnavailable
from grabadora.models import JobMessage, JobStatus, TranscribeOptions
from grabadora.services import quota, turns
from grabadora.settings import DevSettings


class State:
    """The in-flight item with its conditional write, in memory (holds copied both ways, as DynamoDB does)."""

    def __init__(self) -> None:
        self.holds: dict[str, dict[str, float]] = {}
        self.version = 0
        self.lock = threading.Lock()

    def usage(self, user_id: str) -> dict:
        return {"audio_seconds": 0.0}

    def in_flight(self, user_id: str):  # noqa: ANN201
        with self.lock:
            return {j: dict(h) for j, h in self.holds.items()}, self.version

    def put_in_flight(self, user_id: str, holds, version: int) -> None:  # noqa: ANN001
        with self.lock:
            if version != self.version:
                raise Conflict("changed")
            self.holds, self.version = {j: dict(h) for j, h in holds.items()}, version + 1


class Item:
    def __init__(self, job_id: str, status: JobStatus = JobStatus.QUEUED) -> None:
        self.transcript_id, self.user_id, self.status = job_id, "u", status
        self.audio_key = f"audio/u/{job_id}/a.wav"
        self.options = TranscribeOptions(language="es").model_dump(mode="json")


class Transcripts:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}

    def get(self, user_id: str, job_id: str) -> Item:
        if job_id not in self.items:
            raise NotFound("gone")
        return self.items[job_id]


class Queue:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None]] = []
        self.down = False

    def send(self, body: str, group: str | None = None) -> str:
        if self.down:
            raise ServiceUnavailable("queue down")
        self.sent.append((JobMessage.model_validate_json(body).job_id, group))
        return "m"


@pytest.fixture
def world():  # noqa: ANN201
    return State(), Transcripts(), Queue(), DevSettings(_env_file=None, jobs_queued_per_user=1, max_jobs_in_flight=60)


def submit(world, job_id: str) -> list[str]:  # noqa: ANN001
    state, transcripts, queue, settings = world
    quota.reserve(state, transcripts, settings, "u", job_id, 3.0, turn=True)
    transcripts.items[job_id] = Item(job_id)
    return turns.take_turns(state, transcripts, queue, settings, "u")


def q(world, job_id: str) -> float | None:  # noqa: ANN001
    return world[0].holds.get(job_id, {}).get("q")


def test_only_one_job_per_user_is_queued_and_the_next_goes_when_it_ends(world) -> None:
    state, transcripts, queue, settings = world
    for i in range(5):
        submit(world, f"j{i}")
    assert queue.sent == [("j0", "u")]  # the user's id is the message group (SQS fair queues)
    assert q(world, "j0") == turns.SENT and all(q(world, f"j{i}") == quota.HELD for i in range(1, 5))
    # The worker, about to complete j0: the turn passes to j1 (the oldest held) at once
    assert turns.take_turns(state, transcripts, queue, settings, "u", ending="j0") == ["j1"]
    # Called again (a redelivered message after a crash before `complete`): nothing more is sent
    assert turns.take_turns(state, transcripts, queue, settings, "u", ending="j0") == []
    transcripts.items["j0"].status = JobStatus.COMPLETED
    transcripts.items["j1"].status = JobStatus.FAILED
    # A missed turn (the worker died between `fail` and its call) is taken by the next call
    assert turns.take_turns(state, transcripts, queue, settings, "u") == ["j2"]
    assert "j0" not in state.holds and "j1" not in state.holds
    assert [j for j, _ in queue.sent] == ["j0", "j1", "j2"]


def test_a_deleted_job_frees_its_turn_and_a_deleted_held_job_is_never_sent(world) -> None:
    state, transcripts, queue, settings = world
    for i in range(3):
        submit(world, f"j{i}")
    del transcripts.items["j1"]  # held, deleted
    turns.job_deleted(state, transcripts, queue, settings, "u", "j1")
    assert "j1" not in state.holds and [j for j, _ in queue.sent] == ["j0"]
    del transcripts.items["j0"]  # queued, deleted
    turns.job_deleted(state, transcripts, queue, settings, "u", "j0")
    assert [j for j, _ in queue.sent] == ["j0", "j2"]


def test_a_claim_whose_sender_died_is_sent_again(world, monkeypatch: pytest.MonkeyPatch) -> None:
    state, transcripts, queue, settings = world
    submit(world, "j0")
    submit(world, "j1")
    # A sender claimed j1's turn, then died before sending (j0 had ended meanwhile)
    transcripts.items["j0"].status = JobStatus.COMPLETED
    state.holds["j1"].update(q=turns.CLAIMED, c=time.time())
    assert turns.take_turns(state, transcripts, queue, settings, "u") == []  # within the grace: its sender may be at it
    state.holds["j1"]["c"] = time.time() - turns.CLAIM_GRACE - 1
    assert turns.take_turns(state, transcripts, queue, settings, "u") == ["j1"]
    assert q(world, "j1") == turns.SENT


def test_a_queue_outage_leaves_the_jobs_held_for_the_next_turn(world) -> None:
    state, transcripts, queue, settings = world
    submit(world, "j0")
    submit(world, "j1")
    transcripts.items["j0"].status = JobStatus.COMPLETED
    queue.down = True
    with pytest.raises(ServiceUnavailable):
        turns.take_turns(state, transcripts, queue, settings, "u")
    assert q(world, "j1") == quota.HELD
    queue.down = False
    assert turns.take_turns(state, transcripts, queue, settings, "u") == ["j1"]


def test_parallel_submits_queue_exactly_one_job(world) -> None:
    state, transcripts, queue, settings = world
    threads = [threading.Thread(target=submit, args=(world, f"j{i:02d}")) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(queue.sent) == 1 and len(state.holds) == 20
    assert sum(h.get("q") == turns.SENT for h in state.holds.values()) == 1


def test_turns_off_sends_every_held_job(world) -> None:
    state, transcripts, queue, settings = world
    for i in range(3):
        submit(world, f"j{i}")
    off = settings.model_copy(update={"jobs_queued_per_user": 0})
    assert turns.take_turns(state, transcripts, queue, off, "u") == ["j1", "j2"]


def test_the_quota_holds_of_held_jobs_count_and_are_not_read_one_by_one(world) -> None:
    state, transcripts, queue, settings = world
    for i in range(3):
        submit(world, f"j{i}")
    capped = settings.model_copy(update={"max_jobs_in_flight": 3})
    with pytest.raises(Exception, match="too many jobs in flight"):
        quota.reserve(state, transcripts, capped, "u", "j3", 3.0, turn=True)


def test_the_worker_hook_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def in_flight(self, user_id: str):  # noqa: ANN201
            raise ServiceUnavailable("dynamodb down")

    ports = type("Ports", (), {"user_state": Broken(), "transcripts": Transcripts()})()
    monkeypatch.setattr(turns, "_jobs_queue", lambda name, endpoint: Queue())
    turns.job_ending(ports, "u", "j0")  # logged, not raised
    turns.job_ending(type("Ports", (), {"user_state": None})(), "u", "j0")  # nobody counts: nothing to do
