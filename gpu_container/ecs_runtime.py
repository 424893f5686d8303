"""What the worker does for its host on AWS: ECS scale-in protection.

A no-op off AWS (no `ECS_AGENT_URI`), and it may not fail a job: a protection call that goes
wrong is logged and forgotten. (Per-job metrics: grabadora/metrics.py, EMF lines on stdout.)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

logger = logging.getLogger(__name__)


class TaskProtection:
    """ECS task scale-in protection while a job runs, through the ECS agent's endpoint.

    The service scales in when the queue is empty; a task protected mid-job is not chosen, so
    a long transcription is not killed and redone. Protection expires by itself after
    `minutes`, so a worker that dies holding it does not pin an instance forever.
    """

    def __init__(self, minutes: int, agent_uri: str | None = None) -> None:
        self._minutes = minutes
        self._uri = agent_uri if agent_uri is not None else os.environ.get("ECS_AGENT_URI")

    @property
    def enabled(self) -> bool:
        return bool(self._uri)

    @contextmanager
    def held(self) -> Iterator[None]:
        self._set(True)
        try:
            yield
        finally:
            self._set(False)

    def _set(self, protected: bool) -> None:
        if not self._uri:
            return
        body = {"ProtectionEnabled": protected, **({"ExpiresInMinutes": self._minutes} if protected else {})}
        try:
            response = httpx.put(f"{self._uri}/task-protection/v1/state", json=body, timeout=5)
            response.raise_for_status()
        except httpx.HTTPError as e:
            logger.warning("could not %s task protection: %s", "take" if protected else "release", e)
