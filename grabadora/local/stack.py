"""`grabadora dev`: emulator, resources, worker and server in one process; Ctrl-C stops it all."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path

import uvicorn

from grabadora import aws
from grabadora.local.emulator import Emulator, use_emulator_credentials
from grabadora.local.persistence import EmulatorPersistence
from grabadora.local.provision import provision
from grabadora.process import freeze_startup_objects
from grabadora.resources import build_resources
from grabadora.settings import get_settings

logger = logging.getLogger("grabadora.dev")

_TOKEN_IN_URL = re.compile(r"(token=)[^&\s\"]+")


class RedactTokens(logging.Filter):
    """Stream URLs carry a token in the query; access logs must not."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping):
            record.args = {k: _redact(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_redact(a) for a in record.args)
        return True


def _redact(value: object) -> object:
    return _TOKEN_IN_URL.sub(r"\1[redacted]", value) if isinstance(value, str) else value


def embedded_emulator_defaults() -> None:
    """Settings for a stack on the embedded emulator, unless the user set them.

    moto takes iot-data publishes but has no broker: nobody can subscribe to the topic here,
    while each event's publish is an emulator request served in this process (~190 per 70 s
    job; 1.14x -> 1.09x of faster-whisper's time side by side, docs/BENCHMARKS.md). The
    integration tests cover publishing; GRABADORA_IOT_PUBLISH=true turns it on.
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
        self.emulator: Emulator | None = None
        self.persistence: EmulatorPersistence | None = None
        self._stop = threading.Event()
        self._worker_thread: threading.Thread | None = None
        self._exporter_thread: threading.Thread | None = None

    def start_backend(self) -> str:
        """Start (or reach) the AWS endpoint and provision; returns the endpoint URL."""
        settings = get_settings()
        endpoint = settings.aws_endpoint_url
        if endpoint is None:
            use_emulator_credentials()
            # The last snapshot is loaded before the emulator serves; provisioning then finds
            # the tables, queues and bucket there and keeps them.
            self.persistence = EmulatorPersistence(
                Path(settings.data_dir).expanduser() / "emulator", build_resources(settings)
            )
            self.emulator = Emulator(host="127.0.0.1", port=settings.emulator_port, wrap=self.persistence.wrap)
            self.persistence.restore()
            endpoint = self.emulator.start()
            os.environ["GRABADORA_AWS_ENDPOINT_URL"] = endpoint
            embedded_emulator_defaults()
            get_settings.cache_clear()
            aws.reset_clients()
        settings = get_settings()
        provision(build_resources(settings), settings.region)
        if self.persistence is not None:
            self.persistence.start()
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
        from grabadora.local.server import create_local_app

        settings = get_settings()
        endpoint = self.start_backend()
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
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # With or without a worker: the emulator, the apps and what provisioning loaded (boto3's
        # and moto's service models) live as long as the process, so full collections skip them.
        freeze_startup_objects()
        print(f"Grabadora is running at http://{settings.host}:{settings.port}  (API docs: /docs)", flush=True)
        print(f"AWS endpoint: {endpoint}", flush=True)
        try:
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
        if self.persistence is not None:
            self.persistence.stop()  # the last snapshot, once nothing writes any more
        if self.emulator is not None:
            self.emulator.stop()
