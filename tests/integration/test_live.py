"""Live sessions over the emulator: frames in through the API, words out through the stream.

The session's worker is `run_live_session` with the integration worker's ports and tiny.en,
run on a thread as the live loop runs it; the client is the project's HTTP client.
"""

from __future__ import annotations

import dataclasses
import io
import random
import threading
import time
import wave

import httpx
import pytest

from grabadora.client import ApiError, GrabadoraClient
from grabadora.models import LiveMessage, LiveOptions, StopReason
from gpu_container.job import JobOutcome
from gpu_container.live import LivePacing, run_live_session
from tests.conftest import wer

pytestmark = pytest.mark.integration

FRAME_BYTES = 16000  # 0.5 s of PCM16 at 16 kHz
FAST = LivePacing(poll_seconds=0.05, status_every_seconds=0.2, late_frames_seconds=3.0)


class Crash(Exception):
    """Stands for the worker process dying at that point."""


@pytest.fixture(scope="module")
def jfk_pcm(audio_dir) -> bytes:
    from grabadora.cli import _pcm16

    return _pcm16(str(audio_dir / "fw_jfk.flac"))


def _frames(pcm: bytes) -> list[bytes]:
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


def _message(client: GrabadoraClient, live_id: str, **changes) -> LiveMessage:
    """The session's live-queue message, as its worker receives it."""
    import jwt

    from grabadora.adapters.transcripts_table import TranscriptsTable

    user_id = jwt.decode(client.token, options={"verify_signature": False})["sub"]
    item = TranscriptsTable().get(user_id, live_id)
    message = LiveMessage(
        job_id=live_id, user_id=user_id, audio_key=item.audio_key, options=LiveOptions(**item.options),
        max_seconds=item.live.max_seconds, idle_seconds=60,
    )
    return message.model_copy(update=changes)


