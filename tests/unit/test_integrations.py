"""The integrations' pure parts and their HTTP shapes, against httpx mock transports (no network)."""

from __future__ import annotations

import json
import socket
import threading
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from grabadora.formats import Rendered
from grabadora.integrations import PermanentDeliveryError, TransientDeliveryError, send, split_at_words, units
from grabadora.integrations import netguard, notion, trello, webhook
from grabadora.services.exports import max_attempts, retry_delay
from grabadora.settings import DevSettings

# netguard -------------------------------------------------------------------------------------


def resolving_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> list[str]:
    """Make every lookup answer `addresses`; returns the hosts that were looked up."""
    looked_up: list[str] = []

    def fake_getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple]:
        looked_up.append(host)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    monkeypatch.setattr(netguard.socket, "getaddrinfo", fake_getaddrinfo)
    return looked_up


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::1111"])
def test_public_addresses_are_allowed(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    resolving_to(monkeypatch, address)
    assert [str(a) for a in netguard.check_url("https://hooks.example.com/x", allow_private=False)] == [address]


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.7", "172.16.3.4", "192.168.1.10", "127.0.0.1", "0.0.0.0", "169.254.169.254", "100.64.0.1",
        "224.0.0.251", "240.0.0.1", "255.255.255.255",
        "::1", "::", "fe80::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
        "64:ff9b::a00:1", "2002:7f00:1::1",
    ],
)
def test_private_loopback_link_local_multicast_and_reserved_addresses_are_refused(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    resolving_to(monkeypatch, address)
    with pytest.raises(PermanentDeliveryError, match="only to public addresses"):
        netguard.check_url("https://hooks.example.com/x", allow_private=False)


def test_one_private_address_among_public_ones_is_enough_to_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving_to(monkeypatch, "93.184.215.14", "10.1.2.3")
    with pytest.raises(PermanentDeliveryError, match="private or reserved") as caught:
        netguard.check_url("http://rebind.example.com/", allow_private=False)
    # The reason, shown to the user, never says which internal address the name resolves to
    assert "10.1.2.3" not in caught.value.reason and "93.184" not in caught.value.reason


def test_allow_private_skips_the_address_check(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up = resolving_to(monkeypatch, "127.0.0.1")
    assert netguard.check_url("http://127.0.0.1:8080/hook", allow_private=True) == []
    assert looked_up == []


@pytest.mark.parametrize("url", ["ftp://hooks.example.com/x", "file:///etc/passwd", "gopher://h/x", "not a url"])
@pytest.mark.parametrize("allow_private", [False, True])
def test_only_http_and_https_are_accepted(url: str, allow_private: bool) -> None:
    with pytest.raises(PermanentDeliveryError, match="http:// or https://|not a valid URL"):
        netguard.check_url(url, allow_private=allow_private)


def test_an_unresolvable_host_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*args: Any, **kwargs: Any) -> list[tuple]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(netguard.socket, "getaddrinfo", no_such_host)
    with pytest.raises(TransientDeliveryError, match="could not be resolved"):
        netguard.check_url("https://nowhere.invalid/", allow_private=False)


# webhook signatures ---------------------------------------------------------------------------

SECRET = "a-webhook-secret-of-some-length"
BODY = b'{"event":"transcript.exported","export_id":"01J"}'


def test_a_signature_verifies_for_the_exact_body_secret_and_a_recent_timestamp() -> None:
    signature = webhook.sign(SECRET, 1_700_000_000, BODY)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert webhook.verify_signature(SECRET, "1700000000", BODY, signature, now=1_700_000_100)


@pytest.mark.parametrize(
    "secret, timestamp, body",
    [
        (SECRET, "1700000000", BODY.replace(b"01J", b"01K")),  # tampered body
        (SECRET, "1700000001", BODY),  # timestamp changed: it is signed too
        ("another-secret-entirely-000", "1700000000", BODY),
    ],
)
def test_a_tampered_delivery_does_not_verify(secret: str, timestamp: str, body: bytes) -> None:
    signature = webhook.sign(SECRET, 1_700_000_000, BODY)
    assert not webhook.verify_signature(secret, timestamp, body, signature, now=1_700_000_000)


@pytest.mark.parametrize("now", [1_700_000_301, 1_699_999_699])
def test_a_stale_or_future_timestamp_does_not_verify(now: int) -> None:
    signature = webhook.sign(SECRET, 1_700_000_000, BODY)
    assert not webhook.verify_signature(SECRET, "1700000000", BODY, signature, now=now)
    assert webhook.verify_signature(SECRET, "1700000000", BODY, signature, tolerance_s=400, now=now)


@pytest.mark.parametrize("timestamp", ["", "soon", "1.7e9"])
def test_a_malformed_timestamp_does_not_verify(timestamp: str) -> None:
    assert not webhook.verify_signature(SECRET, timestamp, BODY, webhook.sign(SECRET, timestamp, BODY))


def test_a_webhook_connects_to_the_checked_address_keeping_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving_to(monkeypatch, "93.184.215.14")
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(receiver)) as http:
        url = "https://hooks.example.com:8443/in?x=1"
        webhook.deliver(http, url, SECRET, "01EXPORT", {"event": "e"}, allow_private=False)
    (request,) = seen
    assert str(request.url) == "https://93.184.215.14:8443/in?x=1"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert request.headers["x-grabadora-export-id"] == "01EXPORT"
    assert webhook.verify_signature(
        SECRET, request.headers["x-grabadora-timestamp"], request.content, request.headers["x-grabadora-signature"]
    )


