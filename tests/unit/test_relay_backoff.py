"""The relay's polling: fast while events flow, backing off when quiet, slower still when idle."""

from __future__ import annotations

import asyncio

from functions.stream import relay
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


async def _follow(log: _Log, **kwargs: float) -> list[JobEvent]:
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
