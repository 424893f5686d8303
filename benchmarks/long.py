"""Long recordings: the long-form path against bare sequential faster-whisper, side by side.

    .venv/bin/python benchmarks/long.py [--minutes 10 30 60] [--rounds 1] [--model base]
                                        [--output FILE] [--targets FILE] [--quick]

Files of 10, 30 and 60 minutes are built (once, cached under build/long/) from the Spanish
recordings in ../shared/audio: the 70-s aeneas reading and the 8.7-s leopard clip, each followed
by 1 s of silence, repeated, encoded as 16 kHz mono MP3 at 64 kbit/s (what a phone recorder
gives). The reference is their reference texts repeated the same way.

For each file and round, two paths run, alternately, each in a fresh child process with the
model already loaded (so each one's peak RSS is its own):

  bare   decode_audio(path) + WhisperModel.transcribe(audio, **transcribe_kwargs(options,
         profile)): sequential faster-whisper with the worker's own arguments (balanced: int8,
         beam 5, word timestamps, VAD), language detected by faster-whisper.
  ours   load_audio(path) + Transcriber.transcribe(audio, options) with the account languages
         ['es'] as the API sends them: the worker's own code, which takes the long-form path
         (gpu_container/long_form.py) at this length.

Timed from before decoding the file: wall time to the last segment, first segment, CPU seconds
of the process; WER with the Whisper normaliser against the reference; peak RSS (ru_maxrss)
after the model load and after the run. Targets (issue 18): wall ≤ 0.85× bare; first word ≤ bare
+ 300 ms; WER within 1 point of bare; peak RSS flat in duration beyond the decoded audio
(reported: RSS growth minus the decoded audio's size).

The machine, the command and one markdown table go to stdout (and --output); progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._common import Target, at_most, command_line, log, machine_lines, report, targets_line, write_targets  # noqa: E402

AUDIO_DIR = Path(os.environ.get("GRABADORA_BENCH_AUDIO", REPO.parent / "shared" / "audio"))
BUILD = REPO / "build" / "long"
SAMPLE_RATE = 16000
PIECES = ("aeneas_capitan_veneno_es.mp3", "pv_leopard_test_es.wav")


def build_file(minutes: int) -> tuple[Path, str]:
    """The `minutes`-long MP3 and its reference text (cached)."""
    import av
    import numpy as np
    from faster_whisper import decode_audio

    path = BUILD / f"es_{minutes}min.mp3"
    references = json.loads((AUDIO_DIR / "references.json").read_text())
    unit_text = " ".join(references[name]["reference"] for name in PIECES)
    audio_units = [decode_audio(str(AUDIO_DIR / name), sampling_rate=SAMPLE_RATE) for name in PIECES]
    gap = np.zeros(SAMPLE_RATE, dtype=np.float32)
    unit = np.concatenate([part for audio in audio_units for part in (audio, gap)])
    repeats = -(-minutes * 60 * SAMPLE_RATE // unit.size)  # whole units: the reference stays exact
    reference = " ".join([unit_text] * repeats)
    if not path.exists():
        BUILD.mkdir(parents=True, exist_ok=True)
        pcm = (np.clip(np.tile(unit, repeats), -1, 1) * 32767).astype(np.int16)
        tmp = path.with_suffix(".part.mp3")
        with av.open(str(tmp), "w") as out:
            stream = out.add_stream("libmp3lame", rate=SAMPLE_RATE)
            stream.layout = "mono"
            stream.bit_rate = 64000
            for i in range(0, pcm.size, SAMPLE_RATE):
                frame = av.AudioFrame.from_ndarray(pcm[None, i : i + SAMPLE_RATE], format="s16", layout="mono")
                frame.sample_rate = SAMPLE_RATE
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
        tmp.rename(path)
    return path, reference


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: str, side: str, model_name: str) -> dict:
    """One run in this process (called with --child)."""
    from faster_whisper import decode_audio

    from gpu_container.audio import load_audio
    from gpu_container.transcriber import Transcriber, transcribe_kwargs
    from grabadora.models import TranscribeOptions

    transcriber = Transcriber(model_name)
    options = TranscribeOptions()
    model = transcriber.load(options.profile)
    rss_loaded = rss_mib()
    started, cpu_started = time.perf_counter(), time.process_time()
    first = None
    texts: list[str] = []
    if side == "bare":
        audio = decode_audio(path, sampling_rate=SAMPLE_RATE)
        segments, _info = model.transcribe(audio, **transcribe_kwargs(options, transcriber.profile(options.profile)))
    else:
        audio = load_audio(path, 6 * 3600)
        segments = transcriber.transcribe(audio, options.model_copy(update={"allowed_languages": ["es"]})).segments
    for segment in segments:
        if first is None:
            first = time.perf_counter() - started
        texts.append(segment.text)
    return {
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu_started,
        "first": first,
        "text": "".join(texts),
        "rss_loaded": rss_loaded,
        "rss_peak": rss_mib(),
        "audio_mib": audio.nbytes / 2**20,
    }


def run_child(path: Path, side: str, model: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", side, str(path), "--model", model],
        capture_output=True, text=True, check=True, cwd=REPO,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, nargs="+", default=[10, 30, 60])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--model", default="base")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--targets", type=Path)
    parser.add_argument("--quick", action="store_true", help="the 10-minute file only")
    parser.add_argument("--child", nargs=2, metavar=("SIDE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[1], args.child[0], args.model)))
        return 0

    from tests.conftest import wer

    if args.quick:
        args.minutes = [10]

    rows, targets = [], []
    for minutes in args.minutes:
        path, reference = build_file(minutes)
        runs: dict[str, list[dict]] = {"bare": [], "ours": []}
        for round_ in range(args.rounds):
            for side in ("bare", "ours") if round_ % 2 == 0 else ("ours", "bare"):
                result = run_child(path, side, args.model)
                result["wer"] = wer(reference, result.pop("text"), "es")
                runs[side].append(result)
                log(f"{minutes} min {side}: wall {result['wall']:.1f} s, first {result['first']:.2f} s, "
                    f"cpu {result['cpu']:.1f} s, WER {result['wer']:.2%}, peak RSS {result['rss_peak']:.0f} MiB")
        med = {side: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for side, rs in runs.items()}
        bare, ours = med["bare"], med["ours"]
        ratio = ours["wall"] / bare["wall"]
        first_delta = ours["first"] - bare["first"]
        wer_delta = ours["wer"] - bare["wer"]
        growth = {side: m["rss_peak"] - m["rss_loaded"] - m["audio_mib"] for side, m in med.items()}
        rows.append(
            f"| {minutes} min | {bare['wall']:.1f} s | {ours['wall']:.1f} s | **{ratio:.2f}×** | "
            f"{bare['cpu']:.0f} / {ours['cpu']:.0f} s | {bare['first']:.2f} s | {ours['first']:.2f} s ({first_delta:+.2f}) | "
            f"{bare['wer']:.1%} | {ours['wer']:.1%} ({wer_delta * 100:+.1f} pt) | "
            f"{bare['rss_peak']:.0f} / {ours['rss_peak']:.0f} MiB | {growth['bare']:.0f} / {growth['ours']:.0f} MiB |"
        )
        targets += [
            at_most(f"{minutes} min wall ≤ 0.85× bare", ratio, 0.85, f"{ratio:.2f}×"),
            at_most(f"{minutes} min first word ≤ bare + 0.3 s", first_delta, 0.3, f"{first_delta:+.2f} s"),
            at_most(f"{minutes} min WER ≤ bare + 1 pt", wer_delta * 100, 1.0, f"{wer_delta * 100:+.1f} pt"),
        ]
    lines = [
        *machine_lines(),
        f"- command: `{command_line()}`",
        f"- model `{args.model}`, balanced profile (int8, beam 5), {args.rounds} round(s) per file, medians",
        "",
        "| file | bare wall | ours wall | ratio | CPU s bare / ours | bare first segment | ours first segment | bare WER | ours WER | peak RSS bare / ours | RSS growth beyond the audio bare / ours |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        targets_line(targets),
    ]
    report(lines, args.output)
    write_targets(args.targets, targets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
