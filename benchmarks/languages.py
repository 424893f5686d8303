"""Language identification: unrestricted detection vs detection among the user's languages.

For every clip in the audio folder (references.json gives its language) and for cuts of 2, 4
and 8 s taken from the Spanish and English ones, Whisper's per-language probabilities are
computed once (gpu_container.transcriber.language_probabilities: up to 3 windows of speech)
and the language is chosen three ways: among all languages, among [es, en], among [es]
(gpu_container.transcriber.choose_language). Each clip is then decoded in each language
chosen, and scored:

- accuracy: the language chosen is the clip's;
- WER (Whisper-normalised, pooled): whole clips against references.json; cuts against the
  transcription of the same cut with its true language forced (a pseudo-reference: the WER
  here is what the language decision costs, 0 when the language is right);
- other script: the text has letters outside the Latin script (Greek, Cyrillic, Arabic...).

Also measured: the 30-s windows of the 70-s Spanish reading one by one and with 33 s of
English speech in front (one window, as faster-whisper does by default, vs three spread over
the speech), and faster-whisper's `multilingual=True` (a language per segment) on Spanish
followed by English (pv_leopard_test_es.wav + pv_cheetah_test_en.wav, one window; and the
70-s reading + fw_jfk.flac, the English in a window of its own).

    python benchmarks/languages.py [--model base] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import AUDIO_DIR, log, machine_lines  # noqa: E402
from gpu_container.audio import load_audio  # noqa: E402
from gpu_container.transcriber import (  # noqa: E402
    SAMPLE_RATE,
    Transcriber,
    choose_language,
    detection_windows,
    language_probabilities,
    speech_only,
    transcribe_kwargs,
)
from grabadora.errors import InvalidAudio  # noqa: E402
from grabadora.models import TranscribeOptions  # noqa: E402

MODES: dict[str, list[str] | None] = {"any": None, "[es, en]": ["es", "en"], "[es]": ["es"]}
CUTS_S = (2, 4, 8)
MAX_CUTS = 4  # per clip and length, spread over the clip


def other_script(text: str) -> bool:
    """Letters outside the Latin script."""
    return any(ch.isalpha() and not unicodedata.name(ch, "LATIN").startswith("LATIN") for ch in text)


def cut_offsets(duration: float, length: int) -> list[float]:
    if duration < length:
        return []
    room = duration - length
    if room < 0.5:
        return [0.0]
    count = min(MAX_CUTS, int(room // length) + 1)
    return [round(i * room / max(count - 1, 1), 2) for i in range(count)]


def main() -> int:
    import jiwer

    from tests.conftest import normalise

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="base")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    references = json.loads((AUDIO_DIR / "references.json").read_text())
    transcriber = Transcriber(args.model, "cpu")
    model = transcriber.load()
    profile = transcriber.profile(TranscribeOptions().profile)

    def decode(audio: np.ndarray, language: str | None, **extra: object) -> tuple[str, object]:
        kwargs = {**transcribe_kwargs(TranscribeOptions(language=language), profile), **extra}
        kwargs["word_timestamps"] = False
        segments, info = model.transcribe(audio, **kwargs)
        return "".join(s.text for s in segments).strip(), info

    clips: list[dict] = []
    full: dict[str, np.ndarray] = {}
    for name in sorted(references):
        ref = references[name]
        try:
            audio = load_audio(str(AUDIO_DIR / name), 3600)
        except InvalidAudio as e:
            clips.append({"clip": name, "kind": "whole", "language": ref.get("language"), "undecodable": e.detail})
            continue
        full[name] = audio
        clips.append({"clip": name, "kind": "whole", "language": ref.get("language"), "audio": audio,
                      "reference": ref.get("reference") or None, "seconds": round(audio.size / SAMPLE_RATE, 2)})
    for name, audio in full.items():
        language = references[name].get("language")
        if language not in ("es", "en"):
            continue
        duration = audio.size / SAMPLE_RATE
        for length in CUTS_S:
            for offset in cut_offsets(duration, length):
                part = audio[round(offset * SAMPLE_RATE) : round((offset + length) * SAMPLE_RATE)]
                clips.append({"clip": f"{name}[{offset:g}+{length}s]", "kind": f"{length} s", "language": language,
                              "audio": part, "reference": None, "seconds": length})

    rows = []
    started = time.monotonic()
    for clip in clips:
        if "audio" not in clip:
            rows.append({k: v for k, v in clip.items() if k != "audio"})
            continue
        audio = clip.pop("audio")
        t0 = time.monotonic()
        probs = language_probabilities(model, audio) if audio.size else []
        detect_s = time.monotonic() - t0
        choices = {mode: choose_language(probs, allowed) for mode, allowed in MODES.items()}
        texts: dict[str, str] = {}
        for language in {c.language for c in choices.values()} | ({clip["language"]} if clip["language"] in ("es", "en") else set()):
            texts[language] = decode(audio, language)[0] if audio.size else ""
        truth = clip["language"]
        reference = clip["reference"] or (texts.get(truth) if truth in ("es", "en") else None)
        row = {**clip, "detect_s": round(detect_s, 3), "top": [(l, round(p, 3)) for l, p in probs[:3]],
               "probabilities": {l: round(p, 5) for l, p in probs if p >= 1e-5}, "modes": {}}
        for mode, choice in choices.items():
            text = texts[choice.language] if choice.language else ""
            row["modes"][mode] = {
                "language": choice.language, "probability": choice.probability, "source": choice.source,
                "unsure": choice.unsure, "text": text, "other_script": other_script(text),
                "correct": choice.language == truth if truth in ("es", "en") else None,
                "ref_norm": normalise(reference, truth) if reference else None,
                "hyp_norm": normalise(text, truth) if reference else None,
            }
        rows.append(row)
        log(f"{clip['clip']}: {truth} | " + ", ".join(f"{m}: {c.language} {c.probability} {c.source}" for m, c in choices.items()))
    log(f"clips done in {time.monotonic() - started:.0f} s")

    # Long file: the 70-s Spanish reading window by window, and with English speech in front.
    long_es = full["aeneas_capitan_veneno_es.mp3"]
    speech = speech_only(long_es)
    per_window = []
    for i in range(0, speech.size, 30 * SAMPLE_RATE):
        chunk = speech[i : i + 30 * SAMPLE_RATE]
        if chunk.size >= 5 * SAMPLE_RATE:
            language, p, _ = model.detect_language(audio=chunk)
            per_window.append({"from_s": i // SAMPLE_RATE, "seconds": round(chunk.size / SAMPLE_RATE, 1), "language": language, "p": round(p, 3)})
    jfk = full["fw_jfk.flac"]
    english_first = np.concatenate([jfk, jfk, jfk, long_es])
    one = choose_language(language_probabilities(model, english_first, windows=1), None)
    three = choose_language(language_probabilities(model, english_first, windows=3), None)
    three_es_en = choose_language(language_probabilities(model, english_first, windows=3), ["es", "en"])
    windows = [round(w.size / SAMPLE_RATE, 1) for w in detection_windows(english_first, speech_only(english_first))]
    long_file = {
        "spanish_windows": per_window,
        "english_33s_then_spanish_70s": {
            "windows_s": windows,
            "one_window": [one.language, one.probability],
            "three_windows_any": [three.language, three.probability],
            "three_windows_es_en": [three_es_en.language, three_es_en.probability, three_es_en.source],
        },
    }
    log(f"long file: {long_file}")

    # Mixed Spanish then English: one language for the file vs a language per segment.
    mixed_rows = []
    for es_clip, en_clip, label, language, extra in (
        ("pv_leopard_test_es.wav", "pv_cheetah_test_en.wav", "forced es", "es", {}),
        ("pv_leopard_test_es.wav", "pv_cheetah_test_en.wav", "detected (one language)", None, {}),
        ("pv_leopard_test_es.wav", "pv_cheetah_test_en.wav", "multilingual=True", None, {"multilingual": True}),
        # The English in a window of its own, after 70 s of Spanish.
        ("aeneas_capitan_veneno_es.mp3", "fw_jfk.flac", "70 s es + jfk: detected", None, {}),
        ("aeneas_capitan_veneno_es.mp3", "fw_jfk.flac", "70 s es + jfk: multilingual=True", None, {"multilingual": True}),
    ):
        mixed = np.concatenate([full[es_clip], np.zeros(SAMPLE_RATE // 2, dtype=np.float32), full[en_clip]])
        ref_es, ref_en = references[es_clip]["reference"], references[en_clip]["reference"]
        t0 = time.monotonic()
        segments, info = model.transcribe(mixed, **{**transcribe_kwargs(TranscribeOptions(language=language), profile), "word_timestamps": False, **extra})
        segments = list(segments)
        seconds = time.monotonic() - t0
        text = "".join(s.text for s in segments).strip()
        # Score each half against its own reference, with its own normaliser.
        split = full[es_clip].size / SAMPLE_RATE + 0.25
        es_text = "".join(s.text for s in segments if s.start < split)
        en_text = "".join(s.text for s in segments if s.start >= split)
        wer_es = jiwer.wer(normalise(ref_es, "es"), normalise(es_text, "es") or "-")
        wer_en = jiwer.wer(normalise(ref_en, "en"), normalise(en_text, "en") or "-")
        mixed_rows.append({"mode": label, "language": info.language, "text": text, "wer_es": round(wer_es, 3),
                           "wer_en": round(wer_en, 3), "seconds": round(seconds, 2),
                           "segments": [(round(s.start, 2), s.text) for s in segments]})
        log(f"mixed {label}: {info.language} es {wer_es:.2f} en {wer_en:.2f} {text!r}")

    print("\n".join(report(rows, long_file, mixed_rows)))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "long_file": long_file, "mixed": mixed_rows}, ensure_ascii=False, indent=1))
    return 0


def report(rows: list[dict], long_file: dict, mixed_rows: list[dict]) -> list[str]:
    import jiwer

    lines = [*machine_lines(), "", "| clips | n | detection | correct | Spanish in another language | other script | WER |",
             "|---|---|---|---|---|---|---|"]
    groups = [("whole, es", lambda r: r["kind"] == "whole" and r["language"] == "es"),
              ("whole, en", lambda r: r["kind"] == "whole" and r["language"] == "en")]
    groups += [(f"{k} cuts, {lang}", lambda r, k=k, lang=lang: r["kind"] == k and r["language"] == lang)
               for k in ("2 s", "4 s", "8 s") for lang in ("es", "en")]
    scored = [r for r in rows if "modes" in r]
    for label, keep in groups:
        mine = [r for r in scored if keep(r)]
        if not mine:
            continue
        for mode in MODES:
            picks = [r["modes"][mode] for r in mine]
            correct = sum(p["correct"] for p in picks)
            spanish_wrong = sum(1 for r, p in zip(mine, picks) if r["language"] == "es" and not p["correct"])
            refs = [p["ref_norm"] for p in picks if p["ref_norm"]]
            hyps = [p["hyp_norm"] or "-" for p in picks if p["ref_norm"]]
            wer = jiwer.wer(refs, hyps) if refs else float("nan")
            lines.append(
                f"| {label} | {len(mine)} | {mode} | {correct}/{len(mine)} | "
                f"{spanish_wrong if mine[0]['language'] == 'es' else '–'} | {sum(p['other_script'] for p in picks)} | {wer:.1%} |"
            )
    others = [r for r in rows if r["language"] not in ("es", "en")]
    for r in others:
        if "modes" in r:
            lines.append(f"- {r['clip']} (no speech): " + ", ".join(f"{m}: {p['language']} ({p['probability']}, {p['source']}) {p['text']!r}" for m, p in r["modes"].items()))
        else:
            lines.append(f"- {r['clip']}: undecodable ({r.get('undecodable')})")
    lines += ["", "Probability of the chosen language (min / max), right vs wrong, unrestricted:"]
    right = [r["modes"]["any"]["probability"] for r in scored if r["modes"]["any"]["correct"]]
    wrong = [r["modes"]["any"]["probability"] for r in scored if r["modes"]["any"]["correct"] is False]
    lines.append(f"- right: n={len(right)} {min(right, default=0):.2f}–{max(right, default=0):.2f}, below 0.5: {sum(p < 0.5 for p in right)}")
    lines.append(f"- wrong: n={len(wrong)} {min(wrong, default=0):.2f}–{max(wrong, default=0):.2f}, below 0.5: {sum(p < 0.5 for p in wrong)}")
    lines += ["", f"Long file: {json.dumps(long_file)}", "", "| mixed es+en | language | WER es half | WER en half | s |", "|---|---|---|---|---|"]
    for m in mixed_rows:
        lines.append(f"| {m['mode']} | {m['language']} | {m['wer_es']:.1%} | {m['wer_en']:.1%} | {m['seconds']} |")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
