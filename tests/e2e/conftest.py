"""The whole local stack as a user starts it: `grabadora dev` in its own process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from grabadora.client import GrabadoraClient
from tests.integration.conftest import free_port

BIN = Path(sys.executable).parent


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without Grabadora or AWS settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRABADORA_", "AWS_"))}
    env.update(extra)
    return env


@dataclass
class Stack:
    url: str
    aws_endpoint: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)

    def start_worker(self) -> subprocess.Popen:
        """A separate `grabadora worker` process on the stack's emulator."""
        env = {
            **self.env,
            "GRABADORA_AWS_ENDPOINT_URL": self.aws_endpoint,
            "AWS_ACCESS_KEY_ID": "grabadora-local",
            "AWS_SECRET_ACCESS_KEY": "grabadora-local",
        }
        log = open(self.log.with_suffix(f".worker{len(self.workers)}.log"), "w")
        worker = subprocess.Popen([str(BIN / "grabadora"), "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(worker)
        return worker

    def client(self) -> GrabadoraClient:
        client = GrabadoraClient(self.url)
        email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
        client.signup(email, "una clave muy larga")
        client.sign_in(email, "una clave muy larga")
        return client


def start_stack(tmp: Path, model: str, *extra_args: str, **env_extra: str) -> Stack:
    port, emulator_port = free_port(), free_port()
    env = clean_env(
        GRABADORA_PORT=str(port),
        GRABADORA_EMULATOR_PORT=str(emulator_port),
        GRABADORA_WHISPER_MODEL=model,
        # Each stack keeps its data apart from the user's library and from other stacks'.
        **{"GRABADORA_DATA_DIR": str(tmp / "data"), **env_extra},
    )
    log = tmp / f"stack-{model}.log"
    process = subprocess.Popen(
        [str(BIN / "grabadora"), "dev", *extra_args], env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"grabadora dev exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"grabadora dev did not start: {log.read_text()[-3000:]}")
        time.sleep(0.2)
    return Stack(url, f"http://127.0.0.1:{emulator_port}", env, log, process)


def stop_stack(stack: Stack) -> None:
    for worker in stack.workers:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)
    stack.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    try:
        stack.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise AssertionError("grabadora dev did not stop on Ctrl-C")


# The two stacks are shared by every e2e module (package scope: started by the first test that
# asks, stopped after the last e2e test, before the next tier). Each test makes its own user, so
# nothing of one module's data is seen by another's; a module-scoped stack cost a start (model
# load, emulator, provisioning) and a stop per module. Idle, a stack takes about 3 % of a core.
@pytest.fixture(scope="package")
def tiny_stack(tmp_path_factory) -> Iterator[Stack]:
    # Webhook deliveries to a receiver on loopback are allowed on this stack (off by default).
    stack = start_stack(tmp_path_factory.mktemp("tiny"), "tiny.en", GRABADORA_WEBHOOK_ALLOW_PRIVATE="true")
    yield stack
    stop_stack(stack)
    assert stack.process.returncode == 0, stack.log.read_text()[-2000:]


@pytest.fixture(scope="package")
def base_stack(tmp_path_factory) -> Iterator[Stack]:
    """The default model, with the worker in its own process so a test can kill it.

    Its workers long-poll for 2 s, as `grabadora dev`'s own worker does, instead of the
    container's 20 s: a worker stops (SIGTERM) only once its poll returns, and stopping the
    stack waited up to 20 s per worker."""
    stack = start_stack(
        tmp_path_factory.mktemp("base"), "base", "--no-worker",
        GRABADORA_VISIBILITY_TIMEOUT_SECONDS="6", GRABADORA_SQS_WAIT_SECONDS="2",
    )
    stack.start_worker()
    yield stack
    stop_stack(stack)


@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[object]:
    """One Playwright driver for the e2e tier: its sync API allows one at a time in a thread, so
    every Chromium here is launched from it (a driver and a browser per module cost ~2.5 s each)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def web_app_chromium(playwright_driver) -> Iterator[object]:
    """Chromium with test_web_app.py's flags, shared by the modules that use its `browser`: each
    test opens its own context (cookies, storage, permissions and downloads are per context)."""
    from tests.e2e.test_web_app import ARGS, CHROMIUM

    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
    yield chromium
    chromium.close()
