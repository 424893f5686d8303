"""Live transcription's commit policy: LocalAgreement-2 over a short, trimmed audio buffer.

The worker feeds 16 kHz mono float32 audio as it arrives and calls `step()`; each step decodes the
buffer once and confirms the longest prefix that this hypothesis and the previous one agree on
(after ufal/whisper_streaming). Confirmed words are final; the rest is the tentative tail. The
buffer is cut at confirmed sentence ends, segment ends and pauses, so a step costs the same in
the first minute and the sixtieth, and the encoder sees only the buffer (plus 1 s of padding),
not Whisper's usual 30 s window: that is most of the speed (docs in benchmarks/live_policy.py).
LiveTuning also holds variants that were measured and not adopted (agreement over three
hypotheses, held-back words, a beam-5 30 s decode at pauses): docs/BENCHMARKS.md says how they did.
"""

from __future__ import annotations

import copy
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grabadora.models import Segment, Word

__all__ = ["LiveTranscriber", "LiveTuning", "LocalAgreement", "StreamStep", "words_to_segments"]

SAMPLE_RATE = 16000
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'»”)\]]*$")
_NOT_WORD = re.compile(r"[^\w]+")
_LOOP_RATIO = 2.4  # Whisper's own compression-ratio threshold for repetitive output
_MIN_VIEW_S = 1.0  # below this Whisper mostly guesses ("S S S…")
# fw_jfk.flac once ended in a hallucinated " Thank you." at 0.18, after the speech; a real last word
# can score 0.15-0.4, so finish() drops an unsure word only where VAD hears no speech under it.
_FINAL_MIN_PROBABILITY = 0.2
_SILENCE_CUT_S = 3.0  # silence longer than this after the last speech is cut from the buffer


@dataclass(frozen=True)
class StreamStep:
    """What one step changed: words confirmed just now (in order) and the whole tentative tail."""

    confirmed: list[Word]
    tentative: list[Word]


@dataclass(frozen=True)
class LiveTuning:
    """The knobs of the policy; the defaults are the measured winners (benchmarks/live_policy.py)."""

    # Cut the buffer at a confirmed sentence/segment end once it is longer than this.
    trim_s: float = 15.0
    # Past this, cut at the last confirmed word even mid-sentence (bounds the step's compute).
    max_buffer_s: float = 22.0
    # Encode only the buffer plus this much padding instead of 30 s; None restores 30 s windows.
    encoder_pad_s: float | None = 1.0
    # …but never fewer seconds than this: on 1-3 s Whisper loops ("Ask not. Ask not. …") or says nothing.
    encoder_min_s: float = 10.0
    # Silence (by Silero VAD) after the last speech that counts as a pause: confirm up to it, cut.
    pause_s: float | None = 0.6
    # Skip decoding while the buffer holds no speech (start of session, long silences).
    vad: bool = True
    # Audio needed after a word before it can be confirmed (a pause confirms without it).
    right_context_s: float = 1.0
    # Seconds of speech to wait for before fixing the language once (language=None only).
    language_detect_s: float = 2.0
    # A step decodes at most this much audio beyond the last one (catching up after a resume).
    max_advance_s: float = 3.0
    # Do not decode less new audio than this; the step returns nothing new instead.
    min_new_audio_s: float = 0.1
    # A tentative word whose end is this far behind the audio is confirmed from the latest decode
    # even without agreement: hypotheses that keep disagreeing on one word block everything after it.
    force_after_s: float | None = 4.0
    # Beam for the decode at finish() that settles the last words (None: the session's beam).
    final_beam_size: int | None = 5
    # Consecutive hypotheses that must agree on a word to confirm it (LocalAgreement-n).
    agreement_n: int = 2
    # The last this many words of a hypothesis stay tentative even when agreed on and old enough.
    hold_words: int = 0
    # At a pause with unconfirmed speech before it, decode once more with this beam over Whisper's
    # full 30 s window (not the cut encoder) and confirm up to the pause from that decode; the
    # decode at finish() then uses the full window too. None: the pause is confirmed from the
    # step's own decode.
    pause_beam: int | None = None
    # With pause_beam: a silence inside the decoded audio (between two VAD speech stretches) at
    # least this long also triggers that decode, which confirms the words before it. None: only
    # the pause at the end of the audio (pause_s) does.
    pause_gap_s: float | None = None
    # Timestamp tokens give segment ends to cut at; without them, cuts use punctuation only.
    without_timestamps: bool = False
    temperature: float = 0.0
    max_new_tokens: int = 160
    prompt_chars: int = 200


