"""SSE relay: commit → client latency, 200 concurrent streams, and DynamoDB reads per minute.

    .venv/bin/python benchmarks/relay.py [--quick] [--output FILE]

Processes (all on 127.0.0.1):
  stack    `grabadora dev --no-worker`: moto's server (the AWS endpoint) and the API; untouched
           here except as the emulator.
  relay    the relay app alone under uvicorn (functions.stream.app.create_app, as the Lambda Web
           Adapter runs it), wrapped by benchmarks/_relay_app.py to count its `EventsTable.read`
           calls (one DynamoDB Query each) and report its RSS.
  clients  a separate process of httpx async SSE clients (`--clients` mode of this script), each
           following `GET /transcribe/{job_id}?token=…` and stamping every event's receipt.
  driver   this process: creates the transcript items (`TranscriptsTable.create`) and stream
           tokens (`auth.issue_stream_token`), and plays the worker: one
           `EventsTable.append` transaction per "segment" of N word deltas + 1 progress event,
           as gpu_container/job.py commits them, stamping each transaction's commit time (when
           append returns). latency = receipt − commit, per event. With `writer="relay"` the
           driver has the relay's own process commit them (`POST /_bench/append`), the shape of
           `grabadora dev`, where the worker thread's commits wake the relay's streams at once.

Scenarios:
  latency  1 client, 1 job, ≥ 1,000 events (segments of 10 words every 0.25 s), then `completed`.
  fanout   200 clients on 200 jobs at once (one viewer per job), 2 segments + `completed` each; every event of
           every stream must arrive; memory per stream = relay RSS delta (all connected − before) / 200.
  quiet    1 client on a job that writes nothing for --quiet-seconds: the relay's reads per
           minute while a job is silent (e.g. queued behind others, or the first window decoding).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from benchmarks._common import (  # noqa: E402
    Target,
    at_most,
    command_line,
    dev_stack,
    lone_relay,
    log,
    machine_lines,
    per_minute,
    percentile,
    summary_ms,
    targets_line,
    use_endpoint,
    write_targets,
)

WORDS_PER_SEGMENT = 10


# --- clients (a separate process) ------------------------------------------------------------


async def _follow(client: httpx.AsyncClient, url: str, job: str, out: list, connected: asyncio.Event, counter: list) -> None:
    seq = event = None
    try:
        async with client.stream("GET", url, headers={"Accept": "text/event-stream"}) as response:
            if response.status_code != 200:
                out.append({"job": job, "error": f"HTTP {response.status_code}"})
                counter[0] += 1
                if counter[0] >= counter[1]:
                    connected.set()
                return
            counter[0] += 1
            if counter[0] >= counter[1]:
                connected.set()
            async for line in response.aiter_lines():
                if line.startswith("id:"):
                    seq = int(line[3:].strip())
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line == "" and seq is not None:
                    out.append({"job": job, "seq": seq, "type": event, "t": time.time()})
                    if event in ("completed", "error"):
                        return
                    seq = event = None
    except Exception as e:  # noqa: BLE001 - reported as a lost stream
        out.append({"job": job, "error": repr(e)})


async def _clients_main(spec_path: Path, out_path: Path) -> None:
    spec = json.loads(spec_path.read_text())
    out: list = []
    connected = asyncio.Event()
    counter = [0, len(spec["streams"])]
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(timeout=httpx.Timeout(300, connect=60), limits=limits) as client:
        tasks = [asyncio.create_task(_follow(client, s["url"], s["job"], out, connected, counter)) for s in spec["streams"]]
        await connected.wait()
        print("connected", flush=True)  # the driver starts writing only now: live, not replay
        await asyncio.gather(*tasks)
    out_path.write_text("\n".join(json.dumps(r) for r in out) + "\n")


# --- driver ----------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    jobs: list[str]
    commits: dict[tuple[str, int], float] = field(default_factory=dict)  # (job, seq) -> commit time
    received: list[dict] = field(default_factory=list)
    streamed_s: float = 0.0
    reads: int = 0
    rss_before_kib: int = 0
    rss_connected_kib: int = 0
    idle_reads_per_min: float = math.nan  # quiet: reads once the stream has backed off to its idle poll
    idle_from_s: float = math.nan  # quiet: seconds into the silence from which those were counted


class Driver:
    def __init__(self, relay_url: str, workdir: Path, writer: str = "separate") -> None:
        from grabadora.adapters.events_table import EventsTable
        from grabadora.adapters.transcripts_table import TranscriptsTable

        self.relay_url = relay_url
        self.workdir = workdir
        self.events = EventsTable()
        self.transcripts = TranscriptsTable()
        self.user_id = "bench-" + uuid.uuid4().hex[:12]
        self.writer = writer  # "separate": this process commits; "relay": the relay's process does
        self.http = httpx.Client(timeout=30)

    def new_job(self) -> tuple[str, str]:
        from grabadora import auth
        from grabadora.ids import new_id
        from grabadora.models import JobStatus, TranscriptItem
        from grabadora.settings import get_settings

        job_id = new_id()
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.transcripts.create(
            TranscriptItem(user_id=self.user_id, transcript_id=job_id, status=JobStatus.PROCESSING, title="bench",
                           created_at=now, updated_at=now)
        )
        from grabadora.adapters.user_state import UserStateTable

        version = UserStateTable().open_session(self.user_id)  # the relay checks the account exists
        token = auth.issue_stream_token(get_settings(), self.user_id, job_id, version)
        return job_id, f"{self.relay_url}/transcribe/{job_id}?token={token}"

    def stats(self) -> dict:
        return httpx.get(f"{self.relay_url}/_bench/stats", timeout=30).json()

    def commit_segment(self, sc: Scenario, job: str, seq: int, seg: int, final: bool = False) -> int:
        from grabadora.models import JobEvent

        if final:
            items = [("completed", {"job_id": job, "transcript_key": "bench", "language": "es", "duration": 1.0, "quality_profile": "balanced"})]
        else:
            t = seg * 3.0
            items = [("delta", {"text": f" palabra{i}", "t0": t + i * 0.3, "t1": t + i * 0.3 + 0.25}) for i in range(WORDS_PER_SEGMENT)]
            items.append(("progress", {"progress": 0.5, "processed_s": t + 3.0, "duration_s": 600.0}))
        events = [JobEvent(job_id=job, seq=seq + i, type=k, data=d) for i, (k, d) in enumerate(items)]
        if self.writer == "relay":
            response = self.http.post(
                f"{self.relay_url}/_bench/append",
                json={"events": [e.model_dump(mode="json") for e in events], "segment": None if final else seg},
            )
            response.raise_for_status()
            now = response.json()["committed_at"]
        else:
            self.events.append(events, segment=None if final else seg)
            now = time.time()
        for e in events:
            sc.commits[(job, e.seq)] = now
        return seq + len(events)

    def run(self, sc: Scenario, urls: list[str], write) -> None:  # noqa: ANN001
        spec = self.workdir / f"{sc.name}-spec.json"
        out = self.workdir / f"{sc.name}-out.jsonl"
        spec.write_text(json.dumps({"streams": [{"job": j, "url": u} for j, u in zip(sc.jobs, urls, strict=True)]}))
        reads_before = self.stats()["total_reads"]
        sc.rss_before_kib = self.stats()["rss_kib"]
        proc = subprocess.Popen(
            [sys.executable, __file__, "--clients", str(spec), str(out)], stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.strip() != "connected":
                raise RuntimeError(f"clients did not connect ({line!r})")
            time.sleep(0.3)  # let the last streams' first (empty) reads happen
            sc.rss_connected_kib = self.stats()["rss_kib"]
            started = time.perf_counter()
            write(sc)
            proc.wait(timeout=600)
            sc.streamed_s = time.perf_counter() - started
        finally:
            if proc.poll() is None:
                proc.kill()
        sc.reads = self.stats()["total_reads"] - reads_before
        sc.received = [json.loads(x) for x in out.read_text().splitlines() if x.strip()]


def latency_scenario(driver: Driver, segments: int, interval: float) -> Scenario:
    job, url = driver.new_job()
    sc = Scenario("latency", [job])

    def write(sc: Scenario) -> None:
        seq = 0
        for seg in range(segments):
            seq = driver.commit_segment(sc, job, seq, seg)
            time.sleep(interval)
        driver.commit_segment(sc, job, seq, segments, final=True)

    driver.run(sc, [url], write)
    return sc


def fanout_scenario(driver: Driver, streams: int, segments: int, interval: float) -> Scenario:
    made = [driver.new_job() for _ in range(streams)]
    sc = Scenario("fanout", [j for j, _ in made])

    def write(sc: Scenario) -> None:
        # One writer thread per 25 jobs, each committing its jobs' segments round-robin.
        groups = [sc.jobs[i : i + 25] for i in range(0, len(sc.jobs), 25)]

        def writer(jobs: list[str]) -> None:
            seqs = dict.fromkeys(jobs, 0)
            for seg in range(segments + 1):
                for job in jobs:
                    seqs[job] = driver.commit_segment(sc, job, seqs[job], seg, final=seg == segments)
                time.sleep(interval)

        threads = [threading.Thread(target=writer, args=(g,)) for g in groups]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    driver.run(sc, [u for _, u in made], write)
    return sc


def quiet_scenario(driver: Driver, seconds: float) -> Scenario:
    from grabadora.settings import get_settings

    job, url = driver.new_job()
    sc = Scenario("quiet", [job])
    sc.idle_from_s = settled = get_settings().relay_idle_after_seconds + 1.0  # the idle back-off has begun

    def write(sc: Scenario) -> None:
        if seconds >= settled + 2.0:
            time.sleep(settled)
            t0, reads0 = time.perf_counter(), driver.stats()["total_reads"]
            time.sleep(seconds - settled)
            sc.idle_reads_per_min = per_minute(driver.stats()["total_reads"] - reads0, time.perf_counter() - t0)
        else:
            time.sleep(seconds)
        driver.commit_segment(sc, job, 0, 0, final=True)

    driver.run(sc, [url], write)
    return sc


def latencies(sc: Scenario) -> list[float]:
    return [r["t"] - sc.commits[(r["job"], r["seq"])] for r in sc.received if "seq" in r and (r["job"], r["seq"]) in sc.commits]


def lost(sc: Scenario) -> tuple[int, int, int]:
    """(events committed, events received exactly once, streams with an error)."""
    got = {(r["job"], r["seq"]) for r in sc.received if "seq" in r}
    dupes = sum(1 for r in sc.received if "seq" in r) - len(got)
    errors = sum(1 for r in sc.received if "error" in r)
    return len(sc.commits), len(got & set(sc.commits)) - dupes, errors


def report(lat: Scenario, fan: Scenario, quiet: Scenario, settings_line: str) -> list[str]:
    lines = ["## SSE relay (parts 3 and 6)", "", *machine_lines(), f"- command: `{command_line()}`", f"- {settings_line}", ""]
    lines += [
        "| scenario | streams | events committed | delivered | stream errors | p50 (ms) | p99 (ms) | max (ms) | relay reads / streamed min / stream | relay RSS per stream (KiB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for sc in (lat, fan, quiet):
        committed, delivered, errors = lost(sc)
        s = summary_ms(latencies(sc))
        rpm = per_minute(sc.reads, sc.streamed_s) / len(sc.jobs)
        rss = (sc.rss_connected_kib - sc.rss_before_kib) / len(sc.jobs) if sc.name == "fanout" else math.nan
        lines.append(
            f"| {sc.name} | {len(sc.jobs)} | {committed} | {delivered} | {errors} | {s['p50']:.0f} | {s['p99']:.0f} | {s['max']:.0f} "
            f"| {rpm:.0f} | {'' if math.isnan(rss) else f'{rss:.0f}'} |"
        )
    lines += [
        "",
        "Latency = client receipt (time.time() in the clients' process) − the driver's time.time() when the segment's "
        "`EventsTable.append` transaction returned; every event of a segment shares its commit time. "
        f"Streamed minutes: latency {lat.streamed_s:.1f} s, fanout {fan.streamed_s:.1f} s, quiet {quiet.streamed_s:.1f} s "
        f"(reads: {lat.reads}, {fan.reads}, {quiet.reads}). RSS of the relay: {fan.rss_before_kib / 1024:.0f} MiB before the "
        f"{len(fan.jobs)} streams, {fan.rss_connected_kib / 1024:.0f} MiB with all connected."
        + (
            f" Once quiet for {quiet.idle_from_s:.0f} s the stream read {quiet.idle_reads_per_min:.0f} times a minute."
            if not math.isnan(quiet.idle_reads_per_min)
            else ""
        ),
        targets_line(relay_targets(lat, fan, quiet)),
    ]
    return lines


def relay_targets(lat: Scenario, fan: Scenario, quiet: Scenario) -> list[Target]:
    """Parts 3 and 6. "Not hammering the table while a job is quiet" is judged as reading at
    most a tenth as often, once the stream has backed off, as while events flow."""
    ls = summary_ms(latencies(lat))
    fs = summary_ms(latencies(fan))
    committed, delivered, errors = lost(fan)
    n = len(latencies(lat))
    out = [
        at_most("relay p50 ≤ 50 ms", ls["p50"], 50, f"{ls['p50']:.0f} ms over {n:,} events"),
        at_most("relay p99 ≤ 250 ms", ls["p99"], 250, f"{ls['p99']:.0f} ms over {n:,} events"),
        Target(
            f"{len(fan.jobs)} concurrent streams, nothing lost",
            f"{delivered:,}/{committed:,} events, {errors} stream errors; p50 {fs['p50']:.0f} ms, p99 {fs['p99']:.0f} ms under that load",
            delivered == committed and errors == 0,
        ),
    ]
    if not math.isnan(quiet.idle_reads_per_min):
        active = per_minute(lat.reads, lat.streamed_s)
        out.append(
            at_most(
                "relay backs off while a job is quiet (≤ 1/10 of its active reads)",
                quiet.idle_reads_per_min,
                active / 10,
                f"{quiet.idle_reads_per_min:.0f} reads/min once quiet, {active:.0f} while events flow",
            )
        )
    return out


def _alternate(
    workdir: Path, endpoint: str, variants: dict[str, dict[str, str]], rounds: int, run: Callable[[str, str], Scenario]
) -> dict[str, list[Scenario]]:
    """One relay per variant (its settings as environment), then `rounds` rounds of
    `run(label, relay_url)` across the variants in turn; the relays are stopped afterwards."""
    relays = {}
    runs: dict[str, list[Scenario]] = {label: [] for label in variants}
    try:
        for i, (label, env) in enumerate(variants.items()):
            relays[label] = lone_relay(workdir, endpoint, **env)
            relays[label].name = f"relay-{i}-{uuid.uuid4().hex[:6]}"
            relays[label].log_path = workdir / f"{relays[label].name}.log"
            relays[label].start(health="/_bench/stats")
        for r in range(rounds):
            for label in variants:
                sc = run(label, relays[label].url)
                runs[label].append(sc)
                log(f"compare {label} round {r + 1}: {summary_ms(latencies(sc))}, reads {sc.reads} in {sc.streamed_s:.1f} s")
    finally:
        for relay in relays.values():
            relay.stop()
    return runs


def _pooled(runs: list[Scenario]) -> tuple[list[float], float]:
    """Every run's latencies together, and the relay's reads per streamed minute over all runs."""
    lat = [x for sc in runs for x in latencies(sc)]
    return lat, per_minute(sum(sc.reads for sc in runs), sum(sc.streamed_s for sc in runs))


def compare_poll(workdir: Path, endpoint: str, variants: list[str], rounds: int, interval: float) -> list[str]:
    """The latency scenario (≈500 events a run) on one relay per poll setting, alternated."""
    envs = {}
    for v in variants:
        low, high = v.split(":")
        envs[v] = {"GRABADORA_RELAY_POLL_MIN_SECONDS": low, "GRABADORA_RELAY_POLL_MAX_SECONDS": high}
    runs = _alternate(workdir, endpoint, envs, rounds, lambda _, url: latency_scenario(Driver(url, workdir), 46, interval))
    out = [
        "",
        f"Poll settings side by side (latency scenario, ≈500 events a run, {rounds} run(s) each, alternated; pooled events):",
        "",
        "| poll min → max (ms) | events | p50 (ms) | p99 (ms) | reads / streamed min (active job) |",
        "|---|---|---|---|---|",
    ]
    for v in variants:
        low, high = (float(x) * 1000 for x in v.split(":"))
        lat, rpm = _pooled(runs[v])
        out.append(f"| {low:.0f} → {high:.0f} | {len(lat)} | {percentile(lat, 50) * 1000:.0f} | {percentile(lat, 99) * 1000:.0f} | {rpm:.0f} |")
    return out


# The poll each deployment shape runs with: infra_cdk/stream.py (and docker-compose.yml) for a
# relay whose writer is another process; grabadora/local/stack.py for `grabadora dev`, whose
# worker commits in the relay's process and rings its doorbell.
AWS_POLL = {"GRABADORA_RELAY_POLL_MIN_SECONDS": "0.015", "GRABADORA_RELAY_POLL_MAX_SECONDS": "0.03"}
DEV_POLL = {"GRABADORA_RELAY_POLL_MIN_SECONDS": "0.25", "GRABADORA_RELAY_POLL_MAX_SECONDS": "1.0"}


def _ms_range(poll: dict[str, str]) -> str:
    low, high = (float(poll[f"GRABADORA_RELAY_POLL_{end}_SECONDS"]) * 1000 for end in ("MIN", "MAX"))
    return f"{low:.0f} → {high:.0f} ms"


def compare_writer(workdir: Path, endpoint: str, rounds: int, interval: float) -> list[str]:
    """The latency scenario in both shapes as shipped, alternated: commits from another process
    to a relay polling at AWS_POLL (AWS, compose), and commits in the relay's own process to a
    relay polling at DEV_POLL whose doorbell they ring (grabadora dev)."""
    aws = f"AWS / compose: writer in another process, poll {_ms_range(AWS_POLL)}"
    dev = f"grabadora dev: writer in the relay's process (doorbell), poll {_ms_range(DEV_POLL)}"
    writers = {aws: "separate", dev: "relay"}
    runs = _alternate(
        workdir, endpoint, {aws: AWS_POLL, dev: DEV_POLL}, rounds,
        lambda label, url: latency_scenario(Driver(url, workdir, writers[label]), 46, interval),
    )  # fmt: skip
    out = [
        "",
        f"Both shapes as shipped, side by side (latency scenario, ≈500 events a run, {rounds} run(s) each, alternated; pooled):",
        "",
        "| shape | events | p50 (ms) | p99 (ms) | max (ms) | reads / streamed min (active job) |",
        "|---|---|---|---|---|---|",
    ]
    for label in writers:
        lat, rpm = _pooled(runs[label])
        out.append(
            f"| {label} | {len(lat)} | {percentile(lat, 50) * 1000:.0f} | {percentile(lat, 99) * 1000:.0f} | {max(lat) * 1000:.0f} "
            f"| {rpm:.0f} |"
        )
    return out


def compare_idle(workdir: Path, endpoint: str, quiet_s: float, rounds: int) -> list[str]:
    """The quiet scenario on a relay with the idle back-off (defaults) and one without, alternated
    (both at the AWS poll)."""
    variants = {
        "with idle back-off (default)": dict(AWS_POLL),
        "without (min → max only)": {**AWS_POLL, "GRABADORA_RELAY_IDLE_AFTER_SECONDS": "1000000"},
    }
    runs = _alternate(workdir, endpoint, variants, rounds, lambda _, url: quiet_scenario(Driver(url, workdir), quiet_s))
    out = [
        "",
        f"Quiet job ({quiet_s:.0f} s without events, then `completed`), {rounds} run(s) each, alternated:",
        "",
        "| relay | reads / quiet min | `completed` latency p50 (ms) |",
        "|---|---|---|",
    ]
    for v in variants:
        lat, rpm = _pooled(runs[v])
        out.append(f"| {v} | {rpm:.0f} | {percentile(lat, 50) * 1000:.0f} |")
    return out


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--clients":
        asyncio.run(_clients_main(Path(sys.argv[2]), Path(sys.argv[3])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter: 50 streams, 15 s quiet (latency still ≥ 1,000 events)")
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--quiet-seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between a job's segments")
    parser.add_argument(
        "--compare-poll",
        default="0.025:0.05,0.015:0.03",
        help="poll min:max variants (seconds) whose latency runs alternate on relays of their own ('' to skip)",
    )
    parser.add_argument("--compare-rounds", type=int, default=2)
    parser.add_argument("--no-compare-idle", action="store_true", help="skip the quiet job with and without the idle back-off")
    parser.add_argument("--no-compare-writer", action="store_true", help="skip the AWS and grabadora dev shapes side by side")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--targets", type=Path, default=None, help="also write the targets' verdicts here (JSON, for run_all.py)")
    args = parser.parse_args(argv)
    streams = 50 if args.quick else args.streams
    quiet_s = 15.0 if args.quick else args.quiet_seconds
    segments = math.ceil(1000 / (WORDS_PER_SEGMENT + 1))

    workdir = Path(tempfile.mkdtemp(prefix="grabadora-bench-relay-"))
    stack, endpoint = dev_stack(workdir)
    relay = None
    ok = False
    try:
        log(f"starting grabadora dev --no-worker (logs in {workdir}) ...")
        stack.start()
        # The main scenarios run the relay as deployed on AWS: its writer is another process.
        relay = lone_relay(workdir, endpoint, **AWS_POLL)
        relay.start(health="/_bench/stats")
        s = use_endpoint(endpoint)
        settings_line = (
            f"relay settings (as deployed by infra_cdk/stream.py): poll {_ms_range(AWS_POLL)}, idle after {s.relay_idle_after_seconds:.0f} s"
            f" → {s.relay_poll_idle_seconds * 1000:.0f} ms; writer: the driver, another process"
        )
        driver = Driver(relay.url, workdir)
        log(f"latency: 1 stream, {segments} segments of {WORDS_PER_SEGMENT + 1} events every {args.interval} s ...")
        lat = latency_scenario(driver, segments, args.interval)
        log(f"  p50/p99 {summary_ms(latencies(lat))}")
        log(f"fanout: {streams} streams, 2 segments + completed each ...")
        fan = fanout_scenario(driver, streams, 2, args.interval)
        log(f"  {lost(fan)} p50/p99 {summary_ms(latencies(fan))}")
        log(f"quiet: 1 stream, {quiet_s:.0f} s without events ...")
        quiet = quiet_scenario(driver, quiet_s)
        log(f"  reads {quiet.reads} in {quiet.streamed_s:.1f} s")
        lines = report(lat, fan, quiet, settings_line)
        write_targets(args.targets, relay_targets(lat, fan, quiet))
        variants = [v for v in args.compare_poll.split(",") if v]
        if variants:
            lines += compare_poll(workdir, endpoint, variants, 1 if args.quick else args.compare_rounds, args.interval)
        if not args.no_compare_writer:
            lines += compare_writer(workdir, endpoint, 1 if args.quick else args.compare_rounds, args.interval)
        if not args.no_compare_idle:
            lines += compare_idle(workdir, endpoint, quiet_s, 1 if args.quick else args.compare_rounds)
        markdown = "\n".join(lines)
        ok = True
    finally:
        if relay is not None:
            relay.stop()
        stack.stop()
        if not ok:
            for svc in (stack, relay):
                if svc is not None:
                    log(f"--- {svc.name} ---\n{svc.log_tail()}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(markdown)
    if args.output:
        args.output.write_text(markdown + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
