"""Quota held at submit time: queued, running and live jobs reserve their audio seconds.

A submit reads the user's `in-flight` item (job id -> seconds held), drops the jobs that have
ended since (their transcript is completed, failed or gone: a completed job's seconds are in
the month's usage by then), and adds the new job only if the number in flight stays under
`GRABADORA_MAX_JOBS_IN_FLIGHT` and usage + every hold + the new job's seconds stay within the
monthly quota. The write is conditional on the item's version, so parallel submits serialise:
each one re-reads what the others reserved. The worker's decoded duration is what usage counts
(the hold only bounds what may be queued), so a probe that was wrong never changes the bill.
"""

from __future__ import annotations

import random
import time
from typing import Protocol

from grabadora.errors import Conflict, NotFound, QuotaExceeded, RateLimited, ServiceUnavailable
from grabadora.models import JobStatus
from grabadora.adapters.user_state import month_of
from grabadora.settings import UsageSettings

_ENDED = {JobStatus.COMPLETED, JobStatus.FAILED}
HELD = 0.0  # a hold's `q` while its job waits for its turn (grabadora/services/turns.py)
_ATTEMPTS = 40
_CREATING_SECONDS = 120


class _Transcripts(Protocol):
    def get(self, user_id: str, transcript_id: str): ...  # noqa: ANN201


def _resets_on() -> str:
    year, month = map(int, month_of().split("-"))
    return f"{year + month // 12}-{month % 12 + 1:02d}-01"


def _ended(transcripts: _Transcripts, user_id: str, job_id: str, since: float) -> bool:
    try:
        return transcripts.get(user_id, job_id).status in _ENDED
    except NotFound:
        # A hold is written just before its job's item: a missing item is a job being created,
        # unless the hold is old (its submit died in between, or the job was deleted).
        return time.time() - since > _CREATING_SECONDS


def reserve(
    user_state, transcripts: _Transcripts, settings: UsageSettings, user_id: str, job_id: str, seconds: float,
    *, shrink_to_fit: bool = False, turn: bool = False,
) -> float:
    """Hold `seconds` of the quota for `job_id`; the seconds held.

    `shrink_to_fit` (live sessions): hold what is left when less than `seconds` is, rather than
    refuse. `turn`: a file job that waits for its turn in the jobs queue (grabadora/services/turns.py):
    held until `turns.take_turns` sends it. Raises `RateLimited` (too many jobs in flight) or
    `QuotaExceeded` (it does not fit).
    """
    quota, cap = settings.monthly_quota_seconds, settings.max_jobs_in_flight
    ended: set[str] = set()
    for attempt in range(_ATTEMPTS):
        holds, version = user_state.in_flight(user_id)
        if job_id in holds:
            raise Conflict(f"upload {job_id} was already submitted; its job id is {job_id}")
        for held, hold in list(holds.items()):
            if hold.get("q") == HELD:
                continue  # not queued yet, so not ended either; turns drops one the user deleted
            if held in ended or _ended(transcripts, user_id, held, hold.get("t", 0.0)):
                ended.add(held)
                del holds[held]
        if cap and len(holds) >= cap:
            raise RateLimited(
                f"too many jobs in flight: {len(holds)} queued or running (the limit is {cap}); "
                "submit more once some have finished",
                retry_after=30,
                code="too_many_jobs",
            )
        held_seconds = seconds
        if quota:
            used = float(user_state.usage(user_id)["audio_seconds"])
            reserved = sum(hold["s"] for hold in holds.values())
            left = max(quota - used - reserved, 0.0)
            if shrink_to_fit and 0 < left < seconds:
                held_seconds = left
            if left <= 0 or held_seconds > left:
                raise QuotaExceeded(
                    f"monthly quota: {left:.0f} s left of {quota} s ({used:.0f} s used, {reserved:.0f} s held by "
                    f"jobs in flight); this one needs {seconds:.0f} s; the quota resets on {_resets_on()} (UTC)"
                )
        holds[job_id] = {"s": held_seconds, "t": time.time(), **({"q": HELD} if turn else {})}
        try:
            user_state.put_in_flight(user_id, holds, version)
            return held_seconds
        except Conflict:
            time.sleep(random.uniform(0.005, 0.03) * min(attempt + 1, 5))
    raise ServiceUnavailable("too many submits at once for this account; try again")


def held(user_state, transcripts: _Transcripts, user_id: str) -> tuple[float, int]:
    """(seconds held, jobs holding them): what the user's jobs in flight reserve now, as the next
    submit would count it (holds of jobs that have ended since are left out; nothing is written)."""
    holds, _ = user_state.in_flight(user_id)
    seconds, jobs = 0.0, 0
    for job_id, hold in holds.items():
        if hold.get("q") != HELD and _ended(transcripts, user_id, job_id, hold.get("t", 0.0)):
            continue
        seconds += float(hold.get("s", 0.0))
        jobs += 1
    return round(seconds, 3), jobs


def release(user_state, user_id: str, job_id: str) -> None:
    """Drop `job_id`'s hold now (a submit that failed after reserving); best effort, as the
    next submit drops holds of ended jobs anyway."""
    for _ in range(_ATTEMPTS):
        holds, version = user_state.in_flight(user_id)
        if job_id not in holds:
            return
        del holds[job_id]
        try:
            user_state.put_in_flight(user_id, holds, version)
            return
        except Conflict:
            time.sleep(random.uniform(0.005, 0.03))
