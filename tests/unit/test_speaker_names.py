"""Speaker names in downloads and the PATCH body's validation (pure functions, no AWS)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from functions.api.schemas import TranscriptPatch
from grabadora.formats import apply_corrections, apply_speaker_names, render
from grabadora.models import TranscriptDetail, TranscriptItem


def _document() -> dict:
    def seg(i, t0, speaker, *words):
        ws = [{"text": f" {w}", "t0": t0 + k * 0.5, "t1": t0 + k * 0.5 + 0.4, "speaker": speaker} for k, w in enumerate(words)]
        return {"id": i, "t0": t0, "t1": ws[-1]["t1"], "text": "".join(w["text"] for w in ws), "words": ws, "speaker": speaker}

    segments = [seg(0, 0.0, "S1", "Hola,", "soy", "Ana."), seg(1, 3.0, "S2", "Y", "yo", "Luis."), seg(2, 6.0, "S1", "Bien.")]
    return {"job_id": "j1", "language": "es", "duration": 7.0, "quality_profile": "balanced", "model": "tiny",
            "text": "".join(s["text"] for s in segments).strip(), "segments": segments}


ITEM = TranscriptItem(user_id="u", transcript_id="t1", status="completed", title="Charla", speakers=["S1", "S2"],
                      speaker_names={"S1": "Ana"})


def test_names_replace_labels_on_segments_and_words_and_the_input_is_untouched() -> None:
    doc = _document()
    named = apply_speaker_names(doc, {"S1": "Ana"})
    assert [s["speaker"] for s in named["segments"]] == ["Ana", "S2", "Ana"]
    assert {w["speaker"] for w in named["segments"][0]["words"]} == {"Ana"}
    assert named["speaker_names"] == {"S1": "Ana"}
    assert doc["segments"][0]["speaker"] == "S1" and "speaker_names" not in doc
    assert apply_speaker_names(doc, {}) is doc


@pytest.mark.parametrize("fmt, expected, absent", [
    ("txt", "Ana: Hola, soy Ana.", "S1"),
    ("md", "**Ana:** Hola, soy Ana.", "S1"),
    ("srt", "Ana: Hola, soy Ana.", "S1:"),
    ("vtt", "<v Ana>Hola, soy Ana.</v>", "<v S1>"),
])
def test_every_download_prints_the_names(fmt: str, expected: str, absent: str) -> None:
    text = render(apply_speaker_names(_document(), ITEM.speaker_names), ITEM, fmt).content.decode()
    assert expected in text and absent not in text and "S2" in text


def test_json_download_and_corrections_keep_names() -> None:
    doc = apply_corrections(_document(), {0: "Hola, soy Ana María."})  # another token count: words re-spread
    data = json.loads(render(apply_speaker_names(doc, {"S1": "Ana"}), ITEM, "json").content)
    assert data["segments"][0]["speaker"] == "Ana" and {w["speaker"] for w in data["segments"][0]["words"]} == {"Ana"}


def test_two_labels_with_one_name_read_as_one_speaker() -> None:
    text = render(apply_speaker_names(_document(), {"S1": "Ana", "S2": "Ana"}), ITEM, "txt").content.decode()
    assert text.count("Ana:") == 1


def test_names_in_vtt_are_escaped() -> None:
    text = render(apply_speaker_names(_document(), {"S1": "<b>Ana & co</b>"}), ITEM, "vtt").content.decode()
    assert "<v &lt;b&gt;Ana &amp; co&lt;/b&gt;>" in text


def test_patch_body_validates_names() -> None:
    assert TranscriptPatch(speakers={"S1": "  Ana  ", "S2": None}).speakers == {"S1": "Ana", "S2": None}
    assert TranscriptPatch(speakers={"S1": "x" * 40}).speakers == {"S1": "x" * 40}
    for bad in ({"S1": ""}, {"S1": "  "}, {"S1": "x" * 41}, {"S1": "a\nb"}, {"S1": "a\tb"}, {"S1": "a\u2028b"}, {"": "Ana"}):
        with pytest.raises(ValidationError):
            TranscriptPatch(speakers=bad)


def test_detail_shows_the_names() -> None:
    detail = TranscriptDetail.of(ITEM, audio_url=None, document=_document())
    assert detail.speaker_names == {"S1": "Ana"} and detail.segments[0].speaker == "S1"
