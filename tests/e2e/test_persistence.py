"""`grabadora dev` keeps its library across Ctrl-C, `kill -9` and restarts (its data folder)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from grabadora.client import GrabadoraClient
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
    try:
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

    # And started again on the same data folder
    stack = start(tmp_path, data_dir)
    try:
        # Then the same password signs in and the transcript is listed, whole
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


def jfk_twelve_times(audio_dir: Path, path: Path) -> Path:
    """A 132 s English recording, long enough to kill the stack mid-job."""
    import wave

    import numpy as np
    from faster_whisper import decode_audio

    samples = np.tile(decode_audio(str(audio_dir / "fw_jfk.flac")), 12)
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
        # When the process dies mid-job
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
