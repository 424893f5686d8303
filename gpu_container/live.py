"""`run_live_session`: one live session from its first frame to its stored transcript, pure of SQS.

The API stores the session's audio frames (PCM16, 16 kHz, numbered by `seq`) and flags; this
tails them in seq order, runs the streaming policy (gpu_container/streaming.py) as audio
arrives, and writes to the job's event log:

- `delta` for each confirmed word (never retracted), `partial` for the tentative tail whenever
  it changes (each replaces the last; empty text once everything is confirmed);
- on stop (asked by the user, idle, length limit or quota): the rest of the words, the whole
  recording as one WAV object, the transcript (with `final_pass`: the recording transcribed
  again with the session's profile, and speakers), then `completed`.

Safe to call again for the same session at any point (SQS delivers at least once; a killed
worker's session is resumed by the next delivery): confirmed words are read back from the event
log and the policy resumes after the last one, so no confirmed word is repeated or lost; the
frames stay stored until the transcript is, and the recording is rebuilt from them.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from grabadora.errors import Conflict, NotFound
from grabadora.models import JobStatus, LiveMessage, Segment, StopReason, Transcript, Word
from gpu_container.job import (
    EventLog,
    JobOutcome,
    WorkerPorts,
    complete_job,
    ensure_terminal_event,
    transcript_key,
    with_speakers,
)
from gpu_container.profiles import live_decoding
from gpu_container.streaming import LiveTranscriber, StreamStep, words_to_segments
from gpu_container.transcriber import Transcriber, restricted_detection

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class LivePacing:
    """How often the session's worker looks at the tables; the defaults suit AWS and the emulator."""

    poll_seconds: float = 0.1  # wait between frame reads while no new audio arrives
    status_every_seconds: float = 0.5  # how often the item is read for a stop request
    min_step_seconds: float = 0.3  # new audio that makes a decoding step worth running
    # After a stop request, how long to wait for frames the client numbered but that have not
    # arrived (a retry in flight); then the session ends with what it has.
    late_frames_seconds: float = 10.0
    # After a stop request without a frame count, the quiet time that says the last frame is in.
    settle_seconds: float = 1.0


class _Frames:
    """A session's frames in seq order: later ones wait in `_pending` until a gap is filled."""

    def __init__(self, ports: WorkerPorts, live_id: str) -> None:
        assert ports.frames is not None, "a live session needs the frames table"
        self._table = ports.frames
        self._live_id = live_id
        self.next_seq = 0
        self._pending: dict[int, bytes] = {}
        self.pcm = bytearray()

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / SAMPLE_RATE

    @property
    def waiting(self) -> bool:
        """Frames arrived after one still missing."""
        return bool(self._pending)

    def poll(self) -> bool:
        """Read what arrived since; whether the recording grew."""
        before = len(self.pcm)
        while True:
            frames = self._table.read(self._live_id, self.next_seq - 1)
            for frame in frames:
                self._pending.setdefault(frame.seq, frame.pcm)
            grew = self._drain()
            if len(frames) < 200 or not grew:
                break
        return len(self.pcm) > before

    def skip_missing(self) -> None:
        """Give up on the missing frames: join what came after them (the session is ending)."""
        while self._pending:
            missing = min(self._pending) - self.next_seq
            logger.warning("live %s: frames %d..%d never arrived", self._live_id, self.next_seq, self.next_seq + missing - 1)
            self.next_seq = min(self._pending)
            self._drain()

    def _drain(self) -> bool:
        grew = False
        while self.next_seq in self._pending:
            self.pcm += self._pending.pop(self.next_seq)
            self.next_seq += 1
            grew = True
        return grew


