"""`process_job`: one transcription from stored audio to stored transcript, pure of SQS.

Idempotent by construction, because SQS delivers at least once:
- the job item moves queued → processing → completed|failed only through conditional writes;
- each segment's events are one conditional transaction at the next free seq, so a redelivered
  job skips the segments an earlier attempt committed and appends the rest, gap-free;
- a job found already ended only gets its terminal event made sure of.

Segments are committed in order on a background thread (`_SegmentCommitter`) so the DynamoDB
round trips of one segment overlap the decoding of the next: the pipeline adds little to
faster-whisper's own time, and a segment reaches the stream as soon as it is decoded.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath

import numpy as np

from grabadora.adapters.events_table import EventsTable
from grabadora.adapters.live_frames import LiveFramesTable
from grabadora.adapters.object_store import ObjectStore
from grabadora.adapters.realtime import EventPublisher
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.adapters.user_state import UserStateTable
from grabadora.doorbell import Doorbell
from grabadora.errors import Conflict, InvalidAudio, NotFound
from grabadora.models import JobEvent, JobMessage, JobStatus, Segment, Transcript, TranscriptItem, TranscriptResults
from grabadora.formats import preview, search_text
from grabadora.audio_probe import declared_duration
from grabadora import metrics
from grabadora.services import turns
from gpu_container.audio import SAMPLE_RATE, load_audio
from gpu_container.checkpoints import Checkpoints, checkpoint_prefix
from gpu_container.long_form import Piece
from gpu_container.diarization import DiarizationUnavailable, assign_speakers
from gpu_container.transcriber import Transcriber

logger = logging.getLogger(__name__)


class JobOutcome(StrEnum):
    """How the worker's handling of one job (a file or a live session) ended."""

    COMPLETED = "completed"
    FAILED = "failed"
    ALREADY_DONE = "already_done"
    GONE = "gone"  # the transcript was deleted before the worker got to it


@dataclass(frozen=True)
class WorkerPorts:
    store: ObjectStore
    transcripts: TranscriptsTable
    events: EventsTable
    publisher: EventPublisher | None = None
    user_state: UserStateTable | None = None  # usage accounting; None where nobody counts
    frames: LiveFramesTable | None = None  # live sessions' audio; None where no live session runs
    # Rung after each commit: wakes the streams a relay in this same process follows
    # (grabadora dev); None where no relay shares the process.
    doorbell: Doorbell | None = None


@dataclass(frozen=True)
class Limits:
    max_audio_seconds: int


def transcript_key(user_id: str, job_id: str) -> str:
    return f"transcripts/{user_id}/{job_id}.json"


class EventLog:
    """Appends a job's events at the next free seq, rings the doorbell and fans them out to IoT."""

    def __init__(self, ports: WorkerPorts, job: JobMessage, next_seq: int) -> None:
        self._ports = ports
        self._job = job
        self.next_seq = next_seq

    def commit(self, items: list[tuple[str, dict]], segment: int | None = None) -> None:
        self.commit_segments([(segment, items)])

    def commit_segments(self, batches: list[tuple[int | None, list[tuple[str, dict]]]]) -> None:
        """Commit several segments' events at the next free seqs; the table packs each segment
        into one item and keeps a segment whole within one transaction."""
        events: list[JobEvent] = []
        labels: list[int | None] = []
        for segment, items in batches:
            events += [
                JobEvent(job_id=self._job.job_id, seq=self.next_seq + len(events) + i, type=kind, data=data)
                for i, (kind, data) in enumerate(items)
            ]
            labels += [segment] * len(items)
        if events:
            self._append(events, labels)

    def _append(self, events: list[JobEvent], segments: list[int | None]) -> None:
        self._ports.events.append(events, segments=segments)
        self.next_seq += len(events)
        if self._ports.doorbell is not None:
            self._ports.doorbell.ring(self._job.job_id)
        if self._ports.publisher is not None:
            self._ports.publisher.publish(self._job.user_id, events)


