"""The GPU worker's ECS service: a nudge that starts it when work arrives while it is scaled to zero.

On AWS the service scales 0..N on a queue-depth alarm (infra_cdk/worker.py). SQS sends its
metrics to CloudWatch once a minute, so without help the first job after an idle spell waits
one to three minutes (more after hours without traffic) before that alarm even asks for a task.
The API knows at once: when it enqueues onto a service at zero tasks it starts one itself.

Starting it is not enough. The scale-in side of the same step policy (depth < 0.5 → the
minimum) is an Auto Scaling alarm action, which CloudWatch invokes again every minute the alarm
stays in ALARM; until the queued message shows in the lagging SQS metrics it would set the
service back to zero. So the nudge also holds the scalable target's minimum at one and schedules
its release `hold_seconds` later, by when the metrics carry the job and the policy keeps the task.

Locally the worker always runs: there is no service to nudge (`NoWorkerNudge`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Protocol

from grabadora import aws
from grabadora.adapters._errors import translating
from grabadora.settings import IntakeSettings

logger = logging.getLogger(__name__)

__all__ = ["NoWorkerNudge", "WorkerNudge", "WorkerService", "worker_nudge"]


class WorkerNudge(Protocol):
    def nudge(self) -> bool:
        """Start a worker if none is running or starting; True when this call started one."""
        ...


class NoWorkerNudge:
    """Where the worker runs all the time (the local stack) or there is no service to start."""

    def nudge(self) -> bool:
        return False


class WorkerService:
    """One ECS service whose desired count is managed by Application Auto Scaling."""

    def __init__(
        self,
        cluster: str,
        service: str,
        *,
        min_tasks: int = 0,
        hold_seconds: int = 300,
        recheck_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cluster, self._service = cluster, service
        self._min_tasks, self._hold = min_tasks, hold_seconds
        self._recheck, self._clock = recheck_seconds, clock
        self._busy_until = float("-inf")
        self._lock = threading.Lock()

    @property
    def resource_id(self) -> str:
        """The service as Application Auto Scaling names it."""
        return f"service/{self._cluster}/{self._service}"

    def nudge(self) -> bool:
        """Start one task if the service has none desired, running or pending.

        Holds the scaling minimum at one for `hold_seconds` (released by a scheduled action, so
        nothing has to call back), then sets the desired count, which ECS acts on at once.
        """
        if self._clock() < self._busy_until:
            return False
        with translating("read the worker service"):
            services = aws.client("ecs").describe_services(cluster=self._cluster, services=[self._service])["services"]
        if not services:
            return False
        state = services[0]
        if state.get("desiredCount", 0) or state.get("runningCount", 0) or state.get("pendingCount", 0):
            with self._lock:
                self._busy_until = self._clock() + self._recheck
            return False
        target = {"ServiceNamespace": "ecs", "ResourceId": self.resource_id, "ScalableDimension": "ecs:service:DesiredCount"}
        release = datetime.now(timezone.utc) + timedelta(seconds=self._hold)
        with translating("hold the worker service's minimum"):
            scaling = aws.client("application-autoscaling")
            scaling.register_scalable_target(**target, MinCapacity=max(1, self._min_tasks))
            scaling.put_scheduled_action(
                **target,
                ScheduledActionName=f"{self._service}-nudge-release",
                Schedule=f"at({release:%Y-%m-%dT%H:%M:%S})",
                ScalableTargetAction={"MinCapacity": self._min_tasks},
            )
        with translating("start the worker service"):
            aws.client("ecs").update_service(cluster=self._cluster, service=self._service, desiredCount=max(1, self._min_tasks))
        with self._lock:
            self._busy_until = self._clock() + self._recheck
        logger.info("worker service nudged", extra={"service": self.resource_id, "hold_seconds": self._hold})
        return True


def worker_nudge(settings: IntakeSettings) -> WorkerNudge:
    """The nudge for this process: the ECS service when one is configured, else none."""
    if settings.worker_cluster and settings.worker_service:
        return WorkerService(
            settings.worker_cluster, settings.worker_service, min_tasks=settings.worker_min_tasks,
            hold_seconds=settings.worker_nudge_hold_seconds, recheck_seconds=settings.worker_nudge_recheck_seconds,
        )
    return NoWorkerNudge()
