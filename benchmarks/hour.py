"""An hour end to end: a 60-minute MP3 through the local stack, as `grabadora transcribe` sends it.

    .venv/bin/python benchmarks/hour.py [--minutes 60] [--model base] [--output FILE]

Starts `grabadora dev --model base` (emulator, API, relay, worker) in a scratch data directory,
signs up, uploads the file built as benchmarks/long.py builds it (../shared/audio's Spanish
reading, repeated), submits it with the defaults and follows the SSE stream to `completed`.

Reported: upload time, first word after the submit, wall time to `completed` and its real-time
factor, the longest time without any event (progress the whole way), how many progress events
came, the stack process's peak RSS (VmHWM: API, relay and worker together), WER of the stored
transcript against the reference, and the job's attempts (1: the worker kept its SQS message
invisible throughout, no redelivery).
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
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)

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


if __name__ == "__main__":
    raise SystemExit(main())
