"""Speaker diarization: word attribution accuracy and the time it adds to a transcription.

    .venv/bin/python benchmarks/diarization.py [--model base] [--rounds 3] [--threshold T] [--output docs/DIARIZATION.md]
    .venv/bin/python benchmarks/diarization.py --conversations [--model base] [--output docs/BENCHMARKS.md]

(--output replaces the results block of the document, keeping the rest of it.)

--conversations: turns against Whisper's segments. Conversations are built from three
single-speaker recordings of /work/shared/audio (JFK's two sentences, cut at his pause, with the
Picovoice "cheetah" speaker between them and the TIMIT (DeepSpeech) speaker after), joined with
short pauses of silence, so the speaker of every reference word is known by construction. Each
is transcribed once and diarized once; word attribution and segment labels (what TXT/SRT/VTT/MD
and exports print: a word counts as right when the segment holding it carries its speaker) are
scored on the raw labels (`label_words_only`: Whisper's segments, majority label) and after
`speaker_turns` (smoothed, split where the speaker changes).

Transcribes /work/shared/audio/pv_leopard_diarization_test.wav (20 s, English, three
speakers) with faster-whisper (the model resolved offline by `resolve_model`, int8 on CPU, the
worker's `transcribe_kwargs` for the default options: word timestamps, VAD filter, balanced
profile), then labels the words with `gpu_container.diarization` (the diarizer loaded once
beforehand, as the worker keeps it).

Accuracy: hypothesis words are aligned to the reference words (`speakers` in
references.json) with difflib on normalised words (lower case, letters, digits and
apostrophes only); hypothesis labels are mapped to reference speakers by the best one-to-one
assignment (every permutation: few speakers); accuracy = aligned words whose mapped label is
the reference speaker / reference words. Transcription and diarization times are taken in the
same run, side by side; the medians of --rounds runs are reported.
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import json
import os
import platform
import re
import shlex
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from faster_whisper import WhisperModel, decode_audio  # noqa: E402

from gpu_container.diarization import THRESHOLD, Diarizer  # noqa: E402
from gpu_container.model_store import resolve_model  # noqa: E402
from gpu_container.profiles import decode_profile  # noqa: E402
from gpu_container.transcriber import _segment, transcribe_kwargs  # noqa: E402
from grabadora.models import Segment, TranscribeOptions  # noqa: E402

AUDIO_DIR = Path(os.environ.get("GRABADORA_BENCH_AUDIO", "/work/shared/audio"))
FILE = "pv_leopard_diarization_test.wav"


def normalise(word: str) -> str:
    return re.sub(r"[^a-z0-9']", "", word.lower().replace("’", "'"))


def reference_words(file: str = FILE) -> list[tuple[str, int]]:
    """(normalised word, speaker index) for every reference word, in order."""
    refs = json.loads((AUDIO_DIR / "references.json").read_text())[file]["speakers"]
    return [(normalise(w), s) for s, text in enumerate(refs) for w in text.split() if normalise(w)]


def word_accuracy(segments: list[Segment], reference: list[tuple[str, int]]) -> dict[str, float | int]:
    """Share of reference words that were recognised and attributed to the right speaker."""
    hyp = [(normalise(w.text), w.speaker) for s in segments for w in s.words if normalise(w.text)]
    matcher = difflib.SequenceMatcher(a=[w for w, _ in reference], b=[w for w, _ in hyp], autojunk=False)
    pairs = [
        (reference[block.a + k][1], hyp[block.b + k][1])
        for block in matcher.get_matching_blocks()
        for k in range(block.size)
    ]
    ref_speakers = sorted({s for _, s in reference})
    hyp_labels = sorted({label for _, label in hyp if label is not None})
    best = 0
    # Best one-to-one mapping of hypothesis labels to reference speakers (unmapped labels count wrong).
    slots = ref_speakers + [None] * max(0, len(hyp_labels) - len(ref_speakers))
    for perm in itertools.permutations(slots, len(hyp_labels)):
        mapping = dict(zip(hyp_labels, perm))
        best = max(best, sum(1 for ref, label in pairs if mapping.get(label) == ref))
    return {
        "accuracy": best / len(reference),
        "aligned": len(pairs),
        "reference_words": len(reference),
        "correct": best,
        "speakers_found": len(hyp_labels),
    }


def segment_accuracy(segments: list[Segment], reference: list[tuple[str, int]]) -> dict[str, float | int]:
    """`word_accuracy` with every word taking its segment's label (what downloads print), plus the
    number of segments holding aligned words of more than one true speaker."""
    as_printed = [
        s.model_copy(update={"words": [w.model_copy(update={"speaker": s.speaker}) for w in s.words]}) for s in segments
    ]
    result = word_accuracy(as_printed, reference)
    hyp = [(i, normalise(w.text)) for i, s in enumerate(segments) for w in s.words if normalise(w.text)]
    matcher = difflib.SequenceMatcher(a=[w for w, _ in reference], b=[w for _, w in hyp], autojunk=False)
    truth_by_segment: dict[int, set[int]] = {}
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            truth_by_segment.setdefault(hyp[block.b + k][0], set()).add(reference[block.a + k][1])
    result["mixed_segments"] = sum(1 for speakers in truth_by_segment.values() if len(speakers) > 1)
    result["segments"] = len(segments)
    return result


def transcribe(model: WhisperModel, audio, options: TranscribeOptions) -> list[Segment]:
    raw, _ = model.transcribe(audio, **transcribe_kwargs(options, decode_profile("cpu", options.profile)))
    return [_segment(i, s) for i, s in enumerate(raw)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="base", help="whisper model name or directory (default: base)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--min-speakers", type=int, default=None)
    parser.add_argument("--max-speakers", type=int, default=None)
    parser.add_argument("--output", help="also write the markdown table to this file")
    parser.add_argument("--conversations", action="store_true", help="turns vs Whisper's segments on built conversations")
    args = parser.parse_args()
    if args.conversations:
        run_conversations(args)
        return

    options = TranscribeOptions(language="en", diarization=True)
    profile = decode_profile("cpu", options.profile)
    model = WhisperModel(str(resolve_model(args.model)), device="cpu", compute_type=profile.compute_type)
    diarizer = Diarizer(threshold=args.threshold)
    t = time.perf_counter()
    diarizer.load()
    load_s = time.perf_counter() - t
    audio = decode_audio(str(AUDIO_DIR / FILE), sampling_rate=16000)
    reference = reference_words()
    transcribe(model, audio, options)  # warm-up (VAD model, first decode)

    t_tr, t_di, result, labelled = [], [], None, []
    for r in range(args.rounds):
        t0 = time.perf_counter()
        segments = transcribe(model, audio, options)
        t1 = time.perf_counter()
        labelled = diarizer.assign_speakers(audio, segments, args.min_speakers, args.max_speakers)
        t2 = time.perf_counter()
        t_tr.append(t1 - t0)
        t_di.append(t2 - t1)
        result = word_accuracy(labelled, reference)
        print(f"round {r + 1}: transcription {t1 - t0:.2f} s, diarization {t2 - t1:.3f} s, {result}", file=sys.stderr)
    assert result is not None
    for seg in labelled:
        print(f"  [{seg.speaker}] {' '.join(f'{w.text.strip()}/{w.speaker}' for w in seg.words)}", file=sys.stderr)

    tr, di = statistics.median(t_tr), statistics.median(t_di)
    command = "  .venv/bin/python " + " ".join(shlex.quote(a) for a in ["benchmarks/diarization.py", *sys.argv[1:]])
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}",
        "",
        "Command:",
        "",
        command,
        "",
        f"| recording | whisper model | words right | speakers found / true | transcription (s) | diarization (s) | added | encoder load (s, once) |",
        "|---|---|---|---|---|---|---|---|",
        f"| {FILE} (19.8 s) | {args.model} int8 | {result['correct']}/{result['reference_words']} = {result['accuracy']:.1%} "
        f"| {result['speakers_found']} / 3 | {tr:.2f} | {di:.3f} | {di / tr:.0%} | {load_s:.2f} |",
        "",
        f"Median of {args.rounds} rounds; threshold {args.threshold}; "
        f"{result['aligned']} of {result['reference_words']} reference words aligned to recognised words.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.output:
        write_results(Path(args.output), text)


START, END = "<!-- results: written by benchmarks/diarization.py --output docs/DIARIZATION.md -->", "<!-- /results -->"
TURNS_START = "<!-- results: written by benchmarks/diarization.py --conversations --output docs/BENCHMARKS.md -->"
TURNS_END = "<!-- /results: speaker turns -->"


def write_results(path: Path, text: str, start: str = START, end: str = END) -> None:
    """Replace the results block of an existing document (between start and end), else append it
    (to an existing document) or write the table alone."""
    doc = path.read_text() if path.is_file() else None
    if doc is not None and start in doc and end in doc:
        head, rest = doc.split(start, 1)
        path.write_text(f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}")
    elif doc is not None and path.name != "DIARIZATION.md":
        path.write_text(f"{doc.rstrip()}\n\n{start}\n{text}\n{end}\n")
    else:
        path.write_text(text + "\n")


# Conversations built from single-speaker recordings -------------------------------------------

JFK = "fw_jfk.flac"
CHEETAH = "pv_cheetah_test_en.wav"
TIMIT = "deepspeech_LDC93S1_pcms16le_1_8000.wav"
JFK_FIRST = 14  # "and so my fellow americans ask not what your country can do for you" | "ask what ..."


def _reference(file: str) -> list[str]:
    text = json.loads((AUDIO_DIR / "references.json").read_text())[file]["reference"]
    return [normalise(w) for w in text.split() if normalise(w)]


def conversation_pieces(model: WhisperModel, options: TranscribeOptions):
    """(name, audio, reference words) of the pieces: JFK's two sentences (cut in the middle of his
    pause, found from the word timings of the whole recording), cheetah, TIMIT."""
    import numpy as np

    jfk = decode_audio(str(AUDIO_DIR / JFK), sampling_rate=16000)
    words = [w for s in transcribe(model, jfk, options) for w in s.words if normalise(w.text)]
    cut_after = next(i for i, w in enumerate(words) if normalise(w.text) == "you")  # "... can do for you,"
    cut = int((words[cut_after].t1 + words[cut_after + 1].t0) / 2 * 16000)
    ref = _reference(JFK)
    return {
        "jfk1": (jfk[:cut], ref[:JFK_FIRST]),
        "jfk2": (jfk[cut:], ref[JFK_FIRST:]),
        "cheetah": (decode_audio(str(AUDIO_DIR / CHEETAH), sampling_rate=16000), _reference(CHEETAH)),
        "timit": (decode_audio(str(AUDIO_DIR / TIMIT), sampling_rate=16000), _reference(TIMIT)),
    }, np


SPEAKER_OF = {"jfk1": 0, "jfk2": 0, "cheetah": 1, "timit": 2}
CONVERSATIONS = {
    "JFK · cheetah · JFK · TIMIT": ["jfk1", "cheetah", "jfk2", "timit"],
    "cheetah · JFK · TIMIT · JFK · cheetah": ["cheetah", "jfk1", "timit", "jfk2", "cheetah"],
}
PAUSES_S = (0.3, 0.8)


def run_conversations(args: argparse.Namespace) -> None:
    from gpu_container.diarization import speaker_turns

    options = TranscribeOptions(language="en", diarization=True)
    profile = decode_profile("cpu", options.profile)
    model = WhisperModel(str(resolve_model(args.model)), device="cpu", compute_type=profile.compute_type)
    diarizer = Diarizer(threshold=args.threshold)
    diarizer.load()
    pieces, np = conversation_pieces(model, options)
    rows = []
    totals = {k: [0, 0] for k in ("w_raw", "w_turns", "s_raw", "s_turns")}
    for name, order in CONVERSATIONS.items():
        for pause in PAUSES_S:
            silence = np.zeros(int(pause * 16000), dtype=np.float32)
            parts, reference = [], []
            for k, piece in enumerate(order):
                audio, words = pieces[piece]
                parts += ([silence] if k else []) + [audio]
                reference += [(w, SPEAKER_OF[piece]) for w in words]
            audio = np.concatenate(parts).astype(np.float32)
            segments = transcribe(model, audio, options)
            raw = diarizer.label_words_only(audio, segments, args.min_speakers, args.max_speakers)
            turns = speaker_turns(raw)
            result = {
                "w_raw": word_accuracy(raw, reference),
                "w_turns": word_accuracy(turns, reference),
                "s_raw": segment_accuracy(raw, reference),
                "s_turns": segment_accuracy(turns, reference),
            }
            for key, r in result.items():
                totals[key][0] += r["correct"]
                totals[key][1] += r["reference_words"]
            rows.append((name, pause, len(audio) / 16000, len({s for _, s in reference}), result))
            for label, segs in (("raw", raw), ("turns", turns)):
                print(f"{name} / {pause}s {label}:", file=sys.stderr)
                for seg in segs:
                    print(f"  {seg.id:>2} [{seg.speaker}] {' '.join(f'{w.text.strip()}/{w.speaker}' for w in seg.words)}", file=sys.stderr)

    def pct(r: dict) -> str:
        return f"{r['correct']}/{r['reference_words']} = {r['accuracy']:.1%}"

    command = "  .venv/bin/python " + " ".join(shlex.quote(a) for a in ["benchmarks/diarization.py", *sys.argv[1:]])
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}; "
        f"faster-whisper `{args.model}` int8 on CPU, threshold {args.threshold}",
        "",
        "Command:",
        "",
        command,
        "",
        "| conversation | pause (s) | length (s) | speakers found / true | words recognised | words right: raw → turns | segment labels right: raw → turns | segments (mixed): raw → turns |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, pause, length, true_speakers, r in rows:
        lines.append(
            f"| {name} | {pause} | {length:.1f} | {r['w_turns']['speakers_found']} / {true_speakers} "
            f"| {r['w_turns']['aligned']}/{r['w_turns']['reference_words']} | {pct(r['w_raw'])} → {pct(r['w_turns'])} | {pct(r['s_raw'])} → {pct(r['s_turns'])} "
            f"| {r['s_raw']['segments']} ({r['s_raw']['mixed_segments']}) → {r['s_turns']['segments']} ({r['s_turns']['mixed_segments']}) |"
        )
    share = {k: f"{c}/{n} = {c / n:.1%}" for k, (c, n) in totals.items()}
    aligned = sum(r["w_turns"]["aligned"] for *_, r in rows)
    lines += [
        f"| **all** | | | | {aligned}/{totals['w_turns'][1]} | {share['w_raw']} → {share['w_turns']} | {share['s_raw']} → {share['s_turns']} | |",
        "",
        "Raw = the diarizer's word labels with Whisper's segments (each segment: its words' majority); turns = "
        "after `speaker_turns` (one-word flips smoothed, boundaries on pauses, segments split where the speaker "
        "changes). Words right = reference words recognised and attributed to their true speaker (best one-to-one "
        "mapping of labels; a word not recognised, e.g. 1 for one, counts wrong); words recognised = reference words aligned to recognised words, the ceiling of both; segment labels right = the same with every word taking its segment's label, as "
        "TXT/MD/SRT/VTT and exports print it; mixed = segments holding words of more than one true speaker.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.output:
        write_results(Path(args.output), text, TURNS_START, TURNS_END)


if __name__ == "__main__":
    main()
