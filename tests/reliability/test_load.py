"""Load: uploads, jobs and live streams at once, on loopback, bounded; nothing lost, memory flat."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.reliability.conftest import LONG, ReliabilityStack, count
from tests.reliability.test_faults import assert_clean_stream

USERS = 8 if LONG else 4
JOBS_PER_USER = 3 if LONG else 2
ROUNDS = 6 if LONG else 3
SHORT = "deepspeech_LDC93S1_pcms16le_1_8000.wav"  # 3 s: the load is on the stack, not the model


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_uploads_jobs_and_streams_at_once(stack: ReliabilityStack, audio_dir: Path) -> None:
    worker = stack.ensure_worker()
    clients = [stack.client() for _ in range(USERS)]
    path = str(audio_dir / SHORT)
    answered: dict[int, int] = {}  # status -> requests the stack answered with it, as counted
    lock = threading.Lock()

    def tally(response: httpx.Response) -> None:
        with lock:
            answered[response.status_code] = answered.get(response.status_code, 0) + 1

    for client in clients:
        client._http.event_hooks["response"].append(tally)
    errors: list[str] = []
    rss: list[tuple[int, int]] = []

    def one_user(i: int) -> list[str]:
        client, done = clients[i], []
        jobs = []
        for _ in range(JOBS_PER_USER):
            jobs.append(client.transcribe(client.upload(path), title=f"carga {i}"))  # POST /uploads, PUT, POST /transcribe
        with httpx.Client(timeout=30, event_hooks={"response": [tally]}) as http:  # meanwhile, the library is read
            for _ in range(3):
                r = http.get(f"{stack.url}/transcripts?limit=5", headers={"Authorization": f"Bearer {client.token}"})
                if r.status_code != 200:
                    errors.append(f"list {r.status_code}")
        for job in jobs:
            events = list(client.events(job["stream_url"]))
            assert_clean_stream(events)
            done.append(job["job_id"])
        for job_id in done:
            if client.get_transcript(job_id)["status"] != "completed":
                errors.append(f"{job_id} not completed")
        return done

    submitted = 0
    finished: list[str] = []
    for round_ in range(ROUNDS):
        start = time.monotonic()
        with ThreadPoolExecutor(USERS) as pool:
            for done in pool.map(one_user, range(USERS)):
                finished.extend(done)
        submitted += USERS * JOBS_PER_USER
        rss.append((_rss_kib(stack.api.pid), _rss_kib(worker.pid)))
        count("load: round seconds (sum)", round(time.monotonic() - start))
    count("load: jobs", submitted)
    requests = sum(answered.values())
    count("load: requests sent", requests)
    # Per job at least: POST /uploads, the PUT, POST /transcribe, its stream, GET of the
    # transcript; per user and round three listings
    assert requests >= submitted * 5 + ROUNDS * USERS * 3, answered
    assert not [status for status in answered if status >= 500], answered
    count("load: jobs lost", submitted - len(set(finished)))
    assert not errors, errors
    assert len(set(finished)) == submitted
    # Memory flat: after the first round (warm-up: imports, pools, caches), growth stays small
    api_growth = (rss[-1][0] - rss[0][0]) / 1024
    worker_growth = (rss[-1][1] - rss[0][1]) / 1024
    count("load: API RSS growth after warm-up (MiB)", round(api_growth))
    count("load: worker RSS growth after warm-up (MiB)", round(worker_growth))
    assert api_growth < 40 and worker_growth < 60, rss
