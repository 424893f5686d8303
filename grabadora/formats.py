"""Downloads (TXT, MD, SRT, VTT, JSON), segment corrections and search folding, as pure functions.

Inputs are the stored transcript document (the JSON of `grabadora.models.Transcript`) and its
`TranscriptItem` (title, tags, created_at, language, duration, transcript_id). Word texts carry faster-whisper's leading spaces (" Hola"), so a run of words
reads as the concatenation of their texts, stripped, exactly as faster-whisper builds a
segment's text.

Paragraphs (TXT, MD): consecutive segments join into one paragraph; a new one starts on a
speaker change, a pause of more than 2 s, or once a paragraph holds `PARAGRAPH_CHARS`
characters (so a long monologue still reads in paragraphs). Empty segments are skipped.

Subtitle cues (SRT, VTT) follow the words' own timings, not Whisper's up-to-30-second segments.
Words are read in order across segments (a segment without words is cut into pseudo-words that
share its [t0, t1] in proportion to their length) and gathered into a cue until the next word

- belongs to another speaker, or
- starts `CUE_PAUSE_S` (1 s) or more after the previous word ends, or
- would make the cue last more than `CUE_MAX_S` (7 s), or
- would no longer fit in two lines of `LINE_CHARS` (42) characters, SRT's speaker label included.

A cue's text is broken into at most two lines at word boundaries, choosing the break that
keeps the longer line shortest (ties: the shorter line on top). A single word too long for a
line stands alone in its cue, on its own line. Times are whole milliseconds: a cue starts no
earlier than the previous one ends (clamped), lasts at least `CUE_MIN_MS` where that does not
run into the next cue, and always ends after it starts. Speakers show as an SRT prefix
("SPEAKER_00: ...") on the first line and as VTT voice spans (`<v SPEAKER_00>...</v>`).

Corrections (`apply_corrections`) replace segment texts (whitespace collapsed, with the leading
space convention) and re-derive the segment's words, so the subtitles of a corrected transcript
still split on timings: with as many tokens as before, each token keeps its word's timing and
speaker (and its probability if the token is unchanged); otherwise the segment's span is shared
among the new tokens in proportion to their length.

Speaker names (`apply_speaker_names`): the user's names for speaker labels ({"S1": "Ana"}) replace
the labels on segments and words, so every download and export prints "Ana" where it printed
"S1"; two labels given one name read as one speaker (a paragraph or cue may then join them).

File names are an ASCII slug of the title, at most `FILENAME_CHARS` long, else transcript-<id>.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from grabadora.languages import LANGUAGE_NAMES, language_name
from grabadora.models import TranscriptItem

FORMATS = ("txt", "md", "srt", "vtt", "json")

LINE_CHARS = 42
CUE_MAX_S = 7.0
CUE_PAUSE_S = 1.0
CUE_MIN_MS = 300
PARAGRAPH_PAUSE_S = 2.0
PARAGRAPH_CHARS = 600
FILENAME_CHARS = 80

_MEDIA_TYPES = {
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "json": "application/json",
}


@dataclass(frozen=True)
class Rendered:
    content: bytes  # UTF-8
    media_type: str
    filename: str  # ASCII only, safe for Content-Disposition


def render(document: dict[str, Any], meta: TranscriptItem, fmt: str) -> Rendered:
    """The transcript as a downloadable file in `fmt` (one of `FORMATS`)."""
    renderers: dict[str, Callable[[], str]] = {
        "txt": lambda: _with_final_newline(plain_text(document)),
        "md": lambda: markdown(document, meta),
        "srt": lambda: _srt(document),
        "vtt": lambda: _vtt(document),
        "json": lambda: json.dumps(document, ensure_ascii=False, indent=2) + "\n",
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return Rendered(
        content=renderers[fmt]().encode("utf-8"),
        media_type=_MEDIA_TYPES[fmt],
        filename=f"{_file_stem(document, meta)}.{fmt}",
    )


# DynamoDB items are capped at 400 KB; this leaves room for everything else on the item.
SEARCH_TEXT_MAX_CHARS = 200_000
PREVIEW_CHARS = 280


def search_text(title: str | None, tags: list[str] | None, text: str) -> str:
    """What `search` matches against: folded title, tags and text."""
    return fold(" ".join([title or "", *(tags or []), text]))[:SEARCH_TEXT_MAX_CHARS]


def preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1].rsplit(" ", 1)[0] + "…"


def fold(text: str) -> str:
    """Search normalisation: casefolded, accents stripped, whitespace collapsed."""
    return " ".join(_strip_marks(_strip_marks(text).casefold()).split())


def _strip_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# Corrections ---------------------------------------------------------------------------------


def apply_corrections(document: dict[str, Any], corrections: dict[int, str]) -> dict[str, Any]:
    """A copy of `document` with the given segments' texts replaced and their words re-derived.

    Raises KeyError for a segment id the document does not have.
    """
    corrected = copy.deepcopy(document)
    by_id = {segment["id"]: segment for segment in corrected["segments"]}
    for segment_id, new_text in corrections.items():
        _correct_segment(by_id[segment_id], new_text)
    corrected["text"] = "".join(segment["text"] for segment in corrected["segments"]).strip()
    return corrected


def _correct_segment(segment: dict[str, Any], new_text: str) -> None:
    tokens = new_text.split()
    old_words = segment.get("words") or []
    if old_words and len(tokens) == len(old_words):
        words = [_retext(word, token) for word, token in zip(old_words, tokens)]
    else:
        words = _spread(tokens, segment["t0"], segment["t1"], segment.get("speaker"))
    segment["text"] = " " + " ".join(tokens) if tokens else ""
    segment["words"] = words
    segment["edited"] = True


def _retext(word: dict[str, Any], token: str) -> dict[str, Any]:
    unchanged = word["text"].strip() == token
    return {**word, "text": " " + token, "probability": word.get("probability") if unchanged else None}


def _spread(tokens: list[str], t0: float, t1: float, speaker: str | None) -> list[dict[str, Any]]:
    """Words for `tokens` sharing [t0, t1] in proportion to their length."""
    total = sum(len(token) for token in tokens)
    words, done = [], 0
    for token in tokens:
        start = t0 + (t1 - t0) * done / total
        done += len(token)
        end = t0 + (t1 - t0) * done / total
        words.append({"text": " " + token, "t0": round(start, 3), "t1": round(end, 3), "probability": None, "speaker": speaker})
    return words


# Speaker names -------------------------------------------------------------------------------


def apply_speaker_names(document: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A copy of `document` whose segments' and words' speaker labels are replaced by `names`
    (labels without a name stay); the mapping is kept as `speaker_names`."""
    if not names:
        return document
    named = copy.deepcopy(document)
    for segment in named["segments"]:
        if segment.get("speaker") in names:
            segment["speaker"] = names[segment["speaker"]]
        for word in segment.get("words") or []:
            if word.get("speaker") in names:
                word["speaker"] = names[word["speaker"]]
    named["speaker_names"] = dict(names)
    return named


