"""The user's languages end to end: the account keeps them, a job with no language is detected
among them (multilingual `base`, since the suite's `tiny.en` knows only English), a forced
language is obeyed, and one call transcribes again in another language."""

from __future__ import annotations

import uuid
import wave
from pathlib import Path

import pytest

from grabadora.client import GrabadoraClient
from grabadora.settings import get_settings
from tests.integration.conftest import drain

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def base_worker(aws_endpoint: str):
    """A worker with the multilingual `base` model on the same jobs queue."""
    from gpu_container.transcriber import Transcriber
    from gpu_container.worker import build_worker

    w = build_worker(get_settings())
    w.transcriber = Transcriber("base", "cpu")
    w.transcriber.load()
    w.wait_seconds = 1
    yield w
    if w.ports.publisher is not None:
        w.ports.publisher.close()


def cut_wav(source: Path, target: Path, seconds: float) -> Path:
    """The first `seconds` of a PCM WAV."""
    with wave.open(str(source)) as src:
        frames = src.readframes(round(seconds * src.getframerate()))
        params = src.getparams()
    with wave.open(str(target), "wb") as out:
        out.setparams(params)
        out.writeframes(frames)
    return target


def signed_up(api_url: str, accept_language: str) -> GrabadoraClient:
    client = GrabadoraClient(api_url)
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    response = client._http.post(
        "auth/signup", json={"email": email, "password": "correct horse battery"}, headers={"Accept-Language": accept_language}
    )
    assert response.status_code == 201, response.text
    assert response.json()["languages"] == (["es"] if accept_language.startswith("es") else ["en", "es"])
    client.sign_in(email, "correct horse battery")
    return client


def languages(client: GrabadoraClient, put: list[str] | None = None) -> list[str]:
    if put is None:
        response = client._http.get("me/languages", headers=client._auth)
    else:
        response = client._http.put("me/languages", json={"languages": put}, headers=client._auth)
    assert response.status_code == 200, response.text
    return response.json()["languages"]


def run(client: GrabadoraClient, worker, path: Path, **options) -> dict:
    job = client.transcribe(client.upload(str(path)), **options)
    drain(worker)
    transcript = client.get_transcript(job["job_id"])
    assert transcript["status"] == "completed", transcript.get("error")
    return transcript


def test_a_short_spanish_clip_from_a_spanish_speaker_comes_back_spanish(
    api_url: str, base_worker, audio_dir: Path, tmp_path: Path
) -> None:
    # Given an account made from a Spanish browser, and the first 3 s of a Spanish reading
    # (unrestricted, `base` hears the first 2 s of it as Arabic)
    with signed_up(api_url, "es-ES,es;q=0.9") as client:
        assert languages(client) == ["es"]
        clip = cut_wav(audio_dir / "pv_leopard_test_es.wav", tmp_path / "corto_es.wav", 3.0)
        # When it is transcribed with no language
        transcript = run(client, base_worker, clip)
        # Then it is Spanish, and the transcript says how that was decided
        assert transcript["language"] == "es"
        assert transcript["language_source"] in ("detected", "preferred_fallback")
        assert transcript["language_unsure"] == (transcript["language_source"] == "preferred_fallback")
        assert "arena" in transcript["text"].lower()
        # And a forced language is obeyed, whatever the account speaks
        forced = run(client, base_worker, clip, language="fr")
        assert (forced["language"], forced["language_source"], forced["language_unsure"]) == ("fr", "forced", False)
        # And one call transcribes it again in Spanish as a new job; the French one stays
        response = client._http.post(f"transcripts/{forced['id']}/retranscribe", json={"language": "es"}, headers=client._auth)
        assert response.status_code == 202, response.text
        drain(base_worker)
        again = client.get_transcript(response.json()["job_id"])
        assert (again["language"], again["language_source"]) == ("es", "forced")
        assert "arena" in again["text"].lower()
        assert client.get_transcript(forced["id"])["language"] == "fr"
        assert again["title"] == forced["title"]


def test_an_english_clip_from_a_speaker_of_spanish_and_english_comes_back_english(
    api_url: str, base_worker, audio_dir: Path
) -> None:
    with signed_up(api_url, "en-US,en;q=0.9,es;q=0.5") as client:
        assert languages(client, ["es", "en"]) == ["es", "en"]
        assert languages(client) == ["es", "en"]
        transcript = run(client, base_worker, audio_dir / "pv_cheetah_test_en.wav")
        assert (transcript["language"], transcript["language_source"]) == ("en", "detected")
        assert transcript["language_probability"] > 0.5
        assert "platforms" in transcript["text"].lower()


def test_languages_are_validated(client: GrabadoraClient) -> None:
    response = client._http.put("me/languages", json={"languages": ["es", "klingon"]}, headers=client._auth)
    assert response.status_code in (400, 422)
    response = client._http.put("me/languages", json={"languages": []}, headers=client._auth)
    assert response.status_code in (400, 422)
    # An account made before languages existed (or that never said) speaks Spanish.
    assert languages(client) == ["es"]
