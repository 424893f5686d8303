"""Fair turns: one user's backlog never delays another user's job by more than one job.

Every file job has a hold in its user's `in-flight` item (grabadora/services/quota.py). With turns
on (`GRABADORA_JOBS_QUEUED_PER_USER` = N > 0), at most N of a user's file jobs have a message in
the jobs queue (or run) at once; the others are *held*: their transcript item is `queued`, as users
see it, but no message exists yet. When one of the user's jobs ends, the user's oldest held job
gets the freed turn and its message is sent, so it joins the queue *behind* whatever other users
queued meanwhile. With N = 1 and one worker, another user's job waits for at most the job that is
running. On AWS the messages also carry the user as `MessageGroupId` (an SQS fair queue), which
keeps a user's N queued messages from delaying the others' when N is the fleet's size.

A hold's `q` says where its job stands:
- absent: not subject to turns (live sessions, and holds written before turns existed);
- `HELD` (0): waiting for a turn, no message;
- `CLAIMED` (1): a turn was taken at `c` and the message is being sent;
- `SENT` (2): the message is in the queue, or the job runs.
The claim is written (conditionally on the item's version, as every change of it) before the
send, so two callers never both take the same turn; `SENT` is written after it. A claim still
unconfirmed `CLAIM_GRACE` seconds later (its sender died between the two writes) is sent again:
a second message for one job is harmless, `process_job` is idempotent.

`take_turns` is safe to call at any time, as often as wanted: it derives everything from the
stored holds and the transcript items. It is called
- at every submit, once the job's item exists (its own job may get a turn at once);
- by the worker as a job ends, *before* the job is marked completed or failed
  (`job_ending`): a worker that dies in between has its message redelivered and calls it again;
- when a transcript is deleted (`job_deleted`), and when the user reads a queued job or a library
  page showing one (`nudge`): a turn missed by a transient failure is taken when anyone looks.
"""

from __future__ import annotations

import functools
import logging
import random
import time

from grabadora.errors import Conflict, GrabadoraError, NotFound, ServiceUnavailable
from grabadora.models import JobMessage, JobStatus, TranscribeOptions
from grabadora.services.quota import HELD, _CREATING_SECONDS
from grabadora.settings import UsageSettings, settings_as

logger = logging.getLogger(__name__)

CLAIMED = 1.0
SENT = 2.0
CLAIM_GRACE = 30.0  # seconds a claim may stay unconfirmed before its message is sent again
_ATTEMPTS = 40
_ENDED = {JobStatus.COMPLETED, JobStatus.FAILED}


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0.005, 0.03) * min(attempt + 1, 5))


def _message(item) -> JobMessage | None:  # noqa: ANN001 - TranscriptItem
    """The job's queue message, rebuilt from its transcript item (which stores what was asked)."""
    try:
        options = TranscribeOptions.model_validate(
            {k: v for k, v in (item.options or {}).items() if k in TranscribeOptions.model_fields}
        )
    except ValueError:
        return None
    if not item.audio_key:
        return None
    return JobMessage(job_id=item.transcript_id, user_id=item.user_id, audio_key=item.audio_key, options=options)


def take_turns(user_state, transcripts, queue, settings: UsageSettings, user_id: str, *, ending: str | None = None) -> list[str]:
    """Send the user's held jobs that have a turn now, oldest first; the job ids sent.

    `ending`: a job that is ending (the worker calls this just before marking it completed or
    failed): its turn counts as free. Raises `ServiceUnavailable` when a send fails (the jobs not
    sent wait, held, for the next call).
    """
    per_user = settings.jobs_queued_per_user
    for attempt in range(_ATTEMPTS):
        now = time.time()
        stored, version = user_state.in_flight(user_id)
        holds = {job: dict(hold) for job, hold in stored.items()}
        changed = False
        active = 0
        to_send: dict[str, JobMessage] = {}
        for job_id, hold in list(holds.items()):
            if hold.get("q") not in (CLAIMED, SENT) or job_id == ending:
                continue
            try:
                item = transcripts.get(user_id, job_id)
            except NotFound:
                item = None  # deleted: a claimed or sent job's item existed before its claim
            if item is None or item.status in _ENDED:
                del holds[job_id]
                changed = True
                continue
            active += 1
            if hold.get("q") == CLAIMED and now - hold.get("c", 0.0) > CLAIM_GRACE:
                message = _message(item)
                if message is not None:  # its sender died between the claim and the send
                    hold["c"] = now
                    to_send[job_id] = message
        waiting = sorted((j for j, h in holds.items() if h.get("q") == HELD), key=lambda j: (holds[j].get("t", 0.0), j))
        room = len(waiting) if per_user == 0 else per_user - active
        for job_id in waiting:
            if room <= 0:
                break
            try:
                item = transcripts.get(user_id, job_id)
            except NotFound:
                if now - holds[job_id].get("t", 0.0) > _CREATING_SECONDS:
                    del holds[job_id]  # deleted, or its submit died before creating it
                    changed = True
                continue  # else being created: its submit takes its turn once it exists
            message = _message(item) if item.status is JobStatus.QUEUED else None
            if message is None:
                del holds[job_id]  # ended without a turn (failed at submit), or unreadable
                changed = True
                continue
            holds[job_id].update(q=CLAIMED, c=now)
            to_send[job_id] = message
            room -= 1
        if not changed and not to_send:
            return []
        try:
            user_state.put_in_flight(user_id, holds, version)
            break
        except Conflict:
            _pause(attempt)
    else:
        raise ServiceUnavailable("too many changes at once to this account's jobs; try again")

    sent: list[str] = []
    try:
        for job_id, message in to_send.items():
            queue.send(message.model_dump_json(), group=user_id)
            sent.append(job_id)
    except GrabadoraError as e:
        _mark(user_state, user_id, [j for j in to_send if j not in sent], HELD)
        _mark(user_state, user_id, sent, SENT)
        raise ServiceUnavailable("the job queue is unavailable; try again") from e
    _mark(user_state, user_id, sent, SENT)
    return sent