# Paragraphs: TXT and MD -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Paragraph:
    t0: float
    speaker: str | None
    text: str


def _paragraphs(document: dict[str, Any]) -> list[_Paragraph]:
    groups: list[list[dict[str, Any]]] = []
    for segment in document["segments"]:
        if not segment["text"].strip():
            continue
        if groups and _continues(groups[-1], segment):
            groups[-1].append(segment)
        else:
            groups.append([segment])
    return [
        _Paragraph(group[0]["t0"], group[0].get("speaker"), "".join(s["text"] for s in group).strip())
        for group in groups
    ]


def _continues(group: list[dict[str, Any]], segment: dict[str, Any]) -> bool:
    previous = group[-1]
    return (
        segment.get("speaker") == previous.get("speaker")
        and segment["t0"] - previous["t1"] <= PARAGRAPH_PAUSE_S
        and sum(len(s["text"]) for s in group) < PARAGRAPH_CHARS
    )


def plain_text(document: dict[str, Any]) -> str:
    """The transcript as paragraphs separated by blank lines, "SPEAKER_00: ..." when diarized."""
    return "\n\n".join(f"{p.speaker}: {p.text}" if p.speaker else p.text for p in _paragraphs(document))


# Markdown's headings speak the transcript's language: Spanish for Spanish, English otherwise.
_MD_LABELS = {
    "es": {"title": "Transcripción", "date": "Fecha", "language": "Idioma", "duration": "Duración",
           "tags": "Etiquetas", "unknown": "desconocido"},
    "en": {"title": "Transcript", "date": "Date", "language": "Language", "duration": "Duration",
           "tags": "Tags", "unknown": "unknown"},
}
_SPANISH_LANGUAGE_NAMES = {
    "es": "español", "en": "inglés", "ca": "catalán", "gl": "gallego", "eu": "euskera", "pt": "portugués",
    "fr": "francés", "it": "italiano", "de": "alemán", "nl": "neerlandés", "ru": "ruso", "zh": "chino",
    "ja": "japonés", "ar": "árabe",
}