# HTTP answers → errors ------------------------------------------------------------------------


def answer(response: httpx.Response | Exception) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(response, Exception):
            raise response
        return response

    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_timeouts_throttling_and_server_errors_are_transient(status: int) -> None:
    with pytest.raises(TransientDeliveryError, match=f"Notion answered {status}") as raised:
        throttled = httpx.Response(status, headers={"Retry-After": "7"})
        send(answer(throttled), "Notion", "POST", "https://notion.test/v1/pages")
    assert raised.value.retry_after == 7


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_other_client_errors_are_permanent_and_quote_the_provider(status: int) -> None:
    body = {"object": "error", "status": status, "code": "bad", "message": "Title is not a property that exists."}
    with pytest.raises(PermanentDeliveryError) as raised:
        send(answer(httpx.Response(status, json=body)), "Notion", "POST", "https://api.notion.com/v1/pages")
    assert raised.value.reason.startswith(f"Notion answered {status}")
    assert raised.value.reason.endswith(": Title is not a property that exists.")


def test_a_redirect_is_refused() -> None:
    with pytest.raises(PermanentDeliveryError, match="redirects are not followed"):
        redirect = httpx.Response(301, headers={"Location": "http://10.0.0.1/"})
        send(answer(redirect), "the webhook", "POST", "https://hooks.example.com/")


@pytest.mark.parametrize(
    "error, words",
    [(httpx.ConnectTimeout("t"), "did not answer in time"), (httpx.ConnectError("refused"), "could not be reached")],
)
def test_network_errors_are_transient_without_the_url(error: Exception, words: str) -> None:
    with pytest.raises(TransientDeliveryError) as raised:
        send(answer(error), "Trello", "POST", "https://api.trello.com/1/cards?token=SECRET")
    assert raised.value.reason == f"Trello {words}"


# Notion ---------------------------------------------------------------------------------------


def contents(blocks: list[dict[str, Any]]) -> list[str]:
    return [block["paragraph"]["rich_text"][0]["text"]["content"] for block in blocks]


def test_long_paragraphs_split_at_word_boundaries_under_2000_characters() -> None:
    words = [f"palabra{n:04}" for n in range(600)]  # 11 characters + a space each
    text = "Primero.\n\n" + " ".join(words)
    pieces = contents(notion.paragraph_blocks(text))
    assert pieces[0] == "Primero."
    assert len(pieces) == 1 + 4 and all(units(p) <= 2000 for p in pieces)
    assert " ".join(pieces[1:]).split() == words  # nothing lost, no word cut


