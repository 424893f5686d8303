"""Live sessions over the emulator: a retried POST /live (Idempotency-Key), discarding a session
(POST /live/{id}/cancel) while its worker runs, and the seconds jobs in flight hold (GET /me/usage).
"""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest

from grabadora.adapters.live_frames import LiveFramesTable
from grabadora.adapters.object_store import ObjectStore
from grabadora.client import ApiError, GrabadoraClient
from gpu_container.job import JobOutcome
from tests.integration.test_live import _frames, _message, _run, jfk_pcm  # noqa: F401 - a fixture

pytestmark = pytest.mark.integration


def _post_live(api_url: str, client: GrabadoraClient, body: dict, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {client.token}", **({"Idempotency-Key": key} if key else {})}
    return httpx.post(f"{api_url}/live", json=body, headers=headers)


def _without_token(body: dict) -> dict:
    return {**body, "stream_url": body["stream_url"].split("?")[0]}


def test_a_retried_start_with_the_same_key_is_one_session(
    client: GrabadoraClient, other_client: GrabadoraClient, api_url: str
) -> None:
    key = str(uuid.uuid4())
    body = {"language": "en", "title": "Reintento"}
    # Given a POST /live whose answer the client never saw
    first = _post_live(api_url, client, body, key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    # When it retries with the same key and body
    again = _post_live(api_url, client, body, key)
    # Then it gets the same session, marked as a replay, and no second session exists
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert _without_token(again.json()) == _without_token(first.json())
    live_items = [i for i in client.list_transcripts(status="live")["items"] if i["title"] == "Reintento"]
    assert [i["id"] for i in live_items] == [first.json()["live_id"]]
    # The stream URL of the replay works (a fresh stream token for the same session)
    assert client.usage()["jobs_in_flight"] == 1
    # The same key with another body is refused, saying why
    other = _post_live(api_url, client, {"language": "es"}, key)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    # Another user's same key is that user's own session
    theirs = _post_live(api_url, other_client, body, key)
    assert theirs.status_code == 201 and theirs.json()["live_id"] != first.json()["live_id"]
    # A malformed key is refused
    assert _post_live(api_url, client, body, "x" * 300).status_code == 422
    # The Python client sends a key of its own and reuses it on retry
    session = client.start_live(language="en", idempotency_key=key, title="Reintento")
    assert session["live_id"] == first.json()["live_id"]
    for live_id in {first.json()["live_id"], theirs.json()["live_id"]}:
        (client if live_id == first.json()["live_id"] else other_client).cancel_live(live_id)


def test_discarding_a_session_stops_its_worker_and_keeps_nothing(
    client: GrabadoraClient, other_client: GrabadoraClient, worker, transcriber, jfk_pcm, api_url: str
) -> None:
    # Given a live session with its worker running and 4 s of audio in
    session = client.start_live(language="en", title="Para descartar")
    live_id = session["live_id"]
    user_id = _message(client, live_id).user_id
    assert client.usage()["reserved_seconds"] == session["max_seconds"]
    thread, result = _run(worker, transcriber, _message(client, live_id))
    for seq, frame in enumerate(_frames(jfk_pcm[: 4 * 32000])):
        client.send_frame(live_id, seq, frame)
    # ...and words already on the stream
    deadline = time.monotonic() + 60
    seen: list[str] = []

    def follow() -> None:
        try:
            for event in client.events(session["stream_url"], max_reconnects=0):
                if event.event == "delta":
                    seen.append(event.data["text"])
        except Exception:  # noqa: BLE001 - the stream's session is gone: the follower just ends
            pass

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    while not seen and time.monotonic() < deadline:
        time.sleep(0.1)
    assert seen, "no word was confirmed before the discard"
    # Another user cannot discard it, nor can a request without credentials
    with pytest.raises(ApiError) as foreign:
        other_client.cancel_live(live_id)
    assert foreign.value.status == 404
    assert httpx.post(f"{api_url}/live/{live_id}/cancel").status_code == 401
    # When its user discards it
    assert client.cancel_live(live_id) == {"live_id": live_id, "status": "cancelled"}
    # Then the worker stops at its next look, keeping nothing
    thread.join(timeout=30)
    assert result == [JobOutcome.GONE]
    with pytest.raises(ApiError) as gone:
        client.get_transcript(live_id)
    assert gone.value.status == 404
    assert all(i["id"] != live_id for i in client.list_transcripts()["items"])
    assert LiveFramesTable().read(live_id, -1) == []
    store = ObjectStore()
    assert store.keys_under(f"audio/{user_id}/{live_id}/") == [] and store.keys_under(f"transcripts/{user_id}/{live_id}") == []
    # And the quota it held is free; the seconds already transcribed count, as no job
    usage = client.usage()
    assert usage["reserved_seconds"] == 0 and usage["jobs_in_flight"] == 0
    assert usage["audio_seconds"] == pytest.approx(4.0, abs=0.6) and usage["jobs"] == 0
    # A repeat answers the same; frames, stops and unknown ids get 404
    assert client.cancel_live(live_id)["status"] == "cancelled"
    with pytest.raises(ApiError) as refused:
        client.send_frame(live_id, 100, b"\0\0")
    assert refused.value.status == 404
    with pytest.raises(ApiError) as refused:
        client.cancel_live("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert refused.value.status == 404


def test_discarding_a_session_nobody_claimed_yet_is_immediate(client: GrabadoraClient, worker, transcriber) -> None:
    # Given a session whose worker has not started yet, with a frame in
    session = client.start_live(language="en", final_pass=True)
    client.send_frame(session["live_id"], 0, b"\0\0" * 8000)
    client.stop_live(session["live_id"], frames=1)
    # When it is discarded, and its message reaches a worker later
    message = _message(client, session["live_id"])
    client.cancel_live(session["live_id"])
    thread, result = _run(worker, transcriber, message)
    thread.join(timeout=30)
    # Then the worker does nothing with it, and nothing counts
    assert result == [JobOutcome.GONE]
    assert LiveFramesTable().read(session["live_id"], -1) == []
    assert client.usage()["audio_seconds"] == 0


def test_usage_reports_the_seconds_jobs_in_flight_hold(
    client: GrabadoraClient, audio_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grabadora.settings import get_settings

    # Given a 100 s quota, and a queued 11 s file job (no worker runs here)
    monkeypatch.setenv("GRABADORA_MONTHLY_QUOTA_SECONDS", "100")
    get_settings.cache_clear()
    try:
        job = client.transcribe(client.upload(str(audio_dir / "fw_jfk.flac")))
        usage = client.usage()
        assert usage["reserved_seconds"] == pytest.approx(11.0, abs=0.2) and usage["jobs_in_flight"] == 1
        assert usage["remaining_seconds"] == pytest.approx(100 - usage["reserved_seconds"], abs=0.01)
        # When a live session starts, it holds what is left of the quota
        session = client.start_live(language="en")
        usage = client.usage()
        assert usage["reserved_seconds"] == pytest.approx(100, abs=0.01) and usage["jobs_in_flight"] == 2
        assert usage["remaining_seconds"] == 0
        # Then a submit is refused, and usage said why; discarding the session frees its part
        with pytest.raises(ApiError) as refused:
            client.transcribe(client.upload(str(audio_dir / "fw_jfk.flac")))
        assert refused.value.status == 429 and "held by jobs in flight" in refused.value.detail
        client.cancel_live(session["live_id"])
        assert client.usage()["reserved_seconds"] == pytest.approx(11.0, abs=0.2)
        client.delete_transcript(job["job_id"])
        assert client.usage()["reserved_seconds"] == 0
    finally:
        monkeypatch.delenv("GRABADORA_MONTHLY_QUOTA_SECONDS")
        get_settings.cache_clear()


def test_discarding_a_completed_session_removes_it_and_its_share_links(
    client: GrabadoraClient, worker, transcriber, jfk_pcm, api_url: str
) -> None:
    # Given a session that ended and was shared
    session = client.start_live(language="en")
    for seq, frame in enumerate(_frames(jfk_pcm[: 3 * 32000])):
        client.send_frame(session["live_id"], seq, frame)
    client.stop_live(session["live_id"], frames=6)
    thread, result = _run(worker, transcriber, _message(client, session["live_id"]))
    thread.join(timeout=60)
    assert result == [JobOutcome.COMPLETED]
    made = client._http.post(f"transcripts/{session['live_id']}/shares", json={}, headers=client._auth)
    assert made.status_code == 201
    assert httpx.get(f"{api_url}/shared/{made.json()['token']}").status_code == 200
    # When it is discarded, the transcript and the link are gone
    assert client.cancel_live(session["live_id"])["status"] == "cancelled"
    with pytest.raises(ApiError) as gone:
        client.get_transcript(session["live_id"])
    assert gone.value.status == 404
    assert httpx.get(f"{api_url}/shared/{made.json()['token']}").status_code == 404
