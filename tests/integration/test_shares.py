"""Share links through the API: made by the owner, read by anyone with the link and nothing else
of the account, expiring, revocable, and killed with their transcript or account."""

from __future__ import annotations

import calendar
import json
import random
import time
import uuid

import httpx
import pytest

from grabadora import aws
from grabadora.adapters.object_store import ObjectStore
from grabadora.adapters.shares import LOOKUP_ITEM, lookup_key, token_digest
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.client import GrabadoraClient
from grabadora.errors import NotFound, RateLimited
from grabadora.ids import new_id
from grabadora.models import Segment, Transcript, TranscriptItem, Word, utc_now
from grabadora.services import shares
from grabadora.settings import get_settings
from tests.integration.conftest import new_user

pytestmark = pytest.mark.integration

PUBLIC_KEYS = {"title", "duration", "language", "text", "segments", "audio_url", "expires_at"}
SEGMENT_KEYS = {"id", "t0", "t1", "text", "speaker", "words"}
WORD_KEYS = {"text", "t0", "t1", "speaker"}
AUDIO = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4


def _me(client: GrabadoraClient) -> dict:
    response = client._http.get("me", headers=client._auth)
    response.raise_for_status()
    return response.json()


def _seed(client: GrabadoraClient, *, status: str = "completed") -> tuple[str, str]:
    """A completed two-speaker transcript of the client's, with audio, a correction, a speaker
    name, tags and options: (user_id, transcript_id)."""
    user_id, tid = _me(client)["id"], new_id()
    store = ObjectStore()
    audio_key = f"audio/{user_id}/{tid}/entrevista con Ana Pérez.wav"
    store.put_bytes(audio_key, AUDIO, "audio/wav")
    segments = [
        Segment(id=0, t0=0.0, t1=2.0, text=" Hola, soy yo.", speaker="S1", avg_logprob=-0.2,
                words=[Word(text=" Hola,", t0=0.0, t1=0.8, speaker="S1", probability=0.9),
                       Word(text=" soy", t0=0.9, t1=1.4, speaker="S1"), Word(text=" yo.", t0=1.5, t1=2.0, speaker="S1")]),
        Segment(id=1, t0=4.0, t1=5.0, text=" Encantado.", speaker="S2",
                words=[Word(text=" Encantado.", t0=4.0, t1=5.0, speaker="S2")]),
    ]
    key = f"transcripts/{user_id}/{tid}.json"
    store.put_json(key, Transcript(job_id=tid, language="es", duration=5.0, quality_profile="balanced", model="tiny",
                                   text="Hola, soy yo. Encantado.", segments=segments).model_dump(mode="json"))
    now = utc_now()
    TranscriptsTable().create(TranscriptItem(
        user_id=user_id, transcript_id=tid, status=status, title="Entrevista", tags=["privado"], language="es",
        duration=5.0, transcript_key=key if status == "completed" else None, audio_key=audio_key,
        options={"prompt": "secreto del prompt"}, speakers=["S1", "S2"], speaker_names={"S1": "Ana"},
        corrections={"1": "Encantado de verdad."}, created_at=now, updated_at=now,
    ))
    return user_id, tid


def _share(client: GrabadoraClient, tid: str, **body) -> httpx.Response:
    return client._http.post(f"transcripts/{tid}/shares", json=body, headers=client._auth)


def _open(api_url: str, token: str) -> httpx.Response:
    return httpx.get(f"{api_url}/shared/{token}")  # no Authorization, no cookie


