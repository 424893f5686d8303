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
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
from pydantic import SecretStr

from grabadora.adapters.object_store import ObjectStore
from grabadora.adapters.transcripts_table import TranscriptsTable
from grabadora.adapters.user_state import SecretsUnreadable, UserStateTable
from grabadora.errors import Conflict, GrabadoraError, NotFound
from grabadora.formats import apply_corrections, apply_speaker_names, plain_text, render
from grabadora.integrations import USER_AGENT, PermanentDeliveryError, TransientDeliveryError, notion, trello, webhook
from grabadora.models import ExportDestination, ExportMessage, ExportStatus, TranscriptItem, utc_now
from grabadora.resources import build_resources
from grabadora.settings import ExporterSettings, settings_as

logger = logging.getLogger(__name__)

MAX_RETRY_DELAY_S = 900  # at most a quarter of an hour between two attempts


class DeliveryOutcome(StrEnum):
    """How one export message was handled; the exporter logs it."""

    DELIVERED = "delivered"
    FAILED = "failed"
    ALREADY_DONE = "already_done"  # a duplicate message for a finished export
    GONE = "gone"  # the transcript (or its export record) was deleted


class RetryLater(GrabadoraError):
    """A transient failure with attempts left: make the message reappear after `delay_seconds`."""

    def __init__(self, detail: str, delay_seconds: int) -> None:
        super().__init__(detail)
        self.delay_seconds = delay_seconds


def max_attempts(settings: ExporterSettings) -> int:
    """The attempt that is the last: never beyond the exports queue's redrive threshold."""
    return min(settings.export_max_attempts, build_resources(settings).exports.max_receive_count)


def retry_delay(settings: ExporterSettings, attempt: int, retry_after: float | None = None) -> int:
    """Seconds before attempt `attempt + 1`: `export_backoff_seconds * 2**(attempt-1)`, at least the
    provider's Retry-After, whole seconds (SQS's unit, rounded up), at most 15 minutes."""
    delay = max(settings.export_backoff_seconds * 2 ** (attempt - 1), retry_after or 0)
    return min(MAX_RETRY_DELAY_S, math.ceil(delay))


def deliver_export(message: ExportMessage, attempt: int) -> DeliveryOutcome:
    """Make attempt number `attempt` (1-based) at one delivery and record how it went.

    Raises `RetryLater` when it should be tried again; anything else raised means AWS itself
    failed (the record could not be read or written) and SQS retries after its visibility timeout.
    """
    settings = settings_as(ExporterSettings)
    transcripts = TranscriptsTable()
    user_id, transcript_id, export_id = message.user_id, message.transcript_id, message.export_id
    try:
        item = transcripts.get(user_id, transcript_id)
    except NotFound:
        logger.info("export %s: transcript %s is gone; nothing to deliver", export_id, transcript_id)
        return DeliveryOutcome.GONE
    record = item.exports.get(export_id)
    if record is None:
        logger.info("export %s: no such export on transcript %s; dropped", export_id, transcript_id)
        return DeliveryOutcome.GONE
    if record.status in (ExportStatus.DELIVERED, ExportStatus.FAILED):
        return DeliveryOutcome.ALREADY_DONE

    def update(**fields: Any) -> bool:
        """Write fields of the export record; False if the transcript was deleted meanwhile."""
        try:
            transcripts.update_export(user_id, transcript_id, export_id, **fields)
        except Conflict:
            return False
        return True

    def failed(reason: str) -> DeliveryOutcome:
        logger.info("export %s failed: %s", export_id, reason)
        recorded = update(status=ExportStatus.FAILED, attempts=attempt, last_error=reason)
        return DeliveryOutcome.FAILED if recorded else DeliveryOutcome.GONE

    try:
        url = _deliver(message, item, record.checkpoint, lambda state: update(checkpoint=state), settings)
    except PermanentDeliveryError as e:
        return failed(e.reason)
    except TransientDeliveryError as e:
        last = max_attempts(settings)
        if attempt >= last:
            return failed(f"{e.reason} (gave up after {attempt} attempt{'s' if attempt > 1 else ''})")
        if not update(status=ExportStatus.DELIVERING, attempts=attempt, last_error=e.reason):
            return DeliveryOutcome.GONE
        delay = retry_delay(settings, attempt, e.retry_after)
        logger.info("export %s attempt %d/%d: %s; retrying in %ds", export_id, attempt, last, e.reason, delay)
        raise RetryLater(e.reason, delay) from None
    fields: dict[str, Any] = {"status": ExportStatus.DELIVERED, "attempts": attempt, "delivered_at": utc_now()}
    if url:
        fields["url"] = url
    logger.info("export %s delivered to %s", export_id, message.destination.value)
    return DeliveryOutcome.DELIVERED if update(**fields) else DeliveryOutcome.GONE


