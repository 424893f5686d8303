"""API → S3 → SQS → worker → DynamoDB → relay, over the emulator's real HTTP, with tiny.en."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from faster_whisper import decode_audio

from grabadora.doorbell import local_doorbell
from grabadora.client import ApiError, GrabadoraClient, StreamEvent
from grabadora.models import TranscribeOptions
from grabadora.settings import get_settings
from gpu_container.transcriber import transcribe_kwargs
from tests.conftest import wer
from tests.integration.conftest import drain


def direct_text(transcriber, path, options: TranscribeOptions) -> str:
    """What faster-whisper itself returns for the same model and settings."""
    model = transcriber.load(options.profile)
    segments, _ = model.transcribe(decode_audio(str(path)), **transcribe_kwargs(options, transcriber.profile(options.profile)))
    return "".join(s.text for s in segments)


def submit(client: GrabadoraClient, path, **options) -> dict:
    return client.transcribe(client.upload(str(path)), **options)


def test_a_job_streams_every_word_in_order_and_stores_the_transcript(
    client: GrabadoraClient, worker, transcriber, audio_dir, references
) -> None:
    # Given jfk.flac uploaded and submitted
    path = audio_dir / "fw_jfk.flac"
    job = submit(client, path, title="JFK", tags=["discurso"])
    # When the worker handles the queue
    drain(worker)
    # Then the stream replays gap-free events from seq 0 that end with `completed`
    events = list(client.events(job["stream_url"]))
    assert [e.id for e in events] == list(range(len(events)))
    assert events[-1].event == "completed"
    assert {e.event for e in events[:-1]} == {"delta", "progress"}
    deltas = [e.data for e in events if e.event == "delta"]
    # And the deltas are words with times, joining to exactly faster-whisper's own text
    assert all(set(d) == {"text", "t0", "t1"} and d["t0"] <= d["t1"] for d in deltas)
    streamed = "".join(d["text"] for d in deltas)
    assert streamed == direct_text(transcriber, path, TranscribeOptions())
    assert wer(references["fw_jfk.flac"]["reference"], streamed, "en") < 0.15
    # And progress reaches the end
    progress = [e.data for e in events if e.event == "progress"]
    assert progress[-1]["duration_s"] == pytest.approx(11.0, abs=0.1)
    # And the stored transcript matches, and the item is completed
    completed = events[-1].data
    assert completed["job_id"] == job["job_id"] and completed["language"] == "en"
    assert completed["transcript_key"] == f"transcripts/{_user_id(client)}/{job['job_id']}.json"
    transcript = client.get_transcript(job["job_id"])
    assert transcript["status"] == "completed" and transcript["title"] == "JFK" and transcript["tags"] == ["discurso"]
    assert transcript["text"] == streamed.strip()
    assert [w["text"] for s in transcript["segments"] for w in s["words"]] == [d["text"] for d in deltas]
    assert httpx.get(transcript["audio_url"]).content == path.read_bytes()


def test_resume_from_last_event_id_replays_only_what_follows(client: GrabadoraClient, worker, audio_dir) -> None:
    job = submit(client, audio_dir / "pv_cheetah_test_en.wav")
    drain(worker)
    everything = list(client.events(job["stream_url"]))
    # When a client reconnects saying it saw event 2
    resumed = list(client.events(job["stream_url"], last_event_id=2))
    # Then it gets exactly the events after 2
    assert [e.id for e in resumed] == [e.id for e in everything[3:]]
    assert resumed[-1].event == "completed"


def test_uploads_and_streams_reuse_the_clients_connection_pool(
    client: GrabadoraClient, worker, audio_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Building an httpx.Client loads the TLS trust store (~50 ms): per upload and per stream,
    # that was most of the client's upload time in the pipeline benchmark.
    built = []
    real_init = httpx.Client.__init__
    monkeypatch.setattr(httpx.Client, "__init__", lambda self, *a, **k: built.append(1) or real_init(self, *a, **k))
    job = submit(client, audio_dir / "pv_cheetah_test_en.wav")
    drain(worker)
    first, again = list(client.events(job["stream_url"])), list(client.events(job["stream_url"], last_event_id=0))
    assert first[-1].event == again[-1].event == "completed"
    assert built == []


def test_multipart_small_file_goes_through_the_same_pipeline(client: GrabadoraClient, worker, audio_dir) -> None:
    job = client.transcribe_file(str(audio_dir / "pv_cheetah_test_en.wav"), language="en", word_timestamps=False)
    drain(worker)
    events = list(client.events(job["stream_url"]))
    assert events[-1].event == "completed"
    # Without word timestamps a delta is a whole segment
    deltas = [e.data for e in events if e.event == "delta"]
    assert len(deltas) == len(client.get_transcript(job["job_id"])["segments"])
    assert "platforms" in "".join(d["text"] for d in deltas).lower()


def test_streams_are_private(api_url: str, client: GrabadoraClient, other_client: GrabadoraClient, worker, audio_dir) -> None:
    job = submit(client, audio_dir / "pv_cheetah_test_en.wav")
    second = submit(client, audio_dir / "deepspeech_LDC93S1_pcms16le_1_8000.wav")
    drain(worker)
    path = f"/transcribe/{job['job_id']}"
    # Another user's bearer token: 404, not 403
    foreign = httpx.get(f"{api_url}{path}", headers={"Authorization": f"Bearer {other_client.token}"})
    assert foreign.status_code == 404
    with pytest.raises(ApiError) as e:
        other_client.get_transcript(job["job_id"])
    assert e.value.status == 404
    # A stream token opens only its own job
    token = second["stream_url"].split("token=")[1]
    assert httpx.get(f"{api_url}{path}?token={token}").status_code == 404
    # No credentials: 401; the owner's bearer token works
    assert httpx.get(f"{api_url}{path}").status_code == 401
    owner = httpx.get(f"{api_url}{path}", headers={"Authorization": f"Bearer {client.token}"})
    assert owner.status_code == 200 and owner.headers["content-type"].startswith("text/event-stream")
    assert "event: completed" in owner.text


@pytest.mark.parametrize(
    "name, outcome",
    [
        ("edge_aeneas_mono.empty_0bytes.wav", "rejected"),
        ("edge_aeneas_mono.invalid.wav", "error"),
        ("edge_aeneas_mono.zero_samples.wav", "empty"),
        ("edge_aeneas_vad_zero.wav", "empty"),
    ],
)
def test_edge_files_end_clearly_and_the_next_job_still_runs(
    client: GrabadoraClient, worker, audio_dir, name: str, outcome: str
) -> None:
    path = audio_dir / name
    if outcome == "rejected":
        # A 0-byte file is refused before anything is stored
        with pytest.raises(ApiError) as e:
            client.create_upload(name, "audio/wav", path.stat().st_size)
        assert e.value.status == 422 and "empty" in e.value.detail
        with pytest.raises(ApiError) as sent:
            client.transcribe_file(str(path))
        assert sent.value.status == 422 and "empty" in sent.value.detail
    else:
        job = client.transcribe_file(str(path))
        drain(worker)
        events = list(client.events(job["stream_url"]))
        if outcome == "error":
            assert events[-1].event == "error"
            assert "could not be decoded" in events[-1].data["detail"] and "Traceback" not in events[-1].data["detail"]
            assert client.get_transcript(job["job_id"])["status"] == "failed"
        else:
            assert events[-1].event == "completed"
            assert [e for e in events if e.event == "delta"] == []
            assert client.get_transcript(job["job_id"])["text"] == ""
    # And the stack keeps serving: the next job completes
    after = client.transcribe_file(str(audio_dir / "pv_cheetah_test_en.wav"))
    drain(worker)
    assert list(client.events(after["stream_url"]))[-1].event == "completed"


def test_a_text_file_named_mp3_fails_with_a_reason(client: GrabadoraClient, worker, tmp_path) -> None:
    fake = tmp_path / "song.mp3"
    fake.write_text("this is not audio at all\n" * 20)
    job = client.transcribe_file(str(fake))
    drain(worker)
    last = list(client.events(job["stream_url"]))[-1]
    assert last.event == "error" and "could not be decoded" in last.data["detail"]


def test_events_are_published_to_the_iot_topic(client: GrabadoraClient, worker, audio_dir) -> None:
    job = submit(client, audio_dir / "pv_cheetah_test_en.wav")
    drain(worker)
    worker.ports.publisher.flush()
    events = list(client.events(job["stream_url"]))
    # The worker published over the iot-data HTTP API; the emulator runs in this process, so what
    # it received can be read from its backend (moto has no MQTT subscribers to listen with).
    topic = f"grabadora/{_user_id(client)}/jobs/{job['job_id']}/events"
    published = [json.loads(payload) for t, payload in _iot_payloads() if t == topic]
    assert [p["id"] for p in published] == [e.id for e in events]
    assert [p["event"] for p in published] == [e.event for e in events]
    assert published[-1]["data"] == events[-1].data


def _iot_payloads() -> list[tuple[str, bytes]]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iotdata.models import iotdata_backends

    return iotdata_backends[DEFAULT_ACCOUNT_ID][get_settings().region].published_payloads


def _user_id(client: GrabadoraClient) -> str:
    import jwt

    return jwt.decode(client.token, options={"verify_signature": False})["sub"]


@pytest.fixture
def slow_relay_poll() -> Iterator[float]:
    """The relay polls DynamoDB only every 5 s while the test runs."""
    names = ("GRABADORA_RELAY_POLL_MIN_SECONDS", "GRABADORA_RELAY_POLL_MAX_SECONDS")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(dict.fromkeys(names, "5"))
    get_settings.cache_clear()
    try:
        yield 5.0
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def test_a_worker_in_the_relays_process_wakes_its_streams_at_each_commit(
    client: GrabadoraClient, worker, audio_dir, slow_relay_poll: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a worker whose commits ring this process's doorbell, as `grabadora dev` wires it,
    # and a job with a live listener, on a relay that polls only every 5 s
    monkeypatch.setattr(worker, "ports", dataclasses.replace(worker.ports, doorbell=local_doorbell))
    job = submit(client, audio_dir / "fw_jfk.flac")
    received: list[tuple[float, StreamEvent]] = []

    def listen() -> None:
        for event in client.events(job["stream_url"]):
            received.append((time.monotonic(), event))

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    deadline = time.monotonic() + 10
    while local_doorbell.listeners(job["job_id"]) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    # When the worker, in this same process, transcribes it
    assert worker.poll_once()
    finished = time.monotonic()
    listener.join(timeout=15)
    # Then every event arrives, `completed` within half a second of the worker finishing,
    # not a poll (up to 5 s) later
    assert received and received[-1][1].event == "completed"
    assert [e.id for _, e in received] == list(range(len(received)))
    assert received[-1][0] - finished < 0.5 < slow_relay_poll


def test_a_quiet_stream_sends_heartbeats(api_url: str, client: GrabadoraClient, audio_dir) -> None:
    # Given a queued job no worker has picked up yet (heartbeat interval is 1 s in these tests)
    job = submit(client, audio_dir / "pv_cheetah_test_en.wav")
    # When a client listens for a while
    lines: list[str] = []
    with httpx.stream("GET", f"{api_url}{job['stream_url']}", timeout=10) as response:
        start = time.monotonic()
        for line in response.iter_lines():
            lines.append(line)
            if time.monotonic() - start > 2.5:
                break
    # Then comment lines keep the connection alive, and no event was invented
    assert any(line.startswith(":") for line in lines)
    assert not any(line.startswith("event:") for line in lines)


def test_hotwords_and_an_initial_prompt_steer_the_vocabulary(client: GrabadoraClient, worker, audio_dir) -> None:
    # Given fw_hotwords.mp3, where tiny.en alone hears "comfy eye"
    path = str(audio_dir / "fw_hotwords.mp3")
    plain = client.transcribe(client.upload(path))
    # When it is sent with the hotword (JSON) and with an initial prompt (multipart)
    hot = client.transcribe(client.upload(path), hotwords="ComfyUI")
    prompted = client.transcribe_file(path, initial_prompt="ComfyUI")
    drain(worker)
    # Then both spell it as asked, and without them it does not
    assert "ComfyUI" not in client.get_transcript(plain["job_id"])["text"]
    assert "ComfyUI" in client.get_transcript(hot["job_id"])["text"]
    assert "ComfyUI" in client.get_transcript(prompted["job_id"])["text"]
    # And the options are kept with the job
    assert client.get_transcript(hot["job_id"])["options"]["hotwords"] == "ComfyUI"
    # And a bad task is a 422 naming the field
    with pytest.raises(ApiError) as caught:
        client.transcribe(client.upload(path), task="summarise")
    assert caught.value.status == 422 and "task" in str(caught.value.detail)


def test_diarization_labels_every_word_and_the_subtitles(client: GrabadoraClient, worker, audio_dir, references) -> None:
    # Given the three-speaker recording, sent with diarization on
    job = client.transcribe(client.upload(str(audio_dir / "pv_leopard_diarization_test.wav")), diarization=True)
    drain(worker)
    transcript = client.get_transcript(job["job_id"])
    # Then every word and segment carries a speaker, S1 first, and more than one speaker is found
    words = [w for s in transcript["segments"] for w in s["words"]]
    assert words and all(w["speaker"] for w in words) and all(s["speaker"] for s in transcript["segments"])
    assert words[0]["speaker"] == "S1" and len(transcript["speakers"]) >= 2
    # And the first reference speaker's words ("and so it begins") share one label, unlike the last's
    first, last = words[0]["speaker"], words[-1]["speaker"]
    assert first != last
    # And the subtitles name the speakers
    assert "S1:" in client.download(job["job_id"], "srt").text
    # And impossible bounds are a 422 naming them
    with pytest.raises(ApiError) as caught:
        client.transcribe(client.upload(str(audio_dir / "fw_jfk.flac")), diarization=True, min_speakers=3, max_speakers=2)
    assert caught.value.status == 422 and "min_speakers" in str(caught.value.detail)
