"""The SQS poll loop: receive, keep the message invisible while working, acknowledge when done."""

from __future__ import annotations

import json
import logging
import threading
import time
from contextlib import contextmanager
from collections.abc import Iterator

from pydantic import ValidationError

from grabadora.adapters.queues import JobQueue, ReceivedMessage
from grabadora.doorbell import Doorbell
from grabadora.errors import Conflict, GrabadoraError
from grabadora.models import JobMessage, LiveMessage, TranscribeOptions
from grabadora.settings import WorkerSettings
from gpu_container import crash_hooks
from gpu_container.ecs_runtime import TaskProtection
from gpu_container.job import Limits, JobOutcome, WorkerPorts, fail_job, process_job
from gpu_container.live import run_live_session
from gpu_container.profiles import live_decoding
from gpu_container.long_form import LongFormPolicy, default_batch_size
from gpu_container.transcriber import Transcriber, resolve_device

logger = logging.getLogger(__name__)
# How long a dead letter stays hidden while the sweep fails its job; if that fails, it comes back.
DEAD_LETTER_VISIBILITY = 15 * 60


@contextmanager
def kept_invisible(queue: JobQueue, message: ReceivedMessage, visibility_timeout: int) -> Iterator[None]:
    """Extend the message's visibility on a timer while its job (or live session) runs."""
    done = threading.Event()

    def heartbeat() -> None:
        interval = max(visibility_timeout / 3, 1)
        while not done.wait(interval):
            try:
                queue.extend(message.receipt_handle, visibility_timeout)
            except GrabadoraError as e:
                logger.warning("could not extend visibility: %s", e.detail)

    thread = threading.Thread(target=heartbeat, name="visibility-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        ports: WorkerPorts,
        transcriber: Transcriber,
        limits: Limits,
        *,
        wait_seconds: int,
        visibility_timeout: int,
        max_receives: int,
        dead_letters: JobQueue | None = None,
        protection: TaskProtection | None = None,
        live: LiveWorker | None = None,
    ) -> None:
        self.queue = queue
        self.ports = ports
        self.transcriber = transcriber
        self.limits = limits
        self.wait_seconds = wait_seconds
        self.visibility_timeout = visibility_timeout
        self.max_receives = max_receives
        self.dead_letters = dead_letters
        self.protection = protection or TaskProtection(minutes=240, agent_uri="")
        self.live = live  # live sessions, on their own loop beside the file jobs'
        self.busy = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Poll until `stop` is set; a job in hand is finished first."""
        logger.info("worker polling %s", self.queue.url)
        live = None
        if self.live is not None:
            live = threading.Thread(target=self.live.run, args=(stop,), name="live-worker", daemon=True)
            live.start()
        while not stop.is_set():
            try:
                handled = self.poll_once()
                if not handled:
                    self.sweep_dead_letters()
            except GrabadoraError as e:
                logger.warning("worker loop: %s; retrying", e.detail)
                stop.wait(1.0)
            except Exception:
                # The loop must outlive any one failure; SQS redelivers whatever was in hand.
                logger.exception("worker loop failed; retrying")
                stop.wait(1.0)
        if live is not None:
            live.join(timeout=10)

    def poll_once(self) -> bool:
        """Receive and handle at most one message; whether one came."""
        message = self.queue.receive(self.wait_seconds, self.visibility_timeout)
        if message is None:
            return False
        self.busy.set()
        try:
            self.handle(message)
        finally:
            self.busy.clear()
        return True

    def handle(self, message: ReceivedMessage) -> None:
        try:
            job = JobMessage.model_validate_json(message.body)
        except ValidationError:
            # Not a job this worker can ever read; let the redrive policy park it in the DLQ,
            # and on the last receive fail the job it names (if any), so it does not stay queued.
            logger.error("unreadable job message %s", message.message_id)
            if message.receive_count >= self.max_receives:
                self._fail_unreadable(message.body)
            return
        try:
            with self.protection.held(), kept_invisible(self.queue, message, self.visibility_timeout):
                outcome = process_job(job, self.ports, self.transcriber, self.limits)
        except Conflict:
            # Another delivery of the same job is ahead of us; it will finish and acknowledge.
            logger.info("job %s is being handled by another worker", job.job_id)
            return
        except Exception:
            logger.exception("job %s failed on attempt %d", job.job_id, message.receive_count)
            if message.receive_count >= self.max_receives:
                # The next receive moves the message to the DLQ; the user learns now, not never.
                fail_job(self.ports, job, "the transcription failed repeatedly; please try again later")
            return
        logger.info("job %s: %s", job.job_id, outcome.value)
        crash_hooks.crash_point("before_delete")  # a no-op unless a reliability test set it
        self.queue.delete(message.receipt_handle)  # its metrics: gpu_container/job.py (grabadora/metrics.py)

    def sweep_dead_letters(self) -> None:
        """Jobs whose messages died (e.g. the worker was killed each time) end `failed`, not stuck.

        The message is deleted once its job is failed: it has done its work, and one left in the
        DLQ would come back every DEAD_LETTER_VISIBILITY seconds to be failed again. If failing the
        job raises, the message stays (in flight, then visible again) and the next sweep retries;
        the DLQ alarm counts visible and in-flight messages, so it sees one either way.
        """
        if self.dead_letters is None:
            return
        message = self.dead_letters.receive(0, DEAD_LETTER_VISIBILITY)
        if message is None:
            return
        logger.error("dead letter %s (received %d times): failing its job", message.message_id, message.receive_count)
        try:
            job = JobMessage.model_validate_json(message.body)
        except ValidationError:
            self._fail_unreadable(message.body)
        else:
            fail_job(self.ports, job, "the transcription failed repeatedly; please try again later")
        self.dead_letters.delete(message.receipt_handle)

    def _fail_unreadable(self, body: str) -> None:
        """Fail the job a malformed message names, when it names one (ids are all it needs)."""
        try:
            data = json.loads(body)
        except ValueError:
            return
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("job_id", "user_id")):
            return
        job = JobMessage.model_construct(
            job_id=data["job_id"], user_id=data["user_id"], audio_key="", options=TranscribeOptions()
        )
        fail_job(self.ports, job, "the job could not be read by the worker (malformed job message); please submit it again")


class LiveWorker:
    """Polls the live queue and runs up to `sessions` live sessions at once, each on its thread.

    A separate loop from the file jobs' so that a live session never waits behind a queue of
    file jobs, nor blocks them for its whole length (docs/DECISIONS.md, "Live sessions").
    """

    def __init__(
        self,
        queue: JobQueue,
        ports: WorkerPorts,
        live_model: Transcriber,
        final_model: Transcriber,
        *,
        sessions: int,
        wait_seconds: int,
        visibility_timeout: int,
        max_receives: int,
        dead_letters: JobQueue | None = None,
        protection: TaskProtection | None = None,
    ) -> None:
        self.queue = queue
        self.dead_letters = dead_letters
        self.ports = ports
        self.live_model = live_model
        self.final_model = final_model
        self.sessions = threading.BoundedSemaphore(max(sessions, 1))
        self.wait_seconds = wait_seconds
        self.visibility_timeout = visibility_timeout
        self.max_receives = max_receives
        self.protection = protection or TaskProtection(minutes=240, agent_uri="")
        self._threads: list[threading.Thread] = []

    def run(self, stop: threading.Event) -> None:
        """Poll until `stop` is set; sessions in hand stop too and are left to SQS to resume."""
        logger.info("live worker polling %s", self.queue.url)
        while not stop.is_set():
            if not self.sessions.acquire(timeout=1.0):
                continue
            try:
                message = self.queue.receive(self.wait_seconds, self.visibility_timeout)
            except Exception as e:  # noqa: BLE001 - the loop outlives any one failure
                self.sessions.release()
                logger.warning("live worker loop: %s; retrying", getattr(e, "detail", e))
                stop.wait(1.0)
                continue
            if message is None:
                self.sessions.release()
                self.sweep_dead_letters()
                continue
            thread = threading.Thread(target=self._session, args=(message, stop), name="live-session", daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()
        for thread in self._threads:
            thread.join(timeout=5)

    def sweep_dead_letters(self) -> None:
        """Sessions whose messages died (the worker killed each time) end `failed`, not live forever;
        their dead letters are deleted then (as for file jobs: `Worker.sweep_dead_letters`)."""
        if self.dead_letters is None:
            return
        try:
            message = self.dead_letters.receive(0, DEAD_LETTER_VISIBILITY)
            if message is None:
                return
            logger.error("live dead letter %s (received %d times): failing its session", message.message_id, message.receive_count)
            try:
                session = LiveMessage.model_validate_json(message.body)
            except ValidationError:
                logger.error("unreadable live dead letter %s: deleted", message.message_id)
            else:
                fail_job(self.ports, session.as_job(), "the live session failed repeatedly; please record again")
            self.dead_letters.delete(message.receipt_handle)
        except GrabadoraError as e:
            logger.warning("live dead-letter sweep: %s", e.detail)

    def _session(self, message: ReceivedMessage, stop: threading.Event) -> None:
        try:
            self.handle(message, stop)
        finally:
            self.sessions.release()

    def handle(self, message: ReceivedMessage, stop: threading.Event) -> None:
        try:
            session = LiveMessage.model_validate_json(message.body)
        except ValidationError:
            logger.error("unreadable live message %s", message.message_id)
            if message.receive_count >= self.max_receives:
                self.queue.delete(message.receipt_handle)
            return
        try:
            with self.protection.held(), kept_invisible(self.queue, message, self.visibility_timeout):
                outcome = run_live_session(session, self.ports, self.live_model, self.final_model, stop=stop)
        except Exception:
            logger.exception("live session %s failed on attempt %d", session.job_id, message.receive_count)
            if message.receive_count >= self.max_receives:
                fail_job(self.ports, session.as_job(), "the live session failed repeatedly; please record again")
            return
        if outcome is None:
            return  # shutting down: the next delivery resumes the session
        logger.info("live session %s: %s", session.job_id, outcome.value)
        self.queue.delete(message.receipt_handle)


def long_form_policy(settings: WorkerSettings) -> LongFormPolicy:
    """The long-file path as the settings ask (batch width 0: chosen for the device)."""
    width = settings.batch_size or default_batch_size(resolve_device(settings.device))
    return LongFormPolicy(batch_size=width, long_from_s=settings.long_form_from_seconds)


def build_worker(settings: WorkerSettings, *, doorbell: Doorbell | None = None) -> Worker:
    """A worker wired to the configured queue, tables, bucket and model; with a `doorbell`, each
    commit rings it (a relay in this process listens there)."""
    from grabadora.adapters.events_table import EventsTable
    from grabadora.adapters.live_frames import LiveFramesTable
    from grabadora.adapters.object_store import ObjectStore
    from grabadora.adapters.realtime import EventPublisher
    from grabadora.adapters.transcripts_table import TranscriptsTable
    from grabadora.adapters.user_state import UserStateTable
    from grabadora.resources import build_resources

    ports = WorkerPorts(
        store=ObjectStore(),
        transcripts=TranscriptsTable(),
        events=EventsTable(),
        publisher=EventPublisher() if settings.iot_publish else None,
        user_state=UserStateTable(),
        frames=LiveFramesTable(),
        doorbell=doorbell,
    )
    ports = crash_hooks.install(ports)  # unchanged unless GRABADORA_TEST_CRASH_AT is set (tests)
    transcriber = Transcriber(
        settings.whisper_model, settings.device, settings.model_cache_dir, cpu_threads=settings.cpu_threads,
        long_form=long_form_policy(settings),
    )
    live = None
    if settings.live_sessions_per_worker:
        # Its own model copy: a live step must not queue behind a file job's decoding window.
        live_model = Transcriber(
            settings.live_whisper_model or settings.whisper_model, settings.device, settings.model_cache_dir,
            cpu_threads=settings.cpu_threads,
        )
        live = LiveWorker(
            JobQueue(settings.live_queue),
            ports,
            live_model,
            transcriber,  # the final pass is a whole-recording transcription, as for a file
            sessions=settings.live_sessions_per_worker,
            wait_seconds=settings.sqs_wait_seconds,
            visibility_timeout=settings.visibility_timeout_seconds,
            max_receives=settings.max_receives,
            dead_letters=JobQueue(build_resources(settings).live.dlq_name),
            protection=TaskProtection(minutes=settings.task_protection_minutes),
        )
    return Worker(
        JobQueue(settings.jobs_queue),
        ports,
        transcriber,
        Limits(max_audio_seconds=settings.max_audio_seconds),
        wait_seconds=settings.sqs_wait_seconds,
        visibility_timeout=settings.visibility_timeout_seconds,
        max_receives=settings.max_receives,
        dead_letters=JobQueue(build_resources(settings).jobs.dlq_name),
        protection=TaskProtection(minutes=settings.task_protection_minutes),
        live=live,
    )


def warm_up(worker: Worker) -> float:
    """Load the default model now so the first job does not pay for it; seconds taken."""
    start = time.perf_counter()
    worker.transcriber.load()
    if worker.live is not None:
        worker.live.live_model.load(live_decoding(worker.live.live_model.device).profile)
    return time.perf_counter() - start