# The job item's progress is for listings; the live stream has a progress event per segment.
_ITEM_PROGRESS_EVERY_SECONDS = 2.0


class _SegmentCommitter:
    """Runs `commit(segments)` for submitted segments, in order, on one background thread.

    Segments that queue up while a commit is in flight (faster-whisper yields a 30-second
    window's segments together) are committed together, in one transaction where they fit.
    The first failure stops all later commits (a later segment must never land before an
    earlier one) and is raised in the caller's thread by `submit` or on leaving the block.
    """

    _STOP = object()
    MAX_BATCH = 16

    def __init__(self, commit: Callable[[list[Segment]], None]) -> None:
        self._commit = commit
        self._queue: queue.Queue[object] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="segment-committer", daemon=True)

    def __enter__(self) -> _SegmentCommitter:
        self._thread.start()
        return self

    def submit(self, segment: Segment) -> None:
        self.raise_if_failed()
        self._queue.put(segment)

    def submit_after(self, action: Callable[[], None]) -> None:
        """Run `action` on the committer thread once every segment submitted before it is committed."""
        self.raise_if_failed()
        self._queue.put(action)

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        # Segments already decoded are still committed when decoding itself failed: nothing
        # a listener saw is lost, and a retry resumes after them.
        self._queue.put(self._STOP)
        self._thread.join()
        if exc is None:
            self.raise_if_failed()

    def raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            while len(batch) < self.MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = self._STOP in batch
            items = [s for s in batch if s is not self._STOP]
            if self._error is not None:
                continue
            try:
                pending: list[Segment] = []
                for item in items:
                    if isinstance(item, Segment):
                        pending.append(item)
                        continue
                    if pending:
                        self._commit(pending)
                        pending = []
                    item()  # type: ignore[operator]
                if pending:
                    self._commit(pending)
            except BaseException as e:  # re-raised in the decoding thread
                self._error = e


def _segment_events(segment: Segment, duration: float) -> list[tuple[str, dict]]:
    if segment.words:
        items = [("delta", {"text": w.text, "t0": w.t0, "t1": w.t1}) for w in segment.words]
    else:
        items = [("delta", {"text": segment.text, "t0": segment.t0, "t1": segment.t1})]
    items.append(("progress", _progress(segment.t1, duration)))
    return items


def _progress(processed: float, duration: float) -> dict:
    processed = min(processed, duration)
    return {
        "progress": round(processed / duration, 4) if duration else 1.0,
        "processed_s": round(processed, 3),
        "duration_s": round(duration, 3),
    }


def fail_job(ports: WorkerPorts, job: JobMessage, reason: str) -> None:
    """Mark the job failed and end its stream with an `error` event saying why (idempotent)."""
    turns.job_ending(ports, job.user_id, job.job_id)  # its turn to the user's next job (before `fail`: redelivery-safe)
    try:
        metrics.job_failed(ports.transcripts.fail(job.user_id, job.job_id, reason))  # counted once: the conditional update
    except Conflict:
        pass  # already ended; still make sure the stream ends below
    except NotFound:
        return
    tail = ports.events.tail(job.job_id)
    if tail.terminal is None:
        try:
            EventLog(ports, job, tail.next_seq).commit([("error", {"job_id": job.job_id, "detail": reason})])
        except Conflict:
            pass  # another worker wrote at that seq meanwhile; it ends the stream itself


def ensure_terminal_event(ports: WorkerPorts, job: JobMessage, item: TranscriptItem) -> None:
    tail = ports.events.tail(job.job_id)
    if tail.terminal is not None:
        return
    if item.status is JobStatus.COMPLETED:
        event = ("completed", _completed_data(job, item))
    else:
        event = ("error", {"job_id": job.job_id, "detail": item.error or "the job failed"})
    EventLog(ports, job, tail.next_seq).commit([event])


