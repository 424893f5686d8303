"""A new user's path through the whole local stack: real models, real recordings, real processes."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from faster_whisper import WhisperModel, decode_audio

from gpu_container.model_store import resolve_model
from gpu_container.profiles import decode_profile
from gpu_container.transcriber import transcribe_kwargs
from grabadora.client import GrabadoraClient
from grabadora.models import QualityProfile, TranscribeOptions
from tests.conftest import wer
from tests.e2e.conftest import BIN, Stack

_models: dict[str, WhisperModel] = {}


def direct_text(model: str, path: Path, options: TranscribeOptions) -> str:
    """faster-whisper called directly with the worker's model and settings."""
    profile = decode_profile("cpu", options.profile)
    if model not in _models:
        _models[model] = WhisperModel(str(resolve_model(model)), device="cpu", compute_type=profile.compute_type)
    segments, _ = _models[model].transcribe(decode_audio(str(path)), **transcribe_kwargs(options, profile))
    return "".join(s.text for s in segments)


def test_cli_transcribes_english_live_with_tiny_en(tiny_stack: Stack, audio_dir: Path, references: dict) -> None:
    # Given an account made with the CLI
    env = {**tiny_stack.env, "GRABADORA_API_URL": tiny_stack.url, "GRABADORA_EMAIL": "cli@example.com",
           "GRABADORA_PASSWORD": "una clave muy larga"}
    signup = subprocess.run([str(BIN / "grabadora"), "signup"], env=env, capture_output=True, text=True, timeout=60)
    assert signup.returncode == 0, signup.stderr
    # When transcribing jfk.flac with the CLI
    path = audio_dir / "fw_jfk.flac"
    result = subprocess.run(
        [str(BIN / "grabadora"), "transcribe", str(path), "--title", "JFK", "--live"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    # Then it prints the words live, then the final transcript, and exits 0
    assert result.returncode == 0, result.stderr
    expected = direct_text("tiny.en", path, TranscribeOptions())
    live, final = result.stdout.split("\n\n", 1)
    assert live == expected
    assert final.strip() == expected.strip()
    assert wer(references["fw_jfk.flac"]["reference"], final, "en") < 0.15
    assert "JFK" in result.stderr and "en" in result.stderr
    # And the transcript knows its file's digest (the web app warns before it is sent again)
    with GrabadoraClient(tiny_stack.url) as client:
        client.sign_in("cli@example.com", "una clave muy larga")
        found = client.list_transcripts(source_sha256=hashlib.sha256(path.read_bytes()).hexdigest())["items"]
    assert [t["title"] for t in found] == ["JFK"]


def test_cli_reports_the_servers_reason_on_bad_audio(tiny_stack: Stack, audio_dir: Path) -> None:
    env = {**tiny_stack.env, "GRABADORA_API_URL": tiny_stack.url, "GRABADORA_EMAIL": "bad@example.com",
           "GRABADORA_PASSWORD": "una clave muy larga"}
    subprocess.run([str(BIN / "grabadora"), "signup"], env=env, capture_output=True, timeout=60)
    result = subprocess.run(
        [str(BIN / "grabadora"), "transcribe", str(audio_dir / "edge_aeneas_mono.invalid.wav")],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1
    assert "could not be decoded as audio" in result.stderr
    assert "Traceback" not in result.stderr


def test_spanish_with_the_default_base_model(base_stack: Stack, audio_dir: Path, references: dict) -> None:
    # Given a Spanish recording and no language given
    path = audio_dir / "pv_leopard_test_es.wav"
    with base_stack.client() as client:
        job = client.transcribe(client.upload(str(path)), title="Arenas")
        events = list(client.events(job["stream_url"]))
        transcript = client.get_transcript(job["job_id"])
    # Then Spanish is detected and the stream joins to exactly what faster-whisper says
    streamed = "".join(e.data["text"] for e in events if e.event == "delta")
    assert streamed == direct_text("base", path, TranscribeOptions())
    assert events[-1].event == "completed" and events[-1].data["language"] == "es"
    assert transcript["language"] == "es" and transcript["text"] == streamed.strip()
    assert wer(references["pv_leopard_test_es.wav"]["reference"], streamed, "es") < 0.35


def test_a_worker_killed_mid_job_and_restarted_loses_and_repeats_no_word(base_stack: Stack, audio_dir: Path) -> None:
    # Given a 70 s Spanish recording being transcribed
    path = audio_dir / "aeneas_capitan_veneno_es.mp3"
    worker = base_stack.workers[-1]
    with base_stack.client() as client:
        job = client.transcribe(client.upload(str(path)), language="es")
        events = []
        stream = client.events(job["stream_url"])
        # When the worker is killed (SIGKILL: no cleanup) right after the first words arrive
        for event in stream:
            events.append(event)
            if event.event == "delta":
                break
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        # And a new worker starts; the message reappears after its visibility timeout
        base_stack.start_worker()
        events.extend(stream)
        transcript = client.get_transcript(job["job_id"])
    # Then the stream is gap-free, has each word once, and equals faster-whisper's own text
    assert [e.id for e in events] == list(range(len(events)))
    assert events[-1].event == "completed"
    streamed = "".join(e.data["text"] for e in events if e.event == "delta")
    assert streamed == direct_text("base", path, TranscribeOptions(language="es"))
    assert transcript["attempts"] == 2 and transcript["text"] == streamed.strip()


def test_a_corrected_transcript_reaches_a_signed_webhook_and_the_srt(tiny_stack: Stack, audio_dir: Path) -> None:
    import http.server
    import json
    import threading

    import srt

    from grabadora.integrations.webhook import verify_signature

    received: list[dict] = []
    secret = "un secreto de webhook bastante largo"

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ok = verify_signature(secret, self.headers["X-Grabadora-Timestamp"], body, self.headers["X-Grabadora-Signature"])
            received.append({"verified": ok, "payload": json.loads(body)})
            self.send_response(204 if ok else 401)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # Given a finished transcript whose first line the user corrected
        client = tiny_stack.client()
        job = client.transcribe(client.upload(str(audio_dir / "fw_jfk.flac")), title="Discurso de Kennedy")
        assert list(client.events(job["stream_url"]))[-1].event == "completed"
        client.update_transcript(job["job_id"], segments=[{"id": 0, "text": "Texto corregido por la usuaria."}])
        # When it is sent to the user's webhook
        client.set_integrations(webhook={"url": f"http://127.0.0.1:{server.server_port}/hook", "secret": secret})
        export = client.export(job["job_id"], "webhook")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            record = {e["id"]: e for e in client.get_transcript(job["job_id"])["exports"]}[export["id"]]
            if record["status"] in ("delivered", "failed"):
                break
            time.sleep(0.3)
        # Then the receiver verified the signature and got the corrected text, and it is recorded
        assert record["status"] == "delivered", record
        assert [r["verified"] for r in received] == [True]
        assert received[0]["payload"]["transcript"]["text"].startswith("Texto corregido por la usuaria.")
        # And the SRT download parses and carries the correction
        cues = list(srt.parse(client.download(job["job_id"], "srt").text))
        assert cues[0].index == 1 and "Texto corregido" in cues[0].content
    finally:
        server.shutdown()


def test_spanish_speech_translated_to_english_with_base(base_stack: Stack, audio_dir: Path) -> None:
    # Given Spanish speech, with task=translate
    client = base_stack.client()
    job = client.transcribe(client.upload(str(audio_dir / "pv_leopard_test_es.wav")), task="translate")
    events = list(client.events(job["stream_url"]))
    assert events[-1].event == "completed"
    # Then the words are English, the language detected is still Spanish, with its probability
    transcript = client.get_transcript(job["job_id"])
    assert "sand" in transcript["text"].lower() and "arena" not in transcript["text"].lower()
    assert transcript["language"] == "es" and transcript["language_probability"] > 0.5