def _key(text: str) -> str:
    """How two hypotheses' words are compared: case and punctuation do not break agreement."""
    return _NOT_WORD.sub("", text).casefold()


def _ends_sentence(word: Word) -> bool:
    return bool(_SENTENCE_END.search(word.text.strip()))


class LocalAgreement:
    """LocalAgreement-n (n = 2 by default) on word hypotheses with absolute times: no model, no audio.

    `insert` takes the words of one decode of the buffer; a word is confirmed once `n` consecutive
    hypotheses agree on it and on everything before it. Words that start before the confirmed end
    are the buffer's already-confirmed audio transcribed again and are dropped, so nothing is
    confirmed twice and confirmed times never go back.
    """

    # Tolerances from whisper_streaming: timestamps of the same word move a little between decodes.
    _OVERLAP_S = 0.1
    _NGRAM_NEAR_S = 1.0
    _NGRAM_MAX = 5
    _ONE_WORD_NEAR_S = 0.35

    def __init__(self, confirmed: Sequence[Word] = (), n: int = 2, hold_words: int = 0) -> None:
        if n < 2:
            raise ValueError("LocalAgreement needs n >= 2 hypotheses")
        self._n = n
        self._hold = hold_words
        self._recent: deque[Word] = deque(confirmed, maxlen=64)
        self._until = confirmed[-1].t1 if confirmed else 0.0
        # The unconfirmed rest of the last n-1 hypotheses, oldest first; the newest is the tentative tail.
        self._history: deque[list[Word]] = deque(maxlen=n - 1)

    @property
    def _previous(self) -> list[Word]:
        return self._history[-1] if self._history else []

    @property
    def confirmed_until(self) -> float:
        """End (s) of the last confirmed word; nothing before it is ever confirmed again."""
        return self._until

    @property
    def tentative(self) -> list[Word]:
        return list(self._previous)

    @property
    def recent(self) -> list[Word]:
        """The last confirmed words (at most 64): the buffer's context and the prompt's source."""
        return list(self._recent)

    def _fresh(self, words: Sequence[Word]) -> list[Word]:
        """The hypothesis without the words that are already confirmed.

        The buffer still holds confirmed audio, so a decode repeats the confirmed tail. Found by
        its words (up to 5, ending near the confirmed end) it is cut exactly; only without such a
        match do times decide. Times alone lose words: a decode that ends "blancasinas" at 2.90 s
        is confirmed, the next starts "de" at 2.74 s, before the confirmed end.
        """
        words = [w for w in words if _key(w.text)]
        recent = [_key(w.text) for w in self._recent]
        keys = [_key(w.text) for w in words]
        best: tuple[int, float, int] | None = None
        for i, w in enumerate(words):
            near = abs(w.t1 - self._until)
            for n in range(min(len(recent), i + 1, self._NGRAM_MAX), 0, -1):
                # One word matching alone is weak evidence ("de", "y"): it must end where the confirmed end is.
                tolerance = self._NGRAM_NEAR_S if n > 1 else self._ONE_WORD_NEAR_S
                if near < tolerance and keys[i - n + 1 : i + 1] == recent[-n:]:
                    if best is None or (n, -near) > best[:2]:
                        best = (n, -near, i)
                    break
        if best is not None:
            return words[best[2] + 1 :]
        fresh = []
        for w, key in zip(words, keys, strict=True):
            if w.t0 > self._until - self._OVERLAP_S:
                fresh.append(w)
            elif w.t1 > self._until + self._OVERLAP_S and recent and key != recent[-1] and key.startswith(recent[-1]):
                # Whisper glued the last confirmed word to the next ("pocas" + "istencias" written
                # "pocasistencias"): keep the new part, or the next word would be lost.
                rest = _split_after(w.text, recent[-1])
                if rest:
                    fresh.append(w.model_copy(update={"text": rest, "t0": max(w.t0, self._until)}))
        return fresh

    def _confirm(self, words: Sequence[Word]) -> list[Word]:
        out = []
        for w in words:
            # Clamp so confirmed time is monotonic even where alignment jitters.
            t0 = round(max(w.t0, self._until), 3)
            t1 = round(max(w.t1, t0), 3)
            word = w.model_copy(update={"t0": t0, "t1": t1})
            out.append(word)
            self._recent.append(word)
            self._until = t1
        return out

    def insert(
        self, words: Sequence[Word], horizon: float = float("inf"), force_before: float = float("-inf")
    ) -> StreamStep:
        """Apply one hypothesis (absolute times): confirm the agreed prefix, keep the rest tentative.

        Words ending after `horizon` stay tentative even when agreed on (too little audio after them).
        Words ending before `force_before` are confirmed as this hypothesis has them, agreed or not:
        their audio is old, and waiting for two decodes to agree has taken too long.
        """
        fresh = self._fresh(words)
        agreed = 0
        if len(self._history) == self._n - 1:  # n-1 earlier hypotheses to agree with
            for i, new in enumerate(fresh):
                if new.t1 > horizon or any(i >= len(h) or _key(h[i].text) != _key(new.text) for h in self._history):
                    break
                agreed += 1
        agreed = max(0, min(agreed, len(fresh) - self._hold))  # the last `hold_words` wait for more words
        forced = agreed
        while forced < len(fresh) and fresh[forced].t1 <= min(force_before, horizon):
            forced += 1
        # The newer decode saw more audio: its spelling and timings of the agreed words win.
        confirmed = self._confirm(fresh[:forced])
        # The older hypotheses lose the agreed words, and any whose audio a forced word has taken.
        older = [self._unconfirmed(h[agreed:]) for h in self._history]
        self._history.clear()
        self._history.extend(older)
        self._history.append(fresh[forced:])
        return StreamStep(confirmed=confirmed, tentative=list(self._previous))

    def _unconfirmed(self, words: list[Word]) -> list[Word]:
        """Words of an older hypothesis that still lie after the confirmed end (by their middle)."""
        return [w for w in words if (w.t0 + w.t1) / 2 >= self._until]

    def confirm_until(self, t: float) -> list[Word]:
        """Confirm the tentative words that start before `t` (a pause: their audio is complete)."""
        n = 0
        # Start, not end: alignment often stretches the last word before a pause into the silence.
        while n < len(self._previous) and self._previous[n].t0 < t:
            n += 1
        rest = self._previous[n:]
        confirmed = self._confirm(self._previous[:n])
        older = [self._unconfirmed(h) for h in list(self._history)[:-1]]
        self._history.clear()
        self._history.extend([*older, rest])
        return confirmed

    def flush(self, min_probability: float = 0.0, speech: Sequence[tuple[float, float]] | None = None) -> list[Word]:
        """Confirm the whole tentative tail (end of stream), cut before a first word that is below
        `min_probability` and, when `speech` (absolute spans) is given, lies mostly outside speech.

        A real last word is often unsure (0.2-0.4 for a mumbled "asistencia"); a hallucinated
        "Thank you." after the speech is unsure and over silence.
        """
        n = 0
        for w in self._previous:
            if (w.probability or 1.0) < min_probability and (speech is None or _speech_share(w, speech) < 0.5):
                break
            n += 1
        confirmed = self._confirm(self._previous[:n])
        self._history.clear()
        return confirmed

    def drop_tentative(self) -> None:
        self._history.clear()


