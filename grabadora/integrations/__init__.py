"""Hand-offs of finished transcripts to other services: Notion, Trello and a signed webhook.

One module per destination, each a small httpx client written against the provider's
documented API. They share what decides the exporter's next step: a failure is either
`PermanentDeliveryError` (retrying cannot help: missing configuration, a 4xx refusal) or
`TransientDeliveryError` (worth another attempt: network trouble, timeouts, 408, 429, 5xx).
Both carry a short reason written for the user, shown on the transcript's export record; a
reason never holds a secret or a stack trace, so it is built from status codes and the
provider's own error message, never from an exception's text (httpx puts URLs, and Trello
URLs can carry credentials, in its messages).

Text limits are counted in UTF-16 code units, as the providers (JavaScript back ends) count
them: an emoji is two.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

USER_AGENT = "Grabadora-Exporter/0.1"
_DETAIL_CHARS = 200


class DeliveryError(Exception):
    """A delivery did not happen; `reason` says why, for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help until the user changes something (settings, permissions, the URL)."""


class TransientDeliveryError(DeliveryError):
    """Another attempt may succeed; `retry_after` is the provider's requested wait, when it gave one."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


_NETWORK_PROBLEMS: tuple[tuple[type[httpx.HTTPError], str], ...] = (
    (httpx.TimeoutException, "did not answer in time"),
    (httpx.ConnectError, "could not be reached"),
    (httpx.RemoteProtocolError, "closed the connection unexpectedly"),
    (httpx.NetworkError, "could not be reached (network error)"),
)


def send(http: httpx.Client, service: str, method: str, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
    """One request to `service` (a name for messages, e.g. "Notion"); the response if it is a 2xx,
    else the matching `DeliveryError`. Redirects are not followed: they count as refusals."""
    try:
        response = http.request(method, url, follow_redirects=False, **kwargs)
    except httpx.HTTPError as e:
        problem = next((text for kind, text in _NETWORK_PROBLEMS if isinstance(e, kind)), "could not be reached")
        raise TransientDeliveryError(f"{service} {problem}") from None
    if response.is_success:
        return response
    raise error_for(response, service)


def error_for(response: httpx.Response, service: str) -> DeliveryError:
    """The error a non-2xx answer means: 408, 429 and 5xx are transient, the rest permanent."""
    status = response.status_code
    reason = f"{service} answered {status} {response.reason_phrase}".rstrip()
    detail = _detail(response)
    if detail:
        reason = f"{reason}: {detail}"
    if response.is_redirect:
        return PermanentDeliveryError(f"{reason} (redirects are not followed; use the final URL)")
    if status in (408, 429) or status >= 500:
        return TransientDeliveryError(reason, retry_after=_retry_after(response))
    return PermanentDeliveryError(reason)


def _detail(response: httpx.Response) -> str:
    """The provider's own explanation (JSON `message`, or a short plain-text body), one line."""
    content_type = response.headers.get("content-type", "")
    text = ""
    if "json" in content_type:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            text = body["message"]
    elif content_type.startswith("text/plain"):
        text = response.text
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


def _retry_after(response: httpx.Response) -> float | None:
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None  # absent, or an HTTP date: the exporter's own back-off applies
    return seconds if seconds >= 0 else None


# Text limits ----------------------------------------------------------------------------------


def units(text: str) -> int:
    """Length in UTF-16 code units, as JavaScript (and so Notion and Trello) counts it."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _fitting(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 code units."""
    used = 0
    for i, c in enumerate(text):
        used += 2 if ord(c) > 0xFFFF else 1
        if used > limit:
            return i
    return len(text)


def truncate_at_word(text: str, limit: int) -> str:
    """The longest start of `text` within `limit` units, cut at whitespace when there is some."""
    end = _fitting(text, limit)
    if end == len(text):
        return text
    cut = end
    while cut > 0 and not text[cut].isspace():
        cut -= 1
    return text[: cut or end].rstrip()


def split_at_words(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` units, broken at whitespace (a longer word is cut)."""
    pieces: list[str] = []
    text = text.strip()
    while text:
        piece = truncate_at_word(text, limit)
        pieces.append(piece)
        text = text[len(piece) :].strip()
    return pieces
