"""The worker's CUDA path on a GPU machine: sequential against the long-form path, one command.

    .venv/bin/python benchmarks/gpu.py [--model base|DIR] [--minutes 10 60] [--output FILE] [--device cpu]

Runs only where CTranslate2 sees a CUDA device (elsewhere it says so and exits 0). For each
file (built as benchmarks/long.py builds them, from ../shared/audio) and each GPU compute type
the worker's long-form profiles use (float16: balanced; float32: precise; `fast` stays
sequential), it times, in this process
with the model warm:

  sequential   WhisperModel.transcribe with the worker's arguments (bare faster-whisper)
  long-form    Transcriber.transcribe: opening sequential, then batches as wide as
               default_batch_size("cuda") picks from the free memory nvidia-smi reports

and prints real-time factor (wall / audio), first segment, WER against the reference, and the
batch width used, as one markdown table for docs/BENCHMARKS.md ("Long recordings on a GPU").
The model must be on the machine (a GPU machine without network: pass --model DIR, a
CTranslate2 Whisper directory carried there). `--device cpu` runs the same measurement with
the CPU profiles, to check the script itself on a machine without a GPU (its figures are then
benchmarks/long.py's, not a GPU's).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._common import command_line, log, machine_lines, report  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="base")
    parser.add_argument("--minutes", type=int, nargs="+", default=[10, 60])
    parser.add_argument("--output", type=Path)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    args = parser.parse_args(argv)

    import ctranslate2

    if args.device == "cuda" and ctranslate2.get_cuda_device_count() == 0:
        print("no CUDA device here: benchmarks/gpu.py measures the worker's GPU path only on a GPU machine")
        return 0

    from faster_whisper import decode_audio

    from benchmarks.long import build_file
    from gpu_container.long_form import LongFormPolicy, default_batch_size
    from gpu_container.profiles import DecodeProfile
    from gpu_container.transcriber import Transcriber, transcribe_kwargs
    from grabadora.models import QualityProfile, TranscribeOptions
    from tests.conftest import wer

    width = default_batch_size(args.device)
    rows = []
    for minutes in args.minutes:
        path, reference = build_file(minutes)
        audio = decode_audio(str(path), sampling_rate=16000)
        duration = audio.size / 16000
        for quality in (QualityProfile.BALANCED, QualityProfile.PRECISE):
            transcriber = Transcriber(args.model, args.device, long_form=LongFormPolicy(batch_size=width))
            profile: DecodeProfile = transcriber.profile(quality)
            options = TranscribeOptions(profile=quality, language="es")
            model = transcriber.load(quality)
            model.transcribe(audio[: 16000 * 5], **transcribe_kwargs(options, profile))  # warm
            for side in ("sequential", "long-form"):
                started = time.perf_counter()
                if side == "sequential":
                    segments = model.transcribe(audio, **transcribe_kwargs(options, profile))[0]
                else:
                    segments = transcriber.transcribe(audio, options).segments
                first, texts = None, []
                for segment in segments:
                    first = first if first is not None else time.perf_counter() - started
                    texts.append(segment.text)
                wall = time.perf_counter() - started
                error = wer(reference, "".join(texts), "es")
                rows.append(f"| {minutes} min | {profile.compute_type}, beam {profile.beam_size} | {side} | "
                            f"{wall / duration:.4f} | {wall:.1f} s | {first or 0:.2f} s | {error:.1%} | {width if side != 'sequential' else '-'} |")
                log(rows[-1])
    lines = [
        *machine_lines(),
        f"- command: `{command_line()}`",
        f"- model `{args.model}`",
        "",
        "| file | compute type | path | RTF | wall | first segment | WER | batch width |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    report(lines, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
