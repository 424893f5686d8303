"""Live transcription's commit policy, replayed at real-time pace: latency, compute, WER.

    .venv/bin/python benchmarks/live_policy.py [--model base|tiny.en] [--file NAME] [--language es]
        [--repeat N] [--beam 1] [--frame 0.25] [--cpu-threads 2] [--tune trim_s=10 ...]
        [--clock wall|cpu|SECONDS] [--variant NAME [beam=N] [knob=value ...]]... [--rounds N]
        [--explain] [--device cpu|cuda]

The recording (from /work/shared/audio, `--repeat` times back to back for a long session)
becomes available in `--frame`-second frames as a microphone's would. A
`gpu_container.streaming.LiveTranscriber` steps as soon as its previous step ended and new audio
arrived, so a slow step just sees more audio next time. Per confirmed word: confirmed latency =
time when confirmed - the word's end (t1) in the audio; shown latency = the first time it
appeared, tentative or confirmed (a tentative word with the same text within 1 s). Also CPU
seconds per audio second (this process), step time over the first and the last tenth of the
session, and Whisper-normalised WER (tests.conftest.normalise) against the reference and against
transcribing the whole file at once with the worker's CPU `balanced` (beam 5) and `fast`
(beam 1) profiles.

The clock (`--clock`) says what "time" is:

- `wall` (default): real time; the step's real cost, so other load on the machine shows.
- `cpu`: a simulated clock that advances by each step's CPU seconds (this process, all threads)
  divided by `--cpu-threads`, i.e. the step's wall time on an otherwise idle machine whose
  threads run in parallel perfectly: an optimistic latency, but one that other people's load
  on a shared machine barely moves. Replays as fast as the CPU allows.
- a number S: every decoding step costs exactly S seconds (others cost nothing). The steps then
  see the same audio in every run, so the confirmed words depend on the policy alone: the way to
  compare the WER of two policies on a noisy machine (latency then only reflects S).

`--device cuda` replays on a GPU as the worker's live sessions decode there
(`gpu_container.profiles.live_decoding`: the compute type, beam and encoder window of the device);
`--beam` and `--tune encoder_pad_s=…` override them. The whole-file comparison then uses the
device's `balanced` and `fast` profiles too.

`--variant NAME [beam=N] [knob=value ...]` (repeatable) replays several policies in one process,
alternated over `--rounds` rounds, so they share the same period of the machine; a table of
medians per variant closes the report. Knobs are LiveTuning fields (gpu_container/streaming.py),
values JSON (`null` for None); with `pause_beam`, `pause_decodes` counts the decodes over
Whisper's 30 s window at pauses (and at finish), and the fixed clock charges them as any step
(their real cost shows under `--clock cpu`). `--explain` aligns each variant's confirmed words with the
reference (jiwer) and says, per live error, how the word was confirmed (two hypotheses agreed,
forced after `force_after_s`, at a pause, at finish), whether it began within 1 s of the buffer's
start (a cut), and whether file mode (`balanced`) got that reference word wrong too.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
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


@dataclass
class Variant:
    name: str
    beam: int
    tuning: dict[str, object]
    runs: list[dict] = field(default_factory=list)


@dataclass
class _Tag:
    how: str  # agreed | forced | pause | finish
    from_buffer_start: float  # the word's t0 - the buffer's start when it was confirmed
    prompt: bool  # the decode that confirmed it had confirmed text as its prompt


def _tagging(live, tags: dict[int, _Tag]) -> None:
    """Record how each confirmed word was confirmed (for --explain), around the live policy's agreement.

    Wraps this one object's methods; the policy itself runs unchanged.
    """
    agreement = live._agreement
    insert, confirm_until, flush = agreement.insert, agreement.confirm_until, agreement.flush

    def note(words, how: str) -> None:
        prompt = bool(live._prompt())
        for w in words:
            tags[id(w)] = _Tag(how, round(w.t0 - live.audio_offset, 2), prompt)

    def tagged_insert(words, horizon=float("inf"), force_before=float("-inf")):
        unforced = copy.deepcopy(agreement)
        unforced.insert = type(agreement).insert.__get__(unforced)
        agreed = len(unforced.insert(words, horizon=horizon).confirmed)
        step = insert(words, horizon=horizon, force_before=force_before)
        note(step.confirmed[:agreed], "agreed")
        note(step.confirmed[agreed:], "forced")
        return step

    def tagged_confirm_until(t):
        out = confirm_until(t)
        note(out, "pause")
        return out

    def tagged_flush(*a, **k):
        out = flush(*a, **k)
        note(out, "finish")
        return out

    agreement.insert, agreement.confirm_until, agreement.flush = tagged_insert, tagged_confirm_until, tagged_flush


def replay(model, audio, args, variant: Variant, language, reference, whole: dict[str, str], explain: bool) -> dict:
    """One session of `audio` through the policy; its figures."""
    from gpu_container.streaming import LiveTranscriber, _key, words_to_segments
    from tests.conftest import wer

    total = audio.size
    frame = max(1, round(args.frame * SAMPLE_RATE))
    live = LiveTranscriber(model, language=language, beam_size=variant.beam, **variant.tuning)
    decodes = [0]
    full_window_decodes = [0]

    def counting(model, full: bool):
        """A shallow copy of `model` whose decodes are counted (for the fixed-cost clock)."""
        model = copy.copy(model)  # the shared model object stays as it is
        transcribe = model.transcribe

        def counted(*a, **k):
            decodes[0] += 1
            full_window_decodes[0] += full
            return transcribe(*a, **k)

        model.transcribe = counted
        return model

    # The step's decode (cut encoder) and the pause decode (pause_beam, 30 s window) alike.
    live._model, live._full_model = counting(live._model, False), counting(live._full_model, True)
    tags: dict[int, _Tag] = {}
    if explain:
        _tagging(live, tags)
    clock = args.clock
    simulated = 0.0

    confirmed: list[tuple[object, float]] = []  # (Word, time when confirmed)
    seen: dict[str, list[tuple[float, float]]] = {}  # key -> [(t0, time first shown)]
    steps: list[tuple[float, float, float]] = []  # (audio end, step s, buffer s)
    fed = 0
    start = time.perf_counter()
    cpu_start = time.process_time()

    def now() -> float:
        return time.perf_counter() - start if clock == "wall" else simulated

    def note(words, at, final):
        for w in words:
            entries = seen.setdefault(_key(w.text), [])
            if not any(abs(t0 - w.t0) <= 1.0 for t0, _ in entries):
                entries.append((w.t0, at))
            if final:
                confirmed.append((w, at))

    while True:
        available = min(total, int(now() * SAMPLE_RATE) // frame * frame)
        if available > fed:
            live.feed(audio[fed:available])
            fed = available
        if fed >= total:
            break
        behind = live.audio_offset + live.buffered_seconds
        before, cpu_before, decodes_before = time.perf_counter(), time.process_time(), decodes[0]
        result = live.step()
        took = time.perf_counter() - before
        if clock == "cpu":
            took = (time.process_time() - cpu_before) / args.cpu_threads
            simulated += took
        elif clock != "wall":
            took = float(clock) if decodes[0] > decodes_before else 0.0
            simulated += took
        at = now()
        if result.confirmed or result.tentative or took > 0.01:
            steps.append((behind, took, live.buffered_seconds))
        note(result.tentative, at, final=False)
        note(result.confirmed, at, final=True)
        if took < 0.01:  # nothing new to decode: wait for the next frame
            next_frame = (fed + frame) / SAMPLE_RATE
            if clock == "wall":
                time.sleep(max(0.0, next_frame - now()))
            else:
                simulated = max(simulated, next_frame)
    if clock != "wall":
        simulated = max(simulated, total / SAMPLE_RATE)
    before, cpu_before = time.perf_counter(), time.process_time()
    result = live.finish()
    if clock == "cpu":
        simulated += (time.process_time() - cpu_before) / args.cpu_threads
    elif clock != "wall":
        simulated += float(clock) if result.confirmed else 0.0
    at = now()
    note(result.confirmed, at, final=True)
    cpu = time.process_time() - cpu_start
    duration = total / SAMPLE_RATE
    norm_lang = language or "es"

    words = [w for w, _ in confirmed]
    assert all(a.t1 <= b.t0 + 1e-9 for a, b in zip(words, words[1:], strict=False)), "confirmed time went back"
    latency = [at - w.t1 for w, at in confirmed]
    shown = []
    for w, at in confirmed:
        first = min((t for t0, t in seen.get(_key(w.text), []) if abs(t0 - w.t0) <= 1.0), default=at)
        shown.append(min(first, at) - w.t1)
    live_text = "".join(w.text for w in words)
    tenth = max(1, len(steps) // 10)
    first_steps, last_steps = steps[:tenth], steps[-tenth:]
    one = total // args.repeat
    figures = {
        "variant": variant.name,
        "beam": variant.beam,
        "clock": clock,
        "language": live.language,
        "tuning": {k: getattr(live.tuning, k) for k in live.tuning.__dataclass_fields__},
        "audio_s": round(duration, 1),
        "words": len(words),
        "words_at_finish": len(result.confirmed),
        "segments": len(words_to_segments(words)),
        "confirmed_p50_s": round(percentile(latency, 50), 2),
        "confirmed_p90_s": round(percentile(latency, 90), 2),
        "shown_p50_s": round(percentile(shown, 50), 2),
        "shown_p90_s": round(percentile(shown, 90), 2),
        "cpu_s_per_audio_s": round(cpu / duration, 3),
        "steps": len(steps),
        "decodes": decodes[0],
        # Decodes over Whisper's 30 s window with pause_beam (at pauses, and at finish), when the
        # steps' own decodes use the cut encoder.
        "pause_decodes": full_window_decodes[0] if variant.tuning.get("pause_beam") else 0,
        "step_first_tenth_s": round(statistics.mean(s[1] for s in first_steps), 3) if steps else None,
        "step_last_tenth_s": round(statistics.mean(s[1] for s in last_steps), 3) if steps else None,
        "step_p90_s": round(percentile([s[1] for s in steps], 90), 3),
        # Per copy of the recording: the same audio, so a growing cost would show here.
        "step_mean_per_copy_s": [
            round(statistics.mean(x[1] for x in part), 3) if part else None
            for k in range(args.repeat)
            for part in [[x for x in steps if k * one <= x[0] * SAMPLE_RATE < (k + 1) * one]]
        ],
        "buffer_max_s": round(max((s[2] for s in steps), default=0), 1),
        "wer_vs_reference": round(wer(reference, live_text, norm_lang) * 100, 1) if reference else None,
        "wer_vs_whole_file": round(wer(whole["balanced"], live_text, norm_lang) * 100, 1) if whole else None,
        "live_text": live_text,
    }
    if explain and reference:
        figures["explain"] = _explain(words, tags, reference, whole.get("balanced"), norm_lang)
    return figures


def _explain(words, tags: dict[int, _Tag], reference: str, whole: str | None, language: str) -> dict:
    """Each live error (against the reference) with how its live word was confirmed."""
    import jiwer

    from tests.conftest import normalise

    tokens: list[tuple[str, object]] = []  # (normalised token, its live Word)
    for w in words:
        tokens += [(tok, w) for tok in normalise(w.text, language).split()]
    ref = normalise(reference, language).split()
    hyp = [tok for tok, _ in tokens]
    live_ops = jiwer.process_words(" ".join(ref), " ".join(hyp)).alignments[0]
    file_wrong: set[int] = set()
    if whole:
        for op in jiwer.process_words(" ".join(ref), normalise(whole, language)).alignments[0]:
            if op.type != "equal":
                file_wrong.update(range(op.ref_start_idx, max(op.ref_end_idx, op.ref_start_idx + 1)))
    by_how: Counter = Counter()
    by_cut: Counter = Counter()
    shared = live_only = 0
    errors: list[dict] = []
    for op in live_ops:
        if op.type == "equal":
            continue
        ref_words = ref[op.ref_start_idx : op.ref_end_idx]
        live_words = hyp[op.hyp_start_idx : op.hyp_end_idx]
        n = max(len(ref_words), len(live_words))  # errors this op counts in the WER
        j = min(op.hyp_start_idx, len(tokens) - 1)  # a deletion is charged to the next live word
        word = tokens[j][1] if tokens else None
        tag = tags.get(id(word)) if word is not None else None
        how = tag.how if tag else "?"
        near_cut = bool(tag and tag.from_buffer_start < 1.0)
        in_file = any(i in file_wrong for i in range(op.ref_start_idx, max(op.ref_end_idx, op.ref_start_idx + 1)))
        by_how[how] += n
        by_cut["within 1 s of the buffer start" if near_cut else "later in the buffer"] += n
        if in_file:
            shared += n
        else:
            live_only += n
        errors.append(
            {
                "op": op.type,
                "ref": " ".join(ref_words),
                "live": " ".join(live_words),
                "t0": round(word.t0, 2) if word is not None else None,
                "how": how,
                "from_buffer_start_s": tag.from_buffer_start if tag else None,
                "prompt": tag.prompt if tag else None,
                "file_mode_wrong_too": in_file,
            }
        )
    confirmed_by = Counter(t.how for t in tags.values())
    return {
        "reference_words": len(ref),
        "errors": sum(by_how.values()),
        "by_how": dict(by_how),
        "words_by_how": dict(confirmed_by),
        "by_cut": dict(by_cut),
        "file_mode_wrong_too": shared,
        "live_only": live_only,
        "list": errors,
    }


def _variants(args) -> list[Variant]:
    """The policies to replay; unless told otherwise, they decode as the worker does on `--device`."""
    from gpu_container.profiles import live_decoding

    decoding = live_decoding(args.device)
    beam = args.beam if args.beam is not None else decoding.beam_size
    base = {"encoder_pad_s": decoding.encoder_pad_s, **_tuning(args.tune)}
    if not args.variant:
        return [Variant("default" if not args.tune else "tuned", beam, base)]
    out = []
    for spec in args.variant:
        name, *pairs = spec
        tuning = {**base, **_tuning(pairs)}
        out.append(Variant(name, int(tuning.pop("beam", beam)), tuning))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="base", help="base | tiny.en | a CTranslate2 directory")
    parser.add_argument("--file", default="aeneas_capitan_veneno_es.mp3")
    parser.add_argument("--language", default=None, help="default: the reference's language (none = detect)")
    parser.add_argument("--repeat", type=int, default=1, help="play the recording this many times in a row")
    parser.add_argument("--beam", type=int, default=None, help="default: the worker's live beam on --device")
    parser.add_argument("--frame", type=float, default=0.25, help="seconds of audio per arriving frame")
    parser.add_argument("--cpu-threads", type=int, default=2)
    parser.add_argument("--tune", action="append", default=[], help="LiveTuning override, name=json")
    parser.add_argument("--clock", default="wall", help="wall | cpu | seconds per decoding step (see above)")
    parser.add_argument("--variant", action="append", nargs="+", default=[], metavar="NAME [knob=value]",
                        help="a policy to replay (repeatable): a name, then beam=N and LiveTuning knobs")
    parser.add_argument("--rounds", type=int, default=1, help="replays per variant, alternated")
    parser.add_argument("--explain", action="store_true", help="attribute each live error (see above)")
    parser.add_argument("--no-whole", action="store_true", help="skip the whole-file transcriptions")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = parser.parse_args(argv)
    if args.clock not in ("wall", "cpu"):
        float(args.clock)

    import numpy as np
    from faster_whisper import WhisperModel, decode_audio

    from gpu_container.model_store import resolve_model
    from gpu_container.profiles import decode_profile, live_decoding
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
    compute_type = decode_profile(args.device, live_decoding(args.device).profile).compute_type
    model = WhisperModel(path, device=args.device, compute_type=compute_type, cpu_threads=args.cpu_threads)
    one = decode_audio(str(AUDIO_DIR / args.file), sampling_rate=SAMPLE_RATE)
    audio = np.concatenate([one] * args.repeat)
    variants = _variants(args)
    log(f"{args.file} x{args.repeat}: {audio.size / SAMPLE_RATE:.1f} s of audio, {args.device} {compute_type}, "
        f"clock {args.clock}, "
        f"variants {[(v.name, v.beam, v.tuning) for v in variants]}")

    # Warm the model so the first step is not also CTranslate2's first call.
    list(model.transcribe(one[:SAMPLE_RATE], language=language or "en", beam_size=1)[0])

    whole: dict[str, str] = {}
    if not args.no_whole:
        for profile in (QualityProfile.BALANCED, QualityProfile.FAST):
            options = TranscribeOptions(language=language, profile=profile)
            kwargs = transcribe_kwargs(options, decode_profile(args.device, profile))
            text = "".join(s.text for s in model.transcribe(one, **kwargs)[0])
            whole[profile.value] = " ".join([text] * args.repeat)

    for r in range(args.rounds):
        for v in variants:
            log(f"round {r + 1}/{args.rounds}: {v.name}")
            v.runs.append(replay(model, audio, args, v, language, reference, whole, args.explain))

    print("\n".join(machine_lines()))
    print(f"- command: `{command_line()}`")
    for profile, text in whole.items():
        if reference:
            print(f"- file mode {profile}: WER {wer(reference, text, norm_lang) * 100:.1f} %")
    for v in variants:
        for k, figures in enumerate(v.runs):
            print(f"\n### {v.name} (beam {v.beam}), round {k + 1}")
            for key, value in figures.items():
                if key not in ("live_text", "explain"):
                    print(f"- {key}: {value}")
            if "explain" in figures:
                e = figures["explain"]
                print(f"- errors: {e['errors']} in {e['reference_words']} reference words; by how the live word "
                      f"was confirmed: {e['by_how']} (words confirmed so: {e['words_by_how']}); {e['by_cut']}; "
                      f"file mode wrong there too: {e['file_mode_wrong_too']}, live only: {e['live_only']}")
                for err in e["list"]:
                    print(f"  - {err['op']:<12} ref «{err['ref']}» live «{err['live']}» at {err['t0']} s, "
                          f"{err['how']}, {err['from_buffer_start_s']} s into the buffer, prompt {err['prompt']}"
                          f"{', file mode too' if err['file_mode_wrong_too'] else ''}")
            text = figures["live_text"]
            print(f"- live text: {text[:300]}{'…' if len(text) > 300 else ''}")
    keys = ("wer_vs_reference", "confirmed_p50_s", "confirmed_p90_s", "shown_p50_s", "cpu_s_per_audio_s", "step_p90_s")
    print("\n| variant | beam | rounds | " + " | ".join(keys) + " (medians) |")
    print("|---|---|---|" + "---|" * len(keys))
    for v in variants:
        cells = [statistics.median(run[k] for run in v.runs) for k in keys]
        print(f"| {v.name} | {v.beam} | {len(v.runs)} | " + " | ".join(f"{c:g}" for c in cells) + " |")
    if args.json:
        out = {"whole": whole, "variants": [{"name": v.name, "beam": v.beam, "runs": v.runs} for v in variants]}
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
