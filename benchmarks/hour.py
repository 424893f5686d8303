"""An hour end to end: a 60-minute MP3 through the local stack, as `grabadora transcribe` sends it.

    .venv/bin/python benchmarks/hour.py [--minutes 60] [--model base] [--web] [--output FILE]

Starts `grabadora dev --model base` (emulator, API, relay, worker) in a scratch data directory,
signs up, uploads the file built as benchmarks/long.py builds it (../shared/audio's Spanish
reading, repeated), submits it with the defaults and follows the SSE stream to `completed`.

Reported: upload time, first word after the submit, wall time to `completed` and its real-time
factor, the longest time without any event (progress the whole way), how many progress events
came, the stack process's peak RSS (VmHWM: API, relay and worker together), WER of the stored
transcript against the reference, and the job's attempts (1: the worker kept its SQS message
invisible throughout, no redelivery).

With `--web` the same file goes through the web app instead, as a person would send it: Debian's
Chromium (/usr/bin/chromium, headless) signs up, picks the file on "Transcribir", presses
Transcribir and watches the live view until "Transcripción terminada". Sampled every 2 s from the
page itself: the first word on screen, the transcription progress bar (the longest time it did
not move), and the words shown at the end; the stored transcript's WER is read through the API.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._common import command_line, machine_lines, report  # noqa: E402


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--model", default="base")
    parser.add_argument("--web", action="store_true", help="send it through the web app in Chromium")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if args.web:
        return main_web(args)

    from benchmarks.long import build_file
    from benchmarks.pipeline import Stack
    from tests.conftest import wer

    path, reference = build_file(args.minutes)
    with tempfile.TemporaryDirectory(prefix="grabadora-hour-") as tmp:
        stack = Stack(args.model, Path(tmp))
        stack.start()
        try:
            client = stack.client()
            started = time.perf_counter()
            upload_id = client.upload(str(path))
            submitted = time.perf_counter()
            job = client.transcribe(upload_id, title="Una hora")
            first = None
            last_event = submitted
            longest_gap = 0.0
            progress_events = 0
            for event in client.events(job["stream_url"]):
                now = time.perf_counter()
                longest_gap = max(longest_gap, now - last_event)
                last_event = now
                if event.event == "delta" and first is None:
                    first = now - submitted
                elif event.event == "progress":
                    progress_events += 1
                elif event.event == "error":
                    raise RuntimeError(f"the job failed: {event.data}")
                elif event.event == "completed":
                    break
            wall = time.perf_counter() - submitted
            rss = peak_rss_mib(stack.process.pid)  # type: ignore[union-attr]
            transcript = client.get_transcript(job["job_id"])
            error = wer(reference, transcript["text"], "es")
        finally:
            stack.stop()
    duration = args.minutes * 60
    attempts = transcript.get("attempts")
    lines = [
        *machine_lines(),
        f"- command: `{command_line()}`",
        "",
        "| audio | upload | first word after submit | wall to completed | RTF | longest silence of the stream | progress events | stack peak RSS | WER | attempts |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {args.minutes} min MP3 ({path.stat().st_size / 2**20:.0f} MiB) | {submitted - started:.1f} s | {first or 0:.1f} s | "
        f"{wall:.0f} s | {wall / duration:.3f} | {longest_gap:.1f} s | {progress_events} | {rss:.0f} MiB | {error:.1%} | {attempts} |",
    ]
    report(lines, args.output)
    return 0


CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"]

# What the page says, sampled in the page: words in the live view, the transcription progress bar.
_SAMPLE = """() => {
  const bar = document.querySelector('[role=progressbar][aria-label="Progreso de la transcripción"]');
  return {
    words: document.querySelectorAll('[data-testid=live-words] .word').length,
    progress: bar ? Number(bar.getAttribute('aria-valuenow')) : null,
    done: [...document.querySelectorAll('[role=status]')].some(e => e.textContent.includes('Transcripción terminada')),
    failed: [...document.querySelectorAll('[role=alert]')].map(e => e.textContent).join(' '),
  };
}"""


def main_web(args: argparse.Namespace) -> int:
    import uuid

    from playwright.sync_api import expect, sync_playwright

    from benchmarks.long import build_file
    from benchmarks.pipeline import Stack
    from grabadora.client import GrabadoraClient
    from tests.conftest import wer

    path, reference = build_file(args.minutes)
    email, password = f"hour-{uuid.uuid4().hex[:8]}@example.com", "una clave de banco de pruebas"
    with tempfile.TemporaryDirectory(prefix="grabadora-hour-web-") as tmp:
        stack = Stack(args.model, Path(tmp))
        stack.start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS, headless=True)
                page = browser.new_context(base_url=stack.url, locale="es-ES", viewport={"width": 1280, "height": 860}).new_page()
                page.set_default_timeout(60_000)
                page.goto("/")
                page.get_by_role("button", name="¿No tienes cuenta? Crea una").click()
                page.get_by_label("Correo electrónico").fill(email)
                page.get_by_label("Contraseña").fill(password)
                page.get_by_role("button", name="Crear cuenta", exact=True).click()
                expect(page.get_by_role("heading", name="Transcribir un archivo")).to_be_visible()
                page.get_by_label("Elegir archivo").set_input_files(str(path))
                page.get_by_label("Título").fill("Una hora (web)")
                started = time.perf_counter()
                page.get_by_role("button", name="Transcribir", exact=True).click()
                first_word = None
                progress, moved = None, started
                stalled = 0.0
                samples = 0
                deadline = started + args.minutes * 60 * 1.5
                while True:
                    now = time.perf_counter()
                    state = page.evaluate(_SAMPLE)
                    samples += 1
                    if state["failed"]:
                        raise RuntimeError(f"the page shows an error: {state['failed']}")
                    if first_word is None and state["words"]:
                        first_word = now - started
                    if state["progress"] != progress:
                        progress, moved = state["progress"], now
                    stalled = max(stalled, now - moved)
                    if state["done"]:
                        break
                    if now > deadline:
                        raise RuntimeError(f"not done after {now - started:.0f} s: {state}")
                    page.wait_for_timeout(2000)
                wall = time.perf_counter() - started
                words_shown = state["words"]
                browser.close()
            rss = peak_rss_mib(stack.process.pid)  # type: ignore[union-attr]
            client = GrabadoraClient(stack.url, timeout=60)
            client.sign_in(email, password)
            (item,) = client.list_transcripts(search="una hora web")["items"]
            transcript = client.get_transcript(item["id"])
            error = wer(reference, transcript["text"], "es")
            stored_words = len(transcript["text"].split())
        finally:
            stack.stop()
    duration = args.minutes * 60
    lines = [
        *machine_lines(),
        f"- command: `{command_line()}`",
        "",
        "| audio | through | first word on screen | wall to \"Transcripción terminada\" | RTF | longest time the progress bar stood still | words on screen / in the transcript | stack peak RSS | WER | attempts |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {args.minutes} min MP3 ({path.stat().st_size / 2**20:.0f} MiB) | web app (Chromium) | {first_word or 0:.1f} s | "
        f"{wall:.0f} s | {wall / duration:.3f} | {stalled:.1f} s | {words_shown} / {stored_words} | {rss:.0f} MiB | "
        f"{error:.1%} | {transcript.get('attempts')} |",
    ]
    report(lines, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
