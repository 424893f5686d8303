"""Live sessions through the local stack at real-time pace: word latency, stop → completed, CPU, WER.

    .venv/bin/python benchmarks/live.py [--rounds N] [--quick] [--output FILE] [--targets FILE]
        [--language reference|detect] [--keep-logs]

One `grabadora dev --model NAME` per model (benchmarks/_common.py `dev_stack(worker=True)`: emulator,
API, relay and worker with its live loop in one process), started once, warmed up (one file job and
one live session of the shortest recording, untimed) and stopped before the next model's:

  base     aeneas_capitan_veneno_es.mp3 (70.2 s) and pv_leopard_test_es.wav (8.7 s), Spanish
  tiny.en  fw_jfk.flac (11.0 s), English

The live worker decodes with the same model as file jobs (`live_whisper_model` unset) in its own
copy. Both paths get the reference's language (`--language detect`: neither gets one).

Live session (HTTP, as a client would): `client.start_live(language=…)` (no final pass, the
default for the balanced profile), then one thread follows `client.events(stream_url)` and records
the arrival time (time.monotonic) of every event, while the main thread runs
`client.stream_live(live_id, pcm)`: the recording (decoded by grabadora.cli._pcm16 to PCM16 16 kHz)
in 0.5 s frames at real-time pace, frame k POSTed once its audio has been "spoken", at
start + (k+1)·0.5 s, then `POST /live/{id}/stop {frames}`. `start` (session start) is taken just
before stream_live is called, i.e. the moment the first frame's audio began.

  confirmed latency  arrival of a word's `delta` − (start + the word's t1)
  tentative latency  the first arrival of a `partial` that showed the word − (start + t1); the
                     word's own `delta` if no partial showed it first (so tentative ≤ confirmed)
  stop → completed   from the return of the last frame's POST (stream_live sends the stop right
                     after it) to the arrival of `completed`
  CPU / audio s      CPU seconds of the stack process (and any children; user + system, /proc)
                     from start to `completed`, over the recording's length; file mode's the
                     same from upload to `completed`. The stack's idle cost is measured
                     separately (5 s doing nothing) and reported under the table.

Matching partials to confirmed words (`first_shown`): a `partial` is the whole tentative tail,
which follows the words confirmed so far. When a partial arrives after n `delta`s, its words
(split on whitespace, compared by `word_key`: case and punctuation ignored, as the policy's own
LocalAgreement compares them) are aligned with the confirmed words n, n+1, … (the partial's length
plus 3) with difflib's matching blocks, so a tentative word that was later dropped, or a confirmed
word that never showed as tentative, shifts nothing after it. A matched word also has to lie in
the partial's time span (its t0 ≥ the partial's t0 − 1 s and t1 ≤ the partial's t1 + 1 s).

File mode (the same stack): `client.upload` + `client.transcribe(upload_id, language=…)` + `events`
until `completed`; wall = upload start → `completed`. Twice per recording and round: with the
default `balanced` profile (int8, beam 5; the targets compare against it) and with `fast` (int8,
beam 1: the decode the live worker itself uses), to tell the policy's cost in WER from greedy
decoding's. WER = jiwer over Whisper-normalised text (tests.conftest.normalise) of the stored
transcript (`GET /transcripts/{id}`) against references.json, pooled per model over its files and
rounds (errors / reference words); live and file mode side by side on the same audio and model.

"With a file job running" (base stack): a file job of the 70 s recording is uploaded and posted,
and as soon as POST /transcribe answers, a live session of pv_leopard_test_es.wav starts; its
latencies are reported next to the same session alone, the file job's wall next to the file job
alone. Each round runs, in this order (reversed on odd rounds, so drift on the shared machine
falls on both sides): live 70 s, file 70 s (balanced), file 70 s (fast), live 8.7 s, file 8.7 s
(balanced), file 8.7 s (fast), file 70 s + live 8.7 s together.

After every run (untimed) the run's events are deleted from the emulator, so each run finds the
same, empty events table (moto's transactions cost O(rows in the table): pipeline.py
--forget-events). Per-step compute over an hour-long session is not streamed here (an hour of
real time): `benchmarks/live_policy.py --repeat 52` measures it on the policy alone (step wall over
the first and the last tenth of the session); it exposes no function to call, only its command.

Progress, per-run detail and anything odd seen in the events (repeated words, time going back,
tentative words of the last partial that were never confirmed, stream text ≠ stored transcript,
warning and error lines in the stack log; `--events DIR` keeps every session's events) go to stderr and to the notes;
the machine, the command and the tables to stdout (and --output FILE); --targets FILE writes the
verdicts for run_all.py.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._common import (  # noqa: E402
    AUDIO_DIR,
    Target,
    at_most,
    command_line,
    cpu_seconds,
    dev_stack,
    log,
    machine_lines,
    percentile,
    targets_line,
    write_targets,
)

FRAME_S = 0.5  # what stream_live sends
SAMPLE_RATE = 16000
TIME_SLACK_S = 1.0  # how far outside a partial's span a matched word may lie
LOOKAHEAD = 3  # confirmed words beyond the partial's length a partial may be aligned with
IDLE_S = 5.0  # the stack's idle CPU is measured over this long


# --- pure helpers (tests/unit/test_live_bench.py) ---------------------------------------------


_NOT_WORD = re.compile(r"[^\w]+")


def word_key(text: str) -> str:
    """A word as the live policy compares words: without case or punctuation."""
    return _NOT_WORD.sub("", text).casefold()


@dataclass(frozen=True)
class Confirmed:
    text: str
    t0: float
    t1: float
    arrival: float  # when its `delta` arrived


@dataclass(frozen=True)
class Partial:
    before: int  # `delta`s received before this partial
    text: str
    t0: float | None
    t1: float | None
    arrival: float


def first_shown(confirmed: Sequence[Confirmed], partials: Sequence[Partial]) -> list[float | None]:
    """For each confirmed word, the arrival of the first partial that showed it (None: none did).

    See the module docstring: a partial's words are aligned (difflib, by `word_key`) with the
    confirmed words from the count of deltas before it, and must lie within its time span ± 1 s.
    """
    keys = [word_key(w.text) for w in confirmed]
    shown: list[float | None] = [None] * len(confirmed)
    for p in sorted(partials, key=lambda p: p.arrival):
        words = [k for k in (word_key(w) for w in p.text.split()) if k]
        if not words:
            continue
        lo = min(p.before, len(keys))
        window = keys[lo : lo + len(words) + LOOKAHEAD]
        matcher = difflib.SequenceMatcher(None, words, window, autojunk=False)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                i = lo + block.b + k
                w = confirmed[i]
                if p.t0 is not None and w.t0 < p.t0 - TIME_SLACK_S:
                    continue
                if p.t1 is not None and w.t1 > p.t1 + TIME_SLACK_S:
                    continue
                if shown[i] is None or p.arrival < shown[i]:
                    shown[i] = p.arrival
    return shown


def word_latencies(confirmed: Sequence[Confirmed], partials: Sequence[Partial], start: float) -> tuple[list[float], list[float]]:
    """(confirmed latencies, tentative latencies) in seconds, one per confirmed word, in order.

    A word's tentative latency is when it was first shown, as a partial or as its own delta.
    """
    shown = first_shown(confirmed, partials)
    final = [w.arrival - (start + w.t1) for w in confirmed]
    tentative = [min(s if s is not None else w.arrival, w.arrival) - (start + w.t1) for w, s in zip(confirmed, shown, strict=True)]
    return final, tentative


def stream_problems(confirmed: Sequence[Confirmed], event_ids: Sequence[int]) -> list[str]:
    """What should never happen in a live stream: gaps in event ids, confirmed time going back,
    the same word confirmed twice in a row over overlapping time."""
    out: list[str] = []
    if list(event_ids) != list(range(len(event_ids))):
        out.append(f"event ids not 0..{len(event_ids) - 1} in order")
    for a, b in zip(confirmed, confirmed[1:], strict=False):
        if b.t0 < a.t1 - 0.01:
            out.append(f"time went back: {a.text!r} [{a.t0:.2f}-{a.t1:.2f}] then {b.text!r} [{b.t0:.2f}-{b.t1:.2f}]")
        if word_key(a.text) and word_key(a.text) == word_key(b.text):
            out.append(f"repeated word: {a.text!r} [{a.t0:.2f}-{a.t1:.2f}] then {b.text!r} [{b.t0:.2f}-{b.t1:.2f}]")
    return out


def dropped_at_finish(confirmed: Sequence[Confirmed], partials: Sequence[Partial]) -> list[str]:
    """The words of the last non-empty partial that no later `delta` confirmed (dropped at finish).

    Earlier partials are replaced by later ones, as they should be; the last one's words are
    either confirmed after it (the session's `finish`) or lost to the transcript.
    """
    shown = [p for p in partials if p.text.strip()]
    if not shown:
        return []
    last = max(shown, key=lambda p: p.arrival)
    words = [w for w in last.text.split() if word_key(w)]
    later = [word_key(w.text) for w in confirmed[last.before :]]
    matcher = difflib.SequenceMatcher(None, [word_key(w) for w in words], later, autojunk=False)
    matched = {block.a + k for block in matcher.get_matching_blocks() for k in range(block.size)}
    return [w for i, w in enumerate(words) if i not in matched]


def stats(values: Sequence[float]) -> str:
    """`p50 / p90 / max` in seconds."""
    if not values:
        return "–"
    return f"{percentile(values, 50):.2f} / {percentile(values, 90):.2f} / {max(values):.2f}"


# --- runs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    label: str
    file: str
    model: str

    @property
    def path(self) -> Path:
        return AUDIO_DIR / self.file


LONG = Case("es 70 s", "aeneas_capitan_veneno_es.mp3", "base")
SHORT = Case("es 8.7 s", "pv_leopard_test_es.wav", "base")
JFK = Case("en 11 s", "fw_jfk.flac", "tiny.en")
MODELS = {"base": (LONG, SHORT), "tiny.en": (JFK,)}


@dataclass
class LiveRun:
    case: Case
    scenario: str  # "alone" | "with file job"
    audio_s: float
    live_id: str
    start: float
    sent: list[tuple[float, float]]  # (when the frame's POST returned, audio seconds sent so far)
    stream_returned: float
    events: list[tuple[float, Any]]  # (arrival, StreamEvent)
    cpu_s: float | None
    transcript: dict
    follow_error: str | None = None

    @property
    def stop_sent(self) -> float:
        return self.sent[-1][0] if self.sent else self.start

    @property
    def confirmed(self) -> list[Confirmed]:
        return [Confirmed(e.data["text"], e.data["t0"], e.data["t1"], at) for at, e in self.events if e.event == "delta"]

    @property
    def partials(self) -> list[Partial]:
        out, before = [], 0
        for at, e in self.events:
            if e.event == "delta":
                before += 1
            elif e.event == "partial":
                out.append(Partial(before, e.data.get("text") or "", e.data.get("t0"), e.data.get("t1"), at))
        return out

    @property
    def completed(self) -> tuple[float, dict] | None:
        return next(((at, e.data) for at, e in self.events if e.event == "completed"), None)

    @property
    def latencies(self) -> tuple[list[float], list[float]]:
        return word_latencies(self.confirmed, self.partials, self.start)

    @property
    def stop_to_completed(self) -> float | None:
        done = self.completed
        return done[0] - self.stop_sent if done else None

    @property
    def frame_lag(self) -> list[float]:
        """How long after its audio ended each frame's POST returned."""
        return [at - (self.start + end) for at, end in self.sent]

    @property
    def stream_text(self) -> str:
        return "".join(w.text for w in self.confirmed)

    def problems(self) -> list[str]:
        out = stream_problems(self.confirmed, [e.id for _, e in self.events])
        if self.follow_error:
            out.append(f"event stream: {self.follow_error}")
        kinds = {e.event for _, e in self.events}
        if "error" in kinds:
            out.append("error event: " + "; ".join(str(e.data) for _, e in self.events if e.event == "error"))
        if self.completed is None:
            out.append("no `completed` event")
        dropped = dropped_at_finish(self.confirmed, self.partials)
        if dropped:
            last = max((p for p in self.partials if p.text.strip()), key=lambda p: p.arrival)
            after = "".join(w.text for w in self.confirmed[last.before :])
            out.append(
                f"tentative words not among the deltas after them: {' '.join(dropped)!r} (last partial {last.text!r} "
                f"[{last.t0}-{last.t1}] at {last.arrival - self.start:.2f} s, after {last.before} deltas; "
                f"confirmed after it: {after!r})"
            )
        if self.transcript.get("text", "").strip() != self.stream_text.strip():
            out.append(f"stored transcript ≠ streamed words: {self.transcript.get('text', '')!r} vs {self.stream_text!r}")
        return out


@dataclass
class FileRun:
    case: Case
    scenario: str
    job_id: str
    wall: float
    transcript: dict
    profile: str = "balanced"
    cpu_s: float | None = None
    audio_s: float | None = None


@dataclass
class StackResult:
    model: str
    startup_s: float
    idle_cpu_per_s: float
    live: list[LiveRun] = field(default_factory=list)
    files: list[FileRun] = field(default_factory=list)
    log_findings: list[str] = field(default_factory=list)


def tree_cpu_seconds(pid: int) -> float:
    """cpu_seconds of a process and its live descendants, plus its reaped children's (cutime +
    cstime: e.g. the emulator persistence's forked snapshot writers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total, todo = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK"), [pid]
    while todo:
        p = todo.pop()
        try:
            total += cpu_seconds(p)
        except OSError:
            continue
        todo += children.get(p, [])
    return total


class Bench:
    """One stack and the clients that use it."""

    def __init__(self, model: str, workdir: Path, language_mode: str, references: dict) -> None:
        self.model = model
        self.stack, self.aws_endpoint = dev_stack(workdir, worker=True, model=model)
        self.stack.log_path = workdir / f"stack-{model}.log"
        # A data folder of its own: `grabadora dev` keeps the emulator's state there and locks it,
        # so the default one may be held by another stack (and would carry old jobs in).
        self.stack.env["GRABADORA_DATA_DIR"] = str(workdir / f"data-{model}")
        # The emulator's persistence snapshots with os.fork(); numpy's OpenBLAS joins its worker
        # threads in a pre-fork handler, and on 2026-11-30 that deadlocked the whole stack (GIL
        # held) mid-session. One BLAS thread means no BLAS workers to join (numpy's BLAS is not
        # on the hot path here: CTranslate2 has its own threads).
        self.stack.env.setdefault("OPENBLAS_NUM_THREADS", "1")
        self.language_mode = language_mode
        self.references = references
        self.token = ""
        self._pcm: dict[str, bytes] = {}

    def start(self) -> float:
        from grabadora.client import GrabadoraClient

        took = self.stack.start()
        with GrabadoraClient(self.stack.url, timeout=60) as client:
            email = f"bench-live-{uuid.uuid4().hex[:8]}@example.com"
            client.signup(email, "una clave de banco de pruebas")
            self.token = client.sign_in(email, "una clave de banco de pruebas")
        return took

    def client(self):  # noqa: ANN201 - GrabadoraClient, imported lazily
        from grabadora.client import GrabadoraClient

        return GrabadoraClient(self.stack.url, token=self.token, timeout=60)

    def language(self, case: Case) -> str | None:
        return self.references[case.file]["language"] if self.language_mode == "reference" else None

    def pcm(self, case: Case) -> bytes:
        if case.file not in self._pcm:
            from grabadora.cli import _pcm16

            self._pcm[case.file] = _pcm16(str(case.path))
        return self._pcm[case.file]

    def live(self, case: Case, scenario: str = "alone", *, measure_cpu: bool = True, speed: float | None = 1.0) -> LiveRun:
        pcm = self.pcm(case)
        events: list[tuple[float, Any]] = []
        failure: list[str] = []
        with self.client() as sender, self.client() as follower:
            session = sender.start_live(language=self.language(case))
            live_id = session["live_id"]

            def follow() -> None:
                try:
                    for event in follower.events(session["stream_url"]):
                        events.append((time.monotonic(), event))
                except BaseException as e:  # noqa: BLE001 - reported with the run
                    failure.append(f"{type(e).__name__}: {e}")

            thread = threading.Thread(target=follow, name="live-events", daemon=True)
            thread.start()
            cpu0 = tree_cpu_seconds(self.stack.pid) if measure_cpu else None
            sent: list[tuple[float, float]] = []
            start = time.monotonic()
            sender.stream_live(live_id, pcm, speed=speed, on_sent=lambda _seq, end: sent.append((time.monotonic(), end)))
            returned = time.monotonic()
            thread.join(timeout=300)
            cpu = tree_cpu_seconds(self.stack.pid) - cpu0 if cpu0 is not None else None
            if thread.is_alive():
                failure.append("no `completed` within 300 s of the stop")
            transcript = sender.get_transcript(live_id)
        self.forget_events(live_id)
        return LiveRun(case, scenario, len(pcm) / 2 / SAMPLE_RATE, live_id, start, sent, returned, list(events), cpu,
                       transcript, "; ".join(failure) or None)  # fmt: skip

    def file(
        self, case: Case, scenario: str = "alone", posted: threading.Event | None = None, profile: str | None = None
    ) -> FileRun:
        with self.client() as client:
            cpu0 = tree_cpu_seconds(self.stack.pid) if posted is None else None
            start = time.monotonic()
            upload_id = client.upload(str(case.path))
            job = client.transcribe(upload_id, language=self.language(case), profile=profile)
            if posted is not None:
                posted.set()
            completed = False
            for event in client.events(job["stream_url"]):
                if event.event == "error":
                    raise RuntimeError(f"file job {job['job_id']} failed: {event.data}")
                completed = completed or event.event == "completed"
            wall = time.monotonic() - start
            cpu = tree_cpu_seconds(self.stack.pid) - cpu0 if cpu0 is not None else None
            if not completed:
                raise RuntimeError(f"file job {job['job_id']}: the stream ended without `completed`")
            transcript = client.get_transcript(job["job_id"])
        self.forget_events(job["job_id"])
        audio_s = len(self.pcm(case)) / 2 / SAMPLE_RATE
        return FileRun(case, scenario, job["job_id"], wall, transcript, profile or "balanced", cpu, audio_s)

    def together(self, file_case: Case, live_case: Case) -> tuple[FileRun, LiveRun]:
        posted = threading.Event()
        out: list[FileRun] = []
        failure: list[BaseException] = []

        def run_file() -> None:
            try:
                out.append(self.file(file_case, "with live session", posted))
            except BaseException as e:  # noqa: BLE001 - raised below
                failure.append(e)
                posted.set()

        thread = threading.Thread(target=run_file, name="file-job", daemon=True)
        thread.start()
        posted.wait(timeout=120)
        live = self.live(live_case, "with file job", measure_cpu=False)
        thread.join(timeout=600)
        if failure:
            raise failure[0]
        if not out:
            raise RuntimeError("the file job did not finish within 600 s")
        return out[0], live

    def idle_cpu(self) -> float:
        before = tree_cpu_seconds(self.stack.pid)
        time.sleep(IDLE_S)
        return (tree_cpu_seconds(self.stack.pid) - before) / IDLE_S

    def forget_events(self, job_id: str) -> None:
        """Delete a finished run's events from the emulator (untimed; see the docstring)."""
        import boto3

        from grabadora.settings import CommonSettings

        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=self.aws_endpoint,
            region_name=CommonSettings.model_fields["region"].default,
            aws_access_key_id="grabadora-local",
            aws_secret_access_key="grabadora-local",
        )
        table = CommonSettings.model_fields["events_table"].default  # the stack runs on defaults
        pages = dynamodb.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="job_id = :job",
            ExpressionAttributeValues={":job": {"S": job_id}},
            ProjectionExpression="#job, #seq",
            ExpressionAttributeNames={"#job": "job_id", "#seq": "seq"},
        )
        keys = [item for page in pages for item in page["Items"]]
        for i in range(0, len(keys), 25):
            dynamodb.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": k}} for k in keys[i : i + 25]]})

    def log_findings(self) -> list[str]:
        """Warning, error and traceback lines of the stack's log (the first 20)."""
        try:
            lines = self.stack.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return []
        hits = [ln.strip() for ln in lines if re.search(r"\b(WARNING|ERROR|CRITICAL|Traceback)\b", ln)]
        return hits[:20] + ([f"… and {len(hits) - 20} more"] if len(hits) > 20 else [])