def run_live_session(
    message: LiveMessage,
    ports: WorkerPorts,
    live_model: Transcriber,
    final_model: Transcriber,
    *,
    pacing: LivePacing = LivePacing(),
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> JobOutcome | None:
    """Run the session until it ends and its transcript is stored; safe to call again.

    Returns None when `stop` (the worker shutting down) interrupted it: the message is then left
    to SQS, and the next delivery resumes the session.
    """
    job = message.as_job()
    try:
        item = ports.transcripts.get(job.user_id, job.job_id)
    except NotFound:
        _forget_frames(ports, job.job_id)
        return JobOutcome.GONE
    if item.status in (JobStatus.COMPLETED, JobStatus.FAILED):
        ensure_terminal_event(ports, job, item)
        return JobOutcome.ALREADY_DONE
    try:
        item = ports.transcripts.start_live_attempt(job.user_id, job.job_id)
    except Conflict:
        return JobOutcome.ALREADY_DONE

    confirmed = _confirmed_words(ports, job.job_id)
    log = EventLog(ports, job, ports.events.tail(job.job_id).next_seq)
    options = message.options
    decoding = live_decoding(live_model.device)
    session = LiveTranscriber(
        restricted_detection(live_model.load(decoding.profile), options.allowed_languages),
        language=item.language or options.language,
        task=options.task,
        hotwords=options.hotwords,
        initial_prompt=options.initial_prompt,
        beam_size=decoding.beam_size,
        encoder_pad_s=decoding.encoder_pad_s,
    )
    if confirmed:
        session.resume_from(confirmed)
    frames = _Frames(ports, job.job_id)
    fed = round(session.audio_offset * SAMPLE_RATE)  # samples of the recording given to the policy
    stepped = fed
    # The last `partial` written; after a crash unknown, so the first step writes one.
    shown: dict | None = None if confirmed else _partial_data([])
    language_saved = bool(item.language)

    def publish(step: StreamStep) -> None:
        nonlocal shown, language_saved
        events: list[tuple[str, dict]] = [("delta", _word_data(w)) for w in step.confirmed]
        partial = _partial_data(step.tentative)
        if partial != shown:
            events.append(("partial", partial))
            shown = partial
        if events:
            log.commit(events)
        confirmed.extend(step.confirmed)
        if not language_saved and session.language:
            # Kept on the item so a resumed attempt decodes in the language already chosen.
            ports.transcripts.set_language(job.user_id, job.job_id, session.language)
            language_saved = True

    stop_reason: str | None = item.stop_reason  # set when an earlier attempt ended it
    last_audio = last_status = clock()
    stop_asked: float | None = None
    frames_total: int | None = None
    while stop_reason is None:
        if stop is not None and stop.is_set():
            return None
        now = clock()
        if frames.poll():
            last_audio = now
        if now - last_status >= pacing.status_every_seconds:
            last_status = now
            try:
                item = ports.transcripts.get(job.user_id, job.job_id)
            except NotFound:  # discarded or deleted by its user mid-session
                return _discarded(ports, job, frames.seconds)
            if item.stop_requested and stop_asked is None:
                stop_asked, frames_total = now, item.frames_total
        if frames.seconds >= message.max_seconds:
            stop_reason = message.limit.value
        elif stop_asked is not None:
            quiet = now - max(stop_asked, last_audio)
            all_in = frames_total is not None and frames.next_seq >= frames_total
            if all_in or (frames_total is None and quiet >= pacing.settle_seconds) or quiet >= pacing.late_frames_seconds:
                stop_reason = StopReason.USER.value
        elif now - last_audio >= message.idle_seconds:
            stop_reason = StopReason.IDLE.value
        if stop_reason is not None:
            break
        fed = _feed(session, frames, fed)
        if fed - stepped >= pacing.min_step_seconds * SAMPLE_RATE:
            stepped = fed
            publish(session.step())
        else:
            time.sleep(pacing.poll_seconds)

    try:
        ports.transcripts.end_live(job.user_id, job.job_id, stop_reason)
    except Conflict:
        pass  # an earlier attempt ended it
    frames.poll()
    frames.skip_missing()
    if stop_reason == message.limit.value and frames.seconds > message.max_seconds:
        del frames.pcm[message.max_seconds * SAMPLE_RATE * 2 :]
    _feed(session, frames, fed)
    publish(session.finish())
    return _store(message, ports, frames, confirmed, session.language, final_model, log)


def _store(
    message: LiveMessage,
    ports: WorkerPorts,
    frames: _Frames,
    words: list[Word],
    language: str | None,
    final_model: Transcriber,
    log: EventLog,
) -> JobOutcome:
    """The recording, the transcript (live words, or a final pass over the recording), completion."""
    job = message.as_job()
    options = message.options
    audio = np.frombuffer(bytes(frames.pcm), dtype="<i2").astype(np.float32) / 32768.0
    duration = round(audio.size / SAMPLE_RATE, 3)
    ports.store.put_bytes(message.audio_key, _wav(frames.pcm), "audio/wav")
    model_name = final_model.model_name
    segments: list[Segment]
    language_probability = None
    if options.wants_final_pass and audio.size and not _exists(ports, job):
        ports.store.delete(message.audio_key)
        return _discarded(ports, job, duration)  # discarded after Stop: no final pass
    if options.wants_final_pass and audio.size:
        log.commit([("progress", _final_progress(0.0, duration))])
        run = final_model.transcribe(audio, options.model_copy(update={"language": options.language or language}))
        segments = []
        for segment in run.segments:
            segments.append(segment)
            log.commit([("progress", _final_progress(segment.t1, duration))])
        log.commit([("progress", _final_progress(duration, duration))])
        language, language_probability = run.language, run.language_probability
    else:
        segments = words_to_segments(words)
    diarization_error = None
    if options.diarization and segments:
        segments, diarization_error = with_speakers(audio, segments, job)
    transcript = Transcript(
        job_id=job.job_id,
        language=language,
        language_probability=language_probability,
        duration=duration,
        quality_profile=options.profile,
        model=model_name,
        text="".join(s.text for s in segments).strip(),
        segments=segments,
    )
    ports.store.put_json(transcript_key(job.user_id, job.job_id), transcript.model_dump(mode="json"))
    try:
        item = ports.transcripts.get(job.user_id, job.job_id)
    except NotFound:  # discarded or deleted meanwhile
        ports.store.delete(transcript_key(job.user_id, job.job_id))
        ports.store.delete(message.audio_key)
        return _discarded(ports, job, duration)
    outcome = complete_job(ports, job, item, transcript, log, diarization_error)
    if outcome is JobOutcome.GONE:  # discarded between the read and `complete`
        ports.store.delete(message.audio_key)
    _forget_frames(ports, job.job_id)
    return outcome


def _exists(ports: WorkerPorts, job) -> bool:  # noqa: ANN001 - a JobMessage
    try:
        ports.transcripts.get(job.user_id, job.job_id)
        return True
    except NotFound:
        return False


def _discarded(ports: WorkerPorts, job, seconds: float) -> JobOutcome:  # noqa: ANN001 - a JobMessage
    """The user discarded (POST /live/{id}/cancel) or deleted the session: stop, keep nothing.

    The seconds already transcribed count toward the month's usage (as no job): words were
    shown for them, and a discard must not be a way round the quota.
    """
    _forget_frames(ports, job.job_id)
    try:
        ports.events.delete_job(job.job_id)  # what this attempt wrote after the API removed them
        if ports.user_state is not None and seconds > 0:
            ports.user_state.add_usage(job.user_id, seconds, jobs=0)
    except Exception:  # noqa: BLE001 - best effort: the events' TTL clears them
        logger.warning("live %s: discarded, but its events or usage were not updated", job.job_id, exc_info=True)
    return JobOutcome.GONE


def _feed(session: LiveTranscriber, frames: _Frames, fed: int) -> int:
    """Give the policy the samples it has not had yet; the new count."""
    total = len(frames.pcm) // 2
    if total > fed:
        chunk = np.frombuffer(bytes(frames.pcm[fed * 2 : total * 2]), dtype="<i2").astype(np.float32) / 32768.0
        session.feed(chunk)
    return max(total, fed)


def _confirmed_words(ports: WorkerPorts, job_id: str) -> list[Word]:
    """The words earlier attempts confirmed: the `delta` events of the log, in order."""
    words: list[Word] = []
    after = -1
    while True:
        batch = ports.events.read(job_id, after)
        if not batch:
            return words
        words += [Word(**{k: e.data[k] for k in ("text", "t0", "t1")}) for e in batch if e.type == "delta"]
        after = batch[-1].seq


def _word_data(word: Word) -> dict:
    return {"text": word.text, "t0": word.t0, "t1": word.t1}


def _partial_data(words: list[Word]) -> dict:
    if not words:
        return {"text": "", "t0": None, "t1": None}
    return {"text": "".join(w.text for w in words), "t0": words[0].t0, "t1": words[-1].t1}


def _final_progress(processed: float, duration: float) -> dict:
    return {
        "stage": "final",
        "progress": round(min(processed / duration, 1.0), 4) if duration else 1.0,
        "processed_s": round(min(processed, duration), 3),
        "duration_s": duration,
    }


def _wav(pcm: bytearray) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(bytes(pcm))
    return out.getvalue()


def _forget_frames(ports: WorkerPorts, live_id: str) -> None:
    """Delete the session's frames; the table's TTL is the fallback when this fails."""
    try:
        if ports.frames is not None:
            ports.frames.delete_session(live_id)
    except Exception:  # noqa: BLE001 - best effort, never the session's outcome
        logger.warning("live %s: frames not deleted; their TTL will", live_id, exc_info=True)
