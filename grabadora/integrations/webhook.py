"""Signed webhook deliveries: a JSON POST that the receiver can prove came from Grabadora.

Request::

    POST <url>
    Content-Type: application/json
    X-Grabadora-Export-Id: <export id>          (the same on every retry: deduplicate on it)
    X-Grabadora-Timestamp: <unix seconds>
    X-Grabadora-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>

    {"event": "transcript.exported", "export_id": ..., "transcript": {"id", "title", "tags",
     "language", "duration", "created_at", "text", "segments": [{"id", "t0", "t1", "text", "speaker"}]}}

The timestamp is signed with the body so a captured request cannot be replayed later: a
receiver checks the signature over the exact bytes it received, then that the timestamp is
recent. In Python::

    from grabadora.integrations.webhook import verify_signature

    ok = verify_signature(secret, request.headers["X-Grabadora-Timestamp"], raw_body,
                          request.headers["X-Grabadora-Signature"])

Any 2xx answer counts as delivered; 408, 429 and 5xx are retried with back-off; other
answers, redirects included, fail the export at once. Deliveries are at least once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from grabadora.integrations import send
from grabadora.integrations.netguard import check_url
from grabadora.models import TranscriptItem

EVENT = "transcript.exported"
SIGNATURE_HEADER = "X-Grabadora-Signature"
TIMESTAMP_HEADER = "X-Grabadora-Timestamp"
EXPORT_ID_HEADER = "X-Grabadora-Export-Id"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The `X-Grabadora-Signature` value for a body sent at `timestamp`."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify_signature(
    secret: str, timestamp: str | int, body: bytes, signature: str, tolerance_s: int = 300, *, now: float | None = None
) -> bool:
    """Whether a received delivery is authentic and fresh.

    `timestamp` and `signature` are the `X-Grabadora-Timestamp` and `X-Grabadora-Signature`
    headers, `body` the raw request body (before any JSON parsing). False when the signature
    does not match, or the timestamp is more than `tolerance_s` seconds from now (a replay).
    """
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent_at) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, sent_at, body), signature.strip())


def payload(export_id: str, item: TranscriptItem, document: dict[str, Any]) -> dict[str, Any]:
    """The event body for one transcript item and its (corrected) document."""
    return {
        "event": EVENT,
        "export_id": export_id,
        "transcript": {
            "id": item.transcript_id,
            "title": item.title,
            "tags": item.tags,
            "language": item.language or document.get("language"),
            "duration": item.duration if item.duration is not None else document.get("duration"),
            "created_at": item.created_at,
            "text": document["text"],
            "segments": [
                {"id": s["id"], "t0": s["t0"], "t1": s["t1"], "text": s["text"].strip(), "speaker": s.get("speaker")}
                for s in document["segments"]
            ],
        },
    }


def deliver(
    http: httpx.Client, url: str, secret: str, export_id: str, event: dict[str, Any], *, allow_private: bool
) -> None:
    """POST the signed event to `url`; raises a `DeliveryError` unless the receiver answers 2xx."""
    addresses = check_url(url, allow_private=allow_private)
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        EXPORT_ID_HEADER: export_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    target = httpx.URL(url)
    extensions: dict[str, Any] = {}
    if addresses:
        # Connect to the address that was checked, keeping the name for Host and TLS (SNI and
        # certificate checks), so a second DNS answer cannot redirect the delivery.
        headers["Host"] = target.netloc.decode("ascii").rpartition("@")[2]
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host
        target = target.copy_with(host=str(addresses[0]))
    send(http, "the webhook", "POST", target, content=body, headers=headers, extensions=extensions)
