"""Delivering one export: load the transcript, apply the user's corrections, hand it to Notion,
Trello or the webhook, and record the outcome on the transcript's `exports` record.

Retries belong to SQS. A transient failure with attempts left raises `RetryLater`, whose
`delay_seconds` (exponential back-off, or the provider's Retry-After when longer) the SQS
handler turns into the message's visibility timeout; the message's receive count is the
attempt number. The last attempt is the smaller of `GRABADORA_EXPORT_MAX_ATTEMPTS` and the
queue's `maxReceiveCount`, so an export is always marked `failed` before its message could
be parked in the dead-letter queue, and never stays `delivering` for ever.

Deliveries are at least once. A record already `delivered` or `failed` is not redone (SQS
may hand a message out twice), and multi-request deliveries save a checkpoint (Notion page,
Trello card) on the record so a retry finishes the same page or card instead of making another.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import httpx

from grabadora.adapters.object_store import ObjectStore
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.adapters.user_state import SecretsUnreadable, UserStateTable
from grabadora.errors import Conflict, GrabadoraError, NotFound
from grabadora.formats import apply_corrections, plain_text, render
from grabadora.integrations import USER_AGENT, PermanentDeliveryError, TransientDeliveryError, notion, trello, webhook
from grabadora.models import ExportDestination, ExportMessage, ExportStatus, JobStatus, utc_now
from grabadora.resources import build_resources
from grabadora.settings import Settings, get_settings

logger = logging.getLogger(__name__)

MAX_RETRY_DELAY_S = 900  # SQS's longest message delay; also a sane cap on one wait


class Outcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"
    ALREADY_DONE = "already_done"  # a duplicate message for a finished export
    GONE = "gone"  # the transcript (or its export record) was deleted


class RetryLater(GrabadoraError):
    """A transient failure with attempts left: make the message reappear after `delay_seconds`."""

    def __init__(self, detail: str, delay_seconds: int) -> None:
        super().__init__(detail)
        self.delay_seconds = delay_seconds


def max_attempts(settings: Settings) -> int:
    """The attempt that is the last: never beyond the exports queue's redrive threshold."""
    return min(settings.export_max_attempts, build_resources(settings).exports.max_receive_count)


def retry_delay(settings: Settings, attempt: int, retry_after: float | None = None) -> int:
    """Seconds before attempt `attempt + 1`: `export_backoff_seconds * 2**(attempt-1)`, at least the
    provider's Retry-After, whole seconds (SQS's unit, rounded up), at most 15 minutes."""
    delay = max(settings.export_backoff_seconds * 2 ** (attempt - 1), retry_after or 0)
    return min(MAX_RETRY_DELAY_S, math.ceil(delay))


def deliver_export(message: ExportMessage, attempt: int) -> Outcome:
    """Make attempt number `attempt` (1-based) at one delivery and record how it went.

    Raises `RetryLater` when it should be tried again; anything else raised means AWS itself
    failed (the record could not be read or written) and SQS retries after its visibility timeout.
    """
    settings = get_settings()
    transcripts = TranscriptsTable()
    user_id, transcript_id, export_id = message.user_id, message.transcript_id, message.export_id
    try:
        item = transcripts.get(user_id, transcript_id)
    except NotFound:
        logger.info("export %s: transcript %s is gone; nothing to deliver", export_id, transcript_id)
        return Outcome.GONE
    record = (item.get("exports") or {}).get(export_id)
    if record is None:
        logger.info("export %s: no such export on transcript %s; dropped", export_id, transcript_id)
        return Outcome.GONE
    if record.get("status") in (ExportStatus.DELIVERED, ExportStatus.FAILED):
        return Outcome.ALREADY_DONE

    def update(fields: dict[str, Any]) -> bool:
        """Write fields of the export record; False if the transcript was deleted meanwhile."""
        try:
            transcripts.update_export(user_id, transcript_id, export_id, {**fields, "updated_at": utc_now()})
        except Conflict:
            return False
        return True

    try:
        url = _deliver(message, item, record.get("checkpoint") or {}, lambda state: update({"checkpoint": state}), settings)
    except PermanentDeliveryError as e:
        logger.info("export %s failed: %s", export_id, e.reason)
        return Outcome.FAILED if update({"status": ExportStatus.FAILED.value, "attempts": attempt, "last_error": e.reason}) else Outcome.GONE
    except TransientDeliveryError as e:
        last = max_attempts(settings)
        if attempt >= last:
            reason = f"{e.reason} (gave up after {attempt} attempt{'s' if attempt > 1 else ''})"
            logger.info("export %s failed: %s", export_id, reason)
            return Outcome.FAILED if update({"status": ExportStatus.FAILED.value, "attempts": attempt, "last_error": reason}) else Outcome.GONE
        if not update({"status": ExportStatus.DELIVERING.value, "attempts": attempt, "last_error": e.reason}):
            return Outcome.GONE
        delay = retry_delay(settings, attempt, e.retry_after)
        logger.info("export %s attempt %d/%d: %s; retrying in %ds", export_id, attempt, last, e.reason, delay)
        raise RetryLater(e.reason, delay) from None
    now = utc_now()
    fields: dict[str, Any] = {"status": ExportStatus.DELIVERED.value, "attempts": attempt, "delivered_at": now}
    if url:
        fields["url"] = url
    logger.info("export %s delivered to %s", export_id, message.destination.value)
    return Outcome.DELIVERED if update(fields) else Outcome.GONE


