"""Trello: the transcript as a card on the user's list, with the full text attached.

`POST /1/cards` creates the card (title as its name, the text as its description), then
`POST /1/cards/{id}/attachments` attaches the whole transcript as a .txt file. A card
description holds at most 16,384 characters, so a longer transcript's description is cut at a
word boundary and says that the full text is in the attachment.

The key and token travel in the form body, never in the URL, so they stay out of access logs.
The card id is handed to `save` once the card exists, and a retry given it back in
`checkpoint` only adds the attachment instead of creating a second card.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from grabadora.formats import Rendered
from grabadora.integrations import send, truncate_at_word, units

DESC_LIMIT = 16_384
NAME_LIMIT = 16_384
TRUNCATION_NOTE = "\n\n[…] The description is cut short here: the full transcript is attached as a text file."


@dataclass(frozen=True)
class TrelloTarget:
    api_url: str
    key: str
    token: str
    list_id: str


def card_description(text: str, limit: int = DESC_LIMIT) -> str:
    """`text`, or as much of it as fits in `limit` with a note pointing to the attachment."""
    if units(text) <= limit:
        return text
    return truncate_at_word(text, limit - units(TRUNCATION_NOTE)) + TRUNCATION_NOTE


def create_card(
    http: httpx.Client,
    target: TrelloTarget,
    title: str,
    text: str,
    attachment: Rendered,
    checkpoint: dict[str, Any],
    save: Callable[[dict[str, Any]], None],
) -> str:
    """Create (or finish) the card; returns its URL."""
    base = target.api_url.rstrip("/")
    auth = {"key": target.key, "token": target.token}
    if checkpoint.get("card_id"):
        card_id, url = checkpoint["card_id"], checkpoint["card_url"]
    else:
        form = {
            **auth,
            "idList": target.list_id,
            "name": truncate_at_word(title, NAME_LIMIT),
            "desc": card_description(text),
            "pos": "top",
        }
        card = send(http, "Trello", "POST", f"{base}/1/cards", data=form).json()
        card_id, url = card["id"], card.get("url") or card["shortUrl"]
        save({"card_id": card_id, "card_url": url})
    send(
        http,
        "Trello",
        "POST",
        f"{base}/1/cards/{card_id}/attachments",
        data={**auth, "name": attachment.filename, "mimeType": "text/plain"},
        files={"file": (attachment.filename, attachment.content, attachment.media_type)},
    )
    return url
