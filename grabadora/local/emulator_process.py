"""The embedded emulator in a process of its own: `python -m grabadora.local.emulator_process`.

`grabadora dev` runs its emulator (moto's server, the persistence gate and the snapshots of
`grabadora.local.persistence`) here rather than in its own process, because a snapshot forks
the process it runs in. `grabadora dev` also runs faster-whisper (CTranslate2's and OpenMP's
thread pools) and numpy (OpenBLAS's), and forking a process with native thread pools is unsafe:
their pre-fork handlers run in the forking thread, and OpenBLAS's (`blas_thread_shutdown_`) can
wait for a BLAS worker while holding the GIL, so that every other thread waits for the GIL for
good. This process imports moto, our persistence and our
resource definitions only (no numpy, no model), so each fork happens among Python threads.

`EmulatorProcess` is the parent's side: it starts the child, waits until it serves (it reports
its endpoint on a pipe once its snapshot is loaded and its port is open), and stops it with
SIGTERM; the child then stops serving, takes its last snapshot and exits. The child lives in a
session of its own, so a Ctrl-C at the terminal reaches `grabadora dev` alone, which stops its
worker before the emulator it writes to. A parent that dies without stopping it (`kill -9`)
is noticed at once on Linux (PR_SET_PDEATHSIG) and within half a second elsewhere (its parent
pid changes): the child then ends the same way, and a stack restarted meanwhile waits for the
data folder's lock, which the child holds until its last snapshot is written.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

logger = logging.getLogger("grabadora.emulator")

_PR_SET_PDEATHSIG = 1


class EmulatorStartError(RuntimeError):
    """The emulator process did not come up; its own message is in the log before this."""


class EmulatorProcess:
    """Runs `python -m grabadora.local.emulator_process` for the lifetime of `grabadora dev`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: Path | None = None,
        *,
        start_timeout_seconds: float = 120.0,
        stop_timeout_seconds: float = 60.0,
    ) -> None:
        self.host = host
        self.port = port
        self.data_dir = data_dir
        self.start_timeout_seconds = start_timeout_seconds
        self.stop_timeout_seconds = stop_timeout_seconds
        self.process: subprocess.Popen[bytes] | None = None
        self.endpoint_url: str | None = None
        self._ready: int | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def launch(self) -> None:
        """Start the child; `wait_ready` then waits for it (the caller may work meanwhile).

        Call it from a thread that lives as long as the emulator should (the main thread): on
        Linux the child's parent-death signal follows the thread that started it.
        """
        ready_read, ready_write = os.pipe()
        command = [
            sys.executable, "-m", "grabadora.local.emulator_process",
            "--host", self.host,
            "--port", str(self.port),
            "--parent-pid", str(os.getpid()),
            "--ready-fd", str(ready_write),
        ]  # fmt: skip
        if self.data_dir is not None:
            command += ["--data-dir", str(self.data_dir)]
        try:
            # stdout and stderr are ours: its log lines appear in `grabadora dev`'s output.
            self.process = subprocess.Popen(command, pass_fds=(ready_write,), start_new_session=True)
        except BaseException:
            os.close(ready_read)
            raise
        finally:
            os.close(ready_write)
        self._ready = ready_read

    def wait_ready(self) -> str:
        """The endpoint URL once the child serves; `EmulatorStartError` if it exits first."""
        assert self.process is not None and self._ready is not None, "launch() first"
        line, deadline = b"", time.monotonic() + self.start_timeout_seconds
        try:
            while not line.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([self._ready], [], [], remaining)[0]:
                    self.stop()
                    raise EmulatorStartError(f"the emulator did not start within {self.start_timeout_seconds:.0f} s")
                chunk = os.read(self._ready, 4096)
                if not chunk:
                    break
                line += chunk
        finally:
            os.close(self._ready)
            self._ready = None
        message = line.decode(errors="replace").strip()
        if message.startswith("ready "):
            self.endpoint_url = message.removeprefix("ready ")
            return self.endpoint_url
        code = self.process.wait(timeout=30)
        raise EmulatorStartError(message.removeprefix("error ") or f"the emulator process exited with {code}")

    def start(self) -> str:
        self.launch()
        return self.wait_ready()

    def stop(self) -> int | None:
        """SIGTERM, and wait for its last snapshot; killed if it takes too long. Its exit code."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=self.stop_timeout_seconds)
            except subprocess.TimeoutExpired:
                logger.error("the emulator did not stop within %.0f s; killed", self.stop_timeout_seconds)
                process.kill()
                process.wait()
        if process.returncode != 0:
            logger.warning("the emulator process exited with %s", process.returncode)
        return process.returncode


# --- the child -----------------------------------------------------------------------------------


def _die_with_parent(parent_pid: int, signum: int) -> None:
    """Have the kernel send `signum` when the parent dies (Linux); then check it is still there.

    The parent's death is also noticed by polling `os.getppid()` (every other platform, and a
    parent that died before this call).
    """
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signum)


def _report(fd: int | None, line: str) -> None:
    if fd is None:
        return
    with contextlib.suppress(OSError):
        os.write(fd, f"{line}\n".encode())
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grabadora.local.emulator_process", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, help="keep the state here (none: in memory only)")
    parser.add_argument("--parent-pid", type=int, help="end, with a last snapshot, when this process ends")
    parser.add_argument("--ready-fd", type=int, help="write 'ready URL' (or 'error MESSAGE') here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    stop = threading.Event()
    reason: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:
        reason.append(signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.parent_pid is not None:
        _die_with_parent(args.parent_pid, signal.SIGTERM)

    from grabadora.local.emulator import Emulator
    from grabadora.local.persistence import NATIVE_POOL_MODULES, EmulatorPersistence, StateError
    from grabadora.resources import build_resources
    from grabadora.settings import CommonSettings

    persistence = None
    try:
        if args.data_dir is not None:
            # The folder's lock first (a predecessor killed a moment ago may still be writing
            # its last snapshot, and still hold the port), then its snapshot, then the port.
            # The snapshots keep whole services, so the kinds of resource matter, not their names.
            persistence = EmulatorPersistence(args.data_dir.expanduser(), build_resources(CommonSettings.model_construct()))
            persistence.restore()
        emulator = Emulator(args.host, args.port, wrap=persistence.wrap if persistence else None)
    except (StateError, OSError) as e:
        logger.error("the emulator cannot start: %s", e)
        _report(args.ready_fd, f"error {e}")
        if persistence is not None:
            persistence.store.close()
        return 2
    endpoint = emulator.start()
    if persistence is not None:
        persistence.start()
    # What the snapshots fork: `save` refuses if any of these is here.
    pools = [m for m in NATIVE_POOL_MODULES if m in sys.modules]
    logger.info("emulator: %s (pid %d; native thread pools imported: %s)", endpoint, os.getpid(), pools or "none")
    _report(args.ready_fd, f"ready {endpoint}")

    while not stop.wait(0.5):
        if args.parent_pid is not None and os.getppid() != args.parent_pid:
            reason.append("its parent is gone")
            break
    logger.info("emulator stopping (%s)", reason[0] if reason else "stop")
    # Nothing is served from here on, so the last snapshot is the last state; the port is
    # free before the folder's lock is, for a stack started right after on the same port.
    emulator.stop()
    if persistence is not None:
        persistence.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
