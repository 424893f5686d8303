"""`grabadora dev` keeps its library across Ctrl-C, `kill -9` and restarts (its data folder).

Its emulator runs in a child process (grabadora/local/emulator_process.py) that loads no native
thread pool, so the snapshots' forks cannot deadlock on one, and that ends with its parent.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import httpx
import pytest

from grabadora.client import GrabadoraClient
from grabadora.local.emulator import EMULATOR_CREDENTIALS
from grabadora.local.emulator_process import EmulatorProcess, EmulatorStartError
from tests.e2e.conftest import Stack, start_stack, stop_stack

pytestmark = pytest.mark.e2e

PASSWORD = "una clave muy larga"


def wait_for_a_snapshot(data_dir: Path, timeout: float = 20.0) -> None:
    """Snapshots follow changes within about a second: wait for one taken after this moment."""
    state, now = data_dir / "emulator" / "state", time.time()
    deadline = time.monotonic() + timeout
    while not (state.exists() and state.stat().st_mtime > now + 0.05):
        assert time.monotonic() < deadline, "no snapshot within 20 s of the last change"
        time.sleep(0.1)


# Native libraries that run thread pools with pre-fork handlers: numpy's OpenBLAS,
# CTranslate2, OpenMP (GNU or Intel), MKL, oneDNN.
NATIVE_POOLS = re.compile(r"openblas|libctranslate2|libgomp|libiomp|libmkl|dnnl|_multiarray_umath")


def listening_pid(port: int) -> int:
    """The process that listens on 127.0.0.1:`port`, found through /proc (Linux)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            if os.readlink(fd) in inodes:
                return int(fd.parent.parent.name)
        except OSError:
            continue
    raise AssertionError(f"nobody listens on port {port}")


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    """Running (a zombie nobody has reaped yet has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_until_gone(pid: int, timeout: float) -> float:
    started = time.monotonic()
    while alive(pid):
        assert time.monotonic() - started < timeout, f"process {pid} still runs {timeout:.0f} s later"
        time.sleep(0.05)
    return time.monotonic() - started


def native_pools(pid: int) -> set[str]:
    return set(NATIVE_POOLS.findall(Path(f"/proc/{pid}/maps").read_text()))


def start(tmp_path: Path, data_dir: Path) -> Stack:
    return start_stack(tmp_path, "tiny.en", GRABADORA_DATA_DIR=str(data_dir))


def kill_9(stack: Stack) -> None:
    stack.process.send_signal(signal.SIGKILL)
    stack.process.wait(timeout=30)


def signed_in(stack: Stack, email: str) -> GrabadoraClient:
    client = GrabadoraClient(stack.url)
    client.sign_in(email, PASSWORD)
    return client


def test_a_library_survives_kill_9_and_a_restart(tmp_path: Path, audio_dir: Path) -> None:
    data_dir = tmp_path / "data"
    audio = (audio_dir / "fw_jfk.flac").read_bytes()
    # Given a user with a finished transcript, integration settings and an API key
    stack = start(tmp_path, data_dir)
    emulator_pid = listening_pid(int(stack.aws_endpoint.rsplit(":", 1)[1]))
    try:
        # (whose emulator is a child process that loaded none of the worker's thread pools)
        assert emulator_pid != stack.process.pid and parent_of(emulator_pid) == stack.process.pid
        assert native_pools(emulator_pid) == set(), native_pools(emulator_pid)
        assert {"libctranslate2", "openblas"} <= native_pools(stack.process.pid)  # the check can see them
        email = "persiste@example.com"
        client = GrabadoraClient(stack.url)
        client.signup(email, PASSWORD)
        client.sign_in(email, PASSWORD)
        job = client.transcribe(client.upload(str(audio_dir / "fw_jfk.flac")), title="Kennedy")
        assert list(client.events(job["stream_url"]))[-1].event == "completed"
        before = client.get_transcript(job["job_id"])
        srt_before = client.download(job["job_id"], "srt").text
        client.set_integrations(webhook={"url": "https://example.com/hook", "secret": "un secreto bastante largo"})
        key = client._http.post("me/api-keys", json={"name": "mi app"}, headers=client._auth).json()["key"]
        wait_for_a_snapshot(data_dir)
    finally:
        # When the process is killed with no chance to clean up
        kill_9(stack)
    # Then its emulator does not outlive it (it takes a last snapshot and exits)
    wait_until_gone(emulator_pid, timeout=10)

    # And started again on the same data folder
    stack = start(tmp_path, data_dir)
    try:
        # the same password signs in and the transcript is listed, whole
        client = signed_in(stack, email)
        listed = client.list_transcripts()["items"]
        assert [t["id"] for t in listed] == [job["job_id"]]
        after = client.get_transcript(job["job_id"])
        assert after["status"] == "completed" and after["title"] == "Kennedy"
        assert after["text"] == before["text"] and after["segments"] == before["segments"]
        # And its audio is the very bytes uploaded, and the download is unchanged
        assert httpx.get(after["audio_url"], timeout=30).content == audio
        assert client.download(job["job_id"], "srt").text == srt_before
        # And the API key still authenticates, and the integration settings are there
        models = httpx.get(f"{stack.url}/v1/models", headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert models.status_code == 200, models.text
        wrong = httpx.get(f"{stack.url}/v1/models", headers={"Authorization": f"Bearer {key[:-4]}abcd"}, timeout=10)
        assert wrong.status_code == 401
        integrations = client.integrations()
        assert integrations["webhook"] == {"url": "https://example.com/hook", "secret_set": True}
    finally:
        stop_stack(stack)
    assert stack.process.returncode == 0, stack.log.read_text()[-2000:]


def jfk_twelve_times(audio_dir: Path, path: Path, times: int = 12) -> Path:
    """A 132 s English recording (11 s × `times`), long enough to kill the stack mid-job."""
    import wave

    import numpy as np
    from faster_whisper import decode_audio

    samples = np.tile(decode_audio(str(audio_dir / "fw_jfk.flac")), times)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(16000)
        f.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def test_a_job_running_at_kill_9_finishes_after_restart_and_ctrl_c_keeps_it(tmp_path: Path, audio_dir: Path) -> None:
    data_dir = tmp_path / "data"
    recording = jfk_twelve_times(audio_dir, tmp_path / "jfk12.wav")
    # Given a 132 s recording being transcribed
    stack = start(tmp_path, data_dir)
    try:
        email = "interrumpida@example.com"
        client = GrabadoraClient(stack.url)
        client.signup(email, PASSWORD)
        client.sign_in(email, PASSWORD)
        job = client.transcribe(client.upload(str(recording)), title="Kennedy")
        seen = []
        for event in client.events(job["stream_url"]):
            seen.append(event)
            if event.event == "delta":
                break
        wait_for_a_snapshot(data_dir)
        assert client.get_transcript(job["job_id"])["status"] == "processing"
    finally:
        # When the process dies mid-job (and is started again at once, its emulator perhaps
        # still writing its last snapshot)
        kill_9(stack)

    # Then after a restart the job resumes and its stream ends, within a bounded time
    stack = start(tmp_path, data_dir)
    try:
        client = signed_in(stack, email)
        started = time.monotonic()
        events = list(client.events(job["stream_url"]))
        assert time.monotonic() - started < 240
        assert events[-1].event == "completed", events[-1]
        assert [e.id for e in events] == list(range(len(events)))  # gap-free across the crash
        transcript = client.get_transcript(job["job_id"])
        assert transcript["status"] == "completed" and transcript["attempts"] == 2
        # And the events written before the crash were kept: the stream replays them first
        assert [(e.id, e.event, e.data) for e in events[: len(seen)]] == [(e.id, e.event, e.data) for e in seen]
        assert "fellow Americans" in transcript["text"]
        # And a change made just before Ctrl-C is kept too (the snapshot at stop)
        client.update_transcript(job["job_id"], title="Kennedy, doce veces")
    finally:
        stop_stack(stack)
    assert stack.process.returncode == 0, stack.log.read_text()[-2000:]

    stack = start(tmp_path, data_dir)
    try:
        client = signed_in(stack, email)
        again = client.get_transcript(job["job_id"])
        assert again["title"] == "Kennedy, doce veces" and again["text"] == transcript["text"]
        assert httpx.get(again["audio_url"], timeout=30).content == recording.read_bytes()
    finally:
        stop_stack(stack)
    assert stack.process.returncode == 0, stack.log.read_text()[-2000:]


# --- the emulator's process, without the rest of the stack ---------------------------------------

PARENT = """
import sys, time
from pathlib import Path
from grabadora.local.emulator_process import EmulatorProcess
emulator = EmulatorProcess(data_dir=Path(sys.argv[1]), port=int(sys.argv[2]))
print(emulator.start(), emulator.pid, flush=True)
time.sleep(600)
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _table(endpoint: str):  # noqa: ANN202 - a boto3 client
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    if "t" not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        )
    return dynamodb


