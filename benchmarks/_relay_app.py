"""The SSE relay app (functions.stream.app.create_app) with a counter on its DynamoDB reads.

Used by benchmarks/relay.py as `uvicorn --factory benchmarks._relay_app:create_app`: every
`EventsTable.read` (one DynamoDB Query) is counted per job, and `GET /_bench/stats` reports the
counts and the process's RSS. `POST /_bench/append` commits events from inside the relay's
process (on a threadpool thread, as `grabadora dev`'s worker thread does), so the benchmark can
measure a co-located writer, whose commits ring the relay's doorbell. Nothing else about the
relay changes.
"""

from __future__ import annotations

import collections
import os
import threading
import time

from fastapi import FastAPI

from functions.stream import app as stream_app
from grabadora.adapters.events_table import EventsTable
from grabadora.doorbell import local_doorbell
from grabadora.models import JobEvent

_lock = threading.Lock()
_reads: collections.Counter[str] = collections.Counter()
_original_read = EventsTable.read


def _counting_read(self: EventsTable, job_id: str, after_seq: int = -1, limit: int = 1000):  # type: ignore[no-untyped-def]
    with _lock:
        _reads[job_id] += 1
    return _original_read(self, job_id, after_seq, limit)


def _rss_kib() -> int:
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def create_app() -> FastAPI:
    EventsTable.read = _counting_read  # type: ignore[method-assign]
    app = stream_app.create_app()

    @app.get("/_bench/stats", include_in_schema=False)
    def stats() -> dict:
        with _lock:
            return {"reads": dict(_reads), "total_reads": sum(_reads.values()), "rss_kib": _rss_kib()}

    events = EventsTable()

    @app.post("/_bench/append", include_in_schema=False)
    def append(body: dict) -> dict:
        committed = [JobEvent(**e) for e in body["events"]]
        events.append(committed, segment=body.get("segment"))
        local_doorbell.ring(committed[0].job_id)  # as grabadora dev's worker does after a commit
        return {"committed_at": time.time()}

    return app