def test_a_link_shows_the_transcript_and_nothing_else_of_the_account(api_url: str, client: GrabadoraClient) -> None:
    user_id, tid = _seed(client)
    email = _me(client)["email"]
    # When the owner makes a link (7 days by default)
    made = _share(client, tid)
    assert made.status_code == 201, made.text
    link = made.json()
    assert set(link) == {"id", "created_at", "expires_at", "token", "path", "url"}
    assert link["path"] == f"/compartido/{link['token']}" and link["url"].endswith(link["path"])
    assert len(link["token"]) == 43
    expires = calendar.timegm(time.strptime(link["expires_at"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert abs(expires - (time.time() + 7 * 86400)) < 120

    # Then anyone with the link reads it, signed out
    response = _open(api_url, link["token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    shared = response.json()
    # with exactly these fields
    assert set(shared) == PUBLIC_KEYS
    assert all(set(s) == SEGMENT_KEYS for s in shared["segments"])
    assert all(set(w) == WORD_KEYS for s in shared["segments"] for w in s["words"])
    assert shared["title"] == "Entrevista" and shared["language"] == "es" and shared["duration"] == 5.0
    assert shared["expires_at"] == link["expires_at"]
    # the corrected text, speakers by the names the owner gave them, as downloads print them
    assert shared["segments"][1]["text"].strip() == "Encantado de verdad."
    assert "Encantado de verdad." in shared["text"]
    assert shared["segments"][0]["speaker"] == "Ana" and {w["speaker"] for w in shared["segments"][0]["words"]} == {"Ana"}
    assert shared["segments"][1]["speaker"] == "S2"
    # and nothing of the account: no ids, e-mail, tags, options, file name, exports, decoder stats
    body = response.text
    for secret in (user_id, tid, email, "privado", "secreto del prompt", "entrevista con Ana", "Ana%20P",
                   "avg_logprob", "probability", "exports", link["token"]):
        assert secret not in body, secret
    # and its audio plays from a copy that names neither the account nor the file
    assert shared["audio_url"] and user_id not in shared["audio_url"] and "audio/" not in shared["audio_url"].split("?")[0]
    audio = httpx.get(shared["audio_url"])
    assert audio.status_code == 200 and audio.content == AUDIO

    # And the owner lists it, without its token
    listed = client._http.get(f"transcripts/{tid}/shares", headers=client._auth)
    assert listed.status_code == 200
    assert listed.json() == [{"id": link["id"], "created_at": link["created_at"], "expires_at": link["expires_at"]}]
    assert link["token"] not in listed.text
    # And the stored items hold only a hash of the token
    item = aws.client("dynamodb").get_item(
        TableName=get_settings().user_state_table,
        Key={"user_id": {"S": lookup_key(token_digest(link["token"]))}, "item": {"S": LOOKUP_ITEM}},
    )["Item"]
    assert link["token"] not in json.dumps(item)


def test_revoked_expired_and_unknown_links_answer_the_same_404(api_url: str, client: GrabadoraClient) -> None:
    _, tid = _seed(client)
    unknown = _open(api_url, "A" * 43)
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": shares.UNAVAILABLE, "code": "share_unavailable"}
    assert _open(api_url, "not-a-token").json() == unknown.json()

    # Revoked
    link = _share(client, tid, expires_in_days=1).json()
    assert _open(api_url, link["token"]).status_code == 200
    revoked = client._http.delete(f"transcripts/{tid}/shares/{link['id']}", headers=client._auth)
    assert revoked.status_code == 204
    gone = _open(api_url, link["token"])
    assert (gone.status_code, gone.json()) == (404, unknown.json())
    assert client._http.get(f"transcripts/{tid}/shares", headers=client._auth).json() == []
    assert ObjectStore().keys_under(f"shared/{link['id']}/") == []  # the audio copy went with it
    again = client._http.delete(f"transcripts/{tid}/shares/{link['id']}", headers=client._auth)
    assert again.status_code == 404

    # Expired (its stored expiry moved into the past: the TTL may not have run yet)
    link = _share(client, tid, expires_in_days=90).json()
    assert _open(api_url, link["token"]).status_code == 200
    aws.client("dynamodb").update_item(
        TableName=get_settings().user_state_table,
        Key={"user_id": {"S": lookup_key(token_digest(link["token"]))}, "item": {"S": LOOKUP_ITEM}},
        UpdateExpression="SET expires = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    expired = _open(api_url, link["token"])
    assert (expired.status_code, expired.json()) == (404, unknown.json())


def test_links_go_with_their_transcript_and_their_account(api_url: str) -> None:
    with new_user(api_url) as client:
        _, tid = _seed(client)
        _, kept = _seed(client)
        first = _share(client, tid).json()
        second = _share(client, kept).json()
        # Deleting the transcript kills its links (and their audio copies)
        client.delete_transcript(tid)
        assert _open(api_url, first["token"]).status_code == 404
        assert ObjectStore().keys_under(f"shared/{first['id']}/") == []
        assert _open(api_url, second["token"]).status_code == 200
        # Deleting the account kills the rest
        assert client._http.delete("me", headers=client._auth).status_code == 204
        assert _open(api_url, second["token"]).status_code == 404
        assert ObjectStore().keys_under(f"shared/{second['id']}/") == []


def test_only_the_owner_shares_lists_or_revokes_and_only_completed_transcripts(
    api_url: str, client: GrabadoraClient, other_client: GrabadoraClient
) -> None:
    _, tid = _seed(client)
    link = _share(client, tid).json()
    # Another user: 404 everywhere, never 403
    assert _share(other_client, tid).status_code == 404
    assert other_client._http.get(f"transcripts/{tid}/shares", headers=other_client._auth).status_code == 404
    assert other_client._http.delete(f"transcripts/{tid}/shares/{link['id']}", headers=other_client._auth).status_code == 404
    assert _open(api_url, link["token"]).status_code == 200
    # Signed out: 401
    assert httpx.post(f"{api_url}/transcripts/{tid}/shares", json={}).status_code == 401
    # Expiry between 1 and 90 days
    for days in (0, 91, "x"):
        assert _share(client, tid, expires_in_days=days).status_code == 422
    assert _share(client, tid, expires_in_days=90).status_code == 201
    # A transcript still being made cannot be shared
    _, running = _seed(client, status="processing")
    refused = _share(client, running)
    assert refused.status_code == 409 and refused.json()["code"] == "share_not_completed"


def test_an_address_that_guesses_links_is_made_to_wait(aws_endpoint: str) -> None:
    settings = get_settings().model_copy(update={"share_misses_per_ip": 3, "share_window_seconds": 600})
    ports = shares.SharePorts()
    address = f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}-{uuid.uuid4().hex[:6]}"
    for _ in range(3):
        with pytest.raises(NotFound):
            shares.open_link(ports, settings, "B" * 43, address)
    with pytest.raises(RateLimited) as waited:
        shares.open_link(ports, settings, "B" * 43, address)
    assert waited.value.code == "share_rate_limited" and 0 < waited.value.retry_after <= 601
