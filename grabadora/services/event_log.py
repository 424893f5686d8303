"""Following one job's event log in DynamoDB: replay from a point, then tail it until the job ends.

The SSE relay streams it as server-sent events; the OpenAI-compatible routes read it too."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from anyio import to_thread

from grabadora.doorbell import Doorbell, local_doorbell
from grabadora.adapters.events_table import EventsTable
from grabadora.models import TERMINAL_EVENTS, JobEvent
from grabadora.settings import IntakeSettings


def pacing(settings: IntakeSettings) -> dict[str, Any]:
    """`follow_events`' keyword arguments from the settings: poll intervals and the doorbell.

    The doorbell rings for commits made in this process (`grabadora dev` wires it into its
    worker) and wakes the streams at once; elsewhere nothing rings it and the poll alone finds
    new events.
    """
    return {
        "min_delay": settings.relay_poll_min_seconds,
        "max_delay": settings.relay_poll_max_seconds,
        "idle_after": settings.relay_idle_after_seconds,
        "idle_delay": settings.relay_poll_idle_seconds,
        "doorbell": local_doorbell,
    }


async def follow_events(
    events: EventsTable,
    job_id: str,
    after_seq: int,
    *,
    min_delay: float,
    max_delay: float,
    idle_after: float | None = None,
    idle_delay: float | None = None,
    doorbell: Doorbell | None = None,
    max_seconds: float | None = None,
) -> AsyncIterator[JobEvent]:
    """Replay from `after_seq`, then tail the log until the job's terminal event.

    While the job is quiet the relay backs off (doubling up to `max_delay`) and polls fast again
    as soon as events flow. Once nothing has arrived for `idle_after` seconds (a job queued
    behind others, a stalled worker) it keeps doubling up to `idle_delay`, so a silent stream
    costs about one read a second instead of ten.

    With a `doorbell`, a commit made in this process (the worker thread of `grabadora dev`)
    ends the wait at once; the poll stays the fallback for writers elsewhere.

    With `max_seconds`, the loop ends (without a terminal event) once that long has passed: the
    caller tells its client to resume after the last event yielded. The loop also ends, by
    cancellation at its next await, when the consumer goes away (the relay's client
    disconnected), so nothing keeps polling for nobody.
    """
    loop = asyncio.get_running_loop()
    delay = min_delay
    last_activity = loop.time()
    deadline = loop.time() + max_seconds if max_seconds else None
    with doorbell.listen(job_id) if doorbell is not None else contextlib.nullcontext() as rung:
        while True:
            if rung is not None:
                rung.clear()  # before the read: a commit landing after it rings again
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
            wait = delay
            if deadline is not None:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return
                wait = min(delay, remaining)
            if rung is None:
                await asyncio.sleep(wait)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(rung.wait(), wait)