def _get(dynamodb, key: str) -> str | None:  # noqa: ANN001
    item = dynamodb.get_item(TableName="t", Key={"k": {"S": key}}).get("Item")
    return item["v"]["S"] if item else None


def test_the_emulator_process_loads_no_thread_pool_and_keeps_its_state_at_sigterm(tmp_path: Path) -> None:
    import numpy  # noqa: F401 - this process has OpenBLAS's threads; the emulator's must not

    assert "openblas" in native_pools(os.getpid())
    emulator = EmulatorProcess(data_dir=tmp_path / "emulator")
    dynamodb = _table(emulator.start())
    try:
        assert emulator.pid != os.getpid() and native_pools(emulator.pid) == set()
        before = time.time()
        dynamodb.put_item(TableName="t", Item={"k": {"S": "a"}, "v": {"S": "uno"}})
        state = tmp_path / "emulator" / "state"
        while not (state.exists() and state.stat().st_mtime > before):  # a fork happened in it
            assert time.time() - before < 20, "no snapshot within 20 s"
            time.sleep(0.05)
        assert native_pools(emulator.pid) == set()
        dynamodb.put_item(TableName="t", Item={"k": {"S": "b"}, "v": {"S": "dos"}})
    finally:
        assert emulator.stop() == 0  # the last snapshot keeps "b"
    again = EmulatorProcess(data_dir=tmp_path / "emulator")
    dynamodb = _table(again.start())
    try:
        assert (_get(dynamodb, "a"), _get(dynamodb, "b")) == ("uno", "dos")
    finally:
        assert again.stop() == 0


