"""Downloads, corrections and search folding: what a player, an editor or a search box gets.

Subtitles are checked by parsing them with real parsers (`srt`, `webvtt-py`), not by string
comparison alone.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
import srt
import webvtt

from grabadora.formats import FORMATS, apply_corrections, fold, markdown, plain_text, render
from grabadora.models import JobStatus, Transcript, TranscriptItem

MAX_LINE = 42

# Builders -------------------------------------------------------------------------------------


def _segment(segment_id: int, t0: float, text: str, *, word_s: float = 0.4, speaker: str | None = None) -> dict[str, Any]:
    """A segment whose words follow one another, each `word_s` long, with faster-whisper's leading spaces."""
    words = []
    for n, token in enumerate(text.split()):
        start = round(t0 + n * word_s, 3)
        words.append({"text": " " + token, "t0": start, "t1": round(start + word_s * 0.9, 3), "probability": 0.9, "speaker": speaker})
    t1 = words[-1]["t1"] if words else t0
    return {"id": segment_id, "t0": t0, "t1": t1, "text": " " + text, "words": words, "speaker": speaker}


def _document(segments: list[dict[str, Any]], *, duration: float | None = None) -> dict[str, Any]:
    """A document exactly as the worker stores it (validated by the domain model)."""
    transcript = Transcript(
        job_id="01HZX3TRANSCRIPT0000000000",
        language="es",
        language_probability=0.98,
        duration=duration if duration is not None else (segments[-1]["t1"] if segments else 0.0),
        quality_profile="balanced",
        model="base",
        text="".join(s["text"] for s in segments).strip(),
        segments=segments,
        created_at="2024-05-01T10:15:00.000+00:00",
    )
    return transcript.model_dump(mode="json")


def _meta(title: str | None = "Entrevista con María", tags: list[str] | None = None, language: str = "es") -> TranscriptItem:
    return TranscriptItem(
        user_id="01HZX3USER000000000000000",
        transcript_id="01HZX3TRANSCRIPT0000000000",
        status=JobStatus.COMPLETED,
        title=title,
        tags=["radio", "entrevista"] if tags is None else tags,
        created_at="2024-05-01T10:15:00.000+00:00",
        language=language,
        duration=3725.4,
    )


LONG_SPANISH = (
    "Buenas tardes y bienvenidos a un nuevo episodio del programa, hoy vamos a hablar de cómo las "
    "máquinas aprenden a escuchar, de los modelos de reconocimiento de voz que convierten una "
    "grabación en texto, de sus errores más habituales con los nombres propios y los acentos, y de "
    "lo que significa para los periodistas poder buscar dentro de horas de entrevistas en segundos."
)


def _interview() -> dict[str, Any]:
    """A realistic Spanish interview: a 30-second monologue segment, a pause, short answers."""
    long = _segment(0, 0.0, LONG_SPANISH, word_s=30.0 / len(LONG_SPANISH.split()))
    question = _segment(1, 31.5, "¿Y qué pasa con los acentos regionales?", word_s=0.45)
    answer = _segment(2, 35.0, "Pues depende mucho del modelo y de la calidad del audio.", word_s=0.35)
    return _document([long, question, answer])


def _diarized() -> dict[str, Any]:
    return _document([
        _segment(0, 0.0, "Bienvenida al programa, María.", speaker="SPEAKER_00"),
        _segment(1, 1.7, "Gracias por invitarme, es un placer estar aquí.", speaker="SPEAKER_01"),
        _segment(2, 5.2, "Empecemos por el principio de todo.", speaker="SPEAKER_00"),
    ])