def _completed_data(job: JobMessage, item: TranscriptItem) -> dict:
    return {
        "job_id": job.job_id,
        "transcript_key": item.transcript_key,
        "language": item.language,
        "language_probability": item.language_probability,
        "language_source": item.language_source,
        "language_unsure": item.language_unsure,
        "duration": item.duration,
        "quality_profile": item.quality_profile,
        **({"stop_reason": item.stop_reason} if item.stop_reason else {}),
        **({"warning": item.warning} if item.warning else {}),
    }


def process_job(
    job: JobMessage,
    ports: WorkerPorts,
    transcriber: Transcriber,
    limits: Limits,
    on_segment: Callable[[Segment], None] | None = None,
) -> JobOutcome:
    """Transcribe one job end to end; safe to call again for the same job at any point.

    `on_segment` is called on the committer thread once a segment's events are committed.
    """
    try:
        item = ports.transcripts.get(job.user_id, job.job_id)
    except NotFound:
        return JobOutcome.GONE
    if item.status in (JobStatus.COMPLETED, JobStatus.FAILED):
        ensure_terminal_event(ports, job, item)
        return JobOutcome.ALREADY_DONE

    ports.transcripts.start_attempt(job.user_id, job.job_id)
    timing = metrics.job_started(item)  # queue wait, then first-word latency and real-time factor
    tail = ports.events.tail(job.job_id)
    log = EventLog(ports, job, tail.next_seq)

    with tempfile.TemporaryDirectory(prefix="grabadora-job-") as workdir:
        local_path = str(PurePath(workdir) / (PurePath(job.audio_key).name or "audio"))
        try:
            ports.store.download(job.audio_key, local_path)
        except NotFound:
            fail_job(ports, job, "the uploaded audio is missing; upload it again")
            return JobOutcome.FAILED
        try:
            audio = load_audio(local_path, limits.max_audio_seconds)
        except InvalidAudio as e:
            fail_job(ports, job, e.detail)
            return JobOutcome.FAILED
        warning = truncation_warning(declared_duration(local_path), len(audio) / SAMPLE_RATE)

    checkpoints = Checkpoints(ports.store, job)
    resume, earlier = checkpoints.load()
    run = transcriber.transcribe(audio, job.options, resume=resume)
    last_progress_write = time.monotonic()

    def commit(batch: list[Segment]) -> None:
        nonlocal last_progress_write
        log.commit_segments([(segment.id, _segment_events(segment, run.duration)) for segment in batch])
        timing.committed(batch)
        if run.duration and time.monotonic() - last_progress_write >= _ITEM_PROGRESS_EVERY_SECONDS:
            ports.transcripts.set_progress(job.user_id, job.job_id, min(batch[-1].t1 / run.duration, 1.0))
            last_progress_write = time.monotonic()
        if on_segment is not None:
            for segment in batch:
                on_segment(segment)

    def checkpoint(piece: Piece, piece_segments: list[Segment], next_id: int) -> Callable[[], None]:
        def save() -> None:
            checkpoints.save(piece, piece_segments, run.choice, next_id)  # type: ignore[arg-type]
            log.commit([("progress", _progress(piece.end_s, run.duration))])

        return save

    segments: list[Segment] = []
    key = transcript_key(job.user_id, job.job_id)
    with _SegmentCommitter(commit) as committer:
        for segment in earlier:  # decoded by an earlier attempt (long files only): not again
            segments.append(segment)
            if segment.id > tail.last_segment:
                committer.submit(segment)
        for piece in run.pieces:
            piece_segments = []
            for segment in piece.segments:
                segments.append(segment)
                piece_segments.append(segment)
                if segment.id > tail.last_segment:  # else committed by an earlier attempt of this job
                    committer.submit(segment)
            if run.resumable:
                next_id = segments[-1].id + 1 if segments else 0
                committer.submit_after(checkpoint(piece, piece_segments, next_id))
        # While the last segments' events are still being committed, label speakers and
        # store the transcript; leaving the block waits for the commits, before `complete`.
        diarization_error = None
        if job.options.diarization and segments:
            segments, diarization_error = with_speakers(audio, segments, job)
        transcript = Transcript(
            job_id=job.job_id,
            language=run.language,
            language_probability=run.language_probability,
            language_source=run.language_source,
            language_unsure=run.language_unsure,
            duration=run.duration,
            quality_profile=job.options.profile,
            model=run.model,
            text="".join(s.text for s in segments).strip(),
            segments=segments,
        )
        committer.raise_if_failed()  # a twin delivery got ahead: leave the transcript to it
        ports.store.put_json(key, transcript.model_dump(mode="json"))
    outcome = complete_job(ports, job, item, transcript, log, diarization_error, warning)
    timing.finished(outcome is JobOutcome.COMPLETED, transcript.duration)
    checkpoints.forget()
    return outcome


