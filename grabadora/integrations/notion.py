"""Notion: the transcript as a new page in the user's database.

`POST /v1/pages` creates the page with its title and the first blocks; the rest is appended
with `PATCH /v1/blocks/{page_id}/children`. Notion's documented request limits shape it:
a rich text's content holds at most 2,000 characters, a block array at most 100 blocks, and a
request at most 500 KB, so paragraphs are split at word boundaries into several blocks and
blocks are sent in batches.

A long transcript takes several requests, and any of them may fail. The page id and how many
blocks went are handed to `save` after each request, and a retry given them back in
`checkpoint` carries on there instead of creating a second page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from grabadora.integrations import send, split_at_words, truncate_at_word

TEXT_LIMIT = 2_000
BLOCKS_PER_REQUEST = 100
# Notion refuses requests over 500 KB; a batch's children stay under this, leaving room for the rest.
BATCH_BYTES = 450_000


@dataclass(frozen=True)
class NotionTarget:
    api_url: str
    version: str
    token: str
    database_id: str
    # A property name or id: "title" is the id of every database's title property, whatever its name.
    title_property: str = "title"


def paragraph_blocks(text: str) -> list[dict[str, Any]]:
    """Paragraph blocks for a text of blank-line separated paragraphs, each rich text ≤ 2,000 characters."""
    return [
        {
            "object": "block",
            "type": "paragraph",
            "paragraph": {"rich_text": [{"type": "text", "text": {"content": piece}}]},
        }
        for paragraph in text.split("\n\n")
        for piece in split_at_words(paragraph, TEXT_LIMIT)
    ]


def batches(
    blocks: list[dict[str, Any]], max_blocks: int = BLOCKS_PER_REQUEST, max_bytes: int = BATCH_BYTES
) -> list[list[dict[str, Any]]]:
    """`blocks` in request-sized batches: at most `max_blocks` each and about `max_bytes` of JSON."""
    result: list[list[dict[str, Any]]] = []
    size = 0
    for block in blocks:
        block_size = len(_json(block)) + 1
        if not result or len(result[-1]) == max_blocks or size + block_size > max_bytes:
            result.append([])
            size = 0
        result[-1].append(block)
        size += block_size
    return result


def create_page(
    http: httpx.Client,
    target: NotionTarget,
    title: str,
    text: str,
    checkpoint: dict[str, Any],
    save: Callable[[dict[str, Any]], None],
) -> str:
    """Create (or finish) the page; returns its URL."""
    headers = {
        "Authorization": f"Bearer {target.token}",
        "Notion-Version": target.version,
        "Content-Type": "application/json",
    }
    base = target.api_url.rstrip("/")
    pending = batches(paragraph_blocks(text))
    if checkpoint.get("page_id"):
        page_id, url, sent = checkpoint["page_id"], checkpoint["page_url"], checkpoint["blocks_sent"]
    else:
        first = pending[0] if pending else []
        body = {
            "parent": {"database_id": target.database_id},
            "properties": {
                target.title_property: {"title": [{"text": {"content": truncate_at_word(title, TEXT_LIMIT)}}]}
            },
            "children": first,
        }
        page = send(http, "Notion", "POST", f"{base}/v1/pages", content=_json(body), headers=headers).json()
        page_id, url, sent = page["id"], page["url"], len(first)
        save({"page_id": page_id, "page_url": url, "blocks_sent": sent})
    done = 0
    for batch in pending:
        done += len(batch)
        if done <= sent:
            continue
        children = _json({"children": batch})
        send(http, "Notion", "PATCH", f"{base}/v1/blocks/{page_id}/children", content=children, headers=headers)
        save({"page_id": page_id, "page_url": url, "blocks_sent": done})
    return url


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