@pytest.fixture(scope="module")
def capitan_veneno(shared_audio: Path) -> dict[str, Any]:
    """A word-timed document made from the reference text of a real 70 s Spanish recording.

    Words share the recording's length in proportion to their characters, with a 0.6 s breath
    after each sentence, cut into segments of at most 30 s the way Whisper cuts its windows.
    """
    reference = json.loads((shared_audio / "references.json").read_text(encoding="utf-8"))["aeneas_capitan_veneno_es.mp3"]
    tokens = reference["reference"].split()
    duration = float(reference["duration_s"].split()[0])
    pauses = sum(token.endswith((".", ":", ";")) for token in tokens) * 0.6
    per_char = (duration - pauses) / sum(len(token) + 1 for token in tokens)
    words, clock = [], 0.0
    for token in tokens:
        end = clock + (len(token) + 1) * per_char
        words.append({"text": " " + token, "t0": round(clock, 3), "t1": round(end, 3), "probability": 0.8})
        clock = end + (0.6 if token.endswith((".", ":", ";")) else 0.0)
    segments: list[dict[str, Any]] = []
    for word in words:
        if not segments or word["t1"] - segments[-1]["t0"] > 30.0:
            segments.append({"id": len(segments), "t0": word["t0"], "t1": word["t1"], "text": "", "words": []})
        segments[-1]["words"].append(word)
        segments[-1]["t1"] = word["t1"]
        segments[-1]["text"] += word["text"]
    return _document(segments, duration=duration)


# Helpers to read what was rendered ------------------------------------------------------------


def _srt_cues(document: dict[str, Any]) -> list[srt.Subtitle]:
    text = render(document, _meta(), "srt").content.decode("utf-8")
    return list(srt.parse(text))


def _vtt_captions(document: dict[str, Any]) -> list[webvtt.Caption]:
    text = render(document, _meta(), "vtt").content.decode("utf-8")
    assert text.startswith("WEBVTT\n\n")
    return webvtt.from_string(text, strict=True).captions


def _squash(text: str) -> str:
    return " ".join(text.split())


def _without_label(line: str) -> str:
    return re.sub(r"^SPEAKER_\d+:\s*", "", line)


def _srt_text(cues: list[srt.Subtitle]) -> str:
    return _squash(" ".join(_without_label(cue.content) for cue in cues))


def _vtt_text(captions: list[webvtt.Caption]) -> str:
    return _squash(" ".join(html.unescape(caption.text) for caption in captions))


def _assert_readable_lines(lines: list[str]) -> None:
    assert 1 <= len(lines) <= 2, lines
    for line in lines:
        assert line.strip() == line and line, lines
        # A line may only run long when it is one word (possibly after the speaker label).
        assert len(line) <= MAX_LINE or len(_without_label(line).split()) <= 1, lines


def _assert_well_timed(spans: list[tuple[float, float]]) -> None:
    for start, end in spans:
        assert end > start
    for (_, previous_end), (start, _) in zip(spans, spans[1:]):
        assert start >= previous_end


# SRT -------------------------------------------------------------------------------------------


def test_srt_cues_are_numbered_from_one_and_canonical() -> None:
    # Given an interview transcript
    document = _interview()
    # When it is rendered as SRT
    text = render(document, _meta(), "srt").content.decode("utf-8")
    cues = list(srt.parse(text))
    # Then the cues are numbered 1..n and the file is exactly what the srt library would write
    assert [cue.index for cue in cues] == list(range(1, len(cues) + 1))
    assert srt.compose(cues, reindex=False) == text
    assert re.match(r"1\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}\n", text)


@pytest.mark.parametrize("build", [_interview, _diarized])
def test_srt_cues_have_two_short_lines_and_never_overlap(build) -> None:
    # Given a transcript
    cues = _srt_cues(build())
    # Then every cue is at most two lines of at most 42 characters, in order, without overlap
    for cue in cues:
        _assert_readable_lines(cue.content.split("\n"))
    _assert_well_timed([(c.start.total_seconds(), c.end.total_seconds()) for c in cues])


def test_srt_says_everything_the_transcript_says() -> None:
    # Given an interview transcript
    document = _interview()
    # When it is rendered as SRT
    cues = _srt_cues(document)
    # Then the cues, read in order, are the transcript's text
    assert _srt_text(cues) == _squash(document["text"])


