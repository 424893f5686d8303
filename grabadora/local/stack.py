"""`grabadora dev`: resources, worker and server in one process, the emulator in a child of it.

The emulator (moto and its snapshots) runs in `grabadora.local.emulator_process`: a snapshot
forks the process it runs in, and this one runs native thread pools (faster-whisper's, numpy's)
that make forking it unsafe. Ctrl-C stops it all, the emulator last.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from pathlib import Path

import uvicorn

from grabadora.local.emulator import use_emulator_credentials
from grabadora.local.emulator_process import EmulatorProcess, EmulatorStartError
from grabadora.local.provision import provision
from grabadora.process import freeze_startup_objects
from grabadora.resources import build_resources
from grabadora.settings import DevSettings, use_settings

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


def dev_settings(
    *, port: int | None = None, with_worker: bool = True, model: str | None = None, base: DevSettings | None = None,
) -> DevSettings:
    """`grabadora dev`'s settings: the environment's (or `base`), with the local stack's own
    defaults for what the user did not set, and the command line's choices on top."""
    base = base if base is not None else DevSettings()
    # A short long-poll lets Ctrl-C stop the worker promptly; SQS still wakes it at once.
    defaults: dict[str, object] = {"sqs_wait_seconds": 2}
    if with_worker:
        # The worker commits in this process, so each commit wakes the relay's streams at once
        # (grabadora/doorbell.py, wired in `start_worker`) and polling is only the fallback for
        # a writer elsewhere: it polls slowly and leaves the cores to decoding (docs/BENCHMARKS.md).
        defaults |= {"relay_poll_min_seconds": 0.25, "relay_poll_max_seconds": 1.0}
    update = {name: value for name, value in defaults.items() if name not in base.model_fields_set}
    if port is not None:
        update["port"] = port
    if model is not None:
        update["whisper_model"] = model
    return base.model_copy(update=update)


def on_embedded_emulator(settings: DevSettings, endpoint: str) -> DevSettings:
    """`settings` pointed at the embedded emulator's `endpoint`.

    moto takes iot-data publishes but has no broker, so nobody can subscribe to the topic here
    while each event's publish costs an emulator request: publishing is off unless the user set
    GRABADORA_IOT_PUBLISH (the integration tests cover publishing).
    """
    update: dict[str, object] = {"aws_endpoint_url": endpoint}
    if "iot_publish" not in settings.model_fields_set:
        update["iot_publish"] = False
    return settings.model_copy(update=update)


class DevStack:
    """The emulator, the worker, the exporter and the server, all built from one settings object."""

    def __init__(self, settings: DevSettings | None = None, *, with_worker: bool = True) -> None:
        self.settings = settings if settings is not None else dev_settings(with_worker=with_worker)
        self.with_worker = with_worker
        self.emulator: EmulatorProcess | None = None
        self._stop = threading.Event()
        self._worker_thread: threading.Thread | None = None
        self._exporter_thread: threading.Thread | None = None
        self._expiry_thread: threading.Thread | None = None

    def launch_emulator(self) -> None:
        """Start the emulator's process, unless an AWS endpoint is configured; returns at once."""
        settings = self.settings
        if settings.aws_endpoint_url is None and self.emulator is None:
            use_emulator_credentials()
            self.emulator = EmulatorProcess(
                "127.0.0.1", settings.emulator_port, Path(settings.data_dir).expanduser() / "emulator"
            )
            self.emulator.launch()

    def start_backend(self) -> str:
        """Start (or reach) the AWS endpoint and provision; returns the endpoint URL."""
        self.launch_emulator()
        if self.settings.aws_endpoint_url is None:
            assert self.emulator is not None
            # The emulator answers once it has loaded the last snapshot; provisioning then finds
            # the tables, queues and bucket there and keeps them.
            self.settings = on_embedded_emulator(self.settings, self.emulator.wait_ready())
        # From here on every adapter in this process (API, relay, worker, exporter) uses them.
        settings = use_settings(self.settings)
        provision(build_resources(settings), settings.region)
        assert settings.aws_endpoint_url is not None
        return settings.aws_endpoint_url

    def start_worker(self) -> None:
        from gpu_container.worker import build_worker, warm_up
        from grabadora.doorbell import local_doorbell

        # The relay served here listens on this process's doorbell: the worker's commits ring it.
        worker = build_worker(self.settings, doorbell=local_doorbell)
        seconds = warm_up(worker)
        logger.info("worker ready: model %s loaded in %.1fs", self.settings.whisper_model, seconds)
        self._worker_thread = threading.Thread(target=worker.run, args=(self._stop,), name="worker", daemon=True)
        self._worker_thread.start()

    def start_exporter(self) -> None:
        """What Lambda's SQS event source mapping does on AWS: exports queue → exporter handler."""
        from grabadora.local.exporter_runner import ExporterRunner

        self._exporter_thread = threading.Thread(target=ExporterRunner(self._stop, settings=self.settings).run, name="exporter", daemon=True)
        self._exporter_thread.start()

    def start_expiry(self) -> None:
        """What DynamoDB's TTL does on AWS: items past their expiry are deleted (local/expiry.py)."""
        from grabadora.local.expiry import sweep_until

        resources = build_resources(self.settings)
        self._expiry_thread = threading.Thread(target=sweep_until, args=(self._stop, resources), name="ttl-expiry", daemon=True)
        self._expiry_thread.start()

    def serve(self) -> None:
        """Run until Ctrl-C, then stop the worker and the emulator."""
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
            if self.emulator is not None:
                self.start_expiry()  # a real AWS endpoint (or LocalStack) expires items itself
            settings = self.settings
            config = uvicorn.Config(
                create_local_app(settings),
                host=settings.host,
                port=settings.port,
                log_level="info",
                timeout_graceful_shutdown=3,
                # uvicorn would believe X-Forwarded-For from 127.0.0.1, where every client of the
                # dev server is: any of them could pick its address for the per-IP sign-in limit.
                forwarded_allow_ips=settings.forwarded_allow_ips,
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
            if self._worker_thread.is_alive():
                logger.info("the worker is still decoding; its job goes back to the queue")
        if self._exporter_thread is not None:
            self._exporter_thread.join(timeout=5)
        if self.emulator is not None:
            self.emulator.stop()  # its last snapshot, once nothing here writes any more

    @property
    def worker_busy(self) -> bool:
        """The worker thread outlived `stop` (a decode it could not leave half-way)."""
        return self._worker_thread is not None and self._worker_thread.is_alive()
