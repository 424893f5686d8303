"""Streams that end: resuming at or past a finished job's end, absurd resume points, lean reads."""

from __future__ import annotations

import base64
import json
import threading

import httpx
import pytest

from grabadora.client import ApiError, GrabadoraClient
from tests.integration.conftest import drain
from tests.integration.test_pipeline import submit

pytestmark = pytest.mark.integration


@pytest.fixture
def finished(client: GrabadoraClient, worker, audio_dir) -> tuple[dict, list]:
    job = submit(client, audio_dir / "pv_cheetah_test_en.wav")
    drain(worker)
    return job, list(client.events(job["stream_url"]))


def _follow(client: GrabadoraClient, stream_url: str, last_event_id: int) -> list:
    """The events of a resumed stream, or the failure to end within 10 s."""
    got: list = []
    thread = threading.Thread(target=lambda: got.extend(client.events(stream_url, last_event_id=last_event_id)), daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the resumed stream did not end"
    return got


def test_resuming_a_finished_job_at_its_end_gets_the_end_again_and_closes(client: GrabadoraClient, finished) -> None:
    job, events = finished
    last = events[-1]
    assert last.event == "completed"
    # When an EventSource reconnects with the id of the terminal event
    again = _follow(client, job["stream_url"], last.id)
    # Then it hears the end once more, and the stream closes instead of pinging forever
    assert [(e.id, e.event) for e in again] == [(last.id, "completed")]
    # And resuming one before the end gets just the rest
    assert [e.id for e in _follow(client, job["stream_url"], last.id - 1)] == [last.id]


def test_absurd_resume_points_are_refused(client: GrabadoraClient, finished, api_url: str) -> None:
    job, events = finished
    with pytest.raises(ApiError) as refused:
        list(client.events(job["stream_url"], last_event_id=events[-1].id + 5))
    assert refused.value.status == 422 and "past the job's last event" in refused.value.detail
    response = httpx.get(f"{api_url}{job['stream_url']}", headers={"Last-Event-ID": "-7"})
    assert response.status_code == 422


def test_a_transcript_without_word_timings(client: GrabadoraClient, finished) -> None:
    job, _ = finished
    response = client._http.get(f"transcripts/{job['job_id']}", params={"words": "false"}, headers=client._auth)
    assert response.status_code == 200
    segments = response.json()["segments"]
    assert segments and all(s["words"] is None for s in segments)
    assert all(s["words"] for s in client.get_transcript(job["job_id"])["segments"])


@pytest.mark.parametrize(
    "key",
    [
        lambda uid: {"user_id": {"S": uid}, "transcript_id": {"N": "5"}},
        lambda uid: {"user_id": {"S": uid}, "transcript_id": {"S": 5}},
        lambda uid: {"user_id": {"S": uid}, "transcript_id": {"S": ["x"]}},
        lambda uid: {"user_id": uid, "transcript_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
    ],
)
def test_a_cursor_with_the_right_keys_but_wrong_values_is_refused(client: GrabadoraClient, key) -> None:
    import jwt

    uid = jwt.decode(client.token, options={"verify_signature": False})["sub"]
    cursor = base64.urlsafe_b64encode(json.dumps(key(uid)).encode()).decode().rstrip("=")
    with pytest.raises(ApiError) as refused:
        client.list_transcripts(cursor=cursor)
    assert refused.value.status == 422
