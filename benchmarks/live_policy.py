"""Live transcription's commit policy, replayed at real-time pace: latency, compute, WER.

    .venv/bin/python benchmarks/live_policy.py [--model base|tiny.en] [--file NAME] [--language es]
        [--repeat N] [--beam 1] [--frame 0.25] [--cpu-threads 2] [--tune trim_s=10 ...]

The recording (from /work/shared/audio, `--repeat` times back to back for a long session)
becomes available in `--frame`-second frames at wall-clock pace, as a microphone's would. A
`gpu_container.streaming.LiveTranscriber` steps as soon as its previous step ended and new audio
arrived, so a slow step just sees more audio next time. Per confirmed word: confirmed latency =
wall time when confirmed - the word's end (t1) in the audio; shown latency = the first time it
appeared, tentative or confirmed (a tentative word with the same text within 1 s). Also CPU
seconds per audio second (this process), step wall time over the first and the last tenth of the
session, and Whisper-normalised WER (tests.conftest.normalise) against the reference and against
transcribing the whole file at once with the worker's CPU `balanced` profile.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._common import AUDIO_DIR, command_line, log, machine_lines, percentile  # noqa: E402

SAMPLE_RATE = 16000


def _tuning(pairs: list[str]) -> dict[str, object]:
    """`name=value` overrides for LiveTuning; values parsed as JSON (so None is `null`)."""
    out: dict[str, object] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        out[name] = json.loads(value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="base", help="base | tiny.en | a CTranslate2 directory")
    parser.add_argument("--file", default="aeneas_capitan_veneno_es.mp3")
    parser.add_argument("--language", default=None, help="default: the reference's language (none = detect)")
    parser.add_argument("--repeat", type=int, default=1, help="play the recording this many times in a row")
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--frame", type=float, default=0.25, help="seconds of audio per arriving frame")
    parser.add_argument("--cpu-threads", type=int, default=2)
    parser.add_argument("--tune", action="append", default=[], help="LiveTuning override, name=json")
    parser.add_argument("--no-whole", action="store_true", help="skip the whole-file transcription")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    import numpy as np
    from faster_whisper import WhisperModel, decode_audio

    from gpu_container.model_store import resolve_model
    from gpu_container.profiles import decode_profile
    from gpu_container.streaming import LiveTranscriber, _key, words_to_segments
    from gpu_container.transcriber import transcribe_kwargs
    from grabadora.models import QualityProfile, TranscribeOptions
    from tests.conftest import wer

    refs = json.loads((AUDIO_DIR / "references.json").read_text())
    ref = refs.get(args.file, {})
    language = args.language if args.language is not None else ref.get("language")
    if language == "none":
        language = None
    reference = " ".join([ref["reference"]] * args.repeat) if ref.get("reference") else None
    norm_lang = language or ref.get("language") or "es"

    path = str(resolve_model(args.model, None))
    model = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=args.cpu_threads)
    one = decode_audio(str(AUDIO_DIR / args.file), sampling_rate=SAMPLE_RATE)
    audio = np.concatenate([one] * args.repeat)
    total = audio.size
    frame = max(1, round(args.frame * SAMPLE_RATE))
    tuning = _tuning(args.tune)
    live = LiveTranscriber(model, language=language, beam_size=args.beam, **tuning)
    log(f"{args.file} x{args.repeat}: {total / SAMPLE_RATE:.1f} s of audio at real-time pace, tuning {live.tuning}")

    # Warm the model so the first step is not also CTranslate2's first call.
    list(model.transcribe(one[: SAMPLE_RATE], language=language or "en", beam_size=1)[0])

    confirmed: list[tuple[object, float]] = []  # (Word, wall when confirmed)
    seen: dict[str, list[tuple[float, float]]] = {}  # key -> [(t0, wall first shown)]
    steps: list[tuple[float, float, float]] = []  # (audio end, step wall s, buffer s)
    fed = 0
    start = time.perf_counter()
    cpu_start = time.process_time()

    def note(words, wall, final):
        for w in words:
            entries = seen.setdefault(_key(w.text), [])
            if not any(abs(t0 - w.t0) <= 1.0 for t0, _ in entries):
                entries.append((w.t0, wall))
            if final:
                confirmed.append((w, wall))

    while True:
        now = time.perf_counter() - start
        available = min(total, int(now * SAMPLE_RATE) // frame * frame)
        if available > fed:
            live.feed(audio[fed:available])
            fed = available
        if fed >= total:
            break
        behind = live.audio_offset + live.buffered_seconds
        before = time.perf_counter()
        result = live.step()
        took = time.perf_counter() - before
        wall = time.perf_counter() - start
        if result.confirmed or result.tentative or took > 0.01:
            steps.append((behind, took, live.buffered_seconds))
        note(result.tentative, wall, final=False)
        note(result.confirmed, wall, final=True)
        if took < 0.01:  # nothing new to decode: wait for the next frame
            next_frame = (fed + frame) / SAMPLE_RATE
            time.sleep(max(0.0, next_frame - (time.perf_counter() - start)))
    result = live.finish()
    wall = time.perf_counter() - start
    note(result.confirmed, wall, final=True)
    cpu = time.process_time() - cpu_start
    duration = total / SAMPLE_RATE

    words = [w for w, _ in confirmed]
    assert all(a.t1 <= b.t0 + 1e-9 for a, b in zip(words, words[1:], strict=False)), "confirmed time went back"
    latency = [wall - w.t1 for w, wall in confirmed]
    shown = []
    for w, wall in confirmed:
        first = min((t for t0, t in seen.get(_key(w.text), []) if abs(t0 - w.t0) <= 1.0), default=wall)
        shown.append(min(first, wall) - w.t1)
    n_finish = len(result.confirmed)
    live_text = "".join(w.text for w in words)
    tenth = max(1, len(steps) // 10)
    first_steps, last_steps = steps[:tenth], steps[-tenth:]

    whole_text = None
    if not args.no_whole:
        options = TranscribeOptions(language=language, profile=QualityProfile.BALANCED)
        kwargs = transcribe_kwargs(options, decode_profile("cpu", QualityProfile.BALANCED))
        whole_text = "".join(s.text for s in model.transcribe(one, **kwargs)[0])
        whole_text = " ".join([whole_text] * args.repeat)

    figures = {
        "file": args.file,
        "repeat": args.repeat,
        "model": args.model,
        "beam": args.beam,
        "language": live.language,
        "tuning": {k: getattr(live.tuning, k) for k in live.tuning.__dataclass_fields__},
        "audio_s": round(duration, 1),
        "words": len(words),
        "words_at_finish": n_finish,
        "segments": len(words_to_segments(words)),
        "confirmed_p50_s": round(percentile(latency, 50), 2),
        "confirmed_p90_s": round(percentile(latency, 90), 2),
        "shown_p50_s": round(percentile(shown, 50), 2),
        "shown_p90_s": round(percentile(shown, 90), 2),
        "cpu_s_per_audio_s": round(cpu / duration, 3),
        "steps": len(steps),
        "step_first_tenth_s": round(statistics.mean(s[1] for s in first_steps), 3) if steps else None,
        "step_last_tenth_s": round(statistics.mean(s[1] for s in last_steps), 3) if steps else None,
        "step_p90_s": round(percentile([s[1] for s in steps], 90), 3),
        # Per copy of the recording: the same audio, so a growing cost would show here.
        "step_mean_per_copy_s": [
            round(statistics.mean(x[1] for x in part), 3) if part else None
            for k in range(args.repeat)
            for part in [[x for x in steps if k * one.size <= x[0] * SAMPLE_RATE < (k + 1) * one.size]]
        ],
        "buffer_max_s": round(max((s[2] for s in steps), default=0), 1),
        "wer_vs_reference": round(wer(reference, live_text, norm_lang) * 100, 1) if reference else None,
        "whole_file_wer_vs_reference": (
            round(wer(reference, whole_text, norm_lang) * 100, 1) if reference and whole_text else None
        ),
        "wer_vs_whole_file": round(wer(whole_text, live_text, norm_lang) * 100, 1) if whole_text else None,
        "live_text": live_text,
        "whole_text": whole_text,
    }
    print("\n".join(machine_lines()))
    print(f"- command: `{command_line()}`")
    for k, v in figures.items():
        if k not in ("live_text", "whole_text"):
            print(f"- {k}: {v}")
    print(f"- live text: {live_text[:300]}{'…' if len(live_text) > 300 else ''}")
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
