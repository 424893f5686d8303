"""Live sessions through the whole local stack: `grabadora live`, and a worker killed mid-session."""

from __future__ import annotations

import signal
import subprocess
import threading
from pathlib import Path

import pytest

from grabadora.cli import _pcm16
from tests.conftest import wer
from tests.e2e.conftest import BIN, Stack

pytestmark = pytest.mark.e2e


def test_grabadora_live_prints_confirmed_words_while_the_file_plays(
    tiny_stack: Stack, audio_dir: Path, references: dict
) -> None:
    # Given an account
    env = {**tiny_stack.env, "GRABADORA_API_URL": tiny_stack.url, "GRABADORA_EMAIL": "live@example.com",
           "GRABADORA_PASSWORD": "una clave muy larga"}
    signup = subprocess.run([str(BIN / "grabadora"), "signup"], env=env, capture_output=True, text=True, timeout=60)
    assert signup.returncode == 0, signup.stderr
    # When a recording is streamed at real-time pace with the CLI
    process = subprocess.Popen(
        [str(BIN / "grabadora"), "live", str(audio_dir / "fw_jfk.flac"), "--language", "en", "--title", "JFK directo"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    # Then confirmed words are printed before the 11 s of audio have been sent
    first = process.stdout.read(8)
    assert process.poll() is None, "the first words came only after the session ended"
    out = process.stdout.read()  # not communicate(): it would skip what the text wrapper buffered
    err = process.stderr.read()  # small: tentative words go to stderr only on a terminal
    assert process.wait(timeout=120) == 0, err
    live, final = (first + out).split("\n", 1)
    assert wer(references["fw_jfk.flac"]["reference"], live, "en") <= 0.15, live
    assert final.strip() == live.strip()
    assert "JFK directo" in err and "· en ·" in err


def test_a_worker_killed_mid_session_is_replaced_and_no_confirmed_word_is_repeated_or_lost(
    base_stack: Stack, audio_dir: Path, references: dict
) -> None:
    # Given a Spanish live session fed at real-time pace
    path = audio_dir / "pv_leopard_test_es.wav"
    pcm = _pcm16(str(path))
    worker = base_stack.workers[-1]
    with base_stack.client() as client:
        session = client.start_live(language="es")
        sender = threading.Thread(target=client.stream_live, args=(session["live_id"], pcm), daemon=True)
        sender.start()
        events = []
        stream = client.events(session["stream_url"])
        # When its worker is killed (SIGKILL: no cleanup) once the first word is confirmed
        for event in stream:
            events.append(event)
            if event.event == "delta":
                break
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        # And a new worker starts; the session's message reappears after its visibility timeout
        base_stack.start_worker()
        events.extend(stream)
        sender.join(timeout=60)
        transcript = client.get_transcript(session["live_id"])
    # Then the stream is gap-free and every confirmed word comes once, in order
    assert [e.id for e in events] == list(range(len(events)))
    assert events[-1].event == "completed", events[-1]
    deltas = [e.data for e in events if e.event == "delta"]
    for before, after in zip(deltas, deltas[1:]):
        assert after["t0"] >= before["t1"] - 0.5, (before, after)
    streamed = "".join(d["text"] for d in deltas)
    for word in ("arenas", "grano", "poca"):
        assert streamed.lower().count(word) <= 1, streamed
    # And nothing was lost: the text holds the whole sentence, the recording is whole
    assert wer(references["pv_leopard_test_es.wav"]["reference"], streamed, "es") <= 0.35, streamed
    assert transcript["attempts"] == 2 and transcript["text"].strip() == streamed.strip()
    assert transcript["duration"] == pytest.approx(len(pcm) / 32000, abs=0.01)