def describe_live(run: LiveRun) -> str:
    final, tentative = run.latencies
    after_stop = sum(1 for w in run.confirmed if w.arrival > run.stop_sent)
    done = run.completed
    stop = run.stop_to_completed
    lag = run.frame_lag
    parts = [
        f"{len(run.confirmed)} words ({after_stop} after stop), {len(run.partials)} partials",
        f"confirmed {stats(final)} s, tentative {stats(tentative)} s (p50/p90/max)",
        f"stop → completed {stop:.2f} s" if stop is not None else "no completed",
        f"frame POST lag p50 {percentile(lag, 50) * 1000:.0f} ms, max {max(lag) * 1000:.0f} ms" if lag else "no frames",
    ]
    if run.cpu_s is not None:
        parts.append(f"CPU {run.cpu_s / run.audio_s:.2f} s/s")
    parts.append(f"stop_reason {done[1].get('stop_reason') if done else '?'}")
    return "; ".join(parts)


def dump_events(directory: Path | None, run: LiveRun) -> None:
    """The session's events, one JSON line each: seconds since start, id, type, data."""
    if directory is None:
        return
    import json

    directory.mkdir(parents=True, exist_ok=True)
    name = f"{run.case.file.rsplit('.', 1)[0]}-{run.scenario.replace(' ', '_')}-{run.live_id}.jsonl"
    with open(directory / name, "w") as out:
        out.write(json.dumps({"start": 0.0, "stop_sent": round(run.stop_sent - run.start, 3), "audio_s": run.audio_s}) + "\n")
        for at, e in run.events:
            out.write(json.dumps({"at": round(at - run.start, 3), "id": e.id, "event": e.event, "data": e.data}, ensure_ascii=False) + "\n")


