"""The relay's polling: fast while events flow, backing off when quiet, slower still when idle,
and woken at once by a commit made in its own process."""

from __future__ import annotations

import asyncio
import threading
import time

from grabadora.services import event_log as relay
from grabadora.doorbell import Doorbell
from grabadora.models import JobEvent


class _Log:
    """An events table whose job emits nothing for a while, then completes; records read times."""

    def __init__(self, loop: asyncio.AbstractEventLoop, complete_after: float) -> None:
        self.loop, self.complete_after, self.start = loop, complete_after, loop.time()
        self.reads: list[float] = []

    def read(self, job_id: str, after_seq: int) -> list[JobEvent]:
        now = self.loop.time() - self.start
        self.reads.append(now)
        if now >= self.complete_after and after_seq < 0:
            return [JobEvent(job_id=job_id, seq=0, type="completed", data={})]
        return []


def _gaps(reads: list[float]) -> list[float]:
    return [b - a for a, b in zip(reads, reads[1:])]


async def _follow(log: object, **kwargs: object) -> list[JobEvent]:
    return [e async for e in relay.follow_events(log, "job", -1, **kwargs)]  # type: ignore[arg-type]


def test_a_quiet_stream_backs_off_to_the_idle_delay_and_still_ends() -> None:
    async def scenario() -> tuple[_Log, list[JobEvent]]:
        log = _Log(asyncio.get_running_loop(), complete_after=1.2)
        events = await _follow(log, min_delay=0.01, max_delay=0.04, idle_after=0.3, idle_delay=0.32)
        return log, events

    log, events = asyncio.run(scenario())
    gaps = _gaps(log.reads)
    # Then it doubles from 10 ms, stays at 40 ms while not yet idle, and polls ~every 320 ms once idle
    assert gaps[0] < 0.05
    assert max(g for g, t in zip(gaps, log.reads) if t < 0.25) < 0.1
    assert max(gaps) >= 0.2
    # And the terminal event still arrives, ending the stream
    assert [e.type for e in events] == ["completed"]


def test_without_idle_settings_the_delay_never_exceeds_max_delay() -> None:
    async def scenario() -> _Log:
        log = _Log(asyncio.get_running_loop(), complete_after=0.5)
        await _follow(log, min_delay=0.01, max_delay=0.04)
        return log

    log = asyncio.run(scenario())
    assert max(_gaps(log.reads)) < 0.12 and len(log.reads) >= 8


class _WrittenLater:
    """A log whose `completed` is committed by another thread at `commit_at` (loop seconds),
    ringing `doorbell` as the worker does after a commit."""

    def __init__(self, loop: asyncio.AbstractEventLoop, doorbell: Doorbell | None, commit_at: float) -> None:
        self.loop, self.start, self.reads = loop, loop.time(), 0
        self.committed = threading.Event()
        self.committed_at: float | None = None

        def commit() -> None:
            time.sleep(commit_at)
            self.committed_at = loop.time() - self.start
            self.committed.set()
            if doorbell is not None:
                doorbell.ring("job")

        threading.Thread(target=commit, daemon=True).start()

    def read(self, job_id: str, after_seq: int) -> list[JobEvent]:
        self.reads += 1
        return [JobEvent(job_id=job_id, seq=0, type="completed", data={})] if self.committed.is_set() else []


def _follow_written_later(doorbell: Doorbell | None) -> tuple[float, float, int]:
    async def scenario() -> tuple[float, float, int]:
        loop = asyncio.get_running_loop()
        log = _WrittenLater(loop, doorbell, commit_at=0.3)
        events = await _follow(log, min_delay=2.0, max_delay=2.0, doorbell=doorbell)  # type: ignore[arg-type]
        assert [e.type for e in events] == ["completed"]
        assert log.committed_at is not None
        return log.committed_at, loop.time() - log.start, log.reads

    return asyncio.run(scenario())


def test_a_local_commit_wakes_the_stream_before_its_poll_interval() -> None:
    doorbell = Doorbell()
    committed_at, delivered_at, reads = _follow_written_later(doorbell)
    # With a 2 s poll, the commit at 0.3 s is read as soon as it rings, by a second read
    assert delivered_at - committed_at < 0.5
    assert reads == 2
    # And the stream's listener is gone once it ended
    assert doorbell.listeners("job") == 0


def test_without_a_doorbell_the_same_stream_waits_for_its_poll() -> None:
    committed_at, delivered_at, reads = _follow_written_later(None)
    assert delivered_at >= 1.9 and reads == 2


def test_a_ring_for_another_job_does_not_wake_the_stream() -> None:
    async def scenario() -> float:
        doorbell = Doorbell()
        loop = asyncio.get_running_loop()
        with doorbell.listen("mine") as rung:
            loop.call_later(0.05, doorbell.ring, "other")
            start = loop.time()
            try:
                await asyncio.wait_for(rung.wait(), 0.3)
            except TimeoutError:
                pass
            return loop.time() - start

    assert asyncio.run(scenario()) >= 0.29
