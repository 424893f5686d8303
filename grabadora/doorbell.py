"""A push path for the relay when the writer shares its process: commits ring, streams wake.

The events table is the source of truth and the relay polls it (`grabadora/services/event_log.py`).
When events are committed in the relay's own process (the worker thread of `grabadora dev`,
which wires `local_doorbell` into the worker's ports), the worker rings this doorbell for the job
after each commit, and every stream following that job stops waiting out its poll interval and
reads at once. Where the writer is another process (the GPU container on AWS, a second worker),
nothing rings here and the poll alone carries the stream: the doorbell only ever shortens a
wait, it never replaces a read. No AWS here: it is a process's own signal, not an adapter.

Thread-safe: `ring` is called from the worker's threads, waiters live on an asyncio loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Doorbell:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    @contextmanager
    def listen(self, job_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever `ring(job_id)` is called while the block runs (on a loop)."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.setdefault(job_id, set()).add(waiter)
        try:
            yield waiter[1]
        finally:
            with self._lock:
                waiters = self._waiters.get(job_id)
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._waiters[job_id]

    def ring(self, job_id: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(job_id, ()))
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that stream's loop has closed; its listener is on its way out
                pass

    def listeners(self, job_id: str) -> int:
        with self._lock:
            return len(self._waiters.get(job_id, ()))


# One per process: what this process commits wakes what this process streams.
local_doorbell = Doorbell()