# --- report -------------------------------------------------------------------------------------


def wer_pooled(pairs: Sequence[tuple[str, str, str]]) -> float:
    """Pooled WER (errors / reference words) of (reference, hypothesis, language) triples."""
    import jiwer

    from tests.conftest import normalise

    return jiwer.wer([normalise(r, lang) for r, _, lang in pairs], [normalise(h, lang) for _, h, lang in pairs])


def both(balanced: Sequence[tuple[str, str, str]], fast: Sequence[tuple[str, str, str]]) -> str:
    """`balanced % / fast %` (– for a side with no runs)."""
    return " / ".join(f"{wer_pooled(p) * 100:.1f} %" if p else "–" for p in (balanced, fast))


def tables(results: list[StackResult], references: dict) -> tuple[list[str], list[Target], list[str]]:
    lines = [
        "| model | recording | scenario | sessions | words | confirmed p50 / p90 / max (s) | tentative p50 / p90 / max (s) "
        "| stop → completed (s, median) | CPU s per audio s (live / file balanced / file fast) | WER live | WER file mode (balanced / fast) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    verdicts: list[Target] = []
    notes: list[str] = []
    for r in results:
        pooled_final: list[float] = []
        pooled_tentative: list[float] = []
        wer_live_pairs, wer_file_pairs, wer_fast_pairs = [], [], []
        groups: dict[tuple[str, str], list[LiveRun]] = {}
        for run in r.live:
            groups.setdefault((run.case.file, run.scenario), []).append(run)
        for (name, scenario), runs in groups.items():
            ref = references[name]
            final = [x for run in runs for x in run.latencies[0]]
            tentative = [x for run in runs for x in run.latencies[1]]
            stops = [s for s in (run.stop_to_completed for run in runs) if s is not None]
            cpus = [run.cpu_s / run.audio_s for run in runs if run.cpu_s is not None]
            live_pairs = [(ref["reference"], run.transcript.get("text", ""), ref["language"]) for run in runs]
            files = [f for f in r.files if f.case.file == name and f.scenario == "alone" and f.profile == "balanced"]
            file_pairs = [(ref["reference"], f.transcript.get("text", ""), ref["language"]) for f in files]
            fasts = [f for f in r.files if f.case.file == name and f.scenario == "alone" and f.profile == "fast"]
            fast_pairs = [(ref["reference"], f.transcript.get("text", ""), ref["language"]) for f in fasts]
            if scenario == "alone":
                pooled_final += final
                pooled_tentative += tentative
                wer_live_pairs += live_pairs
                wer_file_pairs += file_pairs
                wer_fast_pairs += fast_pairs
            file_cpu = [
                percentile([f.cpu_s / f.audio_s for f in group if f.cpu_s is not None and f.audio_s], 50) for group in (files, fasts)
            ]
            cpu = (
                f"{percentile(cpus, 50):.2f} / {file_cpu[0]:.2f} / {file_cpu[1]:.2f}" if cpus and files and fasts
                else (f"{percentile(cpus, 50):.2f}" if cpus else "–")
            )  # fmt: skip
            wl = f"{wer_pooled(live_pairs) * 100:.1f} %"
            wf = f"{both(file_pairs, fast_pairs)}" if scenario == "alone" else "–"
            lines.append(
                f"| {r.model} | {name} ({runs[0].audio_s:.1f} s) | {scenario} | {len(runs)} | {sum(len(run.confirmed) for run in runs)} "
                f"| {stats(final)} | {stats(tentative)} | {percentile(stops, 50):.2f} | {cpu} | {wl} | {wf} |"
            )
        if pooled_final:
            t50, f50, f90 = percentile(pooled_tentative, 50), percentile(pooled_final, 50), percentile(pooled_final, 90)
            n = len(pooled_final)
            where = f"{r.model}, {n} words alone"
            lines.append(
                f"| {r.model} | all, pooled | alone | {sum(1 for x in r.live if x.scenario == 'alone')} | {n} "
                f"| {stats(pooled_final)} | {stats(pooled_tentative)} | | | {wer_pooled(wer_live_pairs) * 100:.1f} % "
                f"| {both(wer_file_pairs, wer_fast_pairs)} |"
            )
            tag = "" if r.model == "base" else " (reported)"
            verdicts += [
                at_most(f"tentative p50 ≤ 2.5 s ({r.model}, this CPU){tag}", t50, 2.5, f"{t50:.2f} s ({where})"),
                at_most(f"confirmed p50 ≤ 4 s ({r.model}, this CPU){tag}", f50, 4.0, f"{f50:.2f} s ({where})"),
                at_most(f"confirmed p90 ≤ 6 s ({r.model}, this CPU){tag}", f90, 6.0, f"{f90:.2f} s ({where})"),
            ]
            if wer_file_pairs:
                wl, wf = wer_pooled(wer_live_pairs) * 100, wer_pooled(wer_file_pairs) * 100
                verdicts.append(
                    at_most(f"live WER within 2 points of file mode ({r.model}){tag}", wl - wf, 2.0,
                            f"{wl:.1f} % live vs {wf:.1f} % file mode, {wl - wf:+.1f} points")  # fmt: skip
                )
    # The file job, alone and with a live session beside it.
    contention = [(r.model, f) for r in results for f in r.files if f.case == LONG and f.profile == "balanced"]
    if any(f.scenario != "alone" for _, f in contention):
        lines += ["", "| model | file job | scenario | runs | wall (s, median) | walls in order (s) |", "|---|---|---|---|---|---|"]
        for scenario in ("alone", "with live session"):
            walls = [f.wall for _, f in contention if f.scenario == scenario]
            if walls:
                lines.append(
                    f"| base | {LONG.file} ({LONG.label}) | {scenario} | {len(walls)} | {percentile(walls, 50):.2f} "
                    f"| {', '.join(f'{w:.2f}' for w in walls)} |"
                )
    return lines, verdicts, notes


def details(results: list[StackResult]) -> list[str]:
    out: list[str] = []
    for r in results:
        out.append(
            f"- {r.model} stack: ready in {r.startup_s:.1f} s; idle CPU {r.idle_cpu_per_s:.3f} s per s over {IDLE_S:.0f} s"
        )
        for run in r.live:
            final, _ = run.latencies
            slow = [(w, lat) for w, lat in zip(run.confirmed, final, strict=True) if lat > 6.0]
            text = f"  - live {run.case.file} {run.scenario} ({run.live_id}): {describe_live(run)}"
            if slow:
                text += "; words over 6 s: " + ", ".join(f"{w.text.strip()!r} t1 {w.t1:.1f} → {lat:.1f} s" for w, lat in slow[:8])
            out.append(text)
            out += [f"    - PROBLEM: {p}" for p in run.problems()]
        for f in r.files:
            cpu = f", CPU {f.cpu_s / f.audio_s:.2f} s/s" if f.cpu_s is not None and f.audio_s else ""
            out.append(f"  - file {f.case.file} {f.scenario}, {f.profile} ({f.job_id}): wall {f.wall:.2f} s{cpu}")
        if r.log_findings:
            out.append(f"  - stack log ({len(r.log_findings)} warning/error lines): " + " | ".join(r.log_findings[:6]))
    return out


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="rounds per stack (default 2)")
    parser.add_argument("--quick", action="store_true", help="one round")
    parser.add_argument("--models", default="base,tiny.en", help="comma-separated: base, tiny.en")
    parser.add_argument("--language", choices=("reference", "detect"), default="reference",
                        help="give both paths the reference's language (default) or let both detect it")  # fmt: skip
    parser.add_argument("--no-contention", action="store_true", help="skip the file job + live session scenario")
    parser.add_argument("--output", type=Path, default=None, help="also write the markdown here")
    parser.add_argument("--targets", type=Path, default=None, help="also write the targets' verdicts here (JSON, for run_all.py)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the stacks' logs (their directory is printed)")
    parser.add_argument("--events", type=Path, default=None, help="write each live session's events here (one JSONL per session)")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if unknown := [m for m in models if m not in MODELS]:
        parser.error(f"unknown model(s): {', '.join(unknown)}")
    references = json.loads((AUDIO_DIR / "references.json").read_text())
    for model in models:
        for case in MODELS[model]:
            if not case.path.is_file():
                parser.error(f"missing recording: {case.path}")

    workdir = Path(tempfile.mkdtemp(prefix="grabadora-bench-live-"))
    log(f"stack logs in {workdir}")
    header = [*machine_lines(), f"- command: `{command_line()}`"]
    results: list[StackResult] = []
    ok = False
    bench: Bench | None = None
    try:
        for model in models:
            cases = MODELS[model]
            bench = Bench(model, workdir, args.language, references)
            log(f"[{model}] starting grabadora dev ...")
            startup = bench.start()
            log(f"[{model}] ready in {startup:.1f} s; warming up (one file job, one live session sent at once) ...")
            shortest = min(cases, key=lambda c: len(bench.pcm(c)))
            bench.file(shortest, "warm-up")
            warm = bench.live(shortest, "warm-up", measure_cpu=False, speed=None)
            log(f"[{model}] warm-up live: {describe_live(warm)}")
            result = StackResult(model, startup, bench.idle_cpu())
            log(f"[{model}] idle stack CPU {result.idle_cpu_per_s:.3f} s/s")
            for i in range(rounds):
                steps: list[tuple[str, Case]] = []
                for case in cases:
                    steps += [("live", case), ("file", case), ("file fast", case)]
                if model == "base" and not args.no_contention:
                    steps.append(("together", LONG))
                if i % 2:
                    steps.reverse()
                for kind, case in steps:
                    if kind == "live":
                        run = bench.live(case)
                        dump_events(args.events, run)
                        result.live.append(run)
                        log(f"[{model}] round {i + 1} live {case.file}: {describe_live(run)}")
                        for problem in run.problems():
                            log(f"[{model}]   PROBLEM: {problem}")
                    elif kind.startswith("file"):
                        f = bench.file(case, profile="fast" if kind == "file fast" else None)
                        result.files.append(f)
                        log(f"[{model}] round {i + 1} file {case.file} ({f.profile}): wall {f.wall:.2f} s")
                    else:
                        f, run = bench.together(LONG, SHORT)
                        result.files.append(f)
                        result.live.append(run)
                        dump_events(args.events, run)
                        log(f"[{model}] round {i + 1} together: file {LONG.file} wall {f.wall:.2f} s; "
                            f"live {SHORT.file}: {describe_live(run)}")  # fmt: skip
                        for problem in run.problems():
                            log(f"[{model}]   PROBLEM: {problem}")
            code = bench.stack.stop()
            result.log_findings = bench.log_findings()
            log(f"[{model}] stack stopped (exit {code}); {len(result.log_findings)} warning/error lines in its log")
            results.append(result)
            bench = None
        ok = True
    finally:
        if bench is not None:
            code = bench.stack.stop()
            log(f"--- {bench.stack.log_path.name} (exit {code}) ---\n{bench.stack.log_tail()}")
        if ok and not args.keep_logs:
            shutil.rmtree(workdir, ignore_errors=True)

    table, verdicts, _ = tables(results, references)
    write_targets(args.targets, verdicts)
    notes = [
        "",
        "Latencies in seconds after the word was spoken (its t1 from the start of the audio), p50 / p90 / max over every "
        "confirmed word of the row's sessions; tentative = first shown (a `partial`, else its `delta`). Stop → completed: "
        "last frame's POST returned → `completed` arrived (no final pass). CPU: the stack process, start → completed "
        "(file mode: upload → completed), over the audio's length (medians); the idle stack's own rate is under each "
        "stack below. WER: stored transcripts vs "
        "references.json, Whisper-normalised, pooled over the row's runs; file mode = the same stack, upload + "
        f"POST /transcribe with the default balanced profile (int8, beam 5), and with `fast` (int8, beam 1: the decode "
        f"the live worker uses, gpu_container/live.py loads the FAST profile's model and LiveTranscriber decodes greedily). Languages: {'the reference' + chr(39) + 's, on both paths' if args.language == 'reference' else 'detected on both paths'}. "
        f"{rounds} round(s) per stack, alternated (see benchmarks/live.py).",
        "Per-step compute over an hour-long session: not streamed here; `benchmarks/live_policy.py --repeat 52 --no-whole` "
        "(70 s × 52 ≈ 1 h at real-time pace) reports the policy's step wall over the first and the last tenth.",
        *details(results),
        targets_line(verdicts),
    ]
    markdown = "\n".join(["## Live sessions", "", *header, "", *table, *notes])
    print(markdown)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(markdown + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
