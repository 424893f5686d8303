"""Follows one job's event log in DynamoDB and yields it as server-sent events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from anyio import to_thread
from sse_starlette import ServerSentEvent

from grabadora.adapters.events_table import EventsTable
from grabadora.models import TERMINAL_EVENTS, JobEvent


async def follow_events(
    events: EventsTable,
    job_id: str,
    after_seq: int,
    *,
    min_delay: float,
    max_delay: float,
    idle_after: float | None = None,
    idle_delay: float | None = None,
) -> AsyncIterator[JobEvent]:
    """Replay from `after_seq`, then tail the log until the job's terminal event.

    While the job is quiet the relay backs off (doubling up to `max_delay`) and polls fast again
    as soon as events flow. Once nothing has arrived for `idle_after` seconds (a job queued
    behind others, a stalled worker) it keeps doubling up to `idle_delay`, so a silent stream
    costs about one read a second instead of ten.
    """
    loop = asyncio.get_running_loop()
    delay = min_delay
    last_activity = loop.time()
    while True:
        batch = await to_thread.run_sync(events.read, job_id, after_seq)
        for event in batch:
            after_seq = event.seq
            yield event
            if event.type in TERMINAL_EVENTS:
                return
        if batch:
            delay, last_activity = min_delay, loop.time()
        else:
            idle = idle_after is not None and idle_delay is not None and loop.time() - last_activity >= idle_after
            delay = min(delay * 2, max(idle_delay, max_delay) if idle else max_delay)  # type: ignore[type-var]
        await asyncio.sleep(delay)


async def follow(
    events: EventsTable,
    job_id: str,
    after_seq: int,
    *,
    min_delay: float,
    max_delay: float,
    idle_after: float | None = None,
    idle_delay: float | None = None,
) -> AsyncIterator[ServerSentEvent]:
    """`follow_events` as server-sent events, each with `id: <seq>`."""
    async for event in follow_events(
        events, job_id, after_seq, min_delay=min_delay, max_delay=max_delay, idle_after=idle_after, idle_delay=idle_delay
    ):
        yield ServerSentEvent(
            id=str(event.seq),
            event=event.type,
            data=json.dumps(event.data, ensure_ascii=False, separators=(",", ":")),
        )
