"""What the Grabadora pipeline costs on top of faster-whisper itself, on this machine.

    .venv/bin/python benchmarks/pipeline.py [--rounds N] [--quick] [--output FILE] [--forget-events]

Two cases, both with the default `TranscribeOptions` (balanced profile, word timestamps on,
language detected):

  - aeneas_capitan_veneno_es.mp3 (70 s, Spanish) with model `base`
  - fw_jfk.flac (11 s, English) with model `tiny.en`

For each case two paths are timed, alternately (direct, pipeline, direct, pipeline, ...):

  direct    faster-whisper in this process, the model loaded once beforehand and kept warm:
            decode_audio(path) + model.transcribe(audio, **transcribe_kwargs(options, profile)),
            all segments consumed. "first segment" is from just before decode_audio to the first
            segment yielded.
  pipeline  a local stack (`grabadora dev --model NAME` in a subprocess, worker warm, one stack
            per model, started once and reused): client.upload(path), client.transcribe(upload_id),
            then the SSE stream (client.events) until `completed`. "first delta" is from the start
            of POST /transcribe to the first `delta` event received.

Each path gets one untimed warm-up run first (--warmup), so one-off costs (the VAD model,
codec and client set-up, the first job's AWS clients) stay out of the medians. Both
faster-whisper models use the same cpu_threads (0, CTranslate2's default), the value the
stack's worker uses. Runs are strictly sequential; only one stack runs at a time.

Progress and a per-run breakdown go to stderr; the machine, the command and one markdown table
go to stdout (and to --output FILE).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from faster_whisper import WhisperModel, decode_audio  # noqa: E402

from benchmarks._common import Target, at_most, cpu_description, targets_line, write_targets  # noqa: E402
from gpu_container.model_store import resolve_model  # noqa: E402
from gpu_container.profiles import decode_profile  # noqa: E402
from gpu_container.transcriber import transcribe_kwargs  # noqa: E402
from grabadora.client import GrabadoraClient  # noqa: E402
from grabadora.models import TranscribeOptions  # noqa: E402
from grabadora.settings import CommonSettings  # noqa: E402

AUDIO_DIR = Path(os.environ.get("GRABADORA_BENCH_AUDIO", "/work/shared/audio"))
BIN = Path(sys.executable).parent
CPU_THREADS = 0  # what the stack's worker uses (Transcriber's default); both sides must match
SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Case:
    label: str
    file: str
    model: str
    options: TranscribeOptions  # the same options on both paths

    @property
    def path(self) -> Path:
        return AUDIO_DIR / self.file


CASES = (
    # language=None: detected, on both paths (the API gets no `language` field at all).
    Case("es 70 s", "aeneas_capitan_veneno_es.mp3", "base", TranscribeOptions(language=None)),
    Case("en 11 s", "fw_jfk.flac", "tiny.en", TranscribeOptions()),
)


@dataclass
class DirectRun:
    wall: float
    first_segment: float
    words: list[str]


@dataclass
class PipelineRun:
    wall: float
    first_delta: float  # from the start of POST /transcribe
    upload: float  # create_upload + PUT
    post: float  # POST /transcribe round trip
    first_event: float  # from the start of POST /transcribe to any first event
    tail: float  # last delta received -> completed received
    words: list[str]
    job_id: str


@dataclass
class CaseResult:
    case: Case
    audio_seconds: float
    direct: list[DirectRun] = field(default_factory=list)
    pipeline: list[PipelineRun] = field(default_factory=list)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- direct -----------------------------------------------------------------------------------


class Direct:
    def __init__(self, case: Case) -> None:
        self.case = case
        self.profile = decode_profile("cpu", case.options.profile)
        self.kwargs = transcribe_kwargs(case.options, self.profile)
        self.model = WhisperModel(
            str(resolve_model(case.model)),
            device="cpu",
            compute_type=self.profile.compute_type,
            cpu_threads=CPU_THREADS,
        )

    def run(self) -> DirectRun:
        start = time.perf_counter()
        audio = decode_audio(str(self.case.path), sampling_rate=SAMPLE_RATE)
        segments, _info = self.model.transcribe(audio, **self.kwargs)
        first: float | None = None
        words: list[str] = []
        for segment in segments:
            if first is None:
                first = time.perf_counter() - start
            if segment.words:
                words.extend(w.word for w in segment.words)
            else:
                words.append(segment.text)
        wall = time.perf_counter() - start
        return DirectRun(wall, first if first is not None else wall, words)


# --- pipeline ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """`grabadora dev --model NAME` on free ports, in its own session so only we signal it."""

    def __init__(self, model: str, workdir: Path) -> None:
        self.model = model
        self.workdir = workdir
        self.log_path = workdir / f"stack-{model}.log"
        self.url = ""
        self.aws_endpoint = ""
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 300) -> float:
        port, emulator_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GRABADORA_", "AWS_"))}
        env.update(GRABADORA_PORT=str(port), GRABADORA_EMULATOR_PORT=str(emulator_port), GRABADORA_WHISPER_MODEL=self.model,
                   GRABADORA_DATA_DIR=str(Path(self.workdir) / "data"))
        self.url = f"http://127.0.0.1:{port}"
        self.aws_endpoint = f"http://127.0.0.1:{emulator_port}"
        started = time.perf_counter()
        with open(self.log_path, "w") as out:
            # cwd: a scratch directory, so no stray .env changes the stack's settings.
            self.process = subprocess.Popen(
                [str(BIN / "grabadora"), "dev", "--model", self.model],
                env=env,
                cwd=self.workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = started + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"grabadora dev exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                # The server only listens once the worker's model is loaded (DevStack.serve).
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            if time.perf_counter() > deadline:
                raise RuntimeError(f"grabadora dev did not start in {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self, timeout: float = 30) -> int | None:
        """Ctrl-C, as a user stops it; kill only if it does not stop."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"warning: grabadora dev ({self.model}) ignored SIGINT for {timeout:.0f} s; killing it")
            self.process.kill()
            return self.process.wait()

    def forget_events(self, job_id: str) -> None:
        """Delete a finished job's event log from the emulator (untimed, between runs).

        moto's transact_write_items deep-copies the whole table once per item of every
        transaction, so each segment's commit costs O(rows in the events table): without this,
        every job left in the table slows every later job, and a median would depend on --rounds.
        """
        import boto3

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
        for start in range(0, len(keys), 25):
            dynamodb.batch_write_item(
                RequestItems={table: [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]}
            )

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def client(self) -> GrabadoraClient:
        client = GrabadoraClient(self.url, timeout=60)
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        client.signup(email, "una clave de banco de pruebas")
        client.sign_in(email, "una clave de banco de pruebas")
        return client


