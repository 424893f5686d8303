"""`grabadora dev`: resources, worker and server in one process, the emulator in a child of it.

The emulator (moto and its snapshots) runs in `grabadora.local.emulator_process`: a snapshot
forks the process it runs in, and this one runs native thread pools (faster-whisper's, numpy's)
that make forking it unsafe. Ctrl-C stops it all, the emulator last.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path

import uvicorn

from grabadora import aws
from grabadora.local.emulator import use_emulator_credentials
from grabadora.local.emulator_process import EmulatorProcess, EmulatorStartError
from grabadora.local.provision import provision
from grabadora.process import freeze_startup_objects
from grabadora.resources import build_resources
from grabadora.settings import get_settings

logger = logging.getLogger("grabadora.dev")

_TOKEN_IN_URL = re.compile(r"(token=)[^&\s\"]+")
_SHARE_IN_PATH = re.compile(r"(/(?:shared|compartido)/)[A-Za-z0-9_-]+")


class RedactTokens(logging.Filter):
    """Stream URLs carry a token in the query, share links one in the path; access logs must not."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping):
            record.args = {k: _redact(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_redact(a) for a in record.args)
        return True


def _redact(value: object) -> object:
    if not isinstance(value, str):
        return value
    return _SHARE_IN_PATH.sub(r"\1[redacted]", _TOKEN_IN_URL.sub(r"\1[redacted]", value))


def embedded_emulator_defaults() -> None:
    """Settings for a stack on the embedded emulator, unless the user set them.

    moto takes iot-data publishes but has no broker: nobody can subscribe to the topic here,
    while each event's publish is an emulator request (~190 per 70 s job; 1.14x -> 1.09x of
    faster-whisper's time side by side when the emulator ran in this process,
    docs/BENCHMARKS.md). The integration tests cover publishing; GRABADORA_IOT_PUBLISH=true
    turns it on.
    """
    os.environ.setdefault("GRABADORA_IOT_PUBLISH", "false")


class DevStack:
    def __init__(self, *, port: int | None = None, with_worker: bool = True, model: str | None = None) -> None:
        if port is not None:
            os.environ["GRABADORA_PORT"] = str(port)
        if model is not None:
            os.environ["GRABADORA_WHISPER_MODEL"] = model
        # A short long-poll lets Ctrl-C stop the worker promptly; SQS still wakes it at once.
        os.environ.setdefault("GRABADORA_SQS_WAIT_SECONDS", "2")
        if with_worker:
            # The worker commits in this process, so each commit wakes the relay's streams at
            # once (grabadora/adapters/doorbell.py) and polling is only the fallback for a
            # writer elsewhere: it polls slowly and leaves the two cores to decoding
            # (side by side on the 70 s file: 1.14x -> 1.07x, docs/BENCHMARKS.md).
            os.environ.setdefault("GRABADORA_RELAY_POLL_MIN_SECONDS", "0.25")
            os.environ.setdefault("GRABADORA_RELAY_POLL_MAX_SECONDS", "1.0")
        get_settings.cache_clear()
        self.with_worker = with_worker
        self.emulator: EmulatorProcess | None = None
        self._stop = threading.Event()
        self._worker_thread: threading.Thread | None = None
        self._exporter_thread: threading.Thread | None = None

    def launch_emulator(self) -> None:
        """Start the emulator's process, unless an AWS endpoint is configured; returns at once."""
        settings = get_settings()
        if settings.aws_endpoint_url is None and self.emulator is None:
            use_emulator_credentials()
            self.emulator = EmulatorProcess(
                "127.0.0.1", settings.emulator_port, Path(settings.data_dir).expanduser() / "emulator"
            )
            self.emulator.launch()

    def start_backend(self) -> str:
        """Start (or reach) the AWS endpoint and provision; returns the endpoint URL."""
        self.launch_emulator()
        endpoint = get_settings().aws_endpoint_url
        if endpoint is None:
            assert self.emulator is not None
            # The emulator answers once it has loaded the last snapshot; provisioning then finds
            # the tables, queues and bucket there and keeps them.
            endpoint = self.emulator.wait_ready()
            os.environ["GRABADORA_AWS_ENDPOINT_URL"] = endpoint
            embedded_emulator_defaults()
            get_settings.cache_clear()
            aws.reset_clients()
        settings = get_settings()
        provision(build_resources(settings), settings.region)
        return endpoint

    def start_worker(self) -> None:
        from gpu_container.worker import build_worker, warm_up

        worker = build_worker(get_settings())
        seconds = warm_up(worker)
        logger.info("worker ready: model %s loaded in %.1fs", get_settings().whisper_model, seconds)
        self._worker_thread = threading.Thread(target=worker.run, args=(self._stop,), name="worker", daemon=True)
        self._worker_thread.start()

    def start_exporter(self) -> None:
        """What Lambda's SQS event source mapping does on AWS: exports queue → exporter handler."""
        from grabadora.local.exporter_runner import ExporterRunner

        self._exporter_thread = threading.Thread(target=ExporterRunner(self._stop).run, name="exporter", daemon=True)
        self._exporter_thread.start()

    def serve(self) -> None:
        """Run until Ctrl-C, then stop the worker and the emulator."""
        settings = get_settings()
        # The emulator's process starts first (before this process loads any native library)
        # and comes up while this one imports the apps and the worker.
        self.launch_emulator()
        try:
            from grabadora.local.server import create_local_app

            if self.with_worker:
                import gpu_container.worker  # noqa: F401 - faster-whisper's imports, meanwhile
            try:
                endpoint = self.start_backend()
            except EmulatorStartError as e:
                raise SystemExit(f"grabadora dev: {e}") from None
            if self.with_worker:
                self.start_worker()
            self.start_exporter()
            config = uvicorn.Config(
                create_local_app(),
                host=settings.host,
                port=settings.port,
                log_level="info",
                timeout_graceful_shutdown=3,
            )
            server = uvicorn.Server(config)
            logging.getLogger("uvicorn.access").addFilter(RedactTokens())
            # With or without a worker: the apps and what provisioning loaded (boto3's service
            # models) live as long as the process, so full collections skip them.
            freeze_startup_objects()
            print(f"Grabadora is running at http://{settings.host}:{settings.port}  (API docs: /docs)", flush=True)
            print(f"AWS endpoint: {endpoint}", flush=True)
            server.run()
        except KeyboardInterrupt:
            pass  # uvicorn re-raises the Ctrl-C it handled once it has shut down; we are done too
        finally:
            self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._worker_thread is not None:
            # A job in hand is left to SQS: its message reappears and a later worker resumes it.
            self._worker_thread.join(timeout=5)
        if self._exporter_thread is not None:
            self._exporter_thread.join(timeout=5)
        if self.emulator is not None:
            self.emulator.stop()  # its last snapshot, once nothing here writes any more