def markdown(document: dict[str, Any], meta: TranscriptItem) -> str:
    """A Markdown document: title, a metadata list, then timestamped paragraphs."""
    code = meta.language or document.get("language")
    labels = _MD_LABELS["es" if code == "es" else "en"]
    if code is None:
        language = labels["unknown"]
    elif code == "es":
        language = _SPANISH_LANGUAGE_NAMES.get(code, code)
    else:
        language = language_name(code).capitalize() if code in LANGUAGE_NAMES else code
    title = " ".join((meta.title or "").split()) or labels["title"]
    details = [
        f"- **{labels['date']}:** {_date(meta.created_at or document.get('created_at'), labels['unknown'])}",
        f"- **{labels['language']}:** {language}",
        f"- **{labels['duration']}:** {_duration(float(meta.duration or document.get('duration') or 0))}",
    ]
    if meta.tags:
        details.append(f"- **{labels['tags']}:** {', '.join(meta.tags)}")
    paragraphs = [
        f"**[{_clock(round(p.t0 * 1000)).split('.')[0]}]** " + (f"**{p.speaker}:** " if p.speaker else "") + p.text
        for p in _paragraphs(document)
    ]
    return "\n\n".join([f"# {title}", "\n".join(details), *paragraphs]) + "\n"


def _date(value: str | None, unknown: str = "unknown") -> str:
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        return value or unknown
    return moment.replace(tzinfo=moment.tzinfo or timezone.utc).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02}:{whole % 60:02}"


# Cues: SRT and VTT ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Word:
    text: str  # with its leading space, as faster-whisper gives it
    t0: float
    t1: float
    speaker: str | None


@dataclass(frozen=True)
class _Cue:
    start_ms: int
    end_ms: int
    speaker: str | None
    lines: list[str]


def _srt(document: dict[str, Any]) -> str:
    cues = _cues(document, lambda speaker: f"{speaker}:" if speaker else "")
    return "".join(
        f"{n}\n{_clock(c.start_ms, ',')} --> {_clock(c.end_ms, ',')}\n" + "\n".join(c.lines) + "\n\n"
        for n, c in enumerate(cues, start=1)
    )


def _vtt(document: dict[str, Any]) -> str:
    cues = _cues(document, lambda speaker: "")
    return "WEBVTT\n\n" + "".join(
        f"{_clock(c.start_ms, '.')} --> {_clock(c.end_ms, '.')}\n{_vtt_text(c)}\n\n" for c in cues
    )


