"""The library over the emulator: search, pagination, isolation, corrections, downloads, deletion,
integration settings, usage and quota."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
import srt
import webvtt

from grabadora import aws
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.models import TranscriptItem
from grabadora.client import ApiError, GrabadoraClient
from grabadora.ids import new_id
from grabadora.settings import get_settings
from tests.integration.conftest import drain


def _user_id(client: GrabadoraClient) -> str:
    return client._http.get("me", headers=client._auth).json()["id"]


@pytest.fixture(scope="module")
def finished(api_url: str, worker, audio_dir):
    """One user with jfk.flac transcribed through the whole pipeline, titled with accents."""
    from tests.integration.conftest import new_user

    with new_user(api_url) as client:
        job = client.transcribe(
            client.upload(str(audio_dir / "fw_jfk.flac")), title="Transcripción del discurso", tags=["Política"]
        )
        drain(worker)
        yield client, job["job_id"]


def test_search_ignores_case_and_accents_over_title_tags_and_text(finished) -> None:
    client, job_id = finished
    # Given a completed transcript titled "Transcripción del discurso", tagged "Política"
    for query in ("transcripcion", "TRANSCRIPCIÓN discurso", "politica", "country", "ASK NOT"):
        # When searching / Then it is found
        ids = [t["id"] for t in client.list_transcripts(search=query)["items"]]
        assert ids == [job_id], query
    # And words that are nowhere find nothing
    assert client.list_transcripts(search="zanahoria")["items"] == []
    # And the listing shows a preview of the text, not the whole search index
    entry = client.list_transcripts()["items"][0]
    assert "country" in entry["preview"] and "search_text" not in entry


def test_another_user_sees_none_of_it(finished, other_client: GrabadoraClient) -> None:
    _, job_id = finished
    assert other_client.list_transcripts(search="transcripcion")["items"] == []
    for call in (
        lambda: other_client.get_transcript(job_id),
        lambda: other_client.update_transcript(job_id, title="mine now"),
        lambda: other_client.download(job_id, "srt"),
        lambda: other_client.delete_transcript(job_id),
        lambda: other_client.export(job_id, "webhook", url="http://example.com/hook"),
    ):
        with pytest.raises(ApiError) as caught:
            call()
        assert caught.value.status == 404


def test_pages_are_newest_first_with_a_cursor_and_a_status_filter(client: GrabadoraClient) -> None:
    # Given seven items of this user, four completed and three failed (written straight to the table)
    user_id = _user_id(client)
    table = TranscriptsTable()
    ids = []
    for i in range(7):
        transcript_id = new_id()
        ids.append(transcript_id)
        status = "completed" if i % 2 == 0 else "failed"
        table.create(
            TranscriptItem(user_id=user_id, transcript_id=transcript_id, status=status, title=f"item {i}",
                           created_at=f"2026-11-0{i + 1}T00:00:00Z", search_text=f"item {i}")
        )
    # When paging three at a time
    seen, cursor = [], None
    for _ in range(5):
        page = client.list_transcripts(limit=3, cursor=cursor)
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Then every item comes exactly once, newest first
    assert seen == list(reversed(ids))
    # And the status filter pages too
    completed, cursor = [], None
    while True:
        page = client.list_transcripts(status="completed", limit=2, cursor=cursor)
        completed += [t["id"] for t in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert completed == [ids[6], ids[4], ids[2], ids[0]]
    # And bad paging input is a 422 that names the field
    for params, field in (({"limit": 0}, "limit"), ({"cursor": "bm9wZQ"}, "cursor"), ({"status": "done"}, "status")):
        response = client._http.get("transcripts", params=params, headers=client._auth)
        assert response.status_code == 422 and field in json.dumps(response.json()), params


def test_a_corrected_segment_shows_up_in_every_download(finished) -> None:
    client, job_id = finished
    before = client.get_transcript(job_id)
    # When the first segment is corrected and the title changed
    corrected = "And so, my fellow Grabadora users, ask not what your country can do for you"
    after = client.update_transcript(job_id, title="Discurso corregido", segments=[{"id": 0, "text": corrected}])
    # Then the transcript reads the correction, and the original is kept apart
    assert after["segments"][0]["text"].strip() == corrected and after["edited_at"]
    assert after["title"] == "Discurso corregido"
    assert after["text"].startswith(corrected)
    assert before["segments"][0]["text"].strip() != corrected
    # And every format carries it
    for fmt in ("txt", "md", "json"):
        assert "Grabadora users" in client.download(job_id, fmt).text, fmt
    srt_file = client.download(job_id, "srt")
    assert srt_file.headers["content-disposition"].startswith("attachment;")
    assert "discurso-corregido.srt" in srt_file.headers["content-disposition"]
    cues = list(srt.parse(srt_file.text))
    assert [c.index for c in cues] == list(range(1, len(cues) + 1))
    assert "Grabadora users" in " ".join(c.content.replace("\n", " ") for c in cues)
    vtt = webvtt.from_string(client.download(job_id, "vtt").text)
    assert "Grabadora users" in " ".join(c.text.replace("\n", " ") for c in vtt)
    # And search finds the corrected words
    assert [t["id"] for t in client.list_transcripts(search="grabadora users")["items"]] == [job_id]
    # And an unknown segment is a 422 naming it, an unknown format a 422
    with pytest.raises(ApiError) as caught:
        client.update_transcript(job_id, segments=[{"id": 999, "text": "x"}])
    assert caught.value.status == 422 and "999" in str(caught.value.detail)
    response = client._http.get(f"transcripts/{job_id}/download", params={"format": "docx"}, headers=client._auth)
    assert response.status_code == 422


def test_integration_secrets_are_encrypted_and_never_returned(client: GrabadoraClient) -> None:
    secret = f"whsec-{uuid.uuid4().hex}"
    token = f"ntn_{uuid.uuid4().hex}"
    # When settings with secrets are saved
    saved = client.set_integrations(
        webhook={"url": "https://hooks.example.com/grabadora", "secret": secret},
        notion={"token": token, "database_id": "db-123"},
    )
    # Then the answer and later reads show that they are set, never their value
    for view in (saved, client.integrations()):
        assert secret not in json.dumps(view) and token not in json.dumps(view)
        assert view["webhook"] == {"url": "https://hooks.example.com/grabadora", "secret_set": True}
        assert view["notion"] == {"database_id": "db-123", "token_set": True}
        assert view["trello"] == {"list_id": None, "key_set": False, "token_set": False}
    # And DynamoDB holds them encrypted
    raw = aws.client("dynamodb").scan(TableName=get_settings().user_state_table)["Items"]
    assert raw and secret not in json.dumps(raw) and token not in json.dumps(raw)
    # And a partial update keeps the secret; null removes an integration
    client.set_integrations(webhook={"url": "https://hooks.example.com/v2"})
    assert client.integrations()["webhook"] == {"url": "https://hooks.example.com/v2", "secret_set": True}
    client.set_integrations(notion=None)
    assert client.integrations()["notion"] == {"database_id": None, "token_set": False}
    # And invalid settings are a 422 that says which field
    response = client._http.put("me/integrations", json={"webhook": {"url": "not a url"}}, headers=client._auth)
    assert response.status_code == 422 and "url" in json.dumps(response.json())


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://169.254.169.254/latest", "https://10.1.2.3/x", "http://localhost/x"])
def test_a_webhook_to_a_private_address_is_refused_when_saved(client: GrabadoraClient, url: str) -> None:
    client.set_integrations(webhook={"url": "https://hooks.example.com/ok"})
    # When a URL the exporter could never deliver to is saved
    response = client._http.put("me/integrations", json={"webhook": {"url": url}}, headers=client._auth)
    # Then it is a 422 with a code the web app translates, and the saved URL is unchanged
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid.url.not_deliverable"
    assert "public addresses" in response.json()["detail"]
    assert client.integrations()["webhook"]["url"] == "https://hooks.example.com/ok"


def test_an_export_needs_a_completed_transcript_and_a_configured_destination(finished, api_url, audio_dir) -> None:
    client, job_id = finished
    # Given no Trello settings / Then a Trello export says what is missing
    with pytest.raises(ApiError) as caught:
        client.export(job_id, "trello")
    assert caught.value.status == 422 and "Trello is not configured" in caught.value.detail
    # And an unknown destination is a 422
    response = client._http.post(f"transcripts/{job_id}/export", json={"destination": "dropbox"}, headers=client._auth)
    assert response.status_code == 422
    # And a queued transcript cannot be exported yet
    queued = client.transcribe_file(str(audio_dir / "fw_jfk.flac"))
    client.set_integrations(webhook={"url": "https://hooks.example.com/x", "secret": "s" * 20})
    with pytest.raises(ApiError) as caught:
        client.export(queued["job_id"], "webhook")
    assert caught.value.status == 409
    # And a configured export is accepted and recorded on the transcript
    export = client.export(job_id, "webhook")
    assert export["status"] == "queued"
    recorded = {e["id"]: e for e in client.get_transcript(job_id)["exports"]}
    assert recorded[export["id"]]["destination"] == "webhook"
    client.delete_transcript(queued["job_id"])


def test_usage_counts_audio_and_the_quota_answers_429(
    client: GrabadoraClient, worker, audio_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a user who transcribed jfk.flac (11 s)
    assert client.usage()["audio_seconds"] == 0
    client.transcribe(client.upload(str(audio_dir / "fw_jfk.flac")))
    drain(worker)
    usage = client.usage()
    assert usage["audio_seconds"] == pytest.approx(11.0, abs=0.1) and usage["jobs"] == 1
    # When the monthly quota is 10 s
    monkeypatch.setenv("GRABADORA_MONTHLY_QUOTA_SECONDS", "10")
    get_settings.cache_clear()
    try:
        # Then the next job is refused with 429 and a reason, both ways of submitting
        with pytest.raises(ApiError) as caught:
            client.transcribe_file(str(audio_dir / "fw_jfk.flac"))
        assert caught.value.status == 429 and "quota" in caught.value.detail
        assert client.usage()["remaining_seconds"] == 0
    finally:
        monkeypatch.delenv("GRABADORA_MONTHLY_QUOTA_SECONDS")
        get_settings.cache_clear()


def test_deleting_removes_every_stored_piece(client: GrabadoraClient, worker, audio_dir) -> None:
    # Given a completed job
    job = client.transcribe(client.upload(str(audio_dir / "fw_jfk.flac")))
    drain(worker)
    job_id, user_id = job["job_id"], _user_id(client)
    settings = get_settings()
    s3, dynamodb = aws.client("s3"), aws.client("dynamodb")

    def stored() -> dict[str, int]:
        return {
            "audio": s3.list_objects_v2(Bucket=settings.bucket, Prefix=f"audio/{user_id}/{job_id}/").get("KeyCount", 0),
            "transcript": s3.list_objects_v2(Bucket=settings.bucket, Prefix=f"transcripts/{user_id}/{job_id}").get("KeyCount", 0),
            "events": dynamodb.query(
                TableName=settings.events_table, KeyConditionExpression="job_id = :j",
                ExpressionAttributeValues={":j": {"S": job_id}}, Select="COUNT",
            )["Count"],
            "item": len(dynamodb.get_item(
                TableName=settings.transcripts_table,
                Key={"user_id": {"S": user_id}, "transcript_id": {"S": job_id}},
            ).get("Item", {}) and [1]),
        }

    before = stored()
    assert before["audio"] == 1 and before["transcript"] == 1 and before["events"] >= 2 and before["item"] == 1  # packed: a segment an item, then the end
    # When it is deleted
    client.delete_transcript(job_id)
    # Then nothing of it is left, and it is a 404 from then on
    assert stored() == {"audio": 0, "transcript": 0, "events": 0, "item": 0}
    with pytest.raises(ApiError) as caught:
        client.get_transcript(job_id)
    assert caught.value.status == 404


def test_a_failed_job_is_found_by_its_title_and_tags_before_and_after_a_rename(
    client: GrabadoraClient, worker, tmp_path
) -> None:
    # Given a job that fails (a text file named .mp3), submitted with a title and a tag
    fake = tmp_path / "acta.mp3"
    fake.write_text("this is not audio at all\n" * 20)
    job = client.transcribe_file(str(fake), title="Reunión de vecinos", tags="comunidad")
    drain(worker)
    assert client.get_transcript(job["job_id"])["status"] == "failed"
    # Then search finds it by its title (accents folded) and by its tag, as it finds finished ones
    for query in ("reunion vecinos", "comunidad", "#comunidad"):
        assert [t["id"] for t in client.list_transcripts(search=query)["items"]] == [job["job_id"]], query
    # And after a rename, by the new title only
    client.update_transcript(job["job_id"], title="Asamblea de marzo")
    assert [t["id"] for t in client.list_transcripts(search="asamblea")["items"]] == [job["job_id"]]
    assert client.list_transcripts(search="vecinos")["items"] == []


def test_transcripts_of_the_same_file_are_found_by_its_digest(client: GrabadoraClient, worker, tmp_path) -> None:
    # Given one file sent along (the server hashes it) and then uploaded (the client declares its digest)
    notes = tmp_path / "notas.mp3"
    notes.write_text("not audio, but bytes all the same\n" * 20)
    digest = hashlib.sha256(notes.read_bytes()).hexdigest()
    sent = client.transcribe_file(str(notes), title="Enviado")
    uploaded = client.transcribe(client.upload(str(notes)), title="Subido", source_sha256=digest)
    other = tmp_path / "otras.mp3"
    other.write_text("other bytes\n" * 20)
    client.transcribe_file(str(other), title="Otro")
    drain(worker)
    # When the library is asked for that digest / Then both, newest first, carrying it
    found = client.list_transcripts(source_sha256=digest)["items"]
    assert [t["id"] for t in found] == [uploaded["job_id"], sent["job_id"]]
    assert {t["source_sha256"] for t in found} == {digest}
    # And a digest never sent finds nothing; malformed ones (asked or declared) are a 422 naming the field
    assert client.list_transcripts(source_sha256="0" * 64)["items"] == []
    response = client._http.get("transcripts", params={"source_sha256": "ABC"}, headers=client._auth)
    assert response.status_code == 422 and "source_sha256" in response.text
    with pytest.raises(ApiError) as caught:
        client.transcribe(client.upload(str(notes)), source_sha256=digest.upper())
    assert caught.value.status == 422 and "source_sha256" in str(caught.value)
    # And transcribing one of them again (over a copy of its audio) keeps the digest
    response = client._http.post(f"transcripts/{sent['job_id']}/retranscribe", json={}, headers=client._auth)
    assert response.status_code == 202, response.text
    again = response.json()["job_id"]
    drain(worker)
    assert [t["id"] for t in client.list_transcripts(source_sha256=digest)["items"]][0] == again


def test_the_digest_filter_pages_like_the_listing(client: GrabadoraClient) -> None:
    # Given seven items, four of them from one file (written straight to the table)
    user_id = _user_id(client)
    table = TranscriptsTable()
    ids, digest = [], "a" * 64
    for i in range(7):
        ids.append(new_id())
        table.create(
            TranscriptItem(user_id=user_id, transcript_id=ids[-1], status="completed", title=f"item {i}",
                           source_sha256=digest if i in (0, 2, 3, 5) else "b" * 64, search_text=f"item {i}")
        )
    # When paging the file's transcripts three at a time (the third stops inside a page of the table)
    first = client.list_transcripts(source_sha256=digest, limit=3)
    second = client.list_transcripts(source_sha256=digest, limit=3, cursor=first["next_cursor"])
    # Then each comes exactly once, newest first
    assert [t["id"] for t in first["items"]] == [ids[5], ids[3], ids[2]] and first["next_cursor"]
    assert [t["id"] for t in second["items"]] == [ids[0]] and second["next_cursor"] is None
    # And the other filters still apply
    assert [t["id"] for t in client.list_transcripts(source_sha256=digest, search="item 3")["items"]] == [ids[3]]
