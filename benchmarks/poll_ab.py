"""Side by side: the relay's poll setting against the pipeline's wall time and first word.

    .venv/bin/python benchmarks/poll_ab.py [--rounds N] [--case 0|1] [--variants "0.025:0.05,0.05:0.1"] [--against NAME=VALUE]

The relay polls DynamoDB; on the local stack every poll is a request to moto's server in the
same process as the worker, so a faster poll can take CPU from decoding. This runs one
`grabadora dev` per poll variant (same model), and alternates direct faster-whisper with a
pipeline run on each stack, reporting medians per variant (see benchmarks/pipeline.py for what
"direct" and "pipeline" time). With --against NAME=VALUE the variants are instead the defaults
and the defaults with settings changed, e.g. GRABADORA_IOT_PUBLISH=true.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import pipeline as pl  # noqa: E402
from benchmarks._common import parse_settings  # noqa: E402


class EnvStack(pl.Stack):
    def __init__(self, model: str, workdir: Path, extra: dict[str, str], tag: str) -> None:
        super().__init__(model, workdir)
        self.extra = extra
        self.log_path = workdir / f"stack-{model}-{tag}.log"

    def start(self, timeout: float = 300) -> float:
        saved = dict(pl.os.environ)
        try:
            # Stack.start copies os.environ without GRABADORA_*, then sets its own; add ours after.
            original_popen = pl.subprocess.Popen

            def popen(args, env=None, **kw):  # noqa: ANN001, ANN202
                return original_popen(args, env={**(env or {}), **self.extra}, **kw)

            pl.subprocess.Popen = popen
            return super().start(timeout)
        finally:
            pl.subprocess.Popen = original_popen
            pl.os.environ.clear()
            pl.os.environ.update(saved)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--case", type=int, default=0, help="index into pipeline.CASES (0: 70 s base, 1: 11 s tiny.en)")
    parser.add_argument("--variants", default="0.025:0.05,0.05:0.1")
    parser.add_argument(
        "--against",
        metavar="NAME=VALUE[,NAME=VALUE]",
        action="append",
        help="compare the defaults against these settings changed (repeat for more variants)",
    )
    args = parser.parse_args()
    if args.against:
        variants = {"defaults": {}}
        for variant in args.against:
            variants[variant] = parse_settings(variant)
    else:
        variants = {}
        for v in args.variants.split(","):
            low, high = v.split(":")
            variants[v] = {"GRABADORA_RELAY_POLL_MIN_SECONDS": low, "GRABADORA_RELAY_POLL_MAX_SECONDS": high}
    case = pl.CASES[args.case]
    workdir = Path(tempfile.mkdtemp(prefix="grabadora-bench-pollab-"))
    stacks: dict[str, EnvStack] = {}
    try:
        for i, (v, extra) in enumerate(variants.items()):
            stacks[v] = EnvStack(case.model, workdir, extra, str(i))
            pl.log(f"starting stack {v} ...")
            stacks[v].start()
        direct = pl.Direct(case)
        clients = {v: s.client() for v, s in stacks.items()}
        for v in stacks:
            pl.pipeline_run(clients[v], case)  # warm-up
        direct.run()
        d_runs, p_runs = [], {v: [] for v in stacks}
        for r in range(args.rounds):
            d_runs.append(direct.run())
            for v in stacks:
                p = pl.pipeline_run(clients[v], case)
                p_runs[v].append(p)
                pl.log(f"round {r + 1} {v}: wall {p.wall:.2f} s, first delta {p.first_delta:.2f} s; direct {d_runs[-1].wall:.2f} s")
        dw = statistics.median(x.wall for x in d_runs)
        df = statistics.median(x.first_segment for x in d_runs)
        print(f"| {'stack' if args.against else 'poll min:max (s)'} | {case.file} runs | direct wall (s) | pipeline wall (s) | ratio | fixed cost (ms) | first-word gap (ms) |")
        print("|---|---|---|---|---|---|---|")
        for v, runs in p_runs.items():
            pw = statistics.median(x.wall for x in runs)
            pf = statistics.median(x.first_delta for x in runs)
            print(f"| {v} | {len(runs)} | {dw:.2f} | {pw:.2f} | {pw / dw:.2f}x | {(pw - dw) * 1000:+.0f} | {(pf - df) * 1000:+.0f} |")
    finally:
        for s in stacks.values():
            s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
