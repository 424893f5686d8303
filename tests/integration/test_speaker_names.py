"""Speakers through the API: a diarized job's turns follow the words, and renaming a speaker once
("S1" → "Ana") is kept on the item, shown by GET and printed by every download and export."""

from __future__ import annotations

import json
import uuid

import pytest

from grabadora.adapters.queues import ExportQueue
from grabadora.adapters.object_store import ObjectStore
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.adapters.user_state import UserStateTable
from grabadora.settings import IntegrationSettings, settings_as
from grabadora.client import ApiError, GrabadoraClient
from grabadora.models import ExportDelivery, ExportDestination, ExportMessage, Segment, Transcript, TranscriptItem, Word, utc_now
from tests.integration.conftest import drain
from tests.integration.test_exports import (  # noqa: F401  (module fixtures: the fake providers and the exporter)
    TRELLO_KEY,
    TRELLO_TOKEN,
    Stack,
    notion_settings,
    outcome,
    shapes_respected,
    stack,
    webhook_settings,
)

pytestmark = pytest.mark.integration


def test_a_diarized_job_has_one_speaker_per_segment_and_renamed_speakers_everywhere(
    client: GrabadoraClient, worker, audio_dir
) -> None:
    pytest.importorskip("torch", reason="diarization needs: pip install torch==2.13.0 && pip install --no-deps resemblyzer==0.1.4")
    # Given the three-speaker recording, transcribed with speakers
    job = client.transcribe(client.upload(str(audio_dir / "pv_leopard_diarization_test.wav")), diarization=True)
    drain(worker)
    transcript = client.get_transcript(job["job_id"])
    assert transcript["status"] == "completed" and not transcript["diarization_error"]
    segments = transcript["segments"]
    # Then every segment's words belong to its speaker, and ids are 0..n-1
    assert [s["id"] for s in segments] == list(range(len(segments)))
    assert all({w["speaker"] for w in s["words"]} == {s["speaker"]} for s in segments)
    assert transcript["speakers"][:2] == ["S1", "S2"] and transcript["speaker_names"] == {}

    # When S1 is named Ana (with spaces around), and a line is corrected too
    tid = job["job_id"]
    updated = client.update_transcript(tid, speakers={"S1": "  Ana  "}, segments=[{"id": 0, "text": segments[0]["text"]}])
    # Then GET shows the name, and segments keep their labels (the key to rename again)
    assert updated["speaker_names"] == {"S1": "Ana"}
    assert client.get_transcript(tid)["speaker_names"] == {"S1": "Ana"}
    assert client.get_transcript(tid)["segments"][0]["speaker"] == "S1"
    # And every download prints the name where it printed S1
    txt = client.download(tid, "txt").text
    assert txt.startswith("Ana: ") and "S1" not in txt and "S2: " in txt
    md = client.download(tid, "md").text
    assert "**Ana:**" in md and "**S1:**" not in md
    srt = client.download(tid, "srt").text
    assert "Ana: " in srt and "S1:" not in srt
    vtt = client.download(tid, "vtt").text
    assert "<v Ana>" in vtt and "<v S1>" not in vtt
    data = json.loads(client.download(tid, "json").text)
    assert data["speaker_names"] == {"S1": "Ana"} and data["segments"][0]["speaker"] == "Ana"
    assert {w["speaker"] for w in data["segments"][0]["words"]} == {"Ana"}

    # And renaming again replaces, null drops a name, naming a label itself drops it
    assert client.update_transcript(tid, speakers={"S1": "Ana María", "S2": "Luis"})["speaker_names"] == {"S1": "Ana María", "S2": "Luis"}
    assert client.update_transcript(tid, speakers={"S2": None})["speaker_names"] == {"S1": "Ana María"}
    assert client.update_transcript(tid, speakers={"S1": "S1"})["speaker_names"] == {}
    assert "S1: " in client.download(tid, "txt").text

    # And bad names or labels are refused, saying why, and change nothing
    for speakers, says in [
        ({"S9": "Ana"}, "S9"),
        ({"S1": ""}, "S1"),
        ({"S1": "   "}, "S1"),
        ({"S1": "x" * 41}, "40"),
        ({"S1": "Ana\nLuis"}, "control"),
        ({"S1": "Ana\u0007"}, "control"),
    ]:
        with pytest.raises(ApiError) as caught:
            client.update_transcript(tid, speakers=speakers)
        assert caught.value.status == 422 and says in str(caught.value.detail), (speakers, caught.value.detail)
    assert client.get_transcript(tid)["speaker_names"] == {}
    assert client.update_transcript(tid, speakers={"S1": "x" * 40})["speaker_names"] == {"S1": "x" * 40}


