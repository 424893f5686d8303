"""`python -m tests.reliability._emulator PORT`: moto's server alone, in its own process.

The reliability stack keeps the emulator outside `grabadora dev` so the API can be killed and
restarted while the data (tables, queues, objects) survives, as it does on AWS.
"""

from __future__ import annotations

import signal
import sys
import threading

from grabadora.local.emulator import Emulator


def main() -> None:
    emulator = Emulator("127.0.0.1", int(sys.argv[1]))
    print(emulator.start(), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    emulator.stop()


if __name__ == "__main__":
    main()
