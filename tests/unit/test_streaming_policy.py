"""The live commit policy without a model: LocalAgreement-2 on hand-made hypotheses, resuming
after a crash, and grouping confirmed words into segments."""

from __future__ import annotations

import numpy as np
import pytest

from types import SimpleNamespace

from gpu_container import streaming
from gpu_container.streaming import LiveTranscriber, LocalAgreement, StreamStep, _resume_point, words_to_segments
from grabadora.models import Word


def _words(text: str, start: float = 0.0, step: float = 0.5) -> list[Word]:
    """' a b c' as words of `step` seconds each from `start`."""
    return [Word(text=f" {w}", t0=start + i * step, t1=start + (i + 1) * step) for i, w in enumerate(text.split())]


def _text(words: list[Word]) -> str:
    return "".join(w.text for w in words).strip()


def test_a_word_is_confirmed_once_two_hypotheses_agree_on_it_and_all_before_it() -> None:
    la = LocalAgreement()
    first = la.insert(_words("hola que tal"))
    assert first.confirmed == [] and _text(first.tentative) == "hola que tal"
    second = la.insert(_words("hola que tas estas"))
    assert _text(second.confirmed) == "hola que"
    assert _text(second.tentative) == "tas estas"
    assert la.confirmed_until == 1.0


def test_case_and_punctuation_do_not_break_agreement_and_the_newer_spelling_wins() -> None:
    la = LocalAgreement()
    la.insert(_words("hola mundo"))
    step = la.insert([Word(text=" Hola,", t0=0.0, t1=0.5), Word(text=" mundo.", t0=0.5, t1=1.0)])
    assert [w.text for w in step.confirmed] == [" Hola,", " mundo."]


def test_confirmed_words_heard_again_are_never_confirmed_twice() -> None:
    la = LocalAgreement()
    la.insert(_words("uno dos tres"))
    la.insert(_words("uno dos tres cuatro"))
    assert la.confirmed_until == 1.5
    # The buffer still holds the confirmed audio: every later decode repeats those words.
    again = la.insert(_words("uno dos tres cuatro cinco"))
    assert _text(again.confirmed) == "cuatro"
    again = la.insert(_words("uno dos tres cuatro cinco seis"))
    assert _text(again.confirmed) == "cinco"


def test_a_repeated_head_whose_timing_drifted_late_is_recognised_by_its_words() -> None:
    la = LocalAgreement(_words("uno dos tres"))
    # "dos tres" again, but aligned just after the confirmed end: the n-gram check drops them.
    drifted = _words("dos tres cuatro", start=1.45)
    la.insert(drifted)
    step = la.insert(_words("dos tres cuatro cinco", start=1.45))
    assert _text(step.confirmed) == "cuatro"


def test_confirmed_times_are_monotonic_even_when_alignment_jitters_back() -> None:
    la = LocalAgreement()
    confirmed: list[Word] = []
    hypotheses = [
        [Word(text=" a", t0=0.0, t1=0.6)],
        [Word(text=" a", t0=0.0, t1=0.6), Word(text=" b", t0=0.55, t1=0.9)],
        [Word(text=" a", t0=0.0, t1=0.6), Word(text=" b", t0=0.52, t1=0.9), Word(text=" c", t0=0.8, t1=1.2)],
        [Word(text=" b", t0=0.52, t1=0.9), Word(text=" c", t0=0.85, t1=1.2), Word(text=" d", t0=1.2, t1=1.5)],
    ]
    for h in hypotheses:
        confirmed += la.insert(h).confirmed
    assert _text(confirmed) == "a b c"
    for earlier, later in zip(confirmed, confirmed[1:], strict=False):
        assert earlier.t1 <= later.t0 <= later.t1


def test_a_next_word_aligned_before_the_confirmed_end_is_not_lost() -> None:
    # pv_leopard_test_es.wav: "blancasinas" was confirmed ending at 2.90 s; the next decode ends it
    # at 2.74 and starts "de" there, 0.16 s before the confirmed end. Times alone dropped "de".
    la = LocalAgreement()
    la.insert([*_words("las arenas son"), Word(text=" blancasinas", t0=1.5, t1=2.9)])
    la.insert([*_words("las arenas son"), Word(text=" blancasinas", t0=1.5, t1=2.9), *_words("de", start=3.0)])
    assert la.confirmed_until == 2.9
    blancasinas = Word(text=" blancasinas", t0=1.5, t1=2.74)
    hypothesis = [*_words("las arenas son"), blancasinas, *_words("de grano", start=2.74)]
    confirmed = la.insert(hypothesis).confirmed
    confirmed += la.insert([*hypothesis, *_words("medio", start=3.74)]).confirmed
    assert _text(confirmed) == "de grano"
    assert confirmed[0].t0 >= 2.9


