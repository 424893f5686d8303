"""Exports end to end: the exports queue on the emulator, the real `ExporterRunner` and Lambda
handler, and local stand-ins for Notion, Trello and webhook receivers that check each request
against the provider's documented shape (headers, JSON structure, limits)."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from grabadora.adapters.queues import ExportQueue
from grabadora.adapters.object_store import ObjectStore
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.adapters.user_state import UserStateTable
from grabadora.formats import apply_corrections, plain_text
from grabadora.integrations import units
from grabadora.integrations.webhook import verify_signature
from grabadora.local.exporter_runner import ExporterRunner
from grabadora.models import ExportDelivery, ExportDestination, ExportMessage, Segment, Transcript, TranscriptItem, utc_now
from grabadora.services.exports import DeliveryOutcome, deliver_export
from grabadora.settings import IntegrationSettings, get_settings, settings_as

NOTION_TOKEN = "secret_notion_token_123"
TRELLO_KEY, TRELLO_TOKEN = "trello-key-abc", "trello-token-xyz"
WEBHOOK_SECRET = "whsec-0123456789abcdef"
CORRECTED = "Texto corregido por la usuaria."


# Local providers --------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Reply = tuple[int, dict[str, Any] | None]


@dataclass
class Provider:
    """A loopback HTTP server: `respond` checks a request (asserts) and answers; both are recorded.

    A failed check answers 400 with the reason and is kept in `violations`, so a test fails on
    the shape it got wrong instead of on a timeout."""

    respond: Callable[[Request], Reply]
    requests: list[Request] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = Request(self.command, parts.path, parse_qs(parts.query),
                                  {k.lower(): v for k, v in self.headers.items()}, body)
                provider.requests.append(request)
                try:
                    status, payload = provider.respond(request)
                except AssertionError as e:
                    provider.violations.append(f"{request.method} {request.path}: {e}")
                    status, payload = 400, {"object": "error", "message": f"shape check failed: {e}"}
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                if payload is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PATCH = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeNotion:
    """Notion's pages and block-children endpoints (API version 2022-06-28)."""

    def __init__(self) -> None:
        self.pages: dict[str, dict[str, Any]] = {}
        self.failed_appends: set[str] = set()

    def __call__(self, request: Request) -> Reply:
        assert request.headers.get("authorization") == f"Bearer {NOTION_TOKEN}", "Authorization: Bearer <token>"
        assert request.headers.get("notion-version") == "2022-06-28", "Notion-Version header"
        assert request.headers.get("content-type") == "application/json", "Content-Type: application/json"
        assert len(request.body) <= 500_000, "payload over 500 KB"
        body = request.json()
        children = body["children"]
        assert isinstance(children, list) and len(children) <= 100, f"{len(children)} blocks in one request"
        for block in children:
            assert set(block) == {"object", "type", "paragraph"}
            assert (block["object"], block["type"]) == ("block", "paragraph")
            (rich,) = block["paragraph"]["rich_text"]
            assert rich["type"] == "text" and 0 < units(rich["text"]["content"]) <= 2000, "rich text over 2,000"
        if request.method == "POST" and request.path == "/v1/pages":
            assert set(body) == {"parent", "properties", "children"}
            database = body["parent"]["database_id"]
            if database == "db-rejected":
                return 400, {"object": "error", "status": 400, "code": "validation_error",
                             "message": "Name is not a property that exists."}
            (title,) = body["properties"]["title"]["title"]
            page_id = str(uuid.uuid4())
            url = f"https://www.notion.so/{page_id.replace('-', '')}"
            self.pages[page_id] = {"database": database, "title": title["text"]["content"], "url": url,
                                   "blocks": list(children), "batches": [len(children)]}
            return 200, {"object": "page", "id": page_id, "url": url}
        assert request.method == "PATCH" and re.fullmatch(r"/v1/blocks/[0-9a-f-]+/children", request.path)
        assert set(body) == {"children"}
        page_id = request.path.split("/")[3]
        assert page_id in self.pages, "append to an unknown page"
        if self.pages[page_id]["database"] == "db-flaky-append" and page_id not in self.failed_appends:
            self.failed_appends.add(page_id)  # the first append fails once: the retry must resume, not restart
            return 502, {"object": "error", "status": 502, "code": "bad_gateway", "message": "Bad gateway"}
        self.pages[page_id]["blocks"].extend(children)
        self.pages[page_id]["batches"].append(len(children))
        return 200, {"object": "list", "results": children}