def _speech_share(word: Word, speech: Sequence[tuple[float, float]]) -> float:
    """The share of the word's time that VAD calls speech (for a zero-length word: 1 if inside)."""
    if word.t1 <= word.t0:
        return float(any(a <= word.t0 <= b for a, b in speech))
    inside = sum(max(0.0, min(b, word.t1) - max(a, word.t0)) for a, b in speech)
    return inside / (word.t1 - word.t0)


def _split_after(text: str, key: str) -> str:
    """`text` without its leading word characters that spell `key` (case-insensitive): the glued part."""
    seen, i = "", 0
    while i < len(text) and seen != key:
        if _key(text[i]):
            seen += text[i].casefold()
        i += 1
    return text[i:] if seen == key else ""


def words_to_segments(words: Sequence[Word], *, pause_s: float = 1.0, max_s: float = 30.0) -> list[Segment]:
    """Group confirmed words into transcript segments: sentence ends, pauses over 1 s, at most 30 s."""
    segments: list[Segment] = []
    current: list[Word] = []

    def close() -> None:
        if current:
            segments.append(
                Segment(
                    id=len(segments),
                    t0=current[0].t0,
                    t1=current[-1].t1,
                    text="".join(w.text for w in current),
                    words=list(current),
                )
            )
            current.clear()

    for word in words:
        if current and (word.t0 - current[-1].t1 > pause_s or word.t1 - current[0].t0 > max_s):
            close()
        current.append(word)
        if _ends_sentence(word):
            close()
    close()
    return segments


