"""Audio without speech: what bare faster-whisper spends on it, and what the worker spends.

    .venv/bin/python benchmarks/no_speech.py [--model base] [--output FILE] [--targets FILE]

Speech-free clips, 5 s and 30 s each, made here with numpy (seeded, so the same every run):
music (plucked notes over a chord, a noise snare), a sung-vowel melody over a bass (formant-
filtered sawtooth with vibrato: the one Silero VAD takes for speech), a 440 Hz tone, white
noise, pink noise, silence; plus ../shared/audio/edge_aeneas_vad_zero.wav. And the speech clips
of ../shared/audio, whose text must not change.

  bare   WhisperModel.transcribe(audio, **transcribe_kwargs(options, profile)), language
         detected by faster-whisper, all segments consumed
  ours   Transcriber.transcribe(audio, options): the worker's code, account languages ['es']
         (the default account's) for the speech-free clips; for speech clips the clip's own
         language allowed, so the text is comparable with bare's

Reported: CPU seconds of this process for each (both run here, alternately, model warm), and
the text. Targets: every speech-free clip ends empty; ours spends less CPU than bare in total on
them; every speech clip's text is bare's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from benchmarks._common import Target, command_line, log, machine_lines, report, targets_line, write_targets  # noqa: E402

AUDIO_DIR = REPO.parent / "shared" / "audio"
SR = 16000
SPEECH = ("fw_jfk.flac", "pv_cheetah_test_en.wav", "deepspeech_LDC93S1_pcms16le_1_8000.wav", "pv_leopard_test_es.wav",
          "aeneas_capitan_veneno_es.mp3", "pv_leopard_diarization_test.wav", "fw_hotwords.mp3")


def _resonator(x: np.ndarray, frequency: float, bandwidth: float) -> np.ndarray:
    """A two-pole resonance (a formant) over `x`, vectorised per 1-sample recursion."""
    r = np.exp(-np.pi * bandwidth / SR)
    a1, a2 = -2 * r * np.cos(2 * np.pi * frequency / SR), r * r
    y = np.zeros_like(x)
    y1 = y2 = 0.0
    for i, v in enumerate(x):
        y[i] = (1 - r) * v - a1 * y1 - a2 * y2
        y2, y1 = y1, y[i]
    return y


def music(seconds: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    out = 0.15 * np.sin(2 * np.pi * 130.81 * t) + 0.1 * np.sin(2 * np.pi * 196 * t)
    notes, beat = (261.63, 329.63, 392.0, 440.0, 349.23, 293.66), 0.5
    for i in range(int(seconds / beat)):
        s, e = int(i * beat * SR), min(t.size, int((i + 1) * beat * SR))
        tt = t[s:e] - t[s]
        out[s:e] += sum(a * np.exp(-3 * tt) * np.sin(2 * np.pi * notes[i % 6] * h * tt) for h, a in ((1, 0.5), (2, 0.25), (3, 0.12)))
        if i % 2 == 0:
            n = min(800, e - s)
            out[s : s + n] += 0.3 * rng.standard_normal(n) * np.exp(-np.arange(n) / 200)
    return out


def sung_vowels(seconds: float, rng: np.random.Generator) -> np.ndarray:
    n = int(seconds * SR)
    t = np.arange(n) / SR
    out = np.zeros(n)
    vowels = ((800, 1200, 2500), (400, 2000, 2600), (300, 900, 2300), (500, 1700, 2500))
    notes, dur = (220, 247, 262, 294, 330, 294, 262, 247), 0.6
    for i in range(int(seconds / dur)):
        s, e = int(i * dur * SR), min(n, int((i + 1) * dur * SR))
        tt = t[s:e] - t[s]
        f0 = notes[i % len(notes)] * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * tt))
        saw = 2 * ((np.cumsum(f0) / SR) % 1) - 1
        source = saw * np.minimum(1, tt / 0.05) * np.minimum(1, (tt[-1] - tt + 1e-3) / 0.08)
        out[s:e] = sum(_resonator(source, f, 80 + f * 0.05) for f in vowels[i % 4])
    out = out / np.abs(out).max() * 0.5
    return out + 0.1 * np.sin(2 * np.pi * 110 * t) + 0.08 * np.sin(2 * np.pi * 165 * t)


def pink(seconds: float, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(int(seconds * SR))
    spectrum = np.fft.rfft(white) / np.sqrt(np.arange(1, white.size // 2 + 2))
    return np.fft.irfft(spectrum, white.size)


MAKERS = {
    "music": music,
    "sung vowels": sung_vowels,
    "tone 440 Hz": lambda s, rng: np.sin(2 * np.pi * 440 * np.arange(int(s * SR)) / SR),
    "white noise": lambda s, rng: rng.standard_normal(int(s * SR)),
    "pink noise": pink,
    "silence": lambda s, rng: np.zeros(int(s * SR)),
}


def speech_free_clips() -> dict[str, np.ndarray]:
    from faster_whisper import decode_audio

    clips = {}
    for name, make in MAKERS.items():
        for seconds in (5, 30):
            audio = make(seconds, np.random.default_rng(7))
            peak = np.abs(audio).max()
            clips[f"{name}, {seconds} s"] = (audio / peak * 0.6 if peak else audio).astype(np.float32)
    clips["edge_aeneas_vad_zero.wav"] = decode_audio(str(AUDIO_DIR / "edge_aeneas_vad_zero.wav"), sampling_rate=SR)
    return clips


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="base")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--targets", type=Path)
    parser.add_argument("--quick", action="store_true", help="accepted for run_all; the run is short already")
    args = parser.parse_args(argv)

    from faster_whisper import decode_audio

    from gpu_container.transcriber import Transcriber, transcribe_kwargs
    from grabadora.models import TranscribeOptions

    transcriber = Transcriber(args.model)
    options = TranscribeOptions()
    model = transcriber.load(options.profile)
    kwargs = transcribe_kwargs(options, transcriber.profile(options.profile))
    references = json.loads((AUDIO_DIR / "references.json").read_text())

    def bare(audio: np.ndarray) -> tuple[float, str]:
        started = time.process_time()
        segments, _info = model.transcribe(audio, **kwargs)
        text = "".join(s.text for s in segments)
        return time.process_time() - started, text

    def ours(audio: np.ndarray, allowed: list[str]) -> tuple[float, str]:
        started = time.process_time()
        run = transcriber.transcribe(audio, options.model_copy(update={"allowed_languages": allowed}))
        text = "".join(s.text for s in run.segments)
        return time.process_time() - started, text

    bare(np.zeros(SR, dtype=np.float32))  # warm-up: the VAD model and the first decode
    rows, totals, empty, same = [], {"bare": 0.0, "ours": 0.0}, True, True
    for name, audio in speech_free_clips().items():
        b_cpu, b_text = bare(audio)
        o_cpu, o_text = ours(audio, ["es"])
        totals["bare"] += b_cpu
        totals["ours"] += o_cpu
        empty &= not o_text.strip()
        rows.append(f"| {name} | {b_cpu:.2f} | {o_cpu:.2f} | {b_text.strip()[:40]!r} | {o_text.strip()[:40]!r} |")
        log(rows[-1])
    speech_rows = []
    for name in SPEECH:
        audio = decode_audio(str(AUDIO_DIR / name), sampling_rate=SR)
        b_cpu, b_text = bare(audio)
        o_cpu, o_text = ours(audio, [references[name]["language"]])
        same &= o_text == b_text
        speech_rows.append(f"| {name} | {b_cpu:.2f} | {o_cpu:.2f} | {'same' if o_text == b_text else 'DIFFERENT'} |")
        log(speech_rows[-1])
    targets = [
        Target("speech-free clips end empty", f"{len(rows)} clips", empty),
        Target("less CPU than bare on speech-free clips", f"{totals['ours']:.1f} s against {totals['bare']:.1f} s", totals["ours"] < totals["bare"]),
        Target("speech clips' text unchanged (= bare)", f"{len(speech_rows)} clips", same),
    ]
    lines = [
        *machine_lines(),
        f"- command: `{command_line()}`",
        f"- model `{args.model}`, balanced profile; CPU seconds of this process",
        "",
        "| speech-free clip | bare CPU s | ours CPU s | bare text | ours text |",
        "|---|---|---|---|---|",
        *rows,
        f"| **total** | **{totals['bare']:.1f}** | **{totals['ours']:.1f}** | | |",
        "",
        "| speech clip | bare CPU s | ours CPU s | ours text |",
        "|---|---|---|---|",
        *speech_rows,
        "",
        targets_line(targets),
    ]
    report(lines, args.output)
    write_targets(args.targets, targets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
