"""API under load: p50/p99 and errors for POST /uploads, POST /transcribe and GET /transcripts.

    .venv/bin/python benchmarks/api_load.py [--quick] [--seconds S] [--concurrency N[,N...]] [--rounds N]
                                            [--against NAME=VALUE[,NAME=VALUE]] [--output FILE]

`grabadora dev --no-worker` (emulator + API + relay in one process, no worker, so queued jobs
only pile up in SQS) runs in a subprocess; this process is the load generator: N concurrent
httpx async clients (closed loop: each sends its next request as soon as the last one answered),
each signed in as its own user, for a bounded time per endpoint, one endpoint after the other:

  GET /healthz       the floor: the same server and load generator, no AWS call, no auth
  POST /uploads      {filename, content_type, size}: a presigned PUT
  POST /transcribe   {upload_id} for uploads made in the first phase (their bytes PUT untimed in
                     between), so every request queues a real job
  GET /transcripts   the caller's newest 20 (each user then has tens of transcripts)

Latency is per request, from send to the full response; an error is any status other than the
endpoint's success code, or a transport failure. Throughput = requests / seconds, which with a
closed loop fixes the latency (Little's law: mean latency ≈ N / throughput).

Each concurrency in `--concurrency` (default 1 and 32) gets a fresh stack: at 1 client the
latency is the request's own service time, at 32 it adds the queue in front of the stack.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
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

from benchmarks._common import (  # noqa: E402
    AUDIO_DIR,
    BIN,
    Target,
    at_most,
    command_line,
    cpu_seconds,
    dev_stack,
    log,
    machine_lines,
    parse_settings,
    percentile,
    targets_line,
    write_targets,
)

FILE = AUDIO_DIR / "deepspeech_LDC93S1_pcms16le_1_8000.wav"  # 47 KB
FLOOR = "GET /healthz"  # measured for reference; the target names the other three


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    stack_cpu: float = 0.0  # seconds of CPU the stack process used during the phase
    client_cpu: float = 0.0  # ... and this process, the load generator

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def add(self, other: Phase) -> None:
        """Pool another run of the same endpoint into this one."""
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.stack_cpu += other.stack_cpu
        self.client_cpu += other.client_cpu
        for what, n in other.errors.items():
            self.errors[what] = self.errors.get(what, 0) + n


async def sign_up(client: httpx.AsyncClient, i: int) -> dict[str, str]:
    email = f"load-{i}-{uuid.uuid4().hex[:6]}@example.com"
    password = "una clave de carga larga"
    r = await client.post("/auth/signup", json={"email": email, "password": password})
    r.raise_for_status()
    r = await client.post("/auth/token", data={"username": email, "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


PROFILE: dict = {}  # {"stack_pid": the stack's pid, "dir": Path when --py-spy is given}


async def run_phase(phase: Phase, workers: list, seconds: float) -> None:  # noqa: ANN001
    spy = None
    if "dir" in PROFILE:
        out = PROFILE["dir"] / (phase.name.replace(" ", "_").replace("/", "") + ".txt")
        spy = subprocess.Popen(
            [str(BIN / "py-spy"), "record", "-p", str(PROFILE["stack_pid"]), "-d", str(max(1, int(seconds) - 1)), "-r", "50", "--gil", "-f", "raw", "-o", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    stack_cpu, client_cpu = cpu_seconds(PROFILE["stack_pid"]), cpu_seconds(os.getpid())
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()

    async def loop(make_request) -> None:  # noqa: ANN001
        while time.perf_counter() < deadline:
            go = await make_request()
            if go is False:
                return

    await asyncio.gather(*(loop(w) for w in workers))
    phase.seconds = time.perf_counter() - started
    phase.stack_cpu = cpu_seconds(PROFILE["stack_pid"]) - stack_cpu
    phase.client_cpu = cpu_seconds(os.getpid()) - client_cpu
    if spy is not None:
        spy.wait()


async def timed(phase: Phase, expect: int, send) -> httpx.Response | None:  # noqa: ANN001
    t0 = time.perf_counter()
    try:
        r = await send()
    except httpx.HTTPError as e:
        phase.latencies.append(time.perf_counter() - t0)
        phase.error(type(e).__name__)
        return None
    phase.latencies.append(time.perf_counter() - t0)
    if r.status_code != expect:
        phase.error(f"HTTP {r.status_code}")
        return None
    return r


async def load(url: str, concurrency: int, seconds: float) -> list[Phase]:
    body = FILE.read_bytes()
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        auths = []
        for i in range(concurrency):  # sequential: scrypt is deliberately slow; not timed
            auths.append(await sign_up(client, i))
        uploads: list[list[dict]] = [[] for _ in range(concurrency)]

        # 0. GET /healthz: what any request costs this server and this load generator
        floor = Phase(FLOOR)

        def health(_i: int):  # noqa: ANN202
            async def one() -> None:
                await timed(floor, 200, lambda: client.get("/healthz"))

            return one

        log(f"  GET /healthz for {seconds:.0f} s ...")
        await run_phase(floor, [health(i) for i in range(concurrency)], seconds)

        # 1. POST /uploads
        up = Phase("POST /uploads")

        def uploader(i: int):  # noqa: ANN202
            async def one() -> None:
                payload = {"filename": FILE.name, "content_type": "audio/wav", "size": len(body)}
                r = await timed(up, 201, lambda: client.post("/uploads", json=payload, headers=auths[i]))
                if r is not None:
                    uploads[i].append(r.json())

            return one

        log(f"  POST /uploads for {seconds:.0f} s ...")
        await run_phase(up, [uploader(i) for i in range(concurrency)], seconds)

        # The bytes, untimed (S3 PUTs to the emulator are not the API's latency).
        log(f"  PUT {sum(map(len, uploads))} uploads' bytes (untimed) ...")
        sem = asyncio.Semaphore(concurrency)

        async def put(u: dict) -> None:
            async with sem:
                r = await client.put(u["url"], content=body, headers={**u["headers"], "Content-Length": str(len(body))})
                r.raise_for_status()

        await asyncio.gather(*(put(u) for us in uploads for u in us))

        # 2. POST /transcribe, each on a fresh upload
        tr = Phase("POST /transcribe")

        def transcriber(i: int):  # noqa: ANN202
            async def one() -> bool:
                if not uploads[i]:
                    return False  # this client ran out of uploads
                u = uploads[i].pop()
                await timed(tr, 202, lambda: client.post("/transcribe", json={"upload_id": u["upload_id"]}, headers=auths[i]))
                return True

            return one

        log(f"  POST /transcribe for up to {seconds:.0f} s ...")
        await run_phase(tr, [transcriber(i) for i in range(concurrency)], seconds)

        # 3. GET /transcripts
        ls = Phase("GET /transcripts")

        def lister(i: int):  # noqa: ANN202
            async def one() -> None:
                await timed(ls, 200, lambda: client.get("/transcripts", params={"limit": 20}, headers=auths[i]))

            return one

        log(f"  GET /transcripts for {seconds:.0f} s ...")
        await run_phase(ls, [lister(i) for i in range(concurrency)], seconds)
        return [floor, up, tr, ls]


def report(runs: dict[tuple[str, int], list[Phase]], seconds: float, rounds: int) -> list[str]:
    """One table, a row per (stack variant, clients, endpoint); `runs` in the order they were taken."""
    compared = len({name for name, _ in runs}) > 1
    levels = sorted({clients for _, clients in runs})
    target_clients = max(levels)
    lines = [
        f"## API under load (part 4): {' and '.join(map(str, levels))} concurrent client(s), {seconds:.0f} s per endpoint"
        + (f", {rounds} round(s) per stack, alternated, pooled" if compared or rounds > 1 else ""),
        "",
        *machine_lines(),
        f"- command: `{command_line()}`",
        "",
        ("| stack " if compared else "")
        + "| clients | endpoint | requests | req/s | p50 (ms) | p99 (ms) | max (ms) | errors | Little's law N/throughput (ms) "
        "| stack CPU / request (ms) | load generator CPU / request (ms) |",
        ("|---" if compared else "") + "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (name, clients), phases in runs.items():
        for p in phases:
            n = len(p.latencies)
            rps = n / p.seconds if p.seconds else 0
            errs = sum(p.errors.values())
            detail = f" ({', '.join(f'{k}: {v}' for k, v in p.errors.items())})" if errs else ""
            label = f"{p.name} (floor)" if p.name == FLOOR else p.name
            lines.append(
                (f"| {name} " if compared else "")
                + f"| {clients} | {label} | {n} | {rps:.0f} | {percentile(p.latencies, 50) * 1000:.0f} "
                f"| {percentile(p.latencies, 99) * 1000:.0f} | {max(p.latencies) * 1000:.0f} | {errs}{detail} "
                f"| {clients / rps * 1000 if rps else float('nan'):.0f} "
                f"| {p.stack_cpu / n * 1000 if n else float('nan'):.1f} | {p.client_cpu / n * 1000 if n else float('nan'):.1f} |"
            )
    defaults = next(name for name, _ in runs)
    judged = [p for p in runs[(defaults, target_clients)] if p.name != FLOOR]
    mean = statistics.mean(x for p in judged for x in p.latencies) * 1000
    lines += [
        "",
        "Closed loop from a second process on 127.0.0.1 (httpx async); the stack (API + relay + moto's server, one Python "
        f"process) has no worker; a fresh stack per client count. Mean latency over the three endpoints' requests at "
        f"{target_clients} clients{' (defaults)' if compared else ''}: {mean:.0f} ms. `GET /healthz` (no AWS call, "
        "no auth) is the floor any route pays on this server and load generator. CPU per request: the process's user "
        "+ system time over the phase / requests answered; about 1,000 ms of CPU a second is all one Python process "
        "gets while its threads share one GIL.",
        targets_line(api_targets(runs)) + (" (defaults)" if compared else ""),
    ]
    return lines


def api_targets(runs: dict[tuple[str, int], list[Phase]]) -> list[Target]:
    """Part 4's targets, on the first stack variant (the defaults): p99 at the highest client
    count over the three endpoints the issue names (not the floor), and errors in every run."""
    defaults = next(name for name, _ in runs)
    levels = sorted(clients for name, clients in runs if name == defaults)

    def worst(clients: int) -> tuple[float, str]:
        return max((percentile(p.latencies, 99) * 1000, p.name) for p in runs[(defaults, clients)] if p.name != FLOOR)

    p99, endpoint = worst(levels[-1])
    measured = f"worst {endpoint} {p99:.0f} ms" + "".join(
        f"; at {n} client{'s' if n > 1 else ''} worst p99 {worst(n)[0]:.0f} ms" for n in levels[:-1]
    )
    every = [p for (name, _), phases in runs.items() if name == defaults for p in phases]
    errors = sum(sum(p.errors.values()) for p in every)
    return [
        at_most(f"API p99 ≤ 100 ms at {levels[-1]} concurrent clients", p99, 100, measured),
        Target("API: zero errors", f"{errors} errors in {sum(len(p.latencies) for p in every):,} requests", errors == 0),
    ]


def run_stack(extra: dict[str, str], concurrency: int, seconds: float, py_spy: Path | None) -> list[Phase]:
    """One `grabadora dev --no-worker` (with `extra` in its environment) under the four phases."""
    workdir = Path(tempfile.mkdtemp(prefix="grabadora-bench-api-"))
    stack, _endpoint = dev_stack(workdir)
    stack.env.update(extra)
    ok = False
    try:
        log(f"starting grabadora dev --no-worker{' with ' + str(extra) if extra else ''} (logs in {workdir}) ...")
        stack.start()
        PROFILE.clear()
        PROFILE["stack_pid"] = stack.pid
        if py_spy:
            py_spy.mkdir(parents=True, exist_ok=True)
            PROFILE["dir"] = py_spy
        phases = asyncio.run(load(stack.url, concurrency, seconds))
        ok = True
    finally:
        stack.stop()
        if not ok:
            log(stack.log_tail())
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return phases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s per endpoint")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", default="1,32", help="comma-separated client counts, a fresh stack each")
    parser.add_argument("--rounds", type=int, default=1, help="runs per stack variant, alternated, pooled")
    parser.add_argument(
        "--against",
        metavar="NAME=VALUE[,NAME=VALUE]",
        action="append",
        default=[],
        help="also run a stack with these environment settings changed (repeat for more variants)",
    )
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--targets", type=Path, default=None, help="also write the targets' verdicts here (JSON, for run_all.py)")
    parser.add_argument("--py-spy", type=Path, default=None, help="profile the stack during each phase (py-spy raw output here)")
    args = parser.parse_args(argv)
    seconds = 5.0 if args.quick else args.seconds
    levels = [int(n) for n in args.concurrency.split(",") if n.strip()]
    variants = {"defaults": {}, **{spec: parse_settings(spec) for spec in args.against}}
    pooled: dict[tuple[str, int], list[Phase]] = {}
    for _ in range(args.rounds):
        for clients in levels:
            for name, extra in variants.items():
                spy = args.py_spy / f"{clients}-clients" if args.py_spy and name == "defaults" else None
                phases = run_stack(extra, clients, seconds, spy)
                if (name, clients) not in pooled:
                    pooled[(name, clients)] = phases
                else:
                    for total, phase in zip(pooled[(name, clients)], phases, strict=True):
                        total.add(phase)
    write_targets(args.targets, api_targets(pooled))
    markdown = "\n".join(report(pooled, seconds, args.rounds))
    print(markdown)
    if args.output:
        args.output.write_text(markdown + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