def test_the_emulator_process_ends_with_its_parent_and_a_restart_at_once_finds_the_last_change(
    tmp_path: Path,
) -> None:
    port = _free_port()
    # Given an emulator started by a process that is then killed with SIGKILL
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path / "emulator"), str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        endpoint, pid = parent.stdout.readline().split()  # type: ignore[union-attr]
        dynamodb = _table(endpoint)
        dynamodb.put_item(TableName="t", Item={"k": {"S": "a"}, "v": {"S": "antes"}})
    finally:
        parent.kill()
        parent.wait()
    # When a new one starts at once on the same folder and port
    started = time.monotonic()
    again = EmulatorProcess(data_dir=tmp_path / "emulator", port=port)
    dynamodb = _table(again.start())
    try:
        # Then the orphan took its last snapshot and exited, and the new one serves it
        assert time.monotonic() - started < 10
        wait_until_gone(int(pid), timeout=5)
        assert _get(dynamodb, "a") == "antes"
    finally:
        assert again.stop() == 0


def test_an_emulator_that_cannot_start_says_why(tmp_path: Path) -> None:
    folder = tmp_path / "emulator"
    folder.mkdir()
    (folder / "state").write_bytes(b"not a state")
    with pytest.raises(EmulatorStartError, match="not a Grabadora emulator state file"):
        EmulatorProcess(data_dir=folder).start()
    assert (folder / "state").read_bytes() == b"not a state"