def test_a_thirty_second_segment_is_split_on_word_timings() -> None:
    # Given a 30 s segment with dozens of words
    document = _interview()
    long = document["segments"][0]
    assert long["t1"] - long["t0"] > 29 and len(long["words"]) > 50
    # When it is rendered as SRT
    cues = [c for c in _srt_cues(document) if c.start.total_seconds() < long["t1"]]
    # Then it becomes several cues, each within the segment and at most about 7 s long
    assert len(cues) >= 5
    assert cues[0].start.total_seconds() == long["words"][0]["t0"]
    assert cues[-1].end.total_seconds() == pytest.approx(long["words"][-1]["t1"], abs=0.001)
    for cue in cues:
        assert (cue.end - cue.start).total_seconds() <= 7.0
    # And each cue starts when one of the segment's words starts
    word_starts = {round(w["t0"], 3) for w in long["words"]}
    assert {round(c.start.total_seconds(), 3) for c in cues} <= word_starts


def test_a_pause_of_a_second_starts_a_new_cue() -> None:
    # Given two short phrases in one segment, 1.2 s apart
    segment = _segment(0, 0.0, "Hola a todos. Empezamos ya.", word_s=0.3)
    for word in segment["words"][3:]:
        word["t0"] += 1.2
        word["t1"] += 1.2
    segment["t1"] = segment["words"][-1]["t1"]
    # When it is rendered as SRT
    cues = _srt_cues(_document([segment]))
    # Then the pause separates two cues, and the second starts when its first word does
    assert [c.content for c in cues] == ["Hola a todos.", "Empezamos ya."]
    assert cues[1].start.total_seconds() == pytest.approx(0.9 + 1.2)


def test_speaker_labels_prefix_the_first_line_and_a_change_of_speaker_starts_a_cue() -> None:
    # Given a diarized conversation whose turns follow each other within 0.4 s
    document = _diarized()
    # When it is rendered as SRT
    cues = _srt_cues(document)
    # Then each turn is its own cue, its speaker named at the start of its first line
    assert [c.content.split(":")[0] for c in cues] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00"]
    assert cues[0].content == "SPEAKER_00: Bienvenida al programa, María."
    assert cues[1].content == "SPEAKER_01: Gracias por invitarme,\nes un placer estar aquí."
    assert all(c.content.count("SPEAKER_") == 1 for c in cues)
    assert _srt_text(cues) == _squash(document["text"])


def test_a_word_longer_than_a_line_stands_alone() -> None:
    # Given a word that cannot fit on a subtitle line
    word = "Esternocleidomastoideo-" * 3
    document = _document([_segment(0, 0.0, f"Dolor en el {word} derecho")])
    # When it is rendered as SRT
    cues = _srt_cues(document)
    # Then it has a cue of its own, and nothing is lost
    assert [c.content for c in cues] == ["Dolor en el", word, "derecho"]


def test_a_segment_without_words_is_cut_into_cues_within_its_own_time() -> None:
    # Given a segment with no word timings (word_timestamps off), 200 characters in 12 s
    text = " ".join(["Un texto sin marcas de tiempo por palabra que hay que repartir."] * 3)
    segment = {"id": 0, "t0": 3.0, "t1": 15.0, "text": " " + text, "words": []}
    # When it is rendered as SRT
    cues = _srt_cues(_document([segment]))
    # Then it becomes several short cues spanning exactly the segment, and says all of it
    assert len(cues) >= 3
    assert all(len(c.content.replace("\n", " ")) <= 84 for c in cues)
    assert cues[0].start.total_seconds() == 3.0 and cues[-1].end.total_seconds() == 15.0
    _assert_well_timed([(c.start.total_seconds(), c.end.total_seconds()) for c in cues])
    assert _srt_text(cues) == _squash(text)


