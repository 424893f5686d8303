"""The embedded AWS emulator over real HTTP, the API + relay under uvicorn, and a tiny.en worker."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from functions.common.deps import reset_dependencies
from grabadora import aws
from grabadora.client import GrabadoraClient
from grabadora.local.emulator import Emulator, use_emulator_credentials
from grabadora.local.provision import provision
from grabadora.resources import build_resources
from grabadora.settings import get_settings



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """moto's server on 127.0.0.1, with the project's resources provisioned."""
    saved = dict(os.environ)
    use_emulator_credentials()
    emulator = Emulator("127.0.0.1", 0)
    url = emulator.start()
    # moto's state is per process: start from empty whatever an earlier tier left in it.
    httpx.post(f"{url}/moto-api/reset", timeout=30).raise_for_status()
    os.environ.update(
        {
            "GRABADORA_AWS_ENDPOINT_URL": url,
            "GRABADORA_WHISPER_MODEL": "tiny.en",
            "GRABADORA_VISIBILITY_TIMEOUT_SECONDS": "30",
            "GRABADORA_HEARTBEAT_SECONDS": "1",
        }
    )
    get_settings.cache_clear()
    aws.reset_clients()
    reset_dependencies()
    settings = get_settings()
    provision(build_resources(settings), settings.region)
    yield url
    emulator.stop()
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()
    aws.reset_clients()


@pytest.fixture(scope="session")
def api_url(aws_endpoint: str) -> Iterator[str]:
    """The local app (API + SSE relay) served by uvicorn on a free loopback port."""
    from grabadora.local.server import create_local_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_local_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def transcriber(aws_endpoint: str):
    from gpu_container.transcriber import Transcriber

    transcriber = Transcriber("tiny.en", "cpu")
    transcriber.load()
    return transcriber


@pytest.fixture(scope="session")
def worker(aws_endpoint: str, transcriber):
    """A worker on the jobs queue; tests drive it one message at a time with `drain`."""
    from gpu_container.worker import build_worker

    w = build_worker(get_settings())
    w.transcriber = transcriber
    w.wait_seconds = 1
    yield w
    if w.ports.publisher is not None:
        w.ports.publisher.close()  # its IoT publishes end before the emulator does


def drain(worker, max_polls: int = 10) -> None:
    """Handle messages until the queue has nothing visible.

    With nothing waiting or in flight (the jobs queue sends no delayed message), no message can
    turn up during a long poll, so none is made: each drain ended with an empty 1 s poll."""
    for _ in range(max_polls):
        if worker.queue.depth() == 0 or not worker.poll_once():
            return
    raise AssertionError("queue did not drain")


def new_user(api_url: str) -> GrabadoraClient:
    client = GrabadoraClient(api_url)
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    client.signup(email, "correct horse battery")
    client.sign_in(email, "correct horse battery")
    return client


@pytest.fixture
def client(api_url: str) -> Iterator[GrabadoraClient]:
    with new_user(api_url) as c:
        yield c


@pytest.fixture
def other_client(api_url: str) -> Iterator[GrabadoraClient]:
    with new_user(api_url) as c:
        yield c
