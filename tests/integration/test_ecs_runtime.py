"""The worker's AWS host duties over loopback HTTP: scale-in protection around a job, nothing off ECS."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from gpu_container.ecs_runtime import TaskProtection


@pytest.fixture
def agent() -> Iterator[tuple[str, list[tuple[str, dict]]]]:
    """A stand-in for the ECS agent's task-protection endpoint, recording requests."""
    seen: list[tuple[str, dict]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((self.path, body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/api/task", seen
    server.shutdown()


def test_protection_is_taken_for_the_job_and_released_even_when_it_fails(agent) -> None:
    uri, seen = agent
    protection = TaskProtection(minutes=90, agent_uri=uri)
    with pytest.raises(RuntimeError):
        with protection.held():
            assert seen == [("/api/task/task-protection/v1/state", {"ProtectionEnabled": True, "ExpiresInMinutes": 90})]
            raise RuntimeError("the job failed")
    assert seen[-1] == ("/api/task/task-protection/v1/state", {"ProtectionEnabled": False})


def test_off_ecs_or_with_the_agent_down_nothing_breaks() -> None:
    with TaskProtection(minutes=5, agent_uri="").held():
        pass
    with TaskProtection(minutes=5, agent_uri="http://127.0.0.1:9").held():  # nothing listens there
        pass