def _mark(user_state, user_id: str, job_ids: list[str], state: float) -> None:
    """Set the jobs' `q` (best effort: an unconfirmed claim is sent again after CLAIM_GRACE)."""
    if not job_ids:
        return
    for attempt in range(_ATTEMPTS):
        stored, version = user_state.in_flight(user_id)
        holds = {job: dict(hold) for job, hold in stored.items()}
        present = [j for j in job_ids if j in holds]
        if not present:
            return
        for job_id in present:
            holds[job_id]["q"] = state
            if state == HELD:
                holds[job_id].pop("c", None)
        try:
            user_state.put_in_flight(user_id, holds, version)
            return
        except Conflict:
            _pause(attempt)
    logger.warning("fair turns: could not mark %s of user %s; a claim is retried after %.0f s", job_ids, user_id, CLAIM_GRACE)


def drop(user_state, user_id: str, job_id: str) -> None:
    """Forget `job_id`'s hold at once (its job was deleted or could not be queued)."""
    for attempt in range(_ATTEMPTS):
        stored, version = user_state.in_flight(user_id)
        if job_id not in stored:
            return
        holds = {job: dict(hold) for job, hold in stored.items() if job != job_id}
        try:
            user_state.put_in_flight(user_id, holds, version)
            return
        except Conflict:
            _pause(attempt)


# The callers ------------------------------------------------------------------------------------


@functools.cache
def _jobs_queue(name: str, endpoint: str | None):  # noqa: ANN202 - JobQueue (the worker's ports have none)
    from grabadora.adapters.queues import JobQueue

    return JobQueue(name)


def job_ending(ports, user_id: str, job_id: str) -> None:
    """The worker, just before marking `job_id` completed or failed: its turn goes to the user's
    next held job. Never raises: the job's own outcome matters more, and a turn missed here is
    taken at the user's next submit, delete or look at a queued job."""
    if getattr(ports, "user_state", None) is None:
        return
    settings = settings_as(UsageSettings)
    try:
        queue = _jobs_queue(settings.jobs_queue, settings.aws_endpoint_url)
        sent = take_turns(ports.user_state, ports.transcripts, queue, settings, user_id, ending=job_id)
        if sent:
            logger.info("fair turns: %s ending, queued %s", job_id, ", ".join(sent))
    except Exception as e:  # noqa: BLE001 - best effort, see above
        logger.warning("fair turns: next turn after %s not taken now (%s); taken at the user's next request", job_id, e)


def job_deleted(user_state, transcripts, queue, settings: UsageSettings, user_id: str, job_id: str) -> None:
    """A transcript was deleted: its hold goes, and its turn (if it had one) to the next job."""
    try:
        drop(user_state, user_id, job_id)
        take_turns(user_state, transcripts, queue, settings, user_id)
    except GrabadoraError as e:
        logger.warning("fair turns: after deleting %s: %s", job_id, e.detail)


def nudge(user_state, transcripts, queue, settings: UsageSettings, user_id: str) -> None:
    """Take any turn that is due (a user looks at a queued job); best effort."""
    try:
        take_turns(user_state, transcripts, queue, settings, user_id)
    except GrabadoraError as e:
        logger.warning("fair turns: %s", e.detail)