def api_options(options: TranscribeOptions) -> dict:
    """The TranscribeOptions as POST /transcribe fields; defaults (and language=None) left out."""
    return options.model_dump(mode="json", exclude_defaults=True)


def pipeline_run(client: GrabadoraClient, case: Case) -> PipelineRun:
    start = time.perf_counter()
    upload_id = client.upload(str(case.path))
    post_start = time.perf_counter()
    job = client.transcribe(upload_id, **api_options(case.options))
    post_end = time.perf_counter()
    first_event = first_delta = last_delta = None
    words: list[str] = []
    completed = False
    # events() opens the stream right away, replaying anything written before it connected.
    for event in client.events(job["stream_url"]):
        now = time.perf_counter()
        if first_event is None:
            first_event = now
        if event.event == "delta":
            if first_delta is None:
                first_delta = now
            last_delta = now
            words.append(event.data["text"])
        elif event.event == "error":
            raise RuntimeError(f"job {job['job_id']} failed: {event.data.get('detail')}")
        elif event.event == "completed":
            completed = True
    end = time.perf_counter()
    if not completed:
        raise RuntimeError(f"job {job['job_id']}: the stream ended without `completed`")
    first_delta = first_delta or end
    return PipelineRun(
        wall=end - start,
        first_delta=first_delta - post_start,
        upload=post_start - start,
        post=post_end - post_start,
        first_event=(first_event or end) - post_start,
        tail=end - (last_delta or end),
        words=words,
        job_id=job["job_id"],
    )


# --- report -----------------------------------------------------------------------------------


