"""A small Python client of the Grabadora HTTP API (the CLI, tests and benchmarks use it)."""

from __future__ import annotations

import json
import mimetypes
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx
from httpx_sse import connect_sse


class ApiError(Exception):
    """The server answered with an error status; `detail` is its reason."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class StreamEvent:
    id: int
    event: str
    data: dict[str, Any]


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = response.text
    raise ApiError(response.status_code, detail)


def _code(response: httpx.Response) -> str | None:
    try:
        return response.json().get("code")
    except (ValueError, AttributeError):
        return None


class GrabadoraClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        # One connection pool for the API, the storage PUTs and the event streams: building an
        # httpx.Client builds an SSL context from the TLS trust store (~50 ms here, ~40 of them
        # the SSL context), which a per-call client paid on every upload and every stream
        # (docs/BENCHMARKS.md, pipeline fixed cost).
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GrabadoraClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def signup(self, email: str, password: str) -> dict:
        response = self._http.post("auth/signup", json={"email": email, "password": password})
        _raise_for(response)
        return response.json()

    def sign_in(self, email: str, password: str) -> str:
        response = self._http.post("auth/token", data={"username": email, "password": password})
        _raise_for(response)
        self.token = response.json()["access_token"]
        return self.token

    def create_upload(self, filename: str, content_type: str, size: int) -> dict:
        response = self._http.post(
            "uploads", json={"filename": filename, "content_type": content_type, "size": size}, headers=self._auth
        )
        _raise_for(response)
        return response.json()

    def put_file(self, upload: dict, path: str, on_bytes: Callable[[int], None] | None = None) -> None:
        """PUT the file to its presigned URL, reporting bytes sent."""
        size = os.path.getsize(path)

        def chunks() -> Iterator[bytes]:
            with open(path, "rb") as f:
                while chunk := f.read(256 * 1024):
                    if on_bytes:
                        on_bytes(len(chunk))
                    yield chunk

        headers = {**upload["headers"], "Content-Length": str(size)}
        # An absolute URL: the client's base_url does not apply, and no API token is sent.
        response = self._http.put(upload["url"], content=chunks(), headers=headers, timeout=300)
        if not response.is_success:
            raise ApiError(response.status_code, f"upload to storage failed: {response.text[:200]}")

    def upload(self, path: str, on_bytes: Callable[[int], None] | None = None) -> str:
        """Upload a local file; returns its upload_id."""
        name = os.path.basename(path)
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        upload = self.create_upload(name, content_type, os.path.getsize(path))
        self.put_file(upload, path, on_bytes)
        return upload["upload_id"]

    def transcribe(self, upload_id: str, **options: Any) -> dict:
        body = {"upload_id": upload_id, **{k: v for k, v in options.items() if v is not None}}
        response = self._http.post("transcribe", json=body, headers=self._auth)
        _raise_for(response)
        return response.json()

    def transcribe_file(self, path: str, **options: Any) -> dict:
        """Send a small file in the request itself (multipart)."""
        name = os.path.basename(path)
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        data = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in options.items() if v is not None}
        with open(path, "rb") as f:
            response = self._http.post(
                "transcribe", files={"file": (name, f, content_type)}, data=data, headers=self._auth
            )
        _raise_for(response)
        return response.json()

    def events(self, stream_url: str, last_event_id: int | None = None, max_reconnects: int = 20) -> Iterator[StreamEvent]:
        """The job's events until `completed` or `error`, reconnecting with Last-Event-ID if cut.

        A stream may end before the job does, on purpose (the relay's `stream_max_seconds`,
        under Lambda's 15-minute limit) or not (a dropped connection): either way the client
        comes back after the last event it got, waiting what the server's `retry:` asked for.
        Only ends that bring no event count against `max_reconnects`.
        """
        url = urljoin(self.base_url, stream_url)
        attempts = 0
        retry_ms: int | None = None
        while True:
            headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
            try:
                with connect_sse(self._http, "GET", url, headers=headers, timeout=httpx.Timeout(10.0, read=60.0)) as source:
                    if not source.response.is_success:
                        source.response.read()
                        _raise_for(source.response)
                    for sse in source.iter_sse():
                        if sse.retry is not None:
                            retry_ms = sse.retry
                        if not sse.data:
                            continue  # a heartbeat comment, or the relay's retry hint before it ends the stream
                        event = StreamEvent(int(sse.id), sse.event, json.loads(sse.data))
                        last_event_id = event.id
                        attempts = 0
                        yield event
                        if event.event in ("completed", "error"):
                            return
                # The server ended the stream before the job's end: resume where it stopped.
                attempts += 1
                if attempts > max_reconnects:
                    raise ApiError(503, "the event stream keeps ending without events")
                time.sleep(retry_ms / 1000 if retry_ms is not None else min(0.2 * 2**attempts, 5.0))
            except (httpx.TransportError, httpx.RemoteProtocolError):
                attempts += 1
                if attempts > max_reconnects:
                    raise
                time.sleep(min(0.2 * 2**attempts, 5.0))

    # Live sessions --------------------------------------------------------------------------

    def start_live(self, *, idempotency_key: str | None = None, retries: int = 3, **options: Any) -> dict:
        """POST /live: a session whose audio goes to `send_frame` and words to `events(stream_url)`.

        Sent with an `Idempotency-Key` (a new UUID unless given) and retried with the same key
        after a dropped connection or a 5xx, so a lost answer never starts a second session.
        """
        body = {k: v for k, v in options.items() if v is not None}
        headers = {**self._auth, "Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        for attempt in range(retries + 1):
            try:
                response = self._http.post("live", json=body, headers=headers)
            except httpx.TransportError:
                if attempt == retries:
                    raise
                time.sleep(min(0.2 * 2**attempt, 3.0))
                continue
            # 409 `idempotency_key_in_use`: the first try is still starting the session.
            busy = response.status_code == 409 and _code(response) == "idempotency_key_in_use"
            if (response.status_code >= 500 or busy) and attempt < retries:
                time.sleep(min(0.2 * 2**attempt, 3.0))
                continue
            _raise_for(response)
            return response.json()
        raise AssertionError("unreachable")

    def cancel_live(self, live_id: str) -> dict:
        """POST /live/{id}/cancel: discard the session (nothing is kept); safe to repeat."""
        response = self._http.post(f"live/{live_id}/cancel", headers=self._auth)
        _raise_for(response)
        return response.json()

    def send_frame(self, live_id: str, seq: int, pcm: bytes, retries: int = 5) -> None:
        """One frame of PCM16 mono 16 kHz audio; retried on a dropped connection (a repeat is a no-op)."""
        for attempt in range(retries + 1):
            try:
                response = self._http.post(
                    f"live/{live_id}/audio", params={"seq": seq}, content=pcm,
                    headers={**self._auth, "Content-Type": "audio/pcm;rate=16000"},
                )
            except httpx.TransportError:
                if attempt == retries:
                    raise
                time.sleep(min(0.2 * 2**attempt, 3.0))
                continue
            if response.status_code >= 500 and attempt < retries:
                time.sleep(min(0.2 * 2**attempt, 3.0))
                continue
            _raise_for(response)
            return

    def stop_live(self, live_id: str, frames: int | None = None) -> dict:
        response = self._http.post(f"live/{live_id}/stop", json={"frames": frames}, headers=self._auth)
        _raise_for(response)
        return response.json()

    def stream_live(
        self, live_id: str, pcm: bytes, *, frame_seconds: float = 0.5, speed: float | None = 1.0,
        on_sent: Callable[[int, float], None] | None = None,
    ) -> int:
        """Send a whole recording as a microphone would: frames at `speed`× real time (None: at
        once), then stop. Returns the number of frames sent."""
        frame_bytes = int(frame_seconds * 16000) * 2
        started = time.monotonic()
        seq = 0
        for seq, start in enumerate(range(0, len(pcm), frame_bytes)):
            chunk = pcm[start : start + frame_bytes]
            if speed:
                # A microphone delivers a frame once it has been spoken.
                due = started + (start + len(chunk)) / 2 / 16000 / speed
                time.sleep(max(0.0, due - time.monotonic()))
            self.send_frame(live_id, seq, chunk)
            if on_sent is not None:
                on_sent(seq, (start + len(chunk)) / 2 / 16000)
        frames = seq + 1 if pcm else 0
        self.stop_live(live_id, frames)
        return frames

    def get_transcript(self, transcript_id: str) -> dict:
        response = self._http.get(f"transcripts/{transcript_id}", headers=self._auth)
        _raise_for(response)
        return response.json()

    # The library --------------------------------------------------------------------------

    def list_transcripts(
        self, search: str | None = None, status: str | None = None, limit: int = 20, cursor: str | None = None,
        source_sha256: str | None = None,
    ) -> dict:
        asked = {"search": search, "status": status, "limit": limit, "cursor": cursor, "source_sha256": source_sha256}
        params = {k: v for k, v in asked.items() if v is not None}
        response = self._http.get("transcripts", params=params, headers=self._auth)
        _raise_for(response)
        return response.json()

    def update_transcript(self, transcript_id: str, **changes: Any) -> dict:
        """title=..., tags=[...], segments=[{"id": 0, "text": "..."}]"""
        response = self._http.patch(f"transcripts/{transcript_id}", json=changes, headers=self._auth)
        _raise_for(response)
        return response.json()

    def download(self, transcript_id: str, fmt: str = "txt") -> httpx.Response:
        response = self._http.get(f"transcripts/{transcript_id}/download", params={"format": fmt}, headers=self._auth)
        _raise_for(response)
        return response

    def delete_transcript(self, transcript_id: str) -> None:
        _raise_for(self._http.delete(f"transcripts/{transcript_id}", headers=self._auth))

    def export(self, transcript_id: str, destination: str, **options: Any) -> dict:
        response = self._http.post(
            f"transcripts/{transcript_id}/export", json={"destination": destination, **options}, headers=self._auth
        )
        _raise_for(response)
        return response.json()

    def integrations(self) -> dict:
        response = self._http.get("me/integrations", headers=self._auth)
        _raise_for(response)
        return response.json()

    def set_integrations(self, **changes: Any) -> dict:
        response = self._http.put("me/integrations", json=changes, headers=self._auth)
        _raise_for(response)
        return response.json()

    def usage(self) -> dict:
        response = self._http.get("me/usage", headers=self._auth)
        _raise_for(response)
        return response.json()
