"""The emulator's state on disk: atomic files, the state format, the lock, the request gate."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from grabadora.local.persistence import (
    NATIVE_POOL_MODULES,
    EmulatorPersistence,
    RequestGate,
    StateError,
    StateStore,
    atomic_write,
    decode_state,
    dump_state,
    encode_state,
    load_state,
    services_for,
)
from grabadora.resources import Resources, build_resources
from grabadora.settings import DevSettings


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["state"]


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "state"
    atomic_write(target, b"good")
    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["state"]


def test_a_state_file_round_trips_and_damage_is_refused() -> None:
    data = encode_state({"format": 1, "moto": "5.2.5"}, b"payload bytes")
    header, payload = decode_state(data)
    assert payload == b"payload bytes" and header["moto"] == "5.2.5"
    for damaged in (data[:-1], data[:-1] + b"X", b"something else", data[: len(data) // 3]):
        with pytest.raises(StateError):
            decode_state(damaged)
    with pytest.raises(StateError, match="format"):
        decode_state(encode_state({"format": 99}, b""))


def test_every_resource_kind_is_kept_and_an_unknown_kind_is_an_error() -> None:
    resources = build_resources(DevSettings(_env_file=None))
    assert services_for(resources) == ("dynamodb", "s3", "sqs")

    @dataclasses.dataclass(frozen=True)
    class Topic:
        name: str

    @dataclasses.dataclass(frozen=True)
    class MoreResources(Resources):
        topic: Topic = Topic("t")

    more = MoreResources(**{f.name: getattr(resources, f.name) for f in dataclasses.fields(Resources) if f.init})
    with pytest.raises(TypeError, match="Topic"):
        services_for(more)


def test_a_folder_is_used_by_one_process_at_a_time(tmp_path: Path) -> None:
    first = StateStore(tmp_path / "data")
    first.open()
    try:
        with pytest.raises(StateError, match="in use"):
            StateStore(tmp_path / "data").open(wait_seconds=0)
    finally:
        first.close()
    second = StateStore(tmp_path / "data")
    second.open(wait_seconds=0)
    second.close()


def test_s3_bodies_are_stored_apart_once_and_locks_come_back_fresh(tmp_path: Path) -> None:
    from moto.s3.models import FakeKey

    store = StateStore(tmp_path)
    store.open()
    key = FakeKey("audio/a.flac", b"\x00audio" * 1000, account_id="123456789012", region_name="us-east-1")
    key.etag  # noqa: B018 - moto computes it when a PUT answers
    state = {"keys": [key, key], "guard": threading.Condition(), "lock": threading.Lock()}
    payload, bodies, named = dump_state(state, store.object_names())
    assert list(bodies.values()) == [key.value] and named == set(bodies)
    assert key.value not in payload  # the body is a file of its own, not part of every snapshot
    store.write_objects(bodies)
    assert dump_state(state, store.object_names())[1] == {}  # written once

    loaded = load_state(payload, store)
    assert loaded["keys"][0] is loaded["keys"][1]
    assert loaded["keys"][0].value == key.value and loaded["keys"][0].etag == key.etag
    assert isinstance(loaded["guard"], threading.Condition) and loaded["lock"].acquire(blocking=False)
    store.close()


def _app(calls: list[str], hold: threading.Event):
    def app(environ, start_response):
        calls.append(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode())
        hold.wait(5)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    return app


def _environ(body: bytes, target: str = "DynamoDB_20120810.PutItem") -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_X_AMZ_TARGET": target,
    }


def test_a_snapshot_waits_for_requests_in_flight_and_holds_new_ones(tmp_path: Path) -> None:
    calls: list[str] = []
    hold = threading.Event()
    gate = RequestGate(_app(calls, hold))
    in_flight = threading.Thread(target=lambda: list(gate(_environ(b"first"), lambda *a: None)))
    in_flight.start()
    while not calls:
        time.sleep(0.01)
    paused = threading.Event()

    def snapshot() -> None:
        with gate.paused():
            paused.set()
            time.sleep(0.2)
            assert calls == ["first"]  # the request that arrived meanwhile has not run

    snapshotter = threading.Thread(target=snapshot)
    snapshotter.start()
    time.sleep(0.1)
    assert not paused.is_set()  # the request in flight finishes first
    hold.set()
    in_flight.join()
    paused.wait(2)
    later = threading.Thread(target=lambda: list(gate(_environ(b"second"), lambda *a: None)))
    later.start()
    snapshotter.join()
    later.join()
    assert calls == ["first", "second"] and gate.changes == 2


def test_a_long_poll_waits_outside_the_gate_and_wakes_on_a_send() -> None:
    calls: list[str] = []
    sent = threading.Event()

    def sqs(environ, start_response):
        calls.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])).decode())
        if environ["HTTP_X_AMZ_TARGET"] == "AmazonSQS.SendMessage":
            sent.set()
        start_response("200 OK", [])
        return [json.dumps({"Messages": [{"Body": "job"}]}).encode() if sent.is_set() else b"{}"]

    gate = RequestGate(sqs)
    receive = json.dumps({"QueueUrl": "q", "WaitTimeSeconds": 5}).encode()
    result: list[bytes] = []
    poller = threading.Thread(target=lambda: result.extend(gate(_environ(receive, "AmazonSQS.ReceiveMessage"), lambda *a: None)))
    started = time.monotonic()
    poller.start()
    time.sleep(0.2)
    with gate.paused():  # a snapshot is not held back by the waiting poll
        pass
    list(gate(_environ(b"{}", "AmazonSQS.SendMessage"), lambda *a: None))
    poller.join(5)
    assert time.monotonic() - started < 1.5
    assert json.loads(result[0])["Messages"] == [{"Body": "job"}]
    assert all(json.loads(c or "{}").get("WaitTimeSeconds", 0) == 0 for c in calls)


def test_a_process_that_imported_a_native_thread_pool_is_never_forked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # numpy's OpenBLAS joins its workers in a pre-fork handler: forking `grabadora dev`'s
    # process deadlocked it (GIL held). Snapshots run in grabadora.local.emulator_process.
    persistence = EmulatorPersistence(tmp_path, build_resources(DevSettings(_env_file=None)))
    persistence.wrap(_app([], threading.Event()))
    forks: list[int] = []
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or 0)
    for module in NATIVE_POOL_MODULES:
        with monkeypatch.context() as m:
            m.setitem(sys.modules, module, object())
            with pytest.raises(StateError, match=rf"imported (.*, )?{module}(, .*)?: .*emulator_process"):
                persistence.save()
    assert forks == [] and not persistence.store.state_path.exists()
