"""POST /live with an Idempotency-Key, and discarding a session (no AWS: the service over fakes)."""

from __future__ import annotations

import time

import pytest

from grabadora.errors import Conflict, InvalidInput, NotFound, QuotaExceeded
from grabadora.models import LiveOptions, QualityProfile
from grabadora.services import live
from tests.unit.test_live_service import Frames, Queue, Transcripts, Usage, _settings


class State(Usage):
    """The user-state fake with idempotency records and discard tombstones."""

    def __init__(self, used: float = 0.0) -> None:
        super().__init__(used)
        self.records: dict[str, dict] = {}
        self.cancelled: set[str] = set()
        self.usage_added: list[float] = []

    def claim_idempotency(self, user_id: str, scope: str, key_hash: str, record: dict, ttl_seconds: int) -> dict | None:
        name = f"{user_id}#{scope}#{key_hash}"
        if name in self.records:
            return self.records[name]
        self.records[name] = {**record, "created": time.time()}
        return None

    def forget_idempotency(self, user_id: str, scope: str, key_hash: str) -> None:
        self.records.pop(f"{user_id}#{scope}#{key_hash}", None)

    def mark_live_cancelled(self, user_id: str, live_id: str) -> None:
        self.cancelled.add(f"{user_id}#{live_id}")

    def live_cancelled(self, user_id: str, live_id: str) -> bool:
        return f"{user_id}#{live_id}" in self.cancelled


class Transcripts2(Transcripts):
    def delete(self, user_id: str, transcript_id: str) -> None:
        self.items.pop((user_id, transcript_id), None)


class Frames2(Frames):
    def __init__(self) -> None:
        super().__init__()
        self.forgotten: list[str] = []

    def delete_session(self, live_id: str) -> None:
        self.forgotten.append(live_id)
        self.stored.clear()


class Store:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete(self, key: str) -> None:
        self.deleted.append(key)

    def delete_prefix(self, prefix: str) -> None:
        self.deleted.append(prefix)


class Events:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete_job(self, job_id: str) -> None:
        self.deleted.append(job_id)


def _ports(used: float = 0.0) -> live.LivePorts:
    return live.LivePorts(
        transcripts=Transcripts2(), frames=Frames2(), queue=Queue(), user_state=State(used),  # type: ignore[arg-type]
        store=Store(), events=Events(),  # type: ignore[arg-type]
    )


def _body(created: dict) -> dict:
    """The answer without its stream token (a fresh one is issued to every answer)."""
    return {**created, "stream_url": created["stream_url"].split("?")[0]}


def test_a_retry_with_the_same_key_gets_the_same_session() -> None:
    ports, settings = _ports(), _settings()
    options = LiveOptions(language="en", profile=QualityProfile.PRECISE, title="Reunión")
    first, replayed = live.start_session_once(ports, settings, "u1", options, "key-1")
    assert not replayed
    again, replayed = live.start_session_once(ports, settings, "u1", options.model_copy(), "key-1")
    assert replayed and _body(again) == _body(first)
    assert len(ports.queue.sent) == 1 and len(ports.user_state.holds) == 1  # one session, one hold
    # Another user's same key, or another key, is another session
    other, replayed = live.start_session_once(ports, settings, "u2", options, "key-1")
    assert not replayed and other["live_id"] != first["live_id"]
    assert live.start_session_once(ports, settings, "u1", options, "key-2")[0]["live_id"] != first["live_id"]
    # Without a key every call starts one, as before
    assert live.start_session_once(ports, settings, "u1", options, None)[0]["live_id"] != first["live_id"]


def test_the_same_key_with_other_options_is_refused() -> None:
    ports, settings = _ports(), _settings()
    live.start_session_once(ports, settings, "u1", LiveOptions(language="en"), "k")
    with pytest.raises(InvalidInput) as refused:
        live.start_session_once(ports, settings, "u1", LiveOptions(language="es"), "k")
    assert refused.value.code == "idempotency_key_reused"
    assert len(ports.queue.sent) == 1


def test_a_key_whose_first_request_is_still_starting_asks_to_retry() -> None:
    ports, settings = _ports(), _settings()
    options = LiveOptions()
    # Given a key claimed by a request that has not created its session yet
    ports.user_state.claim_idempotency(
        "u1", "live", live.idempotency_key_hash("k"),
        {"fingerprint": live.request_fingerprint(options), "live_id": "01J00000000000000000000000"}, 60,
    )
    with pytest.raises(Conflict) as busy:
        live.start_session_once(ports, settings, "u1", options, "k")
    assert busy.value.code == "idempotency_key_in_use"


def test_a_refused_start_frees_its_key() -> None:
    # Given a user with no quota left: refused, and the key is not kept
    ports, settings = _ports(used=3600), _settings(monthly_quota_seconds=3600)
    with pytest.raises(QuotaExceeded):
        live.start_session_once(ports, settings, "u1", LiveOptions(), "k")
    assert ports.user_state.records == {}
    # Once there is quota again, the same key starts the session
    ports.user_state.used = 0
    assert live.start_session_once(ports, settings, "u1", LiveOptions(), "k")[1] is False


@pytest.mark.parametrize("key", ["", "a" * 256, "con espacio", "ñandú", "tab\there"])
def test_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidInput):
        live.start_session_once(_ports(), _settings(), "u1", LiveOptions(), key)


def test_discarding_removes_everything_releases_the_hold_and_can_be_repeated() -> None:
    ports, settings = _ports(), _settings(monthly_quota_seconds=3600)
    live_id = live.start_session_once(ports, settings, "u1", LiveOptions(), "k")[0]["live_id"]
    live.put_frame(ports, settings, "u1", live_id, 0, b"\0\0")
    assert live_id in ports.user_state.holds
    # When its user discards it
    assert live.cancel_session(ports, settings, "u1", live_id) == {"live_id": live_id, "status": "cancelled"}
    # Then nothing of it is left, and the quota it held is free
    assert ("u1", live_id) not in ports.transcripts.items
    assert ports.frames.forgotten == []  # the worker deletes them as it stops (the API may only put frames)
    assert f"audio/u1/{live_id}/" in ports.store.deleted and ports.events.deleted == [live_id]
    assert ports.user_state.holds == {}
    # And a repeat answers the same; frames and stops are refused as for an unknown session
    assert live.cancel_session(ports, settings, "u1", live_id)["status"] == "cancelled"
    with pytest.raises(NotFound):
        live.put_frame(ports, settings, "u1", live_id, 1, b"\0\0")
    with pytest.raises(NotFound):
        live.stop_session(ports, "u1", live_id, None)
    # A retry of its start says the session was discarded
    with pytest.raises(Conflict) as used:
        live.start_session_once(ports, settings, "u1", LiveOptions(), "k")
    assert used.value.code == "idempotency_key_used"


def test_another_users_or_an_unknown_session_is_not_found() -> None:
    ports, settings = _ports(), _settings()
    live_id = live.start_session(ports, settings, "u1", LiveOptions())["live_id"]
    with pytest.raises(NotFound):
        live.cancel_session(ports, settings, "u2", live_id)
    with pytest.raises(NotFound):
        live.cancel_session(ports, settings, "u1", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert ("u1", live_id) in ports.transcripts.items and ports.frames.forgotten == []