@dataclass
class _Decode:
    """One decode of the buffer: its words and the ends of Whisper's segments (absolute)."""

    words: list[Word] = field(default_factory=list)
    segment_ends: list[float] = field(default_factory=list)


class LiveTranscriber:
    """One live session over a loaded faster-whisper model; not thread-safe (one session, one thread).

    With `language=None` the language is detected once, on the first `language_detect_s` seconds
    of speech, and then kept for the rest of the session (see `language`); until then steps decode
    with per-step detection.
    """

    def __init__(
        self,
        model: Any,
        *,
        language: str | None,
        beam_size: int = 1,
        task: str = "transcribe",
        hotwords: str | None = None,
        initial_prompt: str | None = None,
        **tuning: Any,
    ) -> None:
        self._tuning = t = LiveTuning(**tuning)
        self._model = model if t.encoder_pad_s is None else _short_encoder(model, t.encoder_pad_s, t.encoder_min_s)
        self._full_model = model  # Whisper's 30 s window: the pause decode's (pause_beam)
        multilingual = bool(getattr(getattr(model, "model", None), "is_multilingual", True))
        self._language = language if multilingual else "en"
        self._beam_size = beam_size
        self._task = task
        self._hotwords = hotwords
        self._initial_prompt = initial_prompt.strip() if initial_prompt else None
        self._agreement = LocalAgreement(n=t.agreement_n, hold_words=t.hold_words)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._offset = 0.0  # absolute time of the buffer's first sample
        self._decoded_until = 0.0  # absolute end of the audio the last decode saw
        self._last = _Decode()
        self._pauses: list[float] = []  # ends of speech before pauses, all confirmed: cut points
        self._speech: list[tuple[float, float]] = []  # VAD speech of the last decoded view (absolute)

    @property
    def language(self) -> str | None:
        """The session's language: given, or detected once (None until detected)."""
        return self._language

    @property
    def tuning(self) -> LiveTuning:
        return self._tuning

    @property
    def audio_offset(self) -> float:
        """Absolute time (s) of the buffer's first sample: after `resume_from`, feed audio from here."""
        return self._offset

    @property
    def buffered_seconds(self) -> float:
        return self._buffer.size / SAMPLE_RATE

    def resume_from(self, confirmed: Sequence[Word]) -> None:
        """Start over after a crash, given the words already confirmed (in order).

        The buffer restarts at the latest confirmed boundary within the last few seconds (a
        sentence end or a pause after a word), else at the last confirmed word's start, so the
        first new word has its audio whole; words re-heard there are recognised as confirmed and
        dropped. Nothing ending before `confirmed[-1].t1` is confirmed again.
        """
        words = list(confirmed)
        self._agreement = LocalAgreement(words, n=self._tuning.agreement_n, hold_words=self._tuning.hold_words)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._last = _Decode()
        self._pauses = []
        self._offset = _resume_point(words)
        self._decoded_until = self._offset

    def feed(self, audio: np.ndarray) -> None:
        """Append samples (float32, 16 kHz mono) that follow those fed before."""
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        self._buffer = np.concatenate([self._buffer, samples])

    def step(self) -> StreamStep:
        """Decode the buffer once, apply LocalAgreement-2, and cut the buffer where it is safe."""
        return self._step(final=False)

    def _step(self, *, final: bool) -> StreamStep:
        t = self._tuning
        end = self._offset + self._buffer.size / SAMPLE_RATE
        view_end = min(end, max(self._decoded_until, self._offset) + t.max_advance_s)
        if view_end - self._decoded_until < t.min_new_audio_s or (view_end - self._offset < _MIN_VIEW_S and not final):
            return StreamStep(confirmed=[], tentative=self._agreement.tentative)
        view = self._buffer[: round((view_end - self._offset) * SAMPLE_RATE)]
        previous_end, self._decoded_until = self._decoded_until, view_end

        speech = _speech(view) if t.vad else [(0.0, view.size / SAMPLE_RATE)]
        speech_end = self._offset + speech[-1][1] if speech else self._offset
        self._speech = [(self._offset + a, self._offset + b) for a, b in speech]
        pause = t.pause_s if t.pause_s is not None else t.trim_s
        if not speech or (t.vad and previous_end - speech_end >= pause and not self._agreement.tentative):
            # Nothing new said since the last decode: decoding silence again would only cost, and
            # invite "Gracias." hallucinations. A long silence is cut away (the prompt keeps the text).
            if view_end - speech_end > _SILENCE_CUT_S:
                self._cut(view_end - 1.0)
            return StreamStep(confirmed=[], tentative=[])
        if self._language is None and sum(b - a for a, b in speech) >= t.language_detect_s:
            self._detect_language(view, speech)

        beam = t.final_beam_size if final and t.final_beam_size else self._beam_size
        model = self._model
        at_pause = t.pause_s is not None and view_end - speech_end >= t.pause_s
        settle = self._settle_point(speech, speech_end if at_pause else None)
        if t.pause_beam is not None and (final or settle is not None):
            # The words before the pause are heard whole: settle them with the better decode.
            beam, model = max(beam, t.pause_beam), self._full_model
        self._last = self._decode(view, speech, beam, model)
        # Two decodes of the first second or two agree on guesses ("La harina" for "Las arenas"):
        # a word is confirmed only once the model has heard some audio after it.
        force = view_end - t.force_after_s if t.force_after_s is not None else float("-inf")
        result = self._agreement.insert(self._last.words, horizon=view_end - t.right_context_s, force_before=force)
        confirmed = list(result.confirmed)
        if settle is not None and not at_pause:
            confirmed += self._agreement.confirm_until(settle)  # a gap inside the view (pause_gap_s)
        if at_pause:
            # The speech before the pause is heard whole: confirm it now rather than a step later;
            # what was "heard" in the silence after it is dropped. The pause is a safe cut point.
            confirmed += self._agreement.confirm_until(speech_end)
            self._agreement.drop_tentative()
            self._pauses.append(speech_end)
        self._trim()
        return StreamStep(confirmed=confirmed, tentative=self._agreement.tentative)

    def finish(self) -> StreamStep:
        """End of stream: decode what is left unheard, then confirm the whole tentative tail."""
        confirmed: list[Word] = []
        end = self._offset + self._buffer.size / SAMPLE_RATE
        while end - self._decoded_until >= 0.05:
            before = self._decoded_until
            confirmed += self._step(final=True).confirmed
            if self._decoded_until <= before:
                break
        # What only the last decode heard, unsure and over silence, is Whisper's "Thank you."/"Gracias.";
        # an unsure word over speech is a real one ("asistencia" at 0.4).
        confirmed += self._agreement.flush(_FINAL_MIN_PROBABILITY, self._speech if self._tuning.vad else None)
        self._cut(self._offset + self._buffer.size / SAMPLE_RATE)
        return StreamStep(confirmed=confirmed, tentative=[])

    # --- internals -----------------------------------------------------------------------------

    def _decode(self, view: np.ndarray, speech: list[tuple[float, float]], beam_size: int, model: Any) -> _Decode:
        t = self._tuning
        seconds = view.size / SAMPLE_RATE
        speech_start, speech_end = speech[0][0], speech[-1][1]
        segments, _info = model.transcribe(
            view,
            language=self._language,
            task=self._task,
            beam_size=beam_size,
            best_of=1,
            temperature=t.temperature,
            word_timestamps=True,
            without_timestamps=t.without_timestamps,
            condition_on_previous_text=False,
            initial_prompt=self._prompt(),
            hotwords=self._hotwords,
            vad_filter=False,
            # Nobody says more than ~10 tokens a second: more is a loop, and it would cost the most.
            max_new_tokens=min(t.max_new_tokens, 10 + round(10 * seconds)),
        )
        limit = self._offset + seconds
        decode = _Decode()
        for segment in segments:
            if segment.compression_ratio > _LOOP_RATIO:  # "and so and so and so…": stop believing it
                break
            decode.segment_ends.append(self._offset + segment.end)
            for w in segment.words or ():
                t0, t1 = self._offset + w.start, min(self._offset + w.end, limit)
                # Words in the silence after the speech (by VAD) are hallucinated; so are words piled
                # up with no duration at the very end, where the audio stops mid-word.
                if t0 > self._offset + speech_end + 0.1 or (t1 - t0 < 0.02 and t0 > limit - 1.0):
                    return decode
                if t1 <= self._offset + speech_start:
                    continue  # heard before any speech (" y" over the first second's silence)
                word = Word(text=w.word, t0=round(t0, 3), t1=round(t1, 3), probability=round(w.probability, 4))
                decode.words.append(word)
        return decode

    def _settle_point(self, speech: list[tuple[float, float]], trailing_pause: float | None) -> float | None:
        """With `pause_beam`: the latest speech end before a pause with unconfirmed speech before it.

        The pause at the end of the view counts (`trailing_pause`), and with `pause_gap_s` so does
        a silence between two speech stretches of the view. None: no pause decode this step.
        """
        t = self._tuning
        if t.pause_beam is None:
            return None
        points = [trailing_pause] if trailing_pause is not None else []
        if t.pause_gap_s is not None:
            points += [self._offset + b for (_a, b), (a, _b) in zip(speech, speech[1:]) if a - b >= t.pause_gap_s]
        points = [p for p in points if p > self._agreement.confirmed_until + 0.1]
        return max(points, default=None)

    def _prompt(self) -> str | None:
        """Confirmed text that has left the buffer (the model would otherwise forget it)."""
        text = "".join(w.text for w in self._agreement.recent if w.t1 <= self._offset + 0.05)
        text = text[-self._tuning.prompt_chars :].strip()
        parts = [p for p in (self._initial_prompt, text) if p]
        return " ".join(parts) or None

    def _detect_language(self, view: np.ndarray, speech: list[tuple[float, float]]) -> None:
        audio = np.concatenate([view[round(a * SAMPLE_RATE) : round(b * SAMPLE_RATE)] for a, b in speech])
        language, _probability, _all = self._model.detect_language(audio=audio[: 30 * SAMPLE_RATE])
        self._language = language

    def _trim(self) -> None:
        """Cut a long buffer at the latest confirmed boundary (sentence end, segment end)."""
        t = self._tuning
        length = self._buffer.size / SAMPLE_RATE
        if length <= t.trim_s:
            return
        until = self._agreement.confirmed_until
        points = [e for e in self._last.segment_ends[:-1] if self._offset < e <= until]
        points += [w.t1 for w in self._agreement.recent if self._offset < w.t1 <= until and _ends_sentence(w)]
        points += [p for p in self._pauses if self._offset < p <= self._decoded_until]
        if points:
            self._cut(max(points))
        elif length > t.max_buffer_s and until > self._offset:
            self._cut(until)

    def _cut(self, at: float) -> None:
        samples = round((at - self._offset) * SAMPLE_RATE)
        if samples <= 0:
            return
        self._buffer = self._buffer[samples:]
        self._offset = at
        self._pauses = [p for p in self._pauses if p > at]
        self._decoded_until = max(self._decoded_until, at)