def test_overlapping_and_instant_words_still_give_valid_cues() -> None:
    # Given an instant word, then two speakers talking over each other (diarization overlap)
    words = [
        {"text": " Sí.", "t0": 1.0, "t1": 1.0, "probability": 0.5, "speaker": "SPEAKER_00"},
        {"text": " Claro,", "t0": 2.5, "t1": 3.4, "probability": 0.9, "speaker": "SPEAKER_00"},
        {"text": " vale.", "t0": 3.5, "t1": 4.8, "probability": 0.9, "speaker": "SPEAKER_00"},
        {"text": " Bueno.", "t0": 4.5, "t1": 6.0, "probability": 0.9, "speaker": "SPEAKER_01"},
    ]
    document = _document([{"id": 0, "t0": 1.0, "t1": 6.0, "text": " Sí. Claro, vale. Bueno.", "words": words}])
    # When it is rendered as SRT and VTT
    cues = _srt_cues(document)
    captions = _vtt_captions(document)
    # Then every cue lasts, none starts before the previous one ends, and short cues get 0.3 s
    _assert_well_timed([(c.start.total_seconds(), c.end.total_seconds()) for c in cues])
    _assert_well_timed([(c.start_time.in_milliseconds(), c.end_time.in_milliseconds()) for c in captions])
    assert [(c.start.total_seconds(), c.end.total_seconds()) for c in cues] == [(1.0, 1.3), (2.5, 4.8), (4.8, 6.0)]
    assert _srt_text(cues) == "Sí. Claro, vale. Bueno."


def test_slow_speech_is_cut_into_cues_of_at_most_seven_seconds() -> None:
    # Given a countdown read slowly: a word every 0.9 s, few characters, no pause of a second
    document = _document([_segment(0, 0.0, "Diez, nueve, ocho, siete, seis, cinco, cuatro, tres, dos, uno.", word_s=0.9)])
    # When it is rendered as SRT
    cues = _srt_cues(document)
    # Then it needs two cues although the text would fit in one
    assert [c.content for c in cues] == ["Diez, nueve, ocho, siete,\nseis, cinco, cuatro,", "tres, dos, uno."]
    assert all((c.end - c.start).total_seconds() <= 7.0 for c in cues)


def test_a_short_cue_is_not_stretched_into_the_next_one() -> None:
    # Given a 0.1 s answer, and 0.15 s later another speaker's turn
    first = {"id": 0, "t0": 0.0, "t1": 0.1, "text": " Ya.", "speaker": "SPEAKER_00",
             "words": [{"text": " Ya.", "t0": 0.0, "t1": 0.1, "probability": 0.9, "speaker": "SPEAKER_00"}]}
    second = _segment(1, 0.25, "Perfecto, seguimos.", speaker="SPEAKER_01")
    # When it is rendered as SRT
    cues = _srt_cues(_document([first, second]))
    # Then the first cue ends where the second starts, not 0.3 s after its own start
    assert cues[0].end.total_seconds() == 0.25
    assert cues[1].start.total_seconds() == 0.25


# VTT -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [_interview, _diarized])
def test_vtt_parses_strictly_with_short_lines_in_order(build) -> None:
    # Given a transcript
    document = build()
    # When it is rendered as WebVTT
    captions = _vtt_captions(document)
    # Then a strict parser reads it, lines are short, times never overlap, and nothing is lost
    assert captions
    for caption in captions:
        assert re.fullmatch(r"\d{2}:\d{2}:\d{2}\.\d{3}", caption.start)
        _assert_readable_lines(caption.text.split("\n"))
    _assert_well_timed([(c.start_time.in_milliseconds(), c.end_time.in_milliseconds()) for c in captions])
    assert _vtt_text(captions) == _squash(document["text"])


def test_vtt_names_speakers_with_voice_spans() -> None:
    # Given a diarized conversation
    captions = _vtt_captions(_diarized())
    # Then every caption is a voice span of its speaker, and the name is not in the text
    assert [c.voice for c in captions] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00"]
    assert all(c.raw_text.startswith(f"<v {c.voice}>") and c.raw_text.endswith("</v>") for c in captions)
    assert "SPEAKER" not in _vtt_text(captions)


