"""The OpenAI-compatible stream speaks while it waits: a job queued behind a cold GPU worker
sends nothing for minutes, and CloudFront (origin read timeout) or API Gateway (idle timeout)
would cut a silent response."""

from __future__ import annotations

import asyncio

from functions.common.openai_routes import HEARTBEAT, with_heartbeats


async def slow_then_done(delay: float, closed: list[bool]):  # noqa: ANN201 - an async generator
    try:
        await asyncio.sleep(delay)
        yield "data: first\n\n"
        yield "data: [DONE]\n\n"
    finally:
        closed.append(True)


def test_a_quiet_stream_gets_comment_lines_and_keeps_its_chunks_in_order() -> None:
    # Given a stream whose first chunk comes after 0.35 s
    closed: list[bool] = []

    async def collect() -> list[str]:
        return [chunk async for chunk in with_heartbeats(slow_then_done(0.35, closed), every=0.1)]

    # When it is relayed with a heartbeat every 0.1 s
    chunks = asyncio.run(collect())
    # Then comment lines fill the silence, and the chunks come through whole and in order
    assert chunks[-2:] == ["data: first\n\n", "data: [DONE]\n\n"]
    assert 2 <= chunks.count(HEARTBEAT) <= 4 and set(chunks[:-2]) == {HEARTBEAT}
    assert HEARTBEAT.startswith(":")  # an SSE comment: clients skip it
    assert closed == [True]


def test_a_client_that_goes_away_stops_the_underlying_stream() -> None:
    closed: list[bool] = []

    async def first_then_leave() -> str:
        stream = with_heartbeats(slow_then_done(10, closed), every=0.05)
        chunk = await stream.__anext__()
        await stream.aclose()
        await asyncio.sleep(0)  # let the cancelled read finish
        return chunk

    assert asyncio.run(first_then_leave()) == HEARTBEAT
    assert closed == [True]
