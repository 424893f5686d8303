"""The reliability stack: every part in its own process, over real HTTP on loopback.

- moto's server alone (`tests/reliability/_emulator.py`), so the API can die and come back
  while the data stays, as on AWS;
- `grabadora dev --no-worker` (API + SSE relay + exporter) straight on the emulator;
- `grabadora worker` processes reaching the emulator through a TCP proxy in this process that
  a test can cut, to make AWS "briefly unreachable" for the worker only.

Every process's stdout/stderr goes to a log file under one folder; `test_logs_hold_no_secret`
(run last) reads them all. `GRABADORA_RELIABILITY_LONG=1` turns on the long variants.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from grabadora.client import GrabadoraClient
from tests.e2e.conftest import BIN, clean_env
from tests.integration.conftest import free_port

LONG = os.environ.get("GRABADORA_RELIABILITY_LONG") == "1"
REPO = Path(__file__).resolve().parents[2]
PASSWORD = "una clave de prueba bastante larga"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "grabadora-local", "AWS_SECRET_ACCESS_KEY": "grabadora-local"}

# What the whole run counts, for the report printed at the end (see pytest_terminal_summary).
COUNTS: dict[str, int] = {}


def count(name: str, n: int = 1) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + n


class Proxy:
    """A loopback TCP proxy; `cut()` resets every connection and refuses new ones until `restore()`.

    `refused` counts the connections turned away while cut. `close()` stops it and joins every
    thread it started, so none outlives the reliability tier.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._down = threading.Event()
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        self.refused = 0
        self._start(self._accept, name="proxy-accept")

    def _start(self, target: Any, *args: Any, name: str) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=name)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._closed or self._down.is_set():
                self.refused += 1
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                self._start(self._pipe, a, b, name="proxy-pipe")

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with self._lock:
                    self._conns.discard(s)
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def cut(self) -> None:
        self._down.set()
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for s in conns:
            _reset(s)

    def restore(self) -> None:
        self._down.clear()

    def close(self) -> None:
        self._closed = True
        self.cut()
        # Closing a socket does not wake a thread blocked in accept() on it; shutdown does.
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=10)
        alive = [t.name for t in threads if t.is_alive()]
        assert not alive, f"proxy threads still running after close: {alive}"