def test_vtt_escapes_markup_characters() -> None:
    # Given words with characters that mean markup in WebVTT
    document = _document([_segment(0, 0.0, "Tom & Jerry <3 --> fin")])
    # When it is rendered as WebVTT
    text = render(document, _meta(), "vtt").content.decode("utf-8")
    captions = webvtt.from_string(text, strict=True).captions
    # Then they are escaped and read back as written
    assert "Tom &amp; Jerry &lt;3 --&gt; fin" in text
    assert _vtt_text(captions) == "Tom & Jerry <3 --> fin"


# A real text -----------------------------------------------------------------------------------


def test_a_real_seventy_second_text_makes_valid_subtitles(capitan_veneno: dict[str, Any]) -> None:
    # Given the reference text of a 70 s Spanish recording, word-timed
    document = capitan_veneno
    # When it is rendered as SRT and VTT
    cues = _srt_cues(document)
    captions = _vtt_captions(document)
    # Then both are valid, readable, in order, complete, and sized like subtitles
    for cue in cues:
        _assert_readable_lines(cue.content.split("\n"))
        assert (cue.end - cue.start).total_seconds() <= 7.0
    _assert_well_timed([(c.start.total_seconds(), c.end.total_seconds()) for c in cues])
    assert _srt_text(cues) == _squash(document["text"])
    assert _vtt_text(captions) == _squash(document["text"])
    assert len(cues) >= len(document["text"]) / 84
    assert cues[-1].end.total_seconds() <= document["duration"] + 0.3


# TXT, MD, JSON -------------------------------------------------------------------------------


def test_plain_text_makes_paragraphs_on_pauses_and_speaker_changes() -> None:
    # Given an interview (a pause of 1.5 s, then one of more than 2 s) and a diarized conversation
    interview = _document([
        _segment(0, 0.0, "Primera frase."),
        _segment(1, 2.3, "Sigue el mismo párrafo."),
        _segment(2, 8.0, "Otro tema."),
    ])
    # When they are rendered as plain text
    # Then paragraphs split on long pauses and on speaker turns, labelled when diarized
    assert plain_text(interview) == "Primera frase. Sigue el mismo párrafo.\n\nOtro tema."
    assert plain_text(_diarized()) == (
        "SPEAKER_00: Bienvenida al programa, María.\n\n"
        "SPEAKER_01: Gracias por invitarme, es un placer estar aquí.\n\n"
        "SPEAKER_00: Empecemos por el principio de todo."
    )
    assert render(interview, _meta(), "txt").content.decode("utf-8").endswith("Otro tema.\n")


def test_plain_text_keeps_long_monologues_readable(capitan_veneno: dict[str, Any]) -> None:
    # Given 70 s of uninterrupted speech
    text = plain_text(capitan_veneno)
    # Then it is still cut into paragraphs, and says everything
    assert text.count("\n\n") >= 1
    assert _squash(text) == _squash(capitan_veneno["text"])


def test_markdown_has_title_metadata_and_timestamped_paragraphs() -> None:
    # Given a transcript with a paragraph starting at 1:05 and a diarized one
    document = _document([_segment(0, 0.0, "Hola."), _segment(1, 65.2, "Una hora después, casi.")])
    # When they are rendered as Markdown
    text = markdown(document, _meta())
    # Then it has the title, the metadata list and the paragraphs with their start times
    assert text.startswith("# Entrevista con María\n\n")
    # in the transcript's language (Spanish here)
    assert "- **Fecha:** 2024-05-01 10:15 UTC\n" in text
    assert "- **Idioma:** español\n" in text
    assert "- **Duración:** 1:02:05\n" in text
    assert "- **Etiquetas:** radio, entrevista\n" in text
    assert "**[00:00:00]** Hola.\n\n**[00:01:05]** Una hora después, casi.\n" in text
    assert "**[00:00:01]** **SPEAKER_01:** Gracias" in markdown(_diarized(), _meta())


def test_markdown_without_title_or_tags() -> None:
    # Given a transcript with no title and no tags
    text = markdown(_interview(), _meta(title=None, tags=[]))
    # Then it is headed "Transcripción" and lists no tags
    assert text.startswith("# Transcripción\n\n")
    assert "Etiquetas" not in text