def _run(worker, transcriber, message: LiveMessage, ports=None) -> tuple[threading.Thread, list]:
    """The session's worker on its own thread; its outcome (or exception) lands in the list."""
    result: list = []

    def run() -> None:
        try:
            result.append(run_live_session(message, ports or worker.ports, transcriber, transcriber, pacing=FAST))
        except BaseException as e:  # noqa: BLE001 - handed to the test
            result.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _recording(client: GrabadoraClient, live_id: str) -> bytes:
    """The stored recording's PCM, fetched through the transcript's audio URL."""
    url = client.get_transcript(live_id)["audio_url"]
    with wave.open(io.BytesIO(httpx.get(url).content)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        return w.readframes(w.getnframes())


def _assert_clean_words(events) -> list[dict]:
    assert [e.id for e in events] == list(range(len(events))), "seq must be gap-free from 0"
    assert events[-1].event == "completed"
    deltas = [e.data for e in events if e.event == "delta"]
    for before, after in zip(deltas, deltas[1:]):
        assert after["t0"] >= before["t1"] - 0.5, f"a word confirmed out of order: {before} then {after}"
    return deltas


def test_words_are_confirmed_while_audio_arrives_and_the_session_lands_in_the_library(
    client: GrabadoraClient, worker, transcriber, jfk_pcm, references
) -> None:
    # Given a live session whose worker is running
    session = client.start_live(language="en", title="JFK en directo", tags=["discurso"])
    assert session["max_seconds"] > 0 and session["frame_max_bytes"] >= FRAME_BYTES
    thread, result = _run(worker, transcriber, _message(client, session["live_id"]))
    # When the audio arrives at real-time pace, as a microphone's would
    stop_sent = threading.Event()

    def speak() -> None:
        client.stream_live(session["live_id"], jfk_pcm, speed=1.0)
        stop_sent.set()

    speaker = threading.Thread(target=speak, daemon=True)
    speaker.start()
    # Then confirmed words (and tentative ones) reach the stream before the user stops
    seen_before_stop = []
    events = []
    for event in client.events(session["stream_url"]):
        events.append(event)
        if event.event == "delta" and not stop_sent.is_set():
            seen_before_stop.append(event.data["text"])
    speaker.join()
    thread.join(timeout=120)
    assert result == [JobOutcome.COMPLETED]
    assert len(seen_before_stop) >= 5, seen_before_stop
    assert any(e.event == "partial" and e.data["text"] for e in events)
    deltas = _assert_clean_words(events)
    assert events[-1].data["stop_reason"] == StopReason.USER
    # And the library keeps it like a file job: text, recording, downloads, usage
    transcript = client.get_transcript(session["live_id"])
    assert transcript["status"] == "completed" and transcript["title"] == "JFK en directo"
    assert transcript["text"].strip() == "".join(d["text"] for d in deltas).strip()
    assert wer(references["fw_jfk.flac"]["reference"], transcript["text"], "en") <= 0.15, transcript["text"]
    assert transcript["duration"] == pytest.approx(len(jfk_pcm) / 32000, abs=0.01)
    assert _recording(client, session["live_id"]) == jfk_pcm
    assert "-->" in client.download(session["live_id"], "srt").text
    assert client.usage()["audio_seconds"] == pytest.approx(transcript["duration"], abs=0.01)
    assert client.list_transcripts(search="directo")["items"][0]["id"] == session["live_id"]


def test_frames_out_of_order_repeated_and_late_leave_no_hole(
    client: GrabadoraClient, worker, transcriber, jfk_pcm, references
) -> None:
    # Given a session, and its frames sent shuffled, some twice, one of them only at the very end
    session = client.start_live(language="en")
    frames = _frames(jfk_pcm)
    order = list(range(len(frames)))
    random.Random(7).shuffle(order)
    late = order.pop(order.index(3))
    for seq in order + order[:5]:
        client.send_frame(session["live_id"], seq, frames[seq])
    thread, result = _run(worker, transcriber, _message(client, session["live_id"]))
    time.sleep(1.0)
    client.stop_live(session["live_id"], frames=len(frames))
    time.sleep(0.5)
    client.send_frame(session["live_id"], late, frames[late])  # after stop, still within the count
    # When the session ends
    events = list(client.events(session["stream_url"]))
    thread.join(timeout=120)
    # Then every frame is in the recording, in order, once; the words follow it
    assert result == [JobOutcome.COMPLETED]
    _assert_clean_words(events)
    assert _recording(client, session["live_id"]) == jfk_pcm
    assert wer(references["fw_jfk.flac"]["reference"], client.get_transcript(session["live_id"])["text"], "en") <= 0.15


def test_a_worker_killed_mid_session_is_replaced_without_repeating_or_losing_a_word(
    client: GrabadoraClient, worker, transcriber, jfk_pcm, references
) -> None:
    # Given a session whose first worker dies after its second commit of confirmed words
    session = client.start_live(language="en")
    frames = _frames(jfk_pcm)
    for seq, frame in enumerate(frames):
        client.send_frame(session["live_id"], seq, frame)
    client.stop_live(session["live_id"], frames=len(frames))
    commits = 0

    class DyingEvents:
        def __init__(self, inner) -> None:
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def append(self, events, **kwargs) -> None:
            nonlocal commits
            self._inner.append(events, **kwargs)
            if any(e.type == "delta" for e in events):
                commits += 1
                if commits == 2:
                    raise Crash()

    dying = dataclasses.replace(worker.ports, events=DyingEvents(worker.ports.events))
    thread, result = _run(worker, transcriber, _message(client, session["live_id"]), ports=dying)
    thread.join(timeout=120)
    assert len(result) == 1 and isinstance(result[0], Crash)
    from grabadora.adapters.events_table import EventsTable

    before = [e.data for e in EventsTable().read(session["live_id"]) if e.type == "delta"]
    assert before, "the first attempt confirmed words before dying"
    # When SQS delivers the session to another worker
    thread, result = _run(worker, transcriber, _message(client, session["live_id"]))
    thread.join(timeout=120)
    # Then the words confirmed before the crash stand, none is confirmed twice, none is lost
    assert result == [JobOutcome.COMPLETED]
    events = list(client.events(session["stream_url"]))
    deltas = _assert_clean_words(events)
    assert deltas[: len(before)] == before
    texts = [d["text"].strip().lower().strip(".,") for d in deltas]
    assert "".join(texts).count("fellowamericans") == 1, texts
    text = client.get_transcript(session["live_id"])["text"]
    assert wer(references["fw_jfk.flac"]["reference"], text, "en") <= 0.2, text


def test_an_abandoned_session_stops_by_itself_and_keeps_its_words(
    client: GrabadoraClient, worker, transcriber, jfk_pcm
) -> None:
    # Given a session that got 4 s of audio and then nothing, not even a stop
    session = client.start_live(language="en")
    for seq, frame in enumerate(_frames(jfk_pcm[: 4 * 32000])):
        client.send_frame(session["live_id"], seq, frame)
    # When its idle time passes
    thread, result = _run(worker, transcriber, _message(client, session["live_id"], idle_seconds=2))
    events = list(client.events(session["stream_url"]))
    thread.join(timeout=60)
    # Then it ended by itself, with what was said
    assert result == [JobOutcome.COMPLETED]
    assert events[-1].data["stop_reason"] == StopReason.IDLE
    transcript = client.get_transcript(session["live_id"])
    assert "fellow" in transcript["text"].lower() and transcript["duration"] == pytest.approx(4.0)
    # And it takes no more audio, saying why
    with pytest.raises(ApiError) as refused:
        client.send_frame(session["live_id"], 100, b"\0\0" * 8000)
    assert refused.value.status == 409 and "no audio arrived" in refused.value.detail


def test_a_session_past_its_length_limit_stops_with_a_clear_reason(
    client: GrabadoraClient, worker, transcriber, jfk_pcm
) -> None:
    # Given a session allowed 3 s, sent 6 s
    session = client.start_live(language="en")
    for seq, frame in enumerate(_frames(jfk_pcm[: 6 * 32000])):
        client.send_frame(session["live_id"], seq, frame)
    thread, result = _run(worker, transcriber, _message(client, session["live_id"], max_seconds=3))
    events = list(client.events(session["stream_url"]))
    thread.join(timeout=60)
    # Then it stopped at the limit and says so
    assert result == [JobOutcome.COMPLETED]
    assert events[-1].data["stop_reason"] == StopReason.MAX_SECONDS
    assert client.get_transcript(session["live_id"])["duration"] == pytest.approx(3.0)
    with pytest.raises(ApiError) as refused:
        client.send_frame(session["live_id"], 50, b"\0\0" * 8000)
    assert refused.value.status == 409 and "length limit" in refused.value.detail


def test_the_final_pass_replaces_the_live_draft_with_a_whole_recording_transcription(
    client: GrabadoraClient, worker, transcriber, jfk_pcm, audio_dir
) -> None:
    from grabadora.models import TranscribeOptions
    from tests.integration.test_pipeline import direct_text

    # Given a session with the final pass on
    session = client.start_live(language="en", profile="precise")
    assert session["final_pass"] is True
    for seq, frame in enumerate(_frames(jfk_pcm)):
        client.send_frame(session["live_id"], seq, frame)
    client.stop_live(session["live_id"])
    thread, result = _run(worker, transcriber, _message(client, session["live_id"]))
    events = list(client.events(session["stream_url"]))
    thread.join(timeout=120)
    # Then the stream says it is improving the text, and the transcript is the whole-file one
    assert result == [JobOutcome.COMPLETED]
    finals = [e.data for e in events if e.event == "progress" and e.data.get("stage") == "final"]
    assert finals and finals[-1]["progress"] == 1.0
    expected = direct_text(transcriber, audio_dir / "fw_jfk.flac", TranscribeOptions(language="en", profile="precise"))
    assert client.get_transcript(session["live_id"])["text"].strip() == expected.strip()


def test_bad_frames_and_foreign_sessions_get_clear_answers(
    client: GrabadoraClient, other_client: GrabadoraClient, api_url: str
) -> None:
    session = client.start_live(language="es")
    live_id = session["live_id"]
    audio = f"{api_url}/live/{live_id}/audio"
    auth = {"Authorization": f"Bearer {client.token}"}
    pcm = {"Content-Type": "audio/pcm;rate=16000"}
    # Another user's session, and an unknown one, do not exist for the caller
    with pytest.raises(ApiError) as e:
        other_client.send_frame(live_id, 0, b"\0\0")
    assert e.value.status == 404
    with pytest.raises(ApiError) as e:
        other_client.stop_live(live_id)
    assert e.value.status == 404
    with pytest.raises(ApiError) as e:
        client.send_frame("01ARZ3NDEKTSV4RRFFQ69G5FAV", 0, b"\0\0")
    assert e.value.status == 404
    # Frames that cannot be PCM16 at 16 kHz
    assert httpx.post(audio, params={"seq": 0}, content=b"\0" * (session["frame_max_bytes"] + 2), headers={**auth, **pcm}).status_code == 413
    assert httpx.post(audio, params={"seq": 0}, content=b"\0\0\0", headers={**auth, **pcm}).status_code == 422
    assert httpx.post(audio, params={"seq": 0}, content=b"", headers={**auth, **pcm}).status_code == 422
    assert httpx.post(audio, params={"seq": 0}, content=b"\0\0", headers={**auth, "Content-Type": "audio/webm"}).status_code == 415
    assert httpx.post(audio, params={"seq": 0}, content=b"\0\0", headers={**auth, "Content-Type": "audio/pcm;rate=44100"}).status_code == 415
    assert httpx.post(audio, params={"seq": -1}, content=b"\0\0", headers={**auth, **pcm}).status_code == 422
    assert httpx.post(audio, content=b"\0\0", headers={**auth, **pcm}).status_code == 422
    assert httpx.post(audio, params={"seq": 0}, content=b"\0\0", headers=pcm).status_code == 401
    # A repeated frame is a no-op; after stop, frames past the count are refused
    client.send_frame(live_id, 0, b"\1\0")
    client.send_frame(live_id, 0, b"\1\0")
    assert client.stop_live(live_id, frames=1)["status"] == "live"
    assert client.stop_live(live_id, frames=1)["status"] == "live"  # stopping twice is harmless
    with pytest.raises(ApiError) as e:
        client.send_frame(live_id, 1, b"\0\0")
    assert e.value.status == 409 and "after 1 frames" in e.value.detail
    # Bad options are refused before anything starts
    with pytest.raises(ApiError) as e:
        client.start_live(language="klingon")
    assert e.value.status == 422
