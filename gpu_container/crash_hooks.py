"""TEST HOOK ONLY: make a worker process die (`os._exit`, no cleanup) at a named point of a job.

`GRABADORA_TEST_CRASH_AT=<point>` selects one point; unset (always, outside the reliability
tests) nothing here runs and the ports are used as built. Points, in job order:

- `before_download`: the message is received and the attempt counted, the audio not fetched
- `mid_transcription`: right after the second segment's events are committed
- `after_last_delta`: every segment committed and the transcript stored, the item not yet completed
- `before_delete`: the job is completed, the SQS message not yet deleted

The process exits with status 86 so a test can tell the planned crash from a real one.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any

ENV = "GRABADORA_TEST_CRASH_AT"
POINTS = ("before_download", "mid_transcription", "after_last_delta", "before_delete")
EXIT_STATUS = 86


def _point() -> str | None:
    point = os.environ.get(ENV) or None
    if point is not None and point not in POINTS:
        raise ValueError(f"{ENV}={point!r}: expected one of {', '.join(POINTS)}")
    return point


def crash_point(name: str) -> None:
    """Exit the process at once if the test asked to crash at `name`."""
    if _point() == name:
        sys.stderr.write(f"[{ENV}] crashing at {name}\n")
        sys.stderr.flush()
        os._exit(EXIT_STATUS)


class _Wrap:
    """Delegates to `inner`, with `method` calling `before`/`after` hooks around it."""

    def __init__(self, inner: Any, method: str, *, before: Any = None, after: Any = None) -> None:
        self._inner, self._method, self._before, self._after = inner, method, before, after

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name != self._method:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._before:
                self._before(*args, **kwargs)
            result = attr(*args, **kwargs)
            if self._after:
                self._after(*args, **kwargs)
            return result

        return call


def install(ports: Any) -> Any:
    """The worker's ports, wrapped to crash at the configured point (unchanged when none is)."""
    point = _point()
    if point == "before_download":
        return dataclasses.replace(ports, store=_Wrap(ports.store, "download", before=lambda *a, **k: crash_point(point)))
    if point == "mid_transcription":

        def after_append(events: Any, segment: int | None = None, segments: list[int | None] | None = None) -> None:
            if any(label is not None and label >= 1 for label in segments or [segment]):
                crash_point(point)

        return dataclasses.replace(ports, events=_Wrap(ports.events, "append", after=after_append))
    if point == "after_last_delta":
        return dataclasses.replace(
            ports, transcripts=_Wrap(ports.transcripts, "complete", before=lambda *a, **k: crash_point(point))
        )
    return ports