def test_a_word_that_whisper_glued_to_the_confirmed_one_keeps_its_new_part() -> None:
    # "muy pocas" confirmed; the last decode writes "pocasistencias" (no space token between them).
    la = LocalAgreement(_words("muy pocas", start=5.9, step=0.43))  # ends 6.76
    la.insert([*_words("muy", start=5.9, step=0.42), Word(text=" pocasistencias", t0=6.32, t1=7.0)])
    assert [w.text for w in la.tentative] == ["istencias"]
    assert la.tentative[0].t0 == pytest.approx(6.76)
    assert _text(la.flush()) == "istencias"


def test_a_one_word_match_far_from_the_confirmed_end_is_not_taken_for_the_confirmed_word() -> None:
    la = LocalAgreement(_words("vino de"))  # "de" ends at 1.0
    # This decode lost the confirmed "de"; the "de" at 1.5-1.6 is a new one and must stay.
    step = la.insert([Word(text=" lejos", t0=1.0, t1=1.5), Word(text=" de", t0=1.5, t1=1.6)])
    assert _text(step.tentative) == "lejos de"


def test_old_words_are_confirmed_even_while_hypotheses_keep_disagreeing_on_the_first_one() -> None:
    # aeneas: "hubedad refedirte" / "hubed a referirte" / "Ube de referirte" held 19 words back.
    la = LocalAgreement()
    rest = _words("de referirte la historia", start=0.5)

    def step(head: str, n: int, view_end: float) -> list[Word]:
        hypothesis = [Word(text=f" {head}", t0=0.0, t1=0.5), *rest[:n]]
        return la.insert(hypothesis, horizon=view_end - 1.0, force_before=view_end - 4.0).confirmed

    assert step("hubedad", 1, 3.0) == []
    assert step("hubed", 2, 3.5) == []  # LocalAgreement-2 alone would wait for two equal heads
    # The head's audio is 4 s old: confirmed as the latest decode has it; the rest agrees as usual.
    assert _text(step("ube", 3, 4.5)) == "ube"
    assert _text(step("hube", 4, 5.0)) == "de referirte la"


def test_flush_confirms_the_tail_but_stops_at_an_unsure_last_word() -> None:
    la = LocalAgreement()
    la.insert(_words("fin de la"))
    tail = [*_words("fin de la historia"), Word(text=" Gracias.", t0=2.0, t1=2.4, probability=0.1)]
    la.insert(tail)
    assert _text(la.flush(0.3)) == "historia"  # "fin de la" was confirmed by the second insert
    assert la.tentative == []


def test_confirm_until_takes_the_words_that_started_before_a_pause() -> None:
    la = LocalAgreement()
    la.insert(_words("uno dos tres"))  # 0-1.5 s
    assert _text(la.confirm_until(1.1)) == "uno dos tres"
    assert la.insert(_words("uno dos tres")).confirmed == []


def test_resume_from_never_confirms_what_was_confirmed_before_the_crash() -> None:
    before = _words("el capitan veneno llego")  # 0-2 s
    la = LocalAgreement(before)
    # The restarted buffer re-hears the last confirmed words, with slightly different timings.
    la.insert(_words("veneno llego tarde", start=1.02))
    step = la.insert(_words("veneno llego tarde ayer", start=1.03))
    assert _text(step.confirmed) == "tarde"
    assert step.confirmed[0].t0 >= before[-1].t1


def test_the_resume_point_is_a_recent_sentence_end_or_pause_else_the_last_word_start() -> None:
    sentence = [*_words("hola."), *_words("que tal", start=0.6)]  # "hola." ends 0.5, then 0.1 s gap
    assert _resume_point(sentence) == 0.5
    ended = _words("adios.")
    assert _resume_point(ended) == ended[-1].t1
    running = _words("uno dos tres cuatro")
    assert _resume_point(running) == running[-1].t0
    paused = [*_words("uno dos"), *_words("tres cuatro", start=1.5)]  # 0.5 s pause after "dos"
    assert _resume_point(paused) == 1.0
    assert _resume_point([]) == 0.0