def test_a_transcript_without_speakers_cannot_name_any(client: GrabadoraClient, worker, audio_dir) -> None:
    job = client.transcribe(client.upload(str(audio_dir / "pv_cheetah_test_en.wav")))
    drain(worker)
    with pytest.raises(ApiError) as caught:
        client.update_transcript(job["job_id"], speakers={"S1": "Ana"})
    assert caught.value.status == 422 and "no speaker labels" in str(caught.value.detail)


def _submit_diarized(destination: ExportDestination, integrations: dict) -> tuple[str, str, str]:
    """A completed two-speaker transcript, S1 named Ana, with one export queued as the API records it."""
    user_id, transcript_id, export_id = f"user-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex, uuid.uuid4().hex
    segments = [
        Segment(id=0, t0=0.0, t1=2.0, text=" Hola, soy yo.", speaker="S1",
                words=[Word(text=" Hola,", t0=0.0, t1=0.8, speaker="S1"), Word(text=" soy", t0=0.9, t1=1.4, speaker="S1"),
                       Word(text=" yo.", t0=1.5, t1=2.0, speaker="S1")]),
        Segment(id=1, t0=4.0, t1=5.0, text=" Encantado.", speaker="S2",
                words=[Word(text=" Encantado.", t0=4.0, t1=5.0, speaker="S2")]),
    ]
    doc = Transcript(job_id=transcript_id, language="es", duration=5.0, quality_profile="balanced", model="tiny",
                     text="Hola, soy yo. Encantado.", segments=segments).model_dump(mode="json")
    key = f"transcripts/{user_id}/{transcript_id}.json"
    ObjectStore().put_json(key, doc)
    now = utc_now()
    TranscriptsTable().create(TranscriptItem(
        user_id=user_id, transcript_id=transcript_id, status="completed", title="Dos voces", language="es",
        duration=5.0, transcript_key=key, speakers=["S1", "S2"], speaker_names={"S1": "Ana"},
        created_at=now, updated_at=now,
    ))
    UserStateTable(secrets_key=settings_as(IntegrationSettings).secrets_key).put_integrations(user_id, integrations)
    TranscriptsTable().add_export(user_id, transcript_id, export_id, ExportDelivery(
        destination=destination, status="queued", created_at=now, updated_at=now,
    ))
    message = ExportMessage(export_id=export_id, user_id=user_id, transcript_id=transcript_id, destination=destination)
    ExportQueue().send(message.model_dump_json())
    return user_id, transcript_id, export_id


def test_exports_print_the_speaker_names(stack: Stack) -> None:  # noqa: F811
    # Webhook: segments carry the name
    user_id, tid, export_id = _submit_diarized(ExportDestination.WEBHOOK, webhook_settings(stack, "/ok"))
    assert outcome(user_id, tid, export_id)["status"] == "delivered"
    (event,) = [e for e in stack.receiver.accepted if e["export_id"] == export_id]
    assert [s["speaker"] for s in event["transcript"]["segments"]] == ["Ana", "S2"]
    # Notion: the paragraphs start with the name
    user_id, tid, export_id = _submit_diarized(ExportDestination.NOTION, notion_settings("db-speakers"))
    record = outcome(user_id, tid, export_id)
    assert record["status"] == "delivered", record
    (page,) = [p for p in stack.notion.pages.values() if p["url"] == record["url"]]
    texts = [b["paragraph"]["rich_text"][0]["text"]["content"] for b in page["blocks"]]
    assert texts == ["Ana: Hola, soy yo.", "S2: Encantado."]
    # Trello: the description and the attached text too
    integrations = {"trello": {"key": TRELLO_KEY, "token": TRELLO_TOKEN, "list_id": "list-1"}}
    user_id, tid, export_id = _submit_diarized(ExportDestination.TRELLO, integrations)
    record = outcome(user_id, tid, export_id)
    assert record["status"] == "delivered", record
    (card,) = [c for c in stack.trello.cards.values() if c["url"] == record["url"]]
    assert card["desc"].startswith("Ana: Hola, soy yo.")
    assert card["attachments"] == ["Ana: Hola, soy yo.\n\nS2: Encantado.\n"]