def _vtt_text(cue: _Cue) -> str:
    text = "\n".join(_vtt_escape(line) for line in cue.lines)
    return f"<v {_vtt_escape(cue.speaker)}>{text}</v>" if cue.speaker else text


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clock(ms: int, separator: str = ".") -> str:
    seconds, ms = divmod(ms, 1000)
    return f"{seconds // 3600:02}:{seconds // 60 % 60:02}:{seconds % 60:02}{separator}{ms:03}"


def _words(document: dict[str, Any]) -> Iterator[_Word]:
    """Every word in order; a segment without words gives pseudo-words spread over its span."""
    for segment in document["segments"]:
        words = segment.get("words") or _spread(segment["text"].split(), segment["t0"], segment["t1"], None)
        for word in words:
            if word["text"].strip():
                yield _Word(word["text"], word["t0"], word["t1"], word.get("speaker") or segment.get("speaker"))


def _cues(document: dict[str, Any], label: Callable[[str | None], str]) -> list[_Cue]:
    return _timed(_group_words(_words(document), label), label)


def _group_words(words: Iterator[_Word], label: Callable[[str | None], str]) -> list[list[_Word]]:
    groups: list[list[_Word]] = []
    for word in words:
        if groups and _joins(groups[-1], word, label):
            groups[-1].append(word)
        else:
            groups.append([word])
    return groups


def _joins(cue: list[_Word], word: _Word, label: Callable[[str | None], str]) -> bool:
    return (
        word.speaker == cue[0].speaker
        and word.t0 - cue[-1].t1 < CUE_PAUSE_S
        and word.t1 - cue[0].t0 <= CUE_MAX_S
        and all(len(line) <= LINE_CHARS for line in _lines(label(word.speaker), [*cue, word]))
    )


def _run(words: list[_Word]) -> str:
    return "".join(word.text for word in words).strip()


def _lines(label: str, words: list[_Word]) -> list[str]:
    """The cue text (after `label`) in one line, or two balanced lines broken between words."""
    whole = " ".join(filter(None, [label, _run(words)]))
    breaks = _break_points(label, words)
    if len(whole) <= LINE_CHARS or not breaks:
        return [whole]
    splits = [[" ".join(filter(None, [label, _run(words[:i])])), _run(words[i:])] for i in breaks]
    return min(splits, key=lambda lines: (max(map(len, lines)), len(lines[0])))


def _break_points(label: str, words: list[_Word]) -> list[int]:
    """Where a line may break: before a word that starts with a space (any word if none does,
    as in Chinese or Japanese), or right after the speaker label."""
    inner = range(1, len(words))
    spaced = [i for i in inner if words[i].text[:1].isspace()]
    return ([0] if label else []) + (spaced or list(inner))


def _timed(groups: list[list[_Word]], label: Callable[[str | None], str]) -> list[_Cue]:
    starts = [round(group[0].t0 * 1000) for group in groups]
    cues: list[_Cue] = []
    previous_end = 0
    for n, group in enumerate(groups):
        start = max(starts[n], previous_end)
        next_start = starts[n + 1] if n + 1 < len(groups) else start + CUE_MIN_MS
        raw_end = round(max(word.t1 for word in group) * 1000)
        end = max(raw_end, start + 1, min(start + CUE_MIN_MS, next_start))
        speaker = group[0].speaker
        cues.append(_Cue(start, end, speaker, _lines(label(speaker), group)))
        previous_end = end
    return cues


# Files ----------------------------------------------------------------------------------------


def _with_final_newline(text: str) -> str:
    return text + "\n" if text else ""


def _file_stem(document: dict[str, Any], meta: TranscriptItem) -> str:
    """A slug of the title ("Entrevista con María" -> "entrevista-con-maria"), else transcript-<id>."""
    ascii_title = fold(meta.title or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:FILENAME_CHARS].rstrip("-")
    transcript_id = re.sub(r"[^A-Za-z0-9_-]+", "", meta.transcript_id or document.get("job_id") or "")
    return slug or "-".join(filter(None, ["transcript", transcript_id]))
