"""Long transcripts in the web app: long tasks while an hour's words stream live, and on opening it.

    .venv/bin/python benchmarks/web_long_transcript.py [--minutes 60] [--stream-seconds 180]
                                                       [--dist NAME=DIR ...] [--rounds 1] [--output FILE]

Measured in Debian's Chromium (/usr/bin/chromium, headless, through Playwright) with a
PerformanceObserver of `longtask` entries installed before the app's first script runs.

The transcript is synthetic, the path is not. An hour of speech is built from the reference
texts in ../shared/audio/references.json (English and Spanish, repeated in order until the
minutes are filled), with word timings of a speaker at about 150 words a minute: a word lasts
0.1 s plus 40 ms a character, 50-150 ms between words, 0.4-0.7 s after a sentence, segments cut
at a sentence end or 30 words as faster-whisper cuts them. Then, on `grabadora dev --no-worker`:

  streams  the web app signs in and submits ../shared/audio/fw_jfk.flac on Transcribir, as a
           user does (the job stays queued: no worker). This process then plays the worker: it
           marks the attempt started and commits each segment's events (a `delta` per word and
           a `progress`) through the worker's own EventLog and the real EventsTable adapter on
           the emulator, a segment when its end time comes on a clock that runs the hour in
           --stream-seconds (180 s: 20× real time, a GPU's pace); the real relay streams them
           to the real live view. Then it stores the transcript document and completes the job
           with the worker's complete_job (which writes `completed`). Long tasks are counted
           from the first commit until the live view shows every word and "Transcripción
           terminada" (waited for with one querySelector every 250 ms: Playwright's role queries
           run on the page's main thread and over thousands of words make long tasks of their own).
  opens    a fresh page load of /biblioteca/<id> for that transcript, until every word of it
           is in the page, plus 1 s.
  plays    on that page, a click on the first word and 3 s of playback (the current word is
           highlighted every animation frame; the audio is the 11-s clip, so the highlight
           moves over the transcript's first seconds).

--dist NAME=DIR serves another build of the web app (its scripts and styles) in place of
frontend/dist's, through Playwright's request routing (API and stream requests go to the stack
untouched), so two builds are measured side by side in one run on one stack; the default is
the current frontend/dist alone. Rounds alternate the builds.

The machine, the command and one markdown table go to stdout (and --output); progress to stderr.
Not a timed test: the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import random
import re
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._common import AUDIO_DIR, command_line, dev_stack, log, machine_lines, report, use_endpoint  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CLIP = AUDIO_DIR / "fw_jfk.flac"
PASSWORD = "una clave muy larga"
LONG_TASK_LIMIT_MS = 200

# Before the app's first script: every long task of the document, with its start time.
OBSERVER = """
window.__longtasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longtasks.push({ start: e.startTime, duration: e.duration });
}).observe({ type: "longtask", buffered: true });
"""


# --- the transcript ---------------------------------------------------------------------------


def reference_words() -> list[str]:
    """Every reference text's words, in the file's order."""
    references = json.loads((AUDIO_DIR / "references.json").read_text())
    return [word for entry in references.values() for word in str(entry["reference"]).split()]


def build_transcript(minutes: float, seed: int = 16) -> list:
    """Segments with word timings filling `minutes` of speech (see the module's docstring)."""
    from grabadora.models import Segment, Word

    rng = random.Random(seed)
    source = reference_words()
    end = minutes * 60
    segments: list[Segment] = []
    words: list[Word] = []
    t = 0.5
    i = 0
    while t < end:
        text = source[i % len(source)]
        i += 1
        t1 = t + 0.1 + 0.04 * len(text)
        words.append(Word(text=" " + text, t0=round(t, 2), t1=round(t1, 2), probability=0.9))
        sentence_end = bool(re.search(r"[.?!]$", text))
        t = t1 + (rng.uniform(0.4, 0.7) if sentence_end else rng.uniform(0.05, 0.15))
        if sentence_end or len(words) >= 30 or t >= end:
            segments.append(
                Segment(id=len(segments), t0=words[0].t0, t1=words[-1].t1, text="".join(w.text for w in words), words=words)
            )
            words = []
    return segments


# --- the web app ------------------------------------------------------------------------------


def spa_route(dist: Path, stack_url: str):
    """A Playwright route (URL predicate and handler) that gives the stack's pages this build's
    scripts and styles: /assets/<name>-<hash>.<ext> answers the build's <name>-*.<ext>.

    The page itself stays the stack's answer: a page fulfilled by the route (even with the
    stack's own headers) makes Chromium fail the upload's cross-origin PUT to the emulator.
    """
    origin = urlparse(stack_url).netloc
    built = {}
    for path in (dist / "assets").iterdir():
        built[(path.name.partition("-")[0], path.suffix)] = path  # Vite's hashes may hold a "-" too

    def matches(url: str) -> bool:
        parsed = urlparse(url)
        return parsed.netloc == origin and parsed.path.startswith("/assets/")

    def handle(route) -> None:
        asked = Path(urlparse(route.request.url).path)
        path = built.get((asked.name.partition("-")[0], asked.suffix))
        if path is None:
            route.fulfill(status=404, body="")
            return
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        route.fulfill(status=200, body=path.read_bytes(), headers={"content-type": kind})

    return matches, handle


@dataclass
class Phase:
    name: str
    long_tasks: list[float] = field(default_factory=list)  # durations, ms
    seconds: float = 0.0
    note: str = ""

    @property
    def worst(self) -> float:
        return max(self.long_tasks, default=0.0)

    def over(self, limit: float) -> int:
        return sum(1 for d in self.long_tasks if d > limit)


def take_long_tasks(page, since: float) -> list[float]:
    """Durations of the page's long tasks that started at or after `since` (performance.now())."""
    entries = page.evaluate("window.__longtasks")
    return [e["duration"] for e in entries if e["start"] >= since]


def now(page) -> float:
    return page.evaluate("performance.now()")


# --- one round --------------------------------------------------------------------------------


def run_round(browser, stack_url: str, dist: Path | None, segments: list, stream_seconds: float) -> list[Phase]:
    from playwright.sync_api import expect

    from gpu_container.job import EventLog, WorkerPorts, _segment_events, complete_job, transcript_key
    from grabadora.adapters.events_table import EventsTable
    from grabadora.adapters.object_store import ObjectStore
    from grabadora.adapters.transcripts_table import TranscriptsTable
    from grabadora.adapters.user_state import UserStateTable
    from grabadora.client import GrabadoraClient
    from grabadora.models import JobMessage, Transcript, TranscribeOptions

    n_words = sum(len(s.words) for s in segments)
    duration = segments[-1].t1
    email = f"largo-{uuid.uuid4().hex[:8]}@example.com"
    with GrabadoraClient(stack_url) as client:
        user_id = client.signup(email, PASSWORD)["id"]

    context = browser.new_context(
        base_url=stack_url, viewport={"width": 1280, "height": 860}, locale="es-ES",
        bypass_csp=True,  # Playwright's string predicates use eval, which the app's CSP forbids
    )  # fmt: skip
    context.add_init_script(OBSERVER)
    page = context.new_page()

    def load(path: str) -> None:
        """Load a page of the app; with `dist`, with that build's scripts (routed only while it
        loads: the upload's PUT goes out without interception)."""
        if dist is None:
            page.goto(path)
            return
        matches, handle = spa_route(dist, stack_url)
        page.route(matches, handle)
        page.goto(path, wait_until="load")
        page.unroute(matches, handle)

    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    load("/")
    page.get_by_label("Correo electrónico").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar", exact=True).click()
    expect(page.get_by_role("heading", name="Transcribir un archivo")).to_be_visible()
    page.get_by_label("Elegir archivo").set_input_files(str(CLIP))
    page.get_by_label("Título").fill("Una hora de palabras")
    with page.expect_response(lambda r: urlparse(r.url).path == "/transcribe" and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Transcribir", exact=True).click()
    job_id = answer.value.json()["job_id"]
    expect(page.get_by_test_id("live-words")).to_be_visible()

    # This process plays the worker, through the worker's own code and the real adapters.
    ports = WorkerPorts(store=ObjectStore(), transcripts=TranscriptsTable(), events=EventsTable(), user_state=UserStateTable())
    item = ports.transcripts.get(user_id, job_id)
    job = JobMessage(job_id=job_id, user_id=user_id, audio_key=item.audio_key or "", options=TranscribeOptions(**item.options))
    ports.transcripts.start_attempt(user_id, job_id)
    events = EventLog(ports, job, ports.events.tail(job_id).next_seq)

    streams = Phase("streams")
    lag: list[float] = []
    since = now(page)
    started = time.perf_counter()
    failure: list[BaseException] = []

    def play_worker() -> None:
        try:
            pending: list = []
            for segment in segments:
                due = started + segment.t1 / duration * stream_seconds
                wait = due - time.perf_counter()
                if wait > 0 and pending:  # on time: what is due goes out now, as the committer does
                    events.commit_segments([(s.id, _segment_events(s, duration)) for s in pending])
                    pending = []
                    wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                pending.append(segment)
                if len(pending) >= 16 or wait > 0:
                    events.commit_segments([(s.id, _segment_events(s, duration)) for s in pending])
                    pending = []
                lag.append(time.perf_counter() - due)
            if pending:
                events.commit_segments([(s.id, _segment_events(s, duration)) for s in pending])
            text = "".join(s.text for s in segments).strip()
            transcript = Transcript(
                job_id=job_id, language="en", language_probability=0.99, language_source="detected", duration=duration,
                quality_profile=item.quality_profile or "balanced", model="synthetic", text=text, segments=segments,
            )  # fmt: skip
            ports.store.put_json(transcript_key(user_id, job_id), transcript.model_dump(mode="json"))
            complete_job(ports, job, ports.transcripts.get(user_id, job_id), transcript, events)
        except BaseException as e:  # reported in the main thread
            failure.append(e)

    # Nothing queries the page while it streams: Playwright's own queries run on the page's
    # main thread, and a role query over thousands of words is a long task of its own.
    worker = threading.Thread(target=play_worker, name="synthetic-worker")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    page.wait_for_function(
        f"""document.querySelectorAll('[data-testid=live-words] .word').length === {n_words}
        && document.querySelector('.status-line')?.textContent.includes('Transcripción terminada')""",
        polling=250, timeout=600_000,
    )  # fmt: skip
    streams.seconds = time.perf_counter() - started
    page.wait_for_timeout(1000)
    streams.long_tasks = take_long_tasks(page, since)
    streams.note = f"{n_words:,} deltas over {stream_seconds:.0f} s; worker behind its clock by at most {max(lag):.2f} s"

    # Opening it: a new document, so the observer sees the load from its start.
    opens = Phase("opens")
    started = time.perf_counter()
    load(f"/biblioteca/{job_id}")
    page.wait_for_function("document.querySelector('.word.clickable') !== null", polling=50, timeout=120_000)
    shown = time.perf_counter() - started
    page.wait_for_function(f"document.querySelectorAll('.word.clickable').length === {n_words}", polling=100, timeout=120_000)
    opens.seconds = time.perf_counter() - started
    words = page.locator(".word.clickable")
    page.wait_for_timeout(1000)
    opens.long_tasks = take_long_tasks(page, 0)
    opens.note = f"first words after {shown:.2f} s, all {n_words:,} words after {opens.seconds:.2f} s"

    plays = Phase("plays")
    page.wait_for_function("document.querySelector('audio') && document.querySelector('audio').readyState >= 1")
    since = now(page)
    words.first.click()
    page.wait_for_timeout(3000)
    highlighted = page.locator(".word.current").count()
    page.evaluate("document.querySelector('audio').pause()")
    plays.long_tasks = take_long_tasks(page, since)
    plays.seconds = 3.0
    plays.note = f"current time {page.evaluate('document.querySelector(`audio`).currentTime'):.1f} s, {highlighted} word highlighted"

    context.close()
    if errors:
        raise RuntimeError(f"page errors: {errors}")
    return [streams, opens, plays]


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--stream-seconds", type=float, default=180)
    parser.add_argument("--dist", action="append", default=[], metavar="NAME=DIR", help="a build of the web app to measure")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)

    builds: list[tuple[str, Path | None]] = []
    for spec in args.dist:
        name, _, directory = spec.partition("=")
        if not name or not (Path(directory) / "index.html").is_file():
            parser.error(f"--dist {spec!r}: expected NAME=DIR with DIR/index.html")
        builds.append((name, Path(directory).resolve()))
    if not builds:
        if not (REPO / "frontend" / "dist" / "index.html").is_file():
            parser.error("frontend/dist is not built: cd frontend && npm run build")
        builds = [("frontend/dist", None)]
    if not CHROMIUM.exists():
        parser.error("needs Debian's Chromium at /usr/bin/chromium")

    segments = build_transcript(args.minutes)
    n_words = sum(len(s.words) for s in segments)
    log(f"transcript: {len(segments)} segments, {n_words} words, {segments[-1].t1 / 60:.1f} min")

    from playwright.sync_api import sync_playwright

    results: dict[str, list[list[Phase]]] = {name: [] for name, _ in builds}
    with tempfile.TemporaryDirectory(prefix="grabadora-web-long-") as tmp:
        stack, aws_endpoint = dev_stack(Path(tmp), worker=False)
        stack.start()
        try:
            use_endpoint(aws_endpoint)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True,
                    args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--autoplay-policy=no-user-gesture-required"],
                )  # fmt: skip
                try:
                    for round_ in range(args.rounds):
                        order = builds if round_ % 2 == 0 else list(reversed(builds))
                        for name, dist in order:
                            log(f"round {round_ + 1}: {name}")
                            phases = run_round(browser, stack.url, dist, segments, args.stream_seconds)
                            for phase in phases:
                                log(f"  {phase.name}: worst {phase.worst:.0f} ms, {len(phase.long_tasks)} long tasks, "
                                    f"{phase.over(LONG_TASK_LIMIT_MS)} over {LONG_TASK_LIMIT_MS} ms; {phase.note}")  # fmt: skip
                            results[name].append(phases)
                finally:
                    browser.close()
        finally:
            stack.stop()

    lines = [
        f"## Long transcripts in the web app ({args.minutes:g} minutes, {n_words:,} words, {len(segments):,} segments)",
        "",
        *machine_lines(),
        f"- command: `{command_line()}`",
        "- Chromium headless, 1280×860; long tasks from a PerformanceObserver (`longtask`, buffered)",
        "",
        "| build | round | phase | worst long task | long tasks | over 200 ms | total in long tasks | wall | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, rounds in results.items():
        for r, phases in enumerate(rounds, 1):
            for ph in phases:
                lines.append(
                    f"| {name} | {r} | {ph.name} | {ph.worst:.0f} ms | {len(ph.long_tasks)} | {ph.over(LONG_TASK_LIMIT_MS)} | "
                    f"{sum(ph.long_tasks):.0f} ms | {ph.seconds:.1f} s | {ph.note} |"
                )
    lines.append("")
    for name, rounds in results.items():
        worst = {ph.name: max(r[i].worst for r in rounds) for i, ph in enumerate(rounds[0])}
        met = all(w <= LONG_TASK_LIMIT_MS for w in worst.values())
        lines.append(
            f"- {name}: target no long task over {LONG_TASK_LIMIT_MS} ms streaming, opening (and playing): "
            f"{'met' if met else 'MISSED'} (worst " + ", ".join(f"{k} {v:.0f} ms" for k, v in worst.items()) + ")"
        )
    report(lines, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