def _resume_point(words: Sequence[Word], window_s: float = 5.0) -> float:
    """Where audio restarts after a crash: see `LiveTranscriber.resume_from`."""
    if not words:
        return 0.0
    last = words[-1].t1
    if _ends_sentence(words[-1]):
        return last
    for i in range(len(words) - 2, -1, -1):
        w = words[i]
        if w.t1 < last - window_s:
            break
        if _ends_sentence(w) or words[i + 1].t0 - w.t1 >= 0.3:
            return w.t1
    return words[-1].t0


def _speech(audio: np.ndarray) -> list[tuple[float, float]]:
    """Speech stretches (s, relative to the audio) by faster-whisper's Silero VAD."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=300, speech_pad_ms=100)
    return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in get_speech_timestamps(audio, options)]


def _short_encoder(model: Any, pad_s: float, min_s: float) -> Any:
    """A shallow copy of the model whose encoder sees the audio plus `pad_s`, not a 30 s window.

    faster-whisper pads every window's features with zeros to 3000 frames; CTranslate2 accepts
    fewer (since 3.19), and the encoder's cost scales with them. Padding a little stays: with none
    the decoder loses its footing at the very end and falls back through temperatures.
    """
    short = copy.copy(model)  # the same weights; only this session's copy gets the new encode
    encode = model.encode
    pad, least = round(pad_s * 100), round(min_s * 100)  # 100 feature frames per second

    def encode_short(features: np.ndarray) -> Any:
        frames = features if features.ndim == 2 else features[0]
        used = np.flatnonzero(np.any(frames != 0, axis=0))
        keep = min(frames.shape[-1], max(least, (int(used[-1]) + 1 if used.size else 0) + pad))
        keep += keep % 2  # the encoder's stride-2 convolution
        return encode(features[..., :keep])

    short.encode = encode_short
    return short