def test_text_limits_count_utf16_units_and_cut_a_word_longer_than_the_limit() -> None:
    assert units("a😀") == 3
    pieces = split_at_words("😀" * 1500, 2000)
    assert [units(p) for p in pieces] == [2000, 1000]
    assert split_at_words("x" * 4500, 2000) == ["x" * 2000, "x" * 2000, "x" * 500]


def test_blocks_go_in_batches_of_at_most_100_and_under_the_size_limit() -> None:
    blocks = notion.paragraph_blocks("\n\n".join(f"Párrafo {n}." for n in range(250)))
    assert [len(b) for b in notion.batches(blocks)] == [100, 100, 50]
    big = notion.paragraph_blocks("\n\n".join("ñ" * 2000 for _ in range(100)))
    sized = notion.batches(big, max_bytes=20_000)
    assert all(len(json.dumps(b, ensure_ascii=False).encode()) <= 20_000 for b in sized) and sum(map(len, sized)) == 100


class FakeNotion:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer secret_abc"
        assert request.headers["notion-version"] == "2022-06-28"
        assert request.headers["content-type"] == "application/json"
        body = json.loads(request.content)
        self.requests.append((request.method, request.url.path, body))
        assert len(body["children"]) <= 100
        if request.method == "POST":
            return httpx.Response(200, json={"object": "page", "id": "page-1", "url": "https://www.notion.so/page-1"})
        return httpx.Response(200, json={"object": "list", "results": []})


def test_a_page_is_created_with_100_blocks_and_the_rest_appended() -> None:
    fake, saved = FakeNotion(), []
    target = notion.NotionTarget("https://notion.test", "2022-06-28", "secret_abc", "db-1", title_property="Name")
    text = "\n\n".join(f"Párrafo {n}." for n in range(250))
    with httpx.Client(transport=httpx.MockTransport(fake)) as http:
        url = notion.create_page(http, target, "Entrevista", text, {}, saved.append)
    assert url == "https://www.notion.so/page-1"
    (method, path, body), *appends = fake.requests
    assert (method, path) == ("POST", "/v1/pages")
    assert body["parent"] == {"database_id": "db-1"}
    assert body["properties"] == {"Name": {"title": [{"text": {"content": "Entrevista"}}]}}
    assert [(m, p, len(b["children"])) for m, p, b in appends] == [
        ("PATCH", "/v1/blocks/page-1/children", 100), ("PATCH", "/v1/blocks/page-1/children", 50)
    ]
    assert contents(body["children"] + appends[0][2]["children"] + appends[1][2]["children"]) == text.split("\n\n")
    assert [s["blocks_sent"] for s in saved] == [100, 200, 250]


def test_a_retry_with_a_checkpoint_finishes_the_same_page() -> None:
    fake = FakeNotion()
    target = notion.NotionTarget("https://notion.test", "2022-06-28", "secret_abc", "db-1")
    text = "\n\n".join(f"Párrafo {n}." for n in range(250))
    checkpoint = {"page_id": "page-9", "page_url": "https://www.notion.so/page-9", "blocks_sent": 100}
    with httpx.Client(transport=httpx.MockTransport(fake)) as http:
        assert notion.create_page(http, target, "T", text, checkpoint, lambda state: None) == checkpoint["page_url"]
    assert [(m, p) for m, p, _ in fake.requests] == [("PATCH", "/v1/blocks/page-9/children")] * 2


# Trello ---------------------------------------------------------------------------------------


def test_a_short_transcript_is_the_whole_description() -> None:
    assert trello.card_description("Hola.\n\nAdiós.") == "Hola.\n\nAdiós."