def test_markdown_of_an_english_transcript_speaks_english() -> None:
    text = markdown(_interview(), _meta(title=None, language="en"))
    assert text.startswith("# Transcript\n\n")
    assert "- **Language:** English\n" in text and "- **Tags:** radio, entrevista\n" in text
    assert "- **Language:** xx\n" in markdown(_interview(), _meta(language="xx"))


def test_json_is_the_document_pretty_printed_with_accents_kept() -> None:
    # Given a transcript
    document = _interview()
    # When it is rendered as JSON
    rendered = render(document, _meta(), "json")
    text = rendered.content.decode("utf-8")
    # Then it is the document itself, indented, with accents as written
    assert json.loads(text) == document
    assert "máquinas" in text and "\n  " in text
    assert Transcript.model_validate_json(text).text == document["text"]


# All formats ------------------------------------------------------------------------------------


def test_every_format_has_its_media_type_and_an_ascii_filename_from_the_title() -> None:
    expected = {
        "txt": "text/plain; charset=utf-8",
        "md": "text/markdown; charset=utf-8",
        "srt": "application/x-subrip; charset=utf-8",
        "vtt": "text/vtt; charset=utf-8",
        "json": "application/json",
    }
    for fmt in FORMATS:
        # When a titled transcript is rendered
        rendered = render(_interview(), _meta(), fmt)
        # Then it is typed and named after its title
        assert rendered.media_type == expected[fmt]
        assert rendered.filename == f"entrevista-con-maria.{fmt}"


@pytest.mark.parametrize(
    ("title", "filename"),
    [
        ("Entrevista con María", "entrevista-con-maria.srt"),
        ("  Reunión: ¿Qué pasó en Åland?  (2ª parte) ", "reunion-que-paso-en-aland-2a-parte.srt"),
        ('Straße "quoted"; name/../x', "strasse-quoted-name-x.srt"),
        (None, "transcript-01HZX3TRANSCRIPT0000000000.srt"),
        ("", "transcript-01HZX3TRANSCRIPT0000000000.srt"),
        ("日本語の会議", "transcript-01HZX3TRANSCRIPT0000000000.srt"),
    ],
)
def test_filenames_are_ascii_slugs_or_fall_back_to_the_id(title: str | None, filename: str) -> None:
    assert render(_interview(), _meta(title=title), "srt").filename == filename


def test_a_long_title_gives_a_bounded_filename() -> None:
    name = render(_interview(), _meta(title="Una reunión muy larga " * 20), "txt").filename
    assert len(name) <= 84 and name.endswith(".txt") and "--" not in name and not name.startswith("-")
    assert name.isascii() and not name[:-4].endswith("-")


def test_an_empty_transcript_renders_validly_in_every_format() -> None:
    # Given a transcript of silence
    document = _document([], duration=4.0)
    meta = _meta(title=None)
    # When it is rendered in every format
    rendered = {fmt: render(document, meta, fmt).content.decode("utf-8") for fmt in FORMATS}
    # Then each is valid and empty of speech
    assert rendered["srt"] == "" and list(srt.parse(rendered["srt"])) == []
    assert rendered["vtt"] == "WEBVTT\n\n" and webvtt.from_string(rendered["vtt"], strict=True).captions == []
    assert rendered["txt"] == ""
    assert rendered["md"].startswith("# Transcripción\n\n") and "**[" not in rendered["md"]
    assert json.loads(rendered["json"]) == document


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="docx"):
        render(_interview(), _meta(), "docx")


# Corrections ------------------------------------------------------------------------------------


