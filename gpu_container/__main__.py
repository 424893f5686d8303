"""`python -m gpu_container`: run the worker until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading

from grabadora.process import freeze_startup_objects
from grabadora.settings import WorkerSettings, use_settings
from gpu_container.worker import build_worker, warm_up


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # The container's environment (GRABADORA_*) configures it; its adapters read the same object.
    worker = build_worker(use_settings(WorkerSettings()))
    logging.getLogger(__name__).info("model ready in %.1fs", warm_up(worker))
    freeze_startup_objects()
    worker.run(stop)


if __name__ == "__main__":
    main()