class FakeTrello:
    """Trello's cards and attachments endpoints."""

    def __init__(self) -> None:
        self.cards: dict[str, dict[str, Any]] = {}

    def __call__(self, request: Request) -> Reply:
        assert request.method == "POST"
        assert "key" not in request.query and "token" not in request.query, "credentials must not be in the URL"
        if request.path == "/1/cards":
            assert request.headers["content-type"] == "application/x-www-form-urlencoded"
            form = {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
            assert (form["key"], form["token"]) == (TRELLO_KEY, TRELLO_TOKEN), "key and token"
            assert form["idList"] == "list-1" and form["name"]
            assert units(form["desc"]) <= 16_384, "description over 16,384 characters"
            card_id = uuid.uuid4().hex[:24]
            url = f"https://trello.com/c/{card_id[:8]}/1-entrevista"
            self.cards[card_id] = {**form, "url": url, "attachments": []}
            return 200, {"id": card_id, "url": url, "shortUrl": f"https://trello.com/c/{card_id[:8]}"}
        card_id = request.path.split("/")[3]
        assert request.path == f"/1/cards/{card_id}/attachments" and card_id in self.cards
        assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
        raw = b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n" + request.body
        message = BytesParser(policy=default_policy).parsebytes(raw)
        parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
        assert (parts["key"].get_content(), parts["token"].get_content()) == (TRELLO_KEY, TRELLO_TOKEN)
        filename = parts["file"].get_filename()
        assert filename.endswith(".txt") and parts["name"].get_content() == filename
        self.cards[card_id]["attachments"].append(parts["file"].get_payload(decode=True).decode())
        return 200, {"id": uuid.uuid4().hex[:24], "name": parts["name"].get_content()}


class FakeReceiver:
    """Webhook receivers: /ok verifies and accepts, /flaky fails twice with 503, /down always fails."""

    def __init__(self) -> None:
        self.accepted: list[dict[str, Any]] = []
        self.calls: dict[str, int] = {}

    def __call__(self, request: Request) -> Reply:
        assert request.headers["content-type"] == "application/json"
        timestamp = request.headers["x-grabadora-timestamp"]
        signature = request.headers["x-grabadora-signature"]
        assert verify_signature(WEBHOOK_SECRET, timestamp, request.body, signature), "bad signature"
        export_id = request.headers["x-grabadora-export-id"]
        event = request.json()
        assert event["event"] == "transcript.exported" and event["export_id"] == export_id
        fields = {"id", "title", "tags", "language", "duration", "created_at", "text", "segments"}
        assert set(event["transcript"]) == fields
        self.calls[export_id] = self.calls.get(export_id, 0) + 1
        if request.path == "/down" or (request.path == "/flaky" and self.calls[export_id] <= 2):
            return 503, None
        self.accepted.append(event)
        return 204, None


# Fixtures and helpers ---------------------------------------------------------------------------


@dataclass
class Stack:
    notion: FakeNotion
    trello: FakeTrello
    receiver: FakeReceiver
    webhook_url: str
    providers: list[Provider]


@pytest.fixture(scope="module")
def stack(aws_endpoint: str) -> Iterator[Stack]:
    """The fake providers, settings pointing at them, and a running `ExporterRunner`."""
    notion, trello, receiver = FakeNotion(), FakeTrello(), FakeReceiver()
    providers = [Provider(notion), Provider(trello), Provider(receiver)]
    stop = threading.Event()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRABADORA_NOTION_API_URL", providers[0].url)
        mp.setenv("GRABADORA_TRELLO_API_URL", providers[1].url)
        mp.setenv("GRABADORA_WEBHOOK_ALLOW_PRIVATE", "true")
        mp.setenv("GRABADORA_EXPORT_BACKOFF_SECONDS", "0.2")
        mp.setenv("GRABADORA_EXPORT_MAX_ATTEMPTS", "3")
        mp.setenv("GRABADORA_EXPORT_TIMEOUT_SECONDS", "5")
        get_settings.cache_clear()
        thread = threading.Thread(target=ExporterRunner(stop).run, name="exporter", daemon=True)
        thread.start()
        try:
            yield Stack(notion, trello, receiver, providers[2].url, providers)
        finally:
            stop.set()
            thread.join(timeout=10)
            for provider in providers:
                provider.close()
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def shapes_respected(stack: Stack) -> Iterator[None]:
    yield
    violations = [v for p in stack.providers for v in p.violations]
    assert violations == []


def document(job_id: str, paragraphs: list[str]) -> dict[str, Any]:
    """A transcript whose segments are far enough apart to be one paragraph each."""
    segments = [Segment(id=n, t0=n * 10.0, t1=n * 10.0 + 5, text=" " + text) for n, text in enumerate(paragraphs)]
    return Transcript(
        job_id=job_id, language="es", duration=len(paragraphs) * 10.0, quality_profile="balanced", model="tiny",
        text="".join(s.text for s in segments).strip(), segments=segments,
    ).model_dump(mode="json")


def submit(
    destination: ExportDestination,
    paragraphs: list[str],
    integrations: dict[str, dict[str, Any]],
    options: dict[str, Any] | None = None,
) -> tuple[str, str, str, dict[str, Any]]:
    """A completed transcript (segment 0 corrected) with one export queued, as the API records it."""
    user_id, transcript_id, export_id = f"user-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex, uuid.uuid4().hex
    doc = document(transcript_id, paragraphs)
    key = f"transcripts/{user_id}/{transcript_id}.json"
    ObjectStore().put_json(key, doc)
    now = utc_now()
    TranscriptsTable().create(TranscriptItem(
        user_id=user_id, transcript_id=transcript_id, status="completed", title="Entrevista con María",
        tags=["radio"], language="es", duration=doc["duration"], transcript_key=key,
        corrections={"0": CORRECTED}, created_at=now, updated_at=now,
    ))
    UserStateTable(secrets_key=settings_as(IntegrationSettings).secrets_key).put_integrations(user_id, integrations)
    TranscriptsTable().add_export(user_id, transcript_id, export_id, ExportDelivery(
        destination=destination, status="queued", created_at=now, updated_at=now,
    ))
    message = ExportMessage(export_id=export_id, user_id=user_id, transcript_id=transcript_id,
                            destination=destination, options=options or {})
    ExportQueue().send(message.model_dump_json())
    return user_id, transcript_id, export_id, apply_corrections(doc, {0: CORRECTED})


def outcome(user_id: str, transcript_id: str, export_id: str, timeout: float = 15) -> dict[str, Any]:
    """The export record once it is delivered or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = TranscriptsTable().get(user_id, transcript_id).exports[export_id].model_dump()
        if record["status"] in ("delivered", "failed"):
            return record
        time.sleep(0.1)
    raise AssertionError(f"export still {record['status']} after {timeout}s: {record}")


def notion_settings(database_id: str = "db-1") -> dict[str, dict[str, Any]]:
    return {"notion": {"token": NOTION_TOKEN, "database_id": database_id}}


def webhook_settings(stack: Stack, path: str) -> dict[str, dict[str, Any]]:
    return {"webhook": {"url": f"{stack.webhook_url}{path}", "secret": WEBHOOK_SECRET}}


# Tests ------------------------------------------------------------------------------------------


def test_a_long_transcript_becomes_one_notion_page_created_then_appended(stack: Stack) -> None:
    paragraphs = [f"Párrafo número {n} de la entrevista." for n in range(230)] + [" ".join(["larguísimo"] * 500)]
    user_id, tid, export_id, corrected = submit(ExportDestination.NOTION, paragraphs, notion_settings())
    record = outcome(user_id, tid, export_id)
    assert record["status"] == "delivered", record
    assert record["attempts"] == 1 and record["delivered_at"]
    (page,) = [p for p in stack.notion.pages.values() if p["url"] == record["url"]]
    assert page["title"] == "Entrevista con María"
    texts = [b["paragraph"]["rich_text"][0]["text"]["content"] for b in page["blocks"]]
    assert len(texts) == 230 + 3  # the 5,499-character paragraph went as three blocks
    assert texts[0] == CORRECTED and " ".join(texts) == " ".join(plain_text(corrected).split("\n\n"))
    assert page["batches"] == [100, 100, 33]


def test_a_notion_append_that_fails_once_is_resumed_on_the_same_page(stack: Stack) -> None:
    paragraphs = [f"Frase {n}." for n in range(150)]
    user_id, tid, export_id, _ = submit(ExportDestination.NOTION, paragraphs, notion_settings("db-flaky-append"))
    record = outcome(user_id, tid, export_id)
    assert (record["status"], record["attempts"]) == ("delivered", 2), record
    (page,) = [p for p in stack.notion.pages.values() if p["database"] == "db-flaky-append"]
    assert len(page["blocks"]) == 150  # one page, every block once


def test_notion_refusing_the_page_fails_at_once_with_its_reason(stack: Stack) -> None:
    user_id, tid, export_id, _ = submit(ExportDestination.NOTION, ["Hola."], notion_settings("db-rejected"))
    record = outcome(user_id, tid, export_id)
    assert (record["status"], record["attempts"]) == ("failed", 1)
    assert record["last_error"] == "Notion answered 400 Bad Request: Name is not a property that exists."


def test_a_trello_card_gets_a_truncated_description_and_the_full_text_attached(stack: Stack) -> None:
    paragraphs = [f"Segmento {n}: " + "bla " * 100 for n in range(60)]  # about 25,000 characters
    integrations = {"trello": {"key": TRELLO_KEY, "token": TRELLO_TOKEN, "list_id": "list-1"}}
    user_id, tid, export_id, corrected = submit(ExportDestination.TRELLO, paragraphs, integrations)
    record = outcome(user_id, tid, export_id)
    assert record["status"] == "delivered", record
    (card,) = [c for c in stack.trello.cards.values() if c["url"] == record["url"]]
    assert card["name"] == "Entrevista con María" and card["desc"].startswith(CORRECTED)
    assert "full transcript is attached" in card["desc"]
    assert card["attachments"] == [plain_text(corrected) + "\n"]


def test_a_webhook_is_signed_and_carries_the_corrected_transcript(stack: Stack) -> None:
    integrations = webhook_settings(stack, "/ok")
    user_id, tid, export_id, corrected = submit(ExportDestination.WEBHOOK, ["Hola.", "Adiós."], integrations)
    record = outcome(user_id, tid, export_id)
    assert (record["status"], record["attempts"]) == ("delivered", 1)
    (event,) = [e for e in stack.receiver.accepted if e["export_id"] == export_id]
    transcript = event["transcript"]
    assert (transcript["id"], transcript["title"], transcript["tags"]) == (tid, "Entrevista con María", ["radio"])
    assert transcript["text"] == corrected["text"] and transcript["text"].startswith(CORRECTED)
    assert [s["text"] for s in transcript["segments"]] == [CORRECTED, "Adiós."]
    assert set(transcript["segments"][0]) == {"id", "t0", "t1", "text", "speaker"}


def test_a_receiver_failing_twice_gets_the_third_attempt(stack: Stack) -> None:
    started = time.monotonic()
    user_id, tid, export_id, _ = submit(ExportDestination.WEBHOOK, ["Hola."], webhook_settings(stack, "/flaky"))
    record = outcome(user_id, tid, export_id)
    assert (record["status"], record["attempts"]) == ("delivered", 3), record
    assert record["last_error"] == "the webhook answered 503 Service Unavailable"
    assert stack.receiver.calls[export_id] == 3
    assert time.monotonic() - started < 10  # back-off, not the queue's 60 s visibility timeout


def test_a_receiver_that_never_answers_well_fails_after_the_last_attempt(stack: Stack) -> None:
    user_id, tid, export_id, _ = submit(ExportDestination.WEBHOOK, ["Hola."], webhook_settings(stack, "/down"))
    record = outcome(user_id, tid, export_id)
    assert (record["status"], record["attempts"]) == ("failed", 3), record
    assert record["last_error"] == "the webhook answered 503 Service Unavailable (gave up after 3 attempts)"
    assert stack.receiver.calls[export_id] == 3


def test_missing_configuration_fails_at_once_saying_what_to_add(stack: Stack) -> None:
    no_secret = {"webhook": {"url": f"{stack.webhook_url}/ok"}}
    user_id, tid, export_id, _ = submit(ExportDestination.WEBHOOK, ["Hola."], no_secret)
    record = outcome(user_id, tid, export_id)
    assert (record["status"], record["attempts"]) == ("failed", 1)
    assert record["last_error"] == "The webhook is not configured: add a signing secret in Settings"


def test_an_unreadable_message_does_not_hold_up_the_others(stack: Stack) -> None:
    ExportQueue().send('{"not": "an export"}')
    user_id, tid, export_id, _ = submit(ExportDestination.WEBHOOK, ["Hola."], webhook_settings(stack, "/ok"))
    assert outcome(user_id, tid, export_id)["status"] == "delivered"


def test_a_deleted_transcript_is_dropped_without_retries(stack: Stack) -> None:
    message = ExportMessage(export_id="e1", user_id="nobody", transcript_id="gone", destination="webhook")
    assert deliver_export(message, 1) == DeliveryOutcome.GONE
