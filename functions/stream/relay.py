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
) -> AsyncIterator[JobEvent]:
    """Replay from `after_seq`, then tail the log until the job's terminal event.

    While the job is quiet the relay backs off (doubling up to `max_delay`) so an idle stream
    costs a few reads a second, and polls fast again as soon as events flow.
    """
    delay = min_delay
    while True:
        batch = await to_thread.run_sync(events.read, job_id, after_seq)
        for event in batch:
            after_seq = event.seq
            yield event
            if event.type in TERMINAL_EVENTS:
                return
        delay = min_delay if batch else min(delay * 2, max_delay)
        await asyncio.sleep(delay)


async def follow(
    events: EventsTable,
    job_id: str,
    after_seq: int,
    *,
    min_delay: float,
    max_delay: float,
) -> AsyncIterator[ServerSentEvent]:
    """`follow_events` as server-sent events, each with `id: <seq>`."""
    async for event in follow_events(events, job_id, after_seq, min_delay=min_delay, max_delay=max_delay):
        yield ServerSentEvent(
            id=str(event.seq),
            event=event.type,
            data=json.dumps(event.data, ensure_ascii=False, separators=(",", ":")),
        )