def _deliver(
    message: ExportMessage,
    item: dict[str, Any],
    checkpoint: dict[str, Any],
    save: Callable[[dict[str, Any]], None],
    settings: Settings,
) -> str | None:
    """Send the transcript to its destination; the resulting link, if the destination has one.

    Every failure comes out as a `DeliveryError`, so every export ends `delivered` or `failed`.
    """
    if item.get("status") != JobStatus.COMPLETED or not item.get("transcript_key"):
        raise PermanentDeliveryError(f"the transcript is {item.get('status')}, not completed; only finished transcripts are exported")
    try:
        document = ObjectStore().get_json(item["transcript_key"])
        configured = UserStateTable().get_integrations(message.user_id).get(message.destination.value, {})
    except NotFound:
        raise PermanentDeliveryError("the transcript's text is missing from storage") from None
    except SecretsUnreadable as e:
        raise PermanentDeliveryError(e.detail) from None
    except GrabadoraError as e:
        logger.warning("export %s: storage unavailable: %s", message.export_id, e.detail)
        raise TransientDeliveryError("Grabadora's storage did not answer") from None
    corrections = {int(k): v for k, v in (item.get("corrections") or {}).items()}
    document = apply_corrections(document, corrections)
    try:
        with httpx.Client(timeout=settings.export_timeout_seconds, headers={"User-Agent": USER_AGENT}) as http:
            return _DESTINATIONS[message.destination](http, message, item, document, configured, checkpoint, save, settings)
    except (PermanentDeliveryError, TransientDeliveryError):
        raise
    except Exception:
        # A bug or an unexpected answer shape: retried like a network fault, so the record still ends.
        logger.exception("export %s: unexpected error", message.export_id)
        raise TransientDeliveryError("an internal error interrupted the delivery") from None


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _require(service: str, values: dict[str, str | None]) -> dict[str, str]:
    missing = [what for what, value in values.items() if not value]
    if missing:
        raise PermanentDeliveryError(f"{service} is not configured: add {' and '.join(missing)} in Settings")
    return {what: str(value) for what, value in values.items()}


def _to_notion(http, message, item, document, configured, checkpoint, save, settings) -> str:  # type: ignore[no-untyped-def]
    found = _require("Notion", {
        "an integration token": configured.get("token") or _secret(settings.notion_token),
        "a database": message.options.get("database_id") or configured.get("database_id"),
    })
    target = notion.NotionTarget(
        api_url=settings.notion_api_url,
        version=settings.notion_version,
        token=found["an integration token"],
        database_id=found["a database"],
        title_property=message.options.get("title_property") or "title",
    )
    return notion.create_page(http, target, _title(item), plain_text(document), checkpoint, save)


def _to_trello(http, message, item, document, configured, checkpoint, save, settings) -> str:  # type: ignore[no-untyped-def]
    found = _require("Trello", {
        "an API key": configured.get("key") or _secret(settings.trello_key),
        "a token": configured.get("token") or _secret(settings.trello_token),
        "a list": message.options.get("list_id") or configured.get("list_id"),
    })
    target = trello.TrelloTarget(settings.trello_api_url, found["an API key"], found["a token"], found["a list"])
    attachment = render(document, item, "txt")
    return trello.create_card(http, target, _title(item), plain_text(document), attachment, checkpoint, save)


def _to_webhook(http, message, item, document, configured, checkpoint, save, settings) -> None:  # type: ignore[no-untyped-def]
    found = _require("The webhook", {
        "a URL": message.options.get("url") or configured.get("url"),
        "a signing secret": configured.get("secret"),
    })
    event = webhook.payload(message.export_id, item, document)
    webhook.deliver(
        http, found["a URL"], found["a signing secret"], message.export_id, event,
        allow_private=settings.webhook_allow_private,
    )
    return None


def _title(item: dict[str, Any]) -> str:
    return " ".join((item.get("title") or "").split()) or f"Transcript {item['transcript_id']}"


_DESTINATIONS = {
    ExportDestination.NOTION: _to_notion,
    ExportDestination.TRELLO: _to_trello,
    ExportDestination.WEBHOOK: _to_webhook,
}