def _reset(s: socket.socket) -> None:
    """Close with a reset (RST), waking a thread of ours blocked reading it."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.shutdown(socket.SHUT_RD)  # recv() returns at once; no FIN is sent
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"process exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"did not start: {log.read_text()[-3000:]}")
        time.sleep(0.1)


@dataclass
class ReliabilityStack:
    logs: Path
    env: dict[str, str]
    emulator_url: str
    emulator: subprocess.Popen
    proxy: Proxy
    api_port: int
    api: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)  # every token, key and password handed out
    _n: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    # Processes ------------------------------------------------------------------------------

    def start_api(self) -> None:
        log = self.logs / "api.log"
        self.api = subprocess.Popen(
            [str(BIN / "grabadora"), "dev", "--no-worker"],
            env=self.env, stdout=open(log, "a"), stderr=subprocess.STDOUT, cwd=REPO,
        )
        _wait_healthy(self.url, self.api, log)

    def kill_api(self) -> None:
        assert self.api is not None
        self.api.send_signal(signal.SIGKILL)
        self.api.wait(timeout=30)

    def start_worker(self, crash_at: str | None = None, **env: str) -> subprocess.Popen:
        """A `grabadora worker` reaching AWS through the proxy; `crash_at`: a crash_hooks point."""
        self._n += 1
        worker_env = {**self.env, "GRABADORA_AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.proxy.port}", **env}
        if crash_at:
            worker_env["GRABADORA_TEST_CRASH_AT"] = crash_at
        log = self.logs / f"worker{self._n}-{crash_at or 'ok'}.log"
        worker = subprocess.Popen(
            [str(BIN / "grabadora"), "worker"], env=worker_env, stdout=open(log, "w"), stderr=subprocess.STDOUT, cwd=REPO
        )
        worker.log = log  # type: ignore[attr-defined]
        self.workers.append(worker)
        return worker

    def wait_ready(self, worker: subprocess.Popen, seconds: float = 90) -> None:
        """Until the worker has loaded its model and polls."""
        deadline = time.monotonic() + seconds
        while "worker polling" not in worker.log.read_text():  # type: ignore[attr-defined]
            if worker.poll() is not None:
                raise RuntimeError(f"worker exited early: {worker.log.read_text()[-2000:]}")  # type: ignore[attr-defined]
            if time.monotonic() > deadline:
                raise RuntimeError("worker did not start")
            time.sleep(0.1)

    def stop_workers(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.terminate()
        for worker in self.workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        self.workers = []

    def ensure_worker(self) -> subprocess.Popen:
        """One healthy, non-crashing worker running (started if none is)."""
        for worker in self.workers:
            if worker.poll() is None and "ok.log" in str(worker.log):  # type: ignore[attr-defined]
                return worker
        worker = self.start_worker()
        self.wait_ready(worker)
        return worker

    # Clients --------------------------------------------------------------------------------

    def client(self) -> GrabadoraClient:
        """A new signed-in user."""
        client = GrabadoraClient(self.url, timeout=60)
        email = f"rel-{uuid.uuid4().hex[:10]}@example.com"
        client.signup(email, PASSWORD)
        client.sign_in(email, PASSWORD)
        client.email = email  # type: ignore[attr-defined]
        self.secrets.update({PASSWORD, client.token})
        return client

    def remember(self, *secrets: str) -> None:
        """Secrets the logs must not show; for a URL, the token in its query."""
        for s in secrets:
            if s and "token=" in s:
                s = s.split("token=", 1)[1].split("&")[0]
            if s:
                self.secrets.add(s)

    def aws(self, service: str) -> Any:
        """A boto3 client straight on the emulator, for looking at what the stack stored."""
        return boto3.client(
            service, endpoint_url=self.emulator_url, region_name="us-east-1",
            aws_access_key_id="grabadora-local", aws_secret_access_key="grabadora-local",
        )

    def queue_url(self, name: str = "grabadora-jobs") -> str:
        return self.aws("sqs").get_queue_url(QueueName=name)["QueueUrl"]

    def item(self, user_id: str, job_id: str) -> dict:
        from grabadora.adapters.dynamo import deserialize

        response = self.aws("dynamodb").get_item(
            TableName="grabadora-transcripts",
            Key={"user_id": {"S": user_id}, "transcript_id": {"S": job_id}},
            ConsistentRead=True,
        )
        return deserialize(response["Item"]) if "Item" in response else {}


def user_id_of(client: GrabadoraClient) -> str:
    import jwt

    return jwt.decode(client.token, options={"verify_signature": False})["sub"]


def start_emulator(logs: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = logs / "emulator.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability._emulator", str(port)],
        env=clean_env(**CREDENTIALS), stdout=open(log, "w"), stderr=subprocess.STDOUT, cwd=REPO,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(log.read_text()[-2000:])
        try:
            httpx.get(url, timeout=1)
            return process, url
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise RuntimeError("emulator did not start") from None
            time.sleep(0.1)


@pytest.fixture(scope="package")
def stack(tmp_path_factory) -> Iterator[ReliabilityStack]:
    """The stack, for the reliability tier only: torn down (processes ended, proxy joined) when
    its last test is done, not at the end of a run that goes on to other tiers."""
    logs = tmp_path_factory.mktemp("reliability-logs")
    emulator, emulator_url = start_emulator(logs)
    proxy = Proxy(int(emulator_url.rsplit(":", 1)[1]))
    env = clean_env(
        **CREDENTIALS,
        GRABADORA_AWS_ENDPOINT_URL=emulator_url,
        GRABADORA_PORT=str(free_port()),
        GRABADORA_WHISPER_MODEL="tiny.en",
        GRABADORA_CPU_THREADS="1",
        GRABADORA_VISIBILITY_TIMEOUT_SECONDS="4",
        GRABADORA_MAX_RECEIVES="5",
        GRABADORA_SQS_WAIT_SECONDS="1",
        GRABADORA_MAX_UPLOAD_MB="2",  # small enough to send a body over it (test_security)
        GRABADORA_HEARTBEAT_SECONDS="2",
        GRABADORA_LOGIN_MAX_FAILURES_PER_EMAIL="4",
        GRABADORA_LOGIN_MAX_FAILURES_PER_IP="12",
        GRABADORA_LOGIN_WINDOW_SECONDS="10",
        GRABADORA_WEBHOOK_ALLOW_PRIVATE="true",
        PYTHONUNBUFFERED="1",
    )
    s = ReliabilityStack(logs, env, emulator_url, emulator, proxy, int(env["GRABADORA_PORT"]))
    try:
        s.start_api()
        yield s
    finally:
        s.stop_workers()
        if s.api is not None and s.api.poll() is None:
            s.api.send_signal(signal.SIGINT)
            try:
                s.api.wait(timeout=30)
            except subprocess.TimeoutExpired:
                s.api.kill()
        proxy.close()
        emulator.terminate()
        emulator.wait(timeout=30)


@pytest.fixture(scope="package")
def worker(stack: ReliabilityStack) -> subprocess.Popen:
    return stack.ensure_worker()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The log audit runs after every other reliability test has written its logs, and still
    within the tier, so the stack it reads is torn down once, before the next tier."""
    here = Path(__file__).parent
    ours = [i for i in items if Path(str(i.fspath)).is_relative_to(here)]
    last = [i for i in ours if i.name == "test_logs_hold_no_secret"]
    if not last or not ours:
        return
    for item in last:
        items.remove(item)
    end = items.index([i for i in ours if i not in last][-1]) + 1 if len(ours) > len(last) else len(items)
    items[end:end] = last


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # noqa: ANN001
    if COUNTS:
        terminalreporter.section("reliability counts")
        for name, n in sorted(COUNTS.items()):
            terminalreporter.write_line(f"{name}: {n}")