def test_a_long_transcript_is_cut_at_a_word_within_the_limit_with_a_note() -> None:
    text = " ".join(f"palabra{n:05}" for n in range(3000))  # 38,999 characters
    desc = trello.card_description(text)
    assert units(desc) <= 16_384 and desc.endswith(trello.TRUNCATION_NOTE)
    kept = desc.removesuffix(trello.TRUNCATION_NOTE)
    assert text.startswith(kept) and text[len(kept)] == " "
    assert units(desc) > 16_384 - 12 - len(trello.TRUNCATION_NOTE)


def multipart_fields(request: httpx.Request) -> dict[str, tuple[str | None, bytes]]:
    raw = b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n" + request.content
    message = BytesParser(policy=default_policy).parsebytes(raw)
    return {part.get_param("name", header="content-disposition"): (part.get_filename(), part.get_payload(decode=True))
            for part in message.iter_parts()}


def test_a_card_is_created_with_credentials_in_the_body_then_the_text_attached() -> None:
    requests: list[httpx.Request] = []

    def fake_trello(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        assert "token" not in request.url.query.decode() and "key" not in request.url.query.decode()
        if request.url.path == "/1/cards":
            card = {"id": "c1", "url": "https://trello.com/c/Ab1/7-t", "shortUrl": "https://trello.com/c/Ab1"}
            return httpx.Response(200, json=card)
        return httpx.Response(200, json={"id": "a1"})

    target = trello.TrelloTarget("https://trello.test", "k", "t", "list-1")
    attachment = Rendered(b"Hola.\n", "text/plain; charset=utf-8", "entrevista.txt")
    saved: list[dict[str, Any]] = []
    with httpx.Client(transport=httpx.MockTransport(fake_trello)) as http:
        url = trello.create_card(http, target, "Entrevista", "Hola.", attachment, {}, saved.append)
    assert url == "https://trello.com/c/Ab1/7-t" and saved == [{"card_id": "c1", "card_url": url}]
    card, attach = requests
    form = {k: v[0] for k, v in parse_qs(card.content.decode()).items()}
    assert form == {"key": "k", "token": "t", "idList": "list-1", "name": "Entrevista", "desc": "Hola.", "pos": "top"}
    assert attach.url.path == "/1/cards/c1/attachments"
    fields = multipart_fields(attach)
    assert fields["file"] == ("entrevista.txt", b"Hola.\n")
    assert fields["key"][1] == b"k" and fields["token"][1] == b"t" and fields["name"][1] == b"entrevista.txt"


# Retry policy ---------------------------------------------------------------------------------


def test_retries_back_off_exponentially_in_whole_seconds_up_to_15_minutes(settings: DevSettings) -> None:
    settings = settings.model_copy(update={"export_backoff_seconds": 2.0})
    assert [retry_delay(settings, attempt) for attempt in (1, 2, 3, 4, 10, 20)] == [2, 4, 8, 16, 900, 900]
    assert retry_delay(settings, 1, retry_after=30) == 30
    assert retry_delay(settings.model_copy(update={"export_backoff_seconds": 0.2}), 1) == 1


def test_the_last_attempt_comes_before_the_dead_letter_queue(settings: DevSettings) -> None:
    assert max_attempts(settings.model_copy(update={"export_max_attempts": 3})) == 3
    assert max_attempts(settings.model_copy(update={"export_max_attempts": 50})) == 5


# The local event source mapping ---------------------------------------------------------------


def test_the_runner_logs_a_failed_poll_and_carries_on(caplog: pytest.LogCaptureFixture) -> None:
    from grabadora.local.exporter_runner import ExporterRunner

    stop = threading.Event()
    runner = ExporterRunner(stop)
    polls: list[int] = []

    def poll_once() -> int:
        polls.append(1)
        if len(polls) == 2:
            stop.set()
        raise RuntimeError("emulator restarting")

    runner.poll_once = poll_once  # type: ignore[method-assign]
    with caplog.at_level("ERROR"):
        runner.run()
    assert len(polls) == 2 and "exporter loop failed" in caplog.text
