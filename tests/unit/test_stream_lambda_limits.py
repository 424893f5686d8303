"""Streams that respect Lambda: a maximum duration with a `retry:` hint, and no polling for nobody.

No emulator: an in-memory event log stands in for the events table.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sse_starlette import EventSourceResponse

from grabadora.models import JobEvent
from grabadora.services.event_log import follow_events
from grabadora.settings import DevSettings


class FakeEvents:
    """The events table's `read`, counting calls; `events` grows as a test appends."""

    def __init__(self, events: list[JobEvent] | None = None) -> None:
        self.events = list(events or [])
        self.reads = 0

    def read(self, job_id: str, after_seq: int = -1, limit: int = 1000) -> list[JobEvent]:
        self.reads += 1
        return [e for e in self.events if e.job_id == job_id and e.seq > after_seq][:limit]


def delta(seq: int) -> JobEvent:
    return JobEvent(job_id="j", seq=seq, type="delta", data={"text": f" w{seq}", "t0": seq, "t1": seq + 1})


PACE = {"min_delay": 0.01, "max_delay": 0.02}


async def _collect(log: FakeEvents, after: int, **kwargs) -> list[JobEvent]:
    return [e async for e in follow_events(log, "j", after, **PACE, **kwargs)]


def test_follow_ends_after_max_seconds_without_a_terminal_event() -> None:
    log = FakeEvents([delta(0), delta(1)])
    started = time.monotonic()
    got = asyncio.run(_collect(log, -1, max_seconds=0.3))
    elapsed = time.monotonic() - started
    assert [e.seq for e in got] == [0, 1]
    assert 0.25 <= elapsed < 1.5


def test_follow_without_a_maximum_still_ends_on_the_terminal_event() -> None:
    log = FakeEvents([delta(0), JobEvent(job_id="j", seq=1, type="completed", data={})])
    assert [e.type for e in asyncio.run(_collect(log, -1))] == ["delta", "completed"]


def _settings(**values) -> DevSettings:  # noqa: ANN003
    return DevSettings(_env_file=None, **values)


def _bounded_messages(log: FakeEvents, settings: DevSettings, released: list[bool]) -> list:
    from functions.stream.app import bounded

    async def run() -> list:
        return [m async for m in bounded(log, "j", -1, settings, lambda: released.append(True))]

    return asyncio.run(run())


def test_the_relay_ends_a_long_stream_with_a_retry_hint_and_releases_its_slot() -> None:
    released: list[bool] = []
    messages = _bounded_messages(FakeEvents([delta(0)]), _settings(stream_max_seconds=0.3, stream_retry_ms=250), released)
    assert [m.id for m in messages[:-1]] == ["0"]
    last = messages[-1]
    assert last.retry == 250 and last.event is None and last.data is None
    encoded = last.encode().decode()
    assert "retry: 250" in encoded and "data:" not in encoded and "id:" not in encoded  # Last-Event-ID stays 0
    assert released == [True]


def test_a_finished_job_gets_no_retry_hint() -> None:
    released: list[bool] = []
    log = FakeEvents([delta(0), JobEvent(job_id="j", seq=1, type="completed", data={})])
    messages = _bounded_messages(log, _settings(stream_max_seconds=5), released)
    assert [m.event for m in messages] == ["delta", "completed"]
    assert released == [True]


def test_a_disconnected_client_stops_the_follow_loop() -> None:
    """sse-starlette sees `http.disconnect` and cancels the generator: no more reads."""
    from functions.stream.app import bounded

    log = FakeEvents([delta(0)])  # a job that never ends
    released: list[bool] = []
    sent: list[dict] = []

    async def run() -> None:
        disconnect = asyncio.Event()

        async def receive() -> dict:
            await disconnect.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        fast = _settings(relay_poll_min_seconds=0.01, relay_poll_max_seconds=0.02)
        response = EventSourceResponse(bounded(log, "j", -1, fast, lambda: released.append(True)), ping=60)
        scope = {"type": "http", "method": "GET", "path": "/transcribe/j", "headers": [], "asgi": {"version": "3.0", "spec_version": "2.4"}}
        task = asyncio.create_task(response(scope, receive, send))
        await asyncio.sleep(0.3)
        assert log.reads > 3 and not task.done()  # following
        disconnect.set()
        await asyncio.wait_for(task, 5)
        reads = log.reads
        await asyncio.sleep(0.3)
        assert log.reads == reads  # nothing polls for a client that is gone

    asyncio.run(run())
    assert released == [True]
    assert any(b"id: 0" in m.get("body", b"") for m in sent)


@pytest.mark.parametrize("value", [0, 30.0])
def test_stream_max_seconds_is_a_setting_off_by_default(monkeypatch, value) -> None:  # noqa: ANN001
    assert DevSettings(_env_file=None).stream_max_seconds == 0
    monkeypatch.setenv("GRABADORA_STREAM_MAX_SECONDS", str(value))
    assert DevSettings(_env_file=None).stream_max_seconds == value
