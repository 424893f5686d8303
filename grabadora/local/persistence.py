"""The embedded emulator's data on disk, so `grabadora dev` keeps its library across restarts.

moto keeps every table, queue and object in memory. This module snapshots moto's backends for
the services that hold `grabadora.resources` (DynamoDB, SQS, S3) with pickle, between requests,
and loads the last snapshot before the emulator serves again (docs/DECISIONS.md, "Local stack"):

- `RequestGate` wraps the emulator's WSGI app. A snapshot pauses new requests and waits for
  those in flight, so it is a state some client could have seen: a transcript's item never
  points at an object the snapshot lacks. Bodies are read before a request is admitted and
  answers are sent after it leaves, so a slow upload or download never holds a snapshot back.
  SQS long polls are served as short polls that wait outside the gate, or one idle worker
  would hold every snapshot back for its whole wait.
- `StateStore` writes atomically (temporary file, fsync, rename, fsync of the folder): a
  `kill -9` at any moment leaves the last snapshot or the new one, never half of either.
  Object bodies (the audio) are files of their own, written once, named by moto's ETag and
  size, so a snapshot pickles metadata and items only.
- `EmulatorPersistence` restores at start, snapshots after changes (at most every second, less
  often when snapshots grow slow) and once more at stop.

A snapshot forks the process it runs in, so that process must have no native thread pools
(numpy's OpenBLAS, CTranslate2, OpenMP): their pre-fork handlers can deadlock it. `grabadora dev`
runs the emulator and this module in a process of their own (`grabadora.local.emulator_process`),
and `save` refuses to fork where one of those libraries was imported.
"""

from __future__ import annotations

import contextlib
import copyreg
import dataclasses
import datetime
import fcntl
import gc
import hashlib
import io
import json
import logging
import os
import pickle
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from grabadora.resources import BucketSpec, QueueSpec, Resources, TableSpec

logger = logging.getLogger("grabadora.persistence")

FORMAT = 1
_MAGIC = b"grabadora-emulator-state\n"
_SERVICE_OF: dict[type, str] = {TableSpec: "dynamodb", QueueSpec: "sqs", BucketSpec: "s3"}
_OBJECT_NAME = re.compile(r"^[0-9a-f]{32}(-[0-9]+)?-[0-9]+$")

# Operations that change nothing: a stack that only reads is not snapshotted again.
_READS = frozenset(
    {
        "DynamoDB_20120810.GetItem",
        "DynamoDB_20120810.BatchGetItem",
        "DynamoDB_20120810.Query",
        "DynamoDB_20120810.Scan",
        "DynamoDB_20120810.DescribeTable",
        "DynamoDB_20120810.DescribeTimeToLive",
        "DynamoDB_20120810.ListTables",
        "AmazonSQS.GetQueueUrl",
        "AmazonSQS.GetQueueAttributes",
        "AmazonSQS.ListQueues",
    }
)
_RECEIVE = "AmazonSQS.ReceiveMessage"

# Libraries that start native thread pools (numpy's OpenBLAS, CTranslate2, OpenMP, FFmpeg's):
# a process that imported one is never forked.
NATIVE_POOL_MODULES = ("numpy", "ctranslate2", "faster_whisper", "torch", "onnxruntime", "av")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class StateError(RuntimeError):
    """The data folder holds a state that cannot be used; nothing in it was changed."""


def services_for(resources: Resources) -> tuple[str, ...]:
    """moto's services that hold `resources`; a kind of resource no service keeps is an error."""
    services: set[str] = set()
    for field in dataclasses.fields(resources):
        value = getattr(resources, field.name)
        for spec in value if isinstance(value, tuple) else (value,):
            service = _SERVICE_OF.get(type(spec))
            if service is None:
                raise TypeError(f"resources.{field.name}: the emulator's state on disk has no {type(spec).__name__}")
            services.add(service)
    return tuple(sorted(services))


