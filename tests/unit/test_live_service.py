"""The live-session service's rules: quota, frame checks, the session's state machine (no AWS)."""

from __future__ import annotations

import pytest

from functions.api.routes.live import _check_pcm_type
from grabadora.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, QuotaExceeded, UnsupportedMediaType
from grabadora.models import LiveMessage, LiveOptions, QualityProfile, StopReason, TranscriptItem
from grabadora.services import live
from grabadora.settings import DevSettings


class Transcripts:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], TranscriptItem] = {}

    def create(self, item: TranscriptItem) -> None:
        self.items[(item.user_id, item.transcript_id)] = item

    def get(self, user_id: str, transcript_id: str) -> TranscriptItem:
        try:
            return self.items[(user_id, transcript_id)]
        except KeyError:
            raise NotFound("transcript not found") from None

    def request_stop(self, user_id: str, transcript_id: str, frames: int | None) -> TranscriptItem:
        item = self.items[(user_id, transcript_id)]
        if item.status != "live" or item.stop_requested is not None:
            raise Conflict("no")
        item = self.items[(user_id, transcript_id)] = item.model_copy(
            update={"stop_requested": "user", "frames_total": frames}
        )
        return item


class Frames:
    def __init__(self) -> None:
        self.stored: dict[int, bytes] = {}

    def put(self, live_id: str, seq: int, pcm: bytes) -> bool:
        return self.stored.setdefault(seq, pcm) is pcm


class Queue:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, body: str) -> str:
        self.sent.append(body)
        return "m"


class Usage:
    def __init__(self, used: float) -> None:
        self.used = used
        self.holds: dict[str, float] = {}
        self.version = 0

    def usage(self, user_id: str) -> dict:
        return {"audio_seconds": self.used}

    def get_languages(self, user_id: str) -> list[str] | None:
        return None  # never set: Spanish

    def in_flight(self, user_id: str) -> tuple[dict[str, float], int]:
        return dict(self.holds), self.version

    def put_in_flight(self, user_id: str, holds: dict[str, float], version: int) -> None:
        if version != self.version:
            raise Conflict("changed")
        self.holds, self.version = dict(holds), version + 1

    def token_version(self, user_id: str) -> int:
        return 0


def _ports(used: float = 0.0) -> live.LivePorts:
    return live.LivePorts(transcripts=Transcripts(), frames=Frames(), queue=Queue(), user_state=Usage(used))  # type: ignore[arg-type]


def _settings(**changes) -> DevSettings:
    return DevSettings(_env_file=None, **changes)


def test_a_session_is_bounded_by_the_quota_left_and_says_so() -> None:
    # Given a user with 100 of 3600 monthly seconds left... 3500 used
    ports = _ports(used=3500)
    session = live.start_session(ports, _settings(monthly_quota_seconds=3600), "u1", LiveOptions())
    # Then the session may run 100 s, and its worker stops it for the quota
    assert session["max_seconds"] == 100
    message = LiveMessage.model_validate_json(ports.queue.sent[0])
    assert message.max_seconds == 100 and message.limit is StopReason.QUOTA
    # And without a quota the length limit applies
    session = live.start_session(_ports(), _settings(live_max_seconds=600), "u1", LiveOptions())
    assert session["max_seconds"] == 600


def test_parallel_sessions_share_the_quota_left() -> None:
    # Given a user with 100 of 3600 monthly seconds left
    ports = _ports(used=3500)
    settings = _settings(monthly_quota_seconds=3600)
    # When two sessions start, the first holds the 100 s left
    first = live.start_session(ports, settings, "u1", LiveOptions())
    assert first["max_seconds"] == 100
    # Then the second is refused while the first is live (they cannot both run 100 s)
    with pytest.raises(QuotaExceeded):
        live.start_session(ports, settings, "u1", LiveOptions())


def test_no_session_starts_once_the_quota_is_used_up() -> None:
    with pytest.raises(QuotaExceeded):
        live.start_session(_ports(used=3600), _settings(monthly_quota_seconds=3600), "u1", LiveOptions())


def test_the_final_pass_defaults_on_for_precise_and_speakers_only() -> None:
    assert LiveOptions(profile=QualityProfile.PRECISE).wants_final_pass
    assert LiveOptions(diarization=True).wants_final_pass
    assert not LiveOptions().wants_final_pass
    assert not LiveOptions(profile=QualityProfile.PRECISE, final_pass=False).wants_final_pass
    assert LiveOptions(final_pass=True).wants_final_pass


def test_frames_must_be_pcm16_within_the_limit() -> None:
    settings = _settings(live_frame_max_bytes=1000)
    live.check_frame(b"\0" * 1000, settings)
    for body, error in ((b"", InvalidInput), (b"\0" * 3, InvalidInput), (b"\0" * 1002, PayloadTooLarge)):
        with pytest.raises(error):
            live.check_frame(body, settings)


@pytest.mark.parametrize("header", ["audio/pcm", "audio/pcm;rate=16000", "audio/L16; rate=16000; channels=1", "application/octet-stream"])
def test_raw_pcm_content_types_are_accepted(header: str) -> None:
    _check_pcm_type(header)


@pytest.mark.parametrize("header", ["", "audio/webm", "audio/pcm;rate=48000", "audio/pcm;rate=16000;channels=2", "application/json"])
def test_other_content_types_are_refused(header: str) -> None:
    with pytest.raises(UnsupportedMediaType):
        _check_pcm_type(header)


def test_frames_after_the_stop_count_and_after_the_end_are_refused() -> None:
    ports = _ports()
    settings = _settings()
    live_id = live.start_session(ports, settings, "u1", LiveOptions())["live_id"]
    assert live.put_frame(ports, settings, "u1", live_id, 0, b"\0\0") is True
    assert live.put_frame(ports, settings, "u1", live_id, 0, b"\1\1") is False  # a retry: no-op
    assert ports.frames.stored[0] == b"\0\0"
    with pytest.raises(NotFound):
        live.put_frame(ports, settings, "someone-else", live_id, 1, b"\0\0")
    live.stop_session(ports, "u1", live_id, frames=2)
    live.put_frame(ports, settings, "u1", live_id, 1, b"\0\0")  # late, but within the count
    with pytest.raises(Conflict, match="after 2 frames"):
        live.put_frame(ports, settings, "u1", live_id, 2, b"\0\0")
    stopped = ports.transcripts.items[("u1", live_id)].model_copy(update={"status": "processing", "stop_reason": "idle"})
    ports.transcripts.items[("u1", live_id)] = stopped
    with pytest.raises(Conflict, match="no audio arrived"):
        live.put_frame(ports, settings, "u1", live_id, 1, b"\0\0")