def test_flush_keeps_an_unsure_word_over_speech_and_drops_one_over_silence() -> None:
    speech = [(0.8, 7.7)]
    la = LocalAgreement(_words("muy pocas", start=5.9))
    la.insert([Word(text=" estereas", t0=6.9, t1=7.5, probability=0.15)])
    assert _text(la.flush(0.2, speech)) == "estereas"  # real, just mumbled: kept
    la.insert([Word(text=" Thank", t0=7.75, t1=8.2, probability=0.18), Word(text=" you.", t0=8.2, t1=8.5)])
    assert la.flush(0.2, speech) == []  # after the speech ended: Whisper's sign-off, dropped


class _FakeModel:
    """Stands in for WhisperModel where a test only needs the session's bookkeeping."""

    model = type("M", (), {"is_multilingual": False})()

    def encode(self, features):  # pragma: no cover - never decoded here
        raise AssertionError


class _ScriptedModel(_FakeModel):
    """`transcribe` answers with the words the test gives for the audio's length (s, rounded)."""

    def __init__(self, script) -> None:
        self.script = script
        self.beams: list[int] = []

    def transcribe(self, audio, **kwargs):
        self.beams.append(kwargs["beam_size"])
        words = self.script(audio.size / 16000)
        ws = [SimpleNamespace(word=t, start=a, end=b, probability=p) for t, a, b, p in words]
        end = ws[-1].end if ws else 0.0
        return [SimpleNamespace(compression_ratio=1.0, end=end, words=ws)], None


def test_words_heard_before_any_speech_are_not_shown(monkeypatch) -> None:
    # pv_leopard_test_es.wav: speech starts at 0.86 s; the first decode showed " y" at 0.0-0.66.
    monkeypatch.setattr(streaming, "_speech", lambda audio: [(0.86, audio.size / 16000)])
    model = _ScriptedModel(lambda s: [(" y", 0.0, 0.66, 0.3), (" La", 0.66, 1.1, 0.5)])
    live = LiveTranscriber(model, language="es", encoder_pad_s=None)
    live.feed(np.zeros(19200, dtype=np.float32))
    assert _text(live.step().tentative) == "La"