# --- files -------------------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, sync_dir: bool = True) -> None:
    """Replace `path` with `data`; a crash at any moment leaves the old file or the new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if sync_dir:
        _fsync_dir(path.parent)


def encode_state(header: dict[str, Any], payload: bytes) -> bytes:
    """A state file: a magic line, a JSON header line (with the payload's digest), the payload."""
    header = {**header, "bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    return _MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + payload


def decode_state(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The header and payload of a state file; `StateError` if it is not one or is damaged."""
    if not data.startswith(_MAGIC):
        raise StateError("not a Grabadora emulator state file")
    line_end = data.find(b"\n", len(_MAGIC))
    if line_end < 0:
        raise StateError("the state file's header is cut short")
    try:
        header = json.loads(data[len(_MAGIC) : line_end])
    except ValueError as e:
        raise StateError(f"the state file's header is not JSON: {e}") from e
    payload = data[line_end + 1 :]
    if header.get("format") != FORMAT:
        raise StateError(f"state format {header.get('format')!r}, this Grabadora reads {FORMAT}")
    if len(payload) != header.get("bytes") or hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise StateError("the state file's payload does not match its digest")
    return header, payload


class StateStore:
    """One folder: `state` (the last snapshot), `objects/` (S3 bodies it names) and a lock."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.state_path = directory / "state"
        self.objects = directory / "objects"
        self._lock_file: Any = None

    def open(self, wait_seconds: float = 30.0) -> None:
        """Create the folder and take it for this process; another process holding it is an error.

        A stack killed with `kill -9` may leave a snapshot process finishing its write for a
        moment; the lock is waited for that long.
        """
        self.objects.mkdir(parents=True, exist_ok=True)
        lock_file = open(self.directory / "lock", "a+")
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                lock_file.seek(0)
                holder = lock_file.read().strip() or "another process"
                if _end_orphaned_emulator(holder):
                    deadline = time.monotonic() + 10.0
                    continue
                lock_file.close()
                raise StateError(
                    f"{self.directory} is in use by {holder}; stop it, or give this one another "
                    "GRABADORA_DATA_DIR"
                ) from None
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(f"pid {os.getpid()}\n")
        lock_file.flush()
        self._lock_file = lock_file
        # Temporary files of a process killed mid-write: never renamed, so never part of a state.
        for folder in (self.directory, self.objects):
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # releases the lock
            self._lock_file = None

    def read(self) -> tuple[dict[str, Any], bytes] | None:
        """The last committed snapshot, or None if there is none yet."""
        try:
            data = self.state_path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return decode_state(data)
        except StateError as e:
            raise StateError(f"{self.state_path}: {e}") from None

    def commit(self, header: dict[str, Any], payload: bytes) -> None:
        atomic_write(self.state_path, encode_state(header, payload))

    def object_names(self) -> set[str]:
        return {p.name for p in self.objects.iterdir() if _OBJECT_NAME.match(p.name)}

    def read_object(self, name: str) -> bytes:
        if not _OBJECT_NAME.match(name):
            raise StateError(f"{name!r} is not an object name")
        try:
            return (self.objects / name).read_bytes()
        except FileNotFoundError:
            raise StateError(f"{self.objects / name} is missing: the state names it") from None

    def write_objects(self, bodies: dict[str, bytes]) -> None:
        """Write every body before the state that names them is committed."""
        for name, body in bodies.items():
            atomic_write(self.objects / name, body, sync_dir=False)
        if bodies:
            _fsync_dir(self.objects)

    def remove_objects_except(self, keep: set[str]) -> None:
        """Drop bodies the committed state no longer names (deleted or overwritten objects)."""
        for name in self.object_names() - keep:
            (self.objects / name).unlink(missing_ok=True)


# --- moto's backends ---------------------------------------------------------------------------


def _backends(services: Iterable[str]) -> dict[tuple[str, str, str], Any]:
    """Every backend moto has built for `services`, by (service, account, region)."""
    from moto.backends import get_backend

    return {
        (service, account, region): backend
        for service in services
        for account, regions in dict.items(get_backend(service))  # type: ignore[call-overload]
        for region, backend in dict.items(regions)
    }


def _shared(services: Iterable[str]) -> dict[str, dict[str, Any]]:
    """What a service keeps beside its backends, e.g. S3's bucket name -> account map."""
    from moto.backends import get_backend
    from moto.core.base_backend import BackendDict

    plain = set(vars(BackendDict(object, "probe")))  # type: ignore[arg-type]
    return {
        service: {k: v for k, v in vars(get_backend(service)).items() if k not in plain} for service in services
    }


def _install(state: dict[str, Any]) -> None:
    from moto.backends import get_backend

    for service, attributes in state["shared"].items():
        vars(get_backend(service)).update(attributes)
    for (service, account, region), backend in state["backends"].items():
        get_backend(service)[account][region] = backend  # type: ignore[call-overload]


def _release_messages(state: dict[str, Any]) -> int:
    """Messages received by the stack that stopped are visible again at once.

    Its worker and exporter were threads of `grabadora dev`, which stopped with it, so nobody
    is working on them any more; waiting out their visibility timeout (up to `GRABADORA_VISIBILITY_TIMEOUT_SECONDS`
    after the last extension) would only leave a job "processing" for that long. Receive
    counts are kept, so a job that kills the process every time still reaches its DLQ.
    """
    released = 0
    for (service, _, _), backend in state["backends"].items():
        if service != "sqs":
            continue
        for queue in backend.queues.values():
            for message in list(queue.pending_messages):
                message.change_visibility(0)
                released += 1
    return released


class _ObjectBody:
    """Stands for an S3 body in a pickle; the loader reads it from `objects/` instead."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __reduce__(self) -> tuple[Any, ...]:
        return _object_body, (self.name,)


def _object_body(name: str) -> bytes:  # pragma: no cover - the loader substitutes its own
    raise StateError("object bodies are read by the state loader")


def _end_orphaned_emulator(holder: str) -> bool:
    """Kill the lock's holder if it is an emulator process whose `grabadora dev` is gone (killed
    with `kill -9`) and that is still finishing after the wait: its last good snapshot is on
    disk already (each is written whole, then renamed). Whether it was killed."""
    try:
        pid = int(holder.removeprefix("pid").strip())
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        parent = int(args[args.index(b"--parent-pid") + 1])
    except (ValueError, OSError, IndexError):
        return False
    if b"grabadora.local.emulator_process" not in args:
        return False
    try:
        os.kill(parent, 0)
        return False  # its grabadora dev is alive: the folder is really in use
    except ProcessLookupError:
        pass
    except OSError:
        return False
    logger.warning("the emulator pid %d outlived its grabadora dev; stopping it", pid)
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        return False
    return True


def _lock_reducers() -> dict[type, Callable[[Any], tuple[Any, ...]]]:
    # moto guards some models with locks (an SQS queue's Condition, an S3 key's Lock); a
    # restored model gets fresh ones, as moto's own FakeKey.__setstate__ does.
    return {
        threading.Condition: lambda _: (threading.Condition, ()),
        type(threading.Lock()): lambda _: (threading.Lock, ()),
        type(threading.RLock()): lambda _: (threading.RLock, ()),
    }


def _body_of(key: Any) -> bytes:
    """An S3 object's bytes, read without moving its file's offset.

    A snapshot runs in a forked process, which shares the parent's open files: moto's own
    `FakeKey.value` seeks and reads, and would move the offset under a parent reading the same
    object. Bodies over moto's buffer size (5 MB) are files; smaller ones are in memory, which
    the fork copied.
    """
    buffer = key._value_buffer
    if not getattr(buffer, "_rolled", True):
        return buffer._file.getvalue()  # type: ignore[no-any-return]
    fd, size, chunks, offset = buffer.fileno(), key.contentsize, [], 0
    while offset < size:
        chunk = os.pread(fd, size - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def dump_state(state: dict[str, Any], on_disk: set[str]) -> tuple[bytes, dict[str, bytes], set[str]]:
    """Pickle `state` with S3 bodies left out: (payload, bodies not `on_disk`, every body named)."""
    from moto.s3.models import FakeKey

    new: dict[str, bytes] = {}
    named: set[str] = set()

    def reduce_key(key: Any) -> tuple[Any, ...]:
        body = None
        if key._etag is None:  # moto computes it lazily; most keys have answered a PUT with it
            body = _body_of(key)
            etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
        else:
            etag = key._etag.strip(chr(34))
        name = f"{etag}-{key.contentsize}"
        named.add(name)
        if name not in on_disk and name not in new:
            new[name] = body if body is not None else _body_of(key)
        # FakeKey's own __getstate__, with the body replaced by a reference to its file.
        state = {k: v for k, v in key.__dict__.items() if k not in ("_value_buffer", "lock")}
        state["value"] = _ObjectBody(name)
        return copyreg.__newobj__, (type(key),), state  # type: ignore[attr-defined]

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    # A dispatch table, not reducer_override: it is looked up in C by exact type, so the
    # hundreds of thousands of items and attribute values pickle at pickle's own speed.
    pickler.dispatch_table = {
        **copyreg.dispatch_table,
        **_lock_reducers(),
        **{cls: reduce_key for cls in (FakeKey, *FakeKey.__subclasses__())},
    }
    pickler.dump(state)
    return buffer.getvalue(), new, named


class _Loader(pickle.Unpickler):
    def __init__(self, payload: bytes, store: StateStore) -> None:
        super().__init__(io.BytesIO(payload))
        self._store = store

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_object_body":
            return self._store.read_object
        return super().find_class(module, name)


def load_state(payload: bytes, store: StateStore) -> dict[str, Any]:
    return _Loader(payload, store).load()


# --- the gate ----------------------------------------------------------------------------------


def _buffer_body(environ: dict[str, Any]) -> bytes:
    length = environ.get("CONTENT_LENGTH")
    stream = environ["wsgi.input"]
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    return body


def _with_body(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    environ = dict(environ)
    environ["wsgi.input"] = io.BytesIO(body)
    if environ.get("CONTENT_LENGTH") or not environ.get("wsgi.input_terminated"):
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


class RequestGate:
    """WSGI middleware: the emulator's requests run between snapshots, never during one."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self._cond = threading.Condition()
        self._active = 0
        self._paused = False
        self.changes = 0  # requests so far that may have changed the state
        self._sqs = threading.Condition()
        self._sqs_generation = 0

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No request runs inside this block; those that arrive meanwhile wait for its end."""
        with self._cond:
            self._cond.wait_for(lambda: not self._paused)
            self._paused = True
            self._cond.wait_for(lambda: self._active == 0)
        try:
            yield
        finally:
            with self._cond:
                self._paused = False
                self._cond.notify_all()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = _buffer_body(environ)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target == _RECEIVE:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                request = json.loads(body)
                if int(request.get("WaitTimeSeconds") or 0) > 0:
                    return self._long_poll(environ, request, start_response)
        status, headers, out = self._call(_with_body(environ, body))
        if target.startswith("AmazonSQS.") and target != _RECEIVE:
            self._sqs_changed()
        start_response(status, headers)
        return [out]

    def _call(self, environ: dict[str, Any], *, changes: bool | None = None) -> tuple[str, list[Any], bytes]:
        """Run one request inside the gate; the answer is read whole before it leaves."""
        captured: list[Any] = []
        written: list[bytes] = []

        def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Callable[[bytes], None]:
            captured[:] = [status, headers]
            return written.append

        with self._cond:
            self._cond.wait_for(lambda: not self._paused)
            self._active += 1
        try:
            result = self._app(environ, start_response)
            try:
                out = b"".join([*written, *result])
            finally:
                if hasattr(result, "close"):
                    result.close()
        finally:
            with self._cond:
                self._active -= 1
                if changes if changes is not None else not _is_read(environ):
                    self.changes += 1
                if self._active == 0:
                    self._cond.notify_all()
        return captured[0], captured[1], out

    def _long_poll(
        self, environ: dict[str, Any], request: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """A ReceiveMessage with a wait, as short polls that wait outside the gate in between."""
        deadline = time.monotonic() + min(int(request["WaitTimeSeconds"]), 20)
        body = json.dumps({**request, "WaitTimeSeconds": 0}).encode()
        while True:
            with self._sqs:
                generation = self._sqs_generation
            status, headers, out = self._call(_with_body(environ, body), changes=False)
            received = status.startswith("200") and _has_messages(out)
            remaining = deadline - time.monotonic()
            if received or not status.startswith("200") or remaining <= 0:
                if received:
                    with self._cond:
                        self.changes += 1  # receive counts and visibility changed
                start_response(status, headers)
                return [out]
            # A send wakes the poll at once; messages that turn visible with time are seen
            # within a second, as moto's own long poll sees them.
            with self._sqs:
                self._sqs.wait_for(lambda: self._sqs_generation != generation, timeout=min(remaining, 1.0))

    def _sqs_changed(self) -> None:
        with self._sqs:
            self._sqs_generation += 1
            self._sqs.notify_all()


def _is_read(environ: dict[str, Any]) -> bool:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target in _READS
    return environ.get("REQUEST_METHOD") in ("GET", "HEAD")


def _has_messages(out: bytes) -> bool:
    try:
        return bool(json.loads(out).get("Messages"))
    except (ValueError, AttributeError):
        return True  # not what an empty receive looks like: hand it over


# --- the whole -----------------------------------------------------------------------------------


class EmulatorPersistence:
    """Keeps the embedded emulator's state in `directory` while `grabadora dev` runs."""

    def __init__(
        self,
        directory: Path,
        resources: Resources,
        *,
        min_interval_seconds: float = 1.0,
        max_busy_share: float = 0.25,
        snapshot_timeout_seconds: float = 600.0,
    ) -> None:
        self.services = services_for(resources)
        self.store = StateStore(directory)
        self.min_interval_seconds = min_interval_seconds
        self.max_busy_share = max_busy_share
        self.snapshot_timeout_seconds = snapshot_timeout_seconds
        self.gate: RequestGate | None = None
        self.last_save: dict[str, float] = {}
        self._saved_changes = 0
        self._save_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wrap(self, app: WSGIApp) -> WSGIApp:
        """The emulator's app behind the gate snapshots pause."""
        self.gate = RequestGate(app)
        return self.gate

    def restore(self) -> bool:
        """Take the folder and load its snapshot into moto, before the emulator serves.

        Returns whether there was one. A snapshot that cannot be read stops the start with
        `StateError` and is left as it is: starting empty would overwrite the library.
        """
        self.store.open()
        found = self.store.read()
        if found is None:
            logger.info("emulator data: %s (new)", self.store.directory)
            return False
        header, payload = found
        import moto

        if header.get("moto") != moto.__version__:
            logger.warning(
                "emulator data in %s was written by moto %s; this is moto %s",
                self.store.directory, header.get("moto"), moto.__version__,
            )
        try:
            state = load_state(payload, self.store)
        except StateError:
            raise
        except Exception as e:
            raise StateError(f"{self.store.state_path}: cannot be loaded ({e!r})") from e
        released = _release_messages(state)
        _install(state)
        logger.info(
            "emulator data: %s (saved %s; %d message(s) in flight made visible again)",
            self.store.directory, header.get("saved_at"), released,
        )
        return True

    def start(self) -> None:
        """Snapshot in the background after changes, until `stop`."""
        self._thread = threading.Thread(target=self._run, name="emulator-persistence", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background snapshots, save once more and release the folder.

        The emulator need not serve any more (it had better not: a request after this is lost).
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            if self.gate is not None and self.gate.changes != self._saved_changes:
                self.save()
        finally:
            self.store.close()

    def save(self) -> None:
        """One snapshot: forked while no request runs, written by the child.

        The fork is the only pause (a copy-on-write image of the process, a few milliseconds);
        pickling, the object bodies and the commit happen in the child while the emulator
        serves on, as Redis's BGSAVE does. The child holds the folder's lock as the parent
        does, so a stack restarted after a `kill -9` waits for it to finish.

        Only a process without native thread pools is forked: `StateError` where one of
        `NATIVE_POOL_MODULES` was imported (run the emulator in `grabadora.local.emulator_process`).
        """
        assert self.gate is not None, "wrap() the emulator's app first"
        loaded = [m for m in NATIVE_POOL_MODULES if m in sys.modules]
        if loaded:
            raise StateError(
                f"not forking a process that imported {', '.join(loaded)}: the pre-fork handlers of "
                "their native thread pools can deadlock it; run the emulator in "
                "grabadora.local.emulator_process"
            )
        import moto
        from moto.s3.models import FakeKey  # noqa: F401 - imported before the fork, not in the child

        with self._save_lock:
            started = time.monotonic()
            header = {
                "format": FORMAT,
                "moto": moto.__version__,
                "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "services": list(self.services),
            }
            with self.gate.paused():
                changes = self.gate.changes
                state = {"shared": _shared(self.services), "backends": _backends(self.services)}
                pid = os.fork()
                if pid == 0:
                    _snapshot_child(self.store, header, state)  # never returns
            paused = time.monotonic() - started
            del state
            code = _wait(pid, self.snapshot_timeout_seconds)
            if code != 0:
                raise StateError(f"the snapshot process exited with {code}; the previous snapshot is kept")
            self._saved_changes = changes
            self.last_save = {"paused_seconds": paused, "seconds": time.monotonic() - started}
            logger.debug("emulator snapshot: %s", self.last_save)

    def _run(self) -> None:
        next_at = 0.0
        while not self._stop.wait(0.2):
            assert self.gate is not None
            if self.gate.changes == self._saved_changes or time.monotonic() < next_at:
                continue
            try:
                self.save()
            except Exception:
                # The last committed snapshot is intact; the next change tries again.
                logger.exception("emulator snapshot failed")
                next_at = time.monotonic() + 5.0
                continue
            # The child pickles on another core, for longer the larger the library: it runs at
            # most `max_busy_share` of the time, so the worker keeps its cores.
            next_at = time.monotonic() + max(self.min_interval_seconds, self.last_save["seconds"] / self.max_busy_share)


def _snapshot_child(store: StateStore, header: dict[str, Any], state: dict[str, Any]) -> None:
    """The forked child: write the snapshot and exit, touching nothing another thread may hold.

    Only this thread exists in the child; a lock another of the emulator's threads (a request
    being read or answered outside the gate) held at the fork stays held, so the child logs
    nothing and prints nothing (errors go to fd 2 directly) and imports nothing new.
    """
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C to the process group; finish
        gc.disable()
        payload, bodies, named = dump_state(state, store.object_names())
        store.write_objects(bodies)
        store.commit(header, payload)
        store.remove_objects_except(named)
        code = 0
    except BaseException:
        with contextlib.suppress(BaseException):
            os.write(2, f"emulator snapshot failed:\n{traceback.format_exc()}".encode())
    finally:
        os._exit(code)


def _wait(pid: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)  # a child stuck on a lock it inherited held
            os.waitpid(pid, 0)
            return -signal.SIGKILL
        time.sleep(0.01)
