"""Quota held at submit time (grabadora/services/quota.py) and the header probe that sizes it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from grabadora.audio_probe import estimate_from_size, probe_bytes
from grabadora.errors import Conflict, NotFound, QuotaExceeded, RateLimited
from grabadora.models import JobStatus
from grabadora.services import quota
from grabadora.settings import DevSettings

AUDIO = Path(__file__).resolve().parents[3] / "shared" / "audio"


@pytest.mark.parametrize(
    ("name", "seconds"),
    [("aeneas_capitan_veneno_es.mp3", 70.3), ("fw_jfk.flac", 11.0), ("pv_leopard_test_es.wav", 8.7),
     ("fw_hotwords.mp3", 4.0), ("deepspeech_LDC93S1_pcms16le_1_8000.wav", 2.9)],
)
def test_the_probe_reads_the_duration_from_the_header(name: str, seconds: float) -> None:
    probed, exact = probe_bytes((AUDIO / name).read_bytes())
    assert exact and probed == pytest.approx(seconds, abs=0.1)


def test_an_unknown_format_is_estimated_from_its_size() -> None:
    assert probe_bytes(b"\x01" * 40_000) == (estimate_from_size(40_000), False)
    assert estimate_from_size(40_000) == 10.0  # 32 kbit/s


class State:
    """The user-state table's in-flight item, with its conditional write, in memory."""

    def __init__(self, used: float = 0.0) -> None:
        self.used, self.holds, self.version = used, {}, 0
        self.lock = threading.Lock()

    def usage(self, user_id: str) -> dict:
        return {"audio_seconds": self.used}

    def in_flight(self, user_id: str) -> tuple[dict[str, float], int]:
        with self.lock:
            return dict(self.holds), self.version

    def put_in_flight(self, user_id: str, holds: dict[str, float], version: int) -> None:
        with self.lock:
            if version != self.version:
                raise Conflict("changed")
            self.holds, self.version = dict(holds), version + 1


class Transcripts:
    def __init__(self) -> None:
        self.status: dict[str, JobStatus] = {}  # a job absent here is still being created

    def get(self, user_id: str, job_id: str):  # noqa: ANN201
        if job_id not in self.status:
            raise NotFound("gone")
        return type("Item", (), {"status": self.status[job_id]})()


def _settings(**changes) -> DevSettings:
    return DevSettings(_env_file=None, **changes)


def test_parallel_reservations_never_add_up_past_the_quota() -> None:
    # Given a 150 s quota and 8 submits of a 70 s file racing
    state, transcripts = State(), Transcripts()
    settings = _settings(monthly_quota_seconds=150)
    outcomes: list[str] = []

    def submit(i: int) -> None:
        try:
            quota.reserve(state, transcripts, settings, "u", f"job{i}", 70.0)
            transcripts.status[f"job{i}"] = JobStatus.QUEUED
            outcomes.append("held")
        except QuotaExceeded as e:
            outcomes.append("refused")
            assert "s left" in e.detail

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly two fit
    assert outcomes.count("held") == 2 and sum(h["s"] for h in state.holds.values()) == 140


def test_ended_jobs_give_their_hold_back() -> None:
    state, transcripts = State(used=70), Transcripts()
    settings = _settings(monthly_quota_seconds=150)
    quota.reserve(state, transcripts, settings, "u", "a", 70.0)
    transcripts.status["a"] = JobStatus.PROCESSING
    with pytest.raises(QuotaExceeded):
        quota.reserve(state, transcripts, settings, "u", "b", 70.0)
    # When job a fails (nothing used), its 70 s are free again
    transcripts.status["a"] = JobStatus.FAILED
    quota.reserve(state, transcripts, settings, "u", "b", 70.0)
    assert {job: hold["s"] for job, hold in state.holds.items()} == {"b": 70.0}


def test_the_jobs_in_flight_are_capped() -> None:
    state, transcripts = State(), Transcripts()
    settings = _settings(max_jobs_in_flight=2)
    for job in ("a", "b"):
        quota.reserve(state, transcripts, settings, "u", job, 5.0)
        transcripts.status[job] = JobStatus.QUEUED
    with pytest.raises(RateLimited) as caught:
        quota.reserve(state, transcripts, settings, "u", "c", 5.0)
    assert caught.value.code == "too_many_jobs"


def test_a_live_session_holds_what_is_left() -> None:
    state, transcripts = State(used=3500), Transcripts()
    held = quota.reserve(state, transcripts, _settings(monthly_quota_seconds=3600), "u", "live", 7200.0, shrink_to_fit=True)
    assert held == 100


def test_a_truncated_file_is_told_from_a_short_one(tmp_path: Path) -> None:
    from gpu_container.job import truncation_warning
    from grabadora.audio_probe import declared_duration

    whole = (AUDIO / "aeneas_capitan_veneno_es.mp3").read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole[: len(whole) // 3])
    # The header still declares the whole length
    assert declared_duration(str(cut)) == pytest.approx(70.3, abs=0.1)
    assert "cut short" in (truncation_warning(70.3, 23.0) or "")
    assert truncation_warning(70.3, 70.2) is None and truncation_warning(None, 5.0) is None
    wav = tmp_path / "cut.wav"
    wav.write_bytes((AUDIO / "pv_leopard_test_es.wav").read_bytes()[:100_000])
    assert declared_duration(str(wav)) == pytest.approx(8.66, abs=0.05)


def test_the_seconds_held_are_those_of_jobs_still_in_flight() -> None:
    # Given three holds: a running job, a job that has completed since, and a job waiting its turn
    state, transcripts = State(used=100), Transcripts()
    settings = _settings(monthly_quota_seconds=1000)
    for job, seconds in (("running", 70.0), ("done", 30.0)):
        quota.reserve(state, transcripts, settings, "u", job, seconds)
    quota.reserve(state, transcripts, settings, "u", "held", 20.0, turn=True)
    transcripts.status.update(running=JobStatus.PROCESSING, done=JobStatus.COMPLETED)
    # Then what is reserved leaves the ended job out, as the next submit would
    assert quota.held(state, transcripts, "u") == (90.0, 2)
    # And reading it writes nothing
    assert state.version == 3