def machine() -> list[str]:
    import ctranslate2
    import faster_whisper

    cpu = cpu_description()
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() or str(os.cpu_count())
    return [
        f"- machine: nproc {nproc}, CPU {cpu}",
        f"- python {platform.python_version()}, faster-whisper {faster_whisper.__version__}, "
        f"ctranslate2 {ctranslate2.__version__}, cpu_threads {CPU_THREADS} on both paths",
    ]


def command() -> str:
    python = sys.executable
    try:
        rel = os.path.relpath(python)
        if not rel.startswith(".."):
            python = rel
    except ValueError:
        pass
    return shlex.join([python, *sys.argv])


def table(results: list[CaseResult]) -> list[str]:
    head = (
        "| case | model | audio (s) | runs | direct wall (s) | pipeline wall (s) | pipeline/direct "
        "| fixed cost (ms) | direct first segment (s) | pipeline first delta (s) | first-word gap (ms) |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        dw = statistics.median(x.wall for x in r.direct)
        pw = statistics.median(x.wall for x in r.pipeline)
        df = statistics.median(x.first_segment for x in r.direct)
        pf = statistics.median(x.first_delta for x in r.pipeline)
        lines.append(
            f"| {r.case.file} ({r.case.label}) | {r.case.model} | {r.audio_seconds:.1f} | {len(r.direct)}+{len(r.pipeline)} "
            f"| {dw:.2f} | {pw:.2f} | {pw / dw:.2f}x | {(pw - dw) * 1000:+.0f} | {df:.2f} | {pf:.2f} | {(pf - df) * 1000:+.0f} |"
        )
    return lines


def targets(results: list[CaseResult]) -> list[Target]:
    """The issue's pipeline targets. The ratio is judged on the longest file, where decoding
    dominates; the fixed cost on the shortest, where it is most of the wall time (on a long
    file a per-job constant drowns in the decode's run-to-run spread, which the ratio covers);
    the first word on every file."""
    out: list[Target] = []
    longest = max(results, key=lambda r: r.audio_seconds)
    shortest = min(results, key=lambda r: r.audio_seconds)
    walls = {id(r): (statistics.median(x.wall for x in r.direct), statistics.median(x.wall for x in r.pipeline)) for r in results}
    dw, pw = walls[id(longest)]
    out.append(at_most(f"overhead ratio ≤ 1.05 ({longest.case.file})", pw / dw, 1.05, f"{pw / dw:.3f}x, {pw:.2f} s vs {dw:.2f} s"))
    dw, pw = walls[id(shortest)]
    out.append(at_most(f"fixed cost per job ≤ 300 ms ({shortest.case.file})", (pw - dw) * 1000, 300, f"{(pw - dw) * 1000:+.0f} ms"))
    for r in results:
        gap = statistics.median(x.first_delta for x in r.pipeline) - statistics.median(x.first_segment for x in r.direct)
        out.append(at_most(f"first delta ≤ 300 ms after faster-whisper's first segment ({r.case.file})", gap * 1000, 300, f"{gap * 1000:+.0f} ms"))
    return out


def notes(results: list[CaseResult], warmup: int, keep_events: bool) -> list[str]:
    out = [
        "",
        "Medians over the runs (direct + pipeline, alternated); fixed cost = median pipeline wall − median direct wall; "
        "first-word gap = median pipeline first delta − median direct first segment.",
        "Direct: decode_audio + transcribe, first segment timed from before decode_audio. "
        "Pipeline: upload + POST /transcribe + SSE until `completed`, first delta timed from the start of POST /transcribe.",
        f"Each path had {warmup} untimed warm-up run(s) first; "
        + (
            "the stack's events table kept every job's events, as in real use."
            if keep_events
            else "each job's events were deleted from the emulator after it (untimed), so every pipeline run "
            "found the same, empty events table (--forget-events)."
        ),
    ]
    for r in results:
        up = statistics.median(x.upload for x in r.pipeline) * 1000
        post = statistics.median(x.post for x in r.pipeline) * 1000
        ev = statistics.median(x.first_event for x in r.pipeline)
        tail = statistics.median(x.tail for x in r.pipeline) * 1000
        same = all(p.words == r.direct[0].words for p in r.pipeline) and all(d.words == r.direct[0].words for d in r.direct)
        out.append(
            f"- {r.case.file}: pipeline upload {up:.0f} ms, POST /transcribe {post:.0f} ms, first event {ev:.2f} s, "
            f"last delta → completed {tail:.0f} ms; pipeline walls in order: "
            f"{', '.join(f'{x.wall:.2f}' for x in r.pipeline)} s; direct: {', '.join(f'{x.wall:.2f}' for x in r.direct)} s; words {len(r.direct[0].words)} direct / "
            f"{len(r.pipeline[0].words)} pipeline, {'identical' if same else 'NOT identical'} across all runs"
        )
    return out


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per case (default 5)")
    parser.add_argument("--quick", action="store_true", help="one round")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs of each path first (default 1)")
    parser.add_argument("--output", type=Path, default=None, help="also write the markdown here")
    parser.add_argument(
        "--forget-events",
        dest="keep_events",
        action="store_false",
        help="delete each job's events from the emulator between runs (by default they stay, as in real use)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the stacks' logs (their directory is printed)")
    parser.add_argument("--targets", type=Path, default=None, help="also write the targets' verdicts here (JSON, for run_all.py)")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    for case in CASES:
        if not case.path.is_file():
            parser.error(f"missing recording: {case.path}")

    workdir = Path(tempfile.mkdtemp(prefix="grabadora-bench-"))
    log(f"stack logs in {workdir}")
    results: list[CaseResult] = []
    stacks: list[Stack] = []
    ok = False
    try:
        # One case (= one model) at a time: its stack runs only while it is measured, so an idle
        # stack never competes with the other case's runs for the CPU.
        for case in CASES:
            stack = Stack(case.model, workdir)
            stacks.append(stack)
            log(f"[{case.label} / {case.model}] starting grabadora dev ...")
            log(f"[{case.label} / {case.model}] stack ready in {stack.start():.1f} s; loading the direct model ...")
            direct = Direct(case)
            client = stack.client()
            audio_seconds = decode_audio(str(case.path), sampling_rate=SAMPLE_RATE).size / SAMPLE_RATE
            result = CaseResult(case, audio_seconds)
            try:
                for i in range(args.warmup):
                    d, p = direct.run(), pipeline_run(client, case)
                    if not args.keep_events:
                        stack.forget_events(p.job_id)
                    log(f"[{case.label} / {case.model}] warm-up {i + 1}: direct {d.wall:.2f} s, pipeline {p.wall:.2f} s")
                for i in range(rounds):
                    d = direct.run()
                    result.direct.append(d)
                    log(f"[{case.label} / {case.model}] round {i + 1} direct:   wall {d.wall:.2f} s, first segment {d.first_segment:.2f} s, {len(d.words)} words")
                    p = pipeline_run(client, case)
                    result.pipeline.append(p)
                    if not args.keep_events:
                        stack.forget_events(p.job_id)
                    log(
                        f"[{case.label} / {case.model}] round {i + 1} pipeline: wall {p.wall:.2f} s, first delta {p.first_delta:.2f} s "
                        f"(upload {p.upload * 1000:.0f} ms, POST {p.post * 1000:.0f} ms, first event {p.first_event:.2f} s, "
                        f"last delta → completed {p.tail * 1000:.0f} ms), {len(p.words)} words"
                    )
            finally:
                client.close()
                del direct
            results.append(result)
            code = stack.stop()
            log(f"[{case.label} / {case.model}] stack stopped (exit {code})")
        ok = True
    finally:
        for stack in stacks:
            code = stack.stop()
            if not ok and stack.process is not None:
                log(f"--- {stack.log_path.name} (exit {code}) ---\n{stack.log_tail()}")
        if ok and not args.keep_logs:
            shutil.rmtree(workdir, ignore_errors=True)

    verdicts = targets(results)
    write_targets(args.targets, verdicts)
    markdown = "\n".join(
        [
            "## Pipeline vs. direct faster-whisper",
            "",
            *machine(),
            f"- command: `{command()}`",
            "",
            *table(results),
            *notes(results, args.warmup, args.keep_events),
            targets_line(verdicts),
        ]
    )
    print(markdown)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(markdown + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
