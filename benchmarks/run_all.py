"""Every benchmark, one after the other, and one markdown report.

    .venv/bin/python benchmarks/run_all.py [--quick] [--only pipeline,relay,api,profiles] [--output FILE]

Parts (each also runnable alone, with --quick):
  pipeline  benchmarks/pipeline.py   overhead and time to first word vs. bare faster-whisper (1, 2)
  relay     benchmarks/relay.py      commit → client latency, 200 streams, reads per minute (3, 6)
  api       benchmarks/api_load.py   p50/p99/errors at 1 and 32 concurrent clients (4)
  profiles  benchmarks/profiles.py   RTF and WER of fast / balanced / precise (5)
  live      benchmarks/live.py       live sessions: word latency, stop → completed, CPU, WER vs file mode

Each part runs in its own process, strictly one at a time (the machine has two cores), and starts
and stops what it needs. The combined markdown goes to stdout and to --output: first one table of
every target the parts judged in this run (each part writes its verdicts with --targets), then
each part's own tables.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from benchmarks._common import Target, read_targets, targets_table  # noqa: E402

PARTS = {
    "pipeline": "pipeline.py",
    "relay": "relay.py",
    "api": "api_load.py",
    "profiles": "profiles.py",
    "live": "live.py",
    "long": "long.py",
    "no_speech": "no_speech.py",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="pass --quick to every part")
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts (default: all)")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    chosen = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)}; choose from {', '.join(PARTS)}")

    sections: list[str] = []
    failed: list[str] = []
    verdicts: list[tuple[str, list[Target]]] = []
    with tempfile.TemporaryDirectory(prefix="grabadora-bench-all-") as tmp:
        for part in chosen:
            out, judged = Path(tmp) / f"{part}.md", Path(tmp) / f"{part}-targets.json"
            cmd = [
                sys.executable, str(HERE / PARTS[part]), "--output", str(out), "--targets", str(judged),
                *(["--quick"] if args.quick else []),
            ]  # fmt: skip
            print(f"== {part}: {' '.join(cmd)}", file=sys.stderr, flush=True)
            started = time.perf_counter()
            code = subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode
            print(f"== {part}: exit {code} in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
            if code != 0 or not out.is_file():
                failed.append(part)
                sections.append(f"## {part}\n\nFAILED (exit {code}); run `benchmarks/{PARTS[part]}` alone to see why.\n")
            else:
                sections.append(out.read_text())
                if judged.is_file():
                    verdicts.append((part, read_targets(judged)))
    glance = ["## Targets at a glance (this run)", "", *targets_table(verdicts)]
    if failed:
        glance.append(f"\nNot judged: {', '.join(failed)} failed (below).")
    markdown = "\n\n".join(s.rstrip() for s in ["\n".join(glance), *sections]) + "\n"
    print(markdown)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(markdown)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