def truncation_warning(declared: float | None, decoded: float) -> str | None:
    """A word for the user when less audio was decoded than the file's header declares (a
    download or recording cut short): the transcript holds only the part that was there."""
    if declared is None or decoded >= declared * 0.98 - 0.5:
        return None
    return (
        f"the file seems cut short: its header declares {declared:.1f} s of audio but only {decoded:.1f} s "
        "could be decoded; the transcript covers that part"
    )


def complete_job(
    ports: WorkerPorts,
    job: JobMessage,
    item: TranscriptItem,
    transcript: Transcript,
    log: EventLog,
    diarization_error: str | None = None,
    warning: str | None = None,
) -> JobOutcome:
    """Mark the job completed with its stored transcript, end its stream, count its usage.

    The transcript document must already be stored at `transcript_key`.
    """
    key = transcript_key(job.user_id, job.job_id)
    results = TranscriptResults(
        transcript_key=key,
        language=transcript.language,
        language_probability=transcript.language_probability,
        language_source=transcript.language_source,
        language_unsure=transcript.language_unsure,
        duration=transcript.duration,
        segment_count=len(transcript.segments),
        search_text=search_text(item.title, item.tags, transcript.text),
        preview=preview(transcript.text),
        speakers=sorted({s.speaker for s in transcript.segments if s.speaker}),
        diarization_error=diarization_error,
        warning=warning,
    )
    turns.job_ending(ports, job.user_id, job.job_id)  # its turn to the user's next job (before `complete`: redelivery-safe)
    try:
        item = ports.transcripts.complete(job.user_id, job.job_id, results)
    except Conflict:
        return _lost_completion(ports, job, key)
    log.commit([("completed", _completed_data(job, item))])
    if ports.user_state is not None:
        # After the conditional `complete`, which succeeds once per job: counted once.
        ports.user_state.add_usage(job.user_id, transcript.duration)
    metrics.job_completed(item.source, transcript.duration)  # once per job, as usage
    return JobOutcome.COMPLETED


def with_speakers(audio: np.ndarray, segments: list[Segment], job: JobMessage) -> tuple[list[Segment], str | None]:
    """Speaker labels on every word and segment; without the diarizer the transcript is kept
    unlabelled and the reason recorded, rather than the whole transcription lost."""
    try:
        return assign_speakers(audio, segments, job.options.min_speakers, job.options.max_speakers), None
    except DiarizationUnavailable as e:
        logger.warning("job %s: no speaker labels: %s", job.job_id, e.detail)
        return segments, e.detail


def _lost_completion(ports: WorkerPorts, job: JobMessage, key: str) -> JobOutcome:
    """`complete` lost: a twin delivery finished first, our own first `complete` landed but its
    answer was lost (botocore's retry then fails the condition), or the user deleted the
    transcript meanwhile, in which case what this attempt stored must go too.

    The stream must still end: the terminal event is written if nobody wrote it yet (a twin
    writing it at the same moment wins the seq, and this delivery is then retried by SQS).
    """
    try:
        item = ports.transcripts.get(job.user_id, job.job_id)
    except NotFound:
        ports.store.delete(key)
        ports.events.delete_job(job.job_id)
        return JobOutcome.GONE
    ensure_terminal_event(ports, job, item)
    return JobOutcome.ALREADY_DONE
