"""Follows one job's event log (grabadora/services/event_log.py) as server-sent events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import ServerSentEvent

from grabadora.adapters.events_table import EventsTable
from grabadora.services.event_log import follow_events, pacing

__all__ = ["follow", "pacing"]


async def follow(events: EventsTable, job_id: str, after_seq: int, **pace: Any) -> AsyncIterator[ServerSentEvent]:
    """`follow_events` (same pacing arguments) as server-sent events, each with `id: <seq>`."""
    async for event in follow_events(events, job_id, after_seq, **pace):
        yield ServerSentEvent(
            id=str(event.seq),
            event=event.type,
            data=json.dumps(event.data, ensure_ascii=False, separators=(",", ":")),
        )