def test_finish_keeps_an_unsure_last_word_in_speech_and_settles_it_with_a_wider_beam(monkeypatch) -> None:
    monkeypatch.setattr(streaming, "_speech", lambda audio: [(0.5, min(audio.size / 16000, 7.7))])
    head = [(" tiene", 5.0, 5.5, 0.9), (" muy", 5.5, 6.0, 0.9), (" poca", 6.0, 6.5, 0.9)]
    tail = {
        1: [(" asistencia", 6.5, 7.5, 0.15)],  # beam 1: unsure
        5: [(" asistencia.", 6.5, 7.6, 0.15), (" Gracias.", 7.9, 8.4, 0.1)],  # the hallucination after the speech
    }
    model = _ScriptedModel(lambda s: head + tail[model.beams[-1]])
    live = LiveTranscriber(model, language="es", encoder_pad_s=None, max_advance_s=10.0)
    live.feed(np.zeros(16000 * 8, dtype=np.float32))
    live.step()
    live.feed(np.zeros(16000 // 2, dtype=np.float32))
    last = live.finish()
    assert model.beams == [1, 5]
    assert _text(last.confirmed).endswith("poca asistencia.")


def test_a_live_session_decodes_greedily_on_a_cpu_and_as_balanced_file_mode_on_cuda() -> None:
    from gpu_container.profiles import live_decoding
    from grabadora.models import QualityProfile

    # A CPU step re-decodes the buffer within about a second: greedy, the encoder cut to the buffer
    cpu = live_decoding("cpu")
    assert (cpu.profile, cpu.beam_size, cpu.encoder_pad_s) == (QualityProfile.FAST, 1, 1.0)
    # A GPU step is cheap: beam 5 over Whisper's 30 s window, as file mode's `balanced` decodes
    cuda = live_decoding("cuda")
    assert (cuda.profile, cuda.beam_size, cuda.encoder_pad_s) == (QualityProfile.BALANCED, 5, None)


def test_every_step_decodes_with_the_session_beam(monkeypatch) -> None:
    monkeypatch.setattr(streaming, "_speech", lambda audio: [(0.0, audio.size / 16000)])
    model = _ScriptedModel(lambda s: [(" hola", 0.2, 0.6, 0.9), (" que", 0.7, 1.0, 0.9)])
    live = LiveTranscriber(model, language="es", beam_size=5, encoder_pad_s=None)
    for _ in range(3):
        live.feed(np.zeros(8000, dtype=np.float32))
        live.step()
    assert model.beams == [5, 5]  # the first half second is too little to decode


def test_live_transcriber_resume_sets_the_offset_and_waits_for_audio() -> None:
    live = LiveTranscriber(_FakeModel(), language=None)
    assert live.language == "en"  # an English-only model fixes it
    confirmed = [*_words("hola."), *_words("que tal", start=0.6)]
    live.resume_from(confirmed)
    assert live.audio_offset == 0.5
    live.feed(np.zeros(1600, dtype=np.float32))
    assert live.buffered_seconds == pytest.approx(0.1)
    assert live.step() == StreamStep(confirmed=[], tentative=[])  # too little audio to decode


def test_unknown_tuning_is_rejected() -> None:
    with pytest.raises(TypeError):
        LiveTranscriber(_FakeModel(), language="en", trim_seconds=3)


def test_words_to_segments_breaks_at_sentence_ends_pauses_and_30_seconds() -> None:
    words = [
        *_words("Hola a todos."),  # 0-1.5
        *_words("Bienvenidos al", start=1.5),  # 1.5-2.5
        *_words("programa de hoy", start=4.0),  # after a 1.5 s pause
    ]
    segments = words_to_segments(words)
    assert [s.text for s in segments] == [" Hola a todos.", " Bienvenidos al", " programa de hoy"]
    assert [s.id for s in segments] == [0, 1, 2]
    assert (segments[1].t0, segments[1].t1) == (1.5, 2.5)
    long_run = _words(" ".join(["palabra"] * 80))  # 40 s with no punctuation or pause
    parts = words_to_segments(long_run)
    assert len(parts) == 2 and all(s.t1 - s.t0 <= 30 for s in parts)
    assert sum(len(s.words) for s in parts) == 80
    assert words_to_segments([]) == []


def test_with_agreement_n_3_a_word_needs_three_consecutive_hypotheses_to_agree() -> None:
    la = LocalAgreement(n=3)
    assert la.insert(_words("hola que tal")).confirmed == []
    assert la.insert(_words("hola que tas estas")).confirmed == []  # two agree: LocalAgreement-2 would confirm
    step = la.insert(_words("hola que tas estas bien"))
    assert _text(step.confirmed) == "hola que"  # "tal" / "tas": the oldest of the three disagrees
    assert _text(step.tentative) == "tas estas bien"
    step = la.insert(_words("hola que tas estas bien hoy"))
    assert _text(step.confirmed) == "tas estas"  # the three agree as far as the shortest goes
    assert la.confirmed_until == 2.0


def test_with_agreement_n_3_one_disagreeing_hypothesis_in_between_blocks_the_word() -> None:
    la = LocalAgreement(n=3)
    la.insert(_words("a b c d"))
    la.insert(_words("a x c d"))
    assert _text(la.insert(_words("a b c d")).confirmed) == "a"


def test_with_agreement_n_3_a_forced_word_leaves_the_older_hypotheses_too() -> None:
    la = LocalAgreement(n=3)
    la.insert(_words("uno dos tres"))
    la.insert(_words("uno tos tres"))
    # "uno" agreed by all three; "dos"/"tos"/"dos" ended long ago: forced as the newest has it.
    step = la.insert(_words("uno dos tres cuatro"), force_before=1.0)
    assert _text(step.confirmed) == "uno dos"
    # None of the older hypotheses still holds "dos": the next two decodes agree from "tres" on.
    step = la.insert(_words("uno dos tres cuatro cinco"))
    assert _text(step.confirmed) == "tres"  # "cuatro": the oldest remaining hypothesis ends at "tres"
    assert [w.t0 for w in step.confirmed] == [1.0]


def test_agreement_needs_at_least_two_hypotheses() -> None:
    with pytest.raises(ValueError):
        LocalAgreement(n=1)


class _WindowModel(_ScriptedModel):
    """Scripted by (beam, whether the encoder sees Whisper's 30 s window or the cut buffer)."""

    def __init__(self, script) -> None:
        super().__init__(script)
        self.origin = id(self)
        self.calls: list[tuple[int, str]] = []

    def transcribe(self, audio, **kwargs):
        window = "30 s" if id(self) == self.origin else "cut"  # _short_encoder decodes through a copy
        self.calls.append((kwargs["beam_size"], window))
        return super().transcribe(audio, **kwargs)


def test_pause_beam_settles_the_words_before_a_pause_with_a_wide_beam_over_30_s(monkeypatch) -> None:
    monkeypatch.setattr(streaming, "_speech", lambda audio: [(0.0, min(audio.size / 16000, 2.0))])
    greedy = [(" uno", 0.0, 0.5, 0.9), (" dosh", 0.5, 1.0, 0.5), (" tres", 1.0, 1.4, 0.9)]
    wide = [(" uno", 0.0, 0.5, 0.9), (" dos", 0.5, 1.0, 0.9), (" tres", 1.0, 1.4, 0.9), (" cuatro.", 1.4, 1.9, 0.9)]
    model = _WindowModel(lambda s: wide if model.calls[-1][0] == 5 else greedy)
    live = LiveTranscriber(model, language="es", pause_beam=5)
    live.feed(np.zeros(24000, dtype=np.float32))  # 1.5 s, all speech
    assert _text(live.step().tentative) == "uno dosh tres"
    live.feed(np.zeros(24000, dtype=np.float32))  # up to 3.0 s: a 1 s pause after the speech
    step = live.step()
    assert model.calls == [(1, "cut"), (5, "30 s")]
    assert _text(step.confirmed) == "uno dos tres cuatro."  # not the greedy "dosh"
    assert step.tentative == []


def test_without_pause_beam_the_pause_is_confirmed_from_the_steps_own_decode(monkeypatch) -> None:
    monkeypatch.setattr(streaming, "_speech", lambda audio: [(0.0, min(audio.size / 16000, 2.0))])
    greedy = [(" uno", 0.0, 0.5, 0.9), (" dosh", 0.5, 1.0, 0.5), (" tres", 1.0, 1.4, 0.9)]
    model = _WindowModel(lambda s: greedy)
    live = LiveTranscriber(model, language="es")
    live.feed(np.zeros(48000, dtype=np.float32))
    live.step()
    assert model.calls == [(1, "cut")]


def test_pause_gap_s_settles_the_words_before_a_silence_inside_the_audio(monkeypatch) -> None:
    # VAD: speech 0-1.0 s, a 0.4 s silence, speech again from 1.4 s to the end of the audio.
    monkeypatch.setattr(streaming, "_speech", lambda audio: [(0.0, 1.0), (1.4, audio.size / 16000)])
    words = [(" uno", 0.0, 0.5, 0.9), (" dos", 0.5, 0.95, 0.9), (" tres", 1.4, 1.9, 0.9), (" cuat", 1.9, 2.6, 0.5)]
    model = _WindowModel(lambda s: words)
    live = LiveTranscriber(model, language="es", pause_beam=5, pause_gap_s=0.3)
    live.feed(np.zeros(48000, dtype=np.float32))  # 3 s
    step = live.step()
    assert model.calls == [(5, "30 s")]
    assert _text(step.confirmed) == "uno dos"  # before the silence; the rest is still being spoken
    assert _text(step.tentative) == "tres cuat"
    live.feed(np.zeros(8000, dtype=np.float32))
    live.step()
    assert model.calls[-1] == (1, "cut")  # that silence is settled: the next step is an ordinary one
    live.feed(np.zeros(8000, dtype=np.float32))
    live.finish()
    assert model.calls[-1] == (5, "30 s")  # finish settles the tail as a pause would


def test_hold_words_keeps_the_last_agreed_words_tentative_until_more_words_follow() -> None:
    la = LocalAgreement(hold_words=1)
    la.insert(_words("generos hermano"))
    step = la.insert(_words("generos hermano"))
    assert _text(step.confirmed) == "generos"  # "hermano" is agreed on, but nothing follows it yet
    step = la.insert(_words("generoso hermano mio"))  # a new hypothesis: it is confirmed as agreed
    assert _text(step.confirmed) == "hermano"
    assert _text(step.tentative) == "mio"
