"""Speaker diarization: word attribution accuracy and the time it adds to a transcription.

    .venv/bin/python benchmarks/diarization.py [--model base] [--rounds 3] [--threshold T] [--output docs/DIARIZATION.md]

(--output replaces the results block of docs/DIARIZATION.md, keeping the rest of the document.)

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
    args = parser.parse_args()

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


def write_results(path: Path, text: str) -> None:
    """Replace the results block of an existing document (between START and END), else write the table alone."""
    if path.is_file() and START in (doc := path.read_text()) and END in doc:
        head, rest = doc.split(START, 1)
        path.write_text(f"{head}{START}\n{text}\n{END}{rest.split(END, 1)[1]}")
    else:
        path.write_text(text + "\n")


if __name__ == "__main__":
    main()
