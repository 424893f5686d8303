"""Quality profiles: real-time factor and normalised WER of fast / balanced / precise.

    .venv/bin/python benchmarks/profiles.py [--quick] [--rounds N] [--output FILE]

faster-whisper in this process, exactly as the worker calls it: the CPU profiles from
`gpu_container.profiles.decode_profile("cpu", p)` (compute type, beam, best_of) and the
arguments from `gpu_container.transcriber.transcribe_kwargs(TranscribeOptions(profile=p), …)`
(language detected, word timestamps, VAD), cpu_threads 0 like the worker. Models: `base` for the
Spanish recordings, `tiny.en` for the English ones; every shared recording with a reference in
references.json. Each round runs every (file, profile) once, profiles alternated within a file,
models loaded once (one per compute type) beforehand.

RTF = (decode_audio + transcribe, all segments consumed) / audio duration, median over rounds,
then summed over a model's files (total processing / total audio). WER = Whisper-normalised
(tests.conftest.normalise: English normaliser for English, the basic one otherwise) word error
rate pooled over the model's files (jiwer over all pairs: errors / reference words); decoding is
deterministic, so WER comes from the first round.
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

from benchmarks._common import AUDIO_DIR, Target, command_line, log, machine_lines, targets_line, write_targets  # noqa: E402

PROFILES = ("fast", "balanced", "precise")
MODEL_FOR_LANGUAGE = {"en": "tiny.en", "es": "base"}
SAMPLE_RATE = 16000


def recordings() -> list[tuple[str, str, str]]:
    """(file, language, reference) for every shared recording with a reference text."""
    refs = json.loads((AUDIO_DIR / "references.json").read_text())
    return sorted(
        (name, r["language"], r["reference"])
        for name, r in refs.items()
        if r.get("reference") and r.get("language") in MODEL_FOR_LANGUAGE and (AUDIO_DIR / name).is_file()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--targets", type=Path, default=None, help="also write the targets' verdicts here (JSON, for run_all.py)")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds

    import ctranslate2
    import faster_whisper
    import jiwer
    from faster_whisper import WhisperModel, decode_audio

    from gpu_container.model_store import resolve_model
    from gpu_container.profiles import decode_profile
    from gpu_container.transcriber import transcribe_kwargs
    from grabadora.models import QualityProfile, TranscribeOptions
    from tests.conftest import normalise

    files = recordings()
    models: dict[tuple[str, str], WhisperModel] = {}
    for _name, language, _ref in files:
        for p in PROFILES:
            key = (MODEL_FOR_LANGUAGE[language], decode_profile("cpu", QualityProfile(p)).compute_type)
            if key not in models:
                log(f"loading {key[0]} ({key[1]}) ...")
                models[key] = WhisperModel(str(resolve_model(key[0])), device="cpu", compute_type=key[1], cpu_threads=0)

    durations = {name: decode_audio(str(AUDIO_DIR / name), sampling_rate=SAMPLE_RATE).size / SAMPLE_RATE for name, _, _ in files}
    walls: dict[tuple[str, str], list[float]] = {}
    texts: dict[tuple[str, str], str] = {}
    # Warm-up: one untimed pass per model so one-off costs (VAD, first allocations) stay out.
    for (model_name, _ct), model in models.items():
        name = next(n for n, lang, _ in files if MODEL_FOR_LANGUAGE[lang] == model_name)
        list(model.transcribe(decode_audio(str(AUDIO_DIR / name), sampling_rate=SAMPLE_RATE), beam_size=1, vad_filter=True)[0])
    for r in range(rounds):
        for name, language, _ref in files:
            order = PROFILES if r % 2 == 0 else tuple(reversed(PROFILES))
            for p in order:
                profile = decode_profile("cpu", QualityProfile(p))
                model = models[(MODEL_FOR_LANGUAGE[language], profile.compute_type)]
                kwargs = transcribe_kwargs(TranscribeOptions(profile=QualityProfile(p)), profile)
                start = time.perf_counter()
                audio = decode_audio(str(AUDIO_DIR / name), sampling_rate=SAMPLE_RATE)
                segments, _info = model.transcribe(audio, **kwargs)
                text = "".join(s.text for s in segments)
                wall = time.perf_counter() - start
                walls.setdefault((name, p), []).append(wall)
                texts.setdefault((name, p), text)
                log(f"round {r + 1} {name} {p}: {wall:.2f} s (RTF {wall / durations[name]:.3f})")

    lines = [
        "## Quality profiles (part 5)",
        "",
        *machine_lines(),
        f"- faster-whisper {faster_whisper.__version__}, ctranslate2 {ctranslate2.__version__}, CPU, cpu_threads 0",
        f"- command: `{command_line()}`",
        "",
        "| model (files) | audio (s) | profile | compute, beam | RTF (median) | WER (normalised, pooled) |",
        "|---|---|---|---|---|---|",
    ]
    per_file = ["", "Per file (RTF median / WER):", ""]
    targets: list[Target] = []
    for model_name in dict.fromkeys(MODEL_FOR_LANGUAGE[lang] for _, lang, _ in files):
        mine = [(n, lang, ref) for n, lang, ref in files if MODEL_FOR_LANGUAGE[lang] == model_name]
        audio_s = sum(durations[n] for n, _, _ in mine)
        rtfs, wers = [], []
        for p in PROFILES:
            profile = decode_profile("cpu", QualityProfile(p))
            proc = sum(statistics.median(walls[(n, p)]) for n, _, _ in mine)
            refs = [normalise(ref, lang) for _, lang, ref in mine]
            hyps = [normalise(texts[(n, p)], lang) for n, lang, _ in mine]
            wer = jiwer.wer(refs, hyps)
            rtfs.append(proc / audio_s)
            wers.append(wer)
            lines.append(
                f"| {model_name} ({len(mine)}) | {audio_s:.1f} | {p} | {profile.compute_type}, {profile.beam_size} | {proc / audio_s:.3f} | {wer * 100:.1f} % |"
            )
        for n, lang, ref in mine:
            cells = ", ".join(
                f"{p} {statistics.median(walls[(n, p)]) / durations[n]:.3f} / {jiwer.wer(normalise(ref, lang), normalise(texts[(n, p)], lang)) * 100:.1f} %"
                for p in PROFILES
            )
            per_file.append(f"- {n} ({lang}, {durations[n]:.1f} s, {model_name}): {cells}")
        targets.append(
            Target(
                f"profiles ordered: {' → '.join(PROFILES)} slower and no less accurate ({model_name})",
                f"RTF {' / '.join(f'{x:.3f}' for x in rtfs)}, WER {' / '.join(f'{x * 100:.1f}' for x in wers)} %",
                rtfs == sorted(rtfs) and wers == sorted(wers, reverse=True),
            )
        )
    lines += [
        *per_file,
        "",
        f"{rounds} round(s); RTF = processing time / audio duration (lower is faster), "
        "summed over the model's files; WER pooled over them (errors / reference words).",
        targets_line(targets),
    ]
    write_targets(args.targets, targets)
    markdown = "\n".join(lines)
    print(markdown)
    if args.output:
        args.output.write_text(markdown + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