@dataclass(frozen=True)
class _Delivery:
    """Everything one destination needs for one attempt."""

    http: httpx.Client
    message: ExportMessage
    item: TranscriptItem
    document: dict[str, Any]  # corrections and speaker names applied
    configured: dict[str, Any]  # the user's settings for this destination, secrets decrypted
    checkpoint: dict[str, Any]
    save: Callable[[dict[str, Any]], None]
    settings: ExporterSettings


def _deliver(
    message: ExportMessage,
    item: TranscriptItem,
    checkpoint: dict[str, Any],
    save: Callable[[dict[str, Any]], None],
    settings: ExporterSettings,
) -> str | None:
    """Send the transcript to its destination; the resulting link, if the destination has one.

    Every failure comes out as a `DeliveryError`, so every export ends `delivered` or `failed`.
    """
    if not item.is_completed:
        raise PermanentDeliveryError(
            f"the transcript is {item.status}, not completed; only finished transcripts are exported"
        )
    try:
        document = ObjectStore().get_json(item.transcript_key)
        configured = UserStateTable(secrets_key=settings.secrets_key).get_integrations(message.user_id).get(message.destination.value, {})
        document = apply_corrections(document, item.corrections_by_segment())
        document = apply_speaker_names(document, item.speaker_names)
        with httpx.Client(timeout=settings.export_timeout_seconds, headers={"User-Agent": USER_AGENT}) as http:
            delivery = _Delivery(http, message, item, document, configured, checkpoint, save, settings)
            return _DESTINATIONS[message.destination](delivery)
    except (PermanentDeliveryError, TransientDeliveryError):
        raise
    except NotFound:
        raise PermanentDeliveryError("the transcript's text is missing from storage") from None
    except SecretsUnreadable as e:
        raise PermanentDeliveryError(e.detail) from None
    except GrabadoraError as e:
        logger.warning("export %s: AWS unavailable: %s", message.export_id, e.detail)
        raise TransientDeliveryError("Grabadora's storage did not answer") from None
    except Exception:
        # A bug or an unexpected answer shape: retried like a network fault, so the record still ends.
        logger.exception("export %s: unexpected error", message.export_id)
        raise TransientDeliveryError("an internal error interrupted the delivery") from None


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _require(service: str, *fields: tuple[str, str | None]) -> list[str]:
    """The values of `(what, value)` pairs, or `PermanentDeliveryError` naming what is missing."""
    missing = [what for what, value in fields if not value]
    if missing:
        raise PermanentDeliveryError(f"{service} is not configured: add {' and '.join(missing)} in Settings")
    return [str(value) for _, value in fields]


def _to_notion(d: _Delivery) -> str:
    token, database_id = _require(
        "Notion",
        ("an integration token", d.configured.get("token") or _secret(d.settings.notion_token)),
        ("a database", d.message.options.get("database_id") or d.configured.get("database_id")),
    )
    target = notion.NotionTarget(
        api_url=d.settings.notion_api_url,
        version=d.settings.notion_version,
        token=token,
        database_id=database_id,
        title_property=d.message.options.get("title_property") or "title",
    )
    return notion.create_page(d.http, target, _title(d.item), plain_text(d.document), d.checkpoint, d.save)


def _to_trello(d: _Delivery) -> str:
    key, token, list_id = _require(
        "Trello",
        ("an API key", d.configured.get("key") or _secret(d.settings.trello_key)),
        ("a token", d.configured.get("token") or _secret(d.settings.trello_token)),
        ("a list", d.message.options.get("list_id") or d.configured.get("list_id")),
    )
    target = trello.TrelloTarget(d.settings.trello_api_url, key, token, list_id)
    attachment = render(d.document, d.item, "txt")
    return trello.create_card(d.http, target, _title(d.item), plain_text(d.document), attachment, d.checkpoint, d.save)


def _to_webhook(d: _Delivery) -> None:
    url, secret = _require(
        "The webhook",
        ("a URL", d.message.options.get("url") or d.configured.get("url")),
        ("a signing secret", d.configured.get("secret")),
    )
    event = webhook.payload(d.message.export_id, d.item, d.document)
    webhook.deliver(d.http, url, secret, d.message.export_id, event, allow_private=d.settings.webhook_allow_private)


def _title(item: TranscriptItem) -> str:
    return " ".join((item.title or "").split()) or f"Transcript {item.transcript_id}"


_DESTINATIONS: dict[ExportDestination, Callable[[_Delivery], str | None]] = {
    ExportDestination.NOTION: _to_notion,
    ExportDestination.TRELLO: _to_trello,
    ExportDestination.WEBHOOK: _to_webhook,
}
