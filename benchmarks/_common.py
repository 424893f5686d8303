"""Helpers shared by the benchmarks: statistics, the machine, and starting local processes.

The statistics here are pure (tests/unit/test_bench_stats.py covers them); the process helpers
start `grabadora dev` or a lone relay in their own session so only we ever signal them.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from grabadora.settings import DevSettings

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
AUDIO_DIR = Path(os.environ.get("GRABADORA_BENCH_AUDIO", "/work/shared/audio"))
# Every process of one benchmark signs and checks tokens with the same key.
JWT_SECRET = "grabadora-bench-secret-key-not-for-production-use-0123456789"


# --- statistics -------------------------------------------------------------------------------


def percentile(values: Iterable[float], p: float) -> float:
    """The p-th percentile (0..100) by linear interpolation between closest ranks (numpy's default).

    NaN for no values.
    """
    data = sorted(values)
    if not data:
        return math.nan
    if not 0 <= p <= 100:
        raise ValueError("p must be between 0 and 100")
    rank = (len(data) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (rank - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """count, p50, p99 and max of durations given in seconds, in milliseconds."""
    return {
        "n": len(seconds),
        "p50": percentile(seconds, 50) * 1000,
        "p99": percentile(seconds, 99) * 1000,
        "max": (max(seconds) * 1000) if seconds else math.nan,
    }


def per_minute(count: int, seconds: float) -> float:
    """A count over `seconds` as a rate per minute (NaN when no time passed)."""
    return count * 60 / seconds if seconds > 0 else math.nan


# --- targets ----------------------------------------------------------------------------------


@dataclass
class Target:
    """One of the targets of issue 6 as a part measured it; `run_all.py` gathers every part's
    into the one table it prints first (each part writes its own with `--targets FILE`)."""

    target: str  # "relay p50 ≤ 50 ms"
    measured: str  # "24 ms over 1,002 events"
    met: bool

    @property
    def verdict(self) -> str:
        return "met" if self.met else "MISSED"

    def line(self) -> str:
        return f"{self.target}: {self.verdict} ({self.measured})"


def at_most(target: str, value: float, limit: float, measured: str) -> Target:
    return Target(target, measured, value <= limit)


def targets_line(targets: Sequence[Target]) -> str:
    """The part's own summary under its tables."""
    return "- targets: " + "; ".join(t.line() for t in targets)


def write_targets(path: Path | None, targets: Sequence[Target]) -> None:
    if path is not None:
        path.write_text(json.dumps([asdict(t) for t in targets], ensure_ascii=False, indent=1) + "\n")


def report(lines: Sequence[str], output: Path | None) -> None:
    """A part's report: to stdout, and to `output` when given."""
    text = "\n".join(lines)
    print(text)
    if output is not None:
        output.write_text(text + "\n")


def read_targets(path: Path) -> list[Target]:
    return [Target(**t) for t in json.loads(path.read_text())]


def targets_table(parts: Sequence[tuple[str, Sequence[Target]]]) -> list[str]:
    lines = ["| part | target | measured | verdict |", "|---|---|---|---|"]
    for part, targets in parts:
        lines += [f"| {part} | {t.target} | {t.measured} | {t.verdict} |" for t in targets]
    return lines


# --- machine and command ----------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


_ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni")


def cpu_description(cpuinfo: str | None = None) -> str:
    """The CPU's model name and the vector extensions CTranslate2's int8 kernels care about.

    The model name alone ("AMD EPYC") does not say which this shared machine has today, and
    CTranslate2's int8 speed (and, slightly, its results) depends on it, so every table names them.
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return "unknown"
    name, flags = "unknown", set()
    for line in cpuinfo.splitlines():
        if line.startswith("model name") and name == "unknown":
            name = line.split(":", 1)[1].strip()
        elif line.startswith("flags") and not flags:
            flags = set(line.split(":", 1)[1].split())
    has = [f for f in _ISA_FLAGS if f in flags]
    return f"{name} ({', '.join(has) or 'no avx2'}{'' if 'avx512f' in flags else '; no avx512'})"


def machine_lines() -> list[str]:
    cpu = cpu_description()
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    nproc = os.cpu_count()
    try:
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip())
    except (OSError, ValueError):
        pass
    return [
        f"- machine: nproc {nproc}, CPU {cpu}, load average at start {load} (shared machine)",
        f"- python {platform.python_version()}, date {time.strftime('%Y-%m-%d %H:%M %Z')}",
    ]


def command_line() -> str:
    python = sys.executable
    try:
        rel = os.path.relpath(python)
        if not rel.startswith(".."):
            python = rel
    except ValueError:
        pass
    return shlex.join([python, *sys.argv])


# --- processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without GRABADORA_/AWS_ settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRABADORA_", "AWS_"))}
    env["GRABADORA_JWT_SECRET_KEY"] = JWT_SECRET
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used so far, in seconds (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse_settings(spec: str) -> dict[str, str]:
    """`NAME=VALUE[,NAME=VALUE]` (a benchmark's --against) as a dict."""
    pairs = [part.split("=", 1) for part in spec.split(",") if part]
    if any(len(pair) != 2 or not pair[0] for pair in pairs):
        raise ValueError(f"--against: expected NAME=VALUE[,NAME=VALUE], got {spec!r}")
    return dict(pairs)  # type: ignore[arg-type]


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Service:
    """A subprocess serving HTTP on 127.0.0.1:port, in its own session; stopped with SIGINT."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, workdir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, health: str = "/healthz", timeout: float = 300) -> float:
        started = time.perf_counter()
        with open(self.log_path, "w") as out:
            # cwd: a scratch directory, so no stray .env changes the settings.
            self.process = subprocess.Popen(
                self.argv, env=self.env, cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(self.url + health, timeout=1).status_code < 500:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"{self.name} did not start in {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.2)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, timeout: float = 20) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"warning: {self.name} ignored SIGINT for {timeout:.0f} s; killing it")
            self.process.kill()
            return self.process.wait()

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def dev_stack(workdir: Path, *, worker: bool = False, model: str | None = None) -> tuple[Service, str]:
    """`grabadora dev` (emulator + API + relay [+ worker]) on free ports; returns it and the AWS endpoint."""
    port, emulator_port = free_port(), free_port()
    env = clean_env(
        GRABADORA_PORT=str(port), GRABADORA_EMULATOR_PORT=str(emulator_port), GRABADORA_DATA_DIR=str(workdir / "data")
    )
    argv = [str(BIN / "grabadora"), "dev"]
    if model:
        argv += ["--model", model]
        env["GRABADORA_WHISPER_MODEL"] = model
    if not worker:
        argv.append("--no-worker")
    return Service("stack", argv, env, port, workdir), f"http://127.0.0.1:{emulator_port}"


def lone_relay(workdir: Path, aws_endpoint: str, **settings: str) -> Service:
    """The SSE relay app alone under uvicorn (as the Lambda Web Adapter runs it), instrumented
    by benchmarks/_relay_app.py so it can report its DynamoDB reads."""
    port = free_port()
    env = clean_env(
        GRABADORA_AWS_ENDPOINT_URL=aws_endpoint,
        AWS_ACCESS_KEY_ID="grabadora-local",
        AWS_SECRET_ACCESS_KEY="grabadora-local",
        **settings,
    )
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", "benchmarks._relay_app:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    return Service("relay", argv, env, port, workdir)


def use_endpoint(aws_endpoint: str) -> DevSettings:
    """This process's settings for a benchmark's emulator (its endpoint, the benchmark's JWT key),
    installed with `use_settings` so the adapters (grabadora.aws) use them; returned too."""
    from grabadora.local.emulator import use_emulator_credentials
    from grabadora.settings import DevSettings, use_settings

    use_emulator_credentials()  # boto3's credential chain: the emulator's throwaway keys
    return use_settings(DevSettings(aws_endpoint_url=aws_endpoint, jwt_secret_key=JWT_SECRET))