def test_a_correction_with_as_many_words_keeps_their_timings() -> None:
    # Given a segment whose words were misheard
    document = _document([_segment(0, 0.0, "Hola a todos."), _segment(1, 2.0, "Habló con Mario Pérez.")])
    before = json.dumps(document, sort_keys=True)
    # When it is corrected with the same number of words
    corrected = apply_corrections(document, {1: "  Habló con María   Pérez. "})
    # Then the words keep their times with the new texts, the text follows, and the input is untouched
    segment = corrected["segments"][1]
    assert segment["text"] == " Habló con María Pérez."
    assert segment["edited"] is True
    assert [w["text"] for w in segment["words"]] == [" Habló", " con", " María", " Pérez."]
    assert [(w["t0"], w["t1"]) for w in segment["words"]] == [(w["t0"], w["t1"]) for w in document["segments"][1]["words"]]
    assert [w["probability"] for w in segment["words"]] == [0.9, 0.9, None, 0.9]
    assert corrected["text"] == "Hola a todos. Habló con María Pérez."
    assert "edited" not in corrected["segments"][0]
    assert json.dumps(document, sort_keys=True) == before
    Transcript.model_validate(corrected)


def test_a_correction_with_other_words_spreads_them_over_the_segment() -> None:
    # Given a segment of three words over 2..4 s, with a speaker
    document = _document([_segment(0, 2.0, "Uno dos tres", word_s=0.7, speaker="SPEAKER_01")])
    segment = document["segments"][0]
    # When it is corrected into words of other lengths
    corrected = apply_corrections(document, {0: "Cuatro cinco"})["segments"][0]
    # Then the segment's span is shared in proportion to their length, keeping the speaker
    assert [w["text"] for w in corrected["words"]] == [" Cuatro", " cinco"]
    span = segment["t1"] - segment["t0"]
    assert corrected["words"][0]["t0"] == segment["t0"]
    assert corrected["words"][0]["t1"] == pytest.approx(segment["t0"] + span * 6 / 11, abs=0.001)
    assert corrected["words"][1]["t1"] == pytest.approx(segment["t1"], abs=0.001)
    assert all(w["probability"] is None and w["speaker"] == "SPEAKER_01" for w in corrected["words"])


def test_a_correction_to_nothing_empties_the_segment() -> None:
    document = _interview()
    corrected = apply_corrections(document, {1: "   "})
    assert corrected["segments"][1]["text"] == "" and corrected["segments"][1]["words"] == []
    assert "regionales" not in corrected["text"]
    assert all("regionales" not in render(corrected, _meta(), fmt).content.decode() for fmt in ("txt", "md", "srt", "vtt"))


def test_an_unknown_segment_cannot_be_corrected() -> None:
    with pytest.raises(KeyError):
        apply_corrections(_interview(), {7: "nada"})


def test_corrections_flow_into_every_format() -> None:
    # Given a long segment corrected with more words than it had
    document = _interview()
    fixed = LONG_SPANISH.replace("máquinas", "máquinas modernas").replace("Buenas tardes", "Buenas noches")
    corrected = apply_corrections(document, {0: fixed, 2: "Depende del modelo."})
    # When it is rendered in every format
    rendered = {fmt: render(corrected, _meta(), fmt).content.decode("utf-8") for fmt in FORMATS}
    # Then every format says the corrected text
    for fmt in FORMATS:
        assert "Buenas noches" in rendered[fmt] and "máquinas modernas" in rendered[fmt], fmt
        assert "Buenas tardes" not in rendered[fmt], fmt
    cues = list(srt.parse(rendered["srt"]))
    assert _srt_text(cues) == _squash(corrected["text"])
    # And the subtitles are still split on timings inside the corrected segment
    first = corrected["segments"][0]
    inside = [c for c in cues if c.end.total_seconds() <= first["t1"] + 0.001]
    assert len(inside) >= 5 and all((c.end - c.start).total_seconds() <= 7.0 for c in inside)
    assert json.loads(rendered["json"])["segments"][2]["text"] == " Depende del modelo."


# Search folding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Transcripción  ÁRBOL", "transcripcion arbol"),
        ("  España\tÑandú\n", "espana nandu"),
        ("Straße", "strasse"),
        ("ÇA VA, Zoë?", "ca va, zoe?"),
        ("", ""),
    ],
)
def test_fold_ignores_case_accents_and_spacing(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_a_plain_search_term_finds_accented_text() -> None:
    assert fold("transcripcion") in fold("La Transcripción de hoy")
    assert fold("TRANSCRIPCIÓN") == fold("transcripcion")
