"""Fair turns across users (issue 19, item 2): one user's backlog of 50 jobs does not hold up
another user's job by more than about one job on a free worker (grabadora/services/turns.py)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from grabadora.client import GrabadoraClient
from tests.e2e.conftest import BIN
from tests.integration.conftest import free_port
from tests.reliability.conftest import REPO, ReliabilityStack, _wait_healthy, count
from tests.reliability.test_quota_and_sessions import _user

BACKLOG = 50
SHORT = "deepspeech_LDC93S1_pcms16le_1_8000.wav"  # 3 s: each job is short, the backlog long


@pytest.fixture(scope="module")
def backlog_api(stack: ReliabilityStack) -> Iterator[str]:
    """An API on the same emulator that lets one user have the whole backlog in flight."""
    port = free_port()
    env = {**stack.env, "GRABADORA_PORT": str(port), "GRABADORA_MAX_JOBS_IN_FLIGHT": str(BACKLOG + 10)}
    log = stack.logs / "api-fair-turns.log"
    process = subprocess.Popen(
        [str(BIN / "grabadora"), "dev", "--no-worker"], env=env, stdout=open(log, "a"), stderr=subprocess.STDOUT, cwd=REPO
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _submit(url: str, token: str, body: bytes) -> dict:
    r = httpx.post(
        f"{url}/transcribe", headers={"Authorization": f"Bearer {token}"},
        files={"file": (SHORT, body, "audio/wav")}, data={"language": "en", "profile": "fast"}, timeout=60,
    )
    assert r.status_code == 202, r.text
    return r.json()


def _until_completed(client: GrabadoraClient, job: dict) -> float:
    """Follow the job's stream to its end; the monotonic time it completed."""
    events = list(client.events(job["stream_url"]))
    assert events and events[-1].event == "completed", [e.event for e in events[-3:]]
    return time.monotonic()


def _completed(client: GrabadoraClient) -> int:
    return len(client.list_transcripts(status="completed", limit=100)["items"])


def test_a_backlog_of_50_does_not_hold_up_another_users_job(
    stack: ReliabilityStack, backlog_api: str, audio_dir: Path
) -> None:
    stack.ensure_worker()
    body = (audio_dir / SHORT).read_bytes()
    # One job's time on a free worker, end to end (submit to `completed`), as this machine runs it
    solo = _user(stack, backlog_api)
    _submit(backlog_api, solo.token, body)  # warm-up: the worker's first job pays for loading
    start = time.monotonic()
    single = _until_completed(solo, _submit(backlog_api, solo.token, body)) - start

    # Given user A with 50 jobs accepted (submitted 8 at a time, as a script would)
    a, b = _user(stack, backlog_api), _user(stack, backlog_api)
    with ThreadPoolExecutor(8) as pool:
        a_jobs = list(pool.map(lambda _: _submit(backlog_api, a.token, body), range(BACKLOG)))
    try:
        # When user B submits one job (A's jobs have been running meanwhile, one at a time)
        a_before = _completed(a)
        start = time.monotonic()
        b_job = _submit(backlog_api, b.token, body)
        waited = _until_completed(b, b_job) - start
        a_done = _completed(a) - a_before
        count("fair turns: the other user's jobs in the backlog", BACKLOG)
        count("fair turns: one job on a free worker (ms)", round(single * 1000))
        count("fair turns: B's job behind the backlog, submit to completed (ms)", round(waited * 1000))
        count("fair turns: the backlog's jobs done while B's ran", a_done)
        # Then B's job ran after at most the job A had running (and, by a hair's race, the one A
        # got queued as it ended), not after A's 50: about one job's time, plus its own
        assert a_done <= 2, f"{a_done} of A's jobs finished while B's waited ({waited:.1f} s; one job: {single:.1f} s)"
        assert waited <= 3 * single + 2.0, f"B waited {waited:.1f} s; one job takes {single:.1f} s"
        # and A's jobs all still wait their turn, shown as queued (the wire contract is unchanged)
        statuses = [a.get_transcript(j["job_id"])["status"] for j in a_jobs[-5:]]
        assert set(statuses) <= {"queued", "processing"}, statuses
    finally:
        # Newest first: a held job's delete only drops its hold; the last ones free A's turn
        for job in reversed(a_jobs):
            a.delete_transcript(job["job_id"])
