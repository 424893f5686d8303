"""The OpenAI-compatible endpoint, driven by the official `openai` client, through the real pipeline."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import openai
import pytest
import srt
import webvtt

from grabadora.client import GrabadoraClient
from tests.conftest import wer


@pytest.fixture(scope="module")
def running_worker(worker) -> Iterator[None]:
    """The worker polling in the background: /v1 requests wait for their job like real clients."""
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)


@pytest.fixture
def api_key(client: GrabadoraClient) -> str:
    response = client._http.post("me/api-keys", json={"name": "tests"}, headers=client._auth)
    assert response.status_code == 201
    return response.json()["key"]


@pytest.fixture
def oai(api_url: str, api_key: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{api_url}/v1", api_key=api_key, max_retries=0, timeout=120) as client:
        yield client


def test_every_response_format_is_accepted_by_the_official_client(
    oai: openai.OpenAI, running_worker: None, audio_dir, references
) -> None:
    path = audio_dir / "fw_jfk.flac"
    reference = references["fw_jfk.flac"]["reference"]
    # json
    with open(path, "rb") as f:
        result = oai.audio.transcriptions.create(model="whisper-1", file=f)
    assert wer(reference, result.text, "en") < 0.15
    # verbose_json with words
    with open(path, "rb") as f:
        verbose = oai.audio.transcriptions.create(
            model="whisper-1", file=f, response_format="verbose_json", timestamp_granularities=["word", "segment"]
        )
    assert verbose.language == "english" and verbose.duration == pytest.approx(11.0, abs=0.1)
    # And Grabadora's additions say how the language was decided (tiny.en: English, no detection)
    extra = verbose.model_extra or {}
    assert extra["language_code"] == "en" and extra["language_source"] == "detected" and extra["language_unsure"] is False
    assert verbose.segments and verbose.segments[0].start >= 0
    assert len(verbose.words) >= 20 and all(w.start <= w.end for w in verbose.words)
    # text, srt, vtt come back as strings the parsers accept
    with open(path, "rb") as f:
        text = oai.audio.transcriptions.create(model="whisper-1", file=f, response_format="text")
    assert "country" in text
    with open(path, "rb") as f:
        cues = list(srt.parse(oai.audio.transcriptions.create(model="whisper-1", file=f, response_format="srt")))
    assert cues[0].index == 1 and "country" in " ".join(c.content for c in cues)
    with open(path, "rb") as f:
        vtt = webvtt.from_string(oai.audio.transcriptions.create(model="whisper-1", file=f, response_format="vtt"))
    assert "country" in " ".join(c.text for c in vtt)


def test_prompt_and_streaming(oai: openai.OpenAI, running_worker: None, audio_dir) -> None:
    # The prompt steers vocabulary like Whisper's own API
    with open(audio_dir / "fw_hotwords.mp3", "rb") as f:
        result = oai.audio.transcriptions.create(model="whisper-1", file=f, prompt="ComfyUI")
    assert "ComfyUI" in result.text
    # stream=true answers with OpenAI's event shapes, word by word
    with open(audio_dir / "fw_jfk.flac", "rb") as f:
        stream = oai.audio.transcriptions.create(model="whisper-1", file=f, stream=True)
        events = list(stream)
    deltas = [e for e in events if e.type == "transcript.text.delta"]
    done = [e for e in events if e.type == "transcript.text.done"]
    assert len(deltas) >= 20 and len(done) == 1
    assert "".join(d.delta for d in deltas).strip() == done[0].text.strip()
    assert "country" in done[0].text


def test_jobs_from_the_api_land_in_the_library(
    oai: openai.OpenAI, client: GrabadoraClient, running_worker: None, audio_dir
) -> None:
    with open(audio_dir / "fw_jfk.flac", "rb") as f:
        oai.audio.transcriptions.create(model="grabadora-fast", file=f)
    items = client.list_transcripts(search="country")["items"]
    assert len(items) == 1 and items[0]["quality_profile"] == "fast"


def test_errors_come_back_in_openais_shape(oai: openai.OpenAI, api_url: str, audio_dir, running_worker: None) -> None:
    # Bad audio: a 400 the client raises, with the worker's reason
    with open(audio_dir / "edge_aeneas_mono.invalid.wav", "rb") as f:
        with pytest.raises(openai.BadRequestError) as caught:
            oai.audio.transcriptions.create(model="whisper-1", file=f)
    assert "could not be decoded" in caught.value.message
    # Unknown response format / bad temperature: 400 naming the parameter
    with open(audio_dir / "fw_jfk.flac", "rb") as f:
        with pytest.raises(openai.BadRequestError) as caught:
            oai.audio.transcriptions.create(model="whisper-1", file=f, response_format="docx")  # type: ignore[arg-type]
    assert caught.value.body["param"] == "response_format"
    with open(audio_dir / "fw_jfk.flac", "rb") as f:
        with pytest.raises(openai.BadRequestError) as caught:
            oai.audio.transcriptions.create(model="whisper-1", file=f, temperature=3)
    assert caught.value.body["param"] == "temperature"
    # A wrong key is a 401
    with openai.OpenAI(base_url=f"{api_url}/v1", api_key="gr_nope", max_retries=0) as stranger:
        with pytest.raises(openai.AuthenticationError):
            stranger.models.list()


def test_keys_are_shown_once_listed_without_secret_and_revocable(client: GrabadoraClient, api_url: str) -> None:
    created = client._http.post("me/api-keys", json={"name": "subtitulador"}, headers=client._auth).json()
    listed = client._http.get("me/api-keys", headers=client._auth).json()
    assert created["key"].startswith("gr_") and created["key"] not in str(listed)
    assert [k["name"] for k in listed] == ["subtitulador"] and listed[0]["hint"].endswith(created["key"][-4:])
    key_auth = {"Authorization": f"Bearer {created['key']}"}
    assert httpx.get(f"{api_url}/v1/models", headers=key_auth).status_code == 200
    # And a key is not a password: it opens /v1, not the account's own routes
    assert httpx.get(f"{api_url}/me/api-keys", headers=key_auth).status_code == 401
    # When revoked, the key stops working at once
    assert client._http.delete(f"me/api-keys/{created['id']}", headers=client._auth).status_code == 204
    assert httpx.get(f"{api_url}/v1/models", headers=key_auth).status_code == 401
    assert client._http.delete(f"me/api-keys/{created['id']}", headers=client._auth).status_code == 404
